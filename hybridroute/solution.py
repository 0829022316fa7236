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
    ``too_many_routes``, ``route_count``, ``vehicle_type``, ``shift``, ``max_duration``,
    ``max_distance``, ``break``. ``amount`` is the excess (demand units, seconds or metres).
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
    entries are for the leg arriving at each visit; ``return_*`` for the leg back to the end
    depot. ``start_time`` is when the route begins at its start depot (after the late-departure
    rule of :func:`evaluate`), ``duration`` is ``end_time - start_time``. ``breaks`` holds
    ``(gap, start, duration)`` per break taken: gap ``p`` is the time between the service
    before visit ``p`` (0-based; the start depot for ``p = 0``) and that visit's service
    (driving paused, or waiting at the stop); gap ``len(nodes)`` is before the return.
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
    vehicle_type: int = 0
    start_depot: int = 0
    end_depot: int = 0
    breaks: tuple[tuple[int, float, float], ...] = ()


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
        Total route duration in seconds (travel, service, waiting and breaks), or None when
        the problem has no duration matrix.
    cost
        The objective: ``distance`` or ``duration`` per the problem's objective, plus
        ``fixed_cost`` and ``unserved_prize``.
    vehicle_types
        The vehicle type (an index into ``problem.vehicle_types``) of each route.
    unserved
        The optional stops no route visits.
    fixed_cost
        Sum of the used vehicles' fixed costs (objective units).
    unserved_prize
        Sum of the prizes of the ``unserved`` stops (objective units).
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
    vehicle_types: tuple[int, ...] = ()
    unserved: tuple[int, ...] = ()
    fixed_cost: float = 0.0
    unserved_prize: float = 0.0
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
            **({"vehicle_types": list(self.vehicle_types)} if len(self.problem.vehicle_types) > 1 else {}),
            **({"unserved": list(self.unserved)} if self.unserved else {}),
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
        sol = evaluate(problem, d["routes"], vehicle_types=d.get("vehicle_types"))
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
    return _integers(route, where, "a node index")


def _integers(values: Any, where: str, what: str) -> list[int]:
    """``values`` as ints; a TypeError naming ``where[position]`` when one is not ``what``."""
    out = []
    for pos, v in enumerate(values):
        idx = _node_index(v)
        if idx is None:
            raise TypeError(f"{where}[{pos}] = {v!r} is not {what} (an integer)")
        out.append(idx)
    return out


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


@dataclass
class _Timeline:
    """One pass over a route's schedule (seconds), with breaks at given positions."""

    arrival: np.ndarray
    departure: np.ndarray
    wait: np.ndarray
    end: float
    late: float                       # total lateness: windows, breaks, return (seconds)
    breaks: list[tuple[int, float, float, float]]  # (position, start, duration, latest start)


def _timeline(problem: Problem, nodes: tuple[int, ...], s: int, e: int, begin: float, close: float,
              placed: dict[int, list]) -> _Timeline:
    """The schedule with the breaks ``placed[p]`` in gap ``p`` (before visit ``p``; gap ``k``
    is before the return). A break in a gap starts as early as it may: when the vehicle leaves
    the previous node, or at the break's earliest start if later (while driving, which then
    pauses, or while waiting at the next stop)."""
    T, tw, svc = problem.duration, problem.time_windows, problem.service_time
    k = len(nodes)
    arrival, departure, wait = np.zeros(k), np.zeros(k), np.zeros(k)
    late = 0.0
    taken: list[tuple[int, float, float, float]] = []

    def ready_at(pos: int, leave: float, travel: float) -> float:
        """When the vehicle can start the next activity: driving ``travel`` from ``leave``
        with the gap's breaks taken on the way."""
        nonlocal late
        t, rest = leave, 0.0
        last_end = -math.inf
        for b in placed.get(pos, ()):
            start = max(t, b.earliest)
            late += max(0.0, start - b.latest)
            taken.append((pos, start, b.duration, b.latest))
            t = last_end = start + b.duration
            rest += b.duration
        return max(leave + travel + rest, last_end)

    leave = begin + (float(svc[s]) if svc is not None else 0.0)
    prev = s
    for i, v in enumerate(nodes):
        arrival[i] = ready_at(i, leave, T[prev, v])
        service_start = arrival[i]
        if tw is not None:
            service_start = max(arrival[i], tw[v, 0])
            late += max(0.0, arrival[i] - tw[v, 1])
        wait[i] = service_start - arrival[i]
        leave = departure[i] = service_start + (svc[v] if svc is not None else 0.0)
        prev = v
    end = ready_at(k, leave, T[prev, e])
    late += max(0.0, end - close)
    return _Timeline(arrival, departure, wait, float(end), late, taken)


