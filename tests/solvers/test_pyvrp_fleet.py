"""PyVRP backend and the fleet model: depots, vehicle types, optional stops, shifts, route
limits, fixed costs. Each instance is tiny (at most 6 stops), so its optimum is known by
enumeration over hybridroute's evaluator, and PyVRP must find it."""

from __future__ import annotations

import math

import numpy as np
import pytest

import hybridroute as hr
from hybridroute._enumerate import optimum_by_enumeration
from hybridroute import VehicleType
from hybridroute.solvers.scaling import ScalingWarning

pytest.importorskip("pyvrp")

#: Enough for PyVRP to settle on 6 stops; the iteration cap keeps runs short and reproducible.
SETTINGS = dict(max_iterations=2000, workers=1)
TIME_LIMIT = 5.0


def _solve(problem, initial=None, seed=0, **settings):
    sol = hr.get_solver("pyvrp", **{**SETTINGS, **settings}).solve(
        problem, time_limit=TIME_LIMIT, seed=seed, initial=initial)
    again = hr.evaluate(problem, sol.routes, vehicle_types=sol.vehicle_types)
    assert sol.is_feasible and again.is_feasible, (sol.message, sol.violations)
    assert again.cost == pytest.approx(sol.cost)
    return sol


def _matrix(points) -> np.ndarray:
    """Whole metres between points, each arc stretched by 0, 10 or 20 % (asymmetric)."""
    pts = np.asarray(points, dtype=float)
    i, j = np.indices((len(pts), len(pts)))
    d = np.linalg.norm(pts[:, None] - pts[None], axis=-1) * (1.0 + 0.1 * ((i + 2 * j) % 3))
    np.fill_diagonal(d, 0.0)
    return np.round(d)


def enumerated_optimum(problem: hr.Problem) -> hr.Solution:
    """The cheapest feasible solution, by enumeration over ``hr.evaluate``."""
    best = optimum_by_enumeration(problem)
    assert best is not None, "the instance has no feasible solution"
    return best


def _assert_optimal(problem: hr.Problem) -> tuple[hr.Solution, hr.Solution]:
    """Solve with PyVRP; its solution must be feasible and cost the enumerated optimum."""
    best = enumerated_optimum(problem)
    sol = _solve(problem)
    assert sol.cost == pytest.approx(best.cost, rel=1e-9), (sol.routes, sol.vehicle_types, best.routes,
                                                           best.vehicle_types)
    return sol, best


# -- instances --------------------------------------------------------------------------------

# One depot at the origin and six stops around it (metres; seconds at 10 m/s).
STAR = _matrix([(0, 0), (800, 100), (1000, 900), (100, 1000), (-700, 400), (-600, -800), (500, -900)])
STAR_T = np.round(STAR / 10.0)


def _star(*types: VehicleType, kind: str = "ACVRP", demand=(0, 4, 3, 2, 5, 3, 1), **kw) -> hr.Problem:
    return hr.Problem(kind, STAR, STAR_T, demand=list(demand), vehicle_types=list(types), **kw)


def test_features_are_declared():
    from hybridroute.solvers.pyvrp_solver import PyVRPSolver

    assert PyVRPSolver.features == frozenset({
        "multiple_depots", "vehicle_types", "optional_stops", "shifts", "max_duration",
        "max_distance", "fixed_costs"})


def test_two_depots_routes_end_at_the_other_depot():
    # depot 0 on the left, depot 1 on the right, three stops near each: one-way routes take
    # stops from both ends, round trips from depot 0 would not
    d = _matrix([(0, 0), (3000, 0), (300, 400), (400, -300), (200, 700), (2700, 400), (2800, -300), (2600, 700)])
    problem = hr.Problem("ACVRP", d, np.round(d / 10.0), demand=[0, 0, 1, 1, 1, 1, 1, 1], num_depots=2,
                         vehicle_types=[VehicleType(count=None, capacity=3, start_depot=0, end_depot=1)])
    sol, _ = _assert_optimal(problem)
    assert len(sol.routes) == 2
    assert all(r.start_depot == 0 and r.end_depot == 1 for r in sol.route_stats)
    # the return leg is the one into depot 1
    assert sol.distance == pytest.approx(sum(
        d[[0, *r], [*r, 1]].sum() for r in sol.routes))


