"""VROOM backend (pyvroom 1.15): fast local search for ACVRP, ACVRPTW and ATSP, with the
fleet model (several depots, vehicle types, shifts, max distance, fixed costs, breaks)."""

from __future__ import annotations

import datetime
import logging
import math
import time
from typing import Any, ClassVar

import numpy as np

from ..problem import Problem, ProblemKind
from ._backend import bounded_by_route_limits, clean_initial, construction_fleet, cpu_share, keep_better, usable_cores
from .base import allowed_runtime, SolveOutput, Solver, SolverError
from .scaling import IntegerLimits, ScaledFleet, ScaledProblem, scale_fleet, scale_problem

__all__ = ["VroomSolver"]

logger = logging.getLogger(__name__)

# VROOM's timeout bounds its local search only: the construction heuristics of all its
# searches (more of them at higher exploration levels) always run to the end. CPU seconds
# of that phase (timeout 10 ms, one thread), measured on the development machine:
#                     level 0   level 5
#   kro124p (ATSP)     0.014     0.103          R101 (25 vehicles)    0.010   0.074
#   ftv170 (ATSP)      0.081     0.68           RC208 (25 vehicles)   0.015   0.138
#   rbg323 (ATSP)      1.16      8.67           X-n200-k36            0.031   0.237
#   rbg443 (ATSP)      4.29      ~36 (est.)     random n=500, ~10/route 0.21  1.24
#                                               random n=500, ~45/route 0.37  3.42
# A single long route costs ~n^4 (the ATSP rows), short routes ~n^2. The cost grows with
# VROOM's number of searches per level (helpers.h get_nb_searches: 4, 8, 12, 16, 24, 32);
# measured ratios to level 0 (rbg323, ftv170, kro124p): 1, 2.1, 3.1, 4.1, 6.6, 8.4.
_LEVEL_COST = (4, 8, 12, 16, 24, 32)
_LONG_ROUTE_S = 9.2e-10    # level-5 CPU s per n^2 x L^2 (L: customers per route)
_SHORT_ROUTE_S = 1.5e-5    # level-5 CPU s per n^2 (upper envelope of the VRP rows)
#: Share of the budget the estimated construction may take when the level is adapted.
_CONSTRUCTION_SHARE = 0.5
# Seconds kept back from the contract's bound for the fallback after a guarded run is killed.
_GUARD_MARGIN_S = 0.25
#: Time left (seconds) below which a run from a start is not followed by a cold run.
_MIN_COLD_S = 0.05
# VROOM splits its timeout evenly among its searches (src/problems/vrp.h: search_time =
# timeout / searches per thread), and a search that starts its first descent finishes it
# whatever its share. On time-window problems that descent is long. ACVRPTW from the
# 1001-point Monaco build, one thread, level 0 (4 searches), wall = constructions + 4 x
# max(share, descent): 1.62 s with a 0.4 s timeout at n = 500 (a 0.36 s descent), 7.8 s with
# 2 s at n = 1000 (1.7 s), within the timeout at n = 200 and 300 (descents under 0.1 s); at
# n = 500 level 5 (32 shares) ran 12.6 s with a 2 s timeout and 14.8 s with 10 s. Problems
# without time windows stayed within their shares (ACVRP n = 500: 0.05 s), so only time
# windows count. The fit through n = 500 and 1000: 0.36 s x (nodes / 501)^2.26.
_TW_DESCENT_S_AT_500 = 0.36
_DESCENT_EXPONENT = 2.26
#: A search's share must be this many times its estimated first descent.
_DESCENT_MARGIN = 1.25
#: The timeout that ends every search before its first descent (construction only).
_CONSTRUCTION_ONLY_S = 0.001


