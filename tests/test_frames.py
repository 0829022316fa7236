"""DataFrame contract: stops frame round trips, id alignment, solution frames, errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hybridroute as hr
from hybridroute import ProblemValidationError
from hybridroute.frames import (
    SOLUTION_COLUMNS,
    SUMMARY_COLUMNS,
    matrix_to_dataframe,
    problem_from_dataframe,
    solution_routes_summary,
    solution_to_dataframe,
)
from strategies import problems, routes_for

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def scalars(p: hr.Problem) -> dict:
    """The Problem settings a stops frame does not carry."""
    return dict(capacity=p.capacity, num_vehicles=None if p.kind is hr.ProblemKind.ATSP else p.num_vehicles,
                objective=p.objective, name=p.name)


def shuffled_matrix_frame(p: hr.Problem, which: str, rows: list[int], cols: list[int]) -> pd.DataFrame:
    m = matrix_to_dataframe(p, which)
    return m.iloc[rows, cols]


# -- Problem -> frame -> Problem -------------------------------------------------------


@SETTINGS
@given(problem=problems(id_kinds=("default", "int", "str")))
def test_round_trip_with_arrays(problem):
    df = problem.to_dataframe()
    back = hr.Problem.from_dataframe(df, problem.distance, problem.duration, **scalars(problem))
    assert back == problem
    assert back.ids.dtype.kind == problem.ids.dtype.kind
    assert back.kind is problem.kind  # inferred from the columns


@SETTINGS
@given(data=st.data(), problem=problems(id_kinds=("int", "str")))
def test_round_trip_with_shuffled_id_indexed_matrices(data, problem):
    n = problem.num_nodes
    perms = [data.draw(st.permutations(range(n))) for _ in range(4)]
    dist = shuffled_matrix_frame(problem, "distance", perms[0], perms[1])
    dur = None if problem.duration is None else shuffled_matrix_frame(problem, "duration", perms[2], perms[3])
    back = problem_from_dataframe(problem.to_dataframe(), dist, dur, **scalars(problem))
    assert back == problem


@SETTINGS
@given(data=st.data(), problem=problems(id_kinds=("int", "str")))
def test_depot_row_anywhere(data, problem):
    """The depot row may sit anywhere; array matrices follow the row order and are permuted."""
    n = problem.num_nodes
    pos = data.draw(st.integers(0, n - 1))
    order = list(range(1, n))
    order.insert(pos, 0)  # row r of the frame holds node order[r]
    df = problem.to_dataframe().iloc[order].reset_index(drop=True)
    dist = problem.distance[np.ix_(order, order)]
    dur = None if problem.duration is None else problem.duration[np.ix_(order, order)]
    depot = None if problem.kind.has_capacity else problem.id_of(0)  # ATSP frames have no is_depot
    back = problem_from_dataframe(df, dist, dur, depot=depot, **scalars(problem))
    assert back == problem


@SETTINGS
@given(data=st.data(), problem=problems(kinds=("ATSP",), id_kinds=("int", "str")))
def test_shuffled_stops_align_matrix_frames_by_id(data, problem):
    """Any row order: node k is row k (depot first) and every entry is looked up by id pair."""
    n = problem.num_nodes
    rows = data.draw(st.permutations(range(n)))
    df = problem.to_dataframe().iloc[rows]
    back = problem_from_dataframe(df, matrix_to_dataframe(problem), depot=problem.id_of(0))
    assert back.id_of(0) == problem.id_of(0)
    expected_ids = [problem.id_of(0)] + [problem.id_of(r) for r in rows if r != 0]
    assert back.ids.tolist() == expected_ids
    for a in range(n):
        for b in range(n):
            i, j = problem.index_of(back.id_of(a)), problem.index_of(back.id_of(b))
            assert back.distance[a, b] == problem.distance[i, j]


def test_object_and_tuple_ids_round_trip():
    d = np.array([[0, 1, 2], [3, 0, 4], [5, 6, 0]], dtype=float)
    for ids in ([("depot", 0), ("x", 1), ("y", 2)], ["a", 7, 2.5]):
        labels = np.empty(3, dtype=object)
        labels[:] = ids
        p = hr.Problem("ATSP", d, ids=labels)
        back = problem_from_dataframe(p.to_dataframe(), matrix_to_dataframe(p))
        assert back == p and back.ids.dtype == object and back.ids.tolist() == ids


def test_nullable_integer_ids_become_int64():
    df = pd.DataFrame({"id": pd.array([5, 6, 7], dtype="Int64")})
    p = problem_from_dataframe(df, np.ones((3, 3)) - np.eye(3))
    assert p.ids.dtype == np.int64 and p.ids.tolist() == [5, 6, 7]


def test_matrix_frame_may_hold_extra_ids():
    city = pd.DataFrame(np.arange(16.0).reshape(4, 4) * (1 - np.eye(4)), index=list("wxyz"), columns=list("wxyz"))
    p = problem_from_dataframe(pd.DataFrame({"id": ["z", "x"]}), city)
    np.testing.assert_array_equal(p.distance, [[0, city.loc["z", "x"]], [city.loc["x", "z"], 0]])


def test_kind_inference_and_explicit_kind_ignores_columns():
    d = np.array([[0, 10, 20], [10, 0, 5], [30, 5, 0]], dtype=float)
    stops = pd.DataFrame({"id": [0, 1, 2], "demand": [0, 1, 2], "tw_end": [100.0, 50, math.inf]})
    assert problem_from_dataframe(stops, d, d, capacity=5).kind is hr.ProblemKind.ACVRPTW
    acvrp = problem_from_dataframe(stops, d, kind="ACVRP", capacity=5)
    assert acvrp.kind is hr.ProblemKind.ACVRP and acvrp.time_windows is None
    assert problem_from_dataframe(stops.drop(columns="tw_end"), d, capacity=5).kind is hr.ProblemKind.ACVRP
    assert problem_from_dataframe(stops[["id"]], d).kind is hr.ProblemKind.ATSP
    tw = problem_from_dataframe(stops, d, d, capacity=5)
    np.testing.assert_array_equal(tw.time_windows, [[0, 100], [0, 50], [0, math.inf]])
    np.testing.assert_array_equal(tw.service_time, [0, 0, 0])


def test_matrix_to_dataframe_is_indexed_by_id():
    p = hr.Problem("ATSP", np.array([[0, 1, 2], [3, 0, 4], [5, 6, 0]], dtype=float), ids=["a", "b", "c"])
    m = matrix_to_dataframe(p)
    assert m.loc["b", "c"] == 4 and m.loc["c", "b"] == 6
    assert (m.index.name, m.columns.name) == ("from", "to")
    m.loc["a", "b"] = 99  # a copy: the Problem stays as it was
    assert p.distance[0, 1] == 1
    with pytest.raises(ProblemValidationError, match="no duration matrix"):
        matrix_to_dataframe(p, "duration")
    with pytest.raises(ValueError, match="which"):
        matrix_to_dataframe(p, "time")


# -- errors -----------------------------------------------------------------------------


def _stops() -> pd.DataFrame:
    return pd.DataFrame({
        "id": ["s1", "dep", "s2", "s3"],
        "lat": [60.1, 60.2, 60.3, 60.4],
        "lon": [24.9, 24.8, 24.7, 24.6],
        "demand": [2, 0, 3, 4],
        "tw_start": [0.0, 0.0, 100.0, 0.0],
        "tw_end": [500.0, 1000.0, 600.0, math.inf],
        "service_time": [10.0, 0.0, 10.0, 10.0],
        "is_depot": [False, True, False, False],
    })


def _matrix(n: int = 4) -> np.ndarray:
    m = np.arange(1.0, n * n + 1).reshape(n, n)
    np.fill_diagonal(m, 0.0)
    return m


def test_error_fixture_is_valid():
    p = problem_from_dataframe(_stops(), _matrix(), _matrix(), capacity=10)
    assert p.ids.tolist() == ["dep", "s1", "s2", "s3"]
    # row order 1, 0, 2, 3: entry (dep -> s1) is the caller's [1, 0]
    assert p.distance[0, 1] == _matrix()[1, 0] and p.distance[2, 3] == _matrix()[2, 3]
    np.testing.assert_array_equal(p.coords[0], [60.2, 24.8])


def _error(stops, distance=None, duration=None, **kw) -> ProblemValidationError:
    distance = _matrix(len(stops)) if distance is None else distance
    duration = _matrix(len(stops)) if duration is None else duration
    kw.setdefault("capacity", 10)
    with pytest.raises(ProblemValidationError) as info:
        problem_from_dataframe(stops, distance, duration, **kw)
    assert isinstance(info.value, ValueError)
    return info.value


def _with(column, row, value):
    s = _stops()
    if column in s and s[column].dtype != object and not isinstance(value, type(s[column].iloc[0])):
        s[column] = s[column].astype(object)
    s.loc[row, column] = value
    return s


@pytest.mark.parametrize("stops,field,index,text", [
    (_stops().drop(columns="id"), "id", None, "'id' column"),
    (_with("id", 3, "s1"), "id", 3, "duplicate id 's1'"),
    (_with("id", 2, None), "id", 2, "no id"),
    (_stops().iloc[:0], "id", None, "no rows"),
    (_stops().drop(columns="lon"), "lon", None, "lat and lon"),
    (_with("lat", 2, 95.0), "lat", 2, "id 's2'"),
    (_with("lon", 0, "east"), "lon", 0, "not a number"),
    (_with("demand", 3, np.nan), "demand", 3, "missing value"),
    (_with("demand", 0, -1), "demand", 0, "negative"),
    (_with("tw_start", 2, 700.0), "tw_start", 2, "after tw_end"),
    (_with("tw_end", 0, -math.inf), "tw_end", 0, "not finite"),
    (_with("service_time", 3, -5.0), "service_time", 3, "negative"),
    # a second depot row is a second depot; its demand must be 0 like the first one's
    (_with("is_depot", 2, True), "demand", 2, "depot's demand must be 0"),
    (_stops().assign(is_depot=False), "is_depot", None, "found 0"),
    (_with("is_depot", 0, "yes"), "is_depot", 0, "True or False"),
    # Errors raised by Problem come back in frame terms: row positions and column names.
    (_with("demand", 2, 11), "demand", 2, "id 's2'"),
    (_with("demand", 1, 1), "demand", 1, "id 'dep'"),
    (_with("tw_end", 3, 1.0), "tw_end", 3, "unreachable"),
])
def test_stops_errors_name_column_and_row(stops, field, index, text):
    err = _error(stops)
    assert (err.field, err.index) == (field, index), str(err)
    assert str(err).startswith(field) and text in str(err), str(err)


def test_matrix_frame_missing_id_is_named():
    stops = _stops()
    dist = pd.DataFrame(_matrix(), index=stops["id"], columns=stops["id"]).drop(index="s2")
    err = _error(stops, dist)
    assert err.field == "distance" and err.index == 2 and "'s2'" in str(err) and "row" in str(err)
    dur = pd.DataFrame(_matrix(), index=stops["id"], columns=stops["id"]).drop(columns="s3")
    err = _error(stops, None, dur)
    assert err.field == "duration" and err.index == 3 and "'s3'" in str(err)


def test_matrix_frame_with_positional_labels_is_not_aligned_by_position():
    # Labels 0..3 are not the stops' ids: must fail, not silently use positions.
    err = _error(_stops(), pd.DataFrame(_matrix()))
    assert err.field == "distance" and "no row" in str(err)


def test_matrix_frame_duplicate_label():
    ids = ["s1", "dep", "s2", "s2"]
    err = _error(_stops(), pd.DataFrame(_matrix(), index=ids, columns=_stops()["id"]))
    assert err.field == "distance" and "repeats id 's2'" in str(err)


def test_matrix_errors_point_at_caller_rows():
    dist = _matrix()
    dist[2, 1] = -3.0  # row 2 (s2) -> row 1 (dep): nodes (2, 0) in the Problem
    err = _error(_stops(), dist)
    assert (err.field, err.index) == ("distance", (2, 1)) and "'s2'" in str(err) and "'dep'" in str(err)
    err = _error(_stops(), _matrix(3))
    assert err.field == "distance" and "(3, 3)" in str(err) and "4 rows" in str(err)


def test_argument_errors():
    assert _error(_stops(), depot="s1").field == "depot"  # disagrees with is_depot
    assert _error(_stops().drop(columns="is_depot"), depot="nope").field == "depot"
    assert _error(_stops(), capacity=None).field == "capacity"
    assert _error(_stops(), kind="ACVRPTW", objective="fast").field == "objective"
    assert _error(_stops()[["id"]], kind="ACVRP").field == "demand"
    assert _error(_stops()[["id", "demand"]], kind="ACVRPTW").field == "tw_end"
    with pytest.raises(ProblemValidationError, match="distance matrix is required"):
        problem_from_dataframe(_stops(), None, capacity=10)
    with pytest.raises(TypeError, match="DataFrame"):
        problem_from_dataframe(_stops().to_dict("list"), _matrix())


def test_depot_argument_without_is_depot_column():
    stops = _stops().drop(columns="is_depot")
    p = problem_from_dataframe(stops, _matrix(), _matrix(), capacity=10, depot="dep")
    assert p.ids.tolist() == ["dep", "s1", "s2", "s3"]
    first = problem_from_dataframe(stops.assign(demand=[0, 2, 3, 4]), _matrix(), _matrix(), capacity=10)
    assert first.id_of(0) == "s1"


# -- solution frames -------------------------------------------------------------------


def check_solution_frame(sol: hr.Solution) -> pd.DataFrame:
    p = sol.problem
    df = solution_to_dataframe(sol)
    assert list(df.columns) == list(SOLUTION_COLUMNS)
    assert len(df) == sum(len(r) + 2 for r in sol.routes)
    for r, (route, stats) in enumerate(zip(sol.routes, sol.route_stats)):
        rows = df[df["route"] == r]
        assert rows["sequence"].tolist() == list(range(len(route) + 2))
        assert rows["stop"].tolist() == ["start"] + ["visit"] * len(route) + ["end"]
        assert rows["node"].tolist() == [0, *route, 0]
        assert rows["id"].tolist() == [p.id_of(v) for v in (0, *route, 0)]
        assert rows["leg_distance"].sum() == pytest.approx(stats.distance, rel=1e-12, abs=1e-9)
        visits = rows[rows["stop"] == "visit"]
        if p.duration is None:
            assert rows[["arrival", "departure", "wait", "leg_duration"]].isna().all().all()
        else:
            np.testing.assert_array_equal(visits["arrival"], stats.arrival)
            np.testing.assert_array_equal(visits["departure"], stats.departure)
            np.testing.assert_array_equal(visits["wait"], stats.wait)
            assert rows["arrival"].iloc[-1] == stats.end_time
            assert rows["leg_duration"].sum() + rows["wait"].sum() + (
                0 if p.service_time is None else p.service_time[[0, *route]].sum()
            ) == pytest.approx(stats.duration, rel=1e-9, abs=1e-6)
        if p.demand is None:
            assert rows["load_after"].isna().all()
        else:
            np.testing.assert_array_equal(visits["load_after"], stats.load_after)
            assert rows["load_after"].iloc[-1] == pytest.approx(stats.load)
        if p.coords is None:
            assert rows[["lat", "lon"]].isna().all().all()
        else:
            np.testing.assert_array_equal(rows[["lat", "lon"]].to_numpy(), p.coords[[0, *route, 0]])
    return df


@SETTINGS
@given(data=st.data(), problem=problems())
def test_solution_frame_consistent(data, problem):
    routes = data.draw(routes_for(problem, broken=False))
    sol = hr.evaluate(problem, routes)
    check_solution_frame(sol)
    summary = solution_routes_summary(sol)
    assert list(summary.columns) == list(SUMMARY_COLUMNS)
    assert summary["distance"].sum() == pytest.approx(sol.distance, rel=1e-12, abs=1e-9)
    assert summary["stops"].tolist() == [len(r) for r in sol.routes]
    if problem.duration is not None:
        assert summary["duration"].sum() == pytest.approx(sol.duration, rel=1e-12, abs=1e-9)
        late = sum(v.amount for v in sol.violations if v.kind in ("time_window", "depot_time_window"))
        assert summary["late"].sum() == pytest.approx(late)
    else:
        assert summary[["duration", "start_time", "end_time", "waiting", "late"]].isna().all().all()


@pytest.mark.parametrize("fixture", ["atsp10", "acvrp12", "acvrptw12"])
def test_solution_frame_on_fixtures(request, fixture):
    problem = request.getfixturevalue(fixture)
    sol = hr.solve(problem, "nearest")
    df = check_solution_frame(sol)
    assert df.equals(sol.to_dataframe())
    summary = sol.routes_summary()
    assert len(summary) == sol.num_routes
    if problem.demand is not None:
        assert summary["load"].tolist() == [float(problem.demand[list(r)].sum()) for r in sol.routes]
    else:
        assert summary["load"].isna().all()


def test_solution_frame_keeps_id_dtype():
    d = np.array([[0, 1, 2], [3, 0, 4], [5, 6, 0]], dtype=float)
    p = hr.Problem("ACVRP", d, demand=[0, 1, 1], capacity=2, ids=np.array([100, 200, 300]))
    df = hr.evaluate(p, [[2, 1]]).to_dataframe()
    assert df["id"].dtype == np.int64 and df["id"].tolist() == [100, 300, 200, 100]
    assert df["leg_distance"].tolist()[1:] == [2.0, 6.0, 3.0] and math.isnan(df["leg_distance"].iloc[0])
    assert df["load_after"].tolist() == [0, 1, 2, 2]


def test_lateness_in_summary(acvrptw12):
    # Everything on one route: loads and windows break; lateness adds up per route.
    sol = hr.evaluate(acvrptw12, [list(acvrptw12.customers)])
    assert not sol.is_feasible
    summary = sol.routes_summary()
    late = sum(v.amount for v in sol.violations if v.kind in ("time_window", "depot_time_window"))
    assert late > 0 and summary["late"].iloc[0] == pytest.approx(late)


def test_empty_and_no_solution_frames(acvrp12):
    for sol in (hr.Solution.no_solution(acvrp12, "x", "failed"), hr.evaluate(acvrp12, [])):
        df = sol.to_dataframe()
        assert df.empty and list(df.columns) == list(SOLUTION_COLUMNS)
        summary = sol.routes_summary()
        assert summary.empty and list(summary.columns) == list(SUMMARY_COLUMNS)


def test_unschedulable_routes_still_listed(acvrp12):
    sol = hr.evaluate(acvrp12, [[1, 2, 99], [0, 3]])
    df = sol.to_dataframe()
    assert df["node"].tolist() == [0, 1, 2, 99, 0, 0, 0, 3, 0]
    assert df["id"].tolist()[3] is None and df["id"].tolist()[1] == acvrp12.id_of(1)
    assert df["leg_distance"].isna().all()
    assert sol.routes_summary()["stops"].tolist() == [3, 2]
