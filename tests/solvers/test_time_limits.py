"""The time-limit contract's mechanism: limits validated, deadlines passed down, effort chosen.

No wall-clock thresholds here (shared, noisy machines): the measured table is
``benchmarks/time_limits.py``. These tests check what each backend is *told* and what it
*chooses*: the neural decoder's passes, the fallbacks when native code cannot be stopped,
the hybrid's split, and what ``math.inf`` means for each backend.
"""

from __future__ import annotations

import concurrent.futures
import math
import time

import pytest

import hybridroute as hr
from hybridroute.solvers.base import (
    SolveOutput, Solver, allowed_runtime, check_time_limit, TIME_LIMIT_FACTOR, TIME_LIMIT_SLACK_S)


# -- the argument -------------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["1", b"1", True, [1], object()])
def test_a_time_limit_that_is_not_a_number_is_a_type_error_naming_it(bad, atsp10):
    with pytest.raises(TypeError, match=r"^time_limit must be a number of seconds"):
        hr.get_solver("nearest").solve(atsp10, time_limit=bad)


@pytest.mark.parametrize("bad", [0, -1, -0.5, math.nan, -math.inf])
def test_a_time_limit_that_is_not_positive_is_a_value_error_naming_it(bad, atsp10):
    with pytest.raises(ValueError, match=r"^time_limit must be positive seconds"):
        hr.get_solver("nearest").solve(atsp10, time_limit=bad)


def test_none_is_the_default_and_inf_is_kept():
    assert check_time_limit(None, 7.0) == 7.0
    assert check_time_limit(math.inf, 7.0) == math.inf
    assert check_time_limit(2, 7.0) == 2.0
    assert allowed_runtime(10) == pytest.approx(10 * TIME_LIMIT_FACTOR + TIME_LIMIT_SLACK_S)


class _Recorder(Solver):
    """Records the time limit the base class hands to ``_solve``."""

    name = "recorder"
    default_time_limit = 3.0
    seen: list[float] = []

    def _solve(self, problem, *, time_limit, seed, initial):
        type(self).seen.append(time_limit)
        return SolveOutput(routes=[list(problem.customers)])


def test_inf_on_a_backend_that_never_converges_runs_its_default(atsp10):
    _Recorder.seen = []
    sol = _Recorder().solve(atsp10, time_limit=math.inf)
    assert _Recorder.seen == [3.0]
    assert sol.stats["time_limit"] == 3.0 and "does not stop by itself" in sol.stats["time_limit_note"]


def test_inf_on_a_converging_backend_is_passed_down(atsp10):
    class Converging(_Recorder):
        converges = True

    Converging.seen = []
    Converging().solve(atsp10, time_limit=math.inf)
    assert Converging.seen == [math.inf]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", ["pyvrp", "vroom", "lkh", "nearest"])
def test_inf_returns_a_feasible_solution_without_hanging(name, atsp10):
    pytest.importorskip({"pyvrp": "pyvrp", "vroom": "vroom", "lkh": "elkai", "nearest": "numpy"}[name])
    sol = hr.get_solver(name, **({"workers": 1} if name == "pyvrp" else {})).solve(atsp10, time_limit=math.inf)
    assert sol.is_feasible
    if name == "pyvrp":
        assert "without improvement" in sol.stats["stopped_by"]


@pytest.mark.timeout(120)
def test_inf_on_ortools_uses_its_default_limit(atsp10, monkeypatch):
    pytest.importorskip("ortools")
    from hybridroute.solvers.ortools_solver import ORToolsSolver

    monkeypatch.setattr(ORToolsSolver, "default_time_limit", 0.5)
    sol = hr.get_solver("ortools").solve(atsp10, time_limit=math.inf)
    assert sol.is_feasible and sol.stats["time_limit"] == 0.5


# -- the neural backend -------------------------------------------------------------------

torch_needed = pytest.mark.skipif(not any(n == "rrnco" for n in hr.installed_solvers()),
                                  reason="the neural backend needs torch and safetensors")


def _policy_and_instance(problem):
    import torch

    from hybridroute.neural.checkpoint import default_checkpoint, load_checkpoint
    from hybridroute.neural.env import instances_from_problems

    policy, _ = load_checkpoint(default_checkpoint(problem.kind))
    return policy, instances_from_problems([problem], dtype=torch.float64)


@torch_needed
def test_the_policy_stops_decoding_at_its_deadline(acvrp12):
    from hybridroute.neural.policy import DeadlineExceeded

    policy, inst = _policy_and_instance(acvrp12)
    cache = policy.encode(inst)
    import torch

    with pytest.raises(DeadlineExceeded, match="deadline"):
        policy.decode(inst, cache, torch.tensor([[1, 2]]), decode="greedy", deadline=time.perf_counter() - 1)


