"""OR-Tools backend on the fleet model: each feature on a tiny instance, against the optimum
found by enumeration over hybridroute's evaluator, and every answer feasible when re-evaluated."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import hybridroute as hr
from hybridroute._enumerate import optimum_by_enumeration
from hybridroute.fleet import FEATURES
from hybridroute.solvers import solver_class

pytest.importorskip("ortools")

# A solution limit makes the searches reproducible; the time limit is only a safety net.
SETTINGS = dict(solution_limit=500)
TIME_LIMIT = 60.0


def _solve(problem: hr.Problem, initial=None, **settings) -> hr.Solution:
    sol = hr.get_solver("ortools", **{**SETTINGS, **settings}).solve(
        problem, time_limit=TIME_LIMIT, initial=initial)
    again = hr.evaluate(problem, sol.routes, vehicle_types=sol.vehicle_types)
    assert again.is_feasible, again.violations
    assert again.cost == pytest.approx(sol.cost)
    return sol


_optimum = optimum_by_enumeration


def _without(problem: hr.Problem, **fields) -> hr.Problem:
    """``problem`` with every vehicle type's ``fields`` replaced (to show a feature binds)."""
    return problem.replace(vehicle_types=[dataclasses.replace(vt, **fields) for vt in problem.vehicle_types])


def _grid(points) -> np.ndarray:
    """Euclidean distances between ``points``, rounded to whole metres."""
    pts = np.asarray(points, dtype=float)
    return np.rint(np.linalg.norm(pts[:, None] - pts[None], axis=2))


# -- instances (at most 6 stops each) ---------------------------------------------------------

def two_depots() -> hr.Problem:
    """Vans run from the west depot (0) to the east depot (1); one more is based at 1."""
    d = _grid([(0, 0), (100, 0), (20, 10), (40, -10), (60, 15), (80, -5), (50, 30)])
    return hr.Problem("ACVRP", d, demand=[0, 0, 3, 3, 3, 3, 3], num_depots=2, vehicle_types=[
        hr.VehicleType(count=2, capacity=9, start_depot=0, end_depot=1),
        hr.VehicleType(count=1, capacity=9, start_depot=1)])


def two_types() -> hr.Problem:
    """A big truck with a high fixed cost and as many small vans as needed."""
    d = _grid([(0, 0), (30, 0), (0, 30), (-30, 0), (0, -30), (25, 25), (-25, -25)])
    return hr.Problem("ACVRP", d, demand=[0, 4, 4, 3, 3, 2, 2], vehicle_types=[
        hr.VehicleType(count=1, capacity=12, fixed_cost=100),
        hr.VehicleType(count=None, capacity=6, fixed_cost=30)])


def optional_stops() -> hr.Problem:
    """Stop 4 is a short detour worth its prize; stop 5 is far and worth little."""
    d = _grid([(0, 0), (10, 0), (10, 10), (0, 10), (12, 5), (60, 60)])
    return hr.Problem("ACVRP", d, demand=[0, 1, 1, 1, 1, 1], capacity=10, num_vehicles=1,
                      required=[True, True, True, True, False, False], prize=[0, 0, 0, 0, 50, 40])


def shift() -> hr.Problem:
    """One tour of all four stops takes 68 s, beyond the 60 s shift; two tours of 40 s fit."""
    d = _grid([(0, 0), (10, 0), (20, 0), (0, 10), (0, 20)])
    return hr.Problem("ACVRP", d, d, demand=[0, 1, 1, 1, 1], vehicle_types=[
        hr.VehicleType(count=2, capacity=10, shift=(100, 160))])


def max_duration() -> hr.Problem:
    """Stop 1 opens at 100 s (routes leave late to reach it as it opens); stop 3 opens at
    200 s, so a route serving 1 then 3 waits there, which leaving later cannot absorb in the
    evaluator's schedule."""
    d = _grid([(0, 0), (10, 0), (20, 0), (20, 10), (0, 10)])
    tw = [(0, 1000), (100, 200), (0, 1000), (200, 300), (0, 1000)]
    return hr.Problem("ACVRPTW", d, d, demand=[0, 1, 1, 1, 1], time_windows=tw, service_time=[0, 5, 5, 5, 5],
                      vehicle_types=[hr.VehicleType(count=3, capacity=10, max_duration=90)])


