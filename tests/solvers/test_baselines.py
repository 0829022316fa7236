"""Construction baselines without optional dependencies: nearest neighbour and capacity packing."""

from __future__ import annotations

import math

import numpy as np
import pytest
from support import require_shared

import hybridroute as hr
from hybridroute.solvers.baselines import nearest_neighbour_routes, packing_routes

# Best-fit decreasing fails on these (8, 8, 5+5, 4+4, 3+3+3, then a 3 fits nowhere), yet
# they pack exactly into five vehicles of 10: {8,2} {8,2} {5,5} {4,3,3} {4,3,3}.
TIGHT_DEMAND = [4, 4, 3, 3, 3, 3, 5, 5, 2, 8, 2, 8]


def tight_acvrp(seed: int = 0, vehicles: int = 5, capacity: int = 10) -> hr.Problem:
    rng = np.random.default_rng(seed)
    n = len(TIGHT_DEMAND) + 1
    xy = rng.random((n, 2)) * 1000
    d = np.linalg.norm(xy[:, None] - xy[None], axis=-1) * (1 + 0.2 * rng.random((n, n)))
    np.fill_diagonal(d, 0.0)
    return hr.Problem("ACVRP", d, demand=np.r_[0, TIGHT_DEMAND], capacity=capacity, num_vehicles=vehicles,
                      name=f"tight{seed}")


@pytest.mark.parametrize("seed", range(5))
def test_packing_fills_a_fleet_that_best_fit_cannot(seed):
    problem = tight_acvrp(seed)
    routes = packing_routes(problem, seed=seed)
    assert routes is not None
    sol = hr.evaluate(problem, routes)
    assert sol.is_feasible, sol.violations
    assert len(sol.routes) == 5
    assert sorted(c for r in routes for c in r) == list(range(1, problem.num_nodes))


def test_packing_is_reproducible_under_a_seed():
    problem = tight_acvrp(3)
    assert packing_routes(problem, seed=7) == packing_routes(problem, seed=7)


def test_packing_returns_none_where_it_does_not_apply():
    unlimited = tight_acvrp(0).replace(num_vehicles=None)
    assert packing_routes(unlimited) is None
    atsp = hr.Problem("ATSP", np.ones((4, 4)) - np.eye(4))
    assert packing_routes(atsp) is None


def test_nearest_neighbour_respects_capacity(acvrp12):
    sol = hr.evaluate(acvrp12, nearest_neighbour_routes(acvrp12))
    assert sol.is_feasible, sol.violations


def test_nearest_multistart_stops_at_the_time_limit(acvrp12):
    # a limit that has passed once the first start is built: that start, and no other
    sol = hr.solve(acvrp12, "nearest", starts=12, time_limit=1e-9)
    assert sol.is_feasible
    assert sol.stats["starts"] == 1 and sol.stats["starts_requested"] == 12
    assert sol.routes == hr.solve(acvrp12, "nearest").routes
    every = hr.solve(acvrp12, "nearest", starts=12, time_limit=math.inf)
    assert every.stats["starts"] == 12 and "starts_requested" not in every.stats
    assert every.cost <= sol.cost


@pytest.mark.parametrize("seed", range(3))
def test_ortools_starts_from_a_packing_under_a_tight_fleet(seed):
    pytest.importorskip("ortools")
    problem = tight_acvrp(seed)
    sol = hr.get_solver("ortools", solution_limit=100).solve(problem, time_limit=10, seed=0)
    assert sol.is_feasible, sol.violations
    assert sol.stats["packing_start"] == "used"


@pytest.mark.parametrize("name", ["A045-18f", "A065-19f"])
def test_ortools_solves_fischetti_instances_its_constructions_fail_on(name):
    """OR-Tools 9.15 alone returns ROUTING_FAIL on these within milliseconds."""
    pytest.importorskip("ortools")
    from hybridroute.formats import read

    problem = read(require_shared("data", "benchmarks", "acvrp", f"{name}.vrp"))
    sol = hr.get_solver("ortools", solution_limit=50).solve(problem, time_limit=20, seed=0)
    assert sol.is_feasible, sol.violations
    assert len(sol.routes) <= problem.num_vehicles
