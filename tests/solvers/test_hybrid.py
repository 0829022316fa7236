"""Warm-started hybrids: both stages recorded, never worse than the first stage, one budget."""

import types

import numpy as np
import pytest

import hybridroute as hr
from hybridroute.solvers.base import SolveOutput, Solver
from hybridroute.solvers.hybrid import _MIN_IMPROVER_SECONDS, Hybrid


class WorseImprover(Solver):
    """An 'improver' that accepts a start and returns one route per customer (always worse)."""

    name = "worse"
    accepts_initial = True

    def _solve(self, problem, *, time_limit, seed, initial):
        return SolveOutput(routes=[[v] for v in problem.customers], stats={"initial_accepted": True})


@pytest.mark.parametrize("then", ["pyvrp", "ortools"])
@pytest.mark.parametrize("fixture", ["atsp10", "acvrp12", "acvrptw12"])
def test_hybrid_records_both_stages(request, fixture, then):
    pytest.importorskip(then)
    problem = request.getfixturevalue(fixture)
    sol = Hybrid(first="nearest", then=then, split=0.2).solve(problem, time_limit=1.0, seed=0)
    assert sol.is_feasible and sol.solver == f"nearest+{then}"
    st = sol.stats
    assert st["first_solver"] == "nearest" and st["then_solver"] == then
    assert st["initial_accepted"] is True
    assert sol.cost <= st["first_cost"] + 1e-9
    assert sol.cost == pytest.approx(min(st["first_cost"], st["then_cost"]))
    # one anytime curve across both stages, ending at the final cost
    times = [t for t, _ in sol.history]
    assert times == sorted(times) and sol.history[-1][1] == pytest.approx(sol.cost)
    assert sol.history[0][1] == pytest.approx(st["first_cost"])
    # the budget is for both stages together: the improver gets what the first stage left
    assert st["then_stats"]["time_limit"] <= max(1.0 - st["first_runtime"], _MIN_IMPROVER_SECONDS) + 1e-9


class SlowNearest(Solver):
    """A first stage that takes ``seconds`` and returns nearest neighbour's routes."""

    name = "slow-nearest"
    started: list[float] = []

    def _solve(self, problem, *, time_limit, seed, initial):
        import time

        self.started.append(time.monotonic())
        time.sleep(0.6)
        return SolveOutput(routes=[list(r) for r in hr.solve(problem, "nearest").routes])


def test_pyvrps_side_search_runs_beside_the_first_stage(acvrp12, monkeypatch):
    """The cold side search needs no start: it is sent before the first stage begins, aimed at
    the hybrid's whole limit, and collected by the improver."""
    import time

    pytest.importorskip("pyvrp")
    from hybridroute.solvers import pyvrp_solver

    sent = []
    send = pyvrp_solver._send
    monkeypatch.setattr(pyvrp_solver, "_send",
                        lambda process, **kw: (sent.append((time.monotonic(), kw)), send(process, **kw))[1])
    SlowNearest.started = []
    t0 = time.monotonic()
    sol = Hybrid(first=SlowNearest(), then="pyvrp", split=0.3, gate=False,
                 then_settings={"workers": 2}).solve(acvrp12, time_limit=3.0, seed=0)
    assert len(sent) == 1 and sent[0][0] < SlowNearest.started[0]
    assert sent[0][1]["end"] == pytest.approx(t0 + 3.0 - pyvrp_solver.SIDE_STOP_EARLY_S, abs=0.3)
    searches = sol.stats["then_stats"]["searches"]
    assert len(searches) == 2 and searches[1].get("feasible") is True
    assert sol.is_feasible and sol.runtime < 3.0 + 0.5


def test_hybrid_keeps_the_first_stage_when_the_improver_is_worse(acvrp12):
    sol = Hybrid(first="nearest", then=WorseImprover()).solve(acvrp12, time_limit=0.5)
    nearest = hr.solve(acvrp12, "nearest")
    assert sol.routes == nearest.routes and sol.stats["kept_first_stage"] is True