def max_distance() -> hr.Problem:
    d = _grid([(0, 0), (20, 0), (20, 20), (0, 20), (-20, 0), (-20, -20)])
    return hr.Problem("ACVRP", d, demand=[0, 1, 1, 1, 1, 1], vehicle_types=[
        hr.VehicleType(count=3, capacity=10, max_distance=90)])


def lunch() -> hr.Problem:
    """One vehicle, 20 s per stop: it is under way at 40-50 s and must rest 30 s then."""
    d = _grid([(0, 0), (10, 0), (20, 0), (20, 10), (10, 10)])
    return hr.Problem("ACVRPTW", d, d, demand=[0, 1, 1, 1, 1], time_windows=[(0, 1000)] * 5,
                      service_time=[0, 20, 20, 20, 20],
                      vehicle_types=[hr.VehicleType(count=1, capacity=10, breaks=[(40, 50, 30)])])


def rest_on_the_way() -> hr.Problem:
    """Serving 1 then 2 is short; its break (start 100-110 s) pauses the drive to 2, which is
    still reached by its window's end (140 s)."""
    d = np.array([[0, 10, 80], [10, 0, 50], [20, 50, 0]], dtype=float)
    return hr.Problem("ACVRPTW", d, d, demand=[0, 1, 1], time_windows=[(0, 1000), (0, 1000), (0, 140)],
                      service_time=[0, 50, 5], vehicle_types=[
                          hr.VehicleType(count=2, capacity=10, breaks=[(100, 110, 30)], fixed_cost=50)])


def break_after_return() -> hr.Problem:
    """One tour of the four stops takes 104 s within a 120 s shift, but it is under way after
    the break's earliest start (40 s), so it must rest 30 s and would return late: two tours
    are needed. Resting after the return would not count."""
    d = _grid([(0, 0), (10, 0), (10, 10), (0, 10), (5, 5)])
    return hr.Problem("ACVRPTW", d, d, demand=[0, 1, 1, 1, 1], time_windows=[(0, 1000)] * 5,
                      service_time=[0, 15, 15, 15, 15], vehicle_types=[
                          hr.VehicleType(count=2, capacity=10, shift=(0, 120), breaks=[(40, 1000, 30)],
                                         fixed_cost=5)])


def duration_objective() -> hr.Problem:
    """Minimise seconds: depot service, waiting at first and later stops, fixed costs."""
    d = _grid([(0, 0), (10, 0), (20, 0), (20, 10), (0, 10), (-10, 5)])
    tw = [(0, 1000), (100, 200), (0, 1000), (200, 300), (0, 1000), (150, 170)]
    return hr.Problem("ACVRPTW", d, d, demand=[0, 2, 2, 2, 2, 2], time_windows=tw,
                      service_time=[7, 5, 5, 5, 5, 5], objective="duration", vehicle_types=[
                          hr.VehicleType(count=2, capacity=6, fixed_cost=40),
                          hr.VehicleType(count=1, capacity=10, fixed_cost=90, max_duration=150)])


def combination() -> hr.Problem:
    """Two depots, two types (one depot-to-depot with a shift, a break and a distance limit,
    one based at depot 1 with a duration limit), fixed costs and two optional stops."""
    d = _grid([(0, 0), (100, 0), (20, 10), (40, -10), (60, 15), (80, -5), (50, 40), (90, 40)])
    tw = [(0, 400), (0, 450)] + [(0, 400)] * 6
    return hr.Problem(
        "ACVRPTW", d, d, demand=[0, 0, 2, 2, 3, 3, 2, 2], time_windows=tw,
        service_time=[10, 0, 10, 10, 10, 10, 10, 10], num_depots=2,
        required=[True] * 6 + [False, False], prize=[0] * 6 + [60, 5],
        vehicle_types=[
            hr.VehicleType(count=1, capacity=8, start_depot=0, end_depot=1, shift=(0, 250),
                           breaks=[(80, 120, 20)], fixed_cost=30, max_distance=160),
            hr.VehicleType(count=2, capacity=5, start_depot=1, fixed_cost=10, max_duration=150)])


