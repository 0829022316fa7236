"""OR-Tools backend: the routing library (constraint programming + local search), v9.15."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..problem import Problem, ProblemKind
from ._backend import clean_initial, fleet_size, keep_better
from .base import SolveOutput, Solver, SolverError
from .scaling import IntegerLimits, ScaledProblem, scale_problem

__all__ = ["ORToolsSolver"]

logger = logging.getLogger(__name__)

# routing_enums_pb2.RoutingSearchStatus, read in one place (see _status).
_STATUS_NAMES = {
    0: "ROUTING_NOT_SOLVED", 1: "ROUTING_SUCCESS",
    2: "ROUTING_PARTIAL_SUCCESS_LOCAL_OPTIMUM_NOT_REACHED", 3: "ROUTING_FAIL",
    4: "ROUTING_FAIL_TIMEOUT", 5: "ROUTING_INVALID", 6: "ROUTING_INFEASIBLE", 7: "ROUTING_OPTIMAL",
}


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
        An OR-Tools ``FirstSolutionStrategy`` name. The default, ``PARALLEL_CHEAPEST_INSERTION``,
        finds a feasible first solution on all 56 Solomon instances with their 25 vehicles
        (``PATH_CHEAPEST_ARC``, OR-Tools' usual choice, does not).
    fallback_strategies
        Strategies tried in turn (cold) when the first one finds nothing.
    metaheuristic
        A ``LocalSearchMetaheuristic`` name (default ``GUIDED_LOCAL_SEARCH``).
    solution_limit
        Optional cap on the number of solutions the search visits; with a generous time
        limit the runs are then reproducible (OR-Tools takes no seed).
    scale
        Integers per objective unit; None picks the smallest power of ten that keeps rounding
        below 0.01 % (see :mod:`hybridroute.solvers.scaling`).
    time_scale
        Integers per second for the time dimension; None chooses one (rounding up).

    Notes
    -----
    A warm start goes through ``CloseModelWithParameters`` → ``ReadAssignmentFromRoutes`` →
    ``SolveFromAssignmentWithParameters``. OR-Tools rejects infeasible or partial routes by
    returning None; the solve then starts cold and ``stats["initial_accepted"]`` is False.
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

    def __init__(self, first_solution_strategy: str = "PARALLEL_CHEAPEST_INSERTION",
                 fallback_strategies: tuple[str, ...] = ("LOCAL_CHEAPEST_INSERTION", "SAVINGS"),
                 metaheuristic: str = "GUIDED_LOCAL_SEARCH", solution_limit: int | None = None,
                 scale: float | None = None, time_scale: float | None = None):
        from_names = _enum_checker()
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

    def _solve(self, problem: Problem, *, time_limit: float, seed: int,
               initial: list[list[int]] | None) -> SolveOutput:
        t0 = time.perf_counter()
        deadline = t0 + time_limit
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
        routes, status = None, 0
        for attempt, strategy in enumerate((self.first_solution_strategy, *self.fallback_strategies)):
            remaining = deadline - time.perf_counter()
            if attempt and remaining < 0.05:
                break
            warm = initial if attempt == 0 else None
            routes, status, accepted = run.solve(self._parameters(strategy, remaining), warm)
            if attempt == 0 and initial is not None:
                stats["initial_accepted"] = accepted
                stats.update(run.start_notes)
            stats["first_solution_strategy"] = strategy
            if routes is not None:
                break
            logger.info("ortools: %s found no solution (%s)", strategy, _STATUS_NAMES.get(status))
        stats["status"] = _STATUS_NAMES.get(status, str(status))
        proven, message = _status(status, routes is not None)
        routes, restored = keep_better(problem, routes, initial)
        if restored:
            stats["initial_restored"] = True
            proven = False
        return SolveOutput(routes=routes, history=run.history, stats=stats, proven_optimal=proven,
                           message=message)

    def _parameters(self, strategy: str, seconds: float):
        from ortools.constraint_solver import pywrapcp, routing_enums_pb2

        params = pywrapcp.DefaultRoutingSearchParameters()
        params.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, strategy)
        params.local_search_metaheuristic = getattr(
            routing_enums_pb2.LocalSearchMetaheuristic, self.metaheuristic)
        params.time_limit.FromMilliseconds(max(int(seconds * 1000), 10))
        if self.solution_limit is not None:
            params.solution_limit = int(self.solution_limit)
        return params


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

    def solve(self, params, initial: list[list[int]] | None):
        """Build, close and solve the model; return (routes, status, start accepted)."""
        manager, routing = self._model()
        routing.AddAtSolutionCallback(lambda: self._record(routing))
        routing.CloseModelWithParameters(params)
        start = self._read_start(manager, routing, initial)
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
            self.history.append((time.perf_counter() - self.t0, cost))

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