def construction_estimate(problem: Problem, level: int) -> float:
    """Estimated CPU seconds of VROOM's (uninterruptible) construction phase at ``level``.

    An upper envelope of the measurements above: max(a n^2 L^2, b n^2) at level 5, scaled
    by the level's relative cost, with L the customers per route (all of them for ATSP or a
    single vehicle, else the customers over the routes the total demand needs at least, at
    the largest vehicle type's capacity).
    """
    n = problem.num_nodes
    customers = max(problem.num_customers, 1)
    if problem.kind is ProblemKind.ATSP or problem.num_vehicles == 1:
        per_route = customers
    else:
        capacity = max(float(vt.capacity) for vt in problem.vehicle_types)
        routes = math.ceil(float(problem.demand.sum()) / capacity - 1e-9)
        per_route = customers / max(routes, 1)
    level5 = max(_LONG_ROUTE_S * n**2 * per_route**2, _SHORT_ROUTE_S * n**2)
    return level5 * _LEVEL_COST[level] / _LEVEL_COST[5]


def descent_estimate(problem: Problem) -> float:
    """Estimated wall seconds of one first descent of VROOM's local search (one thread): 0.36 s
    at ACVRPTW n = 500, growing as n^2.26 (the measurements above); 0 without time windows."""
    if not problem.kind.has_time_windows:
        return 0.0
    return _TW_DESCENT_S_AT_500 * (problem.num_nodes / 501) ** _DESCENT_EXPONENT


