"""PyVRP backend: index mapping, objectives, warm starts, anytime history."""

from __future__ import annotations

import numpy as np
import pytest

import hybridroute as hr
from hybridroute.solvers import SolverNotInstalledError, solver_class

pytest.importorskip("pyvrp")

FAST = dict(max_iterations=300)


def _solve(problem, initial=None, seed=0, **settings):
    return hr.get_solver("pyvrp", **{**FAST, **settings}).solve(
        problem, time_limit=30, seed=seed, initial=initial)


@pytest.mark.parametrize("name", ["atsp10", "acvrp12", "acvrptw12"])
def test_small_instances_are_solved_feasible(name, request):
    problem = request.getfixturevalue(name)
    sol = _solve(problem)
    assert sol.is_feasible, sol.violations
    assert sol.solver == "pyvrp"
    assert sol.stats["iterations"] <= FAST["max_iterations"]


def test_duration_objective_matches_pyvrp_own_schedule(acvrptw12):
    """PyVRP's route durations (start fixed at the depot opening, depot service folded into
    the first leg) must equal hybridroute's: otherwise it optimises something else."""
    import pyvrp

    from hybridroute.solvers.pyvrp_solver import PyVRPSolver, _problem_data
    from hybridroute.solvers.scaling import scale_problem

    problem = acvrptw12.replace(objective="duration",
                                service_time=np.r_[7.0, acvrptw12.service_time[1:]])
    sol = _solve(problem)
    assert sol.is_feasible
    scaled = scale_problem(problem, PyVRPSolver.INTEGER_LIMITS)
    data = _problem_data(problem, scaled)
    native = pyvrp.Solution(data, [[v - 1 for v in r] for r in sol.routes])
    assert native.is_feasible()
    assert native.duration() / scaled.time_scale == pytest.approx(sol.duration, rel=1e-4)
    # and the history (PyVRP's integer objective / scale) ends at the evaluated cost
    assert sol.history[-1][1] == pytest.approx(sol.cost, rel=1e-4)


def test_duration_objective_beats_or_ties_distance_solution_on_duration(acvrptw12):
    by_duration = _solve(acvrptw12.replace(objective="duration"))
    by_distance = _solve(acvrptw12)
    assert by_duration.is_feasible and by_distance.is_feasible
    assert by_duration.cost == pytest.approx(by_duration.duration)
    assert by_duration.duration <= by_distance.duration * (1 + 1e-9)


@pytest.mark.parametrize("name", ["atsp10", "acvrp12", "acvrptw12"])
def test_poor_feasible_warm_start_is_never_worse(name, request):
    problem = request.getfixturevalue(name)
    if problem.kind is hr.ProblemKind.ATSP:
        start = [list(range(problem.num_nodes - 1, 0, -1))]  # reversed tour
    else:
        start = [[v] for v in problem.customers]  # one route per customer
    start_sol = hr.evaluate(problem, start)
    assert start_sol.is_feasible
    sol = _solve(problem, initial=start_sol, max_iterations=50)
    assert sol.stats["initial_accepted"] is True
    assert not sol.stats.get("initial_restored"), "PyVRP itself returned a worse solution"
    assert sol.cost <= start_sol.cost


@pytest.mark.parametrize("start", [
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]],  # one route over capacity
    [[1, 2, 3]],  # partial: PyVRP inserts the rest
    [[1, 1, 0, 99], [2]],  # malformed
])
def test_infeasible_or_partial_start_is_repaired(acvrp12, start):
    sol = _solve(acvrp12, initial=start)
    assert sol.is_feasible
    assert sol.stats["initial_accepted"] is True


def test_too_many_start_routes_fall_back_to_a_cold_start(acvrp12):
    problem = acvrp12.replace(num_vehicles=5)
    sol = _solve(problem, initial=[[v] for v in problem.customers])
    assert sol.is_feasible
    assert sol.stats["initial_accepted"] is False


def test_history_is_an_improving_curve(acvrp12):
    sol = hr.get_solver("pyvrp").solve(acvrp12, time_limit=0.3, seed=1)
    times = [t for t, _ in sol.history]
    costs = [c for _, c in sol.history]
    assert sol.history and times == sorted(times)
    assert all(a > b for a, b in zip(costs, costs[1:]))
    assert costs[-1] == pytest.approx(sol.cost, rel=1e-4)


def test_same_seed_same_routes_with_iteration_limit(acvrptw12):
    assert _solve(acvrptw12, seed=5).routes == _solve(acvrptw12, seed=5).routes


def test_missing_module_names_the_pip_extra(monkeypatch):
    cls = solver_class("pyvrp")
    monkeypatch.setattr(cls, "requires", ("pyvrp_not_installed_xyz",))
    with pytest.raises(SolverNotInstalledError, match=r'hybridroute\[pyvrp\]'):
        hr.get_solver("pyvrp")
    assert "pyvrp" not in hr.installed_solvers()


def test_invalid_settings_are_refused():
    with pytest.raises(ValueError, match="max_iterations"):
        hr.get_solver("pyvrp", max_iterations=-1)
    with pytest.raises(ValueError, match="scale"):
        hr.get_solver("pyvrp", scale=0)
    with pytest.raises(ValueError, match="symmetric_proximity"):
        hr.get_solver("pyvrp", symmetric_proximity="yes")


def _passed_neighbourhood(monkeypatch, problem, **settings):
    """Solve and return (solution, the NeighbourhoodParams PyVRP received)."""
    import pyvrp

    seen = []
    real = pyvrp.solve

    def spy(*args, **kwargs):
        seen.append(kwargs["params"].neighbourhood)
        return real(*args, **kwargs)

    monkeypatch.setattr(pyvrp, "solve", spy)
    sol = _solve(problem, **settings)
    return sol, seen[0]


