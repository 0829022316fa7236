"""RRNCO encoder: adaptive node embedding and AAFM layers with the neural adaptive bias.

Shapes: B instances, m nodes, d embedding size. Row embeddings describe nodes as origins
(rows of D̂), column embeddings as destinations (columns of D̂).
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..problem import ProblemKind
from .env import Instances
from .piecewise import relu_pwl

__all__ = ["attention_factor", "InstanceNorm", "sample_distance_features", "pair_angles", "InitEmbedding",
           "NeuralAdaptiveBias", "TimeAwareAdaptiveBias", "AAFMBlock", "AAFMLayer", "Encoder"]


class InstanceNorm(nn.Module):
    """Instance norm over the node axis of (B, m, d), affine per channel (no running stats)."""

    def __init__(self, dim: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, x: Tensor) -> Tensor:
        # statistics in float32 even under bf16 autocast; F.instance_norm normalises (B, C, L)
        # over L, so the node axis goes last (one fused kernel, ~3x faster than mean/var here)
        out = F.instance_norm(x.float().transpose(1, 2), weight=self.weight.float(), bias=self.bias.float(),
                              eps=self.eps)
        return out.transpose(1, 2).to(x.dtype)


def sample_distance_features(dist: Tensor, k: int, generator: torch.Generator | None = None,
                             pool: int | None = None) -> tuple[Tensor, Tensor]:
    """RRNCO distance sampling: (B, m, k) sorted row and column features.

    For each node i, draw k indices without replacement with probability ∝ 1/(D̂_ij + 1e-6),
    the diagonal set to 1e6 first; row feature = sorted D̂[i, idx], column feature = sorted
    D̂[idx, i]. When fewer than k other nodes exist (m − 1 < k, small instances) the missing
    draws are made with replacement from the same distribution, so the feature width stays k.
    Reproducible under ``generator``.

    ``pool``: draw among each node's ``pool`` nearest other nodes only (None: all, the paper).
    With all nodes the drawn distances spread over the node's whole reach, which grows as √n
    in the local distance scale; a pool keeps them as at the training sizes (see
    :class:`~hybridroute.neural.policy.ModelConfig`). No change where m − 1 ≤ ``pool``.
    """
    B, m, _ = dist.shape
    d = dist.float()
    w = d.clone()
    w.diagonal(dim1=1, dim2=2).fill_(1e6)
    probs = 1.0 / (w + 1e-6)
    available = m - 1
    if pool is not None and pool < m - 1:
        beyond = w.topk(pool, dim=-1, largest=False).values[..., -1:]
        probs = probs.masked_fill(w > beyond, 0.0)  # ties at the pool's edge stay in
        available = pool
    probs = probs.reshape(B * m, m)
    kk = min(k, available)
    idx = torch.multinomial(probs, kk, replacement=False, generator=generator)
    if kk < k:
        extra = torch.multinomial(probs, k - kk, replacement=True, generator=generator)
        idx = torch.cat([idx, extra], dim=1)
    idx = idx.reshape(B, m, k)
    rows = d.gather(2, idx).sort(-1).values
    cols = d.transpose(1, 2).gather(2, idx).sort(-1).values
    return rows, cols


def pair_angles(coords: Tensor) -> Tensor:
    """θ_ij = atan2(y_i − y_j, x_i − x_j) in radians, (B, m, m); x, y = the two coordinate axes."""
    diff = coords.unsqueeze(2) - coords.unsqueeze(1)
    return torch.atan2(diff[..., 1], diff[..., 0])


class ContextGate(nn.Module):
    """g = σ(W₂ ReLU(W₁[h_coord; h_dist] + b₁) + b₂); h = g·h_coord + (1 − g)·h_dist."""

    def __init__(self, d: int):
        super().__init__()
        self.w1 = nn.Linear(2 * d, 2 * d)
        self.w2 = nn.Linear(2 * d, 1)

    def forward(self, h_coord: Tensor, h_dist: Tensor) -> Tensor:
        g = torch.sigmoid(self.w2(F.relu(self.w1(torch.cat([h_coord, h_dist], -1)))))
        return g * h_coord + (1 - g) * h_dist


class InitEmbedding(nn.Module):
    """Adaptive node embedding: distance sampling + coordinates + contextual gating (+ demand/TW)."""

    def __init__(self, kind: ProblemKind, d: int, k: int = 25, pool: int | None = None):
        super().__init__()
        self.kind, self.k, self.pool = kind, k, pool
        self.row_dist = nn.Linear(k, d)
        self.col_dist = nn.Linear(k, d)
        if kind is ProblemKind.ATSP:
            self.coord = nn.Linear(2, d)
        else:
            self.depot_coord = nn.Linear(2, d)
            self.cust_coord = nn.Linear(3, d)
        self.row_gate = ContextGate(d)
        self.col_gate = ContextGate(d)
        if kind.has_capacity:
            nfeat = 4 if kind.has_time_windows else 1
            self.row_node = nn.Linear(nfeat, d)
            self.col_node = nn.Linear(nfeat, d)
            self.row_mix = nn.Linear(2 * d, d)
            self.col_mix = nn.Linear(2 * d, d)

    def _coord_embedding(self, coords: Tensor) -> Tensor:
        if self.kind is ProblemKind.ATSP:
            return self.coord(coords)
        depot = coords[:, :1]
        cust = coords[:, 1:]
        delta = cust - depot
        angle = torch.atan2(delta[..., 1], delta[..., 0]).unsqueeze(-1)
        return torch.cat([self.depot_coord(depot), self.cust_coord(torch.cat([cust, angle], -1))], 1)

    def node_features(self, inst: Instances) -> Tensor:
        """(B, m, 1 or 4): demand, or [demand, tw start, tw end, service] (times clipped to [0, 10])."""
        if not self.kind.has_time_windows:
            return inst.demand.unsqueeze(-1)
        tw = inst.tw.clamp(0.0, 10.0)
        return torch.stack([inst.demand, tw[..., 0], tw[..., 1], inst.service], -1)

    def forward(self, inst: Instances, dist: Tensor, coords: Tensor,
                generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        rows, cols = sample_distance_features(dist, self.k, generator, self.pool)
        h_coord = self._coord_embedding(coords)
        h_row = self.row_gate(h_coord, self.row_dist(rows))
        h_col = self.col_gate(h_coord, self.col_dist(cols))
        if self.kind.has_capacity:
            feats = self.node_features(inst).to(h_row.dtype)
            h_row = self.row_mix(torch.cat([h_row, self.row_node(feats)], -1))
            h_col = self.col_mix(torch.cat([h_col, self.col_node(feats)], -1))
        return h_row, h_col


class ScalarMLP(nn.Module):
    """Linear(1→d), ReLU, Linear(d→d) applied to every entry of a matrix."""

    def __init__(self, d: int):
        super().__init__()
        self.l1 = nn.Linear(1, d)
        self.l2 = nn.Linear(d, d)

    def hidden(self, x: Tensor) -> Tensor:
        return F.relu(self.l1(x.unsqueeze(-1)))

    def forward(self, x: Tensor) -> Tensor:
        return self.l2(self.hidden(x))

    def pwl(self, x: Tensor, readout: Tensor, offset: Tensor | None = None) -> Tensor:
        """``hidden(x) @ readout + offset`` exactly, without forming the d-wide hidden layer.

        The hidden layer is a ReLU of an affine function of the scalar x, so the product is
        piecewise linear in x with at most d breakpoints (see :mod:`.piecewise`).
        """
        return relu_pwl(x, self.l1.weight[:, 0], self.l1.bias, readout.to(x.dtype), offset)


def _per_copy(shared: Tensor, own: Tensor, copies: int) -> tuple[Tensor, Tensor]:
    """``shared`` (B, m, m, w) and ``own`` (B·copies, m, m, w) as broadcastable 5-D views,
    (B, 1, m, m, w) and (B, copies, m, m, w): a term of the distance or duration matrix,
    which every copy of an instance shares, is evaluated once per instance."""
    return shared.unsqueeze(1), own.view(shared.shape[0], copies, *own.shape[1:])


def _check_copies(dist: Tensor, angle: Tensor, copies: int) -> None:
    if copies < 1 or dist.shape[0] * copies != angle.shape[0]:
        raise ValueError(f"copies: {dist.shape[0]} distance matrices × {copies} copies must give the "
                         f"{angle.shape[0]} angle matrices")


class NeuralAdaptiveBias(nn.Module):
    """Gating NAB for ATSP/ACVRP: b_ij = w·(g e_d + (1 − g) e_θ) + c, g = σ(W_g[e_d; e_θ]).

    ``folded=True`` computes it exactly without any per-pair d-wide tensor: the gate
    pre-activation and the output are linear in e_d = W₂ h_d + b₂ (h_d the hidden ReLU
    activations), so W_g and w fold into d-vectors applied to h_d and h_θ (O(m²·d), the
    spec's folding); and h_d·v, a ReLU network of one scalar, is piecewise linear in that
    scalar, so it is evaluated from per-segment tables in O(m²·log d) (:mod:`.piecewise`).

    ``copies``: ``angle`` holds ``copies`` consecutive transforms of each instance (dihedral
    augmentation) while ``dist`` holds each instance once; the distance terms are evaluated
    once per instance. The result has the angle's batch.
    """

    def __init__(self, d: int):
        super().__init__()
        self.mlp_d = ScalarMLP(d)
        self.mlp_a = ScalarMLP(d)
        self.gate = nn.Linear(2 * d, 1)
        self.out = nn.Linear(d, 1)

    def unfolded(self, dist: Tensor, angle: Tensor, copies: int = 1) -> Tensor:
        _check_copies(dist, angle, copies)
        e_d, e_a = self.mlp_d(dist.repeat_interleave(copies, 0)), self.mlp_a(angle)
        g = torch.sigmoid(self.gate(torch.cat([e_d, e_a], -1)))
        return self.out(g * e_d + (1 - g) * e_a).squeeze(-1)

    def folded(self, dist: Tensor, angle: Tensor, copies: int = 1) -> Tensor:
        _check_copies(dist, angle, copies)
        d = self.out.in_features
        wg_d, wg_a = self.gate.weight[0, :d], self.gate.weight[0, d:]
        w_out = self.out.weight[0]
        W2d, b2d = self.mlp_d.l2.weight, self.mlp_d.l2.bias
        W2a, b2a = self.mlp_a.l2.weight, self.mlp_a.l2.bias
        # columns: [gate contribution, output contribution] per channel
        fold_d = torch.stack([W2d.t() @ wg_d, W2d.t() @ w_out], -1)   # (d, 2)
        fold_a = torch.stack([W2a.t() @ wg_a, W2a.t() @ w_out], -1)
        const_g = wg_d @ b2d + wg_a @ b2a + self.gate.bias[0]
        # per channel [gate term, output term]; the constants ride in the intercept tables
        yd = self.mlp_d.pwl(dist, fold_d, torch.stack([const_g, w_out @ b2d + self.out.bias[0]]))
        ya = self.mlp_a.pwl(angle, fold_a, torch.stack([torch.zeros_like(const_g), w_out @ b2a + self.out.bias[0]]))
        yd, ya = _per_copy(yd, ya, copies)
        g = torch.sigmoid(yd[..., 0] + ya[..., 0])
        s_a = ya[..., 1]
        return (s_a + g * (yd[..., 1] - s_a)).reshape(angle.shape)  # g·s_d + (1 − g)·s_a + c

    def forward(self, dist: Tensor, angle: Tensor, dur: Tensor | None = None, folded: bool = True,
                copies: int = 1) -> Tensor:
        return self.folded(dist, angle, copies) if folded else self.unfolded(dist, angle, copies)


def _softmax_mix(logits: Tensor, values: Tensor) -> Tensor:
    """``(softmax(logits, -1) * values).sum(-1)`` for a last axis of 3, written out per channel.

    ``torch.softmax`` over a 3-wide last axis of an (B, m, m, 3) tensor is a strided reduction
    that runs about 4× slower on the CPU than these element-wise ops (35 against 11 ms at
    32 × 101 × 101, one thread; forward and backward 41 against 22 ms); it was a fifth of an
    ACVRPTW encoder pass.
    """
    l0, l1, l2 = logits.unbind(-1)
    v0, v1, v2 = values.unbind(-1)
    top = torch.maximum(torch.maximum(l0, l1), l2)
    e0, e1, e2 = (l0 - top).exp(), (l1 - top).exp(), (l2 - top).exp()
    return (e0 * v0 + e1 * v1 + e2 * v2) / (e0 + e1 + e2)


class TimeAwareAdaptiveBias(nn.Module):
    """Three-way NAB for ACVRPTW: w = softmax(Linear(h→3)(SiLU(Linear(3d→h)[e_d; e_θ; e_t])) / e^τ),
    b_ij = w_out·(w₀e_d + w₁e_θ + w₂e_t) + c.

    The gate's hidden width h is d in the paper (``gate_hidden=None``). Its pre-activation is an
    (m², h) tensor per block, the one per-pair tensor that no folding removes: at d = 64 it makes
    an ACVRPTW teacher-forced step about 6× an ACVRP one, so a smaller h buys speed.

    ``folded=True`` folds partly: the first gate layer is composed with each channel's second
    MLP layer (one (m², 3d)×(3d, d) product instead of four (m², d)×(d, d)-sized ones) and the
    output Linear(d→1) folds into d-vectors, so e_d, e_θ, e_t are never formed.

    ``copies``: as :class:`NeuralAdaptiveBias`; ``dist`` and ``dur`` hold each instance once.
    """

    def __init__(self, d: int, gate_hidden: int | None = None):
        super().__init__()
        h = d if gate_hidden is None else int(gate_hidden)
        self.mlp_d = ScalarMLP(d)
        self.mlp_a = ScalarMLP(d)
        self.mlp_t = ScalarMLP(d)
        self.gate1 = nn.Linear(3 * d, h)
        self.gate2 = nn.Linear(h, 3)
        self.tau = nn.Parameter(torch.tensor(5.0))
        self.out = nn.Linear(d, 1)

    def _mlps(self):
        return (self.mlp_d, self.mlp_a, self.mlp_t)

    def unfolded(self, dist: Tensor, angle: Tensor, dur: Tensor, copies: int = 1) -> Tensor:
        _check_copies(dist, angle, copies)
        dist, dur = dist.repeat_interleave(copies, 0), dur.repeat_interleave(copies, 0)
        e = [mlp(x) for mlp, x in zip(self._mlps(), (dist, angle, dur))]
        logits = self.gate2(F.silu(self.gate1(torch.cat(e, -1))))
        w = torch.softmax(logits / torch.exp(self.tau), -1)
        fused = w[..., 0:1] * e[0] + w[..., 1:2] * e[1] + w[..., 2:3] * e[2]
        return self.out(fused).squeeze(-1)

    def folded(self, dist: Tensor, angle: Tensor, dur: Tensor, copies: int = 1) -> Tensor:
        _check_copies(dist, angle, copies)
        d = self.out.in_features
        w_out = self.out.weight[0]
        # gate1([W2 h + b2 per channel]) = [G_c W2_c]_c h + (G b2 + g1 bias)
        blocks = [self.gate1.weight[:, c * d:(c + 1) * d] @ mlp.l2.weight for c, mlp in enumerate(self._mlps())]
        a = torch.cat(blocks, 1)                                          # (d, 3d)
        b2 = torch.cat([mlp.l2.bias for mlp in self._mlps()])            # (3d,)
        const = self.gate1.weight @ b2 + self.gate1.bias
        # per-channel scalar outputs s_c = w_out·e_c = (W2_cᵀ w_out)·h_c + w_out·b2_c
        s_w = torch.block_diag(*[(mlp.l2.weight.t() @ w_out).unsqueeze(-1) for mlp in self._mlps()])  # (3d, 3)
        s_c = torch.stack([w_out @ mlp.l2.bias for mlp in self._mlps()])
        fused = torch.cat([a.t(), s_w], 1).to(dist.dtype)               # (3d, d + 3)
        # hidden @ fused, summed channel by channel without forming the 3d-wide hidden layer;
        # the distance and duration terms once per instance, the constants in a table
        # Without autograd the (…, h + 3) tensors are updated in place: each is tens of MB in a
        # batched ×8 pass, and a fresh one costs its page faults again (about half the time).
        inplace = not torch.is_grad_enabled()
        h = self.gate1.out_features
        shared = self.mlp_d.pwl(dist, fused[:d], torch.cat([const, s_c + self.out.bias[0]]))
        dur_term = self.mlp_t.pwl(dur, fused[2 * d:])
        shared = shared.add_(dur_term) if inplace else shared + dur_term
        shared, own = _per_copy(shared, self.mlp_a.pwl(angle, fused[d:2 * d]), copies)
        y = (own.add_(shared) if inplace else own + shared).view(*angle.shape, -1)
        s = y[..., h:].clone() if inplace else y[..., h:]
        # the gate's second layer reads the first h columns; zero weights on the other 3 keep
        # SiLU and the product on a contiguous tensor (a strided SiLU runs about 3× slower)
        w2 = F.pad(self.gate2.weight, (0, y.shape[-1] - h)) / torch.exp(self.tau)
        logits = F.linear(F.silu(y, inplace=inplace), w2, self.gate2.bias / torch.exp(self.tau))
        return _softmax_mix(logits, s)

    def forward(self, dist: Tensor, angle: Tensor, dur: Tensor | None = None, folded: bool = True,
                copies: int = 1) -> Tensor:
        return self.folded(dist, angle, dur, copies) if folded else self.unfolded(dist, angle, dur, copies)


def attention_factor(x: Tensor, dim: int, attention: str) -> Tensor:
    """The positive factor AFT multiplies along ``dim`` (the ratio it enters is normalised over it).

    ``"rrnco"``: the paper's exp(softmax(x)), whose entries lie in [1, e] and sum to about m,
    so after normalisation each weighs about 1/m whatever x is: the neighbour signal fades as
    1/m. ``"aft"``: AFT-full's exp(x), shifted by its maximum along ``dim`` (the ratio is
    unchanged, nothing overflows): normalised, a softmax of x, the same at every m.
    """
    x32 = x.float()
    if attention == "aft":
        return torch.exp(x32 - x32.amax(dim, keepdim=True))
    return torch.exp(torch.softmax(x32, dim))


class AAFMBlock(nn.Module):
    """One AAFM block: queries from x, keys/values from y, AFT-full with the NAB as position bias."""

    def __init__(self, d: int, ff_hidden: int, time_aware: bool, attention: str = "rrnco",
                 gate_hidden: int | None = None):
        super().__init__()
        self.attention = attention
        self.norm_x, self.norm_y, self.norm_m = InstanceNorm(d), InstanceNorm(d), InstanceNorm(d)
        self.norm_z, self.norm_out = InstanceNorm(d), InstanceNorm(d)
        self.alpha = nn.Parameter(torch.tensor(1.0))
        self.nab = TimeAwareAdaptiveBias(d, gate_hidden) if time_aware else NeuralAdaptiveBias(d)
        self.q, self.k, self.v = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.proj = nn.Linear(d, d)
        self.combine = nn.Linear(d, d)
        self.ff1, self.ff2 = nn.Linear(d, ff_hidden), nn.Linear(ff_hidden, d)

    def forward(self, x: Tensor, y: Tensor, dist: Tensor, angle: Tensor, dur: Tensor | None,
                folded: bool = True, copies: int = 1) -> Tensor:
        r, c = self.norm_x(x), self.norm_y(y)
        a = self.alpha * self.nab(dist, angle, dur, folded=folded, copies=copies)
        q, k, v = self.q(r), self.k(c), self.v(c)
        ea = attention_factor(a, -1, self.attention).to(v.dtype)
        ek = attention_factor(k, 1, self.attention).to(v.dtype)
        yv = torch.sigmoid(q) * ((ea @ (ek * v)) / (ea @ ek))
        m = self.norm_m(self.combine(self.proj(yv)))
        z = self.norm_z(r + m)
        return self.norm_out(z + self.ff2(F.relu(self.ff1(z))))


class AAFMLayer(nn.Module):
    """Row block (rows attend to columns over D̂) and column block (over D̂ᵀ), both on the inputs."""

    def __init__(self, d: int, ff_hidden: int, time_aware: bool, attention: str = "rrnco",
                 gate_hidden: int | None = None):
        super().__init__()
        self.row = AAFMBlock(d, ff_hidden, time_aware, attention, gate_hidden)
        self.col = AAFMBlock(d, ff_hidden, time_aware, attention, gate_hidden)

    def forward(self, h_row, h_col, mats, mats_t, folded: bool = True, copies: int = 1):
        return (self.row(h_row, h_col, *mats, folded=folded, copies=copies),
                self.col(h_col, h_row, *mats_t, folded=folded, copies=copies))


class Encoder(nn.Module):
    """Initial embedding + L AAFM layers → (row, column) embeddings, each (B, m, d)."""

    def __init__(self, kind: ProblemKind, d: int, num_layers: int, ff_hidden: int, k: int,
                 attention: str = "rrnco", tw_gate_hidden: int | None = None, sample_pool: int | None = None):
        super().__init__()
        self.kind = kind
        self.init = InitEmbedding(kind, d, k, sample_pool)
        self.layers = nn.ModuleList(AAFMLayer(d, ff_hidden, kind.has_time_windows, attention, tw_gate_hidden)
                                    for _ in range(num_layers))

    def forward(self, inst: Instances, coords: Tensor | None = None, generator: torch.Generator | None = None,
                folded: bool = True, deadline: float | None = None, copies: int = 1) -> tuple[Tensor, Tensor]:
        """Row and column embeddings; with a ``deadline`` (a :func:`time.perf_counter`
        instant) a layer that would start after it raises ``DeadlineExceeded`` instead (at
        n = 500 a layer takes about 0.1 s on one CPU core, the whole encoder up to a second
        on a loaded one, which a solve's time limit must not wait for).

        ``copies``: the batch is made of groups of ``copies`` consecutive entries that are
        transforms of one instance (the same distance and duration matrices, other
        coordinates), as :meth:`Instances.repeat` builds them for dihedral augmentation; the
        adaptive bias then evaluates its distance and duration terms once per group.
        """
        if copies < 1 or inst.batch_size % copies:
            raise ValueError(f"copies must divide the batch size {inst.batch_size}, got {copies}")
        coords = inst.coords.float() if coords is None else coords.float()
        dist = inst.dist.float()
        h_row, h_col = self.init(inst, dist, coords, generator)
        angle = pair_angles(coords)
        dist = dist[::copies]
        dur = inst.dur[::copies].float() if self.kind.has_time_windows else None
        mats = (dist, angle, dur)
        mats_t = (dist.transpose(1, 2), angle.transpose(1, 2), None if dur is None else dur.transpose(1, 2))
        for i, layer in enumerate(self.layers):
            if deadline is not None and time.perf_counter() > deadline:
                from .policy import DeadlineExceeded

                raise DeadlineExceeded(f"encoding stopped before layer {i + 1} of {len(self.layers)}: "
                                       "the deadline passed")
            h_row, h_col = layer(h_row, h_col, mats, mats_t, folded=folded, copies=copies)
        return h_row, h_col