class VroomSolver(Solver):
    """VROOM's heuristics and local search (``pip install "hybridroute[vroom]"``).

    Custom matrices: the integer objective matrix is VROOM's costs matrix (so VROOM minimises
    exactly the rounded distance or travel time) and the integer durations drive the
    schedule. ATSP is one vehicle without capacity. Unlimited fleets get one vehicle per
    customer (per vehicle type).

    **Fleet.** VROOM vehicles are built vehicle type by vehicle type (``count`` of each, one
    per customer when unlimited), so every route's type is known. What is mapped natively:

    * ``multiple_depots``: a vehicle's ``start`` / ``end`` are its type's depots.
    * ``vehicle_types``: a capacity per vehicle (all types share one travel profile, as
      hybridroute's matrices do).
    * ``shifts``: a vehicle's time window is :meth:`Problem.route_window` of its type (depot
      opening hours intersected with the shift), its start moved by the start depot's
      service time, which hybridroute serves before the route leaves.
    * ``max_distance``: VROOM's vehicle ``max_distance``, over a distance matrix rounded
      up (and the limit rounded down), so VROOM never accepts a route that is too long in
      metres.
    * ``fixed_costs``: VROOM's vehicle ``costs.fixed``, in the objective's integer scale.
    * ``breaks``: a ``vroom.Break`` per break, its time window [earliest, latest] for the
      start and its duration as the service. VROOM takes every break of a used vehicle,
      while hybridroute requires one only from a route under way in [earliest, latest]: a
      break that no route of the type can need is left out, and one that could not end
      before the type's latest return makes the routes return by its earliest start
      instead (see :class:`~hybridroute.solvers.scaling.ScaledFleet`). A route VROOM makes
      wait for an unneeded break is re-timed without it by the evaluator. VROOM may also
      split the drive to the next stop around a break (or take it while waiting there),
      where hybridroute takes it at the previous stop before driving; the re-evaluation
      reports any lateness this leaves.

    Not supported: ``optional_stops`` (VROOM weighs unassigned jobs by priority, not by a
    prize in the objective's units) and ``max_duration``: VROOM's ``max_travel_time``
    counts driving only, while hybridroute's ``max_duration`` is the whole route (driving,
    service, waiting and breaks), so a route within VROOM's limit could exceed it.

    Jobs VROOM cannot fit are left unassigned; the evaluator reports the required ones as
    ``missing_visit`` violations. Their node indices are ``stats["unassigned_jobs"]`` and
    their number ``stats["unassigned"]``.

    Parameters
    ----------
    exploration_level
        VROOM's search depth, 0 (fastest) to 5 (most thorough, the default). With
        ``adapt_level`` it is the highest level used.
    threads
        Threads VROOM may use (its searches run in parallel).
    apply_time_limit
        Pass the time limit to VROOM as its timeout (default). Without it VROOM runs its
        full search, which is deterministic for a fixed ``threads`` and exploration level.
    adapt_level
        With a time limit, lower the exploration level until VROOM's estimated construction
        phase (which its timeout does not interrupt) takes at most half the limit (default
        True). The level used is ``stats["exploration_level"]``.
    scale
        Integers per objective unit; None picks the smallest power of ten that keeps rounding
        below 0.01 % within VROOM's 32-bit matrices (see :mod:`hybridroute.solvers.scaling`).
    time_scale
        Integers per second for durations and windows; None chooses one (rounding up).
    cold_after_start
        After a run from an accepted warm start, search cold in the time left and keep the
        better (default True; ``stats["cold_after_start"]``). From a start VROOM runs one
        local search instead of its construction heuristics and usually stops early.

    Notes
    -----
    VROOM's objective is the sum of arc costs (plus fixed costs): with
    ``objective="duration"`` it minimises travel time, not waiting; the reported cost is
    still hybridroute's full duration.
    A warm start is passed as vehicle ``steps``; VROOM refuses an infeasible one with an
    error, in which case the solve starts cold and ``stats["initial_accepted"]`` is False.
    With several vehicle types a start is used when it comes as a Solution (each route on a
    vehicle of its type); plain routes carry no types and are not used. VROOM replays a
    start with its own break placement and rejects some routes that need a break even when
    hybridroute's evaluator finds them feasible (its own routes included).
    VROOM takes no seed.

    **Time limit.** pyvroom's ``solve(exploration_level, nb_threads, timeout)`` hands the
    timeout to VROOM, which applies it to the local search only: the construction
    heuristics of all its searches (4 at level 0, 32 at level 5) always
    finish. On one long route that phase grows like n^4 (TSPLIB rbg323: 1.2 CPU s at level
    0, 8.7 at level 5), which is why level 5 took 14.5 s on rbg323 and 59 s on rbg443 at a
    5 s limit. ``adapt_level`` picks the highest level whose estimated construction
    (:func:`construction_estimate`, divided by the CPU share this process can expect)
    fits in half the limit. What remains: level 0 itself is not interruptible, so a limit
    below its construction is still overrun (rbg443: ~4.3 CPU s at level 0), and VROOM
    stops its local search within a few tenths of a second after the limit.
    """

    name = "vroom"
    supports = frozenset(ProblemKind)
    features: ClassVar[frozenset[str]] = frozenset(
        {"multiple_depots", "vehicle_types", "shifts", "max_distance", "fixed_costs", "breaks"})
    accepts_initial = True
    accepts_initial_types = True
    improves_initial: ClassVar[bool] = True
    requires = ("vroom",)
    extra = "vroom"
    deterministic = True
    default_time_limit = 10.0
    converges = True
    deterministic_settings: ClassVar[dict[str, Any]] = {"apply_time_limit": False}
    #: pyvroom matrices and time windows are uint32 (user units); keep a factor 2 of headroom.
    INTEGER_LIMITS: ClassVar[IntegerLimits] = IntegerLimits("vroom", 2**31, 2**31)

    def __init__(self, exploration_level: int = 5, threads: int = 1, apply_time_limit: bool = True,
                 scale: float | None = None, time_scale: float | None = None,
                 adapt_level: bool = True, cold_after_start: bool = True):
        if not 0 <= int(exploration_level) <= 5:
            raise ValueError(f"exploration_level must be 0..5, got {exploration_level}")
        if int(threads) < 1:
            raise ValueError(f"threads must be >= 1, got {threads}")
        for label, value in (("scale", scale), ("time_scale", time_scale)):
            if value is not None and not value > 0:
                raise ValueError(f"{label} must be positive or None, got {value}")
        self.exploration_level = int(exploration_level)
        self.threads = int(threads)
        self.apply_time_limit = bool(apply_time_limit)
        self.scale = scale
        self.time_scale = time_scale
        self.adapt_level = bool(adapt_level)
        self.cold_after_start = bool(cold_after_start)

    def _level(self, problem: Problem, seconds: float) -> int:
        """The exploration level to run: the highest (up to ``exploration_level``) whose
        estimated construction, in wall seconds at the current CPU share, fits in
        :data:`_CONSTRUCTION_SHARE` of ``seconds``; 0 when none does."""
        if not (self.adapt_level and self.apply_time_limit):
            return self.exploration_level
        speed = _speed(self.threads)
        for level in range(self.exploration_level, 0, -1):
            if (construction_estimate(problem, level) / speed <= _CONSTRUCTION_SHARE * seconds
                    and self._share_fits(problem, seconds, level)):
                return level
        return 0

    def _share_fits(self, problem: Problem, seconds: float, level: int) -> bool:
        """Whether each of the level's searches gets at least ``_DESCENT_MARGIN`` first descents
        of ``seconds``: VROOM splits its timeout among them, and a started descent runs to its
        end, so many short shares overrun the limit by a descent each."""
        searches_per_thread = math.ceil(_LEVEL_COST[level] / min(self.threads, usable_cores()))
        return seconds / searches_per_thread >= _DESCENT_MARGIN * descent_estimate(problem)

    def _construction_only(self, problem: Problem, seconds: float, level: int) -> bool:
        """Whether the local search must be skipped: with a time limit even the level's shares
        (level 0 when adapted) are too short for a first descent."""
        return self.apply_time_limit and math.isfinite(seconds) and not self._share_fits(problem, seconds, level)

    def _solve(self, problem: Problem, *, time_limit: float, seed: int,
               initial: list[list[int]] | None, initial_types: list[int] | None = None) -> SolveOutput:
        t0 = time.perf_counter()
        scaled = scale_problem(problem, self.INTEGER_LIMITS, cost_scale=self.scale,
                               time_scale=self.time_scale,
                               need_time=problem.kind.has_time_windows or _scheduled(problem))
        fleet = scale_fleet(problem, scaled, self.INTEGER_LIMITS)
        stats: dict[str, Any] = {"cost_scale": scaled.cost_scale, "time_scale": scaled.time_scale}
        vehicles = _vehicles(problem, fleet, stats, roomy=initial is not None)
        if not vehicles:
            return SolveOutput(routes=None, stats=stats,
                               message="no vehicle type has time for a route after rounding to integers")
        if initial is not None and len(problem.vehicle_types) > 1 and initial_types is None:
            stats["initial_accepted"] = False
            stats["initial_reason"] = ("routes without vehicle types (pass a Solution): with several types "
                                       "a warm start needs each route's type")
            initial = None
        steps = self._steps(problem, initial, initial_types, vehicles, stats)
        level = self._level(problem, time_limit - (time.perf_counter() - t0))
        stats["exploration_level"] = level
        stats["construction_estimate_s"] = round(construction_estimate(problem, level), 3)
        seconds_left = time_limit - (time.perf_counter() - t0)
        wall_estimate = construction_estimate(problem, level) / _speed(self.threads)
        if self.apply_time_limit and math.isfinite(time_limit) and wall_estimate > seconds_left:
            # killed at the contract's bound, not at the limit: a run that ends within the
            # slack keeps VROOM's routes
            bound = allowed_runtime(time_limit) - (time.perf_counter() - t0) - _GUARD_MARGIN_S
            stats["construction_wall_estimate_s"] = round(wall_estimate, 3)
            return self._solve_guarded(problem, scaled, fleet, vehicles, steps, seconds_left, bound, level,
                                       stats, initial, initial_types)
        solution = None
        if steps is not None:
            try:
                solution = self._run(problem, scaled, fleet, vehicles, steps, t0 + time_limit, level, stats)
                stats["initial_accepted"] = True
            except _vroom_errors() as exc:
                stats["initial_accepted"] = False
                stats["initial_reason"] = f"VROOM rejected it: {exc}"
                logger.info("vroom: warm start rejected (%s); cold start", exc)
        elif initial is not None:
            stats["initial_accepted"] = False
        if solution is None:
            try:
                solution = self._run(problem, scaled, fleet, vehicles, None, t0 + time_limit, level, stats)
            except _vroom_errors() as exc:
                raise SolverError(f"VROOM failed: {exc}") from exc
        history = [(time.perf_counter() - t0, scaled.to_cost(solution.summary.cost))]
        if stats.get("initial_accepted") and self.cold_after_start:
            solution, vehicles = self._cold_after_start(problem, scaled, fleet, solution, vehicles,
                                                        t0 + time_limit, stats)
            if stats["cold_after_start"].get("kept") == "cold":
                history.append((time.perf_counter() - t0, scaled.to_cost(solution.summary.cost)))
        routes, types, message, unassigned = _status(solution, vehicles)
        stats["unassigned"] = len(unassigned)
        stats["unassigned_jobs"] = unassigned
        return self._output(problem, routes, types, initial, initial_types, history, stats, message)

    def _cold_after_start(self, problem: Problem, scaled: ScaledProblem, fleet: ScaledFleet, warm,
                          warm_vehicles: list[int], deadline: float, stats: dict[str, Any]):
        """``(solution, its vehicles)``: the better of VROOM's run from a start and, in the time
        left, a cold run. From a start VROOM runs one local search instead of its construction
        heuristics and their searches, and stops well before the limit: rrnco+vroom, given the
        policy's start, ended 0.5-4.7 % above cold VROOM at n = 50-200 and 1-2 s on most cells
        (docs/benchmarks.md). The cold run is skipped when its level-0 construction is not
        estimated to fit in the time left (``stats["cold_after_start"]["skipped"]``)."""
        left = deadline - time.perf_counter()
        record: dict[str, Any] = {"start_cost": scaled.to_cost(warm.summary.cost)}
        stats["cold_after_start"] = record
        if left < _MIN_COLD_S or construction_estimate(problem, 0) / _speed(self.threads) > left:
            record["skipped"] = f"{max(left, 0.0):.3g} s left"
            return warm, warm_vehicles
        vehicles = _vehicles(problem, fleet, {}, roomy=False)
        level = self._level(problem, left)
        try:
            cold = self._run(problem, scaled, fleet, vehicles, None, deadline, level, record)
        except _vroom_errors() as exc:
            record["skipped"] = f"VROOM failed cold: {exc}"
            return warm, warm_vehicles
        record.update(cold_cost=scaled.to_cost(cold.summary.cost), cold_level=level, seconds=round(left, 3))

        def rank(solution) -> tuple[int, float]:  # every job assigned first, then the cost
            return len(_unassigned(solution)), float(solution.summary.cost)

        if rank(cold) < rank(warm):
            record["kept"] = "cold"
            return cold, vehicles
        record["kept"] = "start"
        return warm, warm_vehicles

    def _output(self, problem: Problem, routes, types, initial, initial_types, history,
                stats: dict[str, Any], message: str) -> SolveOutput:
        """The SolveOutput, with a feasible start kept when VROOM's answer is worse."""
        routes, restored = keep_better(problem, routes, initial, types, initial_types)
        if restored:
            stats["initial_restored"] = True
            types = initial_types
        return SolveOutput(routes=routes, history=[] if restored or routes is None else history, stats=stats,
                           message=message, vehicle_types=types if len(problem.vehicle_types) > 1 else None)

    def _solve_guarded(self, problem: Problem, scaled: ScaledProblem, fleet: ScaledFleet, vehicles: list[int],
                       steps, seconds: float, bound: float, level: int, stats: dict[str, Any],
                       initial, initial_types) -> SolveOutput:
        """VROOM in a side process killed at the deadline: its construction phase, which
        its timeout does not interrupt, is estimated to take longer than the time left.
        When it is killed the nearest-neighbour routes are returned (``stats["fallback"]``),
        or no routes for a problem with several depots or vehicle types, which those routes
        do not model."""
        from ._parallel import SideProcessError, call_before
        from .baselines import nearest_neighbour_routes

        t0 = time.perf_counter()
        stats["guarded"] = True
        try:
            routes, types, message, unassigned, cost = call_before(
                f"{__name__}:_side_solve", time.monotonic() + bound, settings=self.get_params(),
                problem=problem, scaled=scaled, fleet=fleet, vehicles=vehicles, steps=steps,
                deadline=time.monotonic() + seconds, level=level)
        except SideProcessError as exc:
            why = (f"VROOM's construction at n={problem.num_nodes} is estimated at "
                   f"{stats['construction_wall_estimate_s']:g} s at this process's CPU share, more than the "
                   f"{seconds:.3g} s left; stopped at the time limit's bound ({exc})")
            if problem.num_depots > 1 or len(problem.vehicle_types) > 1:
                logger.warning("vroom: %s; no routes (the fallback has one depot and one vehicle type)", why)
                stats.update(fallback="none", fallback_reason=why)
                # a feasible warm start is still returned
                return self._output(problem, None, None, initial, initial_types, [], stats,
                                    f"no fallback for this fleet: {why}")
            logger.warning("vroom: %s; returning the nearest-neighbour routes", why)
            stats.update(fallback="nearest", fallback_reason=why)
            return SolveOutput(routes=nearest_neighbour_routes(problem), stats=stats,
                               message=f"nearest-neighbour fallback: {why}")
        stats["unassigned"] = len(unassigned)
        stats["unassigned_jobs"] = unassigned
        history = [(time.perf_counter() - t0, scaled.to_cost(cost))]
        return self._output(problem, routes, types, initial, initial_types, history, stats, message)

    def _steps(self, problem: Problem, initial, initial_types, vehicles: list[int], stats: dict[str, Any]):
        """Vehicle steps (job ids = node indices) per VROOM vehicle, or None when unusable.

        A route goes to the next free vehicle of its type (``initial_types``; with one type,
        vehicles in order); a vehicle without a route gets no steps."""
        if initial is None:
            return None
        clean = clean_initial(problem, initial, initial_types)
        routes = clean.routes
        if clean.dropped:
            stats["initial_dropped"] = clean.dropped
        types = clean.types if clean.types is not None else [vehicles[0] if vehicles else 0] * len(routes or [])
        steps: list[list[int]] = [[] for _ in vehicles]
        reason = "empty" if routes is None else None
        for r, (route, t) in enumerate(zip(routes or [], types)):
            free = next((v for v, vt in enumerate(vehicles) if vt == t and not steps[v]), None)
            if free is None:
                reason = (f"{len(routes)} routes > {len(vehicles)} vehicles" if clean.types is None
                          else f"route {r}: no vehicle of type {t} left ({types.count(t)} routes of that type)")
                break
            steps[free] = route
        if reason is not None:
            stats["initial_reason"] = reason
            return None
        if sum(map(len, routes)) < problem.num_customers:
            stats["initial_partial"] = True  # VROOM assigns the other jobs itself
        return steps

    def _run(self, problem: Problem, scaled: ScaledProblem, fleet: ScaledFleet, vehicles: list[int],
             steps: list[list[int]] | None, deadline: float, level: int, stats: dict[str, Any] | None = None):
        """One VROOM solve; its searches stop at their first descent's start (constructions
        only, ``stats["local_search"]``) when their shares of the time left are too short for one."""
        vroom_input = _build_input(problem, scaled, fleet, vehicles, steps)
        kwargs: dict[str, Any] = {"exploration_level": level, "nb_threads": self.threads}
        if self.apply_time_limit and math.isfinite(deadline):
            remaining = max(deadline - time.perf_counter(), 0.01)
            if self._construction_only(problem, remaining, level):
                remaining = _CONSTRUCTION_ONLY_S
                if stats is not None:
                    stats["local_search"] = (f"skipped: a first descent is estimated at "
                                             f"{descent_estimate(problem):.3g} s, more than a search's share")
            kwargs["timeout"] = datetime.timedelta(seconds=remaining)
        return vroom_input.solve(**kwargs)


