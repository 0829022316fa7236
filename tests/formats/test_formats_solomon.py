"""Solomon VRPTW reader and the CVRPLIB optimal .sol files (DIMACS convention)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from support import SHARED, require_shared

import hybridroute as hr
from hybridroute.formats import read, read_solomon, read_vrplib_solution, solomon_distance

SOLOMON = SHARED / "data" / "benchmarks" / "vrptw_solomon"
SOLS = sorted(p.name for p in SOLOMON.glob("*.sol"))


def test_all_files_present():
    require_shared("data", "benchmarks", "vrptw_solomon")
    assert len(SOLS) == 56


def test_dimacs_truncation():
    pts = np.array([[0.0, 0.0], [3.0, 4.0], [1.0, 1.0], [40.0, 50.0], [45.0, 68.0]])
    d = solomon_distance(pts)
    assert d[0, 1] == 5.0  # exact distances are not cut a tenth short
    assert d[0, 2] == 1.4  # sqrt(2) = 1.414...
    assert d[3, 4] == 18.6  # sqrt(349) = 18.68...: truncated, not rounded
    assert solomon_distance(pts, dimacs=False)[3, 4] == pytest.approx(349**0.5)


def test_c101_structure():
    problem = read_solomon(require_shared("data", "benchmarks", "vrptw_solomon", "C101.txt"))
    assert problem.kind is hr.ProblemKind.ACVRPTW
    assert (problem.name, problem.num_nodes, problem.capacity, problem.num_vehicles) == ("C101", 101, 200, 25)
    assert problem.time_windows[0].tolist() == [0, 1236]
    assert problem.time_windows[1].tolist() == [912, 967]
    assert problem.service_time[0] == 0 and np.all(problem.service_time[1:] == 90)
    assert problem.demand[1] == 10
    assert np.array_equal(problem.duration, problem.distance)
    assert problem.distance[0, 1] == 18.6


@pytest.mark.parametrize("name, value", [("C101", 827.3), ("R101", 1637.7)])
def test_reference_values(name, value):
    problem = read_solomon(require_shared("data", "benchmarks", "vrptw_solomon", f"{name}.txt"))
    ref = read_vrplib_solution(SOLOMON / f"{name}.sol", problem)
    sol = hr.evaluate(problem, ref.routes)
    assert sol.status is hr.Status.FEASIBLE and sol.violations == ()
    assert sol.cost == pytest.approx(value, abs=1e-6)
    assert ref.cost == value


def test_full_precision_is_longer():
    path = require_shared("data", "benchmarks", "vrptw_solomon", "C101.txt")
    exact = read_solomon(path, dimacs=False)
    ref = read_vrplib_solution(SOLOMON / "C101.sol", exact)
    sol = hr.evaluate(exact, ref.routes)
    assert sol.cost > 827.3  # truncation only ever shortens distances
    assert np.all(read_solomon(path).distance <= exact.distance)


@pytest.mark.parametrize("filename", SOLS)
def test_solution_is_feasible_and_reproduces_its_cost(filename):
    name = filename.removesuffix(".sol")
    problem = read(require_shared("data", "benchmarks", "vrptw_solomon", f"{name}.txt"))
    ref = read_vrplib_solution(SOLOMON / filename, problem)
    sol = hr.evaluate(problem, ref.routes)
    assert sol.is_feasible, sol.violations[:3]
    optimum = json.loads((SOLOMON.parent / "optima.json").read_text())[name]
    assert round(sol.cost, 6) == ref.cost == optimum["optimal_or_bks"]
    assert sol.num_routes == optimum["vehicles"] <= problem.num_vehicles
