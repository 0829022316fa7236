"""RRNCO decoder: attention-model pointer with an 8-head glimpse and a distance-biased logit."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..problem import ProblemKind
from .env import Instances, State, _row_index, _rows, service_deadline

__all__ = ["Decoder", "DecoderCache", "WindowTerm"]

# "remaining distance" context feature: the published model feeds a fixed 10 when a route has
# no length limit, which is always the case here
_NO_DISTANCE_LIMIT = 10.0


@dataclass
class DecoderCache:
    """Per-instance projections computed once per rollout batch."""

    query_current: Tensor       # (B, m, d) each node's share of the query as the current node
    query_first: Tensor | None  # (B, m, d) ATSP: each node's share as the first node
    glimpse_k: Tensor    # (B, h, m, d/h)
    glimpse_v: Tensor    # (B, h, m, d/h)
    logit_k: Tensor      # (B, m, d)
    bias: Tensor         # (B, m, m) float32 α·D̂ (+ β·T̂): row ``cur`` is subtracted from the logits
    feature_weight: Tensor | None = None  # (k, d) VRPs: the context weights of the per-step features, transposed
    window: tuple[Tensor, Tensor, Tensor] | None = None  # WindowTerm: T̂, window starts, deadlines


# The window term's inputs are clipped to [0, _WINDOW_CLIP] T̂ units (T̂: durations divided by the
# instance's largest): beyond a few of the longest legs, more slack or waiting tells nothing new.
_WINDOW_CLIP = 4.0


class WindowTerm(nn.Module):
    """A per-step logit term from where each node's time window stands now (ACVRPTW).

    The published decoder sees the current time only through one linear context feature, so a
    node's score cannot depend on how close its window is to closing at this step, which is
    what a time-window tour turns on. This term adds, for every candidate j, ``MLP(slack_j,
    wait_j)`` to its score, with ``arrive_j = time + T̂[cur, j]``, ``slack_j = deadline_j −
    arrive_j`` (:func:`~hybridroute.neural.env.service_deadline`) and ``wait_j = window
    start_j − arrive_j``, both clipped to [0, 4] T̂ units. Its output layer starts at zero, so a
    policy given the term (:func:`hybridroute.neural.grow.add_window_term`) starts as the same
    policy.
    """

    def __init__(self, hidden: int):
        super().__init__()
        self.hidden = nn.Linear(2, hidden)
        self.out = nn.Linear(hidden, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    @staticmethod
    def inputs(inst: Instances) -> tuple[Tensor, Tensor, Tensor]:
        """What :meth:`forward` reads at every step: T̂ (B, m, m), window starts and deadlines (B, m)."""
        return inst.dur.float(), inst.tw[..., 0].float(), service_deadline(inst).float()

    def forward(self, window: tuple[Tensor, Tensor, Tensor], state: State, rows: Tensor | None = None) -> Tensor:
        """(B, P, m) float32 score added to every node's logit score (``rows``: as in ``Decoder._query``)."""
        dur, opens, deadline = window
        arrive = state.time.float().unsqueeze(-1) + _rows(dur, state.current, rows)
        slack = (deadline.unsqueeze(1) - arrive).clamp(0.0, _WINDOW_CLIP)
        wait = (opens.unsqueeze(1) - arrive).clamp(0.0, _WINDOW_CLIP)
        x = torch.stack((slack, wait), -1).to(self.hidden.weight.dtype)
        return self.out(torch.relu(self.hidden(x))).squeeze(-1).float()


