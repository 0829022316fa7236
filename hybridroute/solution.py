"""Solutions and the evaluator: the one place where costs and feasibility are computed.

Every Solution a solver returns is built by :func:`evaluate` from the routes alone, using the
problem's float matrices, so backends are compared on the same arithmetic.
"""

from __future__ import annotations

import enum
import math
import numbers
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np

from .problem import Problem, ProblemKind, ProblemValidationError

__all__ = ["Status", "Violation", "RouteStats", "Solution", "evaluate"]

# Relative tolerance for time-window and capacity comparisons: sums of floats that are
# equal on paper must not be reported as violations.
_REL_TOL = 1e-9


class Status(str, enum.Enum):
    """Outcome of a solve. OPTIMAL only where a backend proved it (and the routes are feasible)."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    NO_SOLUTION = "no_solution"


@dataclass(frozen=True)
class Violation:
    """One broken constraint.

    ``kind`` is one of ``unknown_node``, ``depot_in_route``, ``duplicate_visit``,
    ``missing_visit``, ``capacity``, ``time_window``, ``depot_time_window``,
    ``too_many_routes``, ``route_count``. ``amount`` is the excess (demand units or seconds).
    """

    kind: str
    message: str
    route: int | None = None
    node: int | None = None
    amount: float = 0.0


@dataclass(frozen=True)
class RouteStats:
    """Per-route schedule. Arrays have one entry per visit (customers only, in order).

    Times are in seconds from the problem's time origin; loads in demand units. ``leg_*``
    entries are for the leg arriving at each visit; ``return_*`` for the leg back to the depot.
    """

    nodes: tuple[int, ...]
    distance: float
    duration: float | None
    load: float
    start_time: float
    end_time: float | None
    arrival: np.ndarray
    departure: np.ndarray
    wait: np.ndarray
    load_after: np.ndarray
    leg_distance: np.ndarray
    leg_duration: np.ndarray | None
    return_distance: float
    return_duration: float | None


@dataclass(frozen=True, eq=False)
class Solution:
    """Routes for a problem, with costs recomputed by :func:`evaluate`.

    Attributes
    ----------
    routes
        Node indices per route, without the depot.
    status
        A :class:`Status`.
    distance
        Total distance (metres); ``inf`` when there is no solution.
    duration
        Total route duration in seconds (travel, service and waiting), or None when the
        problem has no duration matrix.
    cost
        ``distance`` or ``duration`` per the problem's objective.
    violations
        Broken constraints; empty when feasible.
    solver, runtime
        Who produced the routes and how long it took (seconds, wall clock).
    history
        Anytime curve: ``(seconds since start, best cost so far)`` pairs.
    stats
        Backend-specific statistics (iterations, warm-start acceptance, ...).
    """

    problem: Problem = field(repr=False)
    routes: tuple[tuple[int, ...], ...]
    status: Status
    distance: float
    duration: float | None
    cost: float
    violations: tuple[Violation, ...] = ()
    route_stats: tuple[RouteStats, ...] = field(default=(), repr=False)
    solver: str | None = None
    runtime: float = 0.0
    history: tuple[tuple[float, float], ...] = field(default=(), repr=False)
    stats: dict[str, Any] = field(default_factory=dict, repr=False)
    message: str = ""

    @property
    def is_feasible(self) -> bool:
        return self.status in (Status.FEASIBLE, Status.OPTIMAL)

    @property
    def num_routes(self) -> int:
        return len(self.routes)

    def with_info(self, **changes: Any) -> "Solution":
        """A copy with metadata changed (``solver``, ``runtime``, ``history``, ``stats``, ``status``)."""
        allowed = {"solver", "runtime", "history", "stats", "status", "message"}
        unknown = set(changes) - allowed
        if unknown:
            raise TypeError(f"cannot change {sorted(unknown)}; routes and costs come from evaluate()")
        if "status" in changes and changes["status"] is Status.OPTIMAL and self.violations:
            raise ValueError("an infeasible solution cannot be OPTIMAL")
        if "history" in changes:
            changes["history"] = tuple((float(t), float(c)) for t, c in changes["history"])
        d = {f: getattr(self, f) for f in self.__dataclass_fields__}
        d.update(changes)
        return Solution(**d)

    def to_dataframe(self, times: str = "seconds"):
        """One row per stop (depot start, visits, depot return); see :mod:`hybridroute.frames`.

        ``times``: ``"seconds"`` (default), ``"clock"`` (``"HH:MM:SS"``, or Timestamps from
        ``problem.time_origin``) or ``"input"`` (the form the problem's times were given in).
        """
        from .frames import solution_to_dataframe

        return solution_to_dataframe(self, times=times)

    def routes_summary(self, times: str = "seconds"):
        """One row per route: stops, distance, duration, load, start/end time, waiting.

        ``times`` as in :meth:`to_dataframe`.
        """
        from .frames import solution_routes_summary

        return solution_routes_summary(self, times=times)

    def to_dict(self) -> dict[str, Any]:
        """Routes and metadata as JSON-ready data (costs are re-derived on load)."""
        return {
            "format": "hybridroute.solution/1",
            "routes": [list(map(int, r)) for r in self.routes],
            "status": self.status.value,
            "distance": self.distance,
            "duration": self.duration,
            "cost": self.cost,
            "solver": self.solver,
            "runtime": self.runtime,
            "history": [list(h) for h in self.history],
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, problem: Problem, d: dict[str, Any]) -> "Solution":
        sol = evaluate(problem, d["routes"])
        status = Status(d.get("status", sol.status.value))
        if status is Status.OPTIMAL and not sol.is_feasible:
            status = sol.status
        elif status is not Status.OPTIMAL:
            status = sol.status
        return sol.with_info(
            solver=d.get("solver"), runtime=d.get("runtime", 0.0),
            history=d.get("history", ()), status=status, message=d.get("message", ""),
        )

    @classmethod
    def no_solution(cls, problem: Problem, solver: str | None = None, message: str = "",
                    runtime: float = 0.0, stats: dict | None = None) -> "Solution":
        """The result of a solve that produced no routes (failure, time-out, error)."""
        return cls(problem=problem, routes=(), status=Status.NO_SOLUTION, distance=float("inf"),
                   duration=None, cost=float("inf"), solver=solver, runtime=runtime,
                   message=message, stats=dict(stats or {}))

    def __str__(self) -> str:
        dur = "" if self.duration is None else f", duration={self.duration:.6g} s"
        head = (f"Solution({self.status.value}, cost={self.cost:.6g}, distance={self.distance:.6g}"
                f"{dur}, routes={self.num_routes}, solver={self.solver}, runtime={self.runtime:.3g} s)")
        if self.violations:
            head += "\n  violations: " + "; ".join(v.message for v in self.violations[:5])
            if len(self.violations) > 5:
                head += f"; ... ({len(self.violations)} in all)"
        return head


_ROUTES_SHAPE = "a list of routes, each a list of node indices without the depot (e.g. [[3, 1], [2]])"


def parse_routes(routes: Any, name: str = "routes") -> list[list[int]]:
    """Node-index lists from any iterable of routes; a TypeError naming the bad position.

    Parameters
    ----------
    routes
        An iterable of routes, each an iterable of node indices: lists, tuples, 1-D integer
        arrays or a 2-D integer array. Floats with an integral value (``3.0``) are accepted.
    name
        The argument's name, used in error messages (``routes``, ``initial``).

    Returns
    -------
    list of list of int
        The routes as plain ints, empty routes kept. Indices are not range-checked: a node
        out of range or visited twice is a violation for :func:`evaluate` to report.

    Raises
    ------
    TypeError
        When ``routes`` is not an iterable of routes (None, a number, a string, a flat list
        of ints) or an entry is not an integer (a string, a bool, ``1.5``, NaN); the message
        names ``name`` and the position, e.g. ``initial[0][1]``.
    """
    if isinstance(routes, Solution):
        raise TypeError(f"{name} must be {_ROUTES_SHAPE}; got a Solution (pass its .routes)")
    if routes is None or isinstance(routes, (str, bytes, dict, set, frozenset)) or not _iterable(routes):
        raise TypeError(f"{name} must be {_ROUTES_SHAPE}; got {_describe(routes)}")
    return [_parse_route(route, f"{name}[{r}]", name) for r, route in enumerate(routes)]


def _parse_route(route: Any, where: str, name: str) -> list[int]:
    if _node_index(route) is not None:
        raise TypeError(f"{where} = {route!r} is a node index, not a route: {name} must be {_ROUTES_SHAPE}")
    if isinstance(route, (str, bytes, dict, set, frozenset)) or not _iterable(route):
        raise TypeError(f"{where} = {route!r} is not a route (a list of node indices): "
                        f"{name} must be {_ROUTES_SHAPE}")
    nodes = []
    for pos, v in enumerate(route):
        node = _node_index(v)
        if node is None:
            raise TypeError(f"{where}[{pos}] = {v!r} is not a node index (an integer)")
        nodes.append(node)
    return nodes


def _node_index(v: Any) -> int | None:
    """``v`` as an int when it is an integer (or an integral float), else None."""
    if isinstance(v, (bool, np.bool_)):
        return None
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real) and math.isfinite(v) and float(v).is_integer():
        return int(v)
    return None


def _iterable(x: Any) -> bool:
    try:
        iter(x)
    except TypeError:
        return False
    return True


def _describe(x: Any) -> str:
    if x is None:
        return "None"
    text = repr(x)
    return f"{type(x).__name__} {text[:60] + '...' if len(text) > 60 else text}"


def _normalise_routes(routes: Any) -> tuple[tuple[int, ...], ...]:
    # an empty route is an unused vehicle
    return tuple(tuple(route) for route in parse_routes(routes) if route)


def _route_schedule(problem: Problem, r: int, nodes: tuple[int, ...], violations: list[Violation]) -> RouteStats:
    D, T = problem.distance, problem.duration
    tw, svc, dem = problem.time_windows, problem.service_time, problem.demand
    k = len(nodes)
    arrival = np.zeros(k)
    departure = np.zeros(k)
    wait = np.zeros(k)
    load_after = np.zeros(k, dtype=dem.dtype if dem is not None else np.float64)
    leg_d = np.zeros(k)
    leg_t = np.zeros(k) if T is not None else None
    start = float(tw[0, 0]) if tw is not None else 0.0
    t = start + (float(svc[0]) if svc is not None else 0.0)
    load = 0
    prev = 0
    for i, v in enumerate(nodes):
        leg_d[i] = D[prev, v]
        if T is not None:
            leg_t[i] = T[prev, v]
            arrival[i] = t + T[prev, v]
            begin = arrival[i]
            if tw is not None:
                begin = max(arrival[i], tw[v, 0])
                late = arrival[i] - tw[v, 1]
                if late > _REL_TOL * max(1.0, abs(tw[v, 1])):
                    violations.append(Violation(
                        "time_window", f"route {r} arrives at node {v} at {arrival[i]:g} s, "
                        f"{late:g} s after its window ends ({tw[v, 1]:g} s)", r, v, float(late)))
            wait[i] = begin - arrival[i]
            t = begin + (svc[v] if svc is not None else 0.0)
            departure[i] = t
        if dem is not None:
            load = load + dem[v]
            load_after[i] = load
        prev = v
    ret_d = float(D[prev, 0])
    ret_t = float(T[prev, 0]) if T is not None else None
    end = t + ret_t if T is not None else None
    if tw is not None and end is not None:
        late = end - tw[0, 1]
        if late > _REL_TOL * max(1.0, abs(tw[0, 1])):
            violations.append(Violation(
                "depot_time_window", f"route {r} returns to the depot at {end:g} s, {late:g} s after "
                f"it closes ({tw[0, 1]:g} s)", r, 0, float(late)))
    if dem is not None and load > problem.capacity * (1 + _REL_TOL):
        violations.append(Violation(
            "capacity", f"route {r} carries {load} > capacity {problem.capacity}", r, None,
            float(load - problem.capacity)))
    distance = float(leg_d.sum() + ret_d)
    return RouteStats(
        nodes=nodes, distance=distance, duration=None if end is None else float(end - start),
        load=float(load), start_time=start, end_time=end, arrival=arrival, departure=departure,
        wait=wait, load_after=load_after, leg_distance=leg_d, leg_duration=leg_t,
        return_distance=ret_d, return_duration=ret_t,
    )


def _structure_violations(problem: Problem, routes) -> list[Violation]:
    n = problem.num_nodes
    out: list[Violation] = []
    seen: dict[int, int] = {}
    for r, route in enumerate(routes):
        for v in route:
            if v == 0:
                out.append(Violation("depot_in_route", f"route {r} contains the depot (node 0)", r, 0))
            elif not 0 < v < n:
                out.append(Violation("unknown_node", f"route {r} visits unknown node {v} (n={n})", r, v))
            elif v in seen:
                out.append(Violation("duplicate_visit", f"node {v} is visited twice (routes {seen[v]} and {r})", r, v))
            else:
                seen[v] = r
    missing = [v for v in range(1, n) if v not in seen]
    for v in missing:
        out.append(Violation("missing_visit", f"node {v} (id {problem.id_of(v)!r}) is not visited", None, v))
    if problem.kind is ProblemKind.ATSP and len(routes) > 1:
        out.append(Violation("route_count", f"ATSP needs one tour, got {len(routes)} routes"))
    elif problem.num_vehicles is not None and len(routes) > problem.num_vehicles:
        out.append(Violation("too_many_routes", f"{len(routes)} routes > num_vehicles {problem.num_vehicles}",
                             amount=float(len(routes) - problem.num_vehicles)))
    return out


def _check_totals_finite(stats: list[RouteStats]) -> None:
    """A feasible solution's totals must be numbers: never report FEASIBLE at cost ``inf``.

    Problem validation keeps every matrix entry small enough for its sums to stay finite; what
    can still overflow is a schedule over huge time windows or service times.
    """
    for r, s in enumerate(stats):
        if not np.isfinite(s.distance):
            raise ProblemValidationError(
                "distance", f"route {r}: its distance overflows float64 ({s.distance}); expected metres")
        if s.duration is not None and not np.isfinite(s.duration):
            bad = ~np.isfinite(s.arrival) | ~np.isfinite(s.departure)
            pos = int(np.argmax(bad)) if bad.any() else len(s.nodes) - 1  # else: on the way back
            node = s.nodes[pos]
            raise ProblemValidationError(
                "duration", f"route {r}: its schedule overflows float64 at node {node} (arrival "
                f"{s.arrival[pos]:g} s, departure {s.departure[pos]:g} s); durations, time windows and "
                f"service times must be seconds", node)


def evaluate(problem: Problem, routes: Iterable[Iterable[int]], *, solver: str | None = None,
             runtime: float = 0.0) -> Solution:
    """Compute costs, schedule and violations of ``routes`` for ``problem``.

    Parameters
    ----------
    problem
        The instance.
    routes
        Node indices per route, without the depot. Empty routes are ignored; nodes out of
        range or visited twice are reported as violations.

    Returns
    -------
    Solution
        FEASIBLE when there are no violations, else INFEASIBLE (with the violations listed).
        Distance in metres; duration in seconds (travel + service + waiting) or None when the
        problem has no duration matrix.

    Raises
    ------
    TypeError
        When ``routes`` is not a list of lists of integers (see :func:`parse_routes`).
    """
    norm = _normalise_routes(routes)
    violations = _structure_violations(problem, norm)
    schedulable = all(0 < v < problem.num_nodes for route in norm for v in route)
    stats: list[RouteStats] = []
    if schedulable:
        stats = [_route_schedule(problem, r, route, violations) for r, route in enumerate(norm)]
        distance = float(sum(s.distance for s in stats))
        duration = None if problem.duration is None else float(sum(s.duration for s in stats))
    else:
        distance, duration = float("inf"), None if problem.duration is None else float("inf")
    cost = duration if problem.objective == "duration" else distance
    status = Status.INFEASIBLE if violations else Status.FEASIBLE
    if status is Status.FEASIBLE:
        _check_totals_finite(stats)
    return Solution(problem=problem, routes=norm, status=status, distance=distance, duration=duration,
                    cost=cost, violations=tuple(violations), route_stats=tuple(stats), solver=solver,
                    runtime=runtime)
