"""Re-construction of VRP routes by the policy: groups of neighbouring routes re-decoded.

The VRP counterpart of :mod:`hybridroute.neural.reconstruct`. Beyond its training sizes a
constructive policy's routes degrade (ACVRP n = 1000: no better than nearest neighbour), while
on a few dozen customers it is within a few per cent of PyVRP. A *round* sorts the routes by
the angle of their customers' centroid around the depot (a sweep), cuts that circular order at a
random offset into groups of consecutive routes holding about G customers each (G drawn per
round from :data:`GROUP_CUSTOMERS`, so that the groups' borders move), and re-decodes every
group as an instance of its own: the depot and the group's customers, the same capacity, time
windows and service times. A group's new routes replace its old ones when they are feasible,
use no more vehicles than the group may (its own routes plus the fleet's spare ones) and cost
less, so the whole solution only gets cheaper and stays feasible. Route costs add up, so the
groups are independent and the cost of the rest of the solution does not change.

Every group is scored by :func:`hybridroute.evaluate` on its own sub-problem (the depot is
node 0 in both, so a route's cost there is its cost in the whole problem).

Measured on held-out Helsinki (32 instances per size, one thread, gap to PyVRP 10 s; the
backend's defaults; ``benchmarks/reconstruct.py --kind ACVRP`` / ``--kind ACVRPTW``,
docs/neural.md), against every start × transforms in the same time: ACVRP 5.52 / 5.10 / 6.56 %
at n = 100 / 200 / 500 in 2 / 5 / 5 s (7.36 / 7.60 / 9.91 %) and 6.13 % at n = 1000 in 10 s
(8.10 %, 8 instances); ACVRPTW 6.57 / 9.37 / 14.74 % (7.72 / 11.75 / 16.89 %). Where the first
solution takes most of the limit (n = 200 with 1 s, n = 500 with 1-2 s) the two are equal.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Sequence

import numpy as np
import torch

from ..problem import Problem
from .env import actions_to_routes, fleet_key, instances_from_problems
from .inference import augmented, select_starts
from .policy import DeadlineExceeded, RRNCOPolicy
from .reconstruct import PATIENCE, Reconstruction

__all__ = ["reconstruct_routes", "route_groups", "GROUP_CUSTOMERS", "GROUP_STARTS", "GROUP_AUGMENT", "MIN_CUSTOMERS"]

logger = logging.getLogger(__name__)

#: The range of customers per group a round draws its target from (whole routes are added to a
#: group until it holds at least the target).
GROUP_CUSTOMERS = (30, 80)
#: Start customers per group (evenly spread over its customers), and the dihedral transforms
#: each group is decoded with (in one batch, other ones each round). On 32 held-out Helsinki
#: instances of the selection set (seed 20260101, gap to PyVRP 10 s; not the evaluation set the
#: documented results use), 32 starts × 4 transforms against 32 × 1: −0.75 ± 0.22 points at
#: ACVRPTW n = 100 in 1 s and −0.61 ± 0.33 at ACVRP n = 200 in 2 s; 64 × 1, 16 × 4, 32 × 2,
#: 32 × 8 and 64 × 4 were no better than 32 × 4 (within 0.3 points either way).
GROUP_STARTS = 32
GROUP_AUGMENT = 4
#: Problems with fewer customers are not re-constructed (one group would be the whole problem).
MIN_CUSTOMERS = 2 * GROUP_CUSTOMERS[0]
# A last group of fewer customers than this joins the group before it.
_MIN_GROUP = 8


def route_groups(routes: Sequence[Sequence[int]], coords: np.ndarray, target: int, offset: int) -> list[list[int]]:
    """Indices of ``routes`` in groups of consecutive routes by the angle of their centroid
    around the depot (node 0 of ``coords``), starting at position ``offset`` of that circular
    order; each group holds at least ``target`` customers except possibly the last, which joins
    the one before it when it holds fewer than ``_MIN_GROUP``."""
    depot = coords[0]
    angles = [math.atan2(*(coords[list(r)].mean(0) - depot)[::-1]) for r in routes]
    order = sorted(range(len(routes)), key=lambda i: (angles[i], i))
    order = order[offset % len(order):] + order[:offset % len(order)]
    groups: list[list[int]] = [[]]
    count = 0
    for i in order:
        if count >= target:
            groups.append([])
            count = 0
        groups[-1].append(i)
        count += len(routes[i])
    if len(groups) > 1 and count < _MIN_GROUP:
        groups[-2].extend(groups.pop())
    return groups


def _group_problem(problem: Problem, customers: list[int], coords: np.ndarray, vehicles: int | None) -> Problem:
    """The depot and ``customers`` of ``problem`` as a problem of its own (node k + 1 is
    ``customers[k]``)."""
    idx = np.asarray([0, *customers])
    sub = np.ix_(idx, idx)

    def rows(a):
        return None if a is None else np.asarray(a)[idx]

    return Problem(problem.kind, problem.distance[sub],
                   None if problem.duration is None else problem.duration[sub],
                   coords=coords[idx], demand=rows(problem.demand), capacity=problem.capacity,
                   num_vehicles=vehicles, time_windows=rows(problem.time_windows),
                   service_time=rows(problem.service_time), objective=problem.objective)


def _routes_cost(problem: Problem, routes: Sequence[Sequence[int]]) -> float:
    from ..solution import evaluate

    return float(evaluate(problem, routes).cost)


@torch.no_grad()
def reconstruct_routes(policy: RRNCOPolicy, problem: Problem, routes: Sequence[Sequence[int]], *,
                       coords: np.ndarray, deadline: float, seed: int = 0, starts: int = GROUP_STARTS,
                       augment: int = GROUP_AUGMENT,
                       patience: int = PATIENCE, max_rounds: int | None = None,
                       group_customers: tuple[int, int] = GROUP_CUSTOMERS, device: str | torch.device = "cpu",
                       amp: torch.dtype | None = None) -> tuple[list[list[int]], Reconstruction]:
    """Make feasible VRP routes cheaper by re-decoding groups of neighbouring routes with the policy.

    Parameters
    ----------
    policy
        A trained policy for ``problem``'s kind (ACVRP or ACVRPTW).
    problem
        The problem (one depot, one vehicle type).
    routes
        A feasible solution's routes (customer indices, no depot).
    coords
        (n, 2) coordinates of the nodes for the sweep and the groups' instances (the problem's
        own, or the planar embedding the policy decodes it with).
    deadline
        A :func:`time.perf_counter` instant (``math.inf``: stop on ``patience`` or
        ``max_rounds`` only). A round's groups decode in batches (groups of one size together);
        a batch predicted not to fit ends the run before it starts, and one running at the
        deadline is stopped within one decoding step and discarded (the round's batches
        before it keep their gains).
    seed
        Seeds the group sizes, the sweep offsets and the encoder's distance sampling.
    starts
        Start customers per group.
    augment
        Dihedral transforms per group (decoded in one batch; other ones each round).
    patience
        Rounds in a row that replace nothing end the run.
    max_rounds
        At most this many rounds (None: no cap).
    group_customers
        (least, most) customers a round's groups aim at.
    device, amp
        Where to decode, and the autocast dtype (bf16 on CUDA) or None.

    Returns
    -------
    routes, info
        Routes no more expensive than the ones given, and what was done.
    """
    if not problem.kind.has_capacity:
        raise ValueError("reconstruct_routes takes an ACVRP or ACVRPTW problem (ATSP: reconstruct_tour)")
    current = [list(r) for r in routes if len(r)]
    info = Reconstruction()
    t_start = time.perf_counter()
    before = _routes_cost(problem, current)
    if problem.num_customers < MIN_CUSTOMERS or len(current) < 2:
        info.stopped = f"fewer than {MIN_CUSTOMERS} customers or 2 routes"
        return current, info
    coords = np.asarray(coords, dtype=np.float64)
    rng = np.random.default_rng(int(seed))
    lo, hi = group_customers
    seconds_per_unit = _Rate()
    idle = 0
    while info.stopped == "not run":
        if max_rounds is not None and info.rounds >= max_rounds:
            info.stopped = "max_rounds"
            break
        if idle >= patience:
            info.stopped = f"{patience} rounds without a cheaper group"
            break
        target = int(rng.integers(lo, hi + 1))
        round_ = _Round(problem, current, route_groups(current, coords, target, int(rng.integers(len(current)))),
                        coords, starts, augment)
        for batch in round_.batches(rng):
            units = round_.units(batch)
            if seconds_per_unit.predict(units) > deadline - time.perf_counter():
                info.stopped = "next batch predicted past the deadline"
                break
            t_batch = time.perf_counter()
            try:
                round_.decode(policy, batch, seed=seed, round_index=info.rounds, deadline=deadline, device=device,
                              amp=amp)
            except DeadlineExceeded:
                info.stopped = "deadline reached during a round"
                break
            seconds_per_unit.record(units, time.perf_counter() - t_batch)
        replaced = round_.apply(current)  # a stopped round keeps the groups it finished
        info.replaced += replaced
        if info.stopped == "not run":
            info.rounds += 1
            idle = 0 if replaced else idle + 1
    after = _routes_cost(problem, current)
    info.seconds = time.perf_counter() - t_start
    info.gain = 1.0 - after / before if before > 0 else 0.0
    logger.debug("route re-construction n=%d: %d rounds, %d groups replaced, %.2f %% cheaper (%s)",
                 problem.num_nodes, info.rounds, info.replaced, 100 * info.gain, info.stopped)
    return current, info


class _Rate:
    """Seconds per unit of decoding work (starts × nodes² per group), from the batches run:
    the aggregate ratio (a batch that overruns is stopped by the policy at the deadline anyway;
    the prediction only spares starting one that cannot finish)."""

    def __init__(self) -> None:
        self.seconds, self.units = 0.0, 0.0

    def predict(self, units: float) -> float:
        return 0.0 if self.units == 0 else self.seconds / self.units * units

    def record(self, units: float, seconds: float) -> None:
        self.seconds += seconds
        self.units += units


class _Round:
    """One round's groups: built into sub-problems batch by batch (groups of one size decode
    together), and the cheaper ones swapped into the solution at the end."""

    def __init__(self, problem: Problem, current: list[list[int]], groups: list[list[int]], coords: np.ndarray,
                 starts: int, augment: int):
        self.problem, self.groups, self.coords = problem, groups, coords
        self.starts, self.augment = starts, augment
        self.customers = [[c for i in g for c in current[i]] for g in groups]
        self.old = [[current[i] for i in g] for g in groups]
        # a group may use its own routes' vehicles and the fleet's spare ones
        self.spare = None if problem.num_vehicles is None else max(problem.num_vehicles - len(current), 0)
        self.new: dict[int, list[list[int]]] = {}

    def batches(self, rng: np.random.Generator) -> list[list[int]]:
        """Group indices by size, the batches in random order (so that a round stopped at the
        deadline does not always favour the same groups)."""
        by_size: dict[int, list[int]] = {}
        for j, members in enumerate(self.customers):
            by_size.setdefault(len(members), []).append(j)
        out = list(by_size.values())
        return [out[k] for k in rng.permutation(len(out))]

    def units(self, batch: list[int]) -> float:
        return float(sum(self.augment * min(self.starts, len(self.customers[j])) * (len(self.customers[j]) + 1) ** 2
                         for j in batch))

    def decode(self, policy: RRNCOPolicy, batch: list[int], *, seed: int, round_index: int, deadline: float,
               device, amp) -> None:
        """Re-decode the groups of ``batch`` (all of one size) and keep each one's new routes
        when they are feasible and cheaper than its old ones."""
        from ..solution import evaluate

        subs = [_group_problem(self.problem, self.customers[j], self.coords,
                               None if self.spare is None else len(self.groups[j]) + self.spare) for j in batch]
        dev = torch.device(device)
        inst = instances_from_problems(subs, device=dev, dtype=torch.float64)
        size, B, copies = inst.num_nodes, len(batch), self.augment
        start = select_starts(size - 1, 1, min(self.starts, size - 1), B * copies, dev)
        gen = torch.Generator(device=dev).manual_seed((int(seed) * 1_000_003 + round_index * 7919 + size) % 2**63)
        # other dihedral transforms each round: more varied rollouts
        forms = [(round_index * copies + k) % 8 for k in range(copies)]
        aug, coords, copies = augmented(inst, forms=forms)
        with torch.autocast(dev.type, dtype=amp, enabled=amp is not None):
            out = policy(aug, start, decode="greedy", generator=gen, copies=copies, coords=coords,
                         deadline=deadline, logp=False)
        length, starts = out.length.reshape(B, -1), out.starts.reshape(B, -1)
        actions = out.actions.reshape(B, -1, out.actions.shape[-1])
        best = fleet_key(inst, length, starts, actions).argmin(1)
        for k, (j, sub) in enumerate(zip(batch, subs)):
            proposal = actions_to_routes(self.problem.kind, int(starts[k, best[k]]), actions[k, best[k]].tolist())
            new = evaluate(sub, proposal)
            local = {c: i + 1 for i, c in enumerate(self.customers[j])}
            old_cost = _routes_cost(sub, [[local[c] for c in r] for r in self.old[j]])
            if new.is_feasible and new.cost < old_cost * (1.0 - 1e-12):
                self.new[j] = [[self.customers[j][v - 1] for v in r] for r in new.routes if r]

    def apply(self, current: list[list[int]]) -> int:
        """Swap, in ``current``, each improved group's routes for its new ones; returns how many."""
        if self.new:
            dropped = {i for j in self.new for i in self.groups[j]}
            current[:] = [r for i, r in enumerate(current) if i not in dropped] + \
                [r for j in sorted(self.new) for r in self.new[j]]
        return len(self.new)
