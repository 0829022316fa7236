"""PyVRP backend: iterated local search (PyVRP 0.14) for ATSP, ACVRP and ACVRPTW, with the
fleet model (several depots, vehicle types, optional stops, shifts, route limits, fixed costs)
mapped natively."""

from __future__ import annotations

import logging
import math
import time
import warnings
from typing import Any, ClassVar

import numpy as np

from ..problem import Problem, ProblemKind
from ._backend import clean_initial, keep_better
from ._parallel import (SideProcess, SideProcessError, check_workers, side_grace,
                        resolve_workers, start_side_processes)
from .base import SEED_LIMIT, SolveOutput, Solver, SolverError
from .scaling import IntegerLimits, ScaledFleet, ScaledProblem, scale_fleet, scale_problem

__all__ = ["PyVRPSolver"]

logger = logging.getLogger(__name__)


class PyVRPSolver(Solver):
    """PyVRP's iterated local search (``pip install "hybridroute[pyvrp]"``, pyvrp 0.14.x).

    ATSP is one vehicle starting and ending at node 0; ACVRP and ACVRPTW map each
    :class:`~hybridroute.VehicleType` to a PyVRP vehicle type (``count`` vehicles, one per
    customer when unlimited) with its capacity, start and end depot, fixed cost, route window
    (:meth:`~hybridroute.Problem.route_window`), ``max_duration`` and ``max_distance``; optional
    stops become PyVRP clients with ``required=False`` and their prize. Breaks are not
    supported (PyVRP has none). A warm start is read as a PyVRP ``Solution``; PyVRP repairs
    partial or infeasible starts and never returns something worse than a feasible one. With
    several vehicle types a start given as a Solution keeps each route's type; plain routes
    carry none, so such a start is ignored (``stats["initial_reason"]`` says why).

    Parameters
    ----------
    max_iterations
        Optional cap on ILS iterations (PyVRP's ``MaxIterations``). The search stops at
        whichever comes first, this or the time limit; with a generous time limit the same
        seed then gives the same routes.
    scale
        Integers per objective unit (per metre or per second); None picks the smallest power
        of ten that keeps rounding below 0.01 % (1 for integer data, 10 for Solomon's one
        decimal). See :mod:`hybridroute.solvers.scaling`.
    time_scale
        Integers per second for durations and time windows when the objective is distance;
        None chooses one the same way (times round conservatively).
    symmetric_proximity
        Whether PyVRP's granular neighbourhood ranks a client's neighbours by the cheaper of
        both directions (PyVRP's default, kept) or by the directed cost ``i → j`` only.
        Measured (PyVRP 0.14.1, one search): directed helps on small, strongly asymmetric
        benchmark instances (A045-11f, A056-10f, A065-19f at 10 s and kro124p at 5 s, seeds
        0-4: 0 of 20 runs over 2 %, against 4 of 20) but hurts on the road networks this
        package is for (Helsinki OSRM, n = 100, 2 s, 4 instances × 2 seeds: ATSP +6.2 %,
        ACVRP +1.4 %, ACVRPTW +7.7 % on average) and on rbg323-443 (+5-7 points at 5 s).
        See ``docs/decisions.md`` ("PyVRP: the symmetric granular neighbourhood is kept").
    workers
        Independent searches run side by side, seeds ``seed``, ``seed + 1``, ...; the best
        (feasible first, then cheapest) is returned and ``stats["searches"]`` lists them all.
        The first runs in this process, the others in side processes
        (:mod:`hybridroute.solvers._parallel`), each for the whole time limit on its own
        core. ``"auto"`` (default): one per usable core, at most :data:`MAX_AUTO_SEARCHES`;
        one inside a worker process (``solve_many``, Dask) or when the time limit is under
        :data:`MIN_SIDE_SECONDS` without ``max_iterations``. Only the first search starts
        from a warm start (``initial``); the others start cold, so that the start adds a
        trajectory to the independent ones instead of replacing them (``docs/decisions.md``).
        A seed gives the same routes for the same ``workers`` and ``max_iterations``, so pin
        ``workers`` for results that must match across machines. Under an iteration limit
        more workers never give a worse
        result: the first search is the ``workers=1`` one.

    Notes
    -----
    Objective: distance uses ``unit_distance_cost=1``; duration uses
    ``unit_distance_cost=0, unit_duration_cost=1``. Fixed costs and prizes are in objective
    units and are scaled like the objective's matrix (``cost_scale``), so PyVRP's objective
    (travel + fixed costs + uncollected prizes) is hybridroute's. A start depot's service time
    is folded into the legs leaving it.

    Times: every route leaves at its type's earliest departure (``route_window(t)[0]``, PyVRP's
    ``start_late`` pinned to ``tw_early``), which gives exactly the evaluator's service times,
    time-window and return checks. hybridroute's evaluator then delays the departure by the
    wait at the first stop (late departure); PyVRP cannot express that, so a wait at the first
    stop counts in PyVRP's route duration and not in hybridroute's. Two consequences:

    * ``max_duration`` is *conservative*: PyVRP limits ``return - earliest departure``, which
      is at least hybridroute's duration, so its feasible solutions are feasible for the
      evaluator; a route that is feasible only because its first stop's wait does not count
      (a depot or shift opening long before the first window) is missed, and PyVRP may then
      find no feasible solution where one exists.
    * With ``objective="duration"`` PyVRP's cost counts that wait too, so it may prefer a
      route order the evaluator rates slightly worse (the reported cost is the evaluator's).

    ``max_distance`` is conservative too: it is checked on distances rounded up (a second
    PyVRP profile when rounding up changes them), so rounding never admits a route longer
    than the limit in metres.
    """

    name = "pyvrp"
    supports = frozenset(ProblemKind)
    features: ClassVar[frozenset[str]] = frozenset({
        "multiple_depots", "vehicle_types", "optional_stops", "shifts", "max_duration",
        "max_distance", "fixed_costs"})
    accepts_initial = True
    accepts_initial_types = True
    improves_initial: ClassVar[bool] = True
    requires = ("pyvrp",)
    extra = "pyvrp"
    deterministic = True
    default_time_limit = 10.0
    converges = True
    deterministic_settings: ClassVar[dict[str, Any]] = {"max_iterations": 300}
    #: int64 costs; PyVRP multiplies excess load / time warp by penalties (capped so that
    #: penalty × violation < 2**60, see _penalty_params), so keep totals far below 2**63.
    INTEGER_LIMITS: ClassVar[IntegerLimits] = IntegerLimits("pyvrp", 2**36, 2**40)

    def __init__(self, max_iterations: int | None = None, scale: float | None = None,
                 time_scale: float | None = None, symmetric_proximity: bool = True,
                 workers: int | str = "auto"):
        if max_iterations is not None and max_iterations < 0:
            raise ValueError(f"max_iterations must be >= 0 or None, got {max_iterations}")
        for label, value in (("scale", scale), ("time_scale", time_scale)):
            if value is not None and not value > 0:
                raise ValueError(f"{label} must be positive or None, got {value}")
        self.max_iterations = max_iterations
        self.scale = scale
        self.time_scale = time_scale
        if not isinstance(symmetric_proximity, bool):
            raise ValueError(f"symmetric_proximity must be True or False, got {symmetric_proximity!r}")
        self.symmetric_proximity = symmetric_proximity
        self.workers = check_workers(workers)
        self._early_sides: _SideSearches | None = None  # see start_side_searches

    def _side_count(self, time_limit: float) -> int:
        """Side searches a solve with ``time_limit`` runs beside its first search."""
        count = resolve_workers(self.workers, MAX_AUTO_SEARCHES if self.workers == "auto"
                                else self.workers)
        if self.workers == "auto" and time_limit < MIN_SIDE_SECONDS and self.max_iterations is None:
            count = 1  # a side process would spend much of its budget importing PyVRP
        return count - 1

    def _start_sides(self, problem: Problem, time_limit: float, seed: int) -> "_SideSearches":
        """Start the cold side searches of a solve that ends ``time_limit`` seconds from now."""
        end = time.monotonic() + time_limit
        side = start_side_processes(_SIDE_TARGET, self._side_count(time_limit))
        settings = {**self.get_params(), "workers": 1}
        # only the first search starts from a warm start: the side searches start cold, so that
        # the start adds a trajectory to the independent ones instead of replacing them
        sent = [_send(process, settings=settings, problem=problem, seed=_side_seed(seed, k),
                      initial=None, initial_types=None, end=end - SIDE_STOP_EARLY_S)
                for k, process in enumerate(side)]
        return _SideSearches(side, sent, end, problem)

    def start_side_searches(self, problem: Problem, time_limit: float, seed: int = 0) -> "_SideSearches":
        """Start now the cold side searches of a solve of ``problem`` that is to end
        ``time_limit`` seconds from now; the next :meth:`solve` of the same problem on this
        instance collects them instead of starting its own (a hybrid calls this before its
        neural stage, so that those searches use the cores the stage leaves idle). Their
        processes are closed by that solve, or by :meth:`_SideSearches.close`."""
        early = self._start_sides(problem, time_limit, seed)
        self._early_sides = early
        return early

    def _solve(self, problem: Problem, *, time_limit: float, seed: int,
               initial: list[list[int]] | None, initial_types: list[int] | None = None) -> SolveOutput:
        t0 = time.monotonic()
        early, self._early_sides = self._early_sides, None
        if early is not None and early.problem is not problem:
            early.close()
            early = None
        sides = early if early is not None else self._start_sides(problem, time_limit, seed)
        try:
            outputs = [(seed, 0.0, self._search(problem, t0 + time_limit - time.monotonic(), seed, initial,
                                                 initial_types))]
            grace = side_grace(bool(outputs[0][2].routes))
            for k, (process, ok) in enumerate(zip(sides.processes, sides.sent)):
                outputs.append(_collect(process, ok, _side_seed(seed, k), t0, max(sides.end, t0 + time_limit) + grace))
        finally:
            sides.close()
        return _best_of(problem, outputs, len(sides.processes) + 1)

    def _search(self, problem: Problem, time_limit: float, seed: int,
                initial: list[list[int]] | None, initial_types: list[int] | None = None) -> SolveOutput:
        """One PyVRP run (the whole backend when ``workers=1``)."""
        import pyvrp
        from pyvrp.search import NeighbourhoodParams
        from pyvrp.stop import MaxIterations, MultipleCriteria, NoImprovement

        t0 = time.monotonic()
        scaled = scale_problem(problem, self.INTEGER_LIMITS, cost_scale=self.scale,
                               time_scale=self.time_scale, need_time=_needs_time(problem))
        fleet = scale_fleet(problem, scaled, self.INTEGER_LIMITS)
        data = _problem_data(problem, scaled, fleet)
        stats: dict[str, Any] = {"cost_scale": scaled.cost_scale, "time_scale": scaled.time_scale}
        if initial is not None and len(problem.vehicle_types) > 1 and initial_types is None:
            reason = ("several vehicle types: the warm start's routes carry no vehicle types (pass a "
                      "Solution), so it is ignored (cold start)")
            logger.info("pyvrp: warm start not usable (%s)", reason)
            stats.update(initial_accepted=False, initial_reason=reason)
            initial = None
        start, stats_start = _initial_solution(problem, data, initial, initial_types)
        stats.update(stats_start)
        recorder = _HistoryRecorder(scaled, t0)
        penalty = _penalty_params(scaled)
        stats["max_penalty"] = penalty.max_penalty
        stats["symmetric_proximity"] = self.symmetric_proximity
        neighbourhood = NeighbourhoodParams(symmetric_proximity=self.symmetric_proximity)
        params = pyvrp.SolveParams(ils=pyvrp.IteratedLocalSearchParams(callbacks=recorder),
                                   penalty=penalty, neighbourhood=neighbourhood)
        if math.isinf(time_limit):
            # no clock: the search ends once it stops improving
            stop = NoImprovement(UNLIMITED_NO_IMPROVEMENT)
            stats["stopped_by"] = f"{UNLIMITED_NO_IMPROVEMENT} iterations without improvement"
        else:
            stop = _Deadline(t0 + time_limit)
        if self.max_iterations is not None:
            stop = MultipleCriteria([stop, MaxIterations(self.max_iterations)])
        result, penalty_warnings = _run(data, stop, seed, params, start)
        stats["iterations"] = result.num_iterations
        if penalty_warnings:
            stats["penalty_bound_warnings"] = penalty_warnings
        routes, types, message = _status(data, result)
        if message and penalty_warnings:
            message += "; PyVRP's penalties reached their bound (PenaltyBoundWarning)"
        several = len(problem.vehicle_types) > 1
        routes, restored = keep_better(problem, routes, initial, types, initial_types)
        if restored:
            stats["initial_restored"] = True
            types = initial_types
        return SolveOutput(routes=routes, history=recorder.history, stats=stats, message=message,
                           vehicle_types=types if several else None)


