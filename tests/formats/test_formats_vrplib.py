"""VRPLIB readers: CVRPLIB set X (EUC_2D) and the Fischetti ACVRP instances with LKH-3 tours."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from support import SHARED, require_shared

import hybridroute as hr
from hybridroute.formats import euc_2d, read, read_lkh_tour, read_solution, read_vrplib

BENCH = SHARED / "data" / "benchmarks"
X_SOLS = sorted(p.name for p in (BENCH / "cvrp_x").glob("*.sol"))
TOURS = sorted(p.name for p in (BENCH / "acvrp").glob("*.tour"))
# MANIFEST.md: these three LKH-3 tours reach their stated cost only when driven backwards.
REVERSED_TOURS = {"A048-10f", "A048-16f", "A056-05f"}


def optima() -> dict:
    return json.loads(require_shared("data", "benchmarks", "optima.json").read_text())


def test_all_files_present():
    require_shared("data", "benchmarks", "cvrp_x")
    require_shared("data", "benchmarks", "acvrp")
    assert len(X_SOLS) == 22
    assert len(TOURS) == 32


def test_euc_2d_rounds_halves_up():
    d = euc_2d(np.array([[0.0, 0.0], [2.5, 0.0], [0.0, 0.5], [3.0, 4.0]]))
    assert d[0, 1] == 3  # np.round would give 2 (round half to even)
    assert d[0, 2] == 1
    assert d[0, 3] == 5
    assert d[1, 3] == round(math.hypot(0.5, 4.0))


def test_x_n101_k25_structure_and_solution():
    problem = read_vrplib(require_shared("data", "benchmarks", "cvrp_x", "X-n101-k25.vrp"))
    assert problem.kind is hr.ProblemKind.ACVRP
    assert (problem.name, problem.num_nodes, problem.capacity) == ("X-n101-k25", 101, 206)
    assert problem.num_vehicles is None  # k = 25 is the minimum fleet; the optimum uses 26 routes
    assert problem.ids[0] == 1 and np.array_equal(problem.ids, np.arange(1, 102))
    assert problem.coords is None and problem.duration is None
    # Depot (365, 689) to node 2 (146, 180): sqrt(219² + 509²) = 554.11 -> 554.
    assert problem.distance[0, 1] == 554
    assert problem.demand[0] == 0 and problem.demand.dtype.kind == "i"
    ref = read_solution(BENCH / "cvrp_x" / "X-n101-k25.sol", problem)
    sol = hr.evaluate(problem, ref.routes)
    assert sol.status is hr.Status.FEASIBLE and not sol.violations
    assert sol.cost == ref.cost == 27591
    assert sol.num_routes == 26


@pytest.mark.parametrize("filename", X_SOLS)
def test_x_solution_reproduces_its_cost(filename):
    name = filename.removesuffix(".sol")
    problem = read(require_shared("data", "benchmarks", "cvrp_x", f"{name}.vrp"))
    ref = read_solution(BENCH / "cvrp_x" / filename, problem)
    sol = hr.evaluate(problem, ref.routes)
    assert sol.is_feasible, sol.violations[:3]
    assert sol.cost == ref.cost == optima()[name]["optimal_or_bks"]
    assert sol.num_routes == optima()[name]["vehicles"]


def _raw_matrix(path) -> np.ndarray:
    """The Fischetti matrix read independently: one row per line after EDGE_WEIGHT_SECTION."""
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "EDGE_WEIGHT_SECTION") + 1
    end = next(i for i, line in enumerate(lines) if line.strip() == "DEMAND_SECTION")
    return np.array([line.split() for line in lines[start:end]], dtype=float)


def test_fischetti_depot_moves_to_index_zero():
    path = require_shared("data", "benchmarks", "acvrp", "A034-02f.vrp")
    problem = read_vrplib(path)
    raw = _raw_matrix(path)
    assert raw.shape == (34, 34) and raw[0, 0] == 10000
    order = np.r_[33, 0:33]  # the depot is the file's last node, 34
    expected = raw[np.ix_(order, order)]
    np.fill_diagonal(expected, 0)
    assert np.array_equal(problem.distance, expected)
    assert problem.ids.tolist() == [34, *range(1, 34)]
    assert problem.demand[0] == 0 and problem.demand[1] == 94  # file node 1 has demand 94
    assert (problem.num_vehicles, problem.capacity, problem.name) == (2, 1000, "A034-02f")
    assert not np.array_equal(problem.distance, problem.distance.T)


def test_a034_02f_tour_is_1406():
    problem = read(require_shared("data", "benchmarks", "acvrp", "A034-02f.vrp"))
    ref = read_lkh_tour(BENCH / "acvrp" / "A034-02f.1406.tour", problem)
    # Checked by hand against the file: the tour's depot copy is node 35 (> n = 34).
    assert [problem.id_of(v) for v in ref.routes[1][:3]] == [3, 4, 1]
    sol = hr.evaluate(problem, ref.routes)
    assert sol.is_feasible
    assert sol.cost == ref.cost == 1406
    assert sol.num_routes == 2


@pytest.mark.parametrize("filename", TOURS)
def test_fischetti_tour_reproduces_its_cost(filename):
    name, stated, _ = filename.split(".")
    problem = read(require_shared("data", "benchmarks", "acvrp", f"{name}.vrp"))
    ref = read_solution(BENCH / "acvrp" / filename, problem)
    assert ref.cost == int(stated)  # the COMMENT agrees with the file name
    forward = hr.evaluate(problem, ref.routes)
    backward = hr.evaluate(problem, ref.reversed().routes)
    chosen, other = (backward, forward) if name in REVERSED_TOURS else (forward, backward)
    assert chosen.is_feasible, chosen.violations[:3]
    assert chosen.cost == int(stated) == optima()[name]["optimal_or_bks"]
    assert other.cost > chosen.cost  # direction matters on an asymmetric matrix
    assert chosen.num_routes <= problem.num_vehicles
