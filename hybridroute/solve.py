"""Top-level entry points: one call for any backend."""

from __future__ import annotations

from typing import Any

from .problem import Problem
from .solution import Solution
from .solvers.base import Solver, SolverNotInstalledError, get_solver, installed_solvers, solver_class

__all__ = ["solve", "default_solver", "resolve_solver"]


def default_solver(problem: Problem) -> str:
    """The first installed solver (registry order) that supports the problem's kind and every
    fleet feature it uses (``problem.features``)."""
    for name in installed_solvers():
        cls = solver_class(name)
        if problem.kind in cls.supports and problem.features <= cls.features:
            return name
    what = problem.kind.value + (f" with {', '.join(sorted(problem.features))}" if problem.features else "")
    raise SolverNotInstalledError(f"no installed solver supports {what}")


def solve(problem: Problem, solver: str | Solver | None = None, *, time_limit: float | None = None,
          seed: int = 0, initial: Any = None, preset: str | None = None, **settings: Any) -> Solution:
    """Solve ``problem`` with a registered backend.

    Parameters
    ----------
    problem
        The instance.
    solver
        A registry name (see :func:`hybridroute.installed_solvers`) or a :class:`Solver`.
        Default: the first installed backend in registry order that supports the problem's
        kind and fleet features.
    time_limit
        Wall-clock budget in seconds (None: the preset's, else the backend's default).
    seed
        Random seed.
    initial
        Optional warm start (a Solution or a list of routes).
    preset
        A named preset (``"pyvrp/fast"``, see :func:`hybridroute.presets.list_presets`):
        backend, settings and time limit in one name. Not combined with ``solver``.
    **settings
        Constructor settings of the named backend.

    Returns
    -------
    Solution
        Costs and feasibility recomputed by hybridroute's evaluator.
    """
    backend, limit = resolve_solver(problem, solver, time_limit=time_limit, preset=preset, **settings)
    return backend.solve(problem, time_limit=limit, seed=seed, initial=initial)


def resolve_solver(problem: Problem, solver: str | Solver | None = None, *, time_limit: float | None = None,
                   preset: str | None = None, **settings: Any) -> tuple[Solver, float | None]:
    """The configured backend :func:`solve` would run on ``problem``, and its time limit (the
    preset's when ``time_limit`` is None and a preset is named; None: the backend's default)."""
    if preset is not None:
        if solver is not None or settings:
            raise TypeError("give either preset= or solver=/settings, not both")
        from .presets import load_preset

        p = load_preset(preset)
        return p.make_solver(), time_limit if time_limit is not None else p.time_limit
    if solver is None:
        solver = default_solver(problem)
    return get_solver(solver, **settings), time_limit