def _scheduled(problem: Problem) -> bool:
    """Whether VROOM needs the travel times although the problem has no time windows."""
    return any(vt.shift is not None or vt.breaks for vt in problem.vehicle_types)


def _vehicles(problem: Problem, fleet: ScaledFleet, stats: dict[str, Any], roomy: bool = False) -> list[int]:
    """The vehicle type of each VROOM vehicle (the vehicle id is the list index), type by type:
    ``count`` vehicles of a type, or one per customer when its count is None (ATSP: one).

    An unlimited type whose routes time windows or route limits bound gets the count of
    :func:`~hybridroute.solvers._backend.construction_fleet` instead (``stats["fleet_bound"]``),
    unless ``roomy`` (a warm start, which may have a route per customer): with 500 vehicles
    VROOM took 2.51-2.86 s on ACVRPTW n = 500 with 2 s, with 100 2.04-2.32 s.
    """
    if problem.kind is ProblemKind.ATSP:
        return [0]
    out: list[int] = []
    customers = problem.num_customers
    bound: int | None = None
    for t, vt in enumerate(problem.vehicle_types):
        if fleet.departure is not None and fleet.return_by[t] < fleet.departure[t]:
            # window shorter than the depot service (or emptied by rounding): no route fits
            stats.setdefault("unused_vehicle_types", []).append(t)
            continue
        count = vt.count
        if count is None:
            count = customers
            if not roomy and bounded_by_route_limits(problem, t):
                bound = construction_fleet(problem, customers) if bound is None else bound
                if bound < customers:
                    count = bound
                    stats["fleet_bound"] = "nearest-neighbour routes x 1.5 + 2"
        out += [t] * count
    return out


