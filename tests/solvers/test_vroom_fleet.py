"""VROOM backend on the fleet model: depots, vehicle types, shifts, max distance, fixed costs
and breaks mapped natively, each checked against the optimum found by enumeration."""

from __future__ import annotations


import numpy as np
import pytest

import hybridroute as hr
from hybridroute._enumerate import optimum_by_enumeration
from hybridroute import VehicleType as VT

pytest.importorskip("vroom")

# VROOM is a heuristic: on these tiny instances it finds the optimum, and is allowed 1 % above
# it only where it does not (``_assert_near_optimum`` asserts equality when it is exact).
_GAP = 0.01


def _grid(points: list[tuple[float, float]]) -> np.ndarray:
    """Whole metres between points, each arc stretched by 0, 10 or 20 % (asymmetric)."""
    pts = np.asarray(points, dtype=float)
    i, j = np.indices((len(pts), len(pts)))
    d = np.linalg.norm(pts[:, None] - pts[None], axis=-1) * (1.0 + 0.1 * ((i + 2 * j) % 3))
    np.fill_diagonal(d, 0.0)
    return np.round(d)


def _optimum(problem: hr.Problem) -> hr.Solution:
    """The cheapest feasible solution, by enumeration over ``hr.evaluate``."""
    best = optimum_by_enumeration(problem)
    assert best is not None, "test bug: the instance has no feasible solution"
    return best


def _solve(problem: hr.Problem, **kw) -> hr.Solution:
    return hr.get_solver("vroom", apply_time_limit=False).solve(problem, **kw)


def _assert_near_optimum(problem: hr.Problem, plain: hr.Problem | None = None) -> tuple[hr.Solution, hr.Solution]:
    """VROOM's solution is feasible and within ``_GAP`` of the optimum; with ``plain`` (the
    problem without the feature) the feature must change the optimal routes."""
    best = _optimum(problem)
    if plain is not None:
        assert sorted(_optimum(plain).routes) != sorted(best.routes), "test bug: the feature does not bind"
    sol = _solve(problem)
    again = hr.evaluate(problem, sol.routes, vehicle_types=sol.vehicle_types)
    assert sol.is_feasible and again.is_feasible, [v.message for v in again.violations]
    assert again.cost == pytest.approx(sol.cost)
    assert best.cost <= sol.cost + 1e-9
    assert sol.cost <= best.cost * (1 + _GAP)
    return sol, best


_D = _grid([(0, 0), (800, 100), (1000, 900), (100, 1000), (-700, 400), (-300, -800)])
_T = np.round(_D / 10.0)  # seconds at 10 m/s
_DEMAND = [0, 3, 4, 2, 5, 4]


def test_vroom_declares_the_fleet_features_it_maps():
    assert hr.get_solver("vroom").features == {
        "multiple_depots", "vehicle_types", "shifts", "max_distance", "fixed_costs", "breaks"}


def test_two_depots_with_one_way_routes():
    d = _grid([(0, 0), (3000, 0), (500, 300), (1200, -200), (2000, 250), (2500, -300), (1500, 600)])
    problem = hr.Problem("ACVRP", d, demand=[0, 0, 3, 3, 3, 3, 2], num_depots=2, vehicle_types=[
        VT(count=1, capacity=8, start_depot=0, end_depot=1), VT(count=1, capacity=8, start_depot=1, end_depot=0)])
    sol, best = _assert_near_optimum(problem)
    assert sol.cost == best.cost
    assert sorted(sol.vehicle_types) == [0, 1]
    for stats in sol.route_stats:
        vt = problem.vehicle_types[stats.vehicle_type]
        assert (stats.start_depot, stats.end_depot) == (vt.start_depot, vt.end) != (0, 0)


