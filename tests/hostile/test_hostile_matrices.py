"""Hostile matrices and numeric fields: booleans, strings, complex, ragged rows, overflow.

numpy would read a boolean matrix as 0/1 metres, a ``True`` among numbers as 1 and ``"12"``
as 12.0; a ragged list raises a raw numpy error; finite entries of 1e308 made ``nearest``
report FEASIBLE at cost ``inf``. Each is refused by the Problem, naming the field and index.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import hybridroute as hr
from hybridroute.solvers.base import SolverError

from support import random_matrix

FLOAT_MAX = np.finfo(np.float64).max


def base_matrix(n: int = 4) -> np.ndarray:
    return random_matrix(n, np.random.default_rng(n))


def with_entry(value, at=(1, 2), n: int = 4) -> list:
    rows = base_matrix(n).tolist()
    rows[at[0]][at[1]] = value
    return rows


def acvrptw(n: int = 4, **changes) -> dict:
    d = base_matrix(n)
    fields = dict(kind="ACVRPTW", distance=d, duration=d / 10.0, demand=np.r_[0, np.ones(n - 1)], capacity=n,
                  time_windows=np.c_[np.zeros(n), np.full(n, 1e5)], service_time=np.r_[0, np.full(n - 1, 5.0)],
                  coords=np.c_[np.linspace(60, 60.1, n), np.linspace(24, 24.1, n)])
    fields.update(changes)
    return fields


def build(fields: dict) -> hr.Problem:
    fields = dict(fields)
    return hr.Problem(fields.pop("kind"), **fields)


def refused(fields: dict, field: str, index, *words: str) -> hr.ProblemValidationError:
    with pytest.raises(hr.ProblemValidationError) as info:
        build(fields)
    err = info.value
    assert err.field == field, str(err)
    assert err.index == index, str(err)
    where = f" at index {index}" if index is not None else ""
    assert str(err).startswith(f"{field}{where}: "), str(err)
    for word in words:
        assert word in str(err), f"{word!r} not in {str(err)!r}"
    return err


# -- booleans -------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["distance", "duration"])
def test_boolean_matrix_is_refused(field):
    unit = "metres" if field == "distance" else "seconds"
    d = base_matrix() > 0
    err = refused(acvrptw(**{field: d}), field, None)
    assert str(err) == f"{field}: must be numbers in {unit}, got a boolean matrix"
    refused(acvrptw(**{field: d.tolist()}), field, None, "got a boolean matrix")


@pytest.mark.parametrize("value", [True, False, np.True_, np.bool_(False)], ids=repr)
def test_one_boolean_among_numbers_is_refused_by_index(value):
    refused(acvrptw(distance=with_entry(value, (1, 2))), "distance", (1, 2), f"got {value!r} (bool)")
    refused(acvrptw(duration=with_entry(value, (3, 0))), "duration", (3, 0), "numbers in seconds")


@pytest.mark.parametrize("field,value,index", [
    ("coords", [[True, 24.0], [60.0, 24.0], [60.0, 24.0], [60.0, 24.0]], (0, 0)),
    ("time_windows", np.ones((4, 2), dtype=bool), None),
    ("time_windows", [[0, 100], [0, 100], [0, False], [0, 100]], (2, 1)),
    ("service_time", [0, 5, True, 5], 2),
])
def test_booleans_in_other_numeric_fields_are_refused(field, value, index):
    refused(acvrptw(**{field: value}), field, index, "must be numbers")


# -- strings, complex, objects, dates -------------------------------------------------------


@pytest.mark.parametrize("value,index,word", [
    (np.array([["0", "1"], ["2", "0"]]), (0, 0), "got '0' (str)"),
    ("a whole-string matrix", None, "got 'a whole-string matrix' (str)"),
    ([[0, "12"], [3, 0]], (0, 1), "got '12' (str)"),
    ([[0, b"12"], [3, 0]], (0, 1), "got b'12' (bytes)"),
    ([[0, None], [3, 0]], (0, 1), "got None (NoneType)"),
    ([[0, {"m": 1}], [3, 0]], (0, 1), "got {'m': 1} (dict)"),
    ([[0, 1 + 2j], [3, 0]], None, "got complex numbers"),
    (np.ones((2, 2)) * 1j, None, "got complex numbers"),
    (np.zeros((2, 2), dtype="timedelta64[s]"), None, "got timedeltas"),
    (np.zeros((2, 2), dtype="datetime64[s]"), None, "got datetimes"),
])
def test_non_numeric_distance_is_refused(value, index, word):
    with pytest.raises(hr.ProblemValidationError) as info:
        hr.Problem("ATSP", value)
    err = info.value
    assert err.field == "distance" and err.index == index, str(err)
    assert str(err).startswith("distance") and word in str(err), str(err)


def test_string_service_time_is_refused_by_index():
    refused(acvrptw(service_time=[0, 5, "5", 5]), "service_time", 2, "got '5' (str)", "seconds")


def test_exact_numbers_of_other_types_are_accepted():
    from decimal import Decimal
    from fractions import Fraction

    d = [[0, Decimal("1.5"), Fraction(5, 2)], [np.float32(2), 0, np.int8(3)], [4, np.uint16(5), 0]]
    problem = hr.Problem("ATSP", d)
    assert problem.distance.tolist() == [[0, 1.5, 2.5], [2, 0, 3], [4, 5, 0]]
    assert problem.distance.dtype == np.float64


# -- ragged rows ----------------------------------------------------------------------------


@pytest.mark.parametrize("value,index,word", [
    ([[0, 1, 2], [1, 0], [2, 1, 0]], 1, "row 1 has 2 entries but row 0 has 3 entries"),
    ([[0, 1, 2], [1, 0, 2], [2, 1, 0, 9]], 2, "row 2 has 4 entries but row 0 has 3 entries"),
    ([[0, 1], 5], 1, "row 1 has a scalar but row 0 has 2 entries"),
    ([5, [0, 1]], 1, "row 1 has 2 entries but row 0 has a scalar"),
    ([[0, [1]], [1, 0]], (0, 1), "entry (0, 1) is a sequence (list), not a number"),
    (((0, 1, 2), (1, 0, 2), (2, 1)), 2, "row 2 has 2 entries"),
])
def test_ragged_distance_is_a_clear_error(value, index, word):
    with pytest.raises(hr.ProblemValidationError) as info:
        hr.Problem("ATSP", value)
    err = info.value
    assert err.field == "distance" and err.index == index, str(err)
    assert str(err).startswith(f"distance at index {index}: is ragged") and word in str(err), str(err)


@pytest.mark.parametrize("field", ["duration", "coords", "time_windows"])
def test_ragged_rows_in_other_fields_name_the_field(field):
    value = {"duration": [[0, 1, 1, 1], [1, 0, 1], [1, 1, 0, 1], [1, 1, 1, 0]],
             "coords": [[60.0, 24.0], [60.0], [60.0, 24.0], [60.0, 24.0]],
             "time_windows": [[0, 100], [0, 100], [0, 100, 5], [0, 100]]}[field]
    index = {"duration": 1, "coords": 1, "time_windows": 2}[field]
    refused(acvrptw(**{field: value}), field, index, "is ragged")


# -- overflow: every sum of a solution stays finite -----------------------------------------


@pytest.mark.parametrize("field", ["distance", "duration"])
@pytest.mark.parametrize("value", [1e308, FLOAT_MAX, 3e307])
def test_entries_whose_sums_overflow_are_refused(field, value):
    # n = 4: a solution sums up to 6 entries, so the largest usable entry is FLOAT_MAX / 8
    fields = acvrptw(time_windows=np.c_[np.zeros(4), np.full(4, np.inf)])
    fields[field] = with_entry(value, (2, 1))
    unit = "metres" if field == "distance" else "seconds"
    refused(fields, field, (2, 1), "is too large", "up to 6 entries", "overflow float64", f"expected {unit}")


def test_inf_is_still_not_finite_and_the_limit_grows_with_n():
    refused(acvrptw(distance=with_entry(np.inf, (0, 3))), "distance", (0, 3), "not finite")
    ok = with_entry(FLOAT_MAX / 8 * 0.999, (1, 3))
    hr.Problem("ATSP", ok)  # within the limit for n = 4
    with pytest.raises(hr.ProblemValidationError, match=r"^distance at index \(1, 3\): value .* is too large"):
        hr.Problem("ATSP", with_entry(FLOAT_MAX / 8 * 0.999, (1, 3), n=40))


def test_nearest_on_the_largest_accepted_entries_is_feasible_and_finite():
    n = 6
    d = np.full((n, n), FLOAT_MAX / (2 * n) * 0.999)
    np.fill_diagonal(d, 0.0)
    for problem in (hr.Problem("ATSP", d),
                    hr.Problem("ACVRP", d, demand=np.r_[0, np.ones(n - 1)], capacity=1)):  # n - 1 routes
        solution = hr.solve(problem, "nearest")
        assert solution.status is hr.Status.FEASIBLE
        assert math.isfinite(solution.cost) and solution.cost > 0


def integer_backends() -> list[str]:
    return [s for s in ("pyvrp", "ortools", "vroom", "lkh") if s in hr.installed_solvers()]


@pytest.mark.parametrize("solver", integer_backends())
def test_integer_backends_still_refuse_huge_accepted_entries_with_a_scaling_error(solver):
    d = np.full((4, 4), 1e300)
    np.fill_diagonal(d, 0.0)
    with pytest.raises(SolverError, match=rf"^{solver}: scaled costs .* beyond the backend's integer limit"):
        hr.solve(hr.Problem("ATSP", d), solver, time_limit=1)


def test_nearest_on_1e308_fails_at_construction_never_feasible_at_inf():
    d = np.full((5, 5), 1e308)
    np.fill_diagonal(d, 0.0)
    with pytest.raises(hr.ProblemValidationError, match=r"^distance at index \(0, 1\): value 1e\+308 is too large"):
        hr.solve(hr.Problem("ATSP", d), "nearest")


# -- the evaluator never reports FEASIBLE at a non-finite cost ------------------------------


def huge_schedule() -> hr.Problem:
    d = np.array([[0, 1, 1], [1, 0, 1], [1, 1, 0.0]])
    return hr.Problem("ACVRPTW", d, d, demand=[0, 1, 1], capacity=5, objective="duration",
                      time_windows=[[0, np.inf], [1e308, np.inf], [0, np.inf]], service_time=[0, 1e308, 0])


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_schedule_overflow_is_an_error_naming_the_node():
    problem = huge_schedule()
    with pytest.raises(hr.ProblemValidationError, match=r"^duration at index 1: route 0: its schedule overflows "
                                                         r"float64 at node 1") as info:
        hr.evaluate(problem, [[1, 2]])
    assert info.value.field == "duration" and info.value.index == 1
    with pytest.raises(hr.ProblemValidationError, match=r"^duration at index 1: route 0: its schedule overflows"):
        hr.solve(problem, "nearest")
    # routes that are infeasible anyway keep reporting their violations
    assert hr.evaluate(problem, [[1, 1]]).status is hr.Status.INFEASIBLE


@pytest.mark.parametrize("demand,index", [([0, True, 2], 1), ((0, 1, 2.0, False), 3)])
def test_a_boolean_in_a_demand_list_is_refused_by_index(demand, index):
    """numpy would read True as a demand of 1."""
    n = len(demand)
    with pytest.raises(hr.ProblemValidationError, match=r"^demand at index \d: must be numbers") as info:
        hr.Problem("ACVRP", np.ones((n, n)) - np.eye(n), demand=demand, capacity=5)
    assert info.value.index == index
