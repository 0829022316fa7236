"""Problem validation (field and index in every error), immutability, JSON round trips."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings

import hybridroute as hr
from hybridroute import ProblemValidationError
from strategies import problems

N = 5


def base(kind: str = "ACVRPTW") -> dict:
    """Keyword arguments of a valid 5-node problem of ``kind`` (one-way penalty on the way back)."""
    x = np.arange(N) * 100.0
    d = np.abs(x[:, None] - x[None]) * np.where(x[:, None] > x[None], 1.5, 1.0)
    kw: dict = dict(kind=kind, distance=d, duration=d / 10, ids=["dep", "a", "b", "c", "d"],
                    coords=[[60.1, 24.9]] * N)
    if kind != "ATSP":
        kw.update(demand=[0, 2, 3, 4, 5], capacity=10)
    if kind == "ACVRPTW":
        kw.update(time_windows=[[0, 1000]] + [[0, 500]] * (N - 1), service_time=[0] + [10] * (N - 1))
    return kw


def build(kw: dict) -> hr.Problem:
    kw = dict(kw)
    return hr.Problem(kw.pop("kind"), kw.pop("distance"), kw.pop("duration", None), **kw)


def _set(a, idx, value):
    a = np.array(a, dtype=float)
    a[idx] = value
    return a


def case(kind="ACVRPTW", **changes):
    """``base(kind)`` with ``changes`` applied; a callable value is applied to the old value."""
    def make():
        kw = base(kind)
        for key, value in changes.items():
            kw[key] = value(kw.get(key)) if callable(value) else value
        return kw
    return make


# (description, kwargs factory, expected .field, expected .index)
BAD_INPUTS = [
    ("non-square distance", case(distance=np.zeros((5, 4))), "distance", None),
    ("too few nodes", case("ATSP", distance=np.zeros((1, 1)), duration=None, coords=None, ids=None),
     "distance", None),
    ("non-numeric distance", case(distance=[["a"] * N] * N), "distance", (0, 0)),
    ("duration shape mismatch", case(duration=np.zeros((4, 4))), "duration", None),
    ("NaN distance", case(distance=lambda d: _set(d, (1, 2), np.nan)), "distance", (1, 2)),
    ("inf duration", case(duration=lambda d: _set(d, (2, 3), np.inf)), "duration", (2, 3)),
    ("negative distance", case(distance=lambda d: _set(d, (3, 1), -0.5)), "distance", (3, 1)),
    ("non-zero diagonal", case(duration=lambda d: _set(d, (2, 2), 1.0)), "duration", (2, 2)),
    ("duplicate ids", case(ids=["dep", "a", "b", "a", "d"]), "ids", 3),
    ("wrong number of ids", case(ids=["dep", "a"]), "ids", None),
    ("demand > capacity", case(demand=[0, 2, 11, 4, 5]), "demand", 2),
    ("negative demand", case(demand=[0, 2, 3, -1, 5]), "demand", 3),
    ("NaN demand", case(demand=[0, 2, np.nan, 4, 5]), "demand", 2),
    ("depot demand non-zero", case(demand=[1, 2, 3, 4, 5]), "demand", 0),
    ("missing demand for ACVRP", case("ACVRP", demand=None), "demand", None),
    ("missing capacity", case("ACVRP", capacity=None), "capacity", None),
    ("non-positive capacity", case("ACVRP", capacity=0), "capacity", None),
    ("too few vehicles for total demand", case("ACVRP", num_vehicles=1), "num_vehicles", None),
    ("zero vehicles", case("ACVRP", num_vehicles=0), "num_vehicles", None),
    ("fractional vehicles", case("ACVRP", num_vehicles=2.5), "num_vehicles", None),
    ("infinite vehicles", case("ACVRP", num_vehicles=math.inf), "num_vehicles", None),
    ("NaN vehicles", case("ACVRP", num_vehicles=math.nan), "num_vehicles", None),
    ("ATSP with two vehicles", case("ATSP", num_vehicles=2), "num_vehicles", None),
    ("ATSP with demand", case("ATSP", demand=[0, 1, 1, 1, 1]), "demand", None),
    ("ATSP with time windows", case("ATSP", time_windows=[[0, 10]] * N), "time_windows", None),
    ("ACVRP with service times", case("ACVRP", service_time=[0] * N), "service_time", None),
    ("tw_start > tw_end", case(time_windows=lambda tw: _set(tw, (3, 0), 600)), "time_windows", 3),
    ("infinite window start", case(time_windows=lambda tw: _set(tw, (2, 0), np.inf)), "time_windows", 2),
    ("NaN window", case(time_windows=lambda tw: _set(tw, (1, 1), np.nan)), "time_windows", (1, 1)),
    ("negative window", case(time_windows=lambda tw: _set(tw, (4, 0), -5)), "time_windows", (4, 0)),
    # 0 -> 4 takes 40 s; the window closes at 30 s.
    ("customer unreachable in its window", case(time_windows=lambda tw: _set(tw, (4, 1), 30)),
     "time_windows", 4),
    # 0 -> 4 -> 0 takes 40 + 10 + 60 s; the depot closes at 100 s.
    ("customer cannot return before the depot closes", case(time_windows=lambda tw: _set(tw, (0, 1), 100)),
     "time_windows", 4),
    ("missing time windows for ACVRPTW", case(time_windows=None), "time_windows", None),
    ("missing duration for ACVRPTW", case(duration=None), "duration", None),
    ("duration objective without durations", case("ACVRP", duration=None, objective="duration"),
     "duration", None),
    ("negative service time", case(service_time=[0, 10, -1, 10, 10]), "service_time", 2),
    ("bad objective", case(objective="time"), "objective", None),
    ("bad kind", case(kind="TSP"), "kind", None),
    ("latitude out of range", case(coords=lambda c: _set(c, (2, 0), 91.0)), "coords", 2),
    ("longitude out of range", case(coords=lambda c: _set(c, (3, 1), -180.5)), "coords", 3),
    ("coords wrong shape", case(coords=np.zeros((N, 3))), "coords", None),
    ("NaN coordinate", case(coords=lambda c: _set(c, (1, 1), np.nan)), "coords", (1, 1)),
]


def test_base_cases_are_valid():
    for kind in ("ATSP", "ACVRP", "ACVRPTW"):
        assert build(base(kind)).kind is hr.ProblemKind(kind)


def test_bad_input_table_is_large_and_distinct():
    assert len(BAD_INPUTS) >= 15
    assert len({desc for desc, *_ in BAD_INPUTS}) == len(BAD_INPUTS)


@pytest.mark.parametrize("desc,make,field,index", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_names_field_and_index(desc, make, field, index):
    with pytest.raises(ProblemValidationError) as info:
        build(make())
    err = info.value
    assert isinstance(err, ValueError)
    assert err.field == field, str(err)
    assert str(err).startswith(field), str(err)
    assert err.index == index, str(err)
    if index is not None:
        assert f"index {index}" in str(err)


def test_unknown_kind_lists_known_kinds():
    with pytest.raises(ProblemValidationError, match="ATSP, ACVRP, ACVRPTW"):
        hr.ProblemKind.parse("vrp")
    assert hr.ProblemKind.parse("acvrp") is hr.ProblemKind.ACVRP


# -- immutability ---------------------------------------------------------------------


def test_arrays_are_read_only():
    p = build(base())
    for name in ("distance", "duration", "coords", "ids", "demand", "time_windows", "service_time"):
        arr = getattr(p, name)
        assert not arr.flags.writeable, name
        with pytest.raises(ValueError):
            arr[0] = arr[1]
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.capacity = 99


def test_caller_mutation_does_not_leak():
    kw = base()
    arrays = {k: np.array(kw[k]) for k in ("distance", "duration", "coords", "demand", "time_windows",
                                             "service_time", "ids")}
    p = build({**kw, **arrays})
    snapshot = {k: getattr(p, k).copy() for k in arrays}
    arrays["distance"][0, 1] = 1e9
    arrays["duration"][:] = 0
    arrays["coords"][0] = (0.0, 0.0)
    arrays["demand"][1] = 99
    arrays["time_windows"][1] = (7, 8)
    arrays["service_time"][1] = 99
    arrays["ids"][0] = "zzz"
    for k, before in snapshot.items():
        np.testing.assert_array_equal(getattr(p, k), before, err_msg=k)


def test_replace_returns_a_new_validated_problem():
    p = build(base("ACVRP"))
    q = p.replace(capacity=14)
    assert q.capacity == 14 and p.capacity == 10 and q != p
    with pytest.raises(ProblemValidationError) as info:
        p.replace(capacity=4)
    assert info.value.field == "demand"


def test_ids_keep_the_callers_dtype():
    kw = base("ATSP")
    assert build({**kw, "ids": np.array([10, 20, 30, 40, 50])}).ids.dtype.kind == "i"
    p = build(kw)
    assert p.ids.dtype.kind == "U" and p.id_of(2) == "b" and p.index_of("c") == 3
    assert build({**kw, "ids": None}).ids.tolist() == [0, 1, 2, 3, 4]


def test_mixed_and_tuple_ids_are_kept_as_given():
    kw = base("ATSP")
    mixed = build({**kw, "ids": [0, "1", 1, 2.5, ("x", 1)]})
    assert mixed.ids.dtype == object
    assert [mixed.id_of(i) for i in range(N)] == [0, "1", 1, 2.5, ("x", 1)]
    assert mixed.index_of("1") == 1 and mixed.index_of(1) == 2 and mixed.index_of(("x", 1)) == 4
    tuples = build({**kw, "ids": [(i, "t") for i in range(N)]})
    assert tuples.ids.shape == (N,) and tuples.index_of((3, "t")) == 3
    with pytest.raises(KeyError):
        tuples.index_of((9, "t"))


# -- JSON -----------------------------------------------------------------------------


def test_json_round_trip_string_ids_and_infinite_window():
    kw = base()
    kw["time_windows"] = [[0, math.inf], [0, 500], [5, math.inf], [0, 500], [0, 500]]
    kw["num_vehicles"] = 3
    kw["objective"] = "duration"
    kw["name"] = "tiny"
    p = build(kw)
    q = hr.Problem.from_json(p.to_json())
    assert q == p
    assert q.ids.dtype.kind == "U" and q.ids.tolist() == ["dep", "a", "b", "c", "d"]
    assert q.time_windows[0, 1] == math.inf and q.time_windows[2, 1] == math.inf
    assert q.demand.dtype.kind == "i" and q.capacity == 10 and q.num_vehicles == 3
    assert (q.name, q.objective) == ("tiny", "duration")


def test_json_file_round_trip(tmp_path):
    p = build(base("ACVRP"))
    path = tmp_path / "p.json"
    p.to_json(str(path))
    assert hr.Problem.from_json(str(path)) == p


def test_json_rejects_unknown_format():
    d = build(base("ATSP")).to_dict()
    d["format"] = "something/2"
    with pytest.raises(ProblemValidationError) as info:
        hr.Problem.from_dict(d)
    assert info.value.field == "format"


def test_equality_sees_every_field():
    p = build(base())
    assert p == build(base())
    assert p != p.replace(name="other")
    assert p != p.replace(service_time=[0] + [11] * (N - 1))
    assert p != p.replace(ids=["dep", "a", "b", "c", "e"])


@settings(max_examples=100, deadline=None)
@given(problem=problems())
def test_json_round_trip_random(problem):
    back = hr.Problem.from_json(problem.to_json())
    assert back == problem
    assert back.ids.dtype.kind == problem.ids.dtype.kind
    assert back.demand is None or back.demand.dtype.kind == problem.demand.dtype.kind


@pytest.mark.parametrize("layout", ["fortran", "transposed view", "strided view", "dataframe"])
def test_problem_owns_c_contiguous_matrices_whatever_the_layout(layout):
    """Backends read buffers row-major: a Problem never holds a Fortran-ordered matrix."""
    import pandas as pd

    kw = base("ACVRPTW")
    d = np.asarray(kw["distance"])
    padded = np.zeros((2 * N, 2 * N))
    padded[::2, ::2] = d
    given_ = {"fortran": np.asfortranarray(d), "transposed view": d.T.copy().T,
              "strided view": padded[::2, ::2], "dataframe": pd.DataFrame(d)}[layout]
    p = hr.Problem(**{**kw, "distance": given_, "duration": given_ / 10})
    for arr in (p.distance, p.duration):
        assert arr.flags.c_contiguous
    np.testing.assert_array_equal(p.distance, d)
    assert p.distance[1, 0] == d[1, 0] != d[0, 1]  # asymmetric: a transposition would show


def test_a_customer_reachable_only_through_another_node_is_accepted():
    """Durations need not satisfy the triangle inequality: node 2's direct leg from the depot
    (100 s) misses its window, the path through node 1 (2 + 2 s) does not."""
    dur = np.array([[0, 2, 100], [2, 0, 2], [2, 2, 0]], dtype=float)
    tw = [[0, 1000], [0, 1000], [0, 10]]
    p = hr.Problem("ACVRPTW", dur, dur, demand=[0, 1, 1], capacity=5, time_windows=tw)
    assert hr.evaluate(p, [[1, 2]]).is_feasible


def test_a_customer_late_by_every_path_is_refused():
    dur = np.array([[0, 20, 100], [2, 0, 20], [2, 2, 0]], dtype=float)
    tw = [[0, 1000], [0, 1000], [0, 10]]
    with pytest.raises(ProblemValidationError, match=r"time_windows at index 2: customer unreachable.*40"):
        hr.Problem("ACVRPTW", dur, dur, demand=[0, 1, 1], capacity=5, time_windows=tw)


def test_size_is_n_as_instances_are_named(atsp10, acvrp12, acvrptw12):
    # ATSP-n has n nodes; ACVRP-n and ACVRPTW-n have n customers and a depot
    assert atsp10.size == atsp10.num_nodes == 10
    assert acvrp12.size == acvrp12.num_customers == acvrp12.num_nodes - 1
    assert acvrptw12.size == acvrptw12.num_nodes - 1
