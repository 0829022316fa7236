"""LKH-3 backend for ATSP, through the ``elkai`` package (which bundles LKH 3.0.8)."""

from __future__ import annotations

import itertools
import logging
import math
import time
from typing import Any, ClassVar

import numpy as np

from ..problem import Problem, ProblemKind
from ._backend import cpu_share as _cpu_share
from .base import allowed_runtime, SolveOutput, Solver
from .scaling import IntegerLimits, ScaledProblem, scale_problem

__all__ = ["LKHSolver"]

logger = logging.getLogger(__name__)

# LKH's default INITIAL_PERIOD (max(DIMENSION / 2, 100), DIMENSION = 2n for an ATSP) ends
# the subgradient ascent early on some instances: TSPLIB p43 then stalls at 5621 (optimum
# 5620) with every seed; 1000 reaches 5620 and keeps br17, ftv33, ry48p, ft53, kro124p and
# ftv170 optimal. The ascent is not interruptible and its cost grows fast with n, so "auto"
# prefers 1000 up to this size and LKH's default above, and falls back to shorter periods
# when the preferred one would not fit in the CPU budget (see _choose_period).
_AUTO_INITIAL_PERIOD = 1000
_AUTO_PERIOD_MAX_N = 200
#: The shortest period "auto" uses (LKH's own minimum default).
_SHORT_INITIAL_PERIOD = 100

# CPU seconds of LKH's ascent plus its first trial (RUNS = 1, MAX_TRIALS = 1), measured on
# the development machine and rounded up to cover the slowest instance seen:
#   period 1000:    n=60 0.20, kro124p 0.38, ftv170 0.68, n=250 1.09, rbg323 5.5, rbg443 13.4
#   LKH's default:  kro124p 0.06, ftv170 0.15, rbg323 1.2, rbg358 2.1, rbg403 6.6, rbg443 10.5
#   period 100:     ftv170 0.10, rbg323 0.28, rbg403 0.97, rbg443 1.03, rbg358 1.46
# The rbg instances (many equal costs) need far more ascent than random ones of their size,
# so the models are upper envelopes, not fits. A slower machine can exceed them: LKH then
# builds no tour and the solver retries (see LKHSolver's notes).
_ASCENT_BASE_S = 0.05
#: Largest share of the CPU budget the automatic period lets the (estimated) ascent take;
#: the rest goes to LKH's trials. The ascent matters more: see _choose_period.
_ASCENT_SHARE = 0.9


def _ascent_cpu_estimate(n: int, period: int | None) -> float:
    """Estimated CPU seconds LKH needs for its ascent and first tour on ``n`` nodes.

    ``period`` is the INITIAL_PERIOD passed to LKH (None: LKH's default, n for an ATSP).
    """
    if period is None:
        return _ASCENT_BASE_S + 1.3e-7 * n ** 3
    # The ascent's first period costs about period x n^2 operations (shorter periods end
    # sooner; long ones run to their end on hard instances).
    return _ASCENT_BASE_S + 1.3e-7 * n ** 3 * min(1.0, period / n) + 6e-8 * period * n ** 2


