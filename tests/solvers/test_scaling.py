"""Integer scaling: one conversion point, conservative times, warnings and overflow errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import hybridroute as hr
from hybridroute.solvers.base import SolverError
from hybridroute.solvers.scaling import (
    IntegerLimits,
    ScalingWarning,
    choose_scale,
    rounding_error,
    scale_problem,
)

WIDE = IntegerLimits("test", 2**40, 2**44)


def _fine_matrix(n: int = 8, seed: int = 0) -> np.ndarray:
    """Entries below 1 with many decimals: rounding to integers destroys them."""
    rng = np.random.default_rng(seed)
    d = rng.uniform(0.05, 1.0, (n, n))
    np.fill_diagonal(d, 0.0)
    return d


def test_integer_data_keeps_scale_one_and_is_exact():
    d = np.arange(16, dtype=float).reshape(4, 4) + 1
    np.fill_diagonal(d, 0)
    p = hr.Problem("ATSP", d)
    s = scale_problem(p, WIDE)
    assert s.cost_scale == 1.0
    assert s.cost.dtype == np.int64
    np.testing.assert_array_equal(s.cost, d.astype(np.int64))
    assert s.cost_error == 0.0


def test_one_decimal_data_gets_scale_ten_exactly():
    # Float noise (12.3 * 10 = 123.00000000000001) must not push a value to the next integer.
    d = np.array([[0, 12.3, 4.1], [0.7, 0, 9.9], [3.3, 2.2, 0]])
    assert choose_scale(d, WIDE) == 10.0
    s = scale_problem(hr.Problem("ATSP", d), WIDE)
    np.testing.assert_array_equal(s.cost, [[0, 123, 41], [7, 0, 99], [33, 22, 0]])


def test_fine_fractions_at_coarse_scale_warn():
    p = hr.Problem("ATSP", _fine_matrix())
    assert rounding_error(p.distance, 1.0) > 1e-4
    with pytest.warns(ScalingWarning, match="changes a tour's cost"):
        scale_problem(p, WIDE, cost_scale=1.0)


def test_automatic_scale_does_not_warn_on_fine_fractions():
    p = hr.Problem("ATSP", _fine_matrix())
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScalingWarning)
        s = scale_problem(p, WIDE)
    assert s.cost_scale >= 1000
    assert s.cost_error <= 1e-4


def test_backend_solve_warns_at_coarse_scale():
    p = hr.Problem("ATSP", _fine_matrix())
    solver = hr.get_solver("pyvrp", scale=1, max_iterations=20)
    with pytest.warns(ScalingWarning):
        sol = solver.solve(p, time_limit=5)
    assert sol.is_feasible  # the evaluator still costs the routes in floats


def test_values_beyond_the_limit_raise_and_near_it_warn():
    tight = IntegerLimits("tiny", 10_000, 10**9)
    d = np.full((3, 3), 5000.0)
    np.fill_diagonal(d, 0)
    with pytest.warns(ScalingWarning, match="integer limits"):
        scale_problem(hr.Problem("ATSP", d), tight)
    with pytest.raises(SolverError, match="beyond the backend's integer limit"):
        scale_problem(hr.Problem("ATSP", d * 10), tight)


def test_times_round_conservatively_and_share_one_scale():
    d = np.array([[0, 1.25, 2.0], [1.25, 0, 1.0], [2.0, 1.0, 0]])
    tw = np.array([[0.0, 100.0], [0.0, 10.04], [0.06, np.inf]])
    p = hr.Problem("ACVRPTW", d, d, demand=[0, 1, 1], capacity=2, time_windows=tw,
                   service_time=[0, 0.5, 0.5])
    with pytest.warns(ScalingWarning):  # 1.25 s at 10 per second: rounding is coarse
        s = scale_problem(p, WIDE, cost_scale=100, time_scale=10)
    assert s.time_scale == 10.0
    assert s.duration[0, 1] == 13  # 12.5 rounded up: never shorter than the real travel
    assert s.time_windows[1, 1] == 100  # 100.4 rounded down: never later than the real end
    assert s.time_windows[2, 0] == 1  # 0.6 rounded up: never earlier than the real start
    assert s.time_windows[2, 1] == s.horizon == 1000  # inf -> the depot's closing
    np.testing.assert_array_equal(s.service_time, [0, 5, 5])
    assert s.cost[0, 1] == 125  # costs round to nearest at their own scale


def test_duration_objective_uses_one_scale_for_costs_and_times():
    d = np.array([[0, 1.5, 2.0], [1.5, 0, 1.0], [2.0, 1.0, 0]])
    p = hr.Problem("ACVRP", d, d * 3, demand=[0, 1, 1], capacity=2, objective="duration")
    s = scale_problem(p, WIDE)
    assert s.cost_scale == s.time_scale
    np.testing.assert_array_equal(s.cost, s.duration)


def test_fractional_demands_round_up_and_capacity_down():
    d = np.ones((3, 3)) - np.eye(3)
    p = hr.Problem("ACVRP", d, demand=[0.0, 1.25, 2.5], capacity=3.75)
    s = scale_problem(p, WIDE)
    assert s.demand_scale == 100.0
    np.testing.assert_array_equal(s.demand, [0, 125, 250])
    assert s.capacity == 375
