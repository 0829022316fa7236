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


def _type_assignments(num_routes: int, counts: list[int]) -> Iterator[tuple[int, ...]]:
    for assign in itertools.product(range(len(counts)), repeat=num_routes):
        if all(assign.count(t) <= c for t, c in enumerate(counts)):
            yield assign


def optimum_by_enumeration(problem: Problem) -> Solution | None:
    """The cheapest feasible solution of ``problem`` (None when none is feasible).

    A route's cost (travel + its type's fixed cost) and feasibility depend only on its stops,
    their order and its vehicle type, so the best order of every set of stops is found once
    per type (every order, evaluated alone). Then every choice of served optional stops,
    every split of them into routes and every assignment of types within the types' counts
    is combined from those; the winner is evaluated as a whole by the same evaluator.

    Raises
    ------
    ValueError
        When the problem has more than :data:`MAX_ENUMERATED_STOPS` stops.
    """
    stops = list(problem.customers)
    if len(stops) > MAX_ENUMERATED_STOPS:
        raise ValueError(f"enumeration is for at most {MAX_ENUMERATED_STOPS} stops, got {len(stops)}")
    counts = [len(stops) if vt.count is None else min(vt.count, len(stops)) for vt in problem.vehicle_types]
    cache: dict[tuple[frozenset, int], tuple[float, list[int]] | None] = {}

    def best_route(block: frozenset, vehicle_type: int) -> tuple[float, list[int]] | None:
        key = (block, vehicle_type)
        if key not in cache:
            found = None
            for order in itertools.permutations(sorted(block)):
                alone = evaluate(problem, [list(order)], vehicle_types=[vehicle_type])
                # the other stops are missing from a route evaluated alone; nothing else may fail
                if any(v.kind != "missing_visit" for v in alone.violations):
                    continue
                cost = alone.cost - alone.unserved_prize
                if found is None or cost < found[0] - 1e-9:
                    found = (cost, list(order))
            cache[key] = found
        return cache[key]

    optional = [int(v) for v in problem.optional]
    required = [v for v in stops if v not in optional]
    best: tuple[float, list[list[int]], list[int]] | None = None
    for k in range(len(optional) + 1):
        for chosen in itertools.combinations(optional, k):
            prize = sum(float(problem.prize[v]) for v in optional if v not in chosen)
            for blocks in _set_partitions(sorted(required + list(chosen))):
                if len(blocks) > sum(counts):
                    continue
                for assign in _type_assignments(len(blocks), counts):
                    parts = [best_route(frozenset(b), t) for b, t in zip(blocks, assign)]
                    if any(p is None for p in parts):
                        continue
                    cost = prize + sum(p[0] for p in parts)
                    if best is None or cost < best[0] - 1e-9:
                        best = (cost, [p[1] for p in parts], list(assign))
    if best is None:
        return None
    return evaluate(problem, best[1], vehicle_types=best[2])