def _choose_period(setting: int | str | None, n: int, cpu_budget: float) -> int | None:
    """The INITIAL_PERIOD to pass to LKH (None: LKH's default).

    An explicit int or None is used as given. ``"auto"`` walks down the ladder 1000 (up to
    200 nodes), LKH's default, 200, 100 and takes the first whose estimated ascent fits in
    :data:`_ASCENT_SHARE` of ``cpu_budget`` (100 when none does). A longer ascent gives
    LKH better candidate edges, worth more than the trials it costs: on rbg403, period 100
    ends 1.9 % above the optimum after 9 CPU s, 200 ends 0.3 % above after 6.3 CPU s and
    LKH's default is optimal after 9 CPU s.
    """
    if setting != "auto":
        return setting
    preferred = _AUTO_INITIAL_PERIOD if n <= _AUTO_PERIOD_MAX_N else None
    for period in dict.fromkeys((preferred, None, 2 * _SHORT_INITIAL_PERIOD)):
        if _ascent_cpu_estimate(n, period) <= _ASCENT_SHARE * cpu_budget:
            return period
    return _SHORT_INITIAL_PERIOD


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
        ``"auto"`` (default) prefers 1000 up to 200 nodes and LKH's default above, and
        shortens the period (200, then 100) when the ascent would not fit in the time
        limit; None always uses LKH's default, an int that period (the time limit is then
        raised to what their ascent needs, see the notes).
    scale
        Integers per objective unit; None picks the smallest power of ten that keeps rounding
        below 0.01 % (1 for TSPLIB's integer matrices). LKH clips ATSP weights at
        ``INT_MAX / 2 / PRECISION`` ≈ 1.07e7, so large scales on long distances raise an error.

    Notes
    -----
    The time limit is LKH's ``TOTAL_TIME_LIMIT``, which counts CPU seconds and is checked
    between and inside runs; the initial subgradient ascent is not interruptible (it matters
    for large n: with LKH's default period, 6.6 CPU s on rbg403 and 10.5 on rbg443). On a
    machine loaded beyond its cores the CPU limit is shrunk by cores / load so that the
    wall time stays near the limit, but never below what LKH needs to finish its ascent
    and first tour (:func:`_ascent_cpu_estimate`, an upper envelope of measured times):
    LKH checks the total limit before its first run too, and when the ascent has used it
    all it builds no tour at all. A budget too small for even the shortest ascent is
    therefore overrun rather than wasted (``stats["cpu_limit_floored"]``; e.g. rbg443 at
    5 s: 3.8 CPU s). ``stats`` also reports ``cpu_share``, ``cpu_limit_s`` and
    ``initial_period``.

    elkai hands back whatever tour its previous call left behind when LKH builds none, so
    every call is preceded by a 3-node call (a tour of the wrong length then shows the
    failure) and every tour is checked to be a permutation of all n nodes. A failed call is
    retried once with one run of one trial and no time limit (``stats["lkh_retry"]``); if
    that fails too, the nearest-neighbour tour is returned with a message and
    ``stats["fallback"] = "nearest"``.

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
    converges = True
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
        # a guarded LKH run is killed at the contract's bound (minus a margin for the fallback)
        bound = allowed_runtime(time_limit) - (time.perf_counter() - t0) - 0.25 if math.isfinite(time_limit) else math.inf
        tour, message = self._lkh(scaled, seed, remaining, stats, time.monotonic() + bound)
        if tour is None:
            from .baselines import nearest_neighbour_routes

            tour = nearest_neighbour_routes(problem)[0]
            stats["method"] = "nearest"
            stats["fallback"] = "nearest"
            logger.warning("lkh: %s; returning the nearest-neighbour tour", message)
            message = f"{message}; returned the nearest-neighbour tour instead"
        else:
            stats["method"] = "lkh"
        return SolveOutput(routes=[tour], stats=stats, message=message,
                           history=[(time.perf_counter() - t0, _tour_cost(scaled, tour))])

    def _parameters(self, seed: int, cpu_seconds: float | None, period: int | None, *,
                    runs: int | None = None, max_trials: int | None = None) -> str:
        """LKH's parameter text; ``cpu_seconds`` None sets no time limit, ``period`` None
        leaves LKH's default INITIAL_PERIOD."""
        lines = [f"RUNS = {runs or self.runs}", f"SEED = {seed % (2**31 - 2) + 1}", "TRACE_LEVEL = 0"]
        if cpu_seconds is not None:
            lines.append(f"TOTAL_TIME_LIMIT = {cpu_seconds:.3f}")
        trials = max_trials or self.max_trials
        if trials is not None:
            lines.append(f"MAX_TRIALS = {trials}")
        if period is not None:
            lines.append(f"INITIAL_PERIOD = {period}")
        return "\n".join(lines + ["PROBLEM_FILE = :stdin:", ""])

    def _budget(self, seconds: float, n: int, stats: dict[str, Any]) -> tuple[float, int | None]:
        """(LKH's CPU limit, INITIAL_PERIOD) for a wall budget of ``seconds``.

        The CPU limit is the budget times the CPU share, floored at the estimated CPU the
        ascent and first tour need: below it, LKH would stop before its first run.
        """
        share = _cpu_share()
        budget = seconds * share
        period = _choose_period(self.initial_period, n, budget)
        floor = _ascent_cpu_estimate(n, period)
        stats["cpu_share"] = round(share, 3)
        stats["initial_period"] = period
        if budget < floor:
            stats["cpu_limit_floored"] = True
            budget = floor
        stats["cpu_limit_s"] = round(budget, 3)
        return budget, period

    def _lkh(self, scaled: ScaledProblem, seed: int, seconds: float, stats: dict[str, Any],
             deadline: float = math.inf) -> tuple[list[int] | None, str]:
        """Run LKH; return (customers in tour order after node 0, or None; message).

        ``deadline`` is a ``time.monotonic()`` reading. When LKH's ascent alone is estimated
        to need more CPU than the budget (``cpu_limit_floored``), LKH runs in a side process
        killed at the deadline, since neither its ascent nor elkai can be interrupted.
        """
        n = len(scaled.cost)
        text = _problem_text(scaled.cost)
        if math.isinf(seconds):  # time_limit=math.inf: LKH's runs end by themselves
            params = self._parameters(seed, None, _choose_period(self.initial_period, n, math.inf))
        else:
            params = self._parameters(seed, *self._budget(seconds, n, stats))
        if stats.get("cpu_limit_floored") and math.isfinite(deadline):
            from ._parallel import SideProcessError, call_before

            try:
                raw = call_before(f"{__name__}:_call_lkh", deadline, params=params, text=text)
            except SideProcessError as exc:
                return None, (f"LKH's ascent at n={n} needs about {stats['cpu_limit_s']:g} CPU s, more than "
                              f"the {seconds:.3g} s left; stopped at the time limit's bound ({exc})")
            tour, why = _tour_from_lkh(raw, n)
            return (tour, "") if tour is not None else (None, why)
        tour, why = _tour_from_lkh(_call_lkh(params, text), n)
        if tour is not None:
            return tour, ""
        # One run of one trial without a time limit always ends with a tour (unless LKH
        # fails), and the short period keeps its ascent cheap (about 1 CPU s at 443 nodes).
        logger.info("lkh: %s; retrying with one run of one trial and no time limit", why)
        stats["lkh_retry"] = why
        tour, why_again = _tour_from_lkh(
            _call_lkh(self._parameters(seed, None, _SHORT_INITIAL_PERIOD, runs=1, max_trials=1), text), n)
        if tour is not None:
            return tour, f"LKH built no tour within the time limit ({why}); one trial without a limit did"
        return None, f"LKH returned no valid tour ({why}; retry: {why_again})"


def _problem_text(cost: np.ndarray) -> str:
    """A TSPLIB problem (TSP when ``cost`` is symmetric, else ATSP) for elkai's stdin."""
    n = len(cost)
    kind = "TSP" if np.array_equal(cost, cost.T) else "ATSP"
    rows = "\n".join(" ".join(map(str, row)) for row in cost.tolist())
    return (f"TYPE : {kind}\nDIMENSION : {n}\nEDGE_WEIGHT_TYPE : EXPLICIT\n"
            f"EDGE_WEIGHT_FORMAT : FULL_MATRIX\nEDGE_WEIGHT_SECTION\n{rows}\nEOF\n")


#: A 3-node problem solved before every real call: if LKH then builds no tour, elkai's
#: stale result is this 3-node tour, which no real call (n >= 5) can mistake for its own.
_SENTINEL = ("TYPE : ATSP\nDIMENSION : 3\nEDGE_WEIGHT_TYPE : EXPLICIT\nEDGE_WEIGHT_FORMAT : "
             "FULL_MATRIX\nEDGE_WEIGHT_SECTION\n0 1 2\n2 0 1\n1 2 0\nEOF\n")
_SENTINEL_PARAMETERS = "RUNS = 1\nSEED = 1\nTRACE_LEVEL = 0\nPROBLEM_FILE = :stdin:\n"


def _call_lkh(params: str, text: str) -> list[int] | str:
    """One elkai call after the sentinel: LKH's raw tour, or the error it raised (LKH's
    errors longjmp to a SystemError). The tour is untrusted: check it with
    :func:`_tour_from_lkh`."""
    from elkai import _elkai  # the entry point elkai.DistanceMatrix.solve_tsp calls

    try:
        _elkai.solve_problem(_SENTINEL_PARAMETERS, _SENTINEL)
        return _elkai.solve_problem(params, text)
    except Exception as exc:
        logger.info("lkh: elkai raised %s: %s", type(exc).__name__, exc)
        return f"LKH failed: {type(exc).__name__}: {exc}"


def _tour_from_lkh(raw: list[int] | str | None, n: int) -> tuple[list[int] | None, str]:
    """LKH's 1-based tour -> (customers after node 0, ""), or (None, why it is not a tour).

    Valid means a permutation of 1..n; anything else (a stale tour of another size, None,
    an error text from :func:`_call_lkh`) is refused. LKH's direction is kept for the ATSP.
    """
    if isinstance(raw, str):
        return None, raw
    if raw is None:
        return None, "LKH returned nothing"
    if len(raw) != n:
        return None, f"LKH returned {len(raw)} nodes for n={n}"
    if sorted(raw) != list(range(1, n + 1)):
        return None, f"LKH returned a sequence of {n} nodes that is not a tour"
    tour = [v - 1 for v in raw]
    k = tour.index(0)
    return tour[k + 1:] + tour[:k], ""


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
