"""The Solver interface and the registry of backends.

Like CVXPY's solver registry: every backend is a :class:`Solver` subclass that declares what
it supports; the registry maps names to classes by import path so that optional backends
(torch, ortools, pyvrp, ...) are imported only when used, and a missing package is reported
at lookup with the ``pip install`` that fixes it.
"""

from __future__ import annotations

import contextvars
import importlib
import importlib.util
import logging
import math
import numbers
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterable, Sequence

import numpy as np

from ..problem import Problem, ProblemKind
from ..solution import Solution, Status, evaluate, parse_routes

__all__ = [
    "Solver", "SolveOutput", "SolverError", "UnknownSolverError", "SolverNotInstalledError",
    "UnsupportedProblemError", "register_solver", "get_solver", "solver_class", "available_solvers",
    "installed_solvers", "as_routes", "load_solver", "allowed_runtime", "check_time_limit",
    "TIME_LIMIT_FACTOR", "TIME_LIMIT_SLACK_S", "check_seed", "SEED_LIMIT", "STAGE_OF",
]

logger = logging.getLogger(__name__)

#: The name of the hybrid whose first stage runs in this context, None outside one. A stage's
#: fallback for want of time is the hybrid's to handle (it starts its improver cold and sizes
#: the next share from it), so a backend logs it at INFO there instead of WARNING.
STAGE_OF: contextvars.ContextVar[str | None] = contextvars.ContextVar("hybridroute_stage_of", default=None)


class SolverError(RuntimeError):
    """A backend failed in a way hybridroute could not recover from."""


class UnknownSolverError(ValueError):
    """No solver is registered under that name."""


class SolverNotInstalledError(ImportError):
    """The solver's optional dependency is not installed."""


class UnsupportedProblemError(ValueError):
    """The solver cannot honour this problem (kind or feature)."""


@dataclass
class SolveOutput:
    """What a backend's ``_solve`` hands back; costs are recomputed by :func:`evaluate`.

    ``history`` holds ``(seconds, cost)`` pairs in the problem's float units.
    """

    routes: list[list[int]] | None
    history: list[tuple[float, float]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
    proven_optimal: bool = False
    message: str = ""
    #: Each route's vehicle type (an index into ``problem.vehicle_types``); None for one type.
    vehicle_types: list[int] | None = None


def as_routes(initial: Any) -> list[list[int]] | None:
    """A warm start as node-index lists: a Solution, a list of routes, or None.

    Raises
    ------
    TypeError
        When ``initial`` is not a list of lists of integers (a flat list of nodes, strings,
        ``1.5``); the message names ``initial`` and the position, e.g. ``initial[0][1]``.
        Well-typed but infeasible starts (nodes out of range, repeated, missing) are
        accepted: backends repair or ignore them.
    """
    if initial is None:
        return None
    if isinstance(initial, Solution):
        return [list(r) for r in initial.routes] if initial.routes else None
    return parse_routes(initial, "initial")


#: Seeds are integers in ``[0, SEED_LIMIT)``: every backend's generator takes 32-bit seeds.
SEED_LIMIT = 2**32


def check_seed(seed: Any, name: str = "seed") -> int:
    """``seed`` as an int in ``[0, 2**32)``; refuse anything else before a backend sees it.

    Integers (Python or NumPy) are accepted, and floats with an integral value (``3.0``);
    ``1.7``, bools, strings and None are not.

    Raises
    ------
    TypeError
        When ``seed`` is not an integer; the message starts with ``name``.
    ValueError
        When ``seed`` is outside ``[0, 2**32)``; the message starts with ``name``.
    """
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Real):
        raise TypeError(f"{name} must be an integer in [0, 2**32), got {type(seed).__name__} {seed!r}")
    if not isinstance(seed, numbers.Integral) and not (math.isfinite(seed) and float(seed).is_integer()):
        raise TypeError(f"{name} must be a whole number in [0, 2**32), got {seed!r}")
    value = int(seed)
    if not 0 <= value < SEED_LIMIT:
        raise ValueError(f"{name} must be in [0, 2**32) = [0, {SEED_LIMIT - 1}], got {value}")
    return value