def test_pyvrps_symmetric_neighbourhood_is_the_default_even_on_asymmetric_costs(atsp10, monkeypatch):
    sol, nb = _passed_neighbourhood(monkeypatch, atsp10)
    assert sol.stats["symmetric_proximity"] is True and nb.symmetric_proximity is True
    assert nb.num_neighbours == 50  # PyVRP's other neighbourhood defaults are kept


def test_a_directed_neighbourhood_can_be_asked_for(atsp10, monkeypatch):
    sol, nb = _passed_neighbourhood(monkeypatch, atsp10, symmetric_proximity=False)
    assert sol.stats["symmetric_proximity"] is False and nb.symmetric_proximity is False
    assert sol.is_feasible


# -- independent searches side by side (workers) -----------------------------------------------

@pytest.mark.parametrize("name", ["atsp10", "acvrp12", "acvrptw12"])
def test_side_searches_never_lose_to_the_single_search(name, request):
    problem = request.getfixturevalue(name)
    one = _solve(problem, workers=1, max_iterations=100)
    two = _solve(problem, workers=2, max_iterations=100)
    assert "searches" not in one.stats
    assert two.stats["workers"] == 2
    assert [s["seed"] for s in two.stats["searches"]] == [0, 1]
    first = two.stats["searches"][0]
    assert first["cost"] == pytest.approx(one.cost)  # the in-process search is the workers=1 one
    assert two.is_feasible and two.cost <= one.cost + 1e-9
    assert two.cost == pytest.approx(min(s["cost"] for s in two.stats["searches"]))
    assert _solve(problem, workers=2, max_iterations=100).routes == two.routes  # reproducible


def test_only_the_first_search_starts_from_the_warm_start(acvrp12, monkeypatch):
    """The side searches start cold: a start shared by every search would replace their
    independence (what the side searches are for) with one trajectory's neighbourhood."""
    from hybridroute.solvers import pyvrp_solver

    sent = []
    send = pyvrp_solver._send
    monkeypatch.setattr(pyvrp_solver, "_send", lambda process, **kw: (sent.append(kw), send(process, **kw))[1])
    start = [[v] for v in range(1, 13)]  # one customer per route: feasible and poor
    sol = _solve(acvrp12, initial=start, workers=2, max_iterations=50)
    assert sol.stats["initial_accepted"] is True
    assert [(kw["initial"], kw["initial_types"]) for kw in sent] == [(None, None)]
    assert sol.cost <= hr.evaluate(acvrp12, start).cost


def test_side_searches_stop_before_the_limit_so_their_result_is_back_in_time(acvrp12, monkeypatch):
    import time

    from hybridroute.solvers import pyvrp_solver

    sent = []
    send = pyvrp_solver._send
    monkeypatch.setattr(pyvrp_solver, "_send", lambda process, **kw: (sent.append(kw), send(process, **kw))[1])
    t0 = time.monotonic()
    sol = hr.get_solver("pyvrp", workers=2).solve(acvrp12, time_limit=2.0)
    assert len(sent) == 1
    assert sent[0]["end"] <= t0 + 2.0 - pyvrp_solver.SIDE_STOP_EARLY_S + 0.1
    assert sent[0]["end"] >= t0 + 2.0 - pyvrp_solver.SIDE_STOP_EARLY_S - 0.5
    assert sol.stats["searches"][1].get("feasible") is True  # the side result arrived


def test_a_lost_side_search_keeps_the_first_result(atsp10, monkeypatch, caplog):
    from hybridroute.solvers import pyvrp_solver

    monkeypatch.setattr(pyvrp_solver, "_SIDE_TARGET", "os:abort")  # called with kwargs: raises
    sol = _solve(atsp10, workers=2)
    assert sol.is_feasible
    assert sol.stats["searches"][1] == {"seed": 1, "status": "side process failed"}
    assert "side search with seed 1 lost" in caplog.text


def test_short_time_limits_run_one_search(atsp10):
    sol = hr.get_solver("pyvrp").solve(atsp10, time_limit=0.5)
    assert "searches" not in sol.stats


def test_bad_workers_setting_is_refused():
    with pytest.raises(ValueError, match="workers must be"):
        hr.get_solver("pyvrp", workers="many")


def test_the_search_stops_on_the_solves_clock_not_after_pyvrps_set_up(atsp10, monkeypatch):
    """PyVRP's MaxRuntime starts at its first call, after an exhaustive local search from a
    random solution (0.49 s at ATSP n = 1000); the stopping criterion is an absolute deadline."""
    import time

    from hybridroute.solvers import pyvrp_solver

    seen = []
    real_run = pyvrp_solver._run

    def run(data, stop, seed, params, start):
        seen.append((time.monotonic(), stop))
        time.sleep(0.3)  # set-up that MaxRuntime would not count
        return real_run(data, stop, seed, params, start)

    monkeypatch.setattr(pyvrp_solver, "_run", run)
    t0 = time.monotonic()
    sol = hr.get_solver("pyvrp", workers=1).solve(atsp10, time_limit=0.5, seed=0)
    called, stop = seen[0]
    assert isinstance(stop, pyvrp_solver._Deadline) and stop.end <= t0 + 0.5 + 0.05
    assert stop(0.0) and not pyvrp_solver._Deadline(time.monotonic() + 60)(0.0)
    assert sol.is_feasible and sol.runtime < 0.5 + 0.3  # the sleep came out of the 0.5 s
