"""OR-Tools backend: the routing library (constraint programming + local search), v9.15."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from collections.abc import Mapping, Sequence
from typing import Any, Callable, ClassVar

import numpy as np

from ..fleet import FEATURES
from ..problem import Problem, ProblemKind
from ._backend import bounded_by_route_limits, clean_initial, construction_fleet, fleet_size, keep_better
from ._parallel import (SIDE_LATE_S, SideProcess, SideProcessError, check_workers, side_grace,
                        resolve_workers, start_side_processes)
from .base import SolveOutput, Solver, SolverError
from .scaling import IntegerLimits, ScaledProblem, scale_fleet, scale_problem

__all__ = ["ORToolsSolver", "ATSP_PORTFOLIO", "DEFAULT_FIRST_SOLUTION_STRATEGY"]

logger = logging.getLogger(__name__)

# routing_enums_pb2.RoutingSearchStatus, read in one place (see _status).
_ROUTING_SUCCESS = 1
_STATUS_NAMES = {
    0: "ROUTING_NOT_SOLVED", _ROUTING_SUCCESS: "ROUTING_SUCCESS",
    2: "ROUTING_PARTIAL_SUCCESS_LOCAL_OPTIMUM_NOT_REACHED", 3: "ROUTING_FAIL",
    4: "ROUTING_FAIL_TIMEOUT", 5: "ROUTING_INVALID", 6: "ROUTING_INFEASIBLE", 7: "ROUTING_OPTIMAL",
}


#: First solution strategy of a single search: the only one of OR-Tools' that finds a feasible
#: start on all 56 Solomon instances with their 25 vehicles (PATH_CHEAPEST_ARC does not).
DEFAULT_FIRST_SOLUTION_STRATEGY = "PARALLEL_CHEAPEST_INSERTION"

#: The default ATSP searches, run side by side (``workers``) or one after the other on equal
#: shares of the time limit (the best tour is kept). Measured on the 14 TSPLIB ATSP instances
#: of <= 100 nodes at 5 s (see the class notes): a single GLS run stalls for seconds between bursts of
#: improvement, at chaotic times, so two different runs beat one twice as long.
ATSP_PORTFOLIO: tuple[dict[str, Any], ...] = (
    {"first_solution_strategy": "LOCAL_CHEAPEST_INSERTION",
     "search_parameters": {"guided_local_search_lambda_coefficient": 0.5}},
    {"first_solution_strategy": "PATH_CHEAPEST_ARC",
     "search_parameters": {"guided_local_search_lambda_coefficient": 0.5}},
)


class ORToolsSolver(Solver):
    """OR-Tools routing with guided local search (``pip install "hybridroute[ortools]"``).

    ATSP is one vehicle from node 0; ACVRP and ACVRPTW get ``problem.num_vehicles`` vehicles,
    or when unlimited a fleet that always suffices (see
    :func:`hybridroute.solvers._backend.fleet_size`), at no fixed cost. Service times are
    folded into the time transit (``service[i] + duration[i, j]``), slack allows waiting,
    customers' cumul ranges are their windows, vehicles leave at the depot's opening and
    must be back by its closing. A duration objective adds a slack cost of 1 per second of
    waiting to the arc costs, so the objective is exactly the routes' total duration.

    Problems with fleet features (several depots, vehicle types, optional stops, shifts,
    route duration and distance limits, fixed costs, breaks; all of
    :data:`~hybridroute.fleet.FEATURES`) get the fleet model described under Notes, and
    their routes come back with each route's vehicle type.

    Parameters
    ----------
    first_solution_strategy
        An OR-Tools ``FirstSolutionStrategy`` name, or None (default): for ATSP the
        :data:`ATSP_PORTFOLIO` (with ``portfolio="auto"``), else
        ``PARALLEL_CHEAPEST_INSERTION``, which finds a feasible first solution on all 56
        Solomon instances with their 25 vehicles (``PATH_CHEAPEST_ARC``, OR-Tools' usual
        choice, does not). Naming a strategy runs that single search for every kind.
    fallback_strategies
        Strategies tried in turn (cold) when the first one finds nothing.
    metaheuristic
        A ``LocalSearchMetaheuristic`` name (default ``GUIDED_LOCAL_SEARCH``).
    solution_limit
        Optional cap on the number of solutions each search visits; with a generous time
        limit the runs are then reproducible (OR-Tools takes no seed).
    scale
        Integers per objective unit; None picks the smallest power of ten that keeps rounding
        below 0.01 % (see :mod:`hybridroute.solvers.scaling`).
    time_scale
        Integers per second for the time dimension; None chooses one (rounding up).
    search_parameters
        Further ``RoutingSearchParameters`` fields by dotted name, e.g.
        ``{"guided_local_search_lambda_coefficient": 0.5,
        "local_search_operators.use_tsp_opt": True, "lns_time_limit": 0.2}`` (booleans for
        ``OptionalBoolean`` fields, enum names as strings, seconds for durations, lists for
        repeated fields). Checked at construction; applied to every search.
    portfolio
        Searches run side by side in rounds of ``workers`` (each round an equal share of
        the time limit; with one worker, one after the other), the best solution kept: a
        sequence of dicts with keys ``first_solution_strategy`` and ``search_parameters`` (merged over the solver's). ``"auto"`` (default): the
        :data:`ATSP_PORTFOLIO` for ATSP when ``first_solution_strategy`` is None, one
        search otherwise. None: always one search. ``stats["portfolio"]`` lists each
        search's strategy, GLS lambda, status, cost and end time.
    workers
        How many portfolio searches run at once (the first in this process, the others in
        side processes, since an OR-Tools search holds the GIL). ``"auto"`` (default): one per
        usable core, but 1 inside a worker process (``solve_many``, Dask), which already runs
        one solve per core; see :mod:`hybridroute.solvers._parallel`. 1: one after the other,
        sharing the time limit. Only a portfolio uses more than one; ``stats["workers"]`` says
        how many ran.

    Notes
    -----
    A warm start goes through ``CloseModelWithParameters`` → ``ReadAssignmentFromRoutes`` →
    ``SolveFromAssignmentWithParameters``. OR-Tools rejects infeasible or partial routes by
    returning None; the solve then starts cold and ``stats["initial_accepted"]`` is False.
    In a portfolio one search starts from it, with the second member's search parameters, and
    the first member (its own construction, ``LOCAL_CHEAPEST_INSERTION`` in
    :data:`ATSP_PORTFOLIO`) still runs cold: that construction can be better than the start.
    Measured at ATSP n = 500 (held-out Helsinki): OR-Tools' insertion tour is 23,414 m after
    0.22 s, a neural start from 0.5 s 26,269 m; from that start the search ended at 26,037 m in
    1.5 s against 23,307 m cold, and rrnco+ortools at 2 s was 12 % worse than cold OR-Tools
    on 20 of 20 runs while the start took the insertion member's place.

    **Time limit.** OR-Tools checks its limit between neighbourhood scans, and on large
    time-window problems one scan of its first descent can take seconds. A time-window problem
    of :data:`KILLABLE_MIN_CUSTOMERS` customers or more with a limit of
    :data:`KILLABLE_MIN_LIMIT_S` or more (one vehicle type) therefore runs its search in a
    side process that sends each better solution as it finds it and is killed
    ``SIDE_LATE_S`` (0.2 s) after the limit if still running; the last solution it sent is
    the result (``stats["killed_at_deadline"]`` counts such searches).

    **Vehicles.** Without a fleet limit an ACVRP gets 2⌈Σ demand / capacity⌉ + 1 vehicles
    (always enough); a time-window problem gets half as many again as a feasible
    nearest-neighbour construction uses, plus two (``stats["fleet_bound"]``): one per customer
    slowed the local search so that it overran a 2 s limit by up to 1.3 s at n = 200. A warm
    start with more routes raises the count to fit it.

    **Fleet model.** One OR-Tools vehicle per vehicle of each type (an unlimited type gets
    the capacity packing bound when only capacity limits its routes, else the
    nearest-neighbour count above, and one per customer with a warm start),
    starting and ending at the type's depots, with the type's capacity, fixed cost (scaled
    like the objective) and time window (:meth:`~hybridroute.Problem.route_window`); an
    optional stop is a disjunction whose penalty is its prize; ``max_distance`` bounds a
    distance dimension over distances rounded up, ``max_duration`` the time dimension's span.
    Every rounding is conservative, so a route the model accepts is feasible for
    :func:`~hybridroute.evaluate`:

    * *Late departure.* The evaluator delays a route's start by the wait at its first stop
      only; the model caps each vehicle's start by the latest departure that reaches its
      first stop as it opens, so the model cannot shorten a route by leaving later still.
    * *Breaks* are interval variables of the time dimension, performed by used vehicles,
      between two services (pausing a drive or filling a wait, as in the evaluator); after
      the route only for routes back before the break's earliest start, which the evaluator
      does not ask to take it. Vehicles of a type with breaks leave at their earliest
      departure: the evaluator counts a route that rests before its first stop from its
      window start, so its duration is never longer than the model's span (it may be
      shorter, by the wait at the first stop, which makes a duration objective or
      ``max_duration`` slightly conservative for such types).
    * A warm start of several types is used when its routes can be given vehicles (a type
      that serves each route on its own, within the counts); otherwise it is ignored with
      ``stats["initial_reason"]``. Capacity packing starts are for one-type problems only.

    **Tight fleets.** When the total demand exceeds 90 % of what ``num_vehicles`` vehicles
    carry, every first-solution strategy of OR-Tools 9.15 can fail within milliseconds
    (ROUTING_FAIL on 8 of the 32 Fischetti ACVRPs). Without a user start, the search then
    starts from a capacity packing (:func:`~hybridroute.solvers.baselines.packing_routes`);
    the same packing is tried when the constructions find nothing on a looser fleet.
    ``stats["packing_start"]`` says ``"used"``, ``"rejected"`` or ``"none found"``.

    **ATSP settings.** One GLS search from parallel cheapest insertion with lambda 0.1
    ended 2.1-7.6 % above the optimum on ft53, ftv55, ftv64, ftv70 and kro124p
    at 5 s. Measured on the 14 TSPLIB instances of <= 100 nodes (OR-Tools 9.15, 1-2
    seconds of one core per run): GLS improves in bursts separated by seconds of
    stagnation, at chaotic times, so a single setting is a lottery per instance. No single
    first solution strategy (nine tried), metaheuristic (simulated annealing and tabu
    search are worse), lambda (0.05-1.0), integer scale (1-1000), operator set (tsp_opt,
    tsp_lns, relocate_neighbors, no 2-opt/LK, neighbour ratios, multi-armed bandit) or
    metaheuristic switching passed all 14. Lambda 0.5 helps (penalties are
    lambda x arc cost, truncated to integers, so 0.1 barely moves the many cheap arcs of
    the ftv instances), and two searches from different starts (local cheapest insertion,
    path cheapest arc) at 2.5 s each stayed within 1.54 % on all 14 where that single
    search missed 4-5 of them. With half a core (2.5 s of CPU per 5 s) the portfolio
    still misses some (ft53, ftv55, ft70 up to 2.8 %). OR-Tools 9.15's iterated local
    search (``use_iterated_local_search`` with ruin-and-recreate) stopped at the first
    local optimum on these instances.

    Why it is a lottery: with a fixed first solution, a GLS run visits the same sequence of
    solutions every time (no seed); only how far along that sequence it gets in the time
    limit varies. On ftv55 the path-cheapest-arc search reaches the optimum about 1.8-2.7 s
    into its run depending on the machine's load, so with a 2.5 s share it ends at 0.00 %
    on an idle core and at 2.80 % when another process shares the CPU. Two more ideas were
    measured on the 14 instances and dropped: switching off OR-Tools 9.15's
    insertion-based LNS operators (same speed in solutions per second, different
    trajectories) and starting GLS from an assignment-problem tour patched into one cycle
    (Karp; 0-12.5 % above the optimum in under 10 ms): GLS improved it slowly (kro124p
    still +5 % at 5 s, where the local cheapest insertion member reaches +0.4 %).

    **Side by side** (``workers``). Since the trajectories are fixed, what a
    search needs is time: with the two searches in separate processes, each gets the whole
    5 s, and on the 14 instances three runs on an idle 2-core machine gave the same tours
    every time, all within 1.54 % (ftv70; ftv55 at the optimum). With one core
    (``workers=1``) the lottery above still applies.
    """

    name = "ortools"
    supports = frozenset(ProblemKind)
    features = frozenset(FEATURES)
    accepts_initial = True
    accepts_initial_types = True
    improves_initial: ClassVar[bool] = True
    requires = ("ortools",)
    extra = "ortools"
    deterministic = True
    default_time_limit = 10.0
    deterministic_settings: ClassVar[dict[str, Any]] = {"solution_limit": 200}
    #: int64 throughout; GLS multiplies arc costs by penalties, so leave ample headroom.
    INTEGER_LIMITS: ClassVar[IntegerLimits] = IntegerLimits("ortools", 2**40, 2**44)

    def __init__(self, first_solution_strategy: str | None = None,
                 fallback_strategies: tuple[str, ...] = ("LOCAL_CHEAPEST_INSERTION", "SAVINGS"),
                 metaheuristic: str = "GUIDED_LOCAL_SEARCH", solution_limit: int | None = None,
                 scale: float | None = None, time_scale: float | None = None,
                 search_parameters: Mapping[str, Any] | None = None,
                 portfolio: str | Sequence[Mapping[str, Any]] | None = "auto",
                 workers: int | str = "auto"):
        from_names = _enum_checker()
        if first_solution_strategy is not None:
            from_names("FirstSolutionStrategy", first_solution_strategy)
        for s in fallback_strategies:
            from_names("FirstSolutionStrategy", s)
        from_names("LocalSearchMetaheuristic", metaheuristic)
        if solution_limit is not None and solution_limit < 1:
            raise ValueError(f"solution_limit must be >= 1 or None, got {solution_limit}")
        for label, value in (("scale", scale), ("time_scale", time_scale)):
            if value is not None and not value > 0:
                raise ValueError(f"{label} must be positive or None, got {value}")
        self.first_solution_strategy = first_solution_strategy
        self.fallback_strategies = tuple(fallback_strategies)
        self.metaheuristic = metaheuristic
        self.solution_limit = solution_limit
        self.scale = scale
        self.time_scale = time_scale
        self.search_parameters = dict(search_parameters or {})
        _check_overrides(self.search_parameters)
        self.portfolio = _check_portfolio(portfolio, from_names)
        self.workers = check_workers(workers)
        self._check_with_ortools()

    def _check_with_ortools(self) -> None:
        """Let OR-Tools validate every search's parameters now rather than at solve time
        (skipped without ortools)."""
        try:
            from ortools.constraint_solver import pywrapcp
        except ImportError:
            return
        searches = [(self.first_solution_strategy or DEFAULT_FIRST_SOLUTION_STRATEGY,
                     self.search_parameters)]
        if self.portfolio not in (None, "auto"):
            searches = [(m.get("first_solution_strategy", searches[0][0]),
                         {**self.search_parameters, **m.get("search_parameters", {})})
                        for m in self.portfolio]
        for strategy, overrides in searches:
            error = pywrapcp.FindErrorInRoutingSearchParameters(
                self._parameters(strategy, 1.0, overrides))
            if error:
                raise ValueError(f"OR-Tools rejects the search parameters: {error}")

    def _members(self, problem: Problem) -> list[tuple[str, dict[str, Any]]]:
        """The searches to run, as (first solution strategy, parameter overrides)."""
        portfolio = self.portfolio
        if portfolio == "auto":
            auto = problem.kind is ProblemKind.ATSP and self.first_solution_strategy is None
            portfolio = ATSP_PORTFOLIO if auto else None
        if not portfolio:
            strategy = self.first_solution_strategy or DEFAULT_FIRST_SOLUTION_STRATEGY
            return [(strategy, dict(self.search_parameters))]
        return [(m.get("first_solution_strategy", self.first_solution_strategy
                       or DEFAULT_FIRST_SOLUTION_STRATEGY),
                 {**self.search_parameters, **m.get("search_parameters", {})}) for m in portfolio]

    def _solve(self, problem: Problem, *, time_limit: float, seed: int,
               initial: list[list[int]] | None, initial_types: list[int] | None = None) -> SolveOutput:
        t0 = time.monotonic()
        deadline = t0 + time_limit
        members = self._members(problem)
        workers = resolve_workers(self.workers, len(members))
        killable = _killed_at_deadline(problem, time_limit)
        # Side processes start first: they import OR-Tools while this one builds its model.
        side = start_side_processes(_SIDE_TARGET, workers - 1 + killable)
        if killable and len(side) < workers:
            killable = False  # the OS refused the extra process: the first search runs here
        workers = len(side) + 1 - killable  # fewer when the OS refused a process
        try:
            return self._solve_members(problem, members, workers, side, t0, deadline, initial, initial_types,
                                       killable)
        finally:
            for process in side:
                process.close()

    def _solve_members(self, problem: Problem, members: list[tuple[str, dict[str, Any]]],
                       workers: int, side: list[SideProcess], t0: float, deadline: float,
                       initial: list[list[int]] | None, initial_types: list[int] | None,
                       killable: bool = False) -> SolveOutput:
        fleet = _uses_fleet_model(problem)
        scaled = scale_problem(problem, self.INTEGER_LIMITS, cost_scale=self.scale,
                               time_scale=self.time_scale,
                               need_time=True if fleet and _needs_time_dimension(problem) else None)
        stats: dict[str, Any] = {"cost_scale": scaled.cost_scale, "time_scale": scaled.time_scale}
        vehicle_type = None
        if fleet:
            # an unlimited type's packing bound must not make a warm start too big for the model
            vehicle_type = _fleet_vehicles(problem, roomy=bool(initial))
            vehicles = len(vehicle_type)
            if not initial and len(vehicle_type) < len(_fleet_vehicles(problem, sized=False)):
                stats["fleet_bound"] = "nearest-neighbour routes x 1.5 + 2"
        else:
            vehicles = fleet_size(problem)
            if problem.num_vehicles is None and problem.kind.has_time_windows:
                sized = construction_fleet(problem, vehicles)
                stats["fleet_bound"] = "nearest-neighbour routes x 1.5 + 2" if sized < vehicles else "one per customer"
                vehicles = sized
            if problem.num_vehicles is None and problem.kind is not ProblemKind.ATSP and initial:
                # An unlimited fleet must not make a feasible start too big for the model.
                start_routes = clean_initial(problem, initial).routes or []
                vehicles = max(vehicles, len(start_routes))
        run = _make_run(problem, scaled, vehicles, t0, vehicle_type)
        run.initial_types = initial_types
        stats["vehicles"] = run.num_vehicles
        best = _Best()
        packed = None
        # the capacity packing knows one vehicle type and every stop required
        if initial is None and not fleet and _tight_fleet(problem):
            # OR-Tools' constructions time out or fail under a nearly full fleet: start from a
            # capacity packing instead (recorded; the search is otherwise unchanged)
            from .baselines import packing_routes

            packed = packing_routes(problem)
            stats["packing_start"] = "used" if packed is not None else "none found"
        if len(members) > 1:
            stats["workers"] = workers
        first_start = initial if initial is not None else packed
        if initial is not None and len(members) > 1:
            # the start replaces the second member's construction, not the first's (see Notes)
            members = [members[1], members[0], *members[2:]]
        accepted = self._run_members(run, members, workers, deadline, first_start, best, side, killable)
        if killable:
            stats["killed_at_deadline"] = sum(bool(e.get("stopped_at_deadline")) for e in best.log)
        if packed is not None:
            stats["packing_start"] = "used" if accepted else "rejected"
        if initial is not None:
            stats["initial_accepted"] = accepted
            stats.update(run.start_notes)
        if len(members) > 1:
            stats["portfolio"] = best.log
        for strategy in self.fallback_strategies:
            # Cold fallbacks, only while nothing has been found.
            remaining = deadline - time.monotonic()
            if best.routes is not None or remaining < 0.05:
                break
            logger.info("ortools: %s found no solution (%s); trying %s", best.strategy,
                        _STATUS_NAMES.get(best.status), strategy)
            routes, types, status, _ = run.solve(self._parameters(strategy, remaining, members[0][1]), None)
            best.offer(problem, routes, status, strategy, members[0][1], time.monotonic() - t0, types)
        # a packing already tried up front (found or not) is not searched for again
        if best.routes is None and initial is None and "packing_start" not in stats and not fleet:
            self._packing_fallback(problem, run, members[0][1], deadline, best, stats)
        routes, types, status = best.routes, best.types, best.status
        stats["first_solution_strategy"] = best.strategy
        stats["status"] = _STATUS_NAMES.get(status, str(status))
        proven, message = _status(status, routes is not None)
        if "fleet_bound" in stats and (fleet or run.num_vehicles < fleet_size(problem)):
            proven = False  # optimal for the sized fleet, not proven for an unlimited one
        if fleet:
            routes, restored = keep_better(problem, routes, run.start_routes, types, run.start_types)
            types = list(run.start_types) if restored else types
        else:
            routes, restored = keep_better(problem, routes, initial)
        if restored:
            stats["initial_restored"] = True
            proven = False
        return SolveOutput(routes=routes, history=run.history, stats=stats, proven_optimal=proven,
                           message=message, vehicle_types=types if fleet else None)

    def _run_members(self, run: "_Run", members: list[tuple[str, dict[str, Any]]], workers: int,
                     deadline: float, start: list[list[int]] | None, best: "_Best",
                     side: list[SideProcess], killable: bool = False) -> bool:
        """Run the searches in rounds of ``workers`` at once, each round an equal share of
        the time left (time a round does not use goes to the next). The first search of a
        round runs here, the others in side processes (``side``: already started for the
        first round); only the very first search starts from ``start``. ``killable``: the
        first search runs in a side process too, which sends each better solution and is
        killed shortly after the round's end (:func:`_killed_at_deadline`). Returns whether
        OR-Tools accepted ``start``."""
        rounds = [members[i:i + workers] for i in range(0, len(members), workers)]
        accepted = False
        for r, group in enumerate(rounds):
            remaining = deadline - time.monotonic()
            if r and remaining < 0.05:
                break
            share = remaining / (len(rounds) - r)
            round_end = time.monotonic() + share
            if r:
                side = start_side_processes(_SIDE_TARGET, len(group) - 1 + killable)
            here = not killable or len(side) < len(group)  # the first search runs in this process
            away = group[1:] if here else group
            try:
                sent = [self._send_side(run, process, strategy, overrides, share, round_end, best,
                                        stream=killable, initial=start if r == 0 and k == 0 and not here else None)
                        for k, (process, (strategy, overrides)) in enumerate(zip(side, away))]
                if here:
                    strategy, overrides = group[0]
                    routes, types, status, ok = run.solve(self._parameters(strategy, share, overrides),
                                                          start if r == 0 else None, end=round_end)
                    accepted = accepted or (r == 0 and ok)
                    best.offer(run.problem, routes, status, strategy, overrides,
                               time.monotonic() - run.t0, types)
                for k, (process, (strategy, overrides), ok) in enumerate(zip(side, away, sent)):
                    if ok:
                        took = self._collect_side(run, process, round_end, strategy, overrides, best, killable)
                        accepted = accepted or (r == 0 and k == 0 and not here and took)
            finally:
                for process in side:
                    process.close()
        return accepted

    def _send_side(self, run: "_Run", process: SideProcess, strategy: str,
                   overrides: Mapping[str, Any], share: float, round_end: float,
                   best: "_Best", stream: bool = False, initial: list[list[int]] | None = None) -> bool:
        try:
            process.send(problem=run.problem, scaled=run.scaled, num_vehicles=run.num_vehicles,
                         params_bytes=self._parameters(strategy, share, overrides).SerializeToString(),
                         round_end=round_end, t0=run.t0, stream=stream, initial=initial)
            return True
        except SideProcessError as exc:
            _side_failed(run, strategy, exc, best)
            return False

    @staticmethod
    def _collect_side(run: "_Run", process: SideProcess, round_end: float, strategy: str,
                      overrides: Mapping[str, Any], best: "_Best", killable: bool = False) -> bool:
        """A side search's outcome into ``best``; a crashed or stuck one is logged and skipped.
        ``killable``: a search still running ``SIDE_LATE_S`` past ``round_end`` that has sent a
        solution is killed, and the last solution it sent is offered. Returns whether the
        search accepted its warm start."""
        latest = process.progress() if killable and not process.finished(round_end + SIDE_LATE_S) else None
        if latest is not None:
            routes, types, history, accepted = latest
            process.close()
            run.history.extend(history)
            # the status OR-Tools reports when its search ends at the limit with a solution
            best.offer(run.problem, routes, _ROUTING_SUCCESS, strategy, overrides, time.monotonic() - run.t0, types)
            best.log[-1]["stopped_at_deadline"] = True
            return accepted
        try:
            routes, types, status, history, elapsed, accepted, notes = process.result(
                round_end + side_grace(best.routes is not None))
        except SideProcessError as exc:
            _side_failed(run, strategy, exc, best)
            return False
        run.history.extend(history)
        run.start_notes.update(notes)
        best.offer(run.problem, routes, status, strategy, overrides, elapsed, types)
        return accepted

    def _packing_fallback(self, problem: Problem, run: "_Run", overrides: Mapping[str, Any], deadline: float,
                          best: "_Best", stats: dict[str, Any]) -> None:
        """Under a tight fleet OR-Tools' constructions can all fail within milliseconds
        (ROUTING_FAIL on 8 of the 32 Fischetti ACVRPs): start its search from a capacity
        packing instead (:func:`~hybridroute.solvers.baselines.packing_routes`)."""
        from .baselines import packing_routes

        remaining = deadline - time.monotonic()
        start = packing_routes(problem) if remaining >= 0.05 else None
        stats["packing_start"] = "none found" if start is None else "used"
        if start is None:
            return
        strategy = self.first_solution_strategy or DEFAULT_FIRST_SOLUTION_STRATEGY
        routes, _, status, accepted = run.solve(self._parameters(strategy, remaining, overrides), start)
        if not accepted:
            stats["packing_start"] = "rejected"  # e.g. late under time windows
            return
        best.offer(problem, routes, status, "packing start", overrides, time.monotonic() - run.t0)

    def _parameters(self, strategy: str, seconds: float, overrides: Mapping[str, Any] = ()):
        from ortools.constraint_solver import pywrapcp, routing_enums_pb2

        params = pywrapcp.DefaultRoutingSearchParameters()
        params.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, strategy)
        params.local_search_metaheuristic = getattr(
            routing_enums_pb2.LocalSearchMetaheuristic, self.metaheuristic)
        _apply_overrides(params, dict(overrides))
        params.time_limit.FromMilliseconds(max(int(seconds * 1000), 10))
        if self.solution_limit is not None:
            params.solution_limit = int(self.solution_limit)
        return params


def _side_failed(run: "_Run", strategy: str, exc: Exception, best: "_Best") -> None:
    logger.warning("ortools: side search %s lost: %s", strategy, exc)
    best.log.append({"first_solution_strategy": strategy, "status": "side process failed",
                     "error": str(exc)[:300], "seconds": round(time.monotonic() - run.t0, 3)})


_SIDE_TARGET = f"{__name__}:_side_search"

#: Time-window problems of at least this many customers with a limit of at least
#: ``KILLABLE_MIN_LIMIT_S`` run their search in a side process that is killed at the deadline.
#: OR-Tools checks its time limit between neighbourhood scans, and at this size one scan of its
#: first descent takes seconds: at ACVRPTW n = 500 (held-out Helsinki, 10 s) it returned after
#: 10.1-12.6 s (median 11.7 s, 20 runs on an otherwise idle machine), beyond the contract's
#: 11.5 s; at n = 300 after at most 10.55 s, and at n = 500 with 1-2 s within 1.25 s / 2.03 s
#: (``benchmarks/results/time_to_target_acvrptw500_max200.csv``; docs/decisions.md). The side
#: process costs its start (0.3-0.6 s of importing OR-Tools) and one route extraction per better
#: solution.
KILLABLE_MIN_CUSTOMERS = 400
KILLABLE_MIN_LIMIT_S = 5.0


def _killed_at_deadline(problem: Problem, time_limit: float) -> bool:
    """Whether OR-Tools runs its searches where they can be killed at the deadline (see
    :data:`KILLABLE_MIN_CUSTOMERS`); the fleet model keeps the in-process search."""
    return (problem.kind.has_time_windows and problem.num_customers >= KILLABLE_MIN_CUSTOMERS
            and KILLABLE_MIN_LIMIT_S <= time_limit < math.inf and not _uses_fleet_model(problem))


class _CurrentSolution:
    """Reads variables the way an ``Assignment`` does, from the solution a callback is
    accepting (its variables are bound then)."""

    @staticmethod
    def Value(var) -> int:  # noqa: N802 -- OR-Tools' Assignment.Value
        return var.Value()


_CURRENT_SOLUTION = _CurrentSolution()


def _side_search(problem: Problem, scaled: ScaledProblem, num_vehicles: int, params_bytes: bytes,
                 round_end: float, t0: float, stream: bool = False, initial: list[list[int]] | None = None):
    """One portfolio search in a side process: (routes, their vehicle types or None, status,
    history, seconds since t0, whether it accepted ``initial``, notes on the start).

    ``stream``: send each better solution to the caller as it is found (see ``_Run.progress``),
    so that the caller may kill the search at its deadline.

    ``round_end`` and ``t0`` are ``time.monotonic()`` readings of the calling process (the
    clock is system-wide), so the time the side process took to start is not given twice.
    """
    from ortools.constraint_solver import routing_parameters_pb2

    params = routing_parameters_pb2.RoutingSearchParameters()
    params.ParseFromString(params_bytes)
    run = _make_run(problem, scaled, num_vehicles, t0)
    if stream:
        from ._parallel import report_progress

        run.progress = report_progress
    routes, types, status, accepted = run.solve(params, initial, end=round_end)
    return routes, types, status, run.history, time.monotonic() - t0, accepted, run.start_notes


#: Total demand above this share of the fleet's capacity counts as a tight fleet.
TIGHT_FLEET = 0.9


def _tight_fleet(problem: Problem) -> bool:
    if problem.demand is None or problem.num_vehicles is None:
        return False
    return float(sum(problem.demand)) > TIGHT_FLEET * problem.num_vehicles * float(problem.capacity)


@dataclass
class _Best:
    """The best outcome of the searches run so far (feasible first, then cheapest)."""

    routes: list[list[int]] | None = None
    types: list[int] | None = None
    status: int = 0
    strategy: str | None = None
    key: tuple[bool, float] | None = None
    log: list[dict[str, Any]] = field(default_factory=list)

    def offer(self, problem: Problem, routes, status: int, strategy: str,
              overrides: Mapping[str, Any], elapsed: float, types: list[int] | None = None) -> None:
        from ..solution import evaluate

        entry: dict[str, Any] = {"first_solution_strategy": strategy, "status":
                                 _STATUS_NAMES.get(status, str(status)), "seconds": round(elapsed, 3)}
        if "guided_local_search_lambda_coefficient" in overrides:
            entry["gls_lambda"] = overrides["guided_local_search_lambda_coefficient"]
        key = None
        if routes is not None:
            sol = evaluate(problem, routes, vehicle_types=types)
            key = (not sol.is_feasible, sol.cost)
            entry["cost"] = sol.cost
        self.log.append(entry)
        if self.strategy is None or (key is not None and (self.key is None or key < self.key)):
            self.routes, self.types, self.status, self.strategy, self.key = routes, types, status, strategy, key


def _check_portfolio(portfolio, from_names):
    """Validate ``portfolio``: "auto", None, or a sequence of member settings."""
    if portfolio is None or portfolio == "auto":
        return portfolio
    if isinstance(portfolio, (str, bytes)) or not isinstance(portfolio, Sequence):
        raise ValueError(f'portfolio must be "auto", None or a sequence of dicts, got {portfolio!r}')
    members = []
    for i, member in enumerate(portfolio):
        if not isinstance(member, Mapping):
            raise ValueError(f"portfolio[{i}] must be a dict, got {type(member).__name__}")
        unknown = set(member) - {"first_solution_strategy", "search_parameters"}
        if unknown:
            raise ValueError(f"portfolio[{i}]: unknown keys {sorted(unknown)} (allowed: "
                             "first_solution_strategy, search_parameters)")
        if "first_solution_strategy" in member:
            from_names("FirstSolutionStrategy", member["first_solution_strategy"])
        _check_overrides(member.get("search_parameters", {}))
        members.append({k: (dict(v) if isinstance(v, Mapping) else v) for k, v in member.items()})
    return tuple(members)


def _enum_checker():
    """A validator for OR-Tools enum names (a no-op when ortools is not installed: solving
    then fails with the ``pip install`` hint, and names are checked when it is)."""
    try:
        from ortools.constraint_solver import routing_enums_pb2
    except ImportError:
        return lambda enum_name, value: None

    def check(enum_name: str, value: str) -> None:
        values = getattr(routing_enums_pb2, enum_name).Value.keys()
        if value not in values or value in ("UNSET",):
            raise ValueError(f"unknown OR-Tools {enum_name} {value!r}; known: {', '.join(values)}")

    return check


#: Fields hybridroute sets itself; ``search_parameters`` may not touch them.
_RESERVED_FIELDS = frozenset({"time_limit", "solution_limit", "first_solution_strategy",
                              "local_search_metaheuristic"})


def _apply_overrides(params, overrides: Mapping[str, Any]) -> None:
    """Set ``RoutingSearchParameters`` fields named by dotted paths.

    ``{"local_search_operators.use_tsp_opt": True, "guided_local_search_lambda_coefficient":
    0.5, "lns_time_limit": 0.2}``: booleans map onto ``OptionalBoolean`` fields, strings onto
    enum value names, numbers onto ``Duration`` fields (seconds) and scalars. Unknown names
    and wrong types raise ValueError naming the key.
    """
    for key, value in overrides.items():
        *path, leaf = key.split(".")
        if not path and leaf in _RESERVED_FIELDS:
            raise ValueError(f"search_parameters[{key!r}]: set through the solver's own "
                             "argument (first_solution_strategy, metaheuristic, time limit)")
        msg = params
        for part in path:
            if part not in msg.DESCRIPTOR.fields_by_name:
                raise ValueError(f"search_parameters[{key!r}]: OR-Tools has no field {part!r}")
            msg = getattr(msg, part)
        field = msg.DESCRIPTOR.fields_by_name.get(leaf)
        if field is None:
            raise ValueError(f"search_parameters[{key!r}]: OR-Tools has no field {leaf!r} in "
                             f"{msg.DESCRIPTOR.name}")
        try:
            _set_field(msg, field, value)
        except (TypeError, ValueError, KeyError) as exc:
            raise ValueError(f"search_parameters[{key!r}] = {value!r}: {exc}") from None


def _set_field(msg, field, value: Any) -> None:
    if _is_repeated(field):
        if field.message_type is not None or isinstance(value, (str, bytes)):
            raise TypeError(f"{field.name} is a repeated field; pass a list of scalars or names")
        items = [_scalar(field, v) for v in value]
        container = getattr(msg, field.name)
        del container[:]
        container.extend(items)
    elif field.message_type is not None:
        if field.message_type.full_name != "google.protobuf.Duration":
            raise TypeError(f"{field.name} is a message; name one of its fields with a dot")
        getattr(msg, field.name).FromNanoseconds(int(round(float(value) * 1e9)))
    else:
        setattr(msg, field.name, _scalar(field, value))


def _is_repeated(field) -> bool:
    # protobuf >= 5 has is_repeated (label() is deprecated); older releases only label.
    flag = getattr(field, "is_repeated", None)
    if flag is None:
        return field.label == field.LABEL_REPEATED
    return bool(flag() if callable(flag) else flag)


def _scalar(field, value: Any) -> Any:
    """An enum name (or a bool for ``OptionalBoolean``) as its number; other scalars as is."""
    if field.enum_type is None:
        return value
    names = field.enum_type.values_by_name
    if isinstance(value, bool) and "BOOL_TRUE" in names:
        value = "BOOL_TRUE" if value else "BOOL_FALSE"
    if not isinstance(value, str) or value not in names:
        raise ValueError(f"expected one of {', '.join(names)}")
    return names[value].number


def _check_overrides(overrides: Mapping[str, Any]) -> None:
    """Validate ``search_parameters`` at construction (skipped without ortools)."""
    try:
        from ortools.constraint_solver import pywrapcp
    except ImportError:
        return
    _apply_overrides(pywrapcp.DefaultRoutingSearchParameters(), overrides)


def _status(status: int, found: bool) -> tuple[bool, str]:
    """OR-Tools' search status in hybridroute terms: (proven optimal, message).

    Only ROUTING_OPTIMAL is a proof; SUCCESS / PARTIAL_SUCCESS / FAIL_TIMEOUT with a solution
    are feasible-or-not as the evaluator finds; without routes the message says why.
    """
    name = _STATUS_NAMES.get(status, f"status {status}")
    if found:
        return status == 7, ""
    if status == 6:
        return False, "OR-Tools proved the model infeasible (ROUTING_INFEASIBLE)"
    if status == 5:
        raise SolverError("OR-Tools rejected the model (ROUTING_INVALID)")
    return False, f"OR-Tools found no solution ({name})"


@dataclass
class _Run:
    """One OR-Tools model of a problem; routes are read before the model is dropped."""

    problem: Problem
    scaled: ScaledProblem
    num_vehicles: int
    t0: float
    history: list[tuple[float, float]] = field(default_factory=list)
    start_notes: dict[str, Any] = field(default_factory=dict)
    #: The warm start's vehicle type per route, when it came as a Solution (fleet model only).
    initial_types: list[int] | None = None
    #: The warm start as read into the model, with each route's vehicle type (fleet model).
    start_routes: list[list[int]] | None = None
    start_types: list[int] | None = None
    #: In a side process that may be killed at its deadline: called with each better solution
    #: as (routes, their vehicle types or None, the history so far, whether the search started
    #: from the warm start).
    progress: Callable[[Any], None] | None = None
    start_accepted: bool = False

    def solve(self, params, initial: list[list[int]] | None, end: float | None = None):
        """Build, close and solve the model; return (routes, their vehicle types or None,
        status, start accepted).

        ``end``: a ``time.monotonic()`` reading the search must stop by; the time limit is
        then set after the model is built (building is not covered by OR-Tools' limit).
        """
        manager, routing = self._model()
        routing.AddAtSolutionCallback(lambda: self._record(routing, manager))
        routing.CloseModelWithParameters(params)
        start = self._read_start(manager, routing, initial)
        self.start_accepted = start is not None
        if end is not None:
            params.time_limit.FromMilliseconds(max(int((end - time.monotonic()) * 1000), 10))
        if start is not None:
            assignment = routing.SolveFromAssignmentWithParameters(start, params)
        else:
            assignment = routing.SolveWithParameters(params)
        routes, types = (None, None) if assignment is None else self._extract(manager, routing, assignment)
        return routes, types, int(routing.status()), start is not None

    def _extract(self, manager, routing, assignment):
        return _extract(manager, routing, assignment)[0], None

    def _record(self, routing, manager) -> None:
        # Fires on every solution GLS accepts, improving or not: keep the running minimum.
        cost = self.scaled.to_cost(routing.CostVar().Value())
        if not self.history or cost < self.history[-1][1]:
            seconds = time.monotonic() - self.t0
            self.history.append((seconds, cost))
            if self.progress is not None:
                routes, types = self._extract(manager, routing, _CURRENT_SOLUTION)
                self.progress((routes, types, list(self.history), self.start_accepted))

    def _model(self):
        from ortools.constraint_solver import pywrapcp

        s, p = self.scaled, self.problem
        n = p.num_nodes
        manager = pywrapcp.RoutingIndexManager(n, self.num_vehicles, 0)
        routing = pywrapcp.RoutingModel(manager)
        if p.objective == "duration" and s.time_windows is not None:
            arc = routing.RegisterTransitMatrix(_time_transit(s))
        else:
            arc = routing.RegisterTransitMatrix(s.cost.tolist())
        routing.SetArcCostEvaluatorOfAllVehicles(arc)
        if s.demand is not None:
            demand = routing.RegisterUnaryTransitVector([int(q) for q in s.demand])
            routing.AddDimensionWithVehicleCapacity(demand, 0, [int(s.capacity)] * self.num_vehicles,
                                                    True, "Capacity")
        if s.time_windows is not None:
            self._time_dimension(manager, routing)
        return manager, routing

    def _time_dimension(self, manager, routing) -> None:
        s, p = self.scaled, self.problem
        transit = routing.RegisterTransitMatrix(_time_transit(s))
        horizon = int(s.horizon)
        routing.AddDimension(transit, horizon, horizon, False, "Time")
        dim = routing.GetDimensionOrDie("Time")
        tw = s.time_windows
        for node in range(1, p.num_nodes):
            dim.CumulVar(manager.NodeToIndex(node)).SetRange(int(tw[node, 0]), int(tw[node, 1]))
        for v in range(self.num_vehicles):
            # Vehicles leave at the depot's opening (the evaluator's convention).
            dim.CumulVar(routing.Start(v)).SetRange(int(tw[0, 0]), int(tw[0, 0]))
            dim.CumulVar(routing.End(v)).SetRange(int(tw[0, 0]), int(tw[0, 1]))
        if p.objective == "duration":
            # Arc costs count travel + service; the slack is the waiting: together, the span.
            dim.SetSlackCostCoefficientForAllVehicles(1)

    def _read_start(self, manager, routing, initial):
        """The warm start as an OR-Tools assignment, or None (then the solve starts cold)."""
        if initial is None:
            return None
        clean = clean_initial(self.problem, initial)
        if clean.dropped:
            self.start_notes["initial_dropped"] = clean.dropped
        if clean.routes is None or len(clean.routes) > self.num_vehicles or not clean.complete:
            reason = ("empty" if clean.routes is None else "partial (customers missing)"
                      if not clean.complete else f"{len(clean.routes)} routes > {self.num_vehicles} vehicles")
            self.start_notes["initial_reason"] = reason
            logger.info("ortools: warm start not usable (%s); cold start", reason)
            return None
        padded = [[manager.NodeToIndex(v) for v in r] for r in clean.routes]
        padded += [[] for _ in range(self.num_vehicles - len(padded))]
        start = routing.ReadAssignmentFromRoutes(padded, True)
        if start is None:
            self.start_notes["initial_reason"] = "OR-Tools rejected it (infeasible)"
            logger.info("ortools: ReadAssignmentFromRoutes rejected the warm start; cold start")
        return start


# -- the fleet model --------------------------------------------------------------------------

#: Vehicle-type features that need the time dimension.
_TIME_LIMITS = frozenset({"shifts", "max_duration", "breaks"})
# Float noise ignored when flooring scaled times (as in scaling._round).
_FLOOR_EPS = 1e-7


def _uses_fleet_model(problem: Problem) -> bool:
    """Whether ``problem`` uses any :data:`~hybridroute.fleet.FEATURES` (the fleet model);
    problems without them keep the one-depot, one-type model."""
    return bool(problem.features)


def _needs_time_dimension(problem: Problem) -> bool:
    """Whether the fleet model schedules time: windows, or a type with a shift, a route
    duration limit or breaks (a duration objective alone sums travel times as arc costs)."""
    if problem.duration is None:
        return False
    return problem.time_windows is not None or any(
        vt.features & _TIME_LIMITS for vt in problem.vehicle_types)


def _fleet_vehicles(problem: Problem, roomy: bool = False, sized: bool = True) -> list[int]:
    """The vehicle type of each OR-Tools vehicle: ``count`` vehicles per type, and for an
    unlimited type as many as can ever be useful (see :func:`_unlimited_count`), or with
    ``roomy`` one per customer (room for any warm start).

    An unlimited type whose routes time windows or route limits bound (one per customer by
    :func:`_unlimited_count`) gets the count of
    :func:`~hybridroute.solvers._backend.construction_fleet` instead, for the same reason as
    without fleet features: at ACVRPTW n = 200 with a fixed cost per vehicle (8 instances), 200
    vehicles left the first descent unfinished and overran 2 s by up to 1.27 s; 65-87 ran within
    0.23 s. ``sized=False`` leaves them one per customer."""
    out: list[int] = []
    customers = max(1, problem.num_customers)
    bound: int | None = None
    for t, vt in enumerate(problem.vehicle_types):
        if vt.count is not None:
            out += [t] * vt.count
            continue
        count = _unlimited_count(problem, t, roomy)
        if sized and not roomy and bounded_by_route_limits(problem, t):
            if bound is None:
                bound = construction_fleet(problem, customers)
            count = min(count, bound)
        out += [t] * count
    return out


def _unlimited_count(problem: Problem, t: int, roomy: bool = False) -> int:
    """Vehicles to offer for an unlimited type ``t``: one per customer, or, when nothing but
    capacity limits its routes (and not ``roomy``), the packing bound of
    :func:`~hybridroute.solvers._backend.fleet_size` for its capacity."""
    vt = problem.vehicle_types[t]
    customers = max(1, problem.num_customers)
    if roomy or bounded_by_route_limits(problem, t) or problem.demand is None:
        return customers
    need = math.ceil(float(problem.demand.sum()) / float(vt.capacity) - 1e-9)
    return max(1, min(customers, 2 * need + 1))


def _make_run(problem: Problem, scaled: ScaledProblem, num_vehicles: int, t0: float,
              vehicle_type: list[int] | None = None) -> "_Run":
    """The model of ``problem``: the fleet model when it uses fleet features (with
    ``vehicle_type`` from :func:`_fleet_vehicles` when the caller has it)."""
    if _uses_fleet_model(problem):
        return _FleetRun(problem, scaled, num_vehicles, t0, vehicle_type=list(vehicle_type or []))
    return _Run(problem, scaled, num_vehicles, t0)


def _floor_scaled(value: float, scale: float) -> int:
    x = float(value) * scale
    return int(math.floor(x + _FLOOR_EPS * max(1.0, abs(x))))


def _ceil_scaled(value: float, scale: float) -> int:
    x = float(value) * scale
    return int(math.ceil(x - _FLOOR_EPS * max(1.0, abs(x))))


@dataclass
class _TypeTimes:
    """One vehicle type's time data in the time dimension's integers.

    ``departure``: earliest departure (after the start depot's service); ``return_by``:
    latest return, lowered where a break could not be taken in time (routes of the type then
    stay clear of needing it); ``breaks``: ``(earliest start, latest start, duration,
    earliest start rounded down)`` of each break a route may need, the earliest start raised
    to the departure.
    """

    departure: int
    return_by: int
    breaks: list[tuple[int, int, int, int]]


@dataclass
class _FleetRun(_Run):
    """The OR-Tools model of a problem with fleet features.

    One OR-Tools vehicle per vehicle (:func:`_fleet_vehicles`), each starting and ending at
    its type's depots. Capacity, ``max_distance`` (a distance dimension over distances
    rounded up) and the time dimension are per vehicle; fixed costs are vehicle fixed costs,
    optional stops disjunctions whose penalty is their prize. Time is measured from the
    departure after the start depot's service (its service is added to the fixed cost under
    a duration objective, where the evaluator counts it in the route's duration).

    Late departure: the evaluator starts a route so that it does not wait at its first stop,
    but schedules everything after that stop as early as possible. A vehicle's start cumul is
    therefore capped by the latest departure that reaches its first stop as it opens (an
    element constraint on the start's successor), so a span (duration) in the model is never
    shorter than the evaluator's. A type with breaks leaves at its earliest departure
    instead: the evaluator counts a route that rests before its first stop from its window
    start, and the model stays conservative.

    Breaks: interval variables in the time dimension, performed when the vehicle is used,
    kept out of services (node visit transits); like the evaluator's, they fall between two
    services, pausing a drive or filling a wait. A break after the route's end is allowed
    only when the vehicle is back before the break's earliest start (the evaluator does not
    ask for it then); one before the start cannot be, as breaks start after the departure.
    """

    vehicle_type: list[int] = field(default_factory=list)

    def __post_init__(self):
        if len(self.vehicle_type) != self.num_vehicles:
            self.vehicle_type = _fleet_vehicles(self.problem)
        if len(self.vehicle_type) != self.num_vehicles:  # room for a warm start
            self.vehicle_type = _fleet_vehicles(self.problem, roomy=True)
        if len(self.vehicle_type) != self.num_vehicles:
            raise SolverError(f"ortools: {self.num_vehicles} vehicles requested, the fleet has "
                              f"{len(self.vehicle_type)}")
        self.fleet = scale_fleet(self.problem, self.scaled, ORToolsSolver.INTEGER_LIMITS)
        self.timed = _needs_time_dimension(self.problem)

    # -- model -------------------------------------------------------------------------

    def _model(self):
        from ortools.constraint_solver import pywrapcp

        p, s, f = self.problem, self.scaled, self.fleet
        types = self.vehicle_type
        starts = [p.vehicle_types[t].start_depot for t in types]
        ends = [p.vehicle_types[t].end for t in types]
        manager = pywrapcp.RoutingIndexManager(p.num_nodes, len(types), starts, ends)
        routing = pywrapcp.RoutingModel(manager)
        by_duration = p.objective == "duration"
        if by_duration and self.timed:
            arc = routing.RegisterTransitMatrix(self._time_transit().tolist())
        else:
            arc = routing.RegisterTransitMatrix(s.cost.tolist())
        routing.SetArcCostEvaluatorOfAllVehicles(arc)
        self._stops(manager, routing, set(starts) | set(ends))
        depot_service = self._service()
        for v, t in enumerate(types):
            fixed = f.fixed_cost[t]
            if by_duration and self.timed:
                fixed += int(depot_service[starts[v]])
            routing.SetFixedCostOfVehicle(int(fixed), v)
        if s.demand is not None:
            demand = routing.RegisterUnaryTransitVector([int(q) for q in s.demand])
            routing.AddDimensionWithVehicleCapacity(
                demand, 0, [int(f.capacity[t]) for t in types], True, "Capacity")
        if f.distance_up is not None:
            self._distance_dimension(routing, starts, ends)
        if self.timed:
            self._time_dimension(manager, routing, starts, ends)
        return manager, routing

    def _stops(self, manager, routing, depots_in_use: set[int]) -> None:
        """Optional stops become disjunctions (penalty: the prize); depots no vehicle uses
        are never visited."""
        p, s = self.problem, self.scaled
        solver = routing.solver()
        for d in p.depots:
            if d not in depots_in_use:
                index = manager.NodeToIndex(d)
                routing.AddDisjunction([index], 0)
                solver.Add(routing.ActiveVar(index) == 0)
        prize = np.rint(np.asarray(p.prize, dtype=np.float64) * s.cost_scale)
        if len(p.optional) and float(prize.max()) > ORToolsSolver.INTEGER_LIMITS.max_total:
            raise SolverError(f"ortools: scaled prizes reach {prize.max():.4g}, beyond the backend's "
                              f"integer limit; use a smaller scale")
        for node in p.optional:
            routing.AddDisjunction([manager.NodeToIndex(int(node))], int(prize[node]))

    def _used(self, routing, v: int, var, upper: int) -> None:
        """``var <= upper`` on vehicle ``v`` when it is used: an empty vehicle's own trip from
        its start to its end depot may exceed a bound the evaluator never checks."""
        solver = routing.solver()
        solver.Add(solver.IsLessOrEqualCstVar(var, int(upper)) >= routing.ActiveVehicleVar(v))

    def _distance_dimension(self, routing, starts: list[int], ends: list[int]) -> None:
        f = self.fleet
        D = f.distance_up
        transit = routing.RegisterTransitMatrix(D.tolist())
        unbounded = int(D.max(axis=1).sum()) + 1  # no route drives further
        caps, later = [], []
        for v, t in enumerate(self.vehicle_type):
            limit = f.max_distance[t]
            if limit is None:
                caps.append(unbounded)
            elif D[starts[v], ends[v]] > limit:
                caps.append(max(unbounded, limit))
                later.append((v, limit))
            else:
                caps.append(int(limit))
        routing.AddDimensionWithVehicleCapacity(transit, 0, caps, True, "Distance")
        dim = routing.GetDimensionOrDie("Distance")
        for v, limit in later:
            self._used(routing, v, dim.CumulVar(routing.End(v)), limit)

    def _service(self) -> np.ndarray:
        """Scaled service per node, 0 at depots (the start depot's is before departure)."""
        s, p = self.scaled, self.problem
        svc = np.zeros(p.num_nodes, dtype=np.int64)
        if s.service_time is not None:
            svc[:] = s.service_time
            svc[:p.num_depots] = 0
        return svc

    def _time_transit(self) -> np.ndarray:
        return self.scaled.duration + self._service()[:, None]

    def _type_times(self, t: int) -> _TypeTimes:
        p, s, f = self.problem, self.scaled, self.fleet
        ts = s.time_scale
        begin, _ = p.route_window(t)
        dep, ret = int(f.departure[t]), int(f.return_by[t])
        horizon = self._horizon()
        cand = []
        for b in p.vehicle_types[t].breaks:
            if not begin < b.latest:
                continue  # never needed: routes begin after its latest start
            latest = _floor_scaled(b.latest, ts) if math.isfinite(b.latest) else horizon
            cand.append((max(_ceil_scaled(b.earliest, ts), dep), latest, _ceil_scaled(b.duration, ts),
                         _floor_scaled(b.earliest, ts)))
        while True:
            # a route back by its earliest start never needs a break; one that cannot start it
            # in time, or end it before the return, must be back by then
            live = [c for c in cand if ret > c[3]]
            bad = [c for c in live if c[0] > c[1] or c[0] + c[2] > ret]
            if not bad:
                return _TypeTimes(dep, ret, live)
            ret = min(c[3] for c in bad)

    def _horizon(self) -> int:
        """A bound on every time in the model (scaled): the latest return, window end, or
        an empty vehicle's trip between its depots."""
        s, f = self.scaled, self.fleet
        values = list(f.return_by) + list(f.departure)
        if s.time_windows is not None:
            values.append(int(s.time_windows[:, 1].max()))
        if s.horizon is not None:
            values.append(int(s.horizon))
        return int(max(values) + int(s.duration.max()) + 1)

    def _time_dimension(self, manager, routing, starts: list[int], ends: list[int]) -> None:
        p, s = self.problem, self.scaled
        T = s.duration
        transit = routing.RegisterTransitMatrix(self._time_transit().tolist())
        horizon = self._horizon()
        routing.AddDimension(transit, horizon, horizon, False, "Time")
        dim = routing.GetDimensionOrDie("Time")
        tw = s.time_windows
        if tw is not None:
            for node in p.customers:
                dim.CumulVar(manager.NodeToIndex(node)).SetRange(int(tw[node, 0]), int(tw[node, 1]))
        times = [self._type_times(t) for t in range(len(p.vehicle_types))]
        solver = routing.solver()
        for v, t in enumerate(self.vehicle_type):
            tt = times[t]
            start, end = dim.CumulVar(routing.Start(v)), dim.CumulVar(routing.End(v))
            if tt.breaks or tw is None:
                start.SetRange(tt.departure, tt.departure)
            else:
                latest = self._latest_departures(manager, routing, starts[v], tt.departure)
                start.SetRange(tt.departure, max(latest))
                solver.Add(start <= solver.Element(latest, routing.NextVar(routing.Start(v))))
            if tt.departure + int(T[starts[v], ends[v]]) > tt.return_by:
                end.SetRange(tt.departure, horizon)
                self._used(routing, v, end, max(tt.return_by, 0))
            else:
                end.SetRange(tt.departure, tt.return_by)
            span = self._span_limit(t, starts[v], tt.departure)
            if span is not None:
                if span < 0 or int(T[starts[v], ends[v]]) > span:
                    self._used(routing, v, (end - start).Var(), max(span, -1))
                else:
                    dim.SetSpanUpperBoundForVehicle(span, v)
        if p.objective == "duration":
            # Arc costs count travel + service, slacks the waiting and breaks: together the span.
            dim.SetSlackCostCoefficientForAllVehicles(1)
        if any(times[t].breaks for t in self.vehicle_type):
            self._breaks(manager, routing, dim, times)

    def _latest_departures(self, manager, routing, start_node: int, departure: int) -> list[int]:
        """Per successor index of a vehicle's start: the latest departure (scaled) that
        reaches that stop no later than it opens, not before ``departure``."""
        p, s = self.problem, self.scaled
        T = s.duration
        out = [departure] * manager.GetNumberOfIndices()
        for node in p.customers:
            opens = _floor_scaled(p.time_windows[node, 0], s.time_scale)
            out[manager.NodeToIndex(node)] = max(departure, opens - int(T[start_node, node]))
        return out

    def _span_limit(self, t: int, start_node: int, departure: int) -> int | None:
        """The largest span (end cumul - start cumul) that keeps the evaluator's route
        duration within ``max_duration``, or None without one.

        The evaluator counts from its departure minus the start depot's service; the model's
        start cumul overshoots that departure by at most the rounding of ``departure``."""
        p, s = self.problem, self.scaled
        limit = p.vehicle_types[t].max_duration
        if limit is None or not math.isfinite(limit):
            return None
        ts = s.time_scale
        begin, _ = p.route_window(t)
        svc = float(p.service_time[start_node]) if p.service_time is not None else 0.0
        overshoot = departure - (begin + svc) * ts
        return _floor_scaled((limit - svc) * ts - overshoot, 1.0)

    def _breaks(self, manager, routing, dim, times: list[_TypeTimes]) -> None:
        solver = routing.solver()
        svc = self._service()
        # a break never overlaps a service: [cumul(i), cumul(i) + service(i))
        visits = [int(svc[manager.IndexToNode(i)]) for i in range(routing.Size())]
        for v, t in enumerate(self.vehicle_type):
            intervals = []
            end = dim.CumulVar(routing.End(v))
            active = routing.ActiveVehicleVar(v)
            for k, (lo, hi, duration, earliest_down) in enumerate(times[t].breaks):
                brk = solver.FixedDurationIntervalVar(lo, hi, duration, True, f"break {k} of vehicle {v}")
                solver.Add(brk.PerformedExpr() == active)
                # after the end only when back before its earliest start (then not needed)
                solver.Add(solver.IsLessOrEqualCstVar(end, earliest_down)
                           + solver.IsLessVar(brk.SafeStartExpr(0), end) + (1 - active) >= 1)
                intervals.append(brk)
            if intervals:
                dim.SetBreakIntervalsOfVehicle(intervals, v, visits)

    # -- solutions and warm starts -----------------------------------------------------

    def _extract(self, manager, routing, assignment):
        routes, vehicles = _extract(manager, routing, assignment)
        return routes, [self.vehicle_type[v] for v in vehicles]

    def _read_start(self, manager, routing, initial):
        """The warm start as an OR-Tools assignment, or None (then the solve starts cold).

        Each route goes to a vehicle of a type that serves it feasibly on its own, within the
        types' counts (a matching); without one the start is ignored."""
        if initial is None:
            return None
        p = self.problem
        clean = clean_initial(p, initial, self.initial_types)
        routes = clean.routes or []
        if clean.dropped:
            self.start_notes["initial_dropped"] = clean.dropped
        visited = {v for r in routes for v in r}
        complete = all(v in visited for v in p.customers if p.required[v])
        vehicles = _match_vehicles(p, routes, self.vehicle_type, clean.types) if routes and complete else None
        if not routes:
            reason = "empty"
        elif not complete:
            reason = "partial (required stops missing)"
        elif len(routes) > len(self.vehicle_type):
            reason = f"{len(routes)} routes > {len(self.vehicle_type)} vehicles"
        else:
            reason = ("its routes do not map to the vehicle types (no assignment of types, within "
                      "their counts, serves every route feasibly)")
        if vehicles is None:
            self.start_notes["initial_reason"] = reason
            logger.info("ortools: warm start not usable (%s); cold start", reason)
            return None
        self.start_routes = routes
        self.start_types = [self.vehicle_type[v] for v in vehicles]
        padded: list[list[int]] = [[] for _ in self.vehicle_type]
        for route, v in zip(routes, vehicles):
            padded[v] = [manager.NodeToIndex(n) for n in route]
        start = routing.ReadAssignmentFromRoutes(padded, True)
        if start is None:
            self.start_notes["initial_reason"] = "OR-Tools rejected it (infeasible)"
            logger.info("ortools: ReadAssignmentFromRoutes rejected the warm start; cold start")
        return start


def _match_vehicles(problem: Problem, routes: list[list[int]], vehicle_type: list[int],
                    given: list[int] | None = None) -> list[int] | None:
    """An OR-Tools vehicle per route, or None.

    With one type the routes take its vehicles in order. With several, a route may go to a
    type that serves it on its own without violation (:func:`hybridroute.evaluate`), and
    augmenting paths find an assignment within the types' counts when there is one; the
    start's own types (``given``) are tried first, alone.
    """
    from ..solution import evaluate

    if len(routes) > len(vehicle_type):
        return None
    num_types = len(problem.vehicle_types)
    if num_types == 1:
        return list(range(len(routes)))
    fits = []
    for route in routes:
        ok = []
        for t in range(num_types):
            sol = evaluate(problem, [route], vehicle_types=[t])
            if all(v.kind == "missing_visit" for v in sol.violations):
                ok.append(t)
        if not ok:
            return None
        fits.append(ok)
    if given is not None and all(t in ok for t, ok in zip(given, fits)):
        kept = _assign_vehicles([[t] for t in given], vehicle_type, num_types)
        if kept is not None:
            return kept
    return _assign_vehicles(fits, vehicle_type, num_types)


def _assign_vehicles(fits: list[list[int]], vehicle_type: list[int], num_types: int) -> list[int] | None:
    """A vehicle per route, route ``r`` on a vehicle of a type in ``fits[r]`` (augmenting paths)."""
    slots = [[v for v, x in enumerate(vehicle_type) if x == t] for t in range(num_types)]
    owner: dict[int, int] = {}  # vehicle -> route

    def place(r: int, tried: set[int]) -> bool:
        for t in fits[r]:
            for v in slots[t]:
                if v in tried:
                    continue
                tried.add(v)
                if v not in owner or place(owner[v], tried):
                    owner[v] = r
                    return True
        return False

    for r in range(len(fits)):
        if not place(r, set()):
            return None
    vehicle_of = {r: v for v, r in owner.items()}
    return [vehicle_of[r] for r in range(len(fits))]


def _time_transit(s: ScaledProblem) -> list[list[int]]:
    """Scaled travel time plus the service at the origin (the depot's included)."""
    return (s.duration + s.service_time[:, None]).tolist()


def _extract(manager, routing, assignment) -> tuple[list[list[int]], list[int]]:
    """The non-empty routes of ``assignment`` (node indices) and the OR-Tools vehicle of each."""
    routes, vehicles = [], []
    for v in range(routing.vehicles()):
        index = assignment.Value(routing.NextVar(routing.Start(v)))
        route = []
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = assignment.Value(routing.NextVar(index))
        if route:
            routes.append(route)
            vehicles.append(v)
    return routes, vehicles
