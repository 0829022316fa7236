"""The RRNCO policy: encoder + decoder + POMO multi-start rollouts, and its named config."""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import Tensor, nn

from ..problem import ProblemKind
from .decoder import Decoder
from .encoder import Encoder
from .env import Instances, RoutingEnv

__all__ = ["ModelConfig", "RRNCOPolicy", "Rollout", "ARCHITECTURES", "count_parameters", "DeadlineExceeded",
           "local_scale", "KNN_SCALE_K"]

logger = logging.getLogger(__name__)


#: Neighbours in the local distance scale of ``dist_scale="knn"``.
KNN_SCALE_K = 3


def local_scale(dist: Tensor, k: int = KNN_SCALE_K) -> Tensor:
    """(B,) the mean distance from a node to its ``k`` nearest other nodes (out-going)."""
    m = dist.shape[-1]
    kk = max(1, min(k, m - 1))
    off = dist.float() + torch.diag_embed(torch.full(dist.shape[:-1], float("inf"), device=dist.device))
    near = off.topk(kk, dim=-1, largest=False).values
    return near.mean(dim=(-1, -2)).clamp_min(1e-9)


class DeadlineExceeded(RuntimeError):
    """Decoding was stopped because its deadline passed (the rollouts are discarded).

    ``progress`` is the share of the nodes the rollouts had visited (mean over rollouts,
    0–1), so that a caller can tell how much longer the pass would have needed."""

    def __init__(self, message: str, progress: float = 0.0):
        super().__init__(message)
        self.progress = float(progress)


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of an RRNCO policy (what a checkpoint's card names).

    Attributes
    ----------
    kind
        ``"ATSP"``, ``"ACVRP"`` or ``"ACVRPTW"``.
    embed_dim
        d (published: 128).
    num_layers
        L, AAFM layers (published: 6).
    ff_hidden
        Hidden width of the encoder feed-forward (published: 512).
    num_heads
        Decoder glimpse heads.
    sample_k
        Distance-sampling width k.
    tanh_clip
        Logit clipping C in C·tanh(u).
    attention
        ``"rrnco"``: the paper's AAFM weights exp(softmax(·)), each about 1 + 1/m, so the
        neighbour signal fades as 1/m; ``"aft"``: AFT-full weights exp(·) normalised over the
        nodes (a softmax over j of a_ij + k_j per channel), whose neighbour signal does not
        shrink with m.
    dist_scale
        What the model divides distances by: ``"max"`` (the paper: the instance's largest
        distance, so local distances shrink as 1/√n) or ``"knn"`` (a local scale: the mean
        distance from a node to its :data:`KNN_SCALE_K` nearest neighbours, the same at
        every n for the same density of stops).
    tw_gate_hidden
        Hidden width of the ACVRPTW adaptive bias's gate (None: ``embed_dim``, the paper).
    sample_pool
        The distance sampling draws among each node's ``sample_pool`` nearest other nodes
        (None: among all, the paper). Its draws, ∝ 1/distance, spread evenly over the node's
        reach, which grows as √n in the local scale: at n = 1000 twice as far as at the
        training sizes. A pool holds the features where they were trained; it changes nothing
        on instances of at most ``sample_pool`` + 1 nodes, so a card may set it for inference
        on a policy trained without it (docs/neural.md, "Distance features beyond the training
        sizes").
    window_hidden
        Hidden width of the ACVRPTW decoder's window term (:class:`~hybridroute.neural.decoder.WindowTerm`:
        each node's slack and wait at the current time, a per-step logit term; None: without it,
        the paper).
    """

    kind: str
    embed_dim: int = 128
    num_layers: int = 6
    ff_hidden: int = 512
    num_heads: int = 8
    sample_k: int = 25
    tanh_clip: float = 10.0
    attention: str = "rrnco"
    dist_scale: str = "max"
    tw_gate_hidden: int | None = None
    sample_pool: int | None = None
    window_hidden: int | None = None

    def __post_init__(self):
        object.__setattr__(self, "kind", ProblemKind.parse(self.kind).value)
        if self.attention not in ("rrnco", "aft"):
            raise ValueError(f"ModelConfig.attention must be 'rrnco' or 'aft', got {self.attention!r}")
        if self.dist_scale not in ("max", "knn"):
            raise ValueError(f"ModelConfig.dist_scale must be 'max' or 'knn', got {self.dist_scale!r}")
        if self.tw_gate_hidden is not None and int(self.tw_gate_hidden) < 1:
            raise ValueError(f"ModelConfig.tw_gate_hidden must be None or a positive integer, "
                             f"got {self.tw_gate_hidden!r}")
        if self.sample_pool is not None and int(self.sample_pool) < 1:
            raise ValueError(f"ModelConfig.sample_pool must be None or a positive integer, got {self.sample_pool!r}")
        if self.window_hidden is not None:
            if int(self.window_hidden) < 1:
                raise ValueError(f"ModelConfig.window_hidden must be None or a positive integer, "
                                 f"got {self.window_hidden!r}")
            if not self.problem_kind.has_time_windows:
                raise ValueError(f"ModelConfig.window_hidden is for ACVRPTW policies, kind is {self.kind}")
        for name in ("embed_dim", "num_layers", "ff_hidden", "num_heads", "sample_k"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"ModelConfig.{name} must be a positive integer, got {getattr(self, name)!r}")

    @property
    def problem_kind(self) -> ProblemKind:
        return ProblemKind(self.kind)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown model config keys {sorted(unknown)}; known: {sorted(known)}")
        return cls(**d)


@dataclass
class Rollout:
    """Result of decoding B instances × P starts.

    ``length`` (B, P) in D̂ units; ``logp`` (B, P) summed log-probabilities of the chosen
    actions (0 for forced moves); ``starts`` (B, P); ``actions`` (B, P, T) moves after the start
    (finished VRP rollouts pad with the depot).
    """

    length: Tensor
    logp: Tensor
    starts: Tensor
    actions: Tensor


class RRNCOPolicy(nn.Module):
    """RRNCO: adaptive node embedding, AAFM encoder, attention decoder with distance bias.

    Parameters
    ----------
    config
        The architecture.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        kind = config.problem_kind
        self.kind = kind
        self.encoder = Encoder(kind, config.embed_dim, config.num_layers, config.ff_hidden, config.sample_k,
                               attention=config.attention, tw_gate_hidden=config.tw_gate_hidden,
                               sample_pool=config.sample_pool)
        self.decoder = Decoder(kind, config.embed_dim, config.num_heads, config.tanh_clip,
                               window_hidden=config.window_hidden)
        self.folded_bias = True  # runtime switch (same outputs), not part of the architecture

    def forward(self, inst: Instances, starts: Tensor | None = None, *, decode: str = "sampling",
                generator: torch.Generator | None = None, coords: Tensor | None = None,
                deadline: float | None = None, copies: int = 1, logp: bool = True) -> Rollout:
        """Roll out every instance from each start.

        Parameters
        ----------
        inst
            Normalised instances (kind must match the policy).
        starts
            (B, P) start nodes; default: every start (POMO).
        decode
            ``"sampling"`` or ``"greedy"``.
        generator
            Random generator for distance sampling and action sampling (reproducibility).
        coords
            Optional (B, m, 2) coordinates replacing ``inst.coords`` (dihedral augmentation).
        deadline
            Optional :func:`time.perf_counter` instant: decoding stops with
            :class:`DeadlineExceeded` at the first encoder layer or decoding step that starts
            after it (a solve's time limit is kept to within one layer or step).
        copies
            The batch is made of groups of ``copies`` consecutive transforms of one instance
            (:meth:`Instances.repeat`, with other ``coords``): the encoder evaluates their
            shared distance and duration terms once per group. The same result as 1.
        logp
            False (greedy only): skip the log-probabilities, ``Rollout.logp`` is NaN, and each
            step takes the feasible node of highest score (:meth:`Decoder.greedy`: the same
            choice up to ties of the clipped logits, with a quarter less work after the glimpse).
            For inference, which ranks rollouts by length only.
        """
        if inst.kind is not self.kind:
            raise ValueError(f"policy is for {self.kind.value}, instances are {inst.kind.value}")
        if decode not in ("sampling", "greedy"):
            raise ValueError(f"decode must be 'sampling' or 'greedy', got {decode!r}")
        env = RoutingEnv(inst)
        if starts is None:
            starts = env.default_starts()
        cache = self.encode(inst, coords, generator, deadline=deadline, copies=copies)
        return self.decode(inst, cache, starts, decode=decode, generator=generator, deadline=deadline, logp=logp)

    def encode(self, inst: Instances, coords: Tensor | None = None,
               generator: torch.Generator | None = None, deadline: float | None = None, copies: int = 1):
        """The encoder's output, ready for :meth:`decode` (reusable across start nodes).
        With a ``deadline``, :class:`DeadlineExceeded` when a layer would start after it."""
        seen = self.model_view(inst)
        rows, cols = self.encoder(seen, coords, generator, folded=self.folded_bias, deadline=deadline,
                                  copies=copies)
        return self.decoder.precompute(rows, cols, seen)

    def model_view(self, inst: Instances) -> Instances:
        """The instances as the networks see them: with ``dist_scale="knn"`` distances are
        divided by their local scale (the environment keeps the original units)."""
        if self.config.dist_scale == "max":
            return inst
        scale = local_scale(inst.dist)
        return dataclasses.replace(inst, dist=inst.dist / scale.to(inst.dist.dtype)[:, None, None])

    def decode(self, inst: Instances, cache, starts: Tensor, *, decode: str = "sampling",
               generator: torch.Generator | None = None, deadline: float | None = None, logp: bool = True) -> Rollout:
        """Roll out from ``starts`` (B, P) over an :meth:`encode` output; see :meth:`forward`."""
        if not logp and decode != "greedy":
            raise ValueError("logp=False is for greedy decoding (sampling draws from the log-probabilities)")
        env = RoutingEnv(inst)
        state = env.reset(starts)
        logp_sum = torch.zeros(starts.shape, device=starts.device, dtype=torch.float32)
        actions = []
        for _ in range(env.max_steps()):
            if bool(state.done.all()):
                break
            if deadline is not None and time.perf_counter() > deadline:
                progress = float(state.visited.float().mean())
                raise DeadlineExceeded(f"decoding stopped at step {len(actions)} of {inst.num_nodes}: "
                                       "the deadline passed", progress=progress)
            mask = env.action_mask(state)
            if not logp:
                action = self.decoder.greedy(cache, state, mask)
            else:
                step_logp = self.decoder(cache, state, mask, inst)
                if decode == "greedy":
                    action = step_logp.argmax(-1)
                else:
                    probs = step_logp.detach().exp().reshape(-1, step_logp.shape[-1])
                    action = torch.multinomial(probs, 1, generator=generator).view(starts.shape)
                chosen = step_logp.gather(-1, action.unsqueeze(-1)).squeeze(-1)
                logp_sum = logp_sum + torch.where(state.done, torch.zeros_like(chosen), chosen)
            state = env.step(state, action)
            actions.append(action)
        if not bool(state.done.all()):
            raise RuntimeError("decoding did not finish within the step bound (environment bug)")
        acts = torch.stack(actions, -1) if actions else starts.new_zeros(*starts.shape, 0)
        if not logp:
            logp_sum = torch.full_like(logp_sum, math.nan)
        return Rollout(length=state.length, logp=logp_sum, starts=starts, actions=acts)


ARCHITECTURES: dict[str, type[RRNCOPolicy]] = {"rrnco-v1": RRNCOPolicy}
"""Named architectures a checkpoint card may refer to (never guessed from a file name)."""


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