def test_hybrid_validates_its_stages():
    with pytest.raises(ValueError, match="does not accept a warm start"):
        Hybrid(first="nearest", then="nearest")
    with pytest.raises(ValueError, match="split"):
        Hybrid(first="nearest", then="pyvrp", split=1.5)
    with pytest.raises(hr.UnknownSolverError):
        Hybrid(first="nope", then="pyvrp")


def test_registered_hybrid_names():
    from hybridroute.solvers import solver_class

    for name in ("rrnco+pyvrp", "rrnco+ortools", "rrnco+vroom"):
        cls = solver_class(name)
        assert cls.name == name and "torch" in cls.requires and cls.extra.startswith("neural,")


def test_rrnco_fits_its_effort_to_the_budget(acvrp12):
    """No time for a pass: the nearest-neighbour fallback, said in stats; room: every start ×
    every augmentation (the mechanism is tested in detail in test_time_limits.py)."""
    pytest.importorskip("torch")
    hr.load_solver("rrnco", kinds=["ACVRP"])
    tiny = hr.solve(acvrp12, "rrnco", time_limit=1e-3)
    assert tiny.is_feasible and tiny.stats["fallback"] == "nearest" and tiny.stats["augment"] == 0
    roomy = hr.solve(acvrp12, "rrnco", time_limit=60)
    assert roomy.stats["augment"] == 8 and roomy.stats["starts"] == 12 and "fallback" not in roomy.stats


class OneRoutePerCustomer(Solver):
    """A poor first stage: feasible, but far worse than nearest neighbour."""

    name = "one-route-each"

    def _solve(self, problem, *, time_limit, seed, initial):
        return SolveOutput(routes=[[v] for v in problem.customers])


class SlowFirstStage(Solver):
    """A first stage that takes ``seconds`` and then returns nearest-neighbour routes."""

    name = "slow-first"

    def __init__(self, seconds: float = 0.3):
        self.seconds = seconds
        self.calls = 0

    def _solve(self, problem, *, time_limit, seed, initial):
        import time

        from hybridroute.solvers.baselines import nearest_neighbour_routes

        self.calls += 1
        time.sleep(self.seconds)
        return SolveOutput(routes=nearest_neighbour_routes(problem))


def test_a_start_worse_than_nearest_neighbour_is_not_handed_on(acvrp12):
    pytest.importorskip("pyvrp")
    hybrid = Hybrid(first=OneRoutePerCustomer(), then="pyvrp", then_settings={"max_iterations": 50})
    sol = hybrid.solve(acvrp12, time_limit=2, seed=0)
    assert "does not beat nearest neighbour" in sol.stats["start_gated"]
    assert sol.stats["initial_accepted"] is False
    assert sol.is_feasible and sol.cost <= sol.stats["first_cost"]
    ungated = Hybrid(first=OneRoutePerCustomer(), then="pyvrp", then_settings={"max_iterations": 50},
                     gate=False).solve(acvrp12, time_limit=2, seed=0)
    assert "start_gated" not in ungated.stats and ungated.stats["initial_accepted"] is True


class FallbackFirstStage(Solver):
    """A first stage that returns nearest-neighbour routes as its fallback, as the neural stage
    does when no decoding pass fits its share of the budget."""

    name = "fallback-first"

    def __init__(self, cause: str = "deadline"):
        self.cause = cause
        self.calls = 0

    def _solve(self, problem, *, time_limit, seed, initial):
        from hybridroute.solvers.baselines import nearest_neighbour_routes

        self.calls += 1
        return SolveOutput(routes=nearest_neighbour_routes(problem),
                           stats={"fallback": "nearest", "fallback_reason": "no decoding pass finished",
                                  "fallback_cause": self.cause})