def _place_breaks(problem: Problem, vt, nodes, s, e, begin, close) -> _Timeline:
    """The route's timeline with each needed break at its best position.

    Breaks are placed one at a time, in order of earliest start: a break is needed when the
    route is under way at some time in [earliest, latest] (it begins before ``latest`` and
    returns after ``earliest``); it goes in the gap between two services (or before the first,
    or before the return) that gives the least total lateness, then the earliest return, then
    the latest departure (a break is not put in the wait before the first stop when another
    gap serves as well), then the earliest gap.
    """
    placed: dict[int, list] = {}
    line = _timeline(problem, nodes, s, e, begin, close, placed)
    for b in vt.breaks:
        if not (begin < b.latest and line.end > b.earliest):
            continue
        best = None
        for pos in range(len(nodes) + 1):
            trial = {p: list(bs) for p, bs in placed.items()}
            trial.setdefault(pos, []).append(b)
            cand = _timeline(problem, nodes, s, e, begin, close, trial)
            # on a tie, keep the wait at the first stop free: the route can then leave later
            departure_slack = float(cand.wait[0]) if len(nodes) and 0 not in trial else 0.0
            key = (round(cand.late, 9), cand.end, -departure_slack, pos)
            if best is None or key < best[0]:
                best = (key, trial, cand)
        _, placed, line = best
    return line


def _route_schedule(problem: Problem, r: int, nodes: tuple[int, ...], t: int,
                    violations: list[Violation]) -> RouteStats:
    vt = problem.vehicle_types[t]
    s, e = vt.start_depot, vt.end
    D, T = problem.distance, problem.duration
    tw, dem = problem.time_windows, problem.demand
    k = len(nodes)
    prev = (s,) + nodes
    leg_d = D[list(prev), list(nodes) + [e]]
    ret_d = float(leg_d[-1])
    leg_d = leg_d[:-1]
    load_after = (np.cumsum(dem[list(nodes)]) if dem is not None else np.zeros(k)).astype(
        dem.dtype if dem is not None else np.float64)
    load = load_after[-1] if k else 0
    start, end = 0.0, None
    arrival = departure = wait = np.zeros(k)
    leg_t = ret_t = None
    breaks: tuple = ()
    if T is not None:
        begin, close = problem.route_window(t)
        line = _place_breaks(problem, vt, nodes, s, e, begin, close)
        arrival, departure, wait = line.arrival, line.departure, line.wait
        start, end = begin, line.end
        if k and wait[0] > 0 and not any(taken[0] == 0 for taken in line.breaks):
            # Late departure: leave so as to arrive as the first stop opens; no stop is served later.
            # The first service start is the window's opening, exactly (arrival + wait need not
            # round to it), and the start never passes it (zero travel and service times).
            first_service = float(problem.time_windows[nodes[0], 0])
            start = min(start + float(wait[0]), first_service)
            arrival = arrival.copy()
            arrival[0] = first_service
            wait = wait.copy()
            wait[0] = 0.0
        breaks = tuple((int(p), float(bs), float(d)) for p, bs, d, _ in line.breaks)
        leg_t = T[list(prev), list(nodes) + [e]]
        ret_t = float(leg_t[-1])
        leg_t = leg_t[:-1]
        _time_violations(problem, r, nodes, vt, e, arrival, end, start, line.breaks, violations)
    if dem is not None and load > vt.capacity * (1 + _REL_TOL):
        violations.append(Violation(
            "capacity", f"route {r} carries {load} > capacity {vt.capacity}", r, None, float(load - vt.capacity)))
    distance = float(leg_d.sum() + ret_d)
    if vt.max_distance is not None and distance > vt.max_distance * (1 + _REL_TOL):
        violations.append(Violation(
            "max_distance", f"route {r} drives {distance:g} m > max_distance {vt.max_distance:g} m", r, None,
            float(distance - vt.max_distance)))
    return RouteStats(
        nodes=nodes, distance=distance, duration=None if end is None else float(end - start),
        load=float(load), start_time=float(start), end_time=end, arrival=arrival, departure=departure,
        wait=wait, load_after=load_after, leg_distance=leg_d, leg_duration=leg_t,
        return_distance=ret_d, return_duration=ret_t, vehicle_type=t, start_depot=s, end_depot=e, breaks=breaks,
    )


