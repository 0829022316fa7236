"""LKH-3 (elkai) backend: ATSP only, seeds, tiny instances, a TSPLIB optimum."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from support import require_shared
from solver_cases import CHEAP, chain_atsp

import hybridroute as hr
from hybridroute.solvers import SolverNotInstalledError, UnsupportedProblemError, solver_class

pytest.importorskip("elkai")


def test_atsp_solved(atsp10):
    sol = hr.get_solver("lkh").solve(atsp10, time_limit=5, seed=1)
    assert sol.is_feasible
    assert sol.solver == "lkh"
    assert sol.routes[0][0] != 0 and sorted(sol.routes[0]) == list(range(1, 10))


def test_chain_optimum_keeps_the_asymmetric_direction():
    sol = hr.get_solver("lkh").solve(chain_atsp(12), time_limit=5)
    assert sol.routes == (tuple(range(1, 12)),)
    assert sol.cost == pytest.approx(12 * CHEAP)


@pytest.mark.parametrize("n", [2, 3, 4])
def test_tiny_instances_are_enumerated_and_proven(n):
    rng = np.random.default_rng(n)
    d = rng.uniform(1, 10, (n, n))
    np.fill_diagonal(d, 0)
    sol = hr.get_solver("lkh").solve(hr.Problem("ATSP", d))
    assert sol.status is hr.Status.OPTIMAL
    best = min(hr.evaluate(hr.Problem("ATSP", d), [list(p)]).cost
               for p in itertools.permutations(range(1, n)))
    assert sol.cost == pytest.approx(best)


def test_vrps_are_refused_before_any_work(acvrp12):
    with pytest.raises(UnsupportedProblemError, match="ATSP"):
        hr.get_solver("lkh").solve(acvrp12)


def test_same_seed_same_tour(atsp10):
    solver = hr.get_solver("lkh", runs=2)
    assert solver.solve(atsp10, seed=3).routes == solver.solve(atsp10, seed=3).routes


def test_br17_optimum():
    from hybridroute.formats import read

    path = require_shared("data", "benchmarks", "atsp", "br17.atsp")
    sol = hr.get_solver("lkh").solve(read(path), time_limit=10)
    assert sol.cost == 39


def test_missing_module_names_the_pip_extra(monkeypatch):
    monkeypatch.setattr(solver_class("lkh"), "requires", ("elkai_not_installed_xyz",))
    with pytest.raises(SolverNotInstalledError, match=r'hybridroute\[lkh\]'):
        hr.get_solver("lkh")


def test_p43_optimum_with_the_automatic_initial_period():
    """LKH's own INITIAL_PERIOD stalls at 5621 on p43 with every seed; 'auto' reaches 5620."""
    from hybridroute.formats import read

    path = require_shared("data", "benchmarks", "atsp", "p43.atsp")
    sol = hr.get_solver("lkh").solve(read(path), time_limit=30, seed=0)
    assert sol.cost == 5620