def test_a_first_stage_that_fell_back_to_nearest_neighbour_is_not_handed_on(acvrp12):
    pytest.importorskip("pyvrp")
    hybrid = Hybrid(first=FallbackFirstStage(), then="pyvrp", then_settings={"max_iterations": 50})
    sol = hybrid.solve(acvrp12, time_limit=2, seed=0)
    assert "fell back to nearest (no decoding pass finished)" in sol.stats["start_gated"]
    assert sol.stats["initial_accepted"] is False and sol.is_feasible
    # a fallback for want of time skips the next calls with a limit no larger ...
    skipped = hybrid.solve(acvrp12, time_limit=1.5, seed=0).stats["first_skipped"]
    assert "found no solution within its share of a 2 s limit" in skipped
    # ... while a larger limit runs the first stage again
    assert "first_skipped" not in hybrid.solve(acvrp12, time_limit=3, seed=0).stats
    assert hybrid.first.calls == 2
    # ... one while the model was loading does not: the next call runs the first stage again
    loading = FallbackFirstStage(cause="loading")
    loading.name = "loading-first"  # the skip rule's records are per first stage, kind and size
    hybrid = Hybrid(first=loading, then="pyvrp", then_settings={"max_iterations": 50})
    assert "start_gated" in hybrid.solve(acvrp12, time_limit=2, seed=0).stats
    assert "first_skipped" not in hybrid.solve(acvrp12, time_limit=2, seed=0).stats and loading.calls == 2
    # the same routes from a first stage that chose them are handed on
    chosen = Hybrid(first="nearest", then="pyvrp", then_settings={"max_iterations": 50}).solve(
        acvrp12, time_limit=2, seed=0)
    assert "start_gated" not in chosen.stats and chosen.stats["initial_accepted"] is True


def test_a_first_stage_too_slow_for_the_budget_is_skipped_next_time(atsp10):
    pytest.importorskip("pyvrp")
    slow = SlowFirstStage(0.3)
    hybrid = Hybrid(first=slow, then="pyvrp", then_settings={"max_iterations": 50})
    first = hybrid.solve(atsp10, time_limit=0.4, seed=0)  # measures the first stage: 0.3 s
    assert "first_skipped" not in first.stats and first.stats["first_runtime"] >= 0.3
    again = hybrid.solve(atsp10, time_limit=0.4, seed=0)  # 0.3 s > 0.5 x 0.4 s: skipped
    assert "took 0.3" in again.stats["first_skipped"] and again.is_feasible
    assert slow.calls == 1
    roomy = hybrid.solve(atsp10, time_limit=2.0, seed=0)  # 0.3 s < 0.5 x 2 s: runs
    assert "first_skipped" not in roomy.stats and slow.calls == 2
    from hybridroute.solvers.hybrid import _REPROBE_AFTER

    for _ in range(_REPROBE_AFTER):  # too slow again: skipped, then measured once more
        assert "first_skipped" in hybrid.solve(atsp10, time_limit=0.4, seed=0).stats
    assert "first_skipped" not in hybrid.solve(atsp10, time_limit=0.4, seed=0).stats
    assert slow.calls == 3


class PassFirstStage(Solver):
    """A first stage that reports what its first pass needs (``first_pass_s``), as the neural
    stage does, and records the time limits it was given."""

    name = "pass-first"

    def __init__(self, need: float):
        self.need = need
        self.limits = []

    def _solve(self, problem, *, time_limit, seed, initial):
        from hybridroute.solvers.baselines import nearest_neighbour_routes

        self.limits.append(time_limit)
        return SolveOutput(routes=nearest_neighbour_routes(problem), stats={"first_pass_s": self.need})


def test_the_first_share_is_sized_to_fit_the_first_pass(acvrp12):
    pytest.importorskip("pyvrp")
    from hybridroute.solvers.hybrid import _FIRST_PASS_MARGIN

    stage = PassFirstStage(need=0.4)
    hybrid = Hybrid(first=stage, then="pyvrp", split=0.1, then_settings={"max_iterations": 20})
    hybrid.solve(acvrp12, time_limit=2.0, seed=0)  # nothing known yet: split x limit
    assert stage.limits == [pytest.approx(0.2)]
    sol = hybrid.solve(acvrp12, time_limit=2.0, seed=0)  # now: the margin times the need
    assert stage.limits[-1] == pytest.approx(_FIRST_PASS_MARGIN * 0.4) and "first_skipped" not in sol.stats
    hybrid.solve(acvrp12, time_limit=20.0, seed=0)  # split x limit is larger: kept
    assert stage.limits[-1] == pytest.approx(2.0)
    # 1.3 x 0.4 s is more than half of 1 s: skipped, with the need in the reason, never the
    # last runtime (2 s at the 20 s limit would otherwise have skipped every limit below 4 s)
    skipped = hybrid.solve(acvrp12, time_limit=1.0, seed=0)
    assert "first pass needs about 0.4 s" in skipped.stats["first_skipped"] and skipped.is_feasible
    assert len(stage.limits) == 3
    assert "first_skipped" not in hybrid.solve(acvrp12, time_limit=1.5, seed=0).stats
    assert stage.limits[-1] == pytest.approx(_FIRST_PASS_MARGIN * 0.4)


