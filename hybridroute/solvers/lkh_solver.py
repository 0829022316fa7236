"""LKH-3 backend for ATSP, through the ``elkai`` package (which bundles LKH 3.0.8)."""

from __future__ import annotations

import itertools
import logging
import os
import time
from typing import Any, ClassVar

import numpy as np

from ..problem import Problem, ProblemKind
from .base import SolveOutput, Solver, SolverError
from .scaling import IntegerLimits, ScaledProblem, scale_problem

__all__ = ["LKHSolver"]

logger = logging.getLogger(__name__)

# LKH's default INITIAL_PERIOD (max(DIMENSION / 2, 100), DIMENSION = 2n for an ATSP) ends
# the subgradient ascent early on some instances: TSPLIB p43 then stalls at 5621 (optimum
# 5620) with every seed; 1000 reaches 5620 and keeps br17, ftv33, ry48p, ft53, kro124p and
# ftv170 optimal. The longer ascent is not interruptible and grows with n (rbg323: ~5 s of
# CPU instead of 3), so the automatic choice applies it up to this size.
_AUTO_INITIAL_PERIOD = 1000
_AUTO_PERIOD_MAX_N = 200

# Below this many nodes the tour is found by enumeration (LKH needs at least 3 nodes, and
# enumerating at most 3! tours is exact).
_ENUMERATE_BELOW = 5