def _exceeds(value: float, limit: float) -> float:
    """How far ``value`` is above ``limit`` beyond float noise (0 when not)."""
    over = value - limit
    return over if over > _REL_TOL * max(1.0, abs(limit)) else 0.0


def _time_violations(problem, r, nodes, vt, e, arrival, end, start, breaks, violations) -> None:
    tw = problem.time_windows
    if tw is not None:
        for i, v in enumerate(nodes):
            late = _exceeds(arrival[i], tw[v, 1])
            if late:
                violations.append(Violation(
                    "time_window", f"route {r} arrives at node {v} at {arrival[i]:g} s, "
                    f"{late:g} s after its window ends ({tw[v, 1]:g} s)", r, v, float(late)))
        late = _exceeds(end, tw[e, 1])
        if late:
            where = "the depot" if problem.num_depots == 1 else f"depot {e}"
            violations.append(Violation(
                "depot_time_window", f"route {r} returns to {where} at {end:g} s, {late:g} s after "
                f"it closes ({tw[e, 1]:g} s)", r, e, float(late)))
    if vt.shift is not None:
        late = _exceeds(end, vt.shift[1])
        if late:
            violations.append(Violation(
                "shift", f"route {r} returns at {end:g} s, {late:g} s after its shift ends ({vt.shift[1]:g} s)",
                r, e, float(late)))
    if vt.max_duration is not None:
        over = _exceeds(end - start, vt.max_duration)
        if over:
            violations.append(Violation(
                "max_duration", f"route {r} takes {end - start:g} s > max_duration {vt.max_duration:g} s",
                r, None, float(over)))
    for pos, b_start, duration, latest in breaks:
        late = _exceeds(b_start, latest)
        if late:
            violations.append(Violation(
                "break", f"route {r} starts its {duration:g} s break at {b_start:g} s, {late:g} s after its "
                f"latest start ({latest:g} s)", r, None, float(late)))


def _structure_violations(problem: Problem, routes, types) -> list[Violation]:
    n, nd = problem.num_nodes, problem.num_depots
    out: list[Violation] = []
    seen: dict[int, int] = {}
    for r, route in enumerate(routes):
        for v in route:
            if 0 <= v < nd:
                what = "the depot (node 0)" if nd == 1 else f"depot {v}"
                out.append(Violation("depot_in_route", f"route {r} contains {what}", r, v))
            elif not 0 < v < n:
                out.append(Violation("unknown_node", f"route {r} visits unknown node {v} (n={n})", r, v))
            elif v in seen:
                out.append(Violation("duplicate_visit", f"node {v} is visited twice (routes {seen[v]} and {r})", r, v))
            else:
                seen[v] = r
    missing = [v for v in range(nd, n) if v not in seen and problem.required[v]]
    for v in missing:
        out.append(Violation("missing_visit", f"node {v} (id {problem.id_of(v)!r}) is not visited", None, v))
    if problem.kind is ProblemKind.ATSP and len(routes) > 1:
        out.append(Violation("route_count", f"ATSP needs one tour, got {len(routes)} routes"))
        return out
    nt = len(problem.vehicle_types)
    for r, t in enumerate(types):
        if not 0 <= t < nt:
            out.append(Violation("vehicle_type", f"route {r} has vehicle type {t}; the problem has {nt} "
                                                 f"(0..{nt - 1})", r))
    for t, vt in enumerate(problem.vehicle_types):
        used = sum(1 for x in types if x == t)
        if vt.count is not None and used > vt.count:
            what = (f"num_vehicles {vt.count}" if nt == 1
                    else f"the {vt.count} vehicle(s) of type {t}{f' ({vt.name})' if vt.name else ''}")
            out.append(Violation("too_many_routes", f"{used} routes > {what}", amount=float(used - vt.count)))
    return out


