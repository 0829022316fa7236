"""Warm-started hybrids: a construction stage (the neural policy) seeds a local search.

``Hybrid(first="rrnco", then="pyvrp", split=0.1)`` runs ``first`` on a share of the budget,
then hands its solution to ``then`` as ``initial=`` for the rest. The result records both
stages, and is never worse than the first stage: if the improver returns something worse
(e.g. OR-Tools rejected the start and its cold start ended higher) the first stage's
routes are returned, and the stats say so.

Two guards keep a weak or slow first stage from costing the improver (measured with the n = 20
policy on n = 100 instances, where its tours are 70-100 % above the best: warm-started OR-Tools
ended 2-7 % above cold OR-Tools at the same budget):

* ``gate``: the first stage's solution is handed on only when it beats a nearest-neighbour
  construction (the yardstick a classical construction easily passes); otherwise the
  improver starts cold, from its own construction. A first stage that fell back to
  nearest neighbour (``stats["fallback"]``: the neural stage does so when no decoding pass
  fits its share) is refused the same way: those routes are no start of its own, and handing
  them on cost OR-Tools 6 points at ACVRP n = 500 with 2 s, where its own construction is
  better (``benchmarks/results/time_to_target_acvrp_s14798.md``).
* ``max_first_share``: the first stage never gets more than this share of the time limit.
  The neural stage says how long its first decoding pass takes (``stats["first_pass_s"]``,
  measured, or extrapolated when its share was too short); the next problems of the same
  kind and size (in this process) give it ``split`` of the limit or 1.3 times that need,
  whichever is larger, and skip it when the need does not fit in ``max_first_share``, so
  that short budgets are not spent on a pass that cannot finish. A first stage that says
  nothing of the kind is skipped when it took more than ``max_first_share`` last time, and
  after it fell back for want of time, on the next few calls with a time limit no larger.
  A size not seen yet takes its need from the nearest size measured, scaled by n^1.5, so that
  instances that all differ in size are sized the same way; ``warm_up`` (and so
  :func:`hybridroute.load_solver`) measures one size per kind ahead of the first solve
  (:meth:`Hybrid.calibrate`).
  After the gate refused a start, the next few problems of that kind and size skip the first
  stage. Either way it is measured again every fifth call.

A first stage can also know that its starts do not pay on a problem (``Solver.start_not_worth``):
the neural backend's model card names the largest size at which its starts were measured to
help an improver (``warm_start_max_n``, for every improver or per improver: the same start is
worth more to a weaker construction); above it the improver runs alone on the whole limit.

Fleet features (several depots, vehicle types, optional stops, shifts, ...): a hybrid honours
what its improver honours. When the first stage does not (the neural policy models one depot
and one vehicle type), the improver runs alone on the whole budget and
``stats["first_skipped"]`` says why.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from ..problem import Problem
from ..solution import Solution
from .base import STAGE_OF, SolveOutput, Solver, UnsupportedProblemError, get_solver, solver_class

__all__ = ["Hybrid", "RRNCOPyVRP", "RRNCOORTools", "RRNCOVroom"]

logger = logging.getLogger(__name__)

# The improver always gets at least this many seconds, even if the first stage overran.
_MIN_IMPROVER_SECONDS = 0.05

#: The first stage's share of the time limit when ``split`` is not given and the hybrid names
#: no share for the problem's kind (``Hybrid.default_splits``).
DEFAULT_SPLIT = 0.1

# What the first stage did last, per (first stage, kind, number of nodes), in this process:
# its runtime in seconds, whether the gate refused its start, and calls skipped since.
_FIRST_RECORD: dict[tuple[str, str, int], dict[str, Any]] = {}
_FIRST_LOCK = threading.Lock()
# Skips decided on an estimated need (a size not run yet), per (first stage, kind).
_ESTIMATED_SKIPS: dict[tuple[str, str], int] = {}
# After a refused start or a pass too slow for the budget, the first stage is skipped on this
# many calls on problems of the same kind and size, then measured again (the first pass of a
# process is slow, and starts vary between instances).
_REPROBE_AFTER = 4
# A first stage that says how long its first pass takes (``stats["first_pass_s"]``: the neural
# stage's encoder and first few rollouts) gets at least this multiple of it as its share, so that
# the pass fits despite the noise between calls (the same pass varies by up to 2x on a shared
# CPU): with a flat 10 % share the neural stage fitted no pass at ACVRP n >= 200 with 1-2 s.
_FIRST_PASS_MARGIN = 1.3
# A size not seen yet takes its first-pass need from the nearest size measured (same stage and
# kind), scaled by (n / n_measured) ** this. Measured on the neural stage (ACVRP, held-out
# Helsinki, one thread): 0.09-0.10 s at n = 100, 0.28-0.30 s at 200, 0.47-0.63 s at 400,
# 1.5-1.9 s at 800, an exponent of 1.3-1.7 between sizes. 1.5 errs long for large steps up
# (a share too large costs the improver less than a pass that does not fit costs the start).
_NEED_EXPONENT = 1.5
# :meth:`Hybrid.warm_up` times the first stage's first pass on one problem of this many
# customers (ATSP: nodes) per kind, sampled from the bundled Helsinki city: mid-range, so that
# the n^1.5 scaling above reaches n = 20-1000 from it (at n = 100 the neural stage's pass
# takes about 0.1 s on one CPU core).
_CALIBRATION_N = 100
# The calibration solve's time limit: enough for that pass on a slow or shared core; a pass
# stopped by it is extrapolated by the stage itself (``first_pass_s``).
_CALIBRATION_LIMIT_S = 0.3


class Hybrid(Solver):
    """A two-stage solver: ``first`` constructs, ``then`` improves from that start.

    Parameters
    ----------
    first, then
        Registry names (or Solver instances) of the two stages. ``then`` must accept a
        warm start.
    split
        Share of the time limit for the first stage (0 < split < 1), raised to fit its first
        pass when it reports one (``stats["first_pass_s"]``, see above). A one-shot first
        stage simply finishes early and leaves the rest to ``then``. None (default): the
        hybrid's share for the problem's kind (:attr:`default_splits`), else
        :data:`DEFAULT_SPLIT` (0.1).
    first_settings, then_settings
        Constructor settings of the two stages when given by name.
    gate
        Hand the first stage's solution on only when it beats a nearest-neighbour
        construction (``stats["start_gated"]`` records a refusal).
    max_first_share
        The most of the time limit the first stage gets. It is skipped when its first pass
        needs more (or, for a stage that does not report its first pass, when it last took
        more) on a problem of the same kind and size (``stats["first_skipped"]`` says why).
    """

    accepts_initial = False
    deterministic = True
    converges = True
    #: First-stage shares by problem kind (``ProblemKind.value``) where ``split`` is None and
    #: measurements favour another share than :data:`DEFAULT_SPLIT`.
    default_splits: dict[str, float] = {}

    def __init__(self, first: str | Solver = "rrnco", then: str | Solver = "pyvrp", split: float | None = None,
                 first_settings: dict[str, Any] | None = None, then_settings: dict[str, Any] | None = None,
                 gate: bool = True, max_first_share: float = 0.5):
        if split is not None and not 0 < split < 1:
            raise ValueError(f"split must be in (0, 1) or None, got {split}")
        if not 0 < max_first_share <= 1:
            raise ValueError(f"max_first_share must be in (0, 1], got {max_first_share}")
        self.gate = bool(gate)
        self.max_first_share = float(max_first_share)
        self.first = first
        self.then = then
        self.split = None if split is None else float(split)
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
        self._improver_name = then_cls.name  # what the first stage's model card may name (start_not_worth)
        self.supports = first_cls.supports & then_cls.supports
        self.features = then_cls.features
        self.requires = tuple(dict.fromkeys(first_cls.requires + then_cls.requires))
        extras = [e for e in (first_cls.extra, then_cls.extra) if e]
        self.extra = ",".join(dict.fromkeys(extras)) or None
        self.deterministic = first_cls.deterministic and then_cls.deterministic

    def get_params(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("first", "then", "split", "first_settings", "then_settings",
                                              "gate", "max_first_share")}

    def warm_up(self, kinds=None) -> None:
        """Warm up both stages (the neural checkpoints are loaded now, not in a solve), then
        :meth:`calibrate` the first stage, so that the first solve of a process already sizes
        the first stage's share from a measurement."""
        self._stage(self.first, self.first_settings).warm_up(kinds)
        self._stage(self.then, self.then_settings).warm_up(kinds)
        self.calibrate(kinds)

    def calibrate(self, kinds=None) -> dict[str, float]:
        """Time the first stage's first pass on one problem per kind, for the skip rule.

        Each kind's problem has ``_CALIBRATION_N`` customers (ATSP: nodes), sampled from the
        bundled Helsinki city (seed 0), and is solved by the first stage alone within
        ``_CALIBRATION_LIMIT_S`` seconds. What its first pass needed (``stats["first_pass_s"]``)
        is recorded as a measurement of that kind and size, from which sizes not run yet take
        their need scaled by n^1.5 (see the module docstring). Without it the first solve of
        each kind in a process gets ``split`` of its limit, which at ACVRP n = 500 with 2 s
        (0.2 s) fits no decoding pass. A first stage that does not report its first pass is
        run but not recorded, and a kind already measured in this process is left as it is.

        Parameters
        ----------
        kinds
            Problem kinds (default: every kind the hybrid supports).

        Returns
        -------
        dict
            The first-pass seconds recorded, by kind name.
        """
        from ..osrm import bundled_city, sample_instances
        from ..problem import ProblemKind

        first = self._stage(self.first, self.first_settings)
        wanted = sorted(self.supports) if kinds is None else [ProblemKind.parse(k) for k in kinds]
        recorded: dict[str, float] = {}
        for kind in wanted:
            if kind not in self.supports:
                continue
            family = (first.name, kind.value)
            with _FIRST_LOCK:
                if any(k[:2] == family and rec.get("estimated_from") is None for k, rec in _FIRST_RECORD.items()):
                    continue
            problem = sample_instances(bundled_city("Helsinki"), kind, _CALIBRATION_N, 1, seed=0)[0]
            try:
                start = first.solve(problem, time_limit=_CALIBRATION_LIMIT_S, seed=0)
            except UnsupportedProblemError as exc:  # e.g. a checkpoint for another kind
                logger.info("%s: no calibration on %s: %s", self.name, kind.value, exc)
                continue
            need = start.stats.get("first_pass_s")
            if need is None:
                continue
            record = _first_record(None, start, start.runtime, None, _CALIBRATION_LIMIT_S)
            record["short_at"] = None  # a calibration limit is no limit a caller chose
            with _FIRST_LOCK:
                _FIRST_RECORD.setdefault((*family, problem.num_nodes), record)
            recorded[kind.value] = float(need)
            logger.info("%s: first pass of %s on %s n=%d: %.3g s (calibration)", self.name, first.name,
                        kind.value, _CALIBRATION_N, need)
        return recorded

    def _stage(self, stage: str | Solver, settings: dict[str, Any]) -> Solver:
        return stage if isinstance(stage, Solver) else get_solver(stage, **settings)

    def _solve(self, problem: Problem, *, time_limit: float, seed: int, initial) -> SolveOutput:
        t0 = time.perf_counter()
        then = self._stage(self.then, self.then_settings)
        early = None
        if isinstance(self.then, str) and hasattr(then, "start_side_searches"):
            # The improver's cold side searches need no start: they run from now, on the cores
            # the first stage leaves idle, instead of after it (an improver instance made for
            # this solve, so no other solve can collect them).
            early = then.start_side_searches(problem, time_limit, seed)
        try:
            stage = self.first_stage(problem, time_limit=time_limit, seed=seed)
            if stage.skipped is not None:
                return skipped_output(stage, then.solve(problem, time_limit=time_limit, seed=seed))
            rest = max(time_limit - (time.perf_counter() - t0), _MIN_IMPROVER_SECONDS)
            final = then.solve(problem, time_limit=rest, seed=seed, initial=stage.handed)
            return self.combine(stage, final)
        finally:
            if early is not None:
                early.close()  # already closed by the improver's solve, unless the first stage raised

    def first_stage(self, problem: Problem, *, time_limit: float, seed: int) -> "FirstStage":
        """Run (or skip) the first stage on ``problem`` as :meth:`solve` does, and gate its start.

        The first half of a solve, for callers that run the improver elsewhere (``solve_many``
        runs every first stage in the calling process and fans the improvers out); the improver
        then gets the rest of ``time_limit`` (or all of it when the stage was skipped) with
        ``handed`` as its warm start, and :meth:`combine` (or :func:`skipped_output`) builds
        the result."""
        t0 = time.perf_counter()
        first = self._stage(self.first, self.first_settings)
        key = (first.name, problem.kind.value, problem.num_nodes)
        _estimate_need(key)
        unsupported = sorted(problem.features - first.features)
        if unsupported:
            reason = f"{first.name} does not support {', '.join(unsupported)}; {self._improver_name} ran alone"
        else:
            reason = first.start_not_worth(problem, self._improver_name) or self._skip_reason(key, time_limit)
        if reason is not None:
            logger.info("%s: first stage skipped: %s", self.name, reason)
            return FirstStage(first.name, None, reason, None, None, time.perf_counter() - t0)
        token = STAGE_OF.set(self.name)
        try:
            start = first.solve(problem, time_limit=self._first_share(key, time_limit), seed=seed)
        finally:
            STAGE_OF.reset(token)
        t_first = time.perf_counter() - t0
        handed, gated = self._hand_on(problem, start)
        with _FIRST_LOCK:
            # without a one-off model load (the neural stage reports it), which later calls skip
            seconds = start.runtime - float(start.stats.get("load_seconds", 0.0))
            _FIRST_RECORD[key] = _first_record(_FIRST_RECORD.get(key), start, seconds, gated, time_limit)
        return FirstStage(first.name, start, None, handed, gated, t_first)

    def combine(self, stage: "FirstStage", final: Solution) -> SolveOutput:
        """The hybrid's result from a first stage that ran and the improver's solution: never
        worse than the first stage's own routes."""
        start, t_first = stage.start, stage.seconds
        stats = _stage_stats(start, final, t_first)
        if stage.gated is not None:
            stats["start_gated"] = stage.gated
            stats["initial_accepted"] = False
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
                           proven_optimal=best.status.value == "optimal", vehicle_types=list(best.vehicle_types))

    def _first_share(self, key: tuple[str, str, int], time_limit: float) -> float:
        """Seconds for the first stage: ``split`` of the limit, raised to fit its first pass
        (``_FIRST_PASS_MARGIN`` times what it last needed on this kind and size, when it says)
        but never above ``max_first_share`` of the limit."""
        share = time_limit * self.split_for(key[1])
        with _FIRST_LOCK:
            need = (_FIRST_RECORD.get(key) or {}).get("need_s")
        if need is not None:
            share = max(share, min(_FIRST_PASS_MARGIN * need, self.max_first_share * time_limit))
        return max(share, _MIN_IMPROVER_SECONDS)

    def split_for(self, kind: str) -> float:
        """The first stage's least share of the limit on problems of ``kind`` (a ``ProblemKind`` value)."""
        return self.split if self.split is not None else self.default_splits.get(kind, DEFAULT_SPLIT)

    def _skip_reason(self, key: tuple[str, str, int], time_limit: float) -> str | None:
        """Why the first stage should not run on this problem (None: run it)."""
        with _FIRST_LOCK:
            last = _FIRST_RECORD.get(key)
            if last is None:
                return None
            if last["skipped"] >= _REPROBE_AFTER:
                return None  # measure again: a first call is slow (warm-up), starts vary
            where = f"{key[1]} n={key[2]}"
            reason = self._time_reason(key[0], where, last, time_limit)
            if reason is None and self.gate and last["gated"]:
                reason = (f"the gate refused {key[0]}'s last start on {where} (not better than nearest "
                          "neighbour)")
            if reason is None:
                return None
            if last.get("estimated_from") is not None:
                # sizes that all differ never repeat a key: count skips on estimates per stage
                # and kind, so that the stage is still measured again every fifth call
                family = key[:2]
                _ESTIMATED_SKIPS[family] = _ESTIMATED_SKIPS.get(family, 0) + 1
                if _ESTIMATED_SKIPS[family] > _REPROBE_AFTER:
                    _ESTIMATED_SKIPS[family] = 0
                    return None
            last["skipped"] += 1
            return f"{reason}; tried again after {_REPROBE_AFTER} skips"

    def _time_reason(self, name: str, where: str, last: dict[str, Any], time_limit: float) -> str | None:
        """Why this limit leaves the first stage too little time (None: it leaves enough)."""
        need = last.get("need_s")
        if need is not None:
            # the stage says what its first pass needs: that, not its last runtime (which
            # fills whatever share it was given), decides whether this limit leaves room
            if _FIRST_PASS_MARGIN * need > self.max_first_share * time_limit:
                source = last.get("estimated_from")
                how = "" if source is None else f", estimated from n={source}"
                return (f"{name}'s first pass needs about {need:.3g} s on {where}{how} ({_FIRST_PASS_MARGIN:g}x "
                        f"that is more than {self.max_first_share:g} of the {time_limit:g} s limit)")
            return None
        if last["short_at"] is not None and time_limit <= last["short_at"]:
            return (f"{name} found no solution within its share of a {last['short_at']:g} s limit "
                    f"on {where} (this limit is no larger)")
        if last["seconds"] > self.max_first_share * time_limit:
            return (f"{name} took {last['seconds']:.3g} s last time on {where}, more than "
                    f"{self.max_first_share:g} of the {time_limit:g} s limit")
        return None

    def _hand_on(self, problem: Problem, start: Solution) -> tuple[Solution | None, str | None]:
        """The start for the improver (None: cold) and, if it was refused, why."""
        if not start.routes:
            return None, None
        if not self.gate:
            return start, None
        from ..solution import evaluate
        from .baselines import nearest_neighbour_routes

        fallback = start.stats.get("fallback")
        if fallback:  # no start of its own: no need to build the yardstick
            why = (f"first stage fell back to {fallback} ({start.stats.get('fallback_reason', 'no reason given')}): "
                   "the improver starts cold")
        else:
            yardstick = evaluate(problem, nearest_neighbour_routes(problem))
            if (not start.is_feasible, start.cost) <= (not yardstick.is_feasible, yardstick.cost):
                return start, None
            why = (f"first stage cost {start.cost:.6g} (feasible={start.is_feasible}) does not beat nearest "
                   f"neighbour {yardstick.cost:.6g}: the improver starts cold")
        logger.info("%s: %s", self.name, why)
        return None, why