@torch_needed
def test_without_a_deadline_every_start_and_transform_is_decoded(acvrp12):
    from hybridroute.neural.anytime import decode_within

    policy, inst = _policy_and_instance(acvrp12)
    routes, _, effort = decode_within(policy, inst, deadline=math.inf, augment=8, seed=0)
    assert routes is not None
    assert (effort.starts, effort.augment, effort.rollouts) == (12, 8, 96)
    assert effort.stopped == "complete" and not effort.interrupted


@torch_needed
def test_the_result_does_not_depend_on_how_the_work_was_split(acvrp12, monkeypatch):
    """Every transform has its own seeded stream, so pass sizes (set by the clock) do not
    change the routes: the same seed gives the same routes on a fast or a slow machine."""
    from hybridroute.neural import anytime

    policy, inst = _policy_and_instance(acvrp12)
    first = anytime.decode_within(policy, inst, deadline=math.inf, augment=4, seed=3)
    monkeypatch.setattr(anytime, "FIRST_PASS_STARTS", 1)
    second = anytime.decode_within(policy, inst, deadline=math.inf, augment=4, seed=3)
    assert len(second[2].passes) > len(first[2].passes)
    assert first[0] == second[0] and first[1] == pytest.approx(second[1])


@torch_needed
def test_passes_predicted_past_the_deadline_are_not_started(acvrp12, monkeypatch):
    from hybridroute.neural import anytime

    policy, inst = _policy_and_instance(acvrp12)
    # after the first pass, every further pass is predicted to take an hour
    monkeypatch.setattr(anytime._Clock, "predict", lambda self, *a: 3600.0 if self.decodes else 0.0)
    routes, _, effort = anytime.decode_within(policy, inst, deadline=time.perf_counter() + 60, augment=8)
    assert routes is not None
    assert (effort.starts, effort.augment) == (anytime.FIRST_PASS_STARTS, 1)
    assert effort.stopped == "next pass predicted past the deadline"


@torch_needed
def test_the_first_pass_time_is_measured_or_extrapolated(acvrp12, monkeypatch):
    """``first_pass_s`` is what the first pass took, or, stopped at the deadline, what it
    would have needed: a caller sizes the next budget on it (the hybrids do)."""
    from hybridroute.neural import anytime
    from hybridroute.neural.policy import DeadlineExceeded

    policy, inst = _policy_and_instance(acvrp12)
    t0 = time.perf_counter()
    _, _, done = anytime.decode_within(policy, inst, deadline=math.inf, augment=8)
    assert 0 < done.first_pass_s < time.perf_counter() - t0
    assert done.as_stats()["first_pass_s"] == done.first_pass_s

    def stop_at(progress):
        def decode(*args, **kwargs):
            time.sleep(0.02)
            raise DeadlineExceeded("stopped", progress=progress)
        return decode

    # stopped a quarter of the way through: about four times the decoding so far
    monkeypatch.setattr(policy, "decode", stop_at(0.25))
    routes, _, quarter = anytime.decode_within(policy, inst, deadline=math.inf, augment=8)
    assert routes is None and quarter.interrupted
    assert quarter.first_pass_s >= 4 * 0.02
    # stopped before the rollouts left their start nodes: twice the time spent, a lower bound
    monkeypatch.setattr(policy, "decode", stop_at(1 / 13))
    t0 = time.perf_counter()
    _, _, early = anytime.decode_within(policy, inst, deadline=math.inf, augment=8)
    assert 2 * 0.02 <= early.first_pass_s <= 2 * (time.perf_counter() - t0)


def test_needed_scales_the_decoding_time_by_the_progress_made():
    from hybridroute.neural.anytime import _Clock, _needed

    clock = _Clock()
    clock.encodes.append(0.1)
    assert _needed(0.3, clock, 0.5, 100) == pytest.approx(0.1 + 0.2 / 0.5)
    assert _needed(0.3, clock, 0.01, 100) == pytest.approx(0.6)  # no step yet: doubled
    assert _needed(0.05, _Clock(), 0.5, 100) == pytest.approx(0.1)  # no encoder time recorded


@torch_needed
def test_a_deadline_already_passed_finishes_no_pass(acvrp12):
    from hybridroute.neural.anytime import decode_within

    policy, inst = _policy_and_instance(acvrp12)
    routes, length, effort = decode_within(policy, inst, deadline=time.perf_counter() - 1, augment=8)
    assert routes is None and length == math.inf and effort.rollouts == 0