def _route_types(problem: Problem, routes: list[list[int]], vehicle_types: Any) -> list[int]:
    """Each route's vehicle type index (before empty routes are dropped)."""
    if vehicle_types is None:
        if len(problem.vehicle_types) > 1 and routes:
            raise ValueError(f"vehicle_types: the problem has {len(problem.vehicle_types)} vehicle types; give the "
                             f"type (an index into problem.vehicle_types) of each of the {len(routes)} routes")
        return [0] * len(routes)
    if isinstance(vehicle_types, (str, bytes)) or not _iterable(vehicle_types):
        raise TypeError(f"vehicle_types must be a list of integers, one per route; got {_describe(vehicle_types)}")
    types = _integers(vehicle_types, "vehicle_types", "a vehicle type index")
    if len(types) != len(routes):
        raise ValueError(f"vehicle_types: got {len(types)} types for {len(routes)} routes (one per route)")
    return types


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


def evaluate(problem: Problem, routes: Iterable[Iterable[int]], *, vehicle_types: Iterable[int] | None = None,
             solver: str | None = None, runtime: float = 0.0) -> Solution:
    """Compute costs, schedule and violations of ``routes`` for ``problem``.

    The cost is the problem's objective: travel (metres, or seconds of route duration) +
    the fixed cost of every used vehicle + the prize of every optional stop left out.

    The schedule: a route of vehicle type ``t`` leaves its start depot at
    :meth:`Problem.route_window` ``(t)[0]`` (depot opening, or the shift's start if later) plus
    the depot's service time, drives, waits for windows, serves, and returns to its end depot.
    Breaks go in the gap between two services where they make the route least late (see
    :class:`~hybridroute.fleet.Break`).
    Then the late-departure rule: the route leaves as late as it can without serving any stop
    later, i.e. its start is delayed by the wait at its first stop, so that ``duration``
    counts no waiting before the first service.

    Parameters
    ----------
    problem
        The instance.
    routes
        Node indices per route, without the depots. Empty routes are ignored; nodes out of
        range or visited twice are reported as violations.
    vehicle_types
        Each route's vehicle type, an index into ``problem.vehicle_types`` (one per route,
        empty routes included). Optional when the problem has one vehicle type.

    Returns
    -------
    Solution
        FEASIBLE when there are no violations, else INFEASIBLE (with the violations listed).
        Distance in metres; duration in seconds (travel + service + waiting + breaks) or None
        when the problem has no duration matrix.

    Raises
    ------
    TypeError
        When ``routes`` is not a list of lists of integers (see :func:`parse_routes`), or
        ``vehicle_types`` is not a list of integers.
    ValueError
        When ``vehicle_types`` is missing for a problem with several types, or its length is
        not the number of routes.
    """
    raw = parse_routes(routes)
    raw_types = _route_types(problem, raw, vehicle_types)
    norm = tuple(tuple(route) for route in raw if route)
    types = tuple(t for route, t in zip(raw, raw_types) if route)
    violations = _structure_violations(problem, norm, types)
    schedulable = all(0 < v < problem.num_nodes for route in norm for v in route) and \
        all(0 <= t < len(problem.vehicle_types) for t in types)
    stats: list[RouteStats] = []
    fixed = 0.0
    if schedulable:
        stats = [_route_schedule(problem, r, route, t, violations) for r, (route, t) in enumerate(zip(norm, types))]
        distance = float(sum(s.distance for s in stats))
        duration = None if problem.duration is None else float(sum(s.duration for s in stats))
        fixed = float(sum(problem.vehicle_types[t].fixed_cost for t in types))
    else:
        distance, duration = float("inf"), None if problem.duration is None else float("inf")
    visited = {v for route in norm for v in route}
    unserved = tuple(int(v) for v in problem.optional if v not in visited) if problem.required is not None else ()
    prize = float(problem.prize[list(unserved)].sum()) if unserved else 0.0
    travel = duration if problem.objective == "duration" else distance
    cost = travel + fixed + prize
    status = Status.INFEASIBLE if violations else Status.FEASIBLE
    if status is Status.FEASIBLE:
        _check_totals_finite(stats)
    return Solution(problem=problem, routes=norm, status=status, distance=distance, duration=duration,
                    cost=cost, violations=tuple(violations), vehicle_types=types, unserved=unserved,
                    fixed_cost=fixed, unserved_prize=prize, route_stats=tuple(stats), solver=solver,
                    runtime=runtime)
