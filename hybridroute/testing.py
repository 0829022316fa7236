"""Conformance suite every solver backend must pass.

Run it on a solver instance::

    from hybridroute.testing import check_solver
    check_solver(get_solver("pyvrp"), time_limit=1.0)

or one check at a time (``CHECKS`` maps names to functions), e.g. as a parametrised pytest
test over :func:`hybridroute.installed_solvers` (see ``tests/solvers/test_conformance.py``).
A failed check raises :class:`AssertionError` naming the solver and what went wrong.

The instances are built here from a seeded generator (ATSP with 10 nodes, ACVRP and ACVRPTW
with 12 customers), so the suite needs no data files and no pytest fixtures.

Contract checked
----------------
* ``feasible``: a feasible solution on each supported kind, ``Solution.solver == name``.
* ``time_limit``: runtime <= time_limit × 1.5 + 1 s (a contract, not a speed test).
* ``unsupported``: an unsupported kind raises :class:`UnsupportedProblemError` before work.
* ``deterministic``: where ``deterministic`` is True, two runs with the same seed give the
  same set of routes (using the class's ``deterministic_settings``, e.g. an iteration
  limit; the order of routes is ignored, since identical vehicles may be swapped).
* ``layout``: the same routes (same seed, the ``deterministic`` settings) whatever the memory
  layout of the matrices the Problem was built from: Fortran order, a strided view, a
  DataFrame. A backend handing a buffer to C code must never read it transposed.
* ``warm_start``: where ``improves_initial`` is True, never worse than a poor feasible start.
* ``bad_start``: infeasible, partial and malformed starts never crash the solve.
* ``features``: for every fleet feature the backend declares (``Solver.features``), the
  exact optimum (known by enumeration over the evaluator) of a 4-stop instance where that
  feature binds (:func:`fleet_problems`); every feature it does not declare is refused with
  :class:`UnsupportedProblemError` before work.
* ``typed_start``: where the backend takes warm starts and several vehicle types, the
  two-type optimum given as a Solution is returned no worse, and used where
  ``accepts_initial_types`` is True; the same routes with wrong types still end feasible.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

import functools

from .fleet import FEATURES, VehicleType
from .problem import Problem, ProblemKind
from .solution import Solution, evaluate
from .solvers.base import Solver, UnsupportedProblemError

__all__ = ["check_solver", "CHECKS", "conformance_problems", "fleet_problems", "fleet_optimum", "TIME_TOLERANCE"]

#: Allowed runtime: ``time_limit * factor + slack`` seconds.
TIME_TOLERANCE = (1.5, 1.0)
# Budget for iteration-limited runs: large, so the iteration limit (not the clock) stops them.
_DETERMINISTIC_TIME_LIMIT = 60.0


def _matrix(n: int, rng: np.random.Generator) -> np.ndarray:
    """Asymmetric metres: random points on a 1 km square, each arc stretched by 0-30 %."""
    pts = rng.uniform(0.0, 1000.0, (n, 2))
    d = np.linalg.norm(pts[:, None] - pts[None], axis=-1) * rng.uniform(1.0, 1.3, (n, n))
    np.fill_diagonal(d, 0.0)
    return d


def conformance_problems(seed: int = 2024) -> dict[ProblemKind, Problem]:
    """The suite's instances: ATSP-10, ACVRP-12 and ACVRPTW-12 (metres, seconds at 10 m/s)."""
    rng = np.random.default_rng(seed)
    atsp = Problem("ATSP", _matrix(10, rng), name="conformance-atsp10")
    d = _matrix(13, rng)
    demand = np.r_[0, rng.integers(1, 10, 12)]
    acvrp = Problem("ACVRP", d, d / 10.0, demand=demand, capacity=20, name="conformance-acvrp12")
    d = _matrix(13, rng)
    start = np.r_[0.0, rng.uniform(0.0, 300.0, 12)]
    windows = np.c_[start, start + np.r_[2000.0, np.full(12, 200.0)]]
    acvrptw = Problem("ACVRPTW", d, d / 10.0, demand=np.r_[0, rng.integers(1, 10, 12)], capacity=25,
                      time_windows=windows, service_time=np.r_[0.0, np.full(12, 10.0)],
                      name="conformance-acvrptw12")
    return {ProblemKind.ATSP: atsp, ProblemKind.ACVRP: acvrp, ProblemKind.ACVRPTW: acvrptw}