class Decoder(nn.Module):
    """Context query → masked multi-head glimpse over column embeddings → clipped logits.

    Context: ATSP [first node; current node]; ACVRP [current node; remaining capacity];
    ACVRPTW [current node; remaining capacity, current time, 0, remaining distance (no limit)].
    With ``window_hidden`` (ACVRPTW, checked by ``ModelConfig``; not in the paper) a :class:`WindowTerm` is added to the
    scores. Logits: u_j = glimpse·k_j/√d; u_j ← log(exp(u_j − α·D̂[cur, j] (− β·T̂[cur, j])) + 1e-6);
    ``clip``·tanh(u); infeasible nodes masked; log-softmax.
    """

    def __init__(self, kind: ProblemKind, d: int, num_heads: int = 8, clip: float = 10.0,
                 window_hidden: int | None = None):
        super().__init__()
        if d % num_heads:
            raise ValueError(f"embed_dim {d} is not divisible by num_heads {num_heads}")
        self.kind, self.d, self.h, self.clip = kind, d, num_heads, clip
        self.project_nodes = nn.Linear(d, 3 * d, bias=False)
        ctx = {ProblemKind.ATSP: 2 * d, ProblemKind.ACVRP: d + 1, ProblemKind.ACVRPTW: d + 4}[kind]
        self.project_context = nn.Linear(ctx, d, bias=False)
        self.ffn = nn.Sequential(nn.Linear(d, 4 * d), nn.ReLU(), nn.Linear(4 * d, d))
        self.alpha = nn.Parameter(torch.tensor(1.0))
        if kind.has_time_windows:
            self.beta = nn.Parameter(torch.tensor(1.0))
        self.window_term = WindowTerm(window_hidden) if window_hidden is not None else None

    def _heads(self, x: Tensor) -> Tensor:
        B, m, _ = x.shape
        return x.view(B, m, self.h, self.d // self.h).transpose(1, 2)

    def precompute(self, rows: Tensor, cols: Tensor, inst: Instances) -> DecoderCache:
        gk, gv, lk = self.project_nodes(cols).chunk(3, dim=-1)
        # The context projection is linear, so each node's part of it is projected once here
        # and a step gathers it: the same query as projecting the gathered context, without
        # a (B, P, 2d) concatenation and product per step (or per label move in training).
        w = self.project_context.weight
        d = self.d
        if self.kind is ProblemKind.ATSP:
            query_first, query_current = rows @ w[:, :d].t(), rows @ w[:, d:].t()
        else:
            query_first, query_current = None, rows @ w[:, :d].t()
            if self.kind.has_time_windows:  # the constant features [.., 0, no distance limit]
                query_current = query_current + _NO_DISTANCE_LIMIT * w[:, d + 3].to(query_current.dtype)
        # the logit bias as one float32 matrix, so each step gathers one row, not two casts
        bias = self.alpha * inst.dist.float()
        if self.kind.has_time_windows:
            bias = bias + self.beta * inst.dur.float()
        window = WindowTerm.inputs(inst) if self.window_term is not None else None
        feature_weight = None
        if self.kind is not ProblemKind.ATSP:
            k = 2 if self.kind.has_time_windows else 1
            feature_weight = w[:, d:d + k].t().to(query_current.dtype)
        return DecoderCache(query_current=query_current, query_first=query_first, glimpse_k=self._heads(gk),
                            glimpse_v=self._heads(gv), logit_k=lk, bias=bias, window=window,
                            feature_weight=feature_weight)

    def _query(self, cache: DecoderCache, state: State, rows: Tensor | None = None) -> Tensor:
        """(B, P, d) the projected context: W·[first; current] (ATSP) or W·[current; features].
        ``rows``: the current nodes' :func:`~hybridroute.neural.env._row_index`, when known."""
        q = _rows(cache.query_current, state.current, rows)
        if self.kind is ProblemKind.ATSP:
            return q + _rows(cache.query_first, state.first)
        # the features that change per step: remaining capacity (and the current time)
        feats = [1.0 - state.used] + ([state.time] if self.kind.has_time_windows else [])
        return q + torch.stack(feats, -1).to(q.dtype) @ cache.feature_weight

    def _scores(self, cache: DecoderCache, state: State, mask: Tensor) -> Tensor:
        """(B, P, m) float32 u − α·D̂[cur, ·] (− β·T̂[cur, ·]), unmasked: the logit is a
        non-decreasing function of it (floor at 1e-6, then the tanh clip)."""
        B, P = state.current.shape
        rows = _row_index(state.current, cache.bias.shape[1])  # shared by the query and the bias
        q = self._query(cache, state, rows)                                         # (B, P, d)
        qh = q.view(B, P, self.h, self.d // self.h).transpose(1, 2)                 # (B, h, P, d/h)
        heads = F.scaled_dot_product_attention(qh, cache.glimpse_k, cache.glimpse_v,
                                               attn_mask=mask.unsqueeze(1))
        glimpse = heads.transpose(1, 2).reshape(B, P, self.d) + q
        glimpse = self.ffn(glimpse) + glimpse
        u = (glimpse @ cache.logit_k.transpose(1, 2)).float() / math.sqrt(self.d)
        bias = _rows(cache.bias, state.current, rows)
        if self.window_term is not None:
            bias = bias - self.window_term(cache.window, state, rows)
        return u.sub_(bias) if not torch.is_grad_enabled() else u - bias

    def forward(self, cache: DecoderCache, state: State, mask: Tensor, inst: Instances) -> Tensor:
        """(B, P, m) float32 log-probabilities of the next node (−inf where masked)."""
        u = self._scores(cache, state, mask)
        # log(exp(u - bias) + 1e-6), computed stably
        u = torch.logaddexp(u, torch.full_like(u, math.log(1e-6)))
        logits = self.clip * torch.tanh(u)
        logits = logits.masked_fill(~mask, float("-inf"))
        return torch.log_softmax(logits, -1)

    def greedy(self, cache: DecoderCache, state: State, mask: Tensor) -> Tensor:
        """(B, P) the feasible node of highest score: the most probable node of :meth:`forward`
        without its floor, clip and softmax (about a quarter of a greedy step's work after the
        glimpse). Only ties differ: where the clip rounds several nodes' logits to the same
        value, :meth:`forward`'s argmax takes the lowest index and this the highest score."""
        return self._scores(cache, state, mask).masked_fill_(~mask, float("-inf")).argmax(-1)
