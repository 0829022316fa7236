"""Construction baselines that need no optional dependency."""

from __future__ import annotations

import time

import numpy as np

from ..problem import Problem, ProblemKind
from .base import SolveOutput, Solver

__all__ = ["NearestNeighbour", "nearest_neighbour_routes", "packing_routes"]


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


def packing_routes(problem: Problem, tries: int = 64, seed: int = 0) -> list[list[int]] | None:
    """Routes that respect capacity within ``problem.num_vehicles`` vehicles, or None.

    For fleets so tight that routing constructions fail (the Fischetti instances with many
    vehicles): customers are packed into the vehicles by best-fit decreasing demand, or,
    when that overflows, by a local search that moves and swaps customers between vehicles
    to remove the overflow (``tries`` restarts, reproducible under ``seed``); each
    vehicle's customers are ordered by nearest neighbour on the cost matrix. Time windows are
    ignored, so the routes may be late: callers check them with the evaluator. None when no
    packing was found or the problem has no capacity or no fleet limit.
    """
    if problem.demand is None or problem.num_vehicles is None:
        return None
    demand = np.asarray(problem.demand, dtype=float)
    customers = np.arange(1, problem.num_nodes)
    order = customers[np.argsort(-demand[1:], kind="stable")]
    rng = np.random.default_rng(seed)
    capacity, vehicles = float(problem.capacity), problem.num_vehicles
    bins = _best_fit(order, demand, capacity, vehicles)
    for _ in range(tries):
        if bins is not None:
            return [_nearest_order(problem.cost_matrix, b) for b in bins if b]
        bins = _repair_overflow(rng.permutation(customers), demand, capacity, vehicles, rng)
    return None


def _best_fit(order, demand: np.ndarray, capacity: float, vehicles: int) -> list[list[int]] | None:
    """Each customer in ``order`` into the fullest vehicle it still fits; None if one fits none."""
    load = np.zeros(vehicles)
    bins: list[list[int]] = [[] for _ in range(vehicles)]
    for c in order:
        fits = np.flatnonzero(load + demand[c] <= capacity + 1e-9)
        if fits.size == 0:
            return None
        v = fits[np.argmax(load[fits])]
        load[v] += demand[c]
        bins[v].append(int(c))
    return bins


def _repair_overflow(order, demand: np.ndarray, capacity: float, vehicles: int, rng,
                     steps: int = 2000) -> list[list[int]] | None:
    """Pack allowing overflow, then move / swap customers out of overfull vehicles until
    none is overfull (None after ``steps`` moves without success)."""
    where = np.empty(len(demand), dtype=int)
    load = np.zeros(vehicles)
    for c in order:  # best fit, else the emptiest vehicle
        fits = np.flatnonzero(load + demand[c] <= capacity + 1e-9)
        v = fits[np.argmax(load[fits])] if fits.size else int(np.argmin(load))
        where[c], load[v] = v, load[v] + demand[c]
    customers = np.asarray(order)
    over = lambda x: max(0.0, x - capacity)  # noqa: E731
    for _ in range(steps):
        full = np.flatnonzero(load > capacity + 1e-9)
        if full.size == 0:
            return [[int(c) for c in customers if where[c] == v] for v in range(vehicles)]
        a = int(rng.choice(full))
        items = customers[where[customers] == a]
        c = int(rng.choice(items))
        # a move into a vehicle with room, else the swap that lowers the overflow most
        room = np.flatnonzero(load + demand[c] <= capacity + 1e-9)
        if room.size:
            v = int(rng.choice(room))
            where[c], load[a], load[v] = v, load[a] - demand[c], load[v] + demand[c]
            continue
        others = customers[where[customers] != a]
        b = where[others]
        la, lb = load[a] - demand[c] + demand[others], load[b] + demand[c] - demand[others]
        gain = (over(load[a]) + np.maximum(0, load[b] - capacity)) - (np.maximum(0, la - capacity)
                                                                     + np.maximum(0, lb - capacity))
        # accept the best swap; a non-improving one now and then escapes plateaus
        k = int(np.argmax(gain)) if gain.max() > 1e-9 or rng.random() < 0.7 else int(rng.integers(len(others)))
        o = int(others[k])
        bo = int(where[o])
        load[a] += demand[o] - demand[c]
        load[bo] += demand[c] - demand[o]
        where[c], where[o] = bo, a
    return None


def _nearest_order(cost: np.ndarray, nodes: list[int]) -> list[int]:
    """``nodes`` visited greedily from the depot, each time to the cheapest remaining one."""
    left, route, cur = list(nodes), [], 0
    while left:
        nxt = min(left, key=lambda j: cost[cur, j])
        left.remove(nxt)
        route.append(nxt)
        cur = nxt
    return route


class NearestNeighbour(Solver):
    """Nearest-neighbour construction for ATSP, ACVRP and ACVRPTW.

    Parameters
    ----------
    starts
        How many different first customers to try (the best result is kept). 1 gives the
        plain greedy from the depot. Starts stop at the time limit (the first always runs);
        ``stats["starts"]`` says how many ran, and ``time_limit=math.inf`` runs them all.
    """

    name = "nearest"
    supports = frozenset(ProblemKind)
    default_time_limit = 1.0
    converges = True

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
        deadline = time.perf_counter() + time_limit
        tried = 0
        for first in firsts:
            if tried and time.perf_counter() > deadline:
                break
            tried += 1
            routes = nearest_neighbour_routes(problem, first)
            sol = evaluate(problem, routes)
            key = (not sol.is_feasible, sol.cost)
            if best is None or key < best_key:
                best, best_key, best_cost = routes, key, sol.cost
        stats = {"starts": tried}
        if tried < len(firsts):
            stats["starts_requested"] = len(firsts)
        return SolveOutput(routes=best, stats=stats)