INSTANCES = {f.__name__: f for f in (two_depots, two_types, optional_stops, shift, max_duration, max_distance,
                                     lunch, rest_on_the_way, break_after_return, duration_objective,
                                     combination)}


# -- tests ------------------------------------------------------------------------------------

def test_declares_every_fleet_feature():
    assert solver_class("ortools").features == frozenset(FEATURES)


@pytest.mark.parametrize("name", list(INSTANCES))
def test_reaches_the_enumerated_optimum(name):
    problem = INSTANCES[name]()
    assert problem.features, "a fleet instance"
    best = _optimum(problem)
    sol = _solve(problem)
    assert sol.cost == pytest.approx(best.cost), (sol.routes, sol.vehicle_types, best.routes, best.vehicle_types)
    assert len(sol.vehicle_types) == len(sol.routes)


@pytest.mark.parametrize("name", ["max_duration", "rest_on_the_way", "duration_objective", "combination"])
def test_fractional_data_reaches_the_enumerated_optimum(name):
    """Metres and seconds off the integers: scaled and rounded conservatively, still optimal."""
    problem = INSTANCES[name]()
    problem = problem.replace(distance=problem.distance * 1.013, duration=problem.duration * 0.977)
    sol = _solve(problem)
    assert sol.stats["time_scale"] > 1
    assert sol.cost == pytest.approx(_optimum(problem).cost)


def test_routes_run_between_their_types_depots():
    problem = two_depots()
    sol = _solve(problem)
    assert sol.routes
    for stats, t in zip(sol.route_stats, sol.vehicle_types):
        vt = problem.vehicle_types[t]
        assert (stats.start_depot, stats.end_depot) == (vt.start_depot, vt.end)
        assert not {0, 1} & set(stats.nodes)
    assert {(s.start_depot, s.end_depot) for s in sol.route_stats} == {(0, 1)}, "the west-east vans are cheaper"


def test_vehicle_types_differ_in_capacity_and_fixed_cost():
    problem = two_types()
    sol = _solve(problem)
    assert sorted(set(sol.vehicle_types)) == [0, 1], "the optimum mixes the truck and vans"
    for stats, t in zip(sol.route_stats, sol.vehicle_types):
        assert stats.load <= problem.vehicle_types[t].capacity
    assert sol.fixed_cost == sum(problem.vehicle_types[t].fixed_cost for t in sol.vehicle_types)
    # a dearer truck is left at the depot
    truck, van = problem.vehicle_types
    dearer = problem.replace(vehicle_types=[dataclasses.replace(truck, fixed_cost=150), van])
    sol = _solve(dearer)
    assert set(sol.vehicle_types) == {1}
    assert sol.cost == pytest.approx(_optimum(dearer).cost)


def test_optional_stop_is_served_when_its_prize_beats_the_detour():
    sol = _solve(optional_stops())
    assert sol.unserved == (5,)
    assert 4 in {v for route in sol.routes for v in route}
    assert sol.unserved_prize == 40


def test_shift_forces_two_routes():
    problem = shift()
    assert len(_optimum(_without(problem, shift=None)).routes) == 1
    sol = _solve(problem)
    assert len(sol.routes) == 2
    for stats in sol.route_stats:
        assert 100 <= stats.start_time and stats.end_time <= 160


@pytest.mark.parametrize("limit", ["max_duration", "max_distance"])
def test_route_limit_binds(limit):
    problem = INSTANCES[limit]()
    free = _optimum(_without(problem, **{limit: None}))
    sol = _solve(problem)
    assert sol.cost > free.cost, "the limit changes the optimum"
    bound = getattr(problem.vehicle_types[0], limit)
    for stats in sol.route_stats:
        assert (stats.duration if limit == "max_duration" else stats.distance) <= bound