def test_the_first_share_defaults_per_kind(atsp10, acvrp12):
    pytest.importorskip("pyvrp")
    from hybridroute.solvers import solver_class
    from hybridroute.solvers.hybrid import DEFAULT_SPLIT

    per_kind = type("PerKind", (Hybrid,), {"default_splits": {"ATSP": 0.3}})
    stage = type("PerKindFirst", (PassFirstStage,), {"name": "per-kind-first"})(need=0.0)  # nothing recorded yet
    hybrid = per_kind(first=stage, then="pyvrp", then_settings={"max_iterations": 20})
    hybrid.solve(atsp10, time_limit=2.0, seed=0)
    hybrid.solve(acvrp12, time_limit=2.0, seed=0)
    assert stage.limits == [pytest.approx(0.6), pytest.approx(2.0 * DEFAULT_SPLIT)]
    given = per_kind(first=stage, then="pyvrp", split=0.2, then_settings={"max_iterations": 20})
    given.solve(atsp10, time_limit=2.0, seed=0)  # a split given is used for every kind
    assert stage.limits[-1] == pytest.approx(0.4) and given.split_for("ATSP") == 0.2
    # the registered hybrids: OR-Tools on ATSP takes 30 % (its portfolio keeps a cold search)
    ortools, pyvrp = solver_class("rrnco+ortools"), solver_class("rrnco+pyvrp")
    assert ortools.default_splits == {"ATSP": 0.3} and pyvrp.default_splits == {}
    assert Hybrid(first="nearest", then="pyvrp").split is None


class SizedPassFirstStage(PassFirstStage):
    """A first stage whose first pass needs ``seconds_per_node * n ** 1.5`` (it says so)."""

    name = "sized-pass-first"

    def __init__(self, seconds_per_node: float):
        super().__init__(need=0.0)
        self.seconds_per_node = seconds_per_node

    def _solve(self, problem, *, time_limit, seed, initial):
        self.need = self.seconds_per_node * problem.num_nodes ** 1.5
        return super()._solve(problem, time_limit=time_limit, seed=seed, initial=initial)


def _acvrp(n: int, seed: int = 0) -> hr.Problem:
    from support import random_matrix

    rng = np.random.default_rng(seed)
    d = random_matrix(n + 1, rng)
    return hr.Problem("ACVRP", d, d / 10.0, demand=np.r_[0, rng.integers(1, 10, n)], capacity=30,
                      name=f"acvrp{n}")


def test_a_size_not_seen_yet_is_sized_from_the_nearest_size_measured():
    pytest.importorskip("pyvrp")
    from hybridroute.solvers.hybrid import _FIRST_PASS_MARGIN, _NEED_EXPONENT

    assert _NEED_EXPONENT == 1.5  # the stage below scales as the estimate does
    stage = SizedPassFirstStage(seconds_per_node=0.002)
    hybrid = Hybrid(first=stage, then="pyvrp", split=0.1, then_settings={"max_iterations": 20})
    hybrid.solve(_acvrp(15), time_limit=2.0, seed=0)  # nothing known at any size: split x limit
    assert stage.limits == [pytest.approx(0.2)]
    # n = 30 (31 nodes) was never run: its need comes from 16 nodes, scaled, before the stage runs
    sol = hybrid.solve(_acvrp(30), time_limit=2.0, seed=0)
    need_31 = 0.002 * 31 ** 1.5
    assert stage.limits[-1] == pytest.approx(_FIRST_PASS_MARGIN * need_31) and "first_skipped" not in sol.stats
    # a size whose estimated need does not fit half the limit is skipped without a run, and says why
    calls = len(stage.limits)
    skipped = hybrid.solve(_acvrp(60), time_limit=0.4, seed=0)
    assert "estimated from n=31" in skipped.stats["first_skipped"] and skipped.is_feasible
    assert len(stage.limits) == calls
    # sizes that all differ never repeat: the stage is still measured again every fifth call
    from hybridroute.solvers.hybrid import _REPROBE_AFTER

    sols = [hybrid.solve(_acvrp(61 + i), time_limit=0.4, seed=0) for i in range(_REPROBE_AFTER - 1)]
    assert all("first_skipped" in s.stats for s in sols) and len(stage.limits) == calls
    assert "first_skipped" not in hybrid.solve(_acvrp(70), time_limit=0.4, seed=0).stats
    assert len(stage.limits) == calls + 1