@dataclass
class FirstStage:
    """What a hybrid's first stage did on one problem (:meth:`Hybrid.first_stage`).

    Attributes
    ----------
    solver
        The first stage's name.
    start
        Its solution; None when it was skipped.
    skipped
        Why it was skipped (None: it ran).
    handed
        The start for the improver: ``start`` when the gate let it through, else None (cold).
    gated
        Why the gate refused ``start`` (None: handed on, or skipped).
    seconds
        Wall seconds the first stage and the gate took.
    """

    solver: str
    start: Solution | None
    skipped: str | None
    handed: Solution | None
    gated: str | None
    seconds: float


def skipped_output(stage: FirstStage, final: Solution) -> SolveOutput:
    """The hybrid's result when its first stage was skipped: the improver's, on the whole budget."""
    return SolveOutput(routes=[list(r) for r in final.routes] or None, history=list(final.history),
                       vehicle_types=list(final.vehicle_types) or None,
                       stats={"first_skipped": stage.skipped, "first_solver": stage.solver, "first_cost": None,
                              "first_runtime": 0.0, "then_solver": final.solver,
                              "then_cost": final.cost, "then_stats": dict(final.stats),
                              "initial_accepted": False, "kept_first_stage": False},
                       proven_optimal=final.status.value == "optimal", message=final.message)