def solution_from_output(name: str, problem: Problem, out: SolveOutput, runtime: float,
                         extra_stats: dict[str, Any] | None = None) -> Solution:
    """The :class:`~hybridroute.Solution` of a backend's raw output: routes re-evaluated by
    :func:`hybridroute.evaluate`, the anytime history made monotone and closed at ``runtime``,
    and, without routes, the reason with what the checks before solving find."""
    stats = {**(extra_stats or {}), **out.stats}
    if out.routes is None:
        # Say what the checks before solving find (stops no vehicle type can serve, a fleet
        # too small) rather than a bare status; cheap, no insertion search.
        message = out.message or "no solution found"
        try:
            from ..explain import presolve_diagnosis

            stats["diagnosis"], summary = presolve_diagnosis(problem)
            message = f"{message}; {summary}"
        except Exception:  # the diagnosis only adds to the message: never lose the backend's result to it
            logger.warning("could not diagnose why solver %s found no solution", name, exc_info=True)
        return Solution.no_solution(problem, name, message, runtime=runtime, stats=stats)
    sol = evaluate(problem, out.routes, vehicle_types=out.vehicle_types)
    status = sol.status
    if out.proven_optimal and sol.is_feasible:
        status = Status.OPTIMAL
    history = _running_min(out.history)
    if sol.is_feasible and (not history or history[-1][1] > sol.cost):
        history.append((runtime, sol.cost))
    return sol.with_info(solver=name, runtime=runtime, history=history, stats=stats,
                         status=status, message=out.message)