#: With ``time_limit=math.inf`` a search stops after this many iterations without improving
#: its best solution (PyVRP's ``NoImprovement``).
UNLIMITED_NO_IMPROVEMENT = 20_000
#: Most searches ``workers="auto"`` runs side by side (each one process and one core).
MAX_AUTO_SEARCHES = 4
#: Below this time limit (seconds) ``workers="auto"`` runs one search: a side process needs
#: about 0.3-0.6 s to import PyVRP.
MIN_SIDE_SECONDS = 2.0
#: Side searches stop this many seconds before the time limit. A search ends after its limit
#: by its last iteration and the evaluation of its result (0.19-0.21 s at ACVRP n = 1000), and
#: the first search collects the side results no later than ``SIDE_LATE_S`` (0.2 s) past the
#: limit: with every search aimed at the limit itself, the side result was lost in 10 of 40
#: PyVRP solves at ACVRP n = 1000 with 10 s (a whole core's search thrown away).
SIDE_STOP_EARLY_S = 0.25
_SIDE_TARGET = f"{__name__}:_side_search"


def _side_seed(seed: int, k: int) -> int:
    """The seed of side search ``k``: ``seed + k + 1``, wrapped into PyVRP's 32-bit range."""
    return (seed + k + 1) % SEED_LIMIT


