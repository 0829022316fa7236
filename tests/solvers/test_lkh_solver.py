"""LKH-3 (elkai) backend: ATSP only, seeds, tiny instances, a TSPLIB optimum."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from support import require_shared
from solver_cases import CHEAP, chain_atsp

import hybridroute as hr
from hybridroute.solvers import SolverNotInstalledError, UnsupportedProblemError, solver_class

pytest.importorskip("elkai")


def test_atsp_solved(atsp10):
    sol = hr.get_solver("lkh").solve(atsp10, time_limit=5, seed=1)
    assert sol.is_feasible
    assert sol.solver == "lkh"
    assert sol.routes[0][0] != 0 and sorted(sol.routes[0]) == list(range(1, 10))


def test_chain_optimum_keeps_the_asymmetric_direction():
    sol = hr.get_solver("lkh").solve(chain_atsp(12), time_limit=5)
    assert sol.routes == (tuple(range(1, 12)),)
    assert sol.cost == pytest.approx(12 * CHEAP)


@pytest.mark.parametrize("n", [2, 3, 4])
def test_tiny_instances_are_enumerated_and_proven(n):
    rng = np.random.default_rng(n)
    d = rng.uniform(1, 10, (n, n))
    np.fill_diagonal(d, 0)
    sol = hr.get_solver("lkh").solve(hr.Problem("ATSP", d))
    assert sol.status is hr.Status.OPTIMAL
    best = min(hr.evaluate(hr.Problem("ATSP", d), [list(p)]).cost
               for p in itertools.permutations(range(1, n)))
    assert sol.cost == pytest.approx(best)


def test_vrps_are_refused_before_any_work(acvrp12):
    with pytest.raises(UnsupportedProblemError, match="ATSP"):
        hr.get_solver("lkh").solve(acvrp12)


def test_same_seed_same_tour(atsp10):
    solver = hr.get_solver("lkh", runs=2)
    assert solver.solve(atsp10, seed=3).routes == solver.solve(atsp10, seed=3).routes


def test_br17_optimum():
    from hybridroute.formats import read

    path = require_shared("data", "benchmarks", "atsp", "br17.atsp")
    sol = hr.get_solver("lkh").solve(read(path), time_limit=10)
    assert sol.cost == 39


def test_missing_module_names_the_pip_extra(monkeypatch):
    monkeypatch.setattr(solver_class("lkh"), "requires", ("elkai_not_installed_xyz",))
    with pytest.raises(SolverNotInstalledError, match=r'hybridroute\[lkh\]'):
        hr.get_solver("lkh")


def test_p43_optimum_with_the_automatic_initial_period():
    """LKH's own INITIAL_PERIOD stalls at 5621 on p43 with every seed; 'auto' reaches 5620."""
    from hybridroute.formats import read

    path = require_shared("data", "benchmarks", "atsp", "p43.atsp")
    sol = hr.get_solver("lkh").solve(read(path), time_limit=30, seed=0)
    assert sol.cost == 5620


# -- robustness: elkai hands back the previous call's tour when LKH builds none -------------

def _random_atsp(n: int, seed: int = 0) -> hr.Problem:
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, 1000, (n, 2))
    d = np.linalg.norm(pts[:, None] - pts[None], axis=-1) * rng.uniform(1.0, 1.3, (n, n))
    np.fill_diagonal(d, 0.0)
    return hr.Problem("ATSP", d, name=f"random{n}")


def _fake_elkai(monkeypatch, answers):
    """Replace elkai's entry point: the 3-node sentinel is answered for real, every other
    call pops the next answer (a list to return, or an exception to raise)."""
    from elkai import _elkai

    real = _elkai.solve_problem
    calls = []

    def fake(params, text):
        if "DIMENSION : 3\n" in text:
            return real(params, text)
        calls.append(params)
        answer = answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    monkeypatch.setattr(_elkai, "solve_problem", fake)
    return calls


def test_wrong_length_tour_is_retried_then_replaced_by_nearest_neighbour(monkeypatch):
    problem = _random_atsp(20)
    stale = list(range(1, 18))  # a previous call's 17-node tour
    calls = _fake_elkai(monkeypatch, [stale, stale])
    sol = hr.get_solver("lkh").solve(problem, time_limit=5, seed=0)
    assert len(calls) == 2 and "MAX_TRIALS = 1" in calls[1] and "TOTAL_TIME_LIMIT" not in calls[1]
    assert sol.stats["fallback"] == "nearest"
    assert "17 nodes for n=20" in sol.stats["lkh_retry"]
    assert "nearest-neighbour" in sol.message
    assert sol.is_feasible and sorted(sol.routes[0]) == list(range(1, 20))
    nn = hr.evaluate(problem, hr.solvers.baselines.nearest_neighbour_routes(problem))
    assert sol.cost == pytest.approx(nn.cost)