def _grid_matrix(points: list[tuple[float, float]]) -> np.ndarray:
    """Whole metres between points, each arc stretched by 0, 10 or 20 % (asymmetric)."""
    pts = np.asarray(points, dtype=float)
    i, j = np.indices((len(pts), len(pts)))
    d = np.linalg.norm(pts[:, None] - pts[None], axis=-1) * (1.0 + 0.1 * ((i + 2 * j) % 3))
    np.fill_diagonal(d, 0.0)
    return np.round(d)


def fleet_problems() -> dict[str, Problem]:
    """One tiny instance per fleet feature, where the feature changes the optimum.

    Four stops around one depot (metres; seconds at 10 m/s), two depots for
    ``multiple_depots``. The optimum of each is :func:`fleet_optimum`.
    """
    d = _grid_matrix([(0, 0), (800, 100), (1000, 900), (100, 1000), (-700, 400)])
    t = np.round(d / 10.0)
    demand = [0, 3, 4, 2, 5]

    def vrp(*types: VehicleType, **kw: Any) -> Problem:
        return Problem("ACVRP", d, t, demand=demand, vehicle_types=list(types), **kw)

    d2 = _grid_matrix([(0, 0), (3000, 0), (500, 200), (900, -100), (2100, 100), (2600, -200)])
    windows = [[0, 2000], [0, 2000], [0, 250], [0, 2000], [0, 2000]]
    problems = {
        # one-way routes from depot 0 to depot 1
        "multiple_depots": Problem("ACVRP", d2, np.round(d2 / 10.0), demand=[0, 0, 3, 3, 3, 3], num_depots=2,
                                   vehicle_types=[VehicleType(count=2, capacity=6, start_depot=0, end_depot=1)]),
        # one van of 8 and two of 5: three routes, where three vans of 8 would need two
        "vehicle_types": vrp(VehicleType(count=1, capacity=8), VehicleType(count=2, capacity=5)),
        "optional_stops": Problem("ACVRP", d, t, demand=demand, capacity=10, num_vehicles=2,
                                  required=[True, True, False, True, False], prize=[0, 0, 5000.0, 0, 100.0]),
        "shifts": vrp(VehicleType(count=3, capacity=20, shift=(0.0, 400.0))),
        "max_duration": vrp(VehicleType(count=3, capacity=20, max_duration=400.0)),
        "max_distance": vrp(VehicleType(count=3, capacity=20, max_distance=4000.0)),
        "fixed_costs": vrp(VehicleType(count=3, capacity=10, fixed_cost=3000.0)),
        # the lunch break forces stop 2 (window ends at 250 s) to be served before it
        "breaks": Problem("ACVRPTW", d, t, demand=demand, time_windows=windows, service_time=[0, 10, 10, 10, 10],
                          vehicle_types=[VehicleType(count=2, capacity=20, breaks=[(100.0, 200.0, 60.0)])],
                          objective="duration"),
    }
    return {feature: problem.replace(name=f"fleet-{feature}") for feature, problem in problems.items()}


def fleet_optimum(feature: str) -> float:
    """The optimal cost of ``fleet_problems()[feature]``, by enumeration over the evaluator."""
    return _fleet_optimal_solution(feature).cost


@functools.cache
def _fleet_optimal_solution(feature: str) -> Solution:
    from ._enumerate import optimum_by_enumeration

    best = optimum_by_enumeration(fleet_problems()[feature])
    assert best is not None, f"conformance bug: fleet instance {feature!r} has no feasible solution"
    return best


def _supported(solver: Solver) -> list[Problem]:
    return [p for k, p in conformance_problems().items() if k in solver.supports]


