"""Every classical backend on small instances whose optimum is known (tests/solvers/solver_cases.py).

An off-by-one between a backend's indices and hybridroute's nodes, or a capacity / time
window mapped wrongly, cannot reach these optima.
"""

from __future__ import annotations

import pytest
from solver_cases import CHEAP, canonical, chain_atsp, two_chains_acvrp

import hybridroute as hr

#: backend -> (settings that keep the test fast and deterministic, time limit in seconds)
BACKENDS = {
    "pyvrp": (dict(max_iterations=300), 30),
    "ortools": (dict(solution_limit=200), 30),
    "vroom": ({}, 5),
}


@pytest.fixture(params=sorted(BACKENDS))
def solve(request):
    name = request.param
    pytest.importorskip({"vroom": "vroom"}.get(name, name))
    settings, time_limit = BACKENDS[name]

    def run(problem):
        sol = hr.get_solver(name, **settings).solve(problem, time_limit=time_limit, seed=0)
        assert sol.solver == name
        return sol
    return run


def test_chain_optimum(solve):
    sol = solve(chain_atsp(9))
    assert sol.routes == (tuple(range(1, 9)),)
    assert sol.cost == pytest.approx(9 * CHEAP)


@pytest.mark.parametrize("windows", [False, True])
def test_vrp_optimum_found(solve, windows):
    sol = solve(two_chains_acvrp(windows))
    assert sol.is_feasible, sol.violations
    assert canonical(sol.routes) == {(1, 2, 3), (4, 5, 6)}
    assert sol.cost == pytest.approx(8 * CHEAP)
