"""VROOM backend: custom matrices, warm starts through vehicle steps, unassigned jobs."""

from __future__ import annotations

import numpy as np
import pytest
from solver_cases import CHEAP, canonical, chain_atsp, two_chains_acvrp

import hybridroute as hr
from hybridroute.solvers import SolverNotInstalledError, solver_class

pytest.importorskip("vroom")


def _solve(problem, initial=None, **settings):
    return hr.get_solver("vroom", **settings).solve(problem, time_limit=5, initial=initial)


@pytest.mark.parametrize("name", ["atsp10", "acvrp12", "acvrptw12"])
def test_small_instances_are_solved_feasible(name, request):
    sol = _solve(request.getfixturevalue(name))
    assert sol.is_feasible, sol.violations
    assert sol.solver == "vroom"


def test_chain_optimum():
    sol = _solve(chain_atsp(9))
    assert sol.routes == (tuple(range(1, 9)),)
    assert sol.cost == pytest.approx(9 * CHEAP)


@pytest.mark.parametrize("windows", [False, True])
def test_vrp_optimum_found(windows):
    assert canonical(_solve(two_chains_acvrp(windows)).routes) == {(1, 2, 3), (4, 5, 6)}


def test_feasible_warm_start_is_accepted_and_never_worse(acvrptw12):
    start = hr.evaluate(acvrptw12, [[v] for v in acvrptw12.customers])
    sol = _solve(acvrptw12, initial=start, exploration_level=1)
    assert sol.stats["initial_accepted"] is True
    assert sol.cost <= start.cost


@pytest.mark.parametrize("start", [[list(range(1, 13))], [[1, 1, 0, 99, 2]], [[1, 2, 3]]])
def test_rejected_or_odd_start_falls_back_without_crashing(acvrp12, start):
    sol = _solve(acvrp12, initial=start)
    assert sol.is_feasible
    assert "initial_accepted" in sol.stats


def test_over_capacity_start_is_rejected_by_vroom(acvrp12):
    sol = _solve(acvrp12, initial=[list(range(1, 13))])
    assert sol.stats["initial_accepted"] is False
    assert "over capacity" in sol.stats["initial_reason"]


def test_unassigned_jobs_make_the_solution_infeasible(acvrp12):
    demand = np.r_[0, np.full(6, 11), np.ones(6, dtype=int)]
    problem = acvrp12.replace(demand=demand, num_vehicles=4, capacity=20)
    sol = _solve(problem)
    assert sol.status is hr.Status.INFEASIBLE
    assert sol.stats["unassigned"] >= 2
    assert "unassigned" in sol.message
    assert any(v.kind == "missing_visit" for v in sol.violations)


def test_full_search_is_deterministic(acvrptw12):
    solver = hr.get_solver("vroom", apply_time_limit=False)
    assert solver.solve(acvrptw12).routes == solver.solve(acvrptw12).routes


def test_missing_module_names_the_pip_extra(monkeypatch):
    monkeypatch.setattr(solver_class("vroom"), "requires", ("vroom_not_installed_xyz",))
    with pytest.raises(SolverNotInstalledError, match=r'hybridroute\[vroom\]'):
        hr.get_solver("vroom")