class CalibratedPassFirstStage(SizedPassFirstStage):
    name = "calibrated-pass-first"


def test_calibration_sizes_the_first_solve_of_a_process():
    pytest.importorskip("pyvrp")
    from hybridroute.solvers.hybrid import _CALIBRATION_LIMIT_S, _CALIBRATION_N, _FIRST_PASS_MARGIN

    stage = CalibratedPassFirstStage(seconds_per_node=0.002)
    hybrid = Hybrid(first=stage, then="pyvrp", split=0.1, then_settings={"max_iterations": 20})
    need_cal = 0.002 * (_CALIBRATION_N + 1) ** 1.5
    assert hybrid.calibrate(["ACVRP"]) == {"ACVRP": pytest.approx(need_cal)}
    assert stage.limits == [pytest.approx(_CALIBRATION_LIMIT_S)]
    # the first solve (n = 30: 31 nodes) is sized from the calibration, not split x limit (0.2 s)
    sol = hybrid.solve(_acvrp(30), time_limit=2.0, seed=0)
    assert stage.limits[-1] == pytest.approx(_FIRST_PASS_MARGIN * 0.002 * 31 ** 1.5)
    assert sol.stats["first_runtime"] > 0 and "first_skipped" not in sol.stats
    # a kind measured already is not calibrated again; other kinds still are
    calls = len(stage.limits)
    assert hybrid.calibrate(["ACVRP"]) == {} and len(stage.limits) == calls
    assert set(hybrid.calibrate(["ATSP"])) == {"ATSP"} and len(stage.limits) == calls + 1


def test_warm_up_calibrates_only_stages_that_report_their_first_pass():
    pytest.importorskip("pyvrp")

    silent = Hybrid(first=OneRoutePerCustomer(), then="pyvrp", then_settings={"max_iterations": 20})
    assert silent.calibrate(["ACVRP"]) == {}  # it ran, but says nothing of a first pass
    stage = CalibratedPassFirstStage(seconds_per_node=0.001)
    stage.name = "warm-pass-first"
    Hybrid(first=stage, then="pyvrp", then_settings={"max_iterations": 20}).warm_up(["ATSP"])
    assert len(stage.limits) == 1


class OneKindPassFirstStage(CalibratedPassFirstStage):
    """Solves ACVRP only, as a neural stage given one kind's checkpoint does."""

    name = "one-kind-pass-first"

    def _solve(self, problem, *, time_limit, seed, initial):
        if problem.kind is not hr.ProblemKind.ACVRP:
            raise hr.UnsupportedProblemError(f"this stage solves ACVRP, the problem is {problem.kind.value}")
        return super()._solve(problem, time_limit=time_limit, seed=seed, initial=initial)


def test_calibration_passes_over_kinds_the_first_stage_cannot_solve():
    pytest.importorskip("pyvrp")
    stage = OneKindPassFirstStage(seconds_per_node=0.001)
    hybrid = Hybrid(first=stage, then="pyvrp", then_settings={"max_iterations": 20})
    assert set(hybrid.calibrate()) == {"ACVRP"}