def test_a_good_retry_is_used(monkeypatch):
    problem = _random_atsp(12)
    good = [1, *range(2, 13)]  # LKH's 1-based identity tour
    _fake_elkai(monkeypatch, [[1, 2, 3], good])
    sol = hr.get_solver("lkh").solve(problem, time_limit=5)
    assert sol.stats["method"] == "lkh" and "fallback" not in sol.stats
    assert "3 nodes for n=12" in sol.stats["lkh_retry"]
    assert sol.routes == (tuple(range(1, 12)),)
    assert "one trial without a limit" in sol.message


@pytest.mark.parametrize("bad", [[1, 1, *range(3, 13)], [0, *range(2, 13)], SystemError("LKH error")])
def test_non_permutations_and_errors_fall_back_without_crashing(monkeypatch, bad):
    problem = _random_atsp(12)
    _fake_elkai(monkeypatch, [bad, bad])
    sol = hr.get_solver("lkh").solve(problem, time_limit=5)
    assert sol.stats["fallback"] == "nearest"
    assert sol.is_feasible


def test_the_sentinel_exposes_a_call_that_built_no_tour():
    """The real elkai: a zero CPU limit ends LKH before its first run, and elkai returns the
    previous call's tour, here the 3-node sentinel's, which validation refuses."""
    from hybridroute.solvers.lkh_solver import _call_lkh, _problem_text, _tour_from_lkh

    problem = _random_atsp(30)
    solver = hr.get_solver("lkh")
    text = _problem_text(np.rint(problem.distance).astype(np.int64))
    raw = _call_lkh(solver._parameters(1, 0.0, None), text)
    assert len(raw) == 3
    assert _tour_from_lkh(raw, 30) == (None, "LKH returned 3 nodes for n=30")
    raw = _call_lkh(solver._parameters(1, None, 100, runs=1, max_trials=1), text)
    assert _tour_from_lkh(raw, 30)[0] is not None


def test_cpu_limit_is_floored_so_lkh_still_builds_its_tour(monkeypatch):
    """A crowded machine (CPU share 0.1 %): the CPU limit is raised to the ascent's estimated
    need, LKH runs in a side process guarded by the deadline, and with time left its own tour
    comes back, without a retry."""
    from hybridroute.solvers import lkh_solver

    monkeypatch.setattr(lkh_solver, "_cpu_share", lambda: 0.001)
    sol = hr.get_solver("lkh", runs=1).solve(_random_atsp(60), time_limit=30)
    assert sol.stats["cpu_limit_floored"] is True
    assert sol.stats["cpu_limit_s"] >= lkh_solver._ascent_cpu_estimate(60, sol.stats["initial_period"])
    assert sol.stats["method"] == "lkh" and "lkh_retry" not in sol.stats
    assert sol.is_feasible


@pytest.mark.parametrize("n, budget, expected", [
    (43, 5.0, 1000),     # the p43 setting when it fits
    (100, 0.5, None),    # 1000 would not fit in half a second: LKH's default
    (171, 5.0, 1000),
    (403, 10.0, None),   # rbg403's default ascent takes ~6.6 CPU s
    (403, 7.0, 200),     # ... too much of 7 s
    (443, 5.0, 100),     # rbg443's default ascent alone takes ~10 CPU s
    (443, 60.0, None),   # a budget that fits the default ascent keeps it
])
def test_automatic_period_fits_the_budget(n, budget, expected):
    from hybridroute.solvers.lkh_solver import _ascent_cpu_estimate, _choose_period

    assert _choose_period("auto", n, budget) == expected
    assert _choose_period(250, n, budget) == 250 and _choose_period(None, n, budget) is None
    if _ascent_cpu_estimate(n, 100) <= 0.9 * budget:
        assert _ascent_cpu_estimate(n, expected) <= 0.9 * budget


def test_estimates_grow_with_size_and_period():
    from hybridroute.solvers.lkh_solver import _ascent_cpu_estimate

    for period in (100, None, 1000):
        sizes = [_ascent_cpu_estimate(n, period) for n in (10, 100, 300, 500)]
        assert sizes == sorted(sizes)
    assert _ascent_cpu_estimate(400, 100) < _ascent_cpu_estimate(400, None) < _ascent_cpu_estimate(400, 1000)