def test_two_depots_two_types_each_from_its_own_depot():
    # a left and a right cluster; each type is based at one depot
    d = _matrix([(0, 0), (4000, 0), (300, 400), (-200, 500), (400, -300), (3700, 300), (4300, 400),
                 (3800, -500)])
    problem = hr.Problem("ACVRP", d, demand=[0, 0, 2, 2, 2, 2, 2, 2], num_depots=2,
                         vehicle_types=[VehicleType(count=1, capacity=6, start_depot=0),
                                        VehicleType(count=1, capacity=6, start_depot=1)])
    sol, _ = _assert_optimal(problem)
    for route, t in zip(sol.routes, sol.vehicle_types):
        assert set(route) == ({2, 3, 4} if t == 0 else {5, 6, 7})
    assert {(r.start_depot, r.end_depot) for r in sol.route_stats} == {(0, 0), (1, 1)}


def test_service_at_each_start_depot_delays_its_routes():
    # stop 2 lies close to depot 1, but depot 1's 200 s of loading make its window (ends at
    # 100 s) reachable only from depot 0
    d = _matrix([(0, 0), (1000, 0), (700, 0), (1200, 300), (1300, -200), (-300, 200)])
    problem = hr.Problem("ACVRPTW", d, np.round(d / 10.0), demand=[0, 0, 1, 1, 1, 1], num_depots=2,
                         time_windows=[[0, 5000], [0, 5000], [0, 100], [0, 5000], [0, 5000], [0, 5000]],
                         service_time=[0, 200, 0, 0, 0, 0],
                         vehicle_types=[VehicleType(count=1, capacity=5, start_depot=0),
                                        VehicleType(count=1, capacity=5, start_depot=1)])
    sol, _ = _assert_optimal(problem)
    assert next(r.start_depot for r in sol.route_stats if 2 in r.nodes) == 0


def test_two_vehicle_types_with_capacities_and_fixed_costs():
    big = VehicleType(count=1, capacity=12, fixed_cost=2000.0, name="truck")
    small = VehicleType(count=3, capacity=6, fixed_cost=300.0, name="van")
    problem = _star(big, small)
    sol, best = _assert_optimal(problem)
    assert len(sol.vehicle_types) == len(sol.routes)
    assert sol.fixed_cost == pytest.approx(best.fixed_cost)
    for r in sol.route_stats:
        assert r.load <= problem.vehicle_types[r.vehicle_type].capacity


def test_fixed_cost_changes_the_chosen_type():
    # the same vehicles, the big one made expensive: the optimum swaps types
    cheap = _star(VehicleType(count=1, capacity=18, fixed_cost=0.0), VehicleType(count=3, capacity=6,
                                                                                  fixed_cost=0.0))
    dear = _star(VehicleType(count=1, capacity=18, fixed_cost=20000.0), VehicleType(count=3, capacity=6,
                                                                                     fixed_cost=0.0))
    a, _ = _assert_optimal(cheap)
    b, _ = _assert_optimal(dear)
    assert 0 in a.vehicle_types and 0 not in b.vehicle_types


def _detour(problem: hr.Problem, stop: int) -> float:
    """Optimal cost with ``stop`` required minus optimal cost without it (prize 0)."""
    required = np.ones(problem.num_nodes, dtype=bool)
    with_stop = enumerated_optimum(problem.replace(required=required, prize=None)).cost
    required[stop] = False
    without = enumerated_optimum(problem.replace(required=required, prize=None)).cost
    return with_stop - without


@pytest.mark.parametrize("margin, served", [(-50.0, False), (50.0, True)])
def test_optional_stop_is_served_only_when_its_prize_beats_the_detour(margin, served):
    # stop 6 is far out; stop 3 is optional with a prize far above its detour (always served)
    d = _matrix([(0, 0), (800, 100), (1000, 900), (100, 1000), (-700, 400), (-600, -800), (4000, 4000)])
    base = hr.Problem("ACVRP", d, demand=[0, 1, 1, 1, 1, 1, 1], capacity=10, num_vehicles=2)
    detour = _detour(base, 6)
    assert detour > 1000
    prize = np.zeros(7)
    prize[3], prize[6] = 1e6, detour + margin
    problem = base.replace(required=[True, True, True, False, True, True, False], prize=prize)
    sol, _ = _assert_optimal(problem)
    assert (6 not in sol.unserved) is served
    assert 3 not in sol.unserved
    assert sol.unserved_prize == pytest.approx(0.0 if served else detour + margin)


