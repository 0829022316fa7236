"""Shared backend helpers: cleaning warm starts, keeping a better start, fleet sizes."""

from __future__ import annotations

import numpy as np

import hybridroute as hr
from hybridroute.solvers._backend import clean_initial, fleet_size, keep_better


def test_clean_initial_drops_unknown_depot_and_repeats(acvrp12):
    clean = clean_initial(acvrp12, [[1, 1, 0, 99, -3, 2], [], [2, 3]])
    assert clean.routes == [[1, 2], [3]]
    assert len(clean.dropped) == 5
    assert not clean.complete


def test_clean_initial_keeps_route_types_aligned(acvrp12):
    clean = clean_initial(acvrp12, [[1, 2], [0, 99], [3]], types=[1, 0, 2])
    assert clean.routes == [[1, 2], [3]]
    assert clean.types == [1, 2]  # the emptied route's type goes with it
    assert clean_initial(acvrp12, [[0]], types=[1]).types is None


def test_clean_initial_drops_every_depot_of_a_multi_depot_problem():
    d = np.ones((5, 5)) - np.eye(5)
    problem = hr.Problem("ACVRP", d, demand=[0, 0, 1, 1, 1], capacity=3, num_depots=2)
    clean = clean_initial(problem, [[1, 2, 3], [4, 5]])
    assert clean.routes == [[2, 3], [4]]
    assert clean.dropped == ["route 0: node 1 is a depot", "route 1: node 5 is not a stop (stops are 2..4)"]
    assert clean.complete


def test_keep_better_compares_with_vehicle_types():
    d = np.array([[0, 10, 10], [10, 0, 1], [10, 1, 0]], dtype=float)
    problem = hr.Problem("ACVRP", d, demand=[0, 2, 2], vehicle_types=[
        hr.VehicleType(count=2, capacity=2), hr.VehicleType(count=1, capacity=4, fixed_cost=5.0)])
    split, joined = [[1], [2]], [[1, 2]]  # 40 on two small vans; 21 + 5 on the big one
    assert keep_better(problem, split, joined, [0, 0], [1]) == (joined, True)
    assert keep_better(problem, joined, split, [1], [0, 0]) == (joined, False)


def test_clean_initial_joins_an_atsp_split_tour(atsp10):
    clean = clean_initial(atsp10, [[1, 2, 3], [4, 5, 6, 7, 8, 9]])
    assert clean.routes == [list(range(1, 10))]
    assert clean.complete


def test_keep_better_restores_only_a_strictly_better_feasible_start(atsp10):
    good = [list(range(1, 10))]
    worse = [list(range(9, 0, -1))]
    if hr.evaluate(atsp10, good).cost > hr.evaluate(atsp10, worse).cost:
        good, worse = worse, good
    assert keep_better(atsp10, worse, good) == (good, True)
    assert keep_better(atsp10, good, worse) == (good, False)
    assert keep_better(atsp10, None, good) == (good, True)
    assert keep_better(atsp10, good, [[1, 2]]) == (good, False)  # infeasible start: ignored


def test_fleet_size_is_enough_and_respects_limits(acvrp12, acvrptw12):
    need = int(np.ceil(acvrp12.demand.sum() / acvrp12.capacity))
    assert need < fleet_size(acvrp12) <= 2 * need + 1
    assert fleet_size(acvrptw12) == acvrptw12.num_customers
    assert fleet_size(acvrp12.replace(num_vehicles=7)) == 7