def _side_search(settings: dict[str, Any], problem: Problem, seed: int, initial: list[list[int]] | None,
                 initial_types: list[int] | None, end: float) -> tuple[float, SolveOutput]:
    """One search in a side process; returns (when it started, as a ``time.monotonic()``
    reading, its output)."""
    started = time.monotonic()
    solver = PyVRPSolver(**settings)
    return started, solver._search(problem, max(end - started, 1e-3), seed, initial, initial_types)


class _SideSearches:
    """Side searches started for one solve: their processes, whether each got its task, and
    when the solve is to end (a ``time.monotonic()`` reading)."""

    def __init__(self, processes: list[SideProcess], sent: list[bool], end: float, problem: Problem):
        self.processes, self.sent, self.end, self.problem = processes, sent, end, problem

    def close(self) -> None:
        for process in self.processes:
            process.close()


def _send(process: SideProcess, **kwargs: Any) -> bool:
    try:
        process.send(**kwargs)
        return True
    except SideProcessError as exc:
        logger.warning("pyvrp: side search lost: %s", exc)
        return False


def _collect(process: SideProcess, sent: bool, seed: int, t0: float,
             wait_until: float) -> tuple[int, float, SolveOutput | None]:
    """(seed, its start relative to ``t0``, output or None when the side search was lost or
    had not answered by ``wait_until``, a ``time.monotonic()`` reading)."""
    if not sent:
        return seed, 0.0, None
    try:
        started, out = process.result(wait_until)
    except SideProcessError as exc:
        logger.warning("pyvrp: side search with seed %d lost: %s", seed, exc)
        return seed, 0.0, None
    # a side search started before this solve (beside a hybrid's first stage) is stamped from
    # the solve's start: its history stays within [0, runtime]
    return seed, max(started - t0, 0.0), out


