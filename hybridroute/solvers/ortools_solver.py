"""OR-Tools backend: the routing library (constraint programming + local search), v9.15."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from ..problem import Problem, ProblemKind
from ._backend import clean_initial, fleet_size, keep_better
from ._parallel import (SIDE_GRACE_S, SideProcess, SideProcessError, check_workers,
                        resolve_workers, start_side_processes)
from .base import SolveOutput, Solver, SolverError
from .scaling import IntegerLimits, ScaledProblem, scale_problem

__all__ = ["ORToolsSolver", "ATSP_PORTFOLIO", "DEFAULT_FIRST_SOLUTION_STRATEGY"]

logger = logging.getLogger(__name__)

# routing_enums_pb2.RoutingSearchStatus, read in one place (see _status).
_STATUS_NAMES = {
    0: "ROUTING_NOT_SOLVED", 1: "ROUTING_SUCCESS",
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
    In a portfolio only the first search starts from it.

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
    accepts_initial = True
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
               initial: list[list[int]] | None) -> SolveOutput:
        t0 = time.monotonic()
        deadline = t0 + time_limit
        members = self._members(problem)
        workers = resolve_workers(self.workers, len(members))
        # Side processes start first: they import OR-Tools while this one builds its model.
        side = start_side_processes(_SIDE_TARGET, workers - 1)
        workers = len(side) + 1  # fewer when the OS refused a process
        try:
            return self._solve_members(problem, members, workers, side, t0, deadline, initial)
        finally:
            for process in side:
                process.close()

    def _solve_members(self, problem: Problem, members: list[tuple[str, dict[str, Any]]],
                       workers: int, side: list[SideProcess], t0: float, deadline: float,
                       initial: list[list[int]] | None) -> SolveOutput:
        scaled = scale_problem(problem, self.INTEGER_LIMITS, cost_scale=self.scale,
                               time_scale=self.time_scale)
        stats: dict[str, Any] = {"cost_scale": scaled.cost_scale, "time_scale": scaled.time_scale}
        vehicles = fleet_size(problem)
        if problem.num_vehicles is None and problem.kind is not ProblemKind.ATSP and initial:
            # An unlimited fleet must not make a feasible start too big for the model.
            start_routes = clean_initial(problem, initial).routes or []
            vehicles = max(vehicles, len(start_routes))
        run = _Run(problem, scaled, vehicles, t0)
        stats["vehicles"] = run.num_vehicles
        best = _Best()
        packed = None
        if initial is None and _tight_fleet(problem):
            # OR-Tools' constructions time out or fail under a nearly full fleet: start from a
            # capacity packing instead (recorded; the search is otherwise unchanged)
            from .baselines import packing_routes

            packed = packing_routes(problem)
            stats["packing_start"] = "used" if packed is not None else "none found"
        if len(members) > 1:
            stats["workers"] = workers
        first_start = initial if initial is not None else packed
        accepted = self._run_members(run, members, workers, deadline, first_start, best, side)
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
            routes, status, _ = run.solve(self._parameters(strategy, remaining, members[0][1]), None)
            best.offer(problem, routes, status, strategy, members[0][1], time.monotonic() - t0)
        # a packing already tried up front (found or not) is not searched for again
        if best.routes is None and initial is None and "packing_start" not in stats:
            self._packing_fallback(problem, run, members[0][1], deadline, best, stats)
        routes, status = best.routes, best.status
        stats["first_solution_strategy"] = best.strategy
        stats["status"] = _STATUS_NAMES.get(status, str(status))
        proven, message = _status(status, routes is not None)
        routes, restored = keep_better(problem, routes, initial)
        if restored:
            stats["initial_restored"] = True
            proven = False
        return SolveOutput(routes=routes, history=run.history, stats=stats, proven_optimal=proven,
                           message=message)

    def _run_members(self, run: "_Run", members: list[tuple[str, dict[str, Any]]], workers: int,
                     deadline: float, start: list[list[int]] | None, best: "_Best",
                     side: list[SideProcess]) -> bool:
        """Run the searches in rounds of ``workers`` at once, each round an equal share of
        the time left (time a round does not use goes to the next). The first search of a
        round runs here, the others in side processes (``side``: already started for the
        first round); only the very first search starts from ``start``. Returns whether
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
                side = start_side_processes(_SIDE_TARGET, len(group) - 1)
            try:
                sent = [self._send_side(run, process, strategy, overrides, share, round_end, best)
                        for process, (strategy, overrides) in zip(side, group[1:])]
                strategy, overrides = group[0]
                routes, status, ok = run.solve(self._parameters(strategy, share, overrides),
                                               start if r == 0 else None, end=round_end)
                accepted = accepted or (r == 0 and ok)
                best.offer(run.problem, routes, status, strategy, overrides,
                           time.monotonic() - run.t0)
                for process, (strategy, overrides), ok in zip(side, group[1:], sent):
                    if ok:
                        self._collect_side(run, process, round_end, strategy, overrides, best)
            finally:
                for process in side:
                    process.close()
        return accepted

    def _send_side(self, run: "_Run", process: SideProcess, strategy: str,
                   overrides: Mapping[str, Any], share: float, round_end: float,
                   best: "_Best") -> bool:
        try:
            process.send(problem=run.problem, scaled=run.scaled, num_vehicles=run.num_vehicles,
                         params_bytes=self._parameters(strategy, share, overrides).SerializeToString(),
                         round_end=round_end, t0=run.t0)
            return True
        except SideProcessError as exc:
            _side_failed(run, strategy, exc, best)
            return False

    @staticmethod
    def _collect_side(run: "_Run", process: SideProcess, round_end: float, strategy: str,
                      overrides: Mapping[str, Any], best: "_Best") -> None:
        """A side search's outcome into ``best``; a crashed or stuck one is logged and skipped."""
        try:
            routes, status, history, elapsed = process.result(round_end + SIDE_GRACE_S)
        except SideProcessError as exc:
            _side_failed(run, strategy, exc, best)
            return
        run.history.extend(history)
        best.offer(run.problem, routes, status, strategy, overrides, elapsed)

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
        routes, status, accepted = run.solve(self._parameters(strategy, remaining, overrides), start)
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


