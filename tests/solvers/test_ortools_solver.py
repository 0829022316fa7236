"""OR-Tools backend: model (capacity, time, service), warm starts, fallbacks, statuses."""

from __future__ import annotations

import numpy as np
import pytest
from support import SHARED, require_shared

import hybridroute as hr
from hybridroute.solvers import SolverNotInstalledError, solver_class

pytest.importorskip("ortools")

FAST = dict(solution_limit=200)


def _solve(problem, initial=None, time_limit=30, **settings):
    return hr.get_solver("ortools", **{**FAST, **settings}).solve(
        problem, time_limit=time_limit, initial=initial)


@pytest.mark.parametrize("name", ["atsp10", "acvrp12", "acvrptw12"])
def test_small_instances_are_solved_feasible(name, request):
    sol = _solve(request.getfixturevalue(name))
    assert sol.is_feasible, sol.violations
    assert sol.solver == "ortools"
    assert sol.stats["status"] in ("ROUTING_SUCCESS", "ROUTING_OPTIMAL")


def test_duration_objective_equals_the_model_objective(acvrptw12):
    """Arc costs (travel + service) plus slack costs (waiting) = hybridroute's duration."""
    problem = acvrptw12.replace(objective="duration",
                                service_time=np.r_[7.0, acvrptw12.service_time[1:]])
    sol = _solve(problem)
    assert sol.is_feasible
    assert sol.cost == pytest.approx(sol.duration)
    # the last history point is OR-Tools' own objective / scale
    assert sol.history[-1][1] == pytest.approx(sol.duration, rel=1e-4)
    assert any(w > 0 for rs in sol.route_stats for w in rs.wait), "instance should involve waiting"


@pytest.mark.parametrize("name", ["atsp10", "acvrp12", "acvrptw12"])
def test_poor_feasible_warm_start_is_accepted_and_never_worse(name, request):
    problem = request.getfixturevalue(name)
    if problem.kind is hr.ProblemKind.ATSP:
        start = [list(range(problem.num_nodes - 1, 0, -1))]
    else:
        start = [[v] for v in problem.customers]
    start_sol = hr.evaluate(problem, start)
    sol = _solve(problem, initial=start_sol, solution_limit=30)
    assert sol.stats["initial_accepted"] is True
    assert not sol.stats.get("initial_restored"), "OR-Tools itself returned a worse solution"
    assert sol.cost <= start_sol.cost


def test_rejected_start_falls_back_to_a_cold_start(acvrp12):
    everyone = [list(acvrp12.customers)]  # one route: far over capacity
    sol = _solve(acvrp12, initial=everyone)
    assert sol.stats["initial_accepted"] is False
    assert "rejected" in sol.stats["initial_reason"]
    assert sol.is_feasible


@pytest.mark.parametrize("start", [[[1, 2, 3]], [[1, 1, 0, 99, 2]], []])
def test_partial_or_malformed_start_does_not_crash(acvrptw12, start):
    sol = _solve(acvrptw12, initial=start or None)
    assert sol.is_feasible
    if start:
        assert sol.stats["initial_accepted"] is False


def test_fleet_grows_for_a_feasible_start_with_many_routes(acvrp12):
    start = [[v] for v in acvrp12.customers]  # 12 routes > the default fleet bound
    sol = _solve(acvrp12, initial=start)
    assert sol.stats["initial_accepted"] is True
    assert sol.stats["vehicles"] >= 12