def test_the_skip_rule_keeps_the_last_first_pass_need():
    from hybridroute.solvers.hybrid import _first_record

    def start(stats):
        return types.SimpleNamespace(stats=stats)

    rec = _first_record(None, start({"fallback": "nearest", "fallback_cause": "deadline", "first_pass_s": 0.9}),
                        0.2, "fell back", 2.0)
    assert rec["need_s"] == 0.9
    rec = _first_record(rec, start({"fallback": "nearest", "fallback_cause": "loading"}), 0.0, "fell back", 2.0)
    assert rec["need_s"] == 0.9  # a call that says nothing of the pass keeps what is known
    assert _first_record(rec, start({"first_pass_s": 0.7}), 1.0, None, 10.0)["need_s"] == 0.7


def test_hybrid_validates_max_first_share():
    with pytest.raises(ValueError, match="max_first_share"):
        Hybrid(first="nearest", then="pyvrp", max_first_share=0)


class CountingPoorStart(OneRoutePerCustomer):
    name = "counting-poor-start"

    def __init__(self):
        self.calls = 0

    def _solve(self, problem, *, time_limit, seed, initial):
        self.calls += 1
        return super()._solve(problem, time_limit=time_limit, seed=seed, initial=initial)


def test_after_a_refused_start_the_first_stage_is_skipped_then_retried(acvrp12):
    pytest.importorskip("pyvrp")
    from hybridroute.solvers.hybrid import _REPROBE_AFTER

    poor = CountingPoorStart()
    hybrid = Hybrid(first=poor, then="pyvrp", then_settings={"max_iterations": 20})
    sols = [hybrid.solve(acvrp12, time_limit=2, seed=0) for _ in range(_REPROBE_AFTER + 2)]
    assert "start_gated" in sols[0].stats
    assert all("the gate refused" in s.stats["first_skipped"] for s in sols[1:_REPROBE_AFTER + 1])
    assert "first_skipped" not in sols[-1].stats  # tried again
    assert poor.calls == 2
    assert all(s.is_feasible for s in sols)


def test_the_skip_rule_keeps_the_largest_limit_a_first_stage_fell_short_at():
    from hybridroute.solvers.hybrid import _first_record

    def start(cause=None):  # only the stats of the first stage's solution matter here
        return types.SimpleNamespace(stats={"fallback": "nearest", "fallback_cause": cause} if cause else {})

    rec = _first_record(None, start("deadline"), 0.2, "fell back", 2.0)
    assert rec["short_at"] == 2.0 and rec["gated"] is False
    rec = _first_record(rec, start("deadline"), 0.1, "fell back", 1.0)
    assert rec["short_at"] == 2.0  # the largest limit that was too short is kept
    rec = _first_record(rec, start(), 0.9, None, 10.0)
    assert rec["short_at"] == 2.0  # a success at a larger limit says nothing about 2 s
    rec = _first_record(rec, start(), 0.2, None, 2.0)
    assert rec["short_at"] is None  # a success at that limit clears it
    rec = _first_record(rec, start("loading"), 0.0, "fell back", 1.0)
    assert rec["short_at"] is None and rec["gated"] is False  # loading is a one-off
    assert _first_record(rec, start(), 0.1, "worse than nearest", 1.0)["gated"] is True


class NotWorthAbove(Solver):
    """A first stage that declares its starts worthless above ``limit`` customers."""

    name = "not-worth-above"
    limit = 5
    calls = 0

    def start_not_worth(self, problem, improver=None):
        return f"no use above n = {self.limit}" if problem.size > self.limit else None

    def _solve(self, problem, *, time_limit, seed, initial):
        type(self).calls += 1
        return SolveOutput(routes=[list(r) for r in hr.solve(problem, "nearest").routes])


def test_a_first_stage_that_knows_its_start_does_not_pay_is_skipped(acvrp12):
    """The improver then gets the whole limit, and stats say why."""
    pytest.importorskip("pyvrp")
    NotWorthAbove.calls = 0
    sol = Hybrid(first=NotWorthAbove(), then="pyvrp").solve(acvrp12, time_limit=0.5, seed=0)
    assert NotWorthAbove.calls == 0 and sol.stats["first_skipped"] == "no use above n = 5"
    assert sol.is_feasible and sol.stats["then_stats"]["time_limit"] == pytest.approx(0.5, abs=0.05)
    NotWorthAbove.limit = 12
    try:
        ran = Hybrid(first=NotWorthAbove(), then="pyvrp").solve(acvrp12, time_limit=0.5, seed=0)
    finally:
        NotWorthAbove.limit = 5
    assert NotWorthAbove.calls == 1 and "first_skipped" not in ran.stats


