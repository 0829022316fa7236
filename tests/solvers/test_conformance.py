"""Every installed solver passes hybridroute.testing's conformance suite, check by check."""

from __future__ import annotations

import pytest

import hybridroute as hr
from hybridroute.testing import CHECKS, check_solver

SOLVERS = hr.installed_solvers()


@pytest.mark.parametrize("check", list(CHECKS))
@pytest.mark.parametrize("name", SOLVERS)
def test_conformance(name, check):
    check_solver(hr.get_solver(name), time_limit=1.0, checks=[check])


def test_the_suite_catches_a_broken_solver():
    """A solver that drops a customer and ignores the time limit must fail the suite."""
    from hybridroute.solvers.base import SolveOutput, Solver

    class Broken(Solver):
        name = "broken"

        def _solve(self, problem, *, time_limit, seed, initial):
            return SolveOutput(routes=[list(problem.customers)[1:]])

    with pytest.raises(AssertionError, match="broken.*status infeasible"):
        check_solver(Broken(), checks=["feasible"])


def test_unknown_check_is_refused():
    with pytest.raises(ValueError, match="unknown check"):
        check_solver(hr.get_solver("nearest"), checks=["fast"])