def test_all_stops_optional_and_worthless_gives_no_routes():
    problem = _star(VehicleType(count=2, capacity=20), required=[True] + [False] * 6, prize=[0] + [1.0] * 6)
    sol, _ = _assert_optimal(problem)
    assert sol.routes == () and sol.cost == pytest.approx(6.0)


def test_shift_forces_two_routes():
    # ACVRPTW: the shift starts after the depot opens, with depot and stop service times
    windows = [[0, 100000]] * 7
    service = [20, 30, 30, 30, 30, 30, 30]

    def problem_with(vt: VehicleType) -> hr.Problem:
        return _star(vt, kind="ACVRPTW", time_windows=windows, service_time=service, objective="duration")

    single = enumerated_optimum(problem_with(VehicleType(count=1, capacity=20)))
    shift_len = math.floor(0.7 * single.duration)
    problem = problem_with(VehicleType(count=2, capacity=20, shift=(1000.0, 1000.0 + shift_len)))
    sol, _ = _assert_optimal(problem)
    assert len(sol.routes) == 2
    assert all(r.start_time >= 1000.0 and r.end_time <= 1000.0 + shift_len + 1e-9 for r in sol.route_stats)
    assert sol.cost > single.cost  # the shift binds


def test_shift_without_time_windows():
    # ACVRP with a duration matrix: the shift alone bounds the routes
    free = enumerated_optimum(_star(VehicleType(count=3, capacity=20)))
    longest = max(r.duration for r in free.route_stats)
    problem = _star(VehicleType(count=3, capacity=20, shift=(500.0, 500.0 + 0.6 * longest)))
    sol, _ = _assert_optimal(problem)
    assert sol.cost > free.cost


def test_max_duration_binds():
    free = enumerated_optimum(_star(VehicleType(count=3, capacity=20)))
    longest = max(r.duration for r in free.route_stats)
    problem = _star(VehicleType(count=3, capacity=20, max_duration=0.6 * longest))
    sol, _ = _assert_optimal(problem)
    assert sol.cost > free.cost
    assert max(r.duration for r in sol.route_stats) <= 0.6 * longest


def test_max_distance_binds():
    free = enumerated_optimum(_star(VehicleType(count=3, capacity=20)))
    longest = max(r.distance for r in free.route_stats)
    problem = _star(VehicleType(count=3, capacity=20, max_distance=0.6 * longest))
    sol, _ = _assert_optimal(problem)
    assert sol.cost > free.cost
    assert max(r.distance for r in sol.route_stats) <= 0.6 * longest


def test_max_distance_holds_in_metres_with_fractional_distances():
    # distances with decimals: rounding must never admit a route longer than the limit
    d = STAR + np.where(np.eye(7, dtype=bool), 0.0, 0.37)
    free = enumerated_optimum(hr.Problem("ACVRP", d, demand=[0, 4, 3, 2, 5, 3, 1], capacity=20, num_vehicles=3))
    longest = max(r.distance for r in free.route_stats)
    problem = hr.Problem("ACVRP", d, demand=[0, 4, 3, 2, 5, 3, 1],
                         vehicle_types=[VehicleType(count=3, capacity=20, max_distance=0.6 * longest)])
    sol, _ = _assert_optimal(problem)
    assert max(r.distance for r in sol.route_stats) <= 0.6 * longest