def _estimate_need(key: tuple[str, str, int]) -> None:
    """Give a size never run (``key``) the first-pass need of the nearest size measured for the
    same stage and kind, scaled by ``_NEED_EXPONENT``, so that a pipeline whose instances all
    differ in size still sizes (or skips) the first stage instead of trying a flat ``split``
    every time. The estimate is a record like a measured one: the stage's own run replaces it,
    and skips on it are counted and re-probed the same way."""
    name, kind, n = key
    with _FIRST_LOCK:
        if key in _FIRST_RECORD:
            return
        measured = [(other, rec["need_s"]) for (nm, kd, other), rec in _FIRST_RECORD.items()
                    if nm == name and kd == kind and rec.get("need_s") is not None
                    and rec.get("estimated_from") is None]
        if not measured:
            return
        source, need = min(measured, key=lambda m: (abs(math.log(m[0] / n)), -m[0]))
        _FIRST_RECORD[key] = {"seconds": 0.0, "gated": False, "short_at": None, "skipped": 0,
                              "need_s": need * (n / source) ** _NEED_EXPONENT, "estimated_from": source}


def _first_record(last: dict[str, Any] | None, start: Solution, seconds: float, gated: str | None,
                  time_limit: float) -> dict[str, Any]:
    """What the skip rule remembers of a first stage's call.

    ``gated``: the gate refused a start of the stage's own (its next calls on this kind and size
    are skipped). A fallback is not such a start: one while the model was loading is a one-off;
    one for want of time (``fallback_cause == "deadline"``) says that limits up to this one are
    too short, which ``short_at`` keeps (the largest such limit) so that larger limits still run
    the stage. A call that found a solution of its own within a limit clears ``short_at`` when
    it is at or below that limit."""
    cause = start.stats.get("fallback_cause") if start.stats.get("fallback") else None
    short_at = None if last is None else last.get("short_at")
    need, source = start.stats.get("first_pass_s"), None
    if need is None and last is not None:
        # e.g. a fallback while loading says nothing of the pass: keep what is known
        need, source = last.get("need_s"), last.get("estimated_from")
    if cause == "deadline":
        short_at = max(short_at or 0.0, time_limit)
    elif cause is None and short_at is not None and time_limit <= short_at:
        short_at = None
    return {"seconds": seconds, "gated": gated is not None and cause is None, "short_at": short_at,
            "need_s": None if need is None else float(need), "skipped": 0, "estimated_from": source}


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


