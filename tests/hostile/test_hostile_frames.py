"""Hostile stops DataFrames: column names that differ by case or spelling, unknown columns.

A column is read under its contract name matched ignoring case, outer spaces and ``_``/``-``/
space; two columns matching one name are refused naming both; every other column is listed
in one :class:`~hybridroute.frames.UnknownColumnWarning` with the closest known name, so a
misspelt time-window column never turns an ACVRPTW into an ACVRP without a word.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import hybridroute as hr
from hybridroute.frames import STOP_COLUMNS, UnknownColumnWarning

from support import random_matrix

N = 5


@pytest.fixture
def matrices():
    rng = np.random.default_rng(5)
    d = random_matrix(N, rng)
    return d, d / 10.0


def canonical() -> pd.DataFrame:
    return pd.DataFrame({
        "id": ["depot", "a", "b", "c", "d"],
        "lat": [60.17, 60.171, 60.172, 60.173, 60.174],
        "lon": [24.94, 24.941, 24.942, 24.943, 24.944],
        "demand": [0, 2, 3, 1, 4],
        "tw_start": [0.0, 10.0, 20.0, 0.0, 0.0],
        "tw_end": [5000.0, 4000.0, 4000.0, 4000.0, 4000.0],
        "service_time": [0.0, 30.0, 30.0, 30.0, 30.0],
        "is_depot": [True, False, False, False, False],
    })


def no_warnings(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownColumnWarning)
        return fn(*args, **kwargs)


# -- case and spelling variants of known columns are read ---------------------------------


@pytest.mark.parametrize("renames", [
    {"lat": "Lat", "lon": "LON"},
    {"tw_start": "TW_Start", "tw_end": "TW_END"},
    {"demand": "Demand"},
    {"id": "ID", "is_depot": "Is_Depot"},
    {"service_time": "Service-Time", "tw_end": "tw end"},
    {"lat": " lat ", "lon": "lon\t"},
    {"tw_start": "Tw Start", "service_time": "SERVICE TIME", "is_depot": "is-depot"},
], ids=lambda r: ",".join(r.values()))
def test_case_and_separator_variants_read_as_the_known_column(matrices, renames):
    d, t = matrices
    expected = hr.Problem.from_dataframe(canonical(), d, t, capacity=10)
    got = no_warnings(hr.Problem.from_dataframe, canonical().rename(columns=renames), d, t, capacity=10)
    assert got.kind is hr.ProblemKind.ACVRPTW
    assert got == expected


def test_variant_time_window_columns_keep_the_kind_acvrptw(matrices):
    d, t = matrices
    stops = canonical().drop(columns=["lat", "lon", "service_time", "is_depot"])
    stops = stops.rename(columns={"tw_start": "TW_Start", "tw_end": "TW_End", "demand": "DEMAND"})
    problem = no_warnings(hr.Problem.from_dataframe, stops, d, t, capacity=10)
    assert problem.kind is hr.ProblemKind.ACVRPTW
    np.testing.assert_array_equal(problem.time_windows[:, 0], [0, 10, 20, 0, 0])


@pytest.mark.parametrize("first,second,name", [
    ("lat", "Lat", "lat"),
    ("Lat", "LAT", "lat"),
    ("tw_start", "TW Start", "tw_start"),
    ("demand", "Demand", "demand"),
    ("service_time", "service-time", "service_time"),
    ("id", "ID", "id"),
])
def test_two_columns_matching_one_name_are_refused_naming_both(matrices, first, second, name):
    d, t = matrices
    stops = canonical().rename(columns={name: first})
    stops[second] = stops[first]
    pattern = rf"^{name}: columns {first!r} and {second!r} both name"
    with pytest.raises(hr.ProblemValidationError, match=pattern) as info:
        hr.Problem.from_dataframe(stops, d, t, capacity=10)
    assert info.value.field == name


def test_a_repeated_column_label_is_refused(matrices):
    d, t = matrices
    stops = pd.concat([canonical(), canonical()[["demand"]]], axis=1)
    with pytest.raises(hr.ProblemValidationError, match=r"^demand: the stops frame has two columns named 'demand'"):
        hr.Problem.from_dataframe(stops, d, t, capacity=10)


# -- unknown columns warn, listing each with the closest known name -----------------------


@pytest.mark.parametrize("column,hint", [
    ("service_min", "service_time"),
    ("Service Minutes", "service_time"),
    ("tw_strat", "tw_start"),
    ("ready_time", "tw_start"),
    ("due_date", "tw_end"),
    ("window_end", "tw_end"),
    ("latitude", "lat"),
    ("lng", "lon"),
    ("demands", "demand"),
    ("isdepot", "is_depot"),
    ("penalty", None),
    ("priority", None),
    ("reward", None),
])
def test_unknown_column_warns_with_the_closest_known_name(matrices, column, hint):
    d, t = matrices
    stops = canonical().assign(**{column: 1})
    expected = hr.Problem.from_dataframe(canonical(), d, t, capacity=10)
    with pytest.warns(UnknownColumnWarning) as record:
        got = hr.Problem.from_dataframe(stops, d, t, capacity=10)
    assert len(record) == 1
    text = str(record[0].message)
    said = f"{column!r} (did you mean {hint!r}?)" if hint else f"{column!r} (no similar column)"
    assert said in text, text
    assert record[0].filename == __file__  # attributed to the caller's line, not the library
    assert got == expected  # the column is ignored, nothing else changes


def test_one_warning_lists_every_unknown_column(matrices):
    d, t = matrices
    stops = canonical().assign(service_min=5, penalty=100, priority=True, reward=3.5)
    stops[7] = 0  # a non-string label
    with pytest.warns(UnknownColumnWarning) as record:
        hr.Problem.from_dataframe(stops, d, t, capacity=10)
    assert len(record) == 1
    text = str(record[0].message)
    for column in ("'service_min'", "'penalty'", "'priority'", "'reward'", "7 (no similar column)"):
        assert column in text, text
    assert "has 5 columns" in text and "Known columns: " + ", ".join(STOP_COLUMNS) in text


@pytest.mark.parametrize("start,end", [("ready_time", "due_date"), ("tw_begin", "window_end"),
                                       ("open", "close"), ("earliest", "latest")])
def test_misnamed_time_windows_never_silently_give_acvrp(matrices, start, end):
    d, t = matrices
    stops = canonical().drop(columns=["tw_start", "tw_end", "service_time"]).assign(
        **{start: [0, 10, 20, 0, 0], end: [5000, 4000, 4000, 4000, 4000]})
    with pytest.warns(UnknownColumnWarning, match=r"inferred as ACVRP from the columns read") as record:
        problem = hr.Problem.from_dataframe(stops, d, t, capacity=10)
    assert problem.kind is hr.ProblemKind.ACVRP  # what was read, and the warning says so
    text = str(record[0].message)
    assert repr(start) in text and repr(end) in text and "'tw_" in text


def test_explicit_kind_still_warns_about_unknown_columns_without_inferring(matrices):
    d, t = matrices
    with pytest.warns(UnknownColumnWarning) as record:
        problem = hr.Problem.from_dataframe(canonical().assign(penalty=1), d, t, capacity=10, kind="ACVRP")
    assert problem.kind is hr.ProblemKind.ACVRP
    assert "inferred" not in str(record[0].message)


def test_known_columns_only_give_no_warning(matrices):
    d, t = matrices
    no_warnings(hr.Problem.from_dataframe, canonical(), d, t, capacity=10)


# -- matrices given with the frame are checked like Problem matrices ----------------------


@pytest.mark.parametrize("make,index", [
    (lambda d: d.astype(bool), None),
    (lambda d: [[True if (i, j) == (2, 3) else v for j, v in enumerate(row)] for i, row in enumerate(d.tolist())],
     (2, 3)),
    (lambda d: [[str(v) if (i, j) == (1, 4) else v for j, v in enumerate(row)] for i, row in enumerate(d.tolist())],
     (1, 4)),
    (lambda d: [row if i != 3 else row[:-1] for i, row in enumerate(d.tolist())], 3),
])
def test_bad_row_order_matrix_names_the_rows(matrices, make, index):
    d, t = matrices
    with pytest.raises(hr.ProblemValidationError) as info:
        hr.Problem.from_dataframe(canonical(), make(d), t, capacity=10)
    err = info.value
    assert err.field == "distance" and err.index == index
    assert str(err).startswith("distance")
    assert "must be numbers in metres" in str(err) or "is ragged: row 3 has 4 entries" in str(err)
    if index is not None:
        assert f"index {index}" in str(err)


def test_bad_id_indexed_matrix_frame_names_the_ids(matrices):
    d, t = matrices
    ids = canonical()["id"].tolist()
    frame = pd.DataFrame(d, index=ids, columns=ids).astype(object)
    frame.loc["b", "c"] = True
    with pytest.raises(hr.ProblemValidationError, match=r"^duration at index \(2, 3\): .*got True.*"
                                                         r"from row 2, id 'b' to row 3, id 'c'") as info:
        hr.Problem.from_dataframe(canonical().drop(columns="is_depot"), d, frame, capacity=10, depot="a",
                                  kind="ACVRP", objective="duration")
    assert info.value.field == "duration"
    with pytest.raises(hr.ProblemValidationError, match=r"^distance: must be numbers in metres, got a boolean"):
        hr.Problem.from_dataframe(canonical(), pd.DataFrame(d > 0, index=ids, columns=ids), t, capacity=10)


# -- problems_from_dataframe: the same rule, one warning for the whole frame --------------


def batch_frame() -> pd.DataFrame:
    one = canonical()
    two = canonical().assign(id=lambda f: f["id"] + "2")
    return pd.concat([one.assign(instance="x"), two.assign(instance="y")], ignore_index=True)


def test_batch_reads_variants_and_warns_once(matrices):
    d, t = matrices
    kw = dict(distance={"x": d, "y": d}, duration={"x": t, "y": t}, capacity=10)
    expected = hr.problems_from_dataframe(batch_frame(), **kw)
    stops = batch_frame().rename(columns={"tw_start": "TW_Start", "lat": "Lat", "instance": "Instance"})
    stops["penalty"] = 1
    with pytest.warns(UnknownColumnWarning) as record:
        got = hr.problems_from_dataframe(stops, **kw)
    assert len(record) == 1 and "'penalty' (no similar column)" in str(record[0].message)
    assert got == expected


def test_batch_refuses_ambiguous_columns(matrices):
    d, t = matrices
    stops = batch_frame()
    stops["Demand"] = stops["demand"]
    with pytest.raises(hr.ProblemValidationError, match=r"^demand: columns 'demand' and 'Demand' both name"):
        hr.problems_from_dataframe(stops, distance={"x": d, "y": d}, duration={"x": t, "y": t}, capacity=10)


def test_batch_missing_instance_column_is_an_error_before_any_warning(matrices):
    d, t = matrices
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownColumnWarning)
        with pytest.raises(hr.ProblemValidationError, match=r"^scenario: the stops frame has no 'scenario' column"):
            hr.problems_from_dataframe(batch_frame(), instance_col="scenario", distance={"x": d}, capacity=10)
