"""Exact optima of tiny routing problems by enumeration, over hybridroute's own evaluator.

Used by the conformance suite (:mod:`hybridroute.testing`) to know the optimum of its fleet
instances, and by tests. Every way to choose the served optional stops, split them into
routes, order each route and give each route a vehicle type (within the types' counts) is
evaluated; the count grows faster than factorially, so only a handful of stops is allowed.
"""

from __future__ import annotations

import itertools
from typing import Iterator

from .problem import Problem
from .solution import Solution, evaluate

__all__ = ["optimum_by_enumeration", "MAX_ENUMERATED_STOPS"]

#: The most stops :func:`optimum_by_enumeration` accepts (6 stops: ~10^5 evaluations per type mix).
MAX_ENUMERATED_STOPS = 6


def _set_partitions(items: list[int]) -> Iterator[list[list[int]]]:
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in _set_partitions(rest):
        yield [[first], *part]
        for i in range(len(part)):
            yield [*part[:i], [first, *part[i]], *part[i + 1:]]


def _route_orders(blocks: list[list[int]]) -> Iterator[list[list[int]]]:
    for orders in itertools.product(*(itertools.permutations(b) for b in blocks)):
        yield [list(o) for o in orders]


def _type_assignments(num_routes: int, counts: list[int]) -> Iterator[tuple[int, ...]]:
    for assign in itertools.product(range(len(counts)), repeat=num_routes):
        if all(assign.count(t) <= c for t, c in enumerate(counts)):
            yield assign


def optimum_by_enumeration(problem: Problem) -> Solution | None:
    """The cheapest feasible solution of ``problem`` (None when none is feasible).

    Raises
    ------
    ValueError
        When the problem has more than :data:`MAX_ENUMERATED_STOPS` stops.
    """
    stops = list(problem.customers)
    if len(stops) > MAX_ENUMERATED_STOPS:
        raise ValueError(f"enumeration is for at most {MAX_ENUMERATED_STOPS} stops, got {len(stops)}")
    counts = [len(stops) if vt.count is None else min(vt.count, len(stops)) for vt in problem.vehicle_types]
    optional = [int(v) for v in problem.optional]
    required = [v for v in stops if v not in optional]
    best: Solution | None = None
    for k in range(len(optional) + 1):
        for chosen in itertools.combinations(optional, k):
            served = sorted(required + list(chosen))
            for blocks in _set_partitions(served):
                if len(blocks) > sum(counts):
                    continue
                assignments = list(_type_assignments(len(blocks), counts))
                for routes in _route_orders(blocks):
                    for assign in assignments:
                        sol = evaluate(problem, routes, vehicle_types=list(assign))
                        if sol.is_feasible and (best is None or sol.cost < best.cost - 1e-9):
                            best = sol
    return best