def test_max_distance_holds_in_metres_when_the_scale_rounds_distances():
    # at scale 1 every leg of x.4 m rounds down to x: a limit a few tenths of a metre below a
    # route's length must still refuse it (PyVRP checks distances rounded up)
    d = STAR + np.where(np.eye(7, dtype=bool), 0.0, 0.4)
    demand = [0, 4, 3, 2, 5, 3, 1]
    free = enumerated_optimum(hr.Problem("ACVRP", d, demand=demand, capacity=20, num_vehicles=3))
    longest = max(r.distance for r in free.route_stats)
    problem = hr.Problem("ACVRP", d, demand=demand,
                         vehicle_types=[VehicleType(count=3, capacity=20, max_distance=longest - 0.1)])
    with pytest.warns(ScalingWarning):
        sol = _solve(problem, scale=1)
    assert max(r.distance for r in sol.route_stats) <= longest - 0.1
    assert sol.cost >= enumerated_optimum(problem).cost - 1e-9


def test_duration_objective_scales_fixed_costs_and_prizes_like_durations():
    # durations with one decimal: PyVRP works in tenths of a second, and the fixed cost and
    # the prize (seconds) must be in tenths too, or PyVRP would trade them wrongly
    t = np.round(STAR / 10.0 + 0.05 * np.where(np.eye(7, dtype=bool), 0, 1 + np.arange(7)), 1)
    base = hr.Problem("ACVRP", STAR, t, demand=[0, 4, 3, 2, 5, 3, 1], capacity=20, num_vehicles=3,
                      objective="duration")
    detour = _detour(base, 5)
    problem = base.replace(capacity=None, num_vehicles=None, required=[True] * 5 + [False, True],
                           prize=[0, 0, 0, 0, 0, detour + 20.0, 0],
                           vehicle_types=[VehicleType(count=3, capacity=20, fixed_cost=150.0)])
    sol, _ = _assert_optimal(problem)
    assert sol.stats["cost_scale"] == 10.0
    assert 5 not in sol.unserved


def test_everything_at_once():
    # two depots, two types (one-way and round trips), shifts, limits, fixed costs, windows,
    # an optional stop
    d = _matrix([(0, 0), (3000, 0), (600, 400), (1200, -300), (1800, 500), (2400, -200), (2900, 700),
                 (500, -900)])
    t = np.round(d / 10.0)
    windows = [[0, 2000], [0, 2500], [0, 2000], [100, 700], [0, 2000], [300, 1500], [0, 2000], [0, 900]]
    service = [10, 15, 20, 20, 20, 20, 20, 20]
    one_way = VehicleType(count=1, capacity=8, start_depot=0, end_depot=1, shift=(50.0, 1200.0),
                          fixed_cost=400.0, max_distance=4500.0, name="one-way")
    local = VehicleType(count=2, capacity=5, start_depot=1, fixed_cost=100.0, max_duration=700.0,
                        name="local")
    problem = hr.Problem("ACVRPTW", d, t, demand=[0, 0, 2, 3, 2, 3, 2, 2], num_depots=2,
                         vehicle_types=[one_way, local], time_windows=windows, service_time=service,
                         required=[True] * 7 + [False], prize=[0] * 7 + [900.0])
    assert problem.features == frozenset({"multiple_depots", "vehicle_types", "optional_stops", "shifts",
                                          "max_duration", "max_distance", "fixed_costs"})
    sol, best = _assert_optimal(problem)
    assert sorted(sol.vehicle_types) == sorted(best.vehicle_types)


def test_a_wait_after_the_first_stop_counts_against_max_duration():
    # stop 4 opens at 2000 s: the cheapest route waits there, after its first stop, which
    # hybridroute counts; with max_duration below that route's duration PyVRP must not
    # shorten it by leaving later
    windows = [[0, 100000]] * 7
    windows[4] = [2000, 100000]
    free = enumerated_optimum(_star(VehicleType(count=3, capacity=20), kind="ACVRPTW", time_windows=windows))
    longest = max(r.duration for r in free.route_stats)
    assert any(r.wait[1:].any() for r in free.route_stats)
    problem = _star(VehicleType(count=3, capacity=20, max_duration=longest - 100.0), kind="ACVRPTW",
                    time_windows=windows)
    sol, _ = _assert_optimal(problem)
    assert sol.cost > free.cost


