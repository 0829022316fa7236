"""Top-level entry points: one call for any backend."""

from __future__ import annotations

from typing import Any

from .problem import Problem
from .solution import Solution
from .solvers.base import Solver, get_solver

__all__ = ["solve"]


def solve(problem: Problem, solver: str | Solver = "nearest", *, time_limit: float | None = None,
          seed: int = 0, initial: Any = None, **settings: Any) -> Solution:
    """Solve ``problem`` with a registered backend.

    Parameters
    ----------
    problem
        The instance.
    solver
        A registry name (see :func:`hybridroute.installed_solvers`) or a :class:`Solver`.
    time_limit
        Wall-clock budget in seconds (None: the backend's default).
    seed
        Random seed.
    initial
        Optional warm start (a Solution or a list of routes).
    **settings
        Constructor settings of the named backend.

    Returns
    -------
    Solution
        Costs and feasibility recomputed by hybridroute's evaluator.
    """
    return get_solver(solver, **settings).solve(problem, time_limit=time_limit, seed=seed, initial=initial)