def _speed(threads: int) -> float:
    """CPU seconds per wall second this process can expect for VROOM's construction."""
    return cpu_share() * min(threads, usable_cores())


def _side_solve(settings: dict[str, Any], problem: Problem, scaled: ScaledProblem, fleet: ScaledFleet,
                vehicles: list[int], steps, deadline: float, level: int):
    """One VROOM solve in a side process (``deadline`` a ``time.monotonic()`` reading);
    returns (routes, their vehicle types, message, unassigned jobs, VROOM's cost)."""
    solver = VroomSolver(**settings)
    end = time.perf_counter() + (deadline - time.monotonic())
    try:
        solution = solver._run(problem, scaled, fleet, vehicles, steps, end, level) if steps else None
    except _vroom_errors():
        solution = None  # the warm start was rejected: cold start below
    if solution is None:
        solution = solver._run(problem, scaled, fleet, vehicles, None, end, level)
    routes, types, message, unassigned = _status(solution, vehicles)
    return routes, types, message, unassigned, solution.summary.cost


def _vroom_errors() -> tuple[type[BaseException], ...]:
    from vroom import _vroom

    return (_vroom.VroomInputException, _vroom.VroomInternalException, _vroom.VroomRoutingException)


def _status(solution, vehicles: list[int]) -> tuple[list[list[int]] | None, list[int], str, list[int]]:
    """VROOM's outcome in hybridroute terms (the one place that reads its routes): routes, each
    route's vehicle type (``vehicles[vehicle id]``), a message and the unassigned job ids
    (node indices, :func:`_unassigned`).

    VROOM proves nothing; jobs it could not fit are "unassigned" and the routes then miss
    them (the evaluator reports the missing visits).
    """
    frame = solution.routes
    pairs: list[tuple[int, list[int]]] = []
    if len(frame):
        jobs = frame[frame["type"] == "job"]
        for vehicle, group in jobs.groupby("vehicle_id", sort=True):
            pairs.append((vehicles[int(vehicle)], [int(v) for v in group["location_index"]]))
    pairs.sort()  # identical vehicles: VROOM may swap their routes between equal runs
    routes = [route for _, route in pairs]
    types = [t for t, _ in pairs]
    unassigned = _unassigned(solution)
    if not routes:
        return None, [], "VROOM assigned no job", unassigned
    message = f"VROOM left {len(unassigned)} jobs unassigned" if unassigned else ""
    return routes, types, message, unassigned