@pytest.mark.parametrize("fixed", [(0.0, 0.0), (3000.0, 200.0)], ids=["capacities", "fixed-costs"])
def test_two_vehicle_types(fixed):
    """A van of 10 and three of 8: with fixed costs the three small vans win."""
    big, small = fixed
    types = [VT(count=1, capacity=10, fixed_cost=big), VT(count=3, capacity=8, fixed_cost=small)]
    problem = hr.Problem("ACVRP", _D, demand=_DEMAND, vehicle_types=types)
    plain = None
    if big:
        plain = problem.replace(vehicle_types=[VT(count=1, capacity=10), VT(count=3, capacity=8)])
    sol, best = _assert_near_optimum(problem, plain)
    assert sol.cost == best.cost
    assert sol.fixed_cost == pytest.approx(sum(types[t].fixed_cost for t in sol.vehicle_types))
    for stats in sol.route_stats:
        assert stats.load <= types[stats.vehicle_type].capacity


def test_the_large_van_carries_what_small_ones_cannot():
    types = [VT(count=1, capacity=14), VT(count=3, capacity=7)]
    problem = hr.Problem("ACVRP", _D, demand=_DEMAND, vehicle_types=types)
    sol, best = _assert_near_optimum(problem)
    assert sol.cost == best.cost
    assert max(s.load for s in sol.route_stats) > 7  # only the type-0 van carries that


def test_a_shift_forces_a_second_route():
    problem = hr.Problem("ACVRP", _D, _T, demand=_DEMAND,
                         vehicle_types=[VT(count=2, capacity=30, shift=(100.0, 600.0))])
    plain = problem.replace(vehicle_types=[VT(count=2, capacity=30)])
    sol, best = _assert_near_optimum(problem, plain)
    assert sol.cost == best.cost and sol.num_routes == 2
    assert all(s.start_time >= 100.0 and s.end_time <= 600.0 for s in sol.route_stats)


def test_a_late_shift_with_depot_service_and_windows():
    """The vehicle leaves at 800 s plus 50 s of depot service; stop 3 closes at 1300 s."""
    tw = [[0, 5000], [0, 5000], [0, 5000], [900, 1300], [0, 5000], [0, 5000]]
    problem = hr.Problem("ACVRPTW", _D, _T, demand=_DEMAND, time_windows=tw, service_time=[50, 20, 20, 20, 20, 20],
                         vehicle_types=[VT(count=3, capacity=30, shift=(800.0, 1500.0))])
    plain = problem.replace(vehicle_types=[VT(count=3, capacity=30)])
    sol, best = _assert_near_optimum(problem, plain)
    assert sol.cost == best.cost
    assert all(s.start_time >= 800.0 and s.end_time <= 1500.0 for s in sol.route_stats)


def test_max_distance_splits_the_routes():
    problem = hr.Problem("ACVRP", _D, demand=_DEMAND, vehicle_types=[VT(count=3, capacity=30, max_distance=4000.0)])
    plain = problem.replace(vehicle_types=[VT(count=3, capacity=30)])
    sol, best = _assert_near_optimum(problem, plain)
    assert sol.cost == best.cost
    assert all(s.distance <= 4000.0 for s in sol.route_stats)


def test_a_lunch_break_that_binds():
    """Without the break one route serves all five stops; the break (start 114-174 s, 125 s)
    makes that route miss windows, so the optimum has two."""
    d = _grid([(0, 0), (765, -870), (94, 669), (-832, -237), (17, -349), (390, 988)])
    tw = [[0, 5000], [4, 194], [263, 599], [290, 678], [26, 365], [245, 552]]
    problem = hr.Problem("ACVRPTW", d, np.round(d / 10.0), demand=[0, 2, 4, 1, 3, 1], time_windows=tw,
                         service_time=[0, 10, 10, 10, 10, 10],
                         vehicle_types=[VT(count=3, capacity=15, breaks=[(114.0, 174.0, 125.0)])])
    plain = problem.replace(vehicle_types=[VT(count=3, capacity=15)])
    assert _optimum(plain).num_routes == 1
    sol, best = _assert_near_optimum(problem, plain)
    assert sol.cost == best.cost and sol.num_routes == 2
    for stats in sol.route_stats:
        under_way = stats.start_time < 174.0 and stats.end_time > 114.0
        assert len(stats.breaks) == int(under_way)
        assert all(114.0 <= start <= 174.0 and duration == 125.0 for _, start, duration in stats.breaks)