def _best_of(problem: Problem, outputs: list[tuple[int, float, SolveOutput | None]],
             workers: int) -> SolveOutput:
    """The best search's output (feasible first, then cheapest by hybridroute's evaluator);
    with several searches, ``stats["searches"]`` lists each one and the history joins them."""
    from ..solution import evaluate

    if workers == 1:
        return outputs[0][2]
    best, best_key, history, summary = None, None, [], []
    for seed, offset, out in outputs:
        if out is None:
            summary.append({"seed": seed, "status": "side process failed"})
            continue
        history.extend((t + offset, c) for t, c in out.history)
        entry: dict[str, Any] = {"seed": seed, "iterations": out.stats.get("iterations")}
        key = (True, math.inf)
        if out.routes is not None:
            sol = evaluate(problem, out.routes, vehicle_types=out.vehicle_types)
            key = (not sol.is_feasible, sol.cost)
            entry.update(cost=sol.cost, feasible=sol.is_feasible)
        summary.append(entry)
        if best is None or key < best_key:
            best, best_key = out, key
    # what became of a warm start is the first search's to say (the side searches start cold)
    warm = {k: v for k, v in outputs[0][2].stats.items() if k.startswith("initial_")}
    stats = {**best.stats, **warm, "workers": workers, "searches": summary}
    return SolveOutput(routes=best.routes, history=history, stats=stats, message=best.message,
                       vehicle_types=best.vehicle_types)