def _side_search(problem: Problem, scaled: ScaledProblem, num_vehicles: int, params_bytes: bytes,
                 round_end: float, t0: float):
    """One portfolio search in a side process: (routes, status, history, seconds since t0).

    ``round_end`` and ``t0`` are ``time.monotonic()`` readings of the calling process (the
    clock is system-wide), so the time the side process took to start is not given twice.
    """
    from ortools.constraint_solver import routing_parameters_pb2

    params = routing_parameters_pb2.RoutingSearchParameters()
    params.ParseFromString(params_bytes)
    run = _Run(problem, scaled, num_vehicles, t0)
    routes, status, _ = run.solve(params, None, end=round_end)
    return routes, status, run.history, time.monotonic() - t0


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
    status: int = 0
    strategy: str | None = None
    key: tuple[bool, float] | None = None
    log: list[dict[str, Any]] = field(default_factory=list)

    def offer(self, problem: Problem, routes, status: int, strategy: str,
              overrides: Mapping[str, Any], elapsed: float) -> None:
        from ..solution import evaluate

        entry: dict[str, Any] = {"first_solution_strategy": strategy, "status":
                                 _STATUS_NAMES.get(status, str(status)), "seconds": round(elapsed, 3)}
        if "guided_local_search_lambda_coefficient" in overrides:
            entry["gls_lambda"] = overrides["guided_local_search_lambda_coefficient"]
        key = None
        if routes is not None:
            sol = evaluate(problem, routes)
            key = (not sol.is_feasible, sol.cost)
            entry["cost"] = sol.cost
        self.log.append(entry)
        if self.strategy is None or (key is not None and (self.key is None or key < self.key)):
            self.routes, self.status, self.strategy, self.key = routes, status, strategy, key


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

    def solve(self, params, initial: list[list[int]] | None, end: float | None = None):
        """Build, close and solve the model; return (routes, status, start accepted).

        ``end``: a ``time.monotonic()`` reading the search must stop by; the time limit is
        then set after the model is built (building is not covered by OR-Tools' limit).
        """
        manager, routing = self._model()
        routing.AddAtSolutionCallback(lambda: self._record(routing))
        routing.CloseModelWithParameters(params)
        start = self._read_start(manager, routing, initial)
        if end is not None:
            params.time_limit.FromMilliseconds(max(int((end - time.monotonic()) * 1000), 10))
        if start is not None:
            assignment = routing.SolveFromAssignmentWithParameters(start, params)
        else:
            assignment = routing.SolveWithParameters(params)
        routes = None if assignment is None else _extract(manager, routing, assignment)
        return routes, int(routing.status()), start is not None

    def _record(self, routing) -> None:
        # Fires on every solution GLS accepts, improving or not: keep the running minimum.
        cost = self.scaled.to_cost(routing.CostVar().Value())
        if not self.history or cost < self.history[-1][1]:
            self.history.append((time.monotonic() - self.t0, cost))

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


def _time_transit(s: ScaledProblem) -> list[list[int]]:
    """Scaled travel time plus the service at the origin (the depot's included)."""
    return (s.duration + s.service_time[:, None]).tolist()


def _extract(manager, routing, assignment) -> list[list[int]]:
    routes = []
    for v in range(routing.vehicles()):
        index = assignment.Value(routing.NextVar(routing.Start(v)))
        route = []
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = assignment.Value(routing.NextVar(index))
        if route:
            routes.append(route)
    return routes
