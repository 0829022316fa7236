"""Helpers shared by the classical backends (PyVRP, OR-Tools, VROOM, LKH).

Warm starts arrive from users and from the neural policy, so they may be partial, infeasible
or plain wrong (unknown nodes, duplicates). Native libraries react badly to the wrong ones
(PyVRP raises, OR-Tools may abort the process on an out-of-range node), so every backend
cleans a start with :func:`clean_initial` before handing it over.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

from ..problem import Problem, ProblemKind
from ..solution import evaluate

__all__ = ["CleanStart", "clean_initial", "keep_better", "fleet_size", "construction_fleet", "cpu_share",
           "usable_cores"]


@dataclass
class CleanStart:
    """A warm start reduced to what a backend can read.

    Attributes
    ----------
    routes
        Non-empty routes of valid customer indices, each visited at most once; for ATSP a
        single route. None when nothing usable is left.
    dropped
        Human-readable reasons for every entry that was removed.
    complete
        Whether every customer is visited.
    types
        The vehicle type of each kept route, when the start had types; else None.
    """

    routes: list[list[int]] | None
    dropped: list[str] = field(default_factory=list)
    complete: bool = False
    types: list[int] | None = None


def clean_initial(problem: Problem, routes: list[list[int]] | None,
                  types: list[int] | None = None) -> CleanStart:
    """Drop unknown nodes, depots and repeated visits; merge an ATSP start into one tour.

    Depots are the first ``problem.num_depots`` nodes; every reason names the route and node.
    ``types`` (one vehicle type per route) follows the routes that are kept.
    """
    if routes is None:
        return CleanStart(None)
    n, nd = problem.num_nodes, problem.num_depots
    seen: set[int] = set()
    dropped: list[str] = []
    out: list[list[int]] = []
    kept_types: list[int] = []
    for r, route in enumerate(routes):
        kept = []
        for v in route:
            if 0 <= v < nd:
                dropped.append(f"route {r}: node {v} is a depot")
            elif not nd <= v < n:
                dropped.append(f"route {r}: node {v} is not a stop (stops are {nd}..{n - 1})")
            elif v in seen:
                dropped.append(f"route {r}: node {v} is visited twice")
            else:
                seen.add(v)
                kept.append(v)
        if kept:
            out.append(kept)
            if types is not None:
                kept_types.append(types[r])
    if problem.kind is ProblemKind.ATSP and len(out) > 1:
        dropped.append(f"ATSP start had {len(out)} routes; joined into one tour")
        out = [[v for route in out for v in route]]
    return CleanStart(out or None, dropped, complete=len(seen) == n - nd,
                      types=kept_types if types is not None and out else None)


def keep_better(problem: Problem, routes: list[list[int]] | None,
                initial: list[list[int]] | None, types: list[int] | None = None,
                initial_types: list[int] | None = None) -> tuple[list[list[int]] | None, bool]:
    """Return ``initial`` instead of ``routes`` when the start is feasible and strictly better.

    Backends search in rounded integers; re-costed in floats their answer can, rarely, be a
    hair worse than a feasible start (or they can lose the start altogether). The promise
    "never worse than a feasible warm start" is kept here, in float arithmetic.

    Parameters
    ----------
    types, initial_types
        Each route's vehicle type (index into ``problem.vehicle_types``) for ``routes`` and
        ``initial``; None lets the evaluator assign them.

    Returns
    -------
    routes, restored
        The routes to report and whether the start replaced the backend's answer (then the
        routes to report have ``initial_types``).
    """
    if initial is None:
        return routes, False
    start = evaluate(problem, initial, vehicle_types=initial_types)
    if not start.is_feasible:
        return routes, False
    if routes is not None:
        found = evaluate(problem, routes, vehicle_types=types)
        if found.is_feasible and found.cost <= start.cost:
            return routes, False
    return [list(r) for r in initial], True


def fleet_size(problem: Problem) -> int:
    """Vehicles to offer a backend: the problem's limit, else a bound that is always enough.

    Without time windows, any packing in which no two routes could be merged uses fewer than
    2·⌈Σdemand / capacity⌉ + 1 routes, so that many always suffice. With time windows a
    customer may need its own route (each is reachable on a direct trip), so one per customer.
    """
    if problem.kind is ProblemKind.ATSP:
        return 1
    if problem.num_vehicles is not None:
        return problem.num_vehicles
    customers = problem.num_customers
    if problem.kind.has_time_windows:
        return max(1, customers)
    need = math.ceil(float(problem.demand.sum()) / float(problem.capacity) - 1e-9)
    return max(1, min(customers, 2 * need + 1))


#: Vehicle-type features that bound a route's length (its time or distance), so that a route
#: may serve few customers whatever the capacity.
ROUTE_LIMITS = frozenset({"shifts", "max_duration", "max_distance", "breaks"})


def bounded_by_route_limits(problem: Problem, vehicle_type: int) -> bool:
    """Whether time windows or the type's route limits bound its routes (so that the capacity
    packing bound does not hold and one vehicle per customer is the safe count)."""
    return problem.time_windows is not None or bool(problem.vehicle_types[vehicle_type].features & ROUTE_LIMITS)


def construction_fleet(problem: Problem, bound: int) -> int:
    """Vehicles for a fleet that time windows or route limits bound, without a count: half as
    many again as a feasible nearest-neighbour construction uses, plus two, capped at ``bound``
    (one per customer, always enough). A construction that is not feasible leaves ``bound``.

    One vehicle per customer makes the searches slow. OR-Tools at ACVRPTW n = 200 (Helsinki,
    10 instances, 2 s): its 200 vehicles left the first descent unfinished and overran the
    limit by up to 1.3 s; 63-74 vehicles (solutions use 20-28 routes; the construction 41-48)
    ran within 0.38 s of the limit and ended equal or lower on all ten. VROOM at n = 500 (4
    instances, 2 s): 2.51-2.86 s with 500 vehicles, 2.04-2.32 s with 100.
    """
    from .baselines import nearest_neighbour_routes

    routes = nearest_neighbour_routes(problem)
    try:
        feasible = evaluate(problem, routes).is_feasible
    except ValueError:  # e.g. routes the fleet cannot run from depot 0 (several depots)
        feasible = False
    if not feasible:
        return bound
    return min(bound, len(routes) + len(routes) // 2 + 2)


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports one), at least 1."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def cpu_share() -> float:
    """The share of a core this process can expect now, from the 1-minute load average.

    On a machine busier than its cores, CPU time runs behind wall time: LKH's limits count
    CPU seconds and VROOM's construction is CPU-bound, so both backends scale CPU work by
    cores / load (not below 1/4) to keep the wall time near the limit.
    """
    try:
        load = os.getloadavg()[0]
    except (OSError, AttributeError):
        return 1.0
    cores = usable_cores()
    if load <= cores:
        return 1.0
    return max(0.25, cores / load)