def _unassigned(solution) -> list[int]:
    """The job ids (node indices) VROOM left unassigned, sorted."""
    return sorted(int(job._id) for job in getattr(solution, "unassigned", ()))


def _build_input(problem: Problem, s: ScaledProblem, fleet: ScaledFleet, vehicles: list[int],
                 steps: list[list[int]] | None):
    """A ``vroom.Input``: location index = node, job id = node, vehicle ids 0..V-1 (vehicle v
    of type ``vehicles[v]``)."""
    import vroom

    n = problem.num_nodes
    has_tw = s.time_windows is not None
    timed = has_tw or _scheduled(problem)
    durations = s.duration if timed else np.zeros((n, n), dtype=np.int64)
    vroom_input = vroom.Input()
    # pyvroom reads the buffer row-major whatever its strides: always pass C order (a
    # Fortran-ordered matrix would be optimised as its transpose).
    vroom_input.set_durations_matrix("car", np.ascontiguousarray(durations, dtype=np.uint32))
    vroom_input.set_costs_matrix("car", np.ascontiguousarray(s.cost, dtype=np.uint32))
    if fleet.distance_up is not None:
        vroom_input.set_distances_matrix("car", np.ascontiguousarray(fleet.distance_up, dtype=np.uint32))
    for v, t in enumerate(vehicles):
        vt = problem.vehicle_types[t]
        kw: dict[str, Any] = {}
        if s.demand is not None:
            kw["capacity"] = [int(fleet.capacity[t])]
        if timed:
            # the departure includes the start depot's service (served before the route leaves)
            kw["time_window"] = vroom.TimeWindow(int(fleet.departure[t]), int(fleet.return_by[t]))
            kw["breaks"] = [vroom.Break(k, time_windows=[vroom.TimeWindow(int(e), int(lt))], service=int(d))
                            for k, (e, lt, d) in enumerate(fleet.breaks[t])]
        if fleet.max_distance[t] is not None:
            kw["max_distance"] = int(fleet.max_distance[t])
        if fleet.fixed_cost[t]:
            kw["costs"] = vroom.VehicleCosts(fixed=int(fleet.fixed_cost[t]))
        if steps is not None and v < len(steps) and steps[v]:
            kw["steps"] = ([vroom.VehicleStepStart()] + [vroom.VehicleStepSingle(j) for j in steps[v]]
                           + [vroom.VehicleStepEnd()])
        vroom_input.add_vehicle(vroom.Vehicle(v, start=vt.start_depot, end=vt.end, **kw))
    for i in problem.customers:
        kw = {}
        if s.demand is not None:
            kw["delivery"] = [int(s.demand[i])]
        if has_tw:
            kw["default_service"] = int(s.service_time[i])
            kw["time_windows"] = [vroom.TimeWindow(int(s.time_windows[i, 0]), int(s.time_windows[i, 1]))]
        vroom_input.add_job(vroom.Job(i, location=i, **kw))
    return vroom_input
