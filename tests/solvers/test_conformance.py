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


def test_the_suite_catches_a_solver_that_declares_a_feature_it_ignores():
    """Declaring optional_stops but serving every stop misses the optimum: the suite says so."""
    from hybridroute.solvers.base import SolveOutput, Solver

    class ServesAll(Solver):
        name = "serves-all"
        supports = frozenset({hr.ProblemKind.ACVRP})
        features = frozenset({"optional_stops"})

        def _solve(self, problem, *, time_limit, seed, initial):
            return SolveOutput(routes=[list(problem.customers)[:2], list(problem.customers)[2:]])

    with pytest.raises(AssertionError, match="serves-all.*fleet-optional_stops.*above the optimum"):
        check_solver(ServesAll(), checks=["features"])


def test_the_suite_catches_a_solver_that_accepts_an_undeclared_feature():
    from hybridroute.solvers.base import SolveOutput, Solver

    class Lax(Solver):
        name = "lax"
        supports = frozenset({hr.ProblemKind.ACVRP})

        def check_problem(self, problem):  # forgets the feature check
            pass

        def _solve(self, problem, *, time_limit, seed, initial):
            return SolveOutput(routes=[[v] for v in problem.customers])

    with pytest.raises(AssertionError, match="does not declare .*, yet solve\\(\\) did not refuse it"):
        check_solver(Lax(), checks=["features"])