@torch_needed
def test_rrnco_says_in_stats_what_it_decoded(acvrp12):
    sol = hr.get_solver("rrnco").solve(acvrp12, time_limit=math.inf)
    assert sol.is_feasible
    assert sol.stats["starts"] == 12 and sol.stats["augment"] == 8 == sol.stats["augment_requested"]
    assert sol.stats["stopped"] == "complete" and "fallback" not in sol.stats


@torch_needed
def test_a_model_still_loading_at_the_deadline_gives_the_nearest_neighbour_routes(acvrp12, monkeypatch, caplog):
    from hybridroute.solvers import rrnco_solver

    never = concurrent.futures.Future()  # a load that does not finish
    monkeypatch.setattr(rrnco_solver, "_load_async", lambda *a: never)
    sol = hr.get_solver("rrnco").solve(acvrp12, time_limit=0.2)
    nearest = hr.get_solver("nearest").solve(acvrp12)
    assert sol.is_feasible and sol.routes == nearest.routes
    assert sol.stats["fallback"] == "nearest" and "still loading" in sol.stats["fallback_reason"]
    assert "nearest-neighbour" in caplog.text


@torch_needed
def test_a_deadline_fallback_warns_alone_and_is_the_hybrids_to_report_inside_one(acvrp12, monkeypatch, caplog):
    """``rrnco`` alone warns when no decoding pass fits; as a hybrid's first stage it logs the
    same at INFO (the hybrid starts its improver cold and records why in ``start_gated``)."""
    pytest.importorskip("pyvrp")
    from hybridroute.solvers import rrnco_solver

    solver = hr.load_solver("rrnco", kinds=["ACVRP"])
    monkeypatch.setattr(rrnco_solver.RRNCO, "_decode", lambda self, *a: (None, {}))
    with caplog.at_level("INFO", logger="hybridroute.solvers.rrnco_solver"):
        alone = solver.solve(acvrp12, time_limit=0.5)
        assert alone.stats["fallback_cause"] == "deadline"
        assert [r.levelname for r in caplog.records] == ["WARNING"]
        caplog.clear()
        hybrid = hr.get_solver("rrnco+pyvrp", first_settings={}, gate=True)
        sol = hybrid.solve(acvrp12, time_limit=1.0, seed=0)
    assert "fell back to nearest" in sol.stats["start_gated"] and sol.is_feasible
    records = [r for r in caplog.records if "nearest-neighbour construction" in r.getMessage()]
    assert [r.levelname for r in records] == ["INFO"]
    assert "first stage of rrnco+pyvrp" in records[0].getMessage()
    assert rrnco_solver.STAGE_OF.get() is None  # reset after the stage


@torch_needed
def test_load_solver_loads_the_checkpoint_before_any_solve():
    from hybridroute.solvers import rrnco_solver

    from hybridroute.neural.checkpoint import default_checkpoints

    solver = hr.load_solver("rrnco", kinds=["ATSP", "ACVRPTW"])
    assert isinstance(solver, rrnco_solver.RRNCO)
    for kind in (hr.ProblemKind.ATSP, hr.ProblemKind.ACVRPTW):  # ACVRPTW: its small-instance checkpoint too
        for name in default_checkpoints(kind):
            future = rrnco_solver._load_async(name, solver.device)
            assert future.done() and future.exception() is None, name


def test_load_solver_imports_a_classical_backend():
    assert isinstance(hr.load_solver("nearest"), Solver)


# -- native code that cannot be interrupted -----------------------------------------------

def test_a_side_call_past_its_deadline_is_killed():
    from hybridroute.solvers._parallel import SideProcessError, call_before

    with pytest.raises(SideProcessError, match="overran its deadline"):
        call_before("multiprocessing.connection:wait", time.monotonic() + 0.5, object_list=[], timeout=60)
    assert call_before("json:dumps", time.monotonic() + 60, obj=[1]) == "[1]"