def _checkpoint_copy(tmp_path, name, **card_fields):
    import json
    import shutil

    from hybridroute.neural.checkpoint import find_checkpoint

    weights = find_checkpoint(name)
    shutil.copy(weights, tmp_path / weights.name)
    card = json.loads(weights.with_suffix(".json").read_text())
    card.update(card_fields)
    (tmp_path / weights.with_suffix(".json").name).write_text(json.dumps(card))
    return tmp_path / weights.name


def test_the_neural_stage_answers_from_its_model_card(tmp_path, acvrptw12, acvrp12):
    """``warm_start_max_n`` in the card: a larger problem of its kind is not worth a start;
    a smaller one, another kind's problem, or a card without the field run the stage."""
    from hybridroute.solvers.rrnco_solver import RRNCO

    capped = RRNCO(checkpoint=str(_checkpoint_copy(tmp_path, "rrnco-acvrptw-imit", warm_start_max_n=10)))
    reason = capped.start_not_worth(acvrptw12)
    assert "n = 10" in reason and "n = 12" in reason and "warm_start_max_n" in reason
    assert capped.start_not_worth(acvrp12) is None  # another kind: the solve reports that
    (tmp_path / "roomy").mkdir()
    roomy = _checkpoint_copy(tmp_path / "roomy", "rrnco-acvrptw-imit", warm_start_max_n=12)
    assert RRNCO(checkpoint=str(roomy)).start_not_worth(acvrptw12) is None
    (tmp_path / "none").mkdir()
    unset = _checkpoint_copy(tmp_path / "none", "rrnco-acvrptw-imit", warm_start_max_n=None)
    assert RRNCO(checkpoint=str(unset)).start_not_worth(acvrptw12) is None
    assert RRNCO(checkpoint=str(tmp_path / "missing.safetensors")).start_not_worth(acvrptw12) is None


def test_the_model_card_can_limit_the_start_per_improver(tmp_path, acvrptw12):
    """A mapping in ``warm_start_max_n``: the improver's own size, else ``"default"``, else no limit."""
    from hybridroute.solvers.rrnco_solver import RRNCO

    path = _checkpoint_copy(tmp_path, "rrnco-acvrptw-imit", warm_start_max_n={"pyvrp": 10, "default": 12})
    stage = RRNCO(checkpoint=str(path))
    reason = stage.start_not_worth(acvrptw12, "pyvrp")
    assert "to pyvrp above n = 10" in reason and "n = 12" in reason
    assert stage.start_not_worth(acvrptw12, "ortools") is None  # default 12: n = 12 runs
    assert stage.start_not_worth(acvrptw12) is None
    (tmp_path / "nodefault").mkdir()
    only = RRNCO(checkpoint=str(_checkpoint_copy(tmp_path / "nodefault", "rrnco-acvrptw-imit",
                                                 warm_start_max_n={"pyvrp": 10})))
    assert only.start_not_worth(acvrptw12, "ortools") is None and only.start_not_worth(acvrptw12, "pyvrp")


def test_a_hybrid_asks_the_card_for_its_own_improver(tmp_path, acvrptw12):
    """rrnco+pyvrp skips the stage where the card limits PyVRP's start; rrnco+ortools runs it."""
    pytest.importorskip("pyvrp")
    pytest.importorskip("ortools")
    path = str(_checkpoint_copy(tmp_path, "rrnco-acvrptw-imit", warm_start_max_n={"pyvrp": 10}))
    skipped = hr.solve(acvrptw12, "rrnco+pyvrp", time_limit=0.5, seed=0, first_settings={"checkpoint": path})
    assert "to pyvrp above n = 10" in skipped.stats["first_skipped"]
    ran = hr.solve(acvrptw12, "rrnco+ortools", time_limit=0.5, seed=0, first_settings={"checkpoint": path})
    # (the skip rule may still skip it for other reasons, e.g. a start refused earlier in the process)
    assert "warm_start_max_n" not in (ran.stats.get("first_skipped") or "")
