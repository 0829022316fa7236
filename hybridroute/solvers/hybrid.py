"""Warm-started hybrids: a construction stage (the neural policy) seeds a local search.

``Hybrid(first="rrnco", then="pyvrp", split=0.1)`` runs ``first`` on a share of the budget,
then hands its solution to ``then`` as ``initial=`` for the rest. The result records both
stages, and is never worse than the first stage: if the improver returns something worse
(e.g. OR-Tools rejected the start and its cold start ended higher) the first stage's
routes are returned, and the stats say so.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from ..problem import Problem
from ..solution import Solution
from .base import SolveOutput, Solver, get_solver, solver_class

__all__ = ["Hybrid", "RRNCOPyVRP", "RRNCOORTools", "RRNCOVroom"]

logger = logging.getLogger(__name__)

# The improver always gets at least this many seconds, even if the first stage overran.
_MIN_IMPROVER_SECONDS = 0.05


class Hybrid(Solver):
    """A two-stage solver: ``first`` constructs, ``then`` improves from that start.

    Parameters
    ----------
    first, then
        Registry names (or Solver instances) of the two stages. ``then`` must accept a
        warm start.
    split
        Share of the time limit for the first stage (0 < split < 1). A one-shot first stage
        (the neural policy) simply finishes early and leaves the rest to ``then``.
    first_settings, then_settings
        Constructor settings of the two stages when given by name.
    """

    accepts_initial = False
    deterministic = True

    def __init__(self, first: str | Solver = "rrnco", then: str | Solver = "pyvrp", split: float = 0.1,
                 first_settings: dict[str, Any] | None = None, then_settings: dict[str, Any] | None = None):
        if not 0 < split < 1:
            raise ValueError(f"split must be in (0, 1), got {split}")
        self.first = first
        self.then = then
        self.split = float(split)
        self.first_settings = dict(first_settings or {})
        self.then_settings = dict(then_settings or {})
        first_cls = type(first) if isinstance(first, Solver) else solver_class(first)
        then_cls = type(then) if isinstance(then, Solver) else solver_class(then)
        # Report a missing dependency now, at construction, not half-way through a solve.
        first_cls.check_installed()
        then_cls.check_installed()
        if not then_cls.accepts_initial:
            raise ValueError(f"the improver {then_cls.name!r} does not accept a warm start")
        self.name = f"{first_cls.name}+{then_cls.name}"
        self.supports = first_cls.supports & then_cls.supports
        self.requires = tuple(dict.fromkeys(first_cls.requires + then_cls.requires))
        extras = [e for e in (first_cls.extra, then_cls.extra) if e]
        self.extra = ",".join(dict.fromkeys(extras)) or None
        self.deterministic = first_cls.deterministic and then_cls.deterministic

    def get_params(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("first", "then", "split", "first_settings", "then_settings")}

    def _stage(self, stage: str | Solver, settings: dict[str, Any]) -> Solver:
        return stage if isinstance(stage, Solver) else get_solver(stage, **settings)

    def _solve(self, problem: Problem, *, time_limit: float, seed: int, initial) -> SolveOutput:
        t0 = time.perf_counter()
        first = self._stage(self.first, self.first_settings)
        then = self._stage(self.then, self.then_settings)
        start = first.solve(problem, time_limit=max(time_limit * self.split, _MIN_IMPROVER_SECONDS), seed=seed)
        t_first = time.perf_counter() - t0
        rest = max(time_limit - t_first, _MIN_IMPROVER_SECONDS)
        final = then.solve(problem, time_limit=rest, seed=seed,
                           initial=start if start.routes else None)
        stats = _stage_stats(start, final, t_first)
        history = [(t, c) for t, c in start.history] + [(t_first + t, c) for t, c in final.history]
        best = final
        if start.is_feasible and (not final.is_feasible or start.cost < final.cost):
            logger.info("%s: improver ended worse than its start (%.6g > %.6g); keeping the start",
                        self.name, final.cost, start.cost)
            best = start
            stats["kept_first_stage"] = True
        if not best.routes:
            return SolveOutput(routes=None, history=history, stats=stats,
                               message=f"no solution: first stage: {start.message}; then: {final.message}")
        return SolveOutput(routes=[list(r) for r in best.routes], history=history, stats=stats,
                           proven_optimal=best.status.value == "optimal")


def _stage_stats(start: Solution, final: Solution, t_first: float) -> dict[str, Any]:
    accepted = final.stats.get("initial_accepted")
    if accepted is None:
        accepted = bool(start.routes) and not final.stats.get("initial_ignored", False)
    return {
        "first_solver": start.solver, "first_cost": start.cost, "first_runtime": t_first,
        "first_feasible": start.is_feasible, "then_solver": final.solver, "then_cost": final.cost,
        "then_runtime": final.runtime, "then_feasible": final.is_feasible,
        "initial_accepted": bool(accepted), "kept_first_stage": False,
        "first_stats": dict(start.stats), "then_stats": dict(final.stats),
    }


def _rrnco_hybrid(then: str, module: str, class_name: str, what: str) -> type[Hybrid]:
    """A registrable Hybrid with the RRNCO policy first and ``then`` as the improver."""

    def __init__(self, split: float = 0.1, first_settings=None, then_settings=None):
        Hybrid.__init__(self, "rrnco", then, split, first_settings, then_settings)

    return type(class_name, (Hybrid,), {
        "__doc__": f"The RRNCO policy's best rollout warm-starts {what}.",
        "__module__": __name__, "__init__": __init__, "name": f"rrnco+{then}",
        "requires": ("torch", "safetensors", module), "extra": f"neural,{then}",
    })


RRNCOPyVRP = _rrnco_hybrid("pyvrp", "pyvrp", "RRNCOPyVRP", "PyVRP's iterated local search")
RRNCOORTools = _rrnco_hybrid("ortools", "ortools", "RRNCOORTools", "OR-Tools' guided local search")
RRNCOVroom = _rrnco_hybrid("vroom", "vroom", "RRNCOVroom", "VROOM (through vehicle steps)")