class _Deadline:
    """PyVRP stopping criterion on the solve's own clock (``time.monotonic`` seconds).

    PyVRP's ``MaxRuntime`` starts counting at its first call, after PyVRP's set-up and, without
    a start, an exhaustive local search from a random solution: 0.49 s at ATSP n = 1000, which
    took a 1 s solve to 1.66 s. This one ends the search at ``end`` whatever ran before."""

    def __init__(self, end: float):
        self.end = end

    def __call__(self, best_cost: float) -> bool:
        return time.monotonic() >= self.end


def _run(data, stop, seed: int, params, start):
    """``pyvrp.solve``; returns the result and how many PenaltyBoundWarnings it raised.

    PyVRP warns when a penalty hits its bound; on small instances with tight windows that
    happens while good feasible solutions are found, so the warning is counted (stats, and
    the message when the result is infeasible) instead of shown. Other warnings pass on.
    """
    import pyvrp
    from pyvrp.exceptions import PenaltyBoundWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PenaltyBoundWarning)
        result = pyvrp.solve(data, stop, seed=seed, collect_stats=False, display=False,
                             params=params, initial_solution=start)
    count = 0
    for w in caught:
        if isinstance(w.message, PenaltyBoundWarning):
            count += 1
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return result, count


def _penalty_params(s: ScaledProblem):
    """PyVRP's penalty range, stretched to the scaled data.

    PyVRP's defaults (penalties 0.1 to 1e5 per unit of excess load or time warp) suit its
    benchmark data, whose legs cost ~10^2-10^3 integer units. Finer scales make legs cost far
    more, and a capped penalty of 1e5 then cannot pay for a detour: PyVRP settles for
    overloaded routes (seen at scale 10^4 on a 12-customer instance with a duration
    objective). So the range grows with the mean leg cost / 1000, capped so that
    penalty × (largest violation) stays far from int64 overflow.
    """
    from pyvrp import PenaltyParams

    base = PenaltyParams()
    off = s.cost[~np.eye(len(s.cost), dtype=bool)]
    factor = max(1.0, float(off.mean()) / 1000.0) if off.size else 1.0
    largest = max(float(np.max(s.cost, axis=1).sum()), float(s.horizon or 0), 1.0)
    cap = 2.0**60 / largest
    return PenaltyParams(min_penalty=min(base.min_penalty * factor, cap),
                         max_penalty=max(min(base.max_penalty * factor, cap), base.min_penalty))