class Solver:
    """Base class of every backend.

    Settings go in the constructor (scikit-learn style); the instance goes in :meth:`solve`.
    Subclasses set the class attributes and implement :meth:`_solve`.

    Attributes
    ----------
    name
        Registry name.
    supports
        Problem kinds this backend solves.
    features
        The :data:`~hybridroute.fleet.FEATURES` it honours natively (several depots, vehicle
        types, optional stops, shifts, ...); a problem using any other is refused with
        :class:`UnsupportedProblemError` before work starts.
    accepts_initial
        Whether ``solve(..., initial=...)`` is used as a warm start.
    accepts_initial_types
        Whether the vehicle types of a warm start given as a :class:`~hybridroute.Solution`
        reach the backend (``_solve`` then takes ``initial_types``); otherwise a start on a
        problem with several types arrives as routes only.
    requires
        Importable modules the backend needs.
    extra
        The ``hybridroute[...]`` extra that installs them.
    deterministic
        Whether the same seed (and an iteration-based stop) gives the same routes.
    default_time_limit
        Seconds used when ``time_limit`` is None.
    converges
        Whether the search ends by itself, so that ``time_limit=math.inf`` means "until it
        ends"; otherwise ``math.inf`` runs for ``default_time_limit``.
    """

    name: ClassVar[str] = "solver"
    supports: ClassVar[frozenset[ProblemKind]] = frozenset(ProblemKind)
    features: ClassVar[frozenset[str]] = frozenset()
    accepts_initial: ClassVar[bool] = False
    accepts_initial_types: ClassVar[bool] = False
    requires: ClassVar[tuple[str, ...]] = ()
    extra: ClassVar[str | None] = None
    deterministic: ClassVar[bool] = True
    default_time_limit: ClassVar[float] = 10.0
    converges: ClassVar[bool] = False

    def __init__(self, **settings: Any):
        if settings:
            raise TypeError(f"{type(self).__name__} takes no settings {sorted(settings)}")

    def get_params(self) -> dict[str, Any]:
        """The constructor settings (for presets, logging and comparisons)."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

    @classmethod
    def check_installed(cls) -> None:
        """Raise :class:`SolverNotInstalledError` naming the pip command if a module is missing."""
        missing = [m for m in cls.requires if importlib.util.find_spec(m) is None]
        if missing:
            hint = f'pip install "hybridroute[{cls.extra}]"' if cls.extra else f"pip install {' '.join(missing)}"
            raise SolverNotInstalledError(
                f"solver {cls.name!r} needs {', '.join(missing)}, which is not installed; run: {hint}")

    def check_problem(self, problem: Problem) -> None:
        """Refuse a problem this backend cannot honour, before any work starts."""
        if not isinstance(problem, Problem):
            raise TypeError(f"expected a hybridroute.Problem, got {type(problem).__name__}")
        if problem.kind not in self.supports:
            kinds = ", ".join(sorted(k.value for k in self.supports))
            raise UnsupportedProblemError(
                f"solver {self.name!r} does not support {problem.kind.value} (supports: {kinds})")
        missing = sorted(problem.features - self.features)
        if missing:
            raise UnsupportedProblemError(
                f"solver {self.name!r} does not support {', '.join(missing)} (the problem uses "
                f"{'it' if len(missing) == 1 else 'them'}); {_who_supports(missing)}")

    def solve(self, problem: Problem, *, time_limit: float | None = None, seed: int = 0,
              initial: Any = None) -> Solution:
        """Solve ``problem`` within ``time_limit`` seconds.

        Parameters
        ----------
        problem
            The instance (never mutated).
        time_limit
            Wall-clock budget in seconds, model loading and side processes included; the solve
            returns within :func:`allowed_runtime` of it. None uses the backend's
            ``default_time_limit``; ``math.inf`` runs until the backend's search ends by itself
            where it has such an end (``converges``), else for ``default_time_limit``.
        seed
            Random seed, an integer in ``[0, 2**32)``; the same seed gives the same routes
            where the backend is deterministic.
        initial
            Optional warm start: a :class:`~hybridroute.Solution` or a list of routes (lists
            of node indices). Ignored (with a note in ``stats``) by backends that do not
            accept one; an infeasible start is repaired or ignored by the backend. With
            several vehicle types, give a Solution (e.g. ``hr.evaluate(problem, routes,
            vehicle_types=types)``) so that each route keeps its type.

        Returns
        -------
        Solution
            Costs and feasibility recomputed by :func:`hybridroute.evaluate`.
        """
        self.check_installed()
        self.check_problem(problem)
        limit = check_time_limit(time_limit, self.default_time_limit)
        start_routes = as_routes(initial)
        extra_stats: dict[str, Any] = {"time_limit": limit}
        if math.isinf(limit) and not self.converges:
            # a search that never ends by itself gets its documented default instead of a hang
            limit = self.default_time_limit
            extra_stats["time_limit"] = limit
            extra_stats["time_limit_note"] = (f"{self.name} does not stop by itself; time_limit=inf "
                                              f"ran for its default {limit:g} s")
        if start_routes is not None and not self.accepts_initial:
            extra_stats["initial_ignored"] = True
            logger.info("solver %s does not accept a warm start; ignoring it", self.name)
            start_routes = None
        typed = {}
        if self.accepts_initial_types:
            typed["initial_types"] = _start_types(problem, initial, start_routes, extra_stats)
        t0 = time.perf_counter()
        out = self._solve(problem, time_limit=limit, seed=check_seed(seed), initial=start_routes, **typed)
        runtime = time.perf_counter() - t0
        if runtime > allowed_runtime(limit):
            logger.warning("solver %s ran %.2f s with time_limit %g s (the contract allows %.2f s)",
                           self.name, runtime, limit, allowed_runtime(limit))
        return solution_from_output(self.name, problem, out, runtime, extra_stats)

    def _solve(self, problem: Problem, *, time_limit: float, seed: int,
               initial: list[list[int]] | None) -> SolveOutput:
        raise NotImplementedError


    def warm_up(self, kinds: Sequence[ProblemKind | str] | None = None) -> None:
        """Import the backend (and load any model) now, so that the first solve's time limit
        is spent solving. See :func:`load_solver`."""
        for module in self.requires:
            importlib.import_module(module)

    def start_not_worth(self, problem: Problem, improver: str | None = None) -> str | None:
        """Why a hybrid should not run this solver as its first stage on ``problem`` (None:
        run it): the solver knows its starts to cost ``improver`` (a registry name; None: any
        improver) more time than they save there. A hybrid then gives its improver the whole
        limit (``stats["first_skipped"]``). The neural backend answers from its model card
        (``warm_start_max_n``)."""
        return None


def _start_types(problem: Problem, initial: Any, routes: list[list[int]] | None,
                 stats: dict[str, Any]) -> list[int] | None:
    """The vehicle type of each route of a warm start (None: unknown, or one type only).

    Only a :class:`~hybridroute.Solution` of a problem with several types carries them; types
    that do not fit ``problem`` (another fleet) are dropped with a note in ``stats``.
    """
    if routes is None or len(problem.vehicle_types) < 2 or not isinstance(initial, Solution):
        return None
    types = [int(t) for t in initial.vehicle_types]
    if len(types) != len(routes):
        stats["initial_types_dropped"] = f"{len(types)} vehicle types for {len(routes)} routes"
    elif bad := [r for r, t in enumerate(types) if not 0 <= t < len(problem.vehicle_types)]:
        stats["initial_types_dropped"] = (f"route {bad[0]}: vehicle type {types[bad[0]]} is not one of the "
                                          f"problem's {len(problem.vehicle_types)} types")
    else:
        return types
    return None


def _who_supports(features: Sequence[str]) -> str:
    """Which registered backends honour every feature in ``features`` (for error messages)."""
    names = []
    for name in available_solvers():
        try:
            cls = solver_class(name)
        except Exception:  # a backend whose module cannot be imported says so elsewhere
            continue
        if set(features) <= cls.features:
            names.append(name)
    return f"backends that do: {', '.join(names)}" if names else "no registered backend does"


#: The time-limit contract: every solve returns within ``time_limit × TIME_LIMIT_FACTOR +
#: TIME_LIMIT_SLACK_S`` seconds, at every size, the first call in a process included.
TIME_LIMIT_FACTOR = 1.1
TIME_LIMIT_SLACK_S = 0.5


def allowed_runtime(time_limit: float) -> float:
    """The most wall seconds a solve with ``time_limit`` may take under the contract."""
    return time_limit * TIME_LIMIT_FACTOR + TIME_LIMIT_SLACK_S


def check_time_limit(time_limit: Any, default: float) -> float:
    """``time_limit`` as positive seconds (None: ``default``; ``math.inf`` is kept).

    Raises
    ------
    TypeError
        When it is not a real number (a string such as ``'1'``, a bool).
    ValueError
        When it is NaN, zero or negative.
    """
    if time_limit is None:
        return float(default)
    if isinstance(time_limit, bool) or not isinstance(time_limit, numbers.Real):
        raise TypeError(f"time_limit must be a number of seconds (or None for the backend's default), "
                        f"got {time_limit!r} ({type(time_limit).__name__})")
    value = float(time_limit)
    if math.isnan(value) or value <= 0:
        raise ValueError(f"time_limit must be positive seconds, got {time_limit!r}")
    return value


def _running_min(history: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Keep only improving points, in time order (some callbacks fire on non-improving moves)."""
    out: list[tuple[float, float]] = []
    for t, c in sorted(history):
        if not out or c < out[-1][1]:
            out.append((float(t), float(c)))
    return out


