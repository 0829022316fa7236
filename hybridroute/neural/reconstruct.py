"""Re-construction of an ATSP tour by the policy itself (random re-construction, as in LEHD).

A constructive policy makes its worst choices late in a long tour, when the nodes left are
scattered. Re-decoding a stretch of the tour with the same policy, and keeping the result
when it is shorter, repairs those choices: the stretch is a small instance, where the policy
is good. One *round* cuts the tour at a random offset into k consecutive segments of one
length L (L drawn per round, so that cut points move), re-decodes every segment in one batch
and keeps each new path that is shorter than the old one. When 16 rounds in a row
keep nothing and time is left, the run switches to longer segments from fewer starts (a
second neighbourhood) until its deadline; tours of :data:`LONG_TOUR_NODES` or more use that
neighbourhood from the first round.

A segment ``s, v_1 … v_L, e`` (s and e stay fixed) becomes an ATSP instance of L + 1 nodes
whose node 0 merges e and s: its row is s's row (leaving s), its column is e's column
(arriving at e), and its coordinates are s's. Every tour of that instance is exactly an
s → e path through v_1 … v_L at the same cost, so a shorter tour is a shorter path and the
whole tour only gets shorter. Each segment is normalised as an instance of its own (its
maximum distance, its coordinate box), as the policy was trained.

Measured on held-out Helsinki ATSP (32 instances per size, one thread, gap to LKH-3; the
backend's defaults; ``benchmarks/reconstruct.py``, docs/neural.md): 3.01 % at n = 100 in 1 s,
5.93 % at n = 200 in 2 s and 13.32 % at n = 500 in 10 s, where greedy decoding from every
start × transforms in the same time gives 7.33 %, 10.88 % and 25.15 %. Decoding a round's
segments in one batch (one length) instead of two (lengths L and L + 1) took these from
3.49 / 5.81 / 13.98 % in the same conditions (:func:`segment_bounds`).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .env import Instances, actions_to_routes, normalise_coords
from .inference import dihedral, select_starts
from .policy import DeadlineExceeded, RRNCOPolicy

__all__ = ["Reconstruction", "Neighbourhood", "neighbourhoods", "reconstruct_tour", "segment_bounds",
           "RECONSTRUCT_STARTS", "SEGMENT_NODES", "PATIENCE", "MIN_NODES", "ESCAPE_SEGMENT_NODES",
           "ESCAPE_STARTS", "LONG_TOUR_NODES"]

logger = logging.getLogger(__name__)

#: Start nodes per segment (evenly spread over the segment's nodes), on tours shorter than
#: :data:`LONG_TOUR_NODES`.
RECONSTRUCT_STARTS = 32
#: The range of segment lengths (nodes between the two fixed ends) drawn from each round, on tours
#: shorter than :data:`LONG_TOUR_NODES`.
SEGMENT_NODES = (30, 100)
#: Rounds in a row without a shorter segment that end a run (without a time limit), or that
#: switch it to the second neighbourhood below (with one).
PATIENCE = 16
#: The second neighbourhood: segment lengths and starts once the first one keeps nothing. On 32
#: held-out ATSP n = 500 instances at 20 s it took the mean gap to LKH-3 from 14.54 to 12.92 %
#: (better on 11, equal on 21); without it 22 of the 32 runs ended early on the patience rule.
ESCAPE_SEGMENT_NODES = (60, 150)
ESCAPE_STARTS = 16
#: Tours of at least this many nodes start in the second neighbourhood (longer segments from
#: fewer starts): at n = 500, 10 s it gave 14.01 % against 15.46 % (32 instances, paired:
#: better on 22, worse on 10; 14.75 % in a repeat, runs differ by a round here and there),
#: while at n = 200, 2 s segments of 40-150 nodes were worse than 30-100 (6.6-9.1 against
#: 5.7 %). 320 is about the geometric mean of the two sizes measured.
LONG_TOUR_NODES = 320
#: Tours shorter than this are not re-constructed (decoding every start × 8 is cheap there).
MIN_NODES = 20
#: Segments with fewer inner nodes than this are kept as they are.
_MIN_INNER = 4


@dataclass
class Reconstruction:
    """What :func:`reconstruct_tour` did, for ``Solution.stats``.

    ``rounds`` finished rounds, ``replaced`` segments replaced by a shorter path,
    ``seconds`` spent, ``gain`` the relative length saved (0.05: 5 % shorter than the tour it
    was given), ``stopped`` why it ended, ``escaped_after`` the rounds run before the switch to
    the second neighbourhood (None: no switch, as on a long tour that ran in it from the start).
    """

    rounds: int = 0
    replaced: int = 0
    seconds: float = 0.0
    gain: float = 0.0
    stopped: str = "not run"
    escaped_after: int | None = None

    def as_stats(self) -> dict[str, Any]:
        return {"reconstruct_rounds": self.rounds, "reconstruct_replaced": self.replaced,
                "reconstruct_seconds": self.seconds, "reconstruct_gain": self.gain,
                "reconstruct_stopped": self.stopped, "reconstruct_escaped_after": self.escaped_after}


@dataclass(frozen=True)
class Neighbourhood:
    """What a round re-decodes: segments of ``segment_nodes`` = (shortest, longest) inner
    nodes, each from ``starts`` start nodes."""

    segment_nodes: tuple[int, int]
    starts: int


def neighbourhoods(num_nodes: int) -> tuple[Neighbourhood, Neighbourhood]:
    """The (first, second) neighbourhood of a tour of ``num_nodes``: short segments from many
    starts, then longer ones from fewer; tours of :data:`LONG_TOUR_NODES` or more use the
    second from the first round."""
    second = Neighbourhood(ESCAPE_SEGMENT_NODES, ESCAPE_STARTS)
    if num_nodes >= LONG_TOUR_NODES:
        return second, second
    return Neighbourhood(SEGMENT_NODES, RECONSTRUCT_STARTS), second


def segment_bounds(num_nodes: int, length: int) -> list[tuple[int, int]]:
    """Positions ``(a, b)`` of the fixed ends of the segments of a tour of ``num_nodes``:
    segment j runs from position a to b (b = num_nodes wraps to 0), its inner nodes at
    a + 1 … b - 1. Every segment has the same number of inner nodes, at least ``length``
    (when the tour holds more than one), so that a round decodes them in one batch; the
    positions between one segment's end and the next one's start (at most one per segment)
    stay in place for that round.
    """
    count = max(1, num_nodes // (length + 1))
    inner = num_nodes // count - 1
    # integer starts ⌊j·n / count⌋: ⌊j·n / count⌋ + ⌊n / count⌋ ≤ ⌊(j + 1)·n / count⌋, so no overlap
    return [(j * num_nodes // count, j * num_nodes // count + inner + 1) for j in range(count)]


def _length_range(segment_nodes: tuple[int, int], n: int) -> tuple[int, int]:
    """The (shortest, longest) inner nodes a round draws from, for a tour of n nodes: at most
    half the tour, so that the cut points move from round to round."""
    lo = max(_MIN_INNER, min(segment_nodes[0], n // 4))
    return lo, max(lo, min(segment_nodes[1], n // 2))


def _tour_length(dist: Tensor, tour: list[int]) -> float:
    t = torch.as_tensor(tour, device=dist.device)
    return float(dist[t, t.roll(-1)].sum())


def _segment_instances(inst: Instances, ends: Tensor, inner: Tensor) -> Instances:
    """(B, L + 1)-node ATSP instances for segments with fixed ``ends`` (B, 2) = (s, e) and
    ``inner`` (B, L) nodes; node 0 merges e into s (see the module docstring)."""
    idx = torch.cat([ends[:, :1], inner], 1)  # (B, m)
    out = {}
    for name in ("dist", "dur"):
        full = getattr(inst, name)[0]
        sub = full[idx[:, :, None], idx[:, None, :]].clone()
        sub[:, 1:, 0] = full[inner, ends[:, 1:2].expand_as(inner)]  # arriving at node 0 is arriving at e
        sub[:, 0, 0] = 0.0
        scale = sub.flatten(1).amax(1).clamp_min(torch.finfo(sub.dtype).tiny)
        out[name] = sub / scale[:, None, None]
        if name == "dist":
            out["dist_scale"] = scale
    coords = normalise_coords(inst.coords[0][idx])
    return Instances(kind=inst.kind, dist=out["dist"], dur=out["dur"], coords=coords,
                     dist_scale=out["dist_scale"])


def _path_length(dist: Tensor, path: Tensor) -> Tensor:
    """(B,) lengths of the paths (B, k) under ``dist`` (m × m)."""
    return dist[path[:, :-1], path[:, 1:]].sum(1)


class _RoundClock:
    """Predicts a round from the rounds run: seconds per unit of work, a unit being one
    rollout step over one node (segments × starts × nodes²)."""

    def __init__(self) -> None:
        self.per_unit = 0.0

    @staticmethod
    def units(bounds: list[tuple[int, int]], starts: int) -> float:
        return float(sum(min(starts, b - a) * (b - a) ** 2 for a, b in bounds))

    def predict(self, units: float) -> float:
        return self.per_unit * units

    def record(self, units: float, seconds: float) -> None:
        self.per_unit = max(self.per_unit, seconds / max(units, 1.0))


@torch.no_grad()
def reconstruct_tour(policy: RRNCOPolicy, inst: Instances, tour: list[int], *, deadline: float,
                     seed: int = 0, starts: int | None = None, patience: int = PATIENCE,
                     max_rounds: int | None = None, segment_nodes: tuple[int, int] | None = None,
                     amp: torch.dtype | None = None) -> tuple[list[int], Reconstruction]:
    """Shorten an ATSP tour by re-decoding segments of it with the policy until ``deadline``.

    Parameters
    ----------
    policy
        A trained ATSP policy.
    inst
        The normalised instance (batch size 1) the tour is for.
    tour
        Every node once, in visiting order (any rotation).
    deadline
        A :func:`time.perf_counter` instant (``math.inf``: stop on ``patience`` or
        ``max_rounds`` only). With a finite deadline, ``patience`` idle rounds switch the run
        to the second neighbourhood (:data:`ESCAPE_SEGMENT_NODES`, :data:`ESCAPE_STARTS`;
        tours of :data:`LONG_TOUR_NODES` or more run in it from the start), which runs until
        the deadline. A round predicted not to fit is not started; a round running
        at the deadline is stopped within one decoding step and discarded.
    seed
        Seeds the segment lengths, cut offsets and the encoder's distance sampling.
    starts
        Start nodes per segment in the first neighbourhood (None: that of
        :func:`neighbourhoods`).
    patience
        Rounds in a row that replace nothing end the run.
    max_rounds
        At most this many rounds (None: no cap).
    segment_nodes
        (shortest, longest) inner nodes per segment; each round draws its length from this
        range, capped to the tour (None: the first neighbourhood's, :func:`neighbourhoods`).
    amp
        Autocast dtype (bf16 on CUDA) or None.

    Returns
    -------
    tour, info
        A tour no longer than the one given (same rotation not kept), and what was done.
    """
    if inst.batch_size != 1 or inst.kind.has_capacity:
        raise ValueError("reconstruct_tour takes one ATSP instance")
    n = inst.num_nodes
    if sorted(tour) != list(range(n)):
        raise ValueError(f"tour must visit each of the {n} nodes once")
    info = Reconstruction()
    t_start = time.perf_counter()
    dist = inst.dist[0]
    before = _tour_length(dist, tour)
    if n < MIN_NODES:
        info.stopped = f"tour shorter than {MIN_NODES} nodes"
        return list(tour), info
    rng = np.random.default_rng(int(seed))
    first, second = neighbourhoods(n)
    segment_nodes = first.segment_nodes if segment_nodes is None else segment_nodes
    starts = first.starts if starts is None else int(starts)
    lo, hi = _length_range(segment_nodes, n)
    clock, idle = _RoundClock(), 0
    current = torch.as_tensor(tour, device=inst.device)
    while True:
        if max_rounds is not None and info.rounds >= max_rounds:
            info.stopped = "max_rounds"
            break
        if idle >= patience:
            if math.isfinite(deadline) and math.isfinite(patience):
                # the tour is one these segments cannot shorten; with time left, longer
                # segments from fewer starts until the limit (see ESCAPE_SEGMENT_NODES).
                # A run already in them (a long tour) only drops the patience rule.
                idle, patience = 0, math.inf
                if (second.segment_nodes, second.starts) != (segment_nodes, starts):
                    info.escaped_after = info.rounds
                    lo, hi = _length_range(second.segment_nodes, n)
                    starts = second.starts
                continue
            info.stopped = f"{patience} rounds without a shorter segment"
            break
        length = int(rng.integers(lo, hi + 1))
        offset = int(rng.integers(n))
        bounds = segment_bounds(n, length)
        units = clock.units(bounds, starts)
        if clock.predict(units) > deadline - time.perf_counter():
            info.stopped = "next round predicted past the deadline"
            break
        rotated = current.roll(-offset)
        t_round = time.perf_counter()
        try:
            replaced, rotated = _round(policy, inst, rotated, bounds, starts, info.rounds, seed, deadline, amp)
        except DeadlineExceeded:
            info.stopped = "deadline reached during a round"
            break
        clock.record(units, time.perf_counter() - t_round)
        current = rotated
        info.rounds += 1
        info.replaced += replaced
        idle = 0 if replaced else idle + 1
    after = _tour_length(dist, current.tolist())
    info.seconds = time.perf_counter() - t_start
    info.gain = 1.0 - after / before if before > 0 else 0.0
    logger.debug("re-construction n=%d: %d rounds, %d segments replaced, %.2f %% shorter (%s)",
                 n, info.rounds, info.replaced, 100 * info.gain, info.stopped)
    return current.tolist(), info


def _round(policy: RRNCOPolicy, inst: Instances, tour: Tensor, bounds: list[tuple[int, int]], starts: int,
           round_index: int, seed: int, deadline: float, amp) -> tuple[int, Tensor]:
    """Re-decode every segment of ``bounds`` (all of one length) in one batch; returns how many
    were replaced and the new tour."""
    n = inst.num_nodes
    dev = inst.device
    dist = inst.dist[0]
    new = tour.clone()
    inner_count = bounds[0][1] - bounds[0][0] - 1  # the same for every segment (segment_bounds)
    if inner_count < _MIN_INNER:
        return 0, new
    form = round_index % 8  # a different dihedral transform each round: more varied rollouts
    ends = torch.tensor([[int(tour[a]), int(tour[b % n])] for a, b in bounds], device=dev)
    inner = torch.stack([tour[a + 1:b] for a, b in bounds])
    sub = _segment_instances(inst, ends, inner)
    m = inner_count + 1
    start = select_starts(m, 0, min(starts, m), len(bounds), dev)
    gen = torch.Generator(device=dev).manual_seed((int(seed) * 1_000_003 + round_index) % 2**63)
    with torch.autocast(dev.type, dtype=amp, enabled=amp is not None):
        out = policy(sub, start, decode="greedy", generator=gen,
                     coords=dihedral(sub.coords.float(), forms=[form]), deadline=deadline, logp=False)
    best = out.length.argmin(1)
    orders = torch.tensor([actions_to_routes(inst.kind, int(out.starts[j, best[j]]),
                                             out.actions[j, best[j]].tolist())[0]
                           for j in range(len(bounds))], device=dev)
    proposal = inner.gather(1, orders - 1)
    old = _path_length(dist, torch.cat([ends[:, :1], inner, ends[:, 1:]], 1))
    cand = _path_length(dist, torch.cat([ends[:, :1], proposal, ends[:, 1:]], 1))
    shorter = (cand < old * (1.0 - 1e-12)).tolist()
    for (a, b), path, keep in zip(bounds, proposal, shorter):
        if keep:
            new[a + 1:b] = path
    replaced = sum(shorter)
    return replaced, new