def _fail(solver: Solver, message: str) -> AssertionError:
    return AssertionError(f"solver {solver.name!r}: {message}")


def _check_solution(solver: Solver, problem: Problem, sol: Any) -> Solution:
    if not isinstance(sol, Solution):
        raise _fail(solver, f"solve() returned {type(sol).__name__}, not a Solution")
    if sol.solver != solver.name:
        raise _fail(solver, f"Solution.solver is {sol.solver!r}, expected {solver.name!r}")
    return sol


def _poor_start(problem: Problem) -> list[list[int]]:
    """A feasible but poor start: one route per customer, or the ATSP tour 1..n-1 reversed."""
    if problem.kind is ProblemKind.ATSP:
        return [list(range(problem.num_nodes - 1, 0, -1))]
    return [[v] for v in problem.customers]


def _bad_starts(problem: Problem) -> dict[str, list[list[int]]]:
    """Starts a backend must survive: infeasible, partial, malformed."""
    n = problem.num_nodes
    everyone = list(range(1, n))
    starts = {
        "partial": [everyone[: len(everyone) // 2]],
        "malformed": [[1, 1, n + 5, 0, -2] + everyone[1:]],
    }
    if problem.kind is ProblemKind.ATSP:
        starts["split tour"] = [everyone[:4], everyone[4:]]
    else:
        starts["over capacity"] = [everyone]  # one route carrying every demand
    return starts


def check_feasible(solver: Solver, time_limit: float = 1.0) -> None:
    """A feasible solution on every supported kind, with the solver's name on it."""
    if not solver.supports:
        raise _fail(solver, "supports no problem kind")
    for problem in _supported(solver):
        sol = _check_solution(solver, problem, solver.solve(problem, time_limit=time_limit, seed=1))
        if not sol.is_feasible:
            raise _fail(solver, f"{problem.name}: status {sol.status.value}; "
                                f"{'; '.join(v.message for v in sol.violations[:3]) or sol.message}")


def check_time_limit(solver: Solver, time_limit: float = 1.0) -> None:
    """Runtime within ``time_limit * 1.5 + 1`` seconds on every supported kind."""
    factor, slack = TIME_TOLERANCE
    for problem in _supported(solver):
        sol = _check_solution(solver, problem, solver.solve(problem, time_limit=time_limit, seed=2))
        allowed = time_limit * factor + slack
        if not sol.runtime <= allowed:
            raise _fail(solver, f"{problem.name}: ran {sol.runtime:.2f} s with time_limit "
                                f"{time_limit} s (allowed {allowed:.2f} s)")


def check_unsupported(solver: Solver, time_limit: float = 1.0) -> None:
    """Unsupported kinds raise UnsupportedProblemError (before any work)."""
    for kind, problem in conformance_problems().items():
        if kind in solver.supports:
            continue
        try:
            solver.solve(problem, time_limit=time_limit)
        except UnsupportedProblemError:
            continue
        except Exception as exc:  # noqa: BLE001 - the wrong exception is the failure reported
            raise _fail(solver, f"{kind.value}: raised {type(exc).__name__} ({exc}), expected "
                                f"UnsupportedProblemError") from exc
        raise _fail(solver, f"{kind.value} is not in supports, yet solve() did not refuse it")


def _with_settings(solver: Solver, settings: dict[str, Any]) -> Solver:
    if not settings:
        return solver
    return type(solver)(**{**solver.get_params(), **settings})


def _canonical(routes) -> tuple:
    """Routes as a set: the order of identical vehicles' routes carries no meaning."""
    return tuple(sorted(tuple(r) for r in routes or ()))


def check_deterministic(solver: Solver, time_limit: float = 1.0) -> None:
    """Same seed, same routes, where the solver declares ``deterministic``.

    Uses the class's ``deterministic_settings`` (e.g. an iteration limit), with a generous
    time limit so that the clock does not decide where the search stops.
    """
    if not solver.deterministic:
        return
    settings = dict(getattr(type(solver), "deterministic_settings", {}) or {})
    runner = _with_settings(solver, settings)
    limit = _DETERMINISTIC_TIME_LIMIT if settings else time_limit
    for problem in _supported(runner):
        a = runner.solve(problem, time_limit=limit, seed=7)
        b = runner.solve(problem, time_limit=limit, seed=7)
        if _canonical(a.routes) != _canonical(b.routes):
            raise _fail(solver, f"{problem.name}: two runs with seed 7 and settings {settings} gave "
                                f"different routes ({a.cost:.6g} vs {b.cost:.6g})")


def _layouts(matrix: np.ndarray) -> dict[str, Any]:
    """The same values in the memory layouts users hand in (DataFrame, F-order, strided)."""
    import pandas as pd

    n = matrix.shape[0]
    padded = np.zeros((2 * n, 2 * n))
    padded[::2, ::2] = matrix
    return {"Fortran order": np.asfortranarray(matrix), "strided view": padded[::2, ::2],
            "DataFrame": pd.DataFrame(matrix)}


def check_layout(solver: Solver, time_limit: float = 1.0) -> None:
    """Same routes for the same seed whatever the input layout of the matrices."""
    settings = dict(getattr(type(solver), "deterministic_settings", {}) or {})
    runner = _with_settings(solver, settings)
    limit = _DETERMINISTIC_TIME_LIMIT if settings else time_limit
    for problem in _supported(runner):
        base = runner.solve(problem, time_limit=limit, seed=7)
        dist = _layouts(np.array(problem.distance))
        dur = None if problem.duration is None else _layouts(np.array(problem.duration))
        for label, matrix in dist.items():
            variant = problem.replace(distance=matrix, duration=None if dur is None else dur[label])
            for field_name in ("distance", "duration"):
                arr = getattr(variant, field_name)
                if arr is not None and not arr.flags.c_contiguous:
                    raise _fail(solver, f"{problem.name}: Problem.{field_name} built from a {label} "
                                        "matrix is not C-contiguous")
            if not solver.deterministic:
                continue
            other = runner.solve(variant, time_limit=limit, seed=7)
            if _canonical(base.routes) != _canonical(other.routes):
                raise _fail(solver, f"{problem.name}: matrices in {label} gave other routes than "
                                    f"C order ({other.cost:.6g} vs {base.cost:.6g})")


def check_warm_start(solver: Solver, time_limit: float = 1.0) -> None:
    """Never worse than a poor feasible start, where the solver declares ``improves_initial``."""
    if not (solver.accepts_initial and getattr(solver, "improves_initial", False)):
        return
    for problem in _supported(solver):
        start = evaluate(problem, _poor_start(problem))
        assert start.is_feasible, f"conformance bug: poor start infeasible on {problem.name}"
        sol = _check_solution(solver, problem,
                              solver.solve(problem, time_limit=time_limit, seed=3, initial=start))
        if not sol.is_feasible or sol.cost > start.cost * (1 + 1e-12):
            raise _fail(solver, f"{problem.name}: warm start cost {start.cost:.6g} but the solve "
                                f"returned {sol.status.value} cost {sol.cost:.6g}")


def check_bad_start(solver: Solver, time_limit: float = 1.0) -> None:
    """Infeasible, partial and malformed warm starts return a Solution without raising."""
    for problem in _supported(solver):
        for label, start in _bad_starts(problem).items():
            try:
                sol = solver.solve(problem, time_limit=min(time_limit, 0.5), seed=4, initial=start)
            except Exception as exc:  # noqa: BLE001 - any exception is the failure reported
                raise _fail(solver, f"{problem.name}: {label} warm start raised "
                                    f"{type(exc).__name__}: {exc}") from exc
            _check_solution(solver, problem, sol)


def check_features(solver: Solver, time_limit: float = 1.0) -> None:
    """The optimum on every declared fleet feature; a refusal of every other one."""
    unknown = set(solver.features) - set(FEATURES)
    if unknown:
        raise _fail(solver, f"declares unknown features {sorted(unknown)} (known: {', '.join(FEATURES)})")
    supported_kinds = solver.supports
    for feature, problem in fleet_problems().items():
        if problem.kind not in supported_kinds:
            continue
        if feature not in solver.features:
            try:
                solver.solve(problem, time_limit=time_limit)
            except UnsupportedProblemError as exc:
                if feature not in str(exc):
                    raise _fail(solver, f"refused {feature} without naming it: {exc}") from exc
                continue
            raise _fail(solver, f"does not declare {feature}, yet solve() did not refuse it")
        sol = _check_solution(solver, problem, solver.solve(problem, time_limit=time_limit, seed=5))
        if not sol.is_feasible:
            raise _fail(solver, f"{problem.name}: status {sol.status.value}; "
                                f"{'; '.join(v.message for v in sol.violations[:3]) or sol.message}")
        best = fleet_optimum(feature)
        if sol.cost > best * (1 + 1e-9) + 1e-6:
            raise _fail(solver, f"{problem.name}: cost {sol.cost:.6g} above the optimum {best:.6g} "
                                f"(routes {sol.routes}, types {sol.vehicle_types}, unserved {sol.unserved})")


def check_typed_start(solver: Solver, time_limit: float = 1.0) -> None:
    """A warm start given as a Solution keeps its routes' vehicle types.

    On the two-type instance of :func:`fleet_problems` the optimum as a start must come back
    no worse, and be used (``stats["initial_accepted"]``) by a backend that declares
    ``accepts_initial_types``; the same routes with their types swapped (over capacity) must
    still give a feasible solution.
    """
    if not solver.accepts_initial or "vehicle_types" not in solver.features:
        return
    problem = fleet_problems()["vehicle_types"]
    best = _fleet_optimal_solution("vehicle_types")
    sol = _check_solution(solver, problem, solver.solve(problem, time_limit=time_limit, seed=6, initial=best))
    if not sol.is_feasible or sol.cost > best.cost * (1 + 1e-9) + 1e-6:
        raise _fail(solver, f"{problem.name}: from its optimal warm start ({best.cost:.6g}) it returned "
                            f"{sol.status.value} at {sol.cost:.6g}")
    if solver.accepts_initial_types and sol.stats.get("initial_accepted") is False:
        raise _fail(solver, f"{problem.name}: declares accepts_initial_types but did not use a typed warm "
                            f"start: {sol.stats.get('initial_reason')}")
    swapped = evaluate(problem, best.routes, vehicle_types=[1 - min(t, 1) for t in best.vehicle_types])
    if swapped.is_feasible:
        raise AssertionError("conformance bug: the swapped types were meant to overload a vehicle")
    sol = _check_solution(solver, problem, solver.solve(problem, time_limit=time_limit, seed=6, initial=swapped))
    if not sol.is_feasible:
        raise _fail(solver, f"{problem.name}: a warm start with the wrong vehicle types gave "
                            f"{sol.status.value}: {sol.message}")


CHECKS: dict[str, Callable[[Solver, float], None]] = {
    "feasible": check_feasible,
    "time_limit": check_time_limit,
    "unsupported": check_unsupported,
    "deterministic": check_deterministic,
    "layout": check_layout,
    "warm_start": check_warm_start,
    "bad_start": check_bad_start,
    "features": check_features,
    "typed_start": check_typed_start,
}


def check_solver(solver: Solver, *, time_limit: float = 1.0, checks: list[str] | None = None) -> None:
    """Run the conformance checks on ``solver``; raise AssertionError on the first failure.

    Parameters
    ----------
    solver
        A configured solver instance.
    time_limit
        Seconds per solve (small instances: 1 s is plenty).
    checks
        Names from :data:`CHECKS` to run; all by default.
    """
    for name in checks or list(CHECKS):
        try:
            check = CHECKS[name]
        except KeyError:
            raise ValueError(f"unknown check {name!r}; known: {', '.join(CHECKS)}") from None
        check(solver, time_limit)