# -- registry ---------------------------------------------------------------------------

_REGISTRY: dict[str, str | type[Solver]] = {}


def register_solver(name: str, target: str | type[Solver]) -> None:
    """Register a solver class (or its ``"module:Class"`` path, imported lazily) under ``name``."""
    _REGISTRY[name] = target


def available_solvers() -> list[str]:
    """All registered solver names, in registry order (installed or not)."""
    return list(_REGISTRY)


def solver_class(name: str) -> type[Solver]:
    """The class registered under ``name`` (imports its module, not its dependencies)."""
    try:
        target = _REGISTRY[name]
    except KeyError:
        raise UnknownSolverError(
            f"unknown solver {name!r}; known solvers: {', '.join(_REGISTRY)}") from None
    if isinstance(target, str):
        module, _, attr = target.partition(":")
        target = getattr(importlib.import_module(module), attr)
        _REGISTRY[name] = target
    return target


def installed_solvers() -> list[str]:
    """Registered solvers whose dependencies are importable, in registry order."""
    out = []
    for name in _REGISTRY:
        try:
            solver_class(name).check_installed()
        except (SolverNotInstalledError, ImportError):
            continue
        out.append(name)
    return out


def load_solver(name: str | Solver, kinds: Sequence[ProblemKind | str] | None = None,
                **settings: Any) -> Solver:
    """A configured solver, warmed up: its backend imported and any model loaded.

    The first solve of a process otherwise spends part of its time limit on imports and, for
    the neural backend, on loading checkpoints (about 2 s with torch on a CPU). Call this once
    at start-up so that every time limit goes to solving::

        solver = hr.load_solver("rrnco")            # all kinds; or kinds=["ACVRP"]
        solver.solve(problem, time_limit=1)

    Parameters
    ----------
    name
        A registry name or a Solver instance.
    kinds
        The problem kinds to prepare (neural checkpoints are per kind); default: all supported.
    settings
        Constructor settings, as for :func:`get_solver`.
    """
    solver = get_solver(name, **settings)
    solver.warm_up(kinds)
    return solver


def get_solver(name: str | Solver, **settings: Any) -> Solver:
    """A configured solver instance; checks the dependency is installed."""
    if isinstance(name, Solver):
        if settings:
            raise TypeError("settings apply to solver names, not to solver instances")
        return name
    cls = solver_class(name)
    cls.check_installed()
    return cls(**settings)


def problem_kinds(kinds: Sequence[str | ProblemKind]) -> frozenset[ProblemKind]:
    return frozenset(ProblemKind.parse(k) for k in kinds)