def _status(data, result) -> tuple[list[list[int]] | None, list[int], str]:
    """PyVRP's outcome in hybridroute terms (the one place that reads it): routes, each
    route's vehicle type, and a message.

    PyVRP proves nothing, so a solve is never OPTIMAL. An infeasible or incomplete best
    solution is still returned: the evaluator reports its violations. A feasible solution may
    have no routes at all (every stop optional and not worth its detour).
    """
    best = result.best
    routes, types = _routes(data, best)
    if best.is_feasible():
        return routes, types, ""
    if not routes:
        return None, [], "PyVRP found no solution"
    missing = best.num_missing_clients()
    return routes, types, ("PyVRP found no feasible solution" +
                           (f" ({missing} clients unplanned)" if missing else ""))


def _routes(data, solution) -> tuple[list[list[int]], list[int]]:
    """Matrix rows (= hybridroute nodes) per route, and each route's vehicle type (PyVRP's
    vehicle type i is ``problem.vehicle_types[i]``): activities carry client indices."""
    out, types = [], []
    for route in solution.routes():
        nodes = [data.client(a.idx).location for a in route if a.is_client()]
        if nodes:
            out.append(nodes)
            types.append(int(route.vehicle_type()))
    return out, types


def _needs_time(problem: Problem) -> bool:
    """Whether PyVRP needs durations: time windows, a duration objective, or a vehicle type
    with a shift or a finite ``max_duration`` (these need a duration matrix)."""
    if problem.duration is None:
        return False
    timed = any(vt.shift is not None or (vt.max_duration is not None and math.isfinite(vt.max_duration))
                for vt in problem.vehicle_types)
    return problem.time_windows is not None or problem.objective == "duration" or timed


def _one(value: float, scale: float, rounding: str) -> int:
    """``value × scale`` as an integer; ``up`` / ``down`` ignore float noise (12.3 × 10 = 123)."""
    x = value * scale
    eps = 1e-7 * max(1.0, abs(x))
    return int(math.ceil(x - eps) if rounding == "up" else math.floor(x + eps))


def _vehicle_type(problem: Problem, s: ScaledProblem, fleet: ScaledFleet, t: int,
                  profile: int) -> Any:
    """PyVRP's ``VehicleType`` for ``problem.vehicle_types[t]``.

    The route window: ``tw_early`` is the earliest departure (rounded up, without the start
    depot's service, which sits in the legs leaving it) with ``start_late`` pinned to it,
    ``tw_late`` the latest return (rounded down, from :func:`scale_fleet`). ``shift_duration``
    limits ``return - tw_early`` to ``floor((begin + max_duration) × scale) - tw_early``: a
    route within it returns by ``begin + max_duration`` in seconds, so hybridroute's duration
    (which starts no earlier than ``begin``) is within ``max_duration`` (see the class notes).
    """
    from pyvrp import VehicleType

    vt = problem.vehicle_types[t]
    kw: dict[str, Any] = {"start_depot": vt.start_depot, "end_depot": vt.end, "profile": profile}
    has_tw = s.time_windows is not None
    if s.time_scale is not None and (has_tw or vt.shift is not None):
        # Vehicles leave at the earliest departure, as hybridroute's evaluator assumes.
        early = _one(problem.route_window(t)[0], s.time_scale, "up")
        kw.update(tw_early=early, start_late=early)
        if has_tw or math.isfinite(problem.route_window(t)[1]):
            kw["tw_late"] = int(fleet.return_by[t])
    if vt.max_duration is not None and math.isfinite(vt.max_duration):
        if s.time_scale is None:
            raise ValueError(f"vehicle_types[{t}].max_duration needs scaled durations; scale the "
                             f"problem with need_time=True")
        begin = problem.route_window(t)[0]
        early = kw.get("tw_early", 0)
        kw["shift_duration"] = max(0, _one(begin + vt.max_duration, s.time_scale, "down") - early)
    if fleet.max_distance[t] is not None:
        kw["max_distance"] = int(fleet.max_distance[t])
    if problem.objective == "duration":
        kw.update(unit_distance_cost=0, unit_duration_cost=1)
    if fleet.capacity[t] is not None:
        kw["capacity"] = [int(fleet.capacity[t])]
    if fleet.fixed_cost[t]:
        kw["fixed_cost"] = int(fleet.fixed_cost[t])
    if vt.name is not None:
        kw["name"] = vt.name
    num = vt.count if vt.count is not None else problem.num_customers
    return VehicleType(num_available=max(1, num), **kw)