def test_lkh_whose_ascent_cannot_fit_runs_guarded_and_falls_back(atsp10, monkeypatch):
    pytest.importorskip("elkai")
    from hybridroute.solvers import lkh_solver
    from hybridroute.solvers.lkh_solver import LKHSolver

    monkeypatch.setattr(lkh_solver, "_ENUMERATE_BELOW", 0)  # no enumeration on the tiny instance
    monkeypatch.setattr(lkh_solver, "_ascent_cpu_estimate", lambda n, period: 1e6)  # "never fits"
    guarded = LKHSolver().solve(atsp10, time_limit=30)  # plenty of time: LKH's tour comes back
    assert guarded.stats["cpu_limit_floored"] and guarded.stats["method"] == "lkh"
    monkeypatch.setattr(lkh_solver, "allowed_runtime", lambda limit: 0.0)  # a bound already passed
    killed = LKHSolver().solve(atsp10, time_limit=30)
    assert killed.is_feasible and killed.stats["fallback"] == "nearest"
    assert "stopped at the time limit's bound" in killed.message


def test_vroom_whose_construction_cannot_fit_runs_guarded_and_falls_back(acvrp12, monkeypatch):
    pytest.importorskip("vroom")
    from hybridroute.solvers import vroom_solver

    monkeypatch.setattr(vroom_solver, "construction_estimate", lambda problem, level: 1e6)
    guarded = hr.get_solver("vroom").solve(acvrp12, time_limit=30)
    assert guarded.stats["guarded"] and "fallback" not in guarded.stats and guarded.is_feasible
    monkeypatch.setattr(vroom_solver, "allowed_runtime", lambda limit: 0.0)  # a bound already passed
    killed = hr.get_solver("vroom").solve(acvrp12, time_limit=30)
    assert killed.is_feasible and killed.stats["fallback"] == "nearest"
    assert "stopped at the time limit's bound" in killed.message


# -- the hybrid's split -------------------------------------------------------------------

class _Stage(Solver):
    accepts_initial = True
    calls: list[tuple[str, float]] = []

    def _solve(self, problem, *, time_limit, seed, initial):
        _Stage.calls.append((self.name, time_limit))
        return SolveOutput(routes=[[v] for v in problem.customers])


class _First(_Stage):
    name = "first-stage"


class _Then(_Stage):
    name = "then-stage"


def test_the_hybrid_gives_its_first_stage_a_bounded_share_and_the_improver_the_rest(acvrp12):
    from hybridroute.solvers.hybrid import Hybrid

    _Stage.calls = []
    t0 = time.perf_counter()
    Hybrid(first=_First(), then=_Then(), split=0.2, gate=False).solve(acvrp12, time_limit=5.0)
    elapsed = time.perf_counter() - t0
    (first, t_first), (then, t_then) = _Stage.calls
    assert (first, then) == ("first-stage", "then-stage")
    assert t_first == pytest.approx(1.0)
    assert 5.0 - elapsed <= t_then < 5.0  # exactly what the first stage left


@torch_needed
def test_the_encoder_stops_between_layers_at_its_deadline(acvrp12):
    """At n = 500 the encoder alone can take longer than a short share: it must not run on."""
    from hybridroute.neural.policy import DeadlineExceeded

    policy, inst = _policy_and_instance(acvrp12)
    with pytest.raises(DeadlineExceeded, match="encoding stopped before layer 1"):
        policy.encode(inst, deadline=time.perf_counter() - 1)
    assert policy.encode(inst, deadline=time.perf_counter() + 60) is not None


# -- side searches ------------------------------------------------------------------------

_SLOW_SIDE = '''
import time


def search(**kwargs):
    time.sleep(120)  # a side search that cannot answer in time (e.g. still importing under load)
'''


@pytest.mark.parametrize("name, module, limit", [("ortools", "ortools_solver", 1.0),
                                                 ("pyvrp", "pyvrp_solver", 2.5)])
def test_a_late_side_search_is_given_up_when_the_main_search_has_a_solution(
        name, module, limit, atsp10, acvrp12, tmp_path, monkeypatch):
    import importlib

    pytest.importorskip(name)
    (tmp_path / "slow_side.py").write_text(_SLOW_SIDE)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    monkeypatch.setattr(importlib.import_module(f"hybridroute.solvers.{module}"), "_SIDE_TARGET",
                        "slow_side:search")
    problem = atsp10 if name == "ortools" else acvrp12  # ortools: its ATSP portfolio
    t0 = time.monotonic()
    sol = hr.get_solver(name, workers=2).solve(problem, time_limit=limit)
    waited = time.monotonic() - t0
    assert sol.is_feasible
    # the side search would answer after 120 s; a caller without a solution of its own
    # would wait SIDE_GRACE_S (10 s) past the limit for it. This one holds its own result.
    from hybridroute.solvers._parallel import SIDE_GRACE_S

    assert waited < limit + SIDE_GRACE_S / 2
    searches = sol.stats["portfolio" if name == "ortools" else "searches"]
    assert [entry.get("status") for entry in searches].count("side process failed") == 1