def test_max_duration_is_conservative_when_the_first_stop_waits():
    # every stop opens at 1000 s while the depot opens at 0: hybridroute's routes leave late
    # and do not count that wait, PyVRP's leave at 0 and do; its answer stays feasible
    windows = [[0, 100000]] + [[1000, 100000]] * 6
    free = enumerated_optimum(_star(VehicleType(count=3, capacity=20), kind="ACVRPTW", time_windows=windows))
    longest = max(r.duration for r in free.route_stats)
    problem = _star(VehicleType(count=3, capacity=20, max_duration=1000.0 + longest), kind="ACVRPTW",
                    time_windows=windows)
    best = enumerated_optimum(problem)
    sol = _solve(problem)
    assert sol.cost >= best.cost - 1e-9
    assert max(r.duration for r in sol.route_stats) <= 1000.0 + longest


def test_breaks_are_refused_by_name():
    problem = _star(VehicleType(count=2, capacity=20, breaks=[(100.0, 200.0, 30.0)]))
    with pytest.raises(hr.UnsupportedProblemError, match="breaks"):
        hr.get_solver("pyvrp").solve(problem, time_limit=1)


# -- warm starts ------------------------------------------------------------------------------

def test_warm_start_routes_without_vehicle_types_are_ignored_with_a_note():
    problem = _star(VehicleType(count=1, capacity=12, fixed_cost=2000.0), VehicleType(count=6, capacity=6))
    sol = _solve(problem, initial=[[v] for v in problem.customers])
    assert sol.stats["initial_accepted"] is False
    assert "vehicle types" in sol.stats["initial_reason"]


def test_warm_start_solution_keeps_its_vehicle_types():
    # six single-stop routes fit only the six small vehicles: read as type 0 they would not
    problem = _star(VehicleType(count=1, capacity=12, fixed_cost=2000.0), VehicleType(count=6, capacity=6))
    start = hr.evaluate(problem, [[v] for v in problem.customers], vehicle_types=[1] * 6)
    assert start.is_feasible
    sol = _solve(problem, initial=start, max_iterations=0)  # the start itself, read back
    assert sol.stats["initial_accepted"] is True
    assert sol.cost <= start.cost + 1e-9


def test_warm_start_with_more_routes_of_a_type_than_it_has_is_ignored():
    problem = _star(VehicleType(count=1, capacity=12), VehicleType(count=6, capacity=6))
    start = hr.evaluate(problem, [[1, 2], [3, 4], [5, 6]], vehicle_types=[0, 0, 1])
    sol = _solve(problem, initial=start)
    assert sol.stats["initial_accepted"] is False
    assert sol.stats["initial_reason"] == "2 routes of vehicle type 0 > its 1 vehicles"
    assert sol.cost == pytest.approx(enumerated_optimum(problem).cost)


def test_warm_start_types_of_another_fleet_are_dropped_with_a_note():
    three = _star(VehicleType(count=2, capacity=12), VehicleType(count=2, capacity=6), VehicleType(count=6, capacity=6))
    two = _star(VehicleType(count=2, capacity=12), VehicleType(count=6, capacity=6))
    start = hr.evaluate(three, [[1, 2], [3], [4, 5, 6]], vehicle_types=[1, 2, 0])
    sol = _solve(two, initial=start)
    assert sol.stats["initial_types_dropped"] == "route 1: vehicle type 2 is not one of the problem's 2 types"
    assert sol.stats["initial_accepted"] is False


def test_warm_start_with_two_depots_is_read_in_node_indices():
    d = _matrix([(0, 0), (3000, 0), (500, 300), (1000, -200), (1500, 400), (2000, -300), (2500, 200),
                 (1200, 800)])
    problem = hr.Problem("ACVRP", d, demand=[0, 0, 1, 1, 1, 1, 1, 1], num_depots=2,
                         vehicle_types=[VehicleType(count=6, capacity=3, start_depot=0, end_depot=1)])
    start = [[v] for v in problem.customers]
    assert hr.evaluate(problem, start).is_feasible
    sol = _solve(problem, initial=start, max_iterations=0)  # the start itself, read back
    assert sol.stats["initial_accepted"] is True
    assert sol.cost <= hr.evaluate(problem, start).cost + 1e-9
    # a depot inside a route is dropped, not read as a stop
    sol = _solve(problem, initial=[[2, 1, 3], [4, 5, 6, 7]])
    assert sol.stats["initial_accepted"] is True
    assert "route 0: node 1 is a depot" in sol.stats["initial_dropped"]