def _problem_data(problem: Problem, s: ScaledProblem, fleet: ScaledFleet | None = None):
    """Build PyVRP ``ProblemData``: location i is node i; PyVRP's depot d is node d and its
    client c is node ``num_depots + c``; its vehicle type t is ``problem.vehicle_types[t]``.

    ``fleet`` defaults to ``scale_fleet(problem, s, PyVRPSolver.INTEGER_LIMITS)``.
    """
    from pyvrp import Client, Depot, Location, ProblemData

    if fleet is None:
        fleet = scale_fleet(problem, s, PyVRPSolver.INTEGER_LIMITS)
    n, nd = problem.num_nodes, problem.num_depots
    has_tw = s.time_windows is not None
    duration = s.duration if s.duration is not None else np.zeros((n, n), dtype=np.int64)
    if s.service_time is not None and s.service_time[:nd].any():
        duration = duration.copy()
        for d in range(nd):
            duration[d, nd:] += s.service_time[d]  # depot service: part of every first leg
    prize = _prizes(problem, s)
    clients = []
    for i in range(nd, n):
        kw: dict[str, Any] = {}
        if s.demand is not None:
            kw["delivery"] = [int(s.demand[i])]
        if has_tw:
            kw.update(tw_early=int(s.time_windows[i, 0]), tw_late=int(s.time_windows[i, 1]),
                      service_duration=int(s.service_time[i]))
        if not problem.required[i]:
            kw.update(required=False, prize=int(prize[i]))
        clients.append(Client(location=i, **kw))
    if nd == 1 and has_tw:
        depots = [Depot(location=0, tw_early=int(s.time_windows[0, 0]), tw_late=int(s.time_windows[0, 1]))]
    else:
        # Each vehicle type's window (its depots' hours and shift) already bounds its routes;
        # a depot window would also stop a route leaving after its start depot closes, which
        # hybridroute allows when the route ends at another depot.
        depots = [Depot(location=d) for d in range(nd)]
    distance = s.cost if problem.objective == "distance" else s.distance
    distances = [np.ascontiguousarray(distance, dtype=np.int64)]
    profile_up = 0
    if fleet.distance_up is not None and not np.array_equal(fleet.distance_up, distance):
        # max_distance on distances rounded up: a second profile for the limited types
        distances.append(np.ascontiguousarray(fleet.distance_up, dtype=np.int64))
        profile_up = 1
    durations = [np.ascontiguousarray(duration, dtype=np.int64)] * len(distances)
    vehicles = [_vehicle_type(problem, s, fleet, t, profile_up if fleet.max_distance[t] is not None else 0)
                for t in range(len(problem.vehicle_types))]
    return ProblemData(locations=[Location(0.0, 0.0) for _ in range(n)], clients=clients,
                       depots=depots, vehicle_types=vehicles, distance_matrices=distances,
                       duration_matrices=durations)