def test_optional_stops_are_refused_naming_them_and_who_supports_them():
    from hybridroute.solvers.base import available_solvers, solver_class

    problem = hr.Problem("ACVRP", _D, demand=_DEMAND, capacity=20, required=[True, True, False, True, True, True],
                         prize=[0, 0, 500.0, 0, 0, 0])
    with pytest.raises(hr.UnsupportedProblemError, match="optional_stops") as info:
        _solve(problem)
    supporters = []
    for name in available_solvers():
        try:
            if "optional_stops" in solver_class(name).features:
                supporters.append(name)
        except Exception:  # noqa: BLE001 - a backend that cannot be imported is not listed
            continue
    assert "vroom" not in supporters
    if supporters:
        assert f"backends that do: {', '.join(supporters)}" in str(info.value)
    else:
        assert "no registered backend does" in str(info.value)


def test_jobs_vroom_cannot_fit_are_listed_and_missing():
    """One vehicle, two stops far apart that must both be served at 100-150 s."""
    d = _grid([(0, 0), (1000, 0), (-1000, 0)])
    tw = [[0, 5000], [100, 150], [100, 150]]
    problem = hr.Problem("ACVRPTW", d, np.round(d / 10.0), demand=[0, 1, 1], time_windows=tw,
                         vehicle_types=[VT(count=1, capacity=5)])
    sol = _solve(problem)
    assert sol.status is hr.Status.INFEASIBLE
    missing = [v.node for v in sol.violations if v.kind == "missing_visit"]
    assert sol.stats["unassigned_jobs"] == missing and len(missing) == 1
    assert sol.stats["unassigned"] == 1


def test_unlimited_types_get_one_vehicle_per_customer():
    from hybridroute.solvers import vroom_solver
    from hybridroute.solvers.scaling import scale_fleet, scale_problem

    problem = hr.Problem("ACVRP", _D, demand=_DEMAND, vehicle_types=[
        VT(count=None, capacity=6), VT(count=2, capacity=12), VT(count=None, capacity=8)])
    limits = vroom_solver.VroomSolver.INTEGER_LIMITS
    scaled = scale_problem(problem, limits)
    fleet = scale_fleet(problem, scaled, limits)
    assert fleet.capacity == (6, 12, 8) and scaled.capacity is None
    assert vroom_solver._vehicles(problem, fleet, {}) == [0] * 5 + [1, 1] + [2] * 5


def test_breaks_no_route_needs_are_left_out_and_one_that_cannot_end_in_time_moves_the_return():
    from hybridroute.solvers.scaling import IntegerLimits, scale_fleet, scale_problem

    limits = IntegerLimits("test", 2**31, 2**31)
    breaks = [(50.0, 80.0, 10.0),      # over before the shift starts at 100 s: never needed
              (300.0, 400.0, 30.0),    # fits: kept
              (980.0, 990.0, 60.0),    # cannot end by 1000 s: routes return by 980 s instead
              (2000.0, 2100.0, 5.0)]   # after the shift: never needed
    problem = hr.Problem("ACVRP", _D, _T, demand=_DEMAND,
                         vehicle_types=[VT(count=2, capacity=30, shift=(100.0, 1000.0), breaks=breaks)])
    scaled = scale_problem(problem, limits, need_time=True)
    fleet = scale_fleet(problem, scaled, limits)
    ts = scaled.time_scale
    assert fleet.departure == (100 * ts,) and fleet.return_by == (980 * ts,)
    assert fleet.breaks == (((300 * ts, 400 * ts, 30 * ts),),)


