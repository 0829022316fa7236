"""Construction baselines that need no optional dependency."""

from __future__ import annotations

import numpy as np

from ..problem import Problem, ProblemKind
from .base import SolveOutput, Solver

__all__ = ["NearestNeighbour", "nearest_neighbour_routes"]


def nearest_neighbour_routes(problem: Problem, start: int | None = None) -> list[list[int]]:
    """Greedy nearest-neighbour routes on the problem's cost matrix.

    From the current node go to the cheapest unvisited node that still fits (capacity, and for
    ACVRPTW: arrival before its window end and a feasible return to the depot); when nothing
    fits, return to the depot and open a new route. ``start`` forces the first customer.

    A customer that fits no route at all (impossible for a validated problem, whose customers
    are each reachable on a direct trip) would make the loop open empty routes forever, so
    such a customer is placed on a route of its own.
    """
    C = problem.cost_matrix
    T, tw, svc = problem.duration, problem.time_windows, problem.service_time
    dem, cap = problem.demand, problem.capacity
    unvisited = np.ones(problem.num_nodes, dtype=bool)
    unvisited[0] = False
    routes: list[list[int]] = []
    while unvisited.any():
        route: list[int] = []
        cur, load = 0, 0.0
        t = float(tw[0, 0] + svc[0]) if tw is not None else 0.0
        while True:
            cand = unvisited.copy()
            if dem is not None:
                cand &= load + dem <= cap
            if tw is not None:
                arrive = t + T[cur]
                begin = np.maximum(arrive, tw[:, 0])
                cand &= arrive <= tw[:, 1]
                cand &= begin + svc + T[:, 0] <= tw[0, 1]
            if start is not None and not route and cand[start]:
                nxt = start
            elif cand.any():
                costs = np.where(cand, C[cur], np.inf)
                nxt = int(np.argmin(costs))
            else:
                break
            route.append(nxt)
            unvisited[nxt] = False
            if dem is not None:
                load += dem[nxt]
            if tw is not None:
                t = max(t + T[cur, nxt], tw[nxt, 0]) + svc[nxt]
            cur = nxt
        if not route:  # nothing fits even on an empty route: isolate one customer
            nxt = int(np.flatnonzero(unvisited)[0])
            route = [nxt]
            unvisited[nxt] = False
        routes.append(route)
    return routes


class NearestNeighbour(Solver):
    """Nearest-neighbour construction for ATSP, ACVRP and ACVRPTW.

    Parameters
    ----------
    starts
        How many different first customers to try (the best result is kept). 1 gives the
        plain greedy from the depot.
    """

    name = "nearest"
    supports = frozenset(ProblemKind)
    default_time_limit = 1.0

    def __init__(self, starts: int = 1):
        if starts < 1:
            raise ValueError(f"starts must be >= 1, got {starts}")
        self.starts = int(starts)

    def _solve(self, problem, *, time_limit, seed, initial):
        from ..solution import evaluate

        rng = np.random.default_rng(seed)
        firsts: list[int | None] = [None]
        if self.starts > 1:
            k = min(self.starts - 1, problem.num_customers)
            firsts += [int(v) for v in rng.choice(np.arange(1, problem.num_nodes), size=k, replace=False)]
        best, best_cost = None, np.inf
        for first in firsts:
            routes = nearest_neighbour_routes(problem, first)
            sol = evaluate(problem, routes)
            key = (not sol.is_feasible, sol.cost)
            if best is None or key < best_key:
                best, best_key, best_cost = routes, key, sol.cost
        return SolveOutput(routes=best, stats={"starts": len(firsts)})