class _ImproverFeatures:
    """``features`` of a registered hybrid class: its improver's, looked up on first use (so
    that importing this module imports no backend)."""

    def __get__(self, obj, cls) -> frozenset[str]:
        if obj is not None and "features" in vars(obj):
            return vars(obj)["features"]
        return solver_class(cls._then_name).features

    def __set__(self, obj, value) -> None:
        vars(obj)["features"] = frozenset(value)


def _rrnco_hybrid(then: str, module: str, class_name: str, what: str,
                  default_splits: dict[str, float] | None = None) -> type[Hybrid]:
    """A registrable Hybrid with the RRNCO policy first and ``then`` as the improver."""

    def __init__(self, split: float | None = None, first_settings=None, then_settings=None, gate: bool = True,
                 max_first_share: float = 0.5):
        Hybrid.__init__(self, "rrnco", then, split, first_settings, then_settings, gate, max_first_share)

    return type(class_name, (Hybrid,), {
        "__doc__": f"The RRNCO policy's best rollout warm-starts {what}.",
        "__module__": __name__, "__init__": __init__, "name": f"rrnco+{then}",
        "requires": ("torch", "safetensors", module), "extra": f"neural,{then}",
        "features": _ImproverFeatures(), "_then_name": then, "default_splits": dict(default_splits or {}),
    })


RRNCOPyVRP = _rrnco_hybrid("pyvrp", "pyvrp", "RRNCOPyVRP", "PyVRP's iterated local search")
# ATSP: OR-Tools' portfolio keeps its insertion search cold beside the start, so a better start
# (re-construction has time at 30 %) pays where 10 % gave ties: docs/benchmarks.md (ATSP with
# OR-Tools, the neural share)
RRNCOORTools = _rrnco_hybrid("ortools", "ortools", "RRNCOORTools", "OR-Tools' guided local search",
                             {"ATSP": 0.3})
RRNCOVroom = _rrnco_hybrid("vroom", "vroom", "RRNCOVroom", "VROOM (through vehicle steps)")