def test_lunch_break_is_taken():
    problem = lunch()
    sol = _solve(problem)
    (stats,) = sol.route_stats
    (brk,) = stats.breaks
    position, start, duration = brk
    assert 40 <= start <= 50 and duration == 30
    assert stats.duration >= 4 * 20 + 30  # service and the break
    assert sol.cost == pytest.approx(_optimum(problem).cost)


def test_break_pauses_a_drive():
    sol = _solve(rest_on_the_way())
    assert sol.routes == ((1, 2),)
    assert sol.route_stats[0].breaks == ((1, 100.0, 30.0),)  # between stops 1 and 2


def test_a_route_under_way_at_the_break_takes_it():
    problem = break_after_return()
    assert len(_optimum(_without(problem, breaks=())).routes) == 1
    sol = _solve(problem)
    assert len(sol.routes) == 2
    for stats in sol.route_stats:
        assert stats.end_time <= 40 or len(stats.breaks) == 1


def test_warm_start_with_several_types_is_used():
    problem = combination()
    best = _optimum(problem)
    sol = _solve(problem, initial=best, solution_limit=20)
    assert sol.stats["initial_accepted"] is True
    assert sol.cost == pytest.approx(best.cost)


def test_warm_start_that_no_vehicle_type_can_run_is_ignored():
    problem = two_types()
    everything = [list(problem.customers)]  # 18 units: beyond both capacities
    sol = _solve(problem, initial=everything)
    assert sol.stats["initial_accepted"] is False
    assert "vehicle types" in sol.stats["initial_reason"]
    assert sol.cost == pytest.approx(_optimum(problem).cost)


def test_unlimited_fleet_has_room_for_a_warm_start():
    """One route per stop is more than the capacity packing bound of an unlimited type."""
    problem = optional_stops().replace(vehicle_types=[hr.VehicleType(count=None, capacity=10)])
    start = [[v] for v in problem.customers]
    sol = _solve(problem, initial=start)
    assert sol.stats["initial_accepted"] is True
    assert sol.cost == pytest.approx(_optimum(problem).cost)


def test_side_by_side_searches_return_vehicle_types():
    problem = combination()
    portfolio = [{"first_solution_strategy": "PARALLEL_CHEAPEST_INSERTION"},
                 {"first_solution_strategy": "LOCAL_CHEAPEST_INSERTION"}]
    sol = _solve(problem, portfolio=portfolio, workers=2)
    assert [m["first_solution_strategy"] for m in sol.stats["portfolio"]] == [
        "PARALLEL_CHEAPEST_INSERTION", "LOCAL_CHEAPEST_INSERTION"]
    assert all("cost" in m for m in sol.stats["portfolio"]), sol.stats["portfolio"]
    assert sol.cost == pytest.approx(_optimum(problem).cost)


@pytest.mark.parametrize("depot_service, breaks", [
    (100.0, [(20.0, 50.0, 30.0)]),  # must start by 50 s; the depot's service ends at 100 s
    (0.0, [(100.0, 200.0, 1000.0), (300.0, 400.0, 10.0)]),  # the first ends past the second's latest start
])
def test_a_type_whose_breaks_cannot_all_be_taken_is_not_used(depot_service, breaks):
    d = np.array([[0, 1000, 2000], [1000, 0, 1000], [2000, 1000, 0]], dtype=float)
    types = [hr.VehicleType(count=2, capacity=5, breaks=breaks),
             hr.VehicleType(count=2, capacity=5, fixed_cost=100.0)]
    problem = hr.Problem("ACVRPTW", d, d / 10, demand=[0, 1, 1], time_windows=[[0, 10000]] * 3,
                         service_time=[depot_service, 5, 5], vehicle_types=types)
    sol = _solve(problem)
    assert sol.vehicle_types == (1,)
    assert sol.cost == pytest.approx(_optimum(problem).cost)