def test_an_unlimited_time_window_fleet_is_sized_from_a_construction(acvrptw12):
    """One vehicle per customer made OR-Tools' local search overrun its limit at n = 200."""
    from hybridroute.solvers.baselines import nearest_neighbour_routes

    built = len(nearest_neighbour_routes(acvrptw12))
    sol = _solve(acvrptw12)
    assert sol.is_feasible
    assert sol.stats["vehicles"] == min(built + built // 2 + 2, acvrptw12.num_customers) < acvrptw12.num_customers
    assert sol.stats["fleet_bound"].startswith("nearest-neighbour")
    # a fleet limit the user set is kept as it is
    limited = _solve(acvrptw12.replace(num_vehicles=11))
    assert limited.stats["vehicles"] == 11 and "fleet_bound" not in limited.stats


def test_an_unlimited_vehicle_type_with_time_windows_is_sized_from_a_construction(acvrptw12):
    """The fleet model (here: a fixed cost per vehicle) sizes an unlimited type the same way."""
    from hybridroute.fleet import VehicleType
    from hybridroute.solvers.baselines import nearest_neighbour_routes

    fleet = acvrptw12.replace(vehicle_types=[VehicleType(count=None, capacity=acvrptw12.capacity,
                                                         fixed_cost=100.0)], num_vehicles=None, capacity=None)
    assert fleet.features == {"fixed_costs"}
    built = len(nearest_neighbour_routes(fleet))
    sol = _solve(fleet)
    assert sol.is_feasible
    assert sol.stats["vehicles"] == built + built // 2 + 2 < fleet.num_customers
    assert sol.stats["fleet_bound"].startswith("nearest-neighbour") and sol.status is not hr.Status.OPTIMAL
    # a warm start still gets room for one route per customer
    roomy = _solve(fleet, initial=[[v] for v in fleet.customers])
    assert roomy.stats["vehicles"] == fleet.num_customers and "fleet_bound" not in roomy.stats


def test_a_warm_start_with_more_routes_than_the_sized_fleet_is_accepted(acvrptw12):
    start = [[v] for v in acvrptw12.customers]
    sol = _solve(acvrptw12, initial=start)
    assert sol.stats["initial_accepted"] is True
    assert sol.stats["vehicles"] == acvrptw12.num_customers


def test_too_few_vehicles_reports_no_solution(acvrp12):
    # Total demand 72 fits 4 vehicles of capacity 20 on paper, but the six customers of
    # demand 11 need a vehicle each.
    demand = np.r_[0, np.full(6, 11), np.ones(6, dtype=int)]
    problem = acvrp12.replace(demand=demand, num_vehicles=4, capacity=20)
    sol = _solve(problem, time_limit=1)
    assert sol.status is hr.Status.NO_SOLUTION
    assert "OR-Tools" in sol.message


def test_same_settings_same_routes(acvrptw12):
    assert _solve(acvrptw12).routes == _solve(acvrptw12).routes


def test_default_strategy_is_feasible_on_a_solomon_instance_where_path_cheapest_arc_fails():
    """R101 with its 25 vehicles: PATH_CHEAPEST_ARC finds no first solution (checked on all
    56 Solomon files: it fails on R101-R103, R105, R106, RC101, RC105); the default does."""
    from hybridroute.formats import read_solomon

    require_shared("data", "benchmarks", "vrptw_solomon", "R101.txt")
    problem = read_solomon(SHARED / "data" / "benchmarks" / "vrptw_solomon" / "R101.txt")
    first = hr.get_solver("ortools", solution_limit=1)
    assert first.solve(problem, time_limit=20).is_feasible
    pca = hr.get_solver("ortools", first_solution_strategy="PATH_CHEAPEST_ARC",
                        fallback_strategies=(), solution_limit=1)
    assert not pca.solve(problem, time_limit=3).is_feasible


def test_missing_module_names_the_pip_extra(monkeypatch):
    monkeypatch.setattr(solver_class("ortools"), "requires", ("ortools_not_installed_xyz",))
    with pytest.raises(SolverNotInstalledError, match=r'hybridroute\[ortools\]'):
        hr.get_solver("ortools")


def test_unknown_strategy_names_the_known_ones():
    with pytest.raises(ValueError, match="PARALLEL_CHEAPEST_INSERTION"):
        hr.get_solver("ortools", first_solution_strategy="FASTEST")


# -- search parameters and the ATSP portfolio ----------------------------------------------

def test_search_parameters_reach_ortools():
    solver = hr.get_solver("ortools", metaheuristic="AUTOMATIC", search_parameters={
        "guided_local_search_lambda_coefficient": 0.5,
        "local_search_operators.use_tsp_opt": True,
        "local_search_operators.use_two_opt": False,
        "lns_time_limit": 0.25,
        "local_search_metaheuristics": ["GUIDED_LOCAL_SEARCH", "TABU_SEARCH"],
    })
    params = solver._parameters("SAVINGS", 3.0, solver.search_parameters)
    ops = params.local_search_operators
    assert params.guided_local_search_lambda_coefficient == 0.5
    names = ops.DESCRIPTOR.fields_by_name["use_tsp_opt"].enum_type.values_by_number
    assert (names[ops.use_tsp_opt].name, names[ops.use_two_opt].name) == ("BOOL_TRUE", "BOOL_FALSE")
    assert params.lns_time_limit.ToNanoseconds() == 250_000_000
    assert list(params.local_search_metaheuristics) == [2, 4]
    assert params.time_limit.ToMilliseconds() == 3000


@pytest.mark.parametrize("overrides, match", [
    ({"guided_local_search_lambda": 0.5}, "no field 'guided_local_search_lambda'"),
    ({"local_search_operators.use_or_opt": 3}, r"use_or_opt.*BOOL_TRUE"),
    ({"local_search_operators": True}, "is a message"),
    ({"time_limit": 3}, "solver's own argument"),
    ({"local_search_metaheuristics": ["GUIDED_LOCAL_SEARCH"]}, "OR-Tools rejects"),
])
def test_bad_search_parameters_are_refused_at_construction(overrides, match):
    with pytest.raises(ValueError, match=match):
        hr.get_solver("ortools", search_parameters=overrides)


def test_atsp_runs_the_portfolio_and_keeps_the_best(atsp10):
    from hybridroute.solvers.ortools_solver import ATSP_PORTFOLIO

    sol = _solve(atsp10, solution_limit=50)
    runs = sol.stats["portfolio"]
    assert [r["first_solution_strategy"] for r in runs] == [
        m["first_solution_strategy"] for m in ATSP_PORTFOLIO]
    assert all(r["gls_lambda"] == 0.5 for r in runs)
    assert sol.cost == pytest.approx(min(r["cost"] for r in runs))
    costs = [c for _, c in sol.history]
    assert costs == sorted(costs, reverse=True)


def test_a_warm_start_leaves_the_portfolios_first_construction_cold(atsp10):
    from hybridroute.solvers.ortools_solver import ATSP_PORTFOLIO

    start = [list(range(9, 0, -1))]  # a poor tour: the reverse of 0 → 1 → … → 9
    sol = _solve(atsp10, initial=start, solution_limit=50)
    runs = sol.stats["portfolio"]
    # the start goes to the second member's search; the first member's own insertion runs cold
    assert [r["first_solution_strategy"] for r in runs] == [
        ATSP_PORTFOLIO[1]["first_solution_strategy"], ATSP_PORTFOLIO[0]["first_solution_strategy"]]
    assert sol.stats["initial_accepted"]
    cold = _solve(atsp10, solution_limit=50, portfolio=[dict(ATSP_PORTFOLIO[0])])
    assert sol.cost <= cold.cost + 1e-9


@pytest.mark.parametrize("settings", [{"first_solution_strategy": "SAVINGS"}, {"portfolio": None}])
def test_naming_a_strategy_or_no_portfolio_runs_one_search(atsp10, settings):
    sol = _solve(atsp10, **settings)
    assert "portfolio" not in sol.stats
    assert sol.stats["first_solution_strategy"] == settings.get(
        "first_solution_strategy", "PARALLEL_CHEAPEST_INSERTION")


@pytest.mark.parametrize("name", ["acvrp12", "acvrptw12"])
def test_vrps_keep_one_search_from_parallel_cheapest_insertion(name, request):
    sol = _solve(request.getfixturevalue(name))
    assert "portfolio" not in sol.stats
    assert sol.stats["first_solution_strategy"] == "PARALLEL_CHEAPEST_INSERTION"


def test_custom_portfolio_on_a_vrp(acvrptw12):
    portfolio = [{"first_solution_strategy": "PARALLEL_CHEAPEST_INSERTION"},
                 {"search_parameters": {"guided_local_search_lambda_coefficient": 0.3}}]
    sol = _solve(acvrptw12, portfolio=portfolio)
    assert sol.is_feasible
    assert [r.get("gls_lambda") for r in sol.stats["portfolio"]] == [None, 0.3]


@pytest.mark.parametrize("portfolio, match", [
    ("best", "portfolio must be"),
    ([{"strategy": "SAVINGS"}], r"portfolio\[0\]: unknown keys"),
    ([{"first_solution_strategy": "FASTEST"}], "unknown OR-Tools FirstSolutionStrategy"),
    (["SAVINGS"], r"portfolio\[0\] must be a dict"),
])
def test_bad_portfolio_is_refused(portfolio, match):
    with pytest.raises(ValueError, match=match):
        hr.get_solver("ortools", portfolio=portfolio)


def test_portfolio_runs_are_reproducible_with_a_solution_limit(atsp10):
    assert _solve(atsp10, solution_limit=40).routes == _solve(atsp10, solution_limit=40).routes


# -- portfolio searches side by side (workers) -------------------------------------------------

def test_portfolio_members_find_the_same_tours_side_by_side_as_one_after_another(atsp10):
    """Each member is a deterministic search under a solution limit, wherever it runs."""
    one = _solve(atsp10, solution_limit=40, workers=1)
    two = _solve(atsp10, solution_limit=40, workers=2)
    assert (one.stats["workers"], two.stats["workers"]) == (1, 2)
    assert [r["cost"] for r in one.stats["portfolio"]] == [r["cost"] for r in two.stats["portfolio"]]
    assert two.routes == one.routes
    assert two.is_feasible


def test_side_by_side_portfolio_starts_its_first_search_from_a_warm_start(atsp10):
    start = [list(range(9, 0, -1))]
    sol = hr.get_solver("ortools", workers=2).solve(atsp10, time_limit=1.0, initial=start)
    assert sol.stats["workers"] == 2
    assert sol.stats["initial_accepted"] is True
    assert sol.cost <= hr.evaluate(atsp10, start).cost
    assert len(sol.stats["portfolio"]) == 2


def test_a_failing_side_search_loses_only_its_own_result(atsp10, monkeypatch, caplog):
    from hybridroute.solvers import ortools_solver

    monkeypatch.setattr(ortools_solver, "_SIDE_TARGET", "os:abort")  # called with kwargs: raises
    sol = _solve(atsp10, solution_limit=40, workers=2)
    assert sol.is_feasible
    first, second = sol.stats["portfolio"]
    assert first["status"] == "ROUTING_SUCCESS"
    assert second["status"] == "side process failed" and "TypeError" in second["error"]
    assert "side search PATH_CHEAPEST_ARC lost" in caplog.text


def test_workers_do_not_apply_to_a_single_search(acvrp12):
    sol = _solve(acvrp12, workers=2)
    assert "workers" not in sol.stats and "portfolio" not in sol.stats


def test_bad_workers_setting_is_refused():
    with pytest.raises(ValueError, match="workers must be"):
        hr.get_solver("ortools", workers=0)


def test_large_time_window_problems_with_long_limits_run_where_they_can_be_killed(acvrptw12, acvrp12, monkeypatch):
    from hybridroute.solvers import ortools_solver

    monkeypatch.setattr(ortools_solver, "KILLABLE_MIN_CUSTOMERS", 12)
    killable = ortools_solver._killed_at_deadline
    assert killable(acvrptw12, 10.0) and not killable(acvrptw12, 2.0) and not killable(acvrptw12, np.inf)
    assert not killable(acvrp12, 10.0)  # no time windows: its limit is checked often enough
    monkeypatch.setattr(ortools_solver, "KILLABLE_MIN_CUSTOMERS", 13)
    assert not killable(acvrptw12, 10.0)


def test_a_search_still_running_at_the_deadline_is_killed_and_its_last_solution_kept(acvrptw12, monkeypatch):
    """GLS runs to its limit: asked to kill it 0.6 s before, the solve keeps the last better
    solution the side search sent, with its history, and its warm start is accepted there."""
    from hybridroute.solvers import ortools_solver

    monkeypatch.setattr(ortools_solver, "KILLABLE_MIN_CUSTOMERS", 1)
    monkeypatch.setattr(ortools_solver, "KILLABLE_MIN_LIMIT_S", 0.0)
    monkeypatch.setattr(ortools_solver, "SIDE_LATE_S", -0.6)
    start = hr.solve(acvrptw12, "nearest")
    sol = hr.get_solver("ortools").solve(acvrptw12, time_limit=2.0, initial=start.routes)
    assert sol.is_feasible and sol.stats["killed_at_deadline"] == 1 and sol.stats["initial_accepted"] is True
    assert sol.runtime < 2.0 and sol.cost <= start.cost + 1e-6
    assert sol.history and sol.history[-1][1] == pytest.approx(sol.cost, rel=1e-6)
    # the same search left to end by itself: nothing killed
    monkeypatch.setattr(ortools_solver, "SIDE_LATE_S", 0.2)
    ended = hr.get_solver("ortools").solve(acvrptw12, time_limit=1.0)
    assert ended.is_feasible and ended.stats["killed_at_deadline"] == 0