def _prizes(problem: Problem, s: ScaledProblem) -> np.ndarray:
    """Per node, the prize × ``cost_scale`` (nearest), as the objective's matrix is scaled."""
    prize = np.rint(np.asarray(problem.prize, dtype=np.float64) * s.cost_scale)
    limit = PyVRPSolver.INTEGER_LIMITS.max_total
    if prize.sum() > limit:
        raise SolverError(f"pyvrp: scaled prizes sum to {prize.sum():.4g}, beyond the backend's integer "
                          f"limit {limit:.4g}; use a smaller scale or smaller prizes")
    return prize.astype(np.int64)


def _initial_solution(problem: Problem, data, initial: list[list[int]] | None,
                      types: list[int] | None = None):
    """A PyVRP ``Solution`` from a cleaned start (client index = node - num_depots), or None.

    ``types``: each route's vehicle type (hybridroute's types are PyVRP's, in order); without
    them every route is of the first type."""
    from pyvrp import Activity, ActivityType, Route, Solution

    if initial is None:
        return None, {}
    nd = problem.num_depots
    clean = clean_initial(problem, initial, types)
    stats: dict[str, Any] = {}
    if clean.dropped:
        stats["initial_dropped"] = clean.dropped
    reason = None
    if clean.routes is None or len(clean.routes) > data.num_vehicles:
        reason = ("empty" if clean.routes is None
                  else f"{len(clean.routes)} routes > {data.num_vehicles} vehicles")
    elif clean.types is not None:
        available = [vt.num_available for vt in data.vehicle_types()]
        over = [t for t in sorted(set(clean.types)) if clean.types.count(t) > available[t]]
        if over:
            reason = (f"{clean.types.count(over[0])} routes of vehicle type {over[0]} > its "
                      f"{available[over[0]]} vehicles")
    if reason is not None:
        logger.info("pyvrp: warm start not usable (%s); cold start", reason)
        stats.update(initial_accepted=False, initial_reason=reason)
        return None, stats
    stats["initial_accepted"] = True
    visited = {v for route in clean.routes for v in route}
    if any(problem.required[v] and v not in visited for v in problem.customers):
        stats["initial_partial"] = True  # PyVRP inserts the missing clients
    if clean.types is None:
        return Solution(data, [[v - nd for v in r] for r in clean.routes]), stats
    routes = [Route(data, [Activity(ActivityType.CLIENT, v - nd) for v in r], t)
              for r, t in zip(clean.routes, clean.types)]
    return Solution(data, routes), stats


class _HistoryRecorder:
    """ILS callbacks recording (seconds, best objective in float units).

    ``on_best`` fires only for a new feasible best; a feasible start is recorded at t=0.
    The objective is PyVRP's integer cost divided by the scale (within the rounding tolerance).
    """

    def __init__(self, scaled: ScaledProblem, t0: float):
        self._scaled = scaled
        self._t0 = t0
        self.history: list[tuple[float, float]] = []
        self._evaluator = None

    def _record(self, solution) -> None:
        if self._evaluator is None:
            from pyvrp import CostEvaluator

            dims = len(solution.excess_load())
            self._evaluator = CostEvaluator([0.0] * dims, 0.0, 0.0)
        cost = self._evaluator.cost(solution)
        self.history.append((time.monotonic() - self._t0, self._scaled.to_cost(cost)))

    def on_start(self, ils) -> None:
        if ils.initial_solution.is_feasible():
            self._record(ils.initial_solution)

    def on_best(self, best) -> None:
        self._record(best)

    def on_end(self, result) -> None:
        pass

    def on_iteration(self, current, candidate, best, cost_evaluator) -> None:
        pass

    def on_restart(self, best) -> None:
        pass