def test_a_guarded_run_keeps_the_vehicle_types_and_has_no_fallback_for_a_fleet(monkeypatch):
    from hybridroute.solvers import vroom_solver

    problem = hr.Problem("ACVRP", _D, demand=_DEMAND, vehicle_types=[
        VT(count=1, capacity=14), VT(count=3, capacity=7, fixed_cost=10.0)])
    direct = _solve(problem)
    monkeypatch.setattr(vroom_solver, "construction_estimate", lambda problem, level: 1e6)
    guarded = hr.get_solver("vroom").solve(problem, time_limit=30)  # a side process (pickled inputs)
    assert guarded.stats["guarded"] and "fallback" not in guarded.stats
    assert guarded.is_feasible and guarded.vehicle_types == direct.vehicle_types
    assert guarded.cost == direct.cost
    monkeypatch.setattr(vroom_solver, "allowed_runtime", lambda limit: 0.0)  # a bound already passed
    killed = hr.get_solver("vroom").solve(problem, time_limit=30)
    assert killed.status is hr.Status.NO_SOLUTION and killed.stats["fallback"] == "none"


def test_a_warm_start_without_vehicle_types_is_not_used_with_several_types():
    problem = hr.Problem("ACVRP", _D, demand=_DEMAND, vehicle_types=[VT(count=1, capacity=14), VT(count=3, capacity=7)])
    sol = _solve(problem, initial=[[1, 2], [3, 4], [5]])
    assert sol.is_feasible
    assert sol.stats["initial_accepted"] is False and "vehicle types" in sol.stats["initial_reason"]


def test_a_warm_start_solution_keeps_its_vehicle_types():
    problem = hr.Problem("ACVRP", _D, demand=_DEMAND, vehicle_types=[VT(count=1, capacity=14), VT(count=3, capacity=7)])
    best = _optimum(problem)
    sol = _solve(problem, initial=best)
    assert sol.stats["initial_accepted"] is True
    assert sol.cost == pytest.approx(best.cost)
    # more routes of the big type than it has: not used, and said why
    crowded = hr.evaluate(problem, [[1, 2], [3, 4], [5]], vehicle_types=[0, 0, 1])
    sol = _solve(problem, initial=crowded)
    assert sol.is_feasible and sol.stats["initial_accepted"] is False
    assert sol.stats["initial_reason"] == "route 1: no vehicle of type 0 left (2 routes of that type)"


def test_a_warm_start_on_two_depots_drops_depot_nodes():
    d = _grid([(0, 0), (3000, 0), (500, 300), (1200, -200), (2000, 250)])
    problem = hr.Problem("ACVRP", d, demand=[0, 0, 3, 3, 3], num_depots=2,
                         vehicle_types=[VT(count=2, capacity=6, start_depot=0, end_depot=1)])
    sol = _solve(problem, initial=[[2, 1, 3], [4]])
    assert sol.is_feasible
    assert any("depot" in note for note in sol.stats["initial_dropped"])


# (depot service s, breaks): a type every route of which breaks late. First: the break must
# start by 50 s but the depot's service lasts until 100 s. Second: the 1000 s break taken from
# 100 s ends past the latest start of the next one (400 s); VROOM calls such breaks
# inconsistent and refuses the whole problem unless the type's routes are cut short.
UNUSABLE_BREAKS = [(100.0, [(20.0, 50.0, 30.0)]), (0.0, [(100.0, 200.0, 1000.0), (300.0, 400.0, 10.0)])]


@pytest.mark.parametrize("depot_service, breaks", UNUSABLE_BREAKS)
def test_a_type_whose_breaks_cannot_all_be_taken_is_not_used(depot_service, breaks):
    d = np.array([[0, 1000, 2000], [1000, 0, 1000], [2000, 1000, 0]], dtype=float)
    types = [VT(count=2, capacity=5, breaks=breaks), VT(count=2, capacity=5, fixed_cost=100.0)]
    problem = hr.Problem("ACVRPTW", d, d / 10, demand=[0, 1, 1], time_windows=[[0, 10000]] * 3,
                         service_time=[depot_service, 5, 5], vehicle_types=types)
    assert not hr.evaluate(problem, [[2, 1]], vehicle_types=[0]).is_feasible
    sol = _solve(problem, time_limit=1)
    assert sol.is_feasible and sol.vehicle_types == (1,)
    assert sol.cost == pytest.approx(_optimum(problem).cost)