class LKHSolver(Solver):
    """Keld Helsgaun's LKH-3 heuristic for the ATSP (``pip install "hybridroute[lkh]"``).

    The reference for ATSP quality: on TSPLIB instances it reaches the optimum in
    fractions of a second where PyVRP and OR-Tools stall above it. ATSP only; no warm start.

    Parameters
    ----------
    runs
        LKH's ``RUNS``: independent trials-with-restarts; the best tour is kept.
    max_trials
        LKH's ``MAX_TRIALS`` per run (None: LKH's default, the number of nodes).
    initial_period
        LKH's ``INITIAL_PERIOD`` (length of the subgradient ascent's first period).
        ``"auto"`` (default) uses 1000 up to 200 nodes and LKH's default above; None
        always uses LKH's default.
    scale
        Integers per objective unit; None picks the smallest power of ten that keeps rounding
        below 0.01 % (1 for TSPLIB's integer matrices). LKH clips ATSP weights at
        ``INT_MAX / 2 / PRECISION`` ≈ 1.07e7, so large scales on long distances raise an error.

    Notes
    -----
    The time limit is LKH's ``TOTAL_TIME_LIMIT``, which counts CPU seconds and is checked
    between and inside runs; the initial subgradient ascent is not interruptible (it matters
    for large n). On a machine loaded beyond its cores the CPU limit is shrunk by
    cores / load so that the wall time stays near the limit.
    ``seed`` s becomes LKH's ``SEED = s + 1`` (LKH reads 0 as "seed from the clock"), so a
    given seed reproduces the tour. Tours of fewer than 5 nodes are enumerated, and only
    those are reported as proven optimal.

    **Licence.** LKH is © Keld Helsgaun and "free of charge for academic and non-commercial
    use" only; commercial use needs his permission (http://webhotel4.ruc.dk/~keld/research/LKH-3/).
    ``elkai`` (https://github.com/fikisipi/elkai), which embeds a modified LKH 3.0.8, carries
    the same restriction: "elkai is available for research and non profit use. It is based on
    LKH by Keld Helsgaun, who owns the rights to the solver." hybridroute itself (MIT) does
    not bundle LKH; installing the ``lkh`` extra is the user's choice and responsibility.
    """

    name = "lkh"
    supports = frozenset({ProblemKind.ATSP})
    accepts_initial = False
    improves_initial: ClassVar[bool] = False
    requires = ("elkai",)
    extra = "lkh"
    deterministic = True
    default_time_limit = 10.0
    deterministic_settings: ClassVar[dict[str, Any]] = {"runs": 1}
    #: LKH clips ATSP weights at INT_MAX / 2 / PRECISION (PRECISION = 100); tour costs are int64.
    INTEGER_LIMITS: ClassVar[IntegerLimits] = IntegerLimits("lkh", (2**31 - 1) // 2 // 100, 2**50)

    def __init__(self, runs: int = 10, max_trials: int | None = None,
                 initial_period: int | str | None = "auto", scale: float | None = None):
        if initial_period not in (None, "auto") and not (
                isinstance(initial_period, int) and initial_period >= 1):
            raise ValueError(f"initial_period must be a positive int, 'auto' or None, got {initial_period!r}")
        if int(runs) < 1:
            raise ValueError(f"runs must be >= 1, got {runs}")
        if max_trials is not None and int(max_trials) < 1:
            raise ValueError(f"max_trials must be >= 1 or None, got {max_trials}")
        if scale is not None and not scale > 0:
            raise ValueError(f"scale must be positive or None, got {scale}")
        self.runs = int(runs)
        self.max_trials = None if max_trials is None else int(max_trials)
        self.initial_period = initial_period
        self.scale = scale

    def _solve(self, problem: Problem, *, time_limit: float, seed: int,
               initial: list[list[int]] | None) -> SolveOutput:
        t0 = time.perf_counter()
        scaled = scale_problem(problem, self.INTEGER_LIMITS, cost_scale=self.scale)
        stats: dict[str, Any] = {"cost_scale": scaled.cost_scale}
        n = problem.num_nodes
        if n < _ENUMERATE_BELOW:
            # Enumerated on the float matrix, so the proof holds for the reported cost.
            tour = _enumerate(problem.cost_matrix)
            stats["method"] = "enumeration"
            return SolveOutput(routes=[tour], stats=stats, proven_optimal=True)
        remaining = max(time_limit - (time.perf_counter() - t0), 0.01)
        tour = self._lkh(scaled, seed, remaining)
        stats["method"] = "lkh"
        return SolveOutput(routes=[tour], stats=stats,
                           history=[(time.perf_counter() - t0, _tour_cost(scaled, tour))])

    def _parameters(self, seed: int, seconds: float, n: int) -> str:
        cpu_seconds = seconds * _cpu_share()
        lines = [f"RUNS = {self.runs}", f"SEED = {seed % (2**31 - 2) + 1}",
                 f"TOTAL_TIME_LIMIT = {cpu_seconds:.3f}", "TRACE_LEVEL = 0"]
        if self.max_trials is not None:
            lines.append(f"MAX_TRIALS = {self.max_trials}")
        period = self.initial_period
        if period == "auto":
            period = _AUTO_INITIAL_PERIOD if n <= _AUTO_PERIOD_MAX_N else None
        if period is not None:
            lines.append(f"INITIAL_PERIOD = {period}")
        return "\n".join(lines + ["PROBLEM_FILE = :stdin:", ""])

    def _lkh(self, scaled: ScaledProblem, seed: int, seconds: float) -> list[int]:
        """Run LKH and return the customers in tour order starting after node 0."""
        from elkai import _elkai  # the entry point elkai.DistanceMatrix.solve_tsp calls

        cost = scaled.cost
        n = len(cost)
        kind = "TSP" if np.array_equal(cost, cost.T) else "ATSP"
        rows = "\n".join(" ".join(map(str, row)) for row in cost.tolist())
        text = (f"TYPE : {kind}\nDIMENSION : {n}\nEDGE_WEIGHT_TYPE : EXPLICIT\n"
                f"EDGE_WEIGHT_FORMAT : FULL_MATRIX\nEDGE_WEIGHT_SECTION\n{rows}\nEOF\n")
        try:
            raw = _elkai.solve_problem(self._parameters(seed, seconds, n), text)
        except Exception as exc:  # LKH reports errors through a longjmp -> SystemError
            raise SolverError(f"LKH failed: {type(exc).__name__}: {exc}") from exc
        return _tour_from_lkh(raw, n)


def _cpu_share() -> float:
    """The share of a core this process can expect now, from the 1-minute load average.

    LKH's time limits count *CPU* seconds; on a machine busier than its cores, wall time
    runs ahead of CPU time, so the CPU limit is shrunk by cores / load (not below 1/4).
    """
    try:
        load = os.getloadavg()[0]
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    except (OSError, AttributeError):
        return 1.0
    if not cores or load <= cores:
        return 1.0
    return max(0.25, cores / load)


def _tour_from_lkh(raw: list[int] | None, n: int) -> list[int]:
    """LKH's 1-based tour -> customers after node 0 (LKH's direction kept for ATSP)."""
    if raw is None or sorted(raw) != list(range(1, n + 1)):
        raise SolverError(f"LKH returned no valid tour ({None if raw is None else len(raw)} nodes for n={n})")
    tour = [v - 1 for v in raw]
    k = tour.index(0)
    return tour[k + 1:] + tour[:k]


def _enumerate(cost: np.ndarray) -> list[int]:
    """The cheapest tour by enumeration (tiny instances)."""
    n = len(cost)
    best, best_cost = None, None
    for perm in itertools.permutations(range(1, n)):
        path = (0, *perm, 0)
        c = float(sum(cost[a, b] for a, b in zip(path, path[1:])))
        if best_cost is None or c < best_cost:
            best, best_cost = list(perm), c
    return best


def _tour_cost(scaled: ScaledProblem, tour: list[int]) -> float:
    path = [0, *tour, 0]
    return scaled.to_cost(sum(int(scaled.cost[a, b]) for a, b in zip(path, path[1:])))
