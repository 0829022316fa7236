"""The fleet in DataFrames: vehicles frame, several depots, optional stops; solution frames per type."""

from __future__ import annotations

import datetime as dt
import math
import warnings

import numpy as np
import pandas as pd
import pytest

import hybridroute as hr
from hybridroute import ProblemValidationError, VehicleType
from hybridroute.frames import (
    SOLUTION_COLUMNS,
    SUMMARY_COLUMNS,
    VEHICLE_COLUMNS,
    UnknownColumnWarning,
    problem_from_dataframe,
    vehicles_to_dataframe,
)

H = 3600.0


def _stops() -> pd.DataFrame:
    """Two depots ('north' in row 2, 'south' in row 5) among five stops; times as clock strings."""
    return pd.DataFrame({
        "id": ["a", "b", "north", "c", "d", "south", "e"],
        "demand": [2, 3, 0, 1, 4, 0, 2],
        "tw_start": ["08:00", "08:00", "06:00", "09:00", "08:00", "06:00", "08:00"],
        "tw_end": ["18:00", "18:00", "22:00", "17:00", "18:00", "22:00", "18:00"],
        "service_time": ["00:10"] * 7,
        "is_depot": [False, False, True, False, False, True, False],
        "required": [True, "yes", None, 0, "No", None, 1],
        "prize": [None, None, None, 5000.0, 1200.5, None, None],
    })


def _matrices(n: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    pts = rng.uniform(0, 5000, (n, 2))
    d = np.linalg.norm(pts[:, None] - pts[None], axis=-1).round(1)
    return d, (d / 8.0).round(1)


def _vehicles() -> pd.DataFrame:
    return pd.DataFrame({
        "name": ["van", "truck"],
        "count": [2, None],
        "capacity": [6, 10],
        "start_depot": ["north", "south"],
        "end_depot": [None, "north"],
        "shift_start": ["07:00", None],
        "shift_end": ["16:30", None],
        "max_duration": [None, "06:00"],
        "max_distance": [None, 40000.0],
        "fixed_cost": [150.0, None],
        "break_start": ["11:30", None],
        "break_end": ["13:00", None],
        "break_duration": ["00:30", None],
    })


def _problem(stops=None, vehicles=None, **kw) -> hr.Problem:
    d, t = _matrices()
    return problem_from_dataframe(_stops() if stops is None else stops, d, t,
                                  vehicles=_vehicles() if vehicles is None else vehicles, **kw)


# -- reading ----------------------------------------------------------------------------


def test_depots_come_first_in_row_order_with_their_ids():
    d, t = _matrices()
    p = _problem()
    assert p.num_depots == 2
    assert p.ids.tolist() == ["north", "south", "a", "b", "c", "d", "e"]
    order = [2, 5, 0, 1, 3, 4, 6]  # node -> row of the stops frame
    np.testing.assert_array_equal(p.distance, d[np.ix_(order, order)])
    np.testing.assert_array_equal(p.duration, t[np.ix_(order, order)])
    assert p.time_windows[0].tolist() == [6 * H, 22 * H]


def test_required_and_prize_columns():
    p = _problem()
    assert dict(zip(p.ids.tolist(), p.required.tolist())) == {
        "north": True, "south": True, "a": True, "b": True, "c": False, "d": False, "e": True}
    assert p.prize[p.index_of("c")] == 5000.0 and p.prize[p.index_of("d")] == 1200.5
    assert p.prize[p.index_of("a")] == 0.0
    assert {"optional_stops", "multiple_depots"} <= p.features


def test_vehicles_frame_in_clock_times():
    p = _problem()
    van, truck = p.vehicle_types
    assert van == VehicleType(count=2, capacity=6, start_depot=0, end_depot=None, shift=(7 * H, 16.5 * H),
                              fixed_cost=150.0, breaks=[(11.5 * H, 13 * H, 1800.0)], name="van")
    assert truck == VehicleType(count=None, capacity=10, start_depot=1, end_depot=0, max_duration=6 * H,
                                max_distance=40000.0, name="truck")
    assert p.time_format == "clock" and p.num_vehicles is None and p.capacity is None


def test_vehicles_frame_in_seconds_timedeltas_and_timestamps():
    origin = pd.Timestamp("2026-12-03 00:00")
    veh = _vehicles().assign(
        shift_start=[origin + pd.Timedelta(hours=7), pd.NaT],
        shift_end=[origin + pd.Timedelta(hours=16, minutes=30), pd.NaT],
        max_duration=[None, pd.Timedelta(hours=6)],
        break_start=[dt.time(11, 30), None], break_end=[dt.time(13, 0), None],
        break_duration=[1800, None])
    p = _problem(vehicles=veh, time_origin=origin)
    assert p.vehicle_types == _problem().vehicle_types
    # all in seconds: the problem's times are "seconds" when the stops frame is too
    seconds = _stops().assign(tw_start=0, tw_end=22 * H, service_time=600)
    veh = _vehicles().assign(shift_start=[7 * H, None], shift_end=[16.5 * H, math.inf], max_duration=[None, 6 * H],
                             break_start=[11.5 * H, None], break_end=[13 * H, None], break_duration=[1800, None])
    p = _problem(seconds, veh)
    assert p.time_format == "seconds"
    assert p.vehicle_types[0].shift == (7 * H, 16.5 * H) and p.vehicle_types[1].shift == (0.0, math.inf)


def test_vehicles_frame_defaults_and_column_names():
    veh = pd.DataFrame({"Capacity": [10], " COUNT ": [3]})
    p = _problem(vehicles=veh)
    assert p.vehicle_types == (VehicleType(count=3, capacity=10, start_depot=0),)
    with pytest.warns(UnknownColumnWarning, match=r"vehicles frame.*'capcity' \(did you mean 'capacity'\?\)"):
        with pytest.raises(ProblemValidationError) as info:
            _problem(vehicles=pd.DataFrame({"capcity": [10]}))
    assert info.value.field == "vehicles.capacity"


def test_break_end_defaults_to_open_and_break_start_to_zero():
    veh = _vehicles().assign(break_start=[None, None], break_end=[None, "14:00"], break_duration=["00:45", "00:20"])
    van, truck = _problem(vehicles=veh).vehicle_types
    assert van.breaks[0].earliest == 0 and math.isinf(van.breaks[0].latest) and van.breaks[0].duration == 2700
    assert (truck.breaks[0].earliest, truck.breaks[0].latest) == (0.0, 14 * H)


def test_depot_ids_typed_as_a_csv_reads_them():
    d, t = _matrices()
    stops = _stops().assign(id=[10, 11, 100, 12, 13, 200, 14])
    # a CSV column of depot ids with an empty cell reads as floats
    veh = _vehicles().assign(start_depot=[100.0, 200.0], end_depot=[np.nan, 100.0])
    p = problem_from_dataframe(stops, d, t, vehicles=veh)
    assert [(vt.start_depot, vt.end) for vt in p.vehicle_types] == [(0, 0), (1, 0)]
    veh = _vehicles().assign(start_depot=["100", "200"], end_depot=[None, "100"])
    assert problem_from_dataframe(stops, d, t, vehicles=veh).vehicle_types == p.vehicle_types


def test_depot_argument_lists_several_depots():
    d, t = _matrices()
    stops = _stops().drop(columns="is_depot")
    p = problem_from_dataframe(stops, d, t, vehicles=_vehicles(), depot=["south", "north"])
    assert p.ids.tolist()[:2] == ["north", "south"]  # row order, whatever the list's order
    assert problem_from_dataframe(_stops(), d, t, vehicles=_vehicles(), depot=["north", "south"]) == p
    with pytest.raises(ProblemValidationError) as info:
        problem_from_dataframe(_stops(), d, t, vehicles=_vehicles(), depot="north")
    assert info.value.field == "depot" and "disagrees" in str(info.value)


def test_shorthand_still_works_and_excludes_vehicles():
    d, t = _matrices()
    p = problem_from_dataframe(_stops(), d, t, capacity=10, num_vehicles=4)
    assert p.vehicle_types == (VehicleType(count=4, capacity=10),)
    for kw in (dict(capacity=10), dict(num_vehicles=2)):
        with pytest.raises(ProblemValidationError) as info:
            problem_from_dataframe(_stops(), d, t, vehicles=_vehicles(), **kw)
        assert info.value.field == next(iter(kw)) and "not both" in str(info.value)


def test_atsp_refuses_a_fleet():
    d, t = _matrices(3)
    stops = pd.DataFrame({"id": ["x", "y", "z"]})
    with pytest.raises(ProblemValidationError) as info:
        problem_from_dataframe(stops, d, t, vehicles=pd.DataFrame({"capacity": [5]}))
    assert info.value.field == "vehicles" and "'demand' column" in str(info.value)
    with pytest.raises(TypeError, match="vehicles must be a pandas DataFrame"):
        problem_from_dataframe(stops, d, t, vehicles=[VehicleType(capacity=5)])


# -- errors name the frame, the column and the row ----------------------------------------


def _veh_with(column, row, value):
    v = _vehicles()
    v[column] = v[column].astype(object)
    v.loc[row, column] = value
    return v


@pytest.mark.parametrize("vehicles, field, row, text", [
    (_veh_with("capacity", 1, None), "vehicles.capacity", 1, "missing value"),
    (_veh_with("capacity", 0, "big"), "vehicles.capacity", 0, "'big' is not a number"),
    (_veh_with("capacity", 1, 0), "vehicles.capacity", 1, "positive"),
    (_vehicles().drop(columns="capacity"), "vehicles.capacity", None, "needs a 'capacity' column"),
    (_veh_with("count", 1, 1.5), "vehicles.count", 1, "positive integer"),
    (_veh_with("count", 0, 0), "vehicles.count", 0, "positive integer"),
    (_veh_with("start_depot", 1, "nowhere"), "vehicles.start_depot", 1, "not an id of the stops frame"),
    (_veh_with("end_depot", 1, "c"), "vehicles.end_depot", 1, "a stop, not of a depot"),
    (_veh_with("shift_start", 0, "17:00"), "vehicles.shift_start", 0, "after shift_end"),
    (_veh_with("shift_end", 0, "25:61"), "vehicles.shift_end", 0, "not a time"),
    (_veh_with("shift_end", 1, 61200), "vehicles.shift_end", 1, "mixes forms"),
    (_veh_with("break_duration", 0, None), "vehicles.break_duration", 0, "needs its duration"),
    (_veh_with("break_start", 0, "14:00"), "vehicles.break_start", 0, "after break_end"),
    (_veh_with("max_duration", 1, "2026-12-03 06:00"), "vehicles.max_duration", 1, "not a duration"),
    (_veh_with("max_duration", 1, "00:00"), "vehicles.max_duration", 1, "positive"),
    (_veh_with("max_distance", 1, -5.0), "vehicles.max_distance", 1, "negative"),
    (_veh_with("fixed_cost", 0, "cheap"), "vehicles.fixed_cost", 0, "not a number"),
    (_veh_with("name", 1, "van"), "vehicles.name", 1, "is used by rows 0 and 1"),
    # found by Problem, reported in the frame's terms: the shift ends before the depot opens
    (_veh_with("shift_end", 0, "05:00").assign(shift_start=["04:00", None]), "vehicles.shift_start", 0,
     "do not overlap"),
])
def test_vehicles_errors_name_column_and_row(vehicles, field, row, text):
    with pytest.raises(ProblemValidationError) as info:
        _problem(vehicles=vehicles)
    err = info.value
    assert (err.field, err.index) == (field, row), str(err)
    assert str(err).startswith(field) and text in str(err), str(err)
    if row is not None:
        name = vehicles["name"].iloc[row]
        assert f"vehicles frame, row {row}, name {name!r}" in str(err), str(err)


def test_a_stop_no_type_can_serve_is_named_by_its_stops_row():
    for vehicles in (_vehicles().assign(max_distance=[10.0, 10.0]), _vehicles().iloc[:1].assign(max_distance=10.0)):
        with pytest.raises(ProblemValidationError) as info:
            _problem(vehicles=vehicles)
        assert (info.value.field, info.value.index) == ("max_distance", 0), str(info.value)
        assert "(row 0, id 'a')" in str(info.value) and "above max_distance 10 m" in str(info.value)


def test_clock_times_without_a_duration_matrix_are_refused_by_column():
    d, _ = _matrices()
    stops = _stops().drop(columns=["tw_start", "tw_end", "service_time"])
    with pytest.raises(ProblemValidationError) as info:
        problem_from_dataframe(stops, d, vehicles=_vehicles())
    assert (info.value.field, info.value.index) == ("vehicles.shift_start", 0)
    assert "duration matrix" in str(info.value)


def test_date_times_in_the_vehicles_frame_need_time_origin():
    veh = _veh_with("shift_start", 0, "2026-12-03 07:00")
    veh["shift_end"] = ["2026-12-03 16:30", None]
    with pytest.raises(ProblemValidationError) as info:
        _problem(vehicles=veh)
    assert (info.value.field, info.value.index) == ("vehicles.shift_start", 0) and "time_origin" in str(info.value)
    p = _problem(vehicles=veh, time_origin="2026-12-03 00:00")
    assert p.vehicle_types[0].shift == (7 * H, 16.5 * H)


@pytest.mark.parametrize("column, row, value, field, text", [
    ("required", 3, "maybe", "required", "not a yes/no value"),
    ("required", 2, False, "required", "depot cannot be optional"),
    ("prize", 4, -1.0, "prize", "negative"),
    ("prize", 3, "lots", "prize", "not a number"),
    ("is_depot", 2, None, "is_depot", "null"),
])
def test_stop_column_errors_name_row(column, row, value, field, text):
    stops = _stops()
    stops[column] = stops[column].astype(object)
    stops.loc[row, column] = value
    with pytest.raises(ProblemValidationError) as info:
        _problem(stops)
    assert (info.value.field, info.value.index) == (field, row), str(info.value)
    assert text in str(info.value) and f"id {stops['id'][row]!r}" in str(info.value)


def test_no_depot_flagged_and_nonzero_depot_demand():
    with pytest.raises(ProblemValidationError) as info:
        _problem(_stops().assign(is_depot=False))
    assert info.value.field == "is_depot" and "found 0" in str(info.value)
    stops = _stops()
    stops.loc[5, "demand"] = 3
    with pytest.raises(ProblemValidationError) as info:
        _problem(stops)
    assert (info.value.field, info.value.index) == ("demand", 5) and "'south'" in str(info.value)


# -- round trip ---------------------------------------------------------------------------


@pytest.mark.parametrize("times", ["seconds", "input"])
def test_stops_and_vehicles_frames_round_trip(times):
    p = _problem()
    stops, veh = p.to_dataframe(times=times), vehicles_to_dataframe(p, times=times)
    assert list(veh.columns) == list(VEHICLE_COLUMNS)
    assert stops["is_depot"].tolist() == [True, True] + [False] * 5
    back = problem_from_dataframe(stops, p.distance, p.duration, vehicles=veh)
    assert back == p
    if times == "input":
        assert veh["shift_start"].tolist()[0] == "07:00:00" and veh["max_duration"].tolist()[1] == "06:00:00"


def test_vehicles_to_dataframe_refuses_two_breaks():
    p = _problem().replace(vehicle_types=[VehicleType(capacity=10, breaks=[(0, 10, 1), (20, 30, 1)])],
                           num_depots=2)
    with pytest.raises(ValueError, match="2 breaks"):
        vehicles_to_dataframe(p)


# -- solution frames ----------------------------------------------------------------------


def _solution(problem: hr.Problem, routes_by_id, types) -> hr.Solution:
    routes = [[problem.index_of(i) for i in r] for r in routes_by_id]
    return hr.evaluate(problem, routes, vehicle_types=types)


def test_solution_frame_per_type_with_depots_breaks_and_unserved():
    p = _problem(_stops().assign(service_time="01:30"))
    sol = _solution(p, [["a", "b", "e"], ["d"]], [0, 1])
    assert sol.route_stats[0].breaks, "the fixture's van route must take its break"
    df = sol.to_dataframe()
    assert list(df.columns) == list(SOLUTION_COLUMNS)
    assert str(df["route"].dtype) == "Int64" and str(df["sequence"].dtype) == "Int64"
    van = df[df["route"] == 0]
    assert van["stop"].tolist()[0] == "start" and van["stop"].tolist()[-1] == "end"
    assert set(van["vehicle_type"]) == {"van"} and set(df[df["route"] == 1]["vehicle_type"]) == {"truck"}
    # each route starts and ends at its type's depots
    assert van["id"].tolist()[0] == "north" and van["id"].tolist()[-1] == "north"
    truck = df[df["route"] == 1]
    assert (truck["id"].tolist()[0], truck["id"].tolist()[-1]) == ("south", "north")
    # the break row: after the row where it is taken, same place and sequence
    pos, start, duration = sol.route_stats[0].breaks[0]
    (k,) = np.flatnonzero(van["stop"].to_numpy() == "break")
    before, brk = van.iloc[k - 1], van.iloc[k]
    assert (brk["sequence"], brk["node"]) == (before["sequence"], before["node"]) == (pos, van["node"].iloc[k - 1])
    assert (brk["arrival"], brk["departure"]) == (start, start + duration)
    assert before["departure"] <= start and van.iloc[k + 1]["arrival"] >= start + duration
    assert 11.5 * H <= start <= 13 * H
    # time adds up: legs + waits + services + breaks = the route's duration
    services = 90 * 60 * (len(sol.routes[0]) + 1)  # visits and the start depot's service
    total = van["leg_duration"].sum() + van["wait"].sum() + services + duration
    assert total == pytest.approx(sol.route_stats[0].duration)
    assert van["leg_distance"].sum() == pytest.approx(sol.route_stats[0].distance)
    visits = van[van["stop"] == "visit"]
    np.testing.assert_array_equal(visits["arrival"], sol.route_stats[0].arrival)
    # the optional stop no route visits
    unserved = df[df["stop"] == "unserved"]
    assert unserved["id"].tolist() == ["c"] and sol.unserved == (p.index_of("c"),)
    assert unserved["route"].isna().all() and unserved["sequence"].isna().all()
    assert unserved[["arrival", "departure", "wait", "leg_distance"]].isna().all().all()


def _break_frame(tw_start: list[float], brk: tuple[float, float, float]) -> tuple[hr.Solution, list]:
    """One route 0 -> 1 -> ... -> 0 with 1000 s legs, no service, and one break."""
    n = len(tw_start)
    t = np.full((n, n), 1000.0)
    np.fill_diagonal(t, 0.0)
    p = hr.Problem("ACVRPTW", t * 10, t, demand=[0] + [1] * (n - 1),
                   time_windows=[[s, math.inf] for s in tw_start],
                   vehicle_types=[VehicleType(capacity=n, breaks=[brk])])
    sol = hr.evaluate(p, [list(range(1, n))])
    df = sol.to_dataframe()
    assert df["leg_duration"].sum() + df["wait"].sum() + brk[2] == sol.duration
    (k,) = df.index[df["stop"] == "break"]
    assert df["node"][k] == df["node"][k - 1] and df["sequence"][k] == df["sequence"][k - 1]
    rows = [(r.stop, r.sequence, None if math.isnan(r.arrival) else r.arrival,
             None if math.isnan(r.departure) else r.departure, r.wait) for r in df.itertuples()]
    return sol, rows


def test_break_row_taken_on_the_way():
    # driving pauses at 500 s for the break; the stop is reached 600 s later than without it
    sol, rows = _break_frame([0, 0], (500.0, 500.0, 600.0))
    assert sol.route_stats[0].breaks == ((0, 500.0, 600.0),)
    assert rows == [("start", 0, None, 0.0, 0.0), ("break", 0, 500.0, 1100.0, 0.0),
                    ("visit", 1, 1600.0, 1600.0, 0.0), ("end", 2, 2600.0, None, 0.0)]


def test_break_row_with_idle_time_before_it():
    # at stop 1 by 1000 s, the break may not start before 3000 s: 2000 s idle, then stop 2 waits
    sol, rows = _break_frame([0, 0, 6000], (3000.0, 3000.0, 600.0))
    assert sol.route_stats[0].breaks == ((0, 3000.0, 600.0),)
    assert rows == [("start", 0, None, 0.0, 0.0), ("break", 0, 3000.0, 3600.0, 2000.0),
                    ("visit", 1, 3600.0, 3600.0, 0.0), ("visit", 2, 4600.0, 6000.0, 1400.0),
                    ("end", 3, 7000.0, None, 0.0)]


def test_unnamed_types_are_shown_by_index():
    veh = _vehicles().drop(columns="name")
    p = _problem(vehicles=veh)
    sol = _solution(p, [["a"], ["b", "c", "d", "e"]], [1, 1])
    df = sol.to_dataframe()
    assert set(df["vehicle_type"].dropna()) == {1}
    assert sol.routes_summary()["vehicle_type"].tolist() == [1, 1]


def test_routes_summary_columns():
    p = _problem(_stops().assign(service_time="01:30"))
    sol = _solution(p, [["a", "b", "e"], ["d"]], [0, 1])
    s = sol.routes_summary()
    assert list(s.columns) == list(SUMMARY_COLUMNS)
    assert s["vehicle_type"].tolist() == ["van", "truck"]
    assert s["fixed_cost"].tolist() == [150.0, 0.0] and s["fixed_cost"].sum() == sol.fixed_cost
    assert s["start_depot"].tolist() == ["north", "south"] and s["end_depot"].tolist() == ["north", "north"]
    assert s["break_time"].tolist() == [1800.0, 0.0]
    assert s["duration"].sum() == pytest.approx(sol.duration)
    df = sol.to_dataframe()
    assert s["waiting"].tolist() == pytest.approx(df.groupby("route")["wait"].sum().tolist())
    clock = sol.routes_summary(times="clock")
    assert clock["break_time"].tolist() == ["00:30:00", "00:00:00"]


def test_clock_output_covers_break_rows():
    p = _problem(_stops().assign(service_time="01:30"))
    sol = _solution(p, [["a", "b", "e"], ["d"]], [0, 1])
    seconds, clock = sol.to_dataframe(), sol.to_dataframe(times="input")
    brk = seconds.index[seconds["stop"] == "break"][0]
    start = seconds.loc[brk, "arrival"]
    whole = math.floor(start + 0.5)
    assert clock.loc[brk, "arrival"] == f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
    assert clock.loc[brk, "departure"] != clock.loc[brk, "arrival"]
    origin = dt.datetime(2026, 12, 3)
    stamped = p.replace(time_origin=origin)
    sol = _solution(stamped, [["a", "b", "e"], ["d"]], [0, 1])
    frame = sol.to_dataframe(times="clock")
    assert frame.loc[brk, "arrival"] == pd.Timestamp(origin) + pd.Timedelta(seconds=round(start))
    assert frame[frame["stop"] == "unserved"]["arrival"].isna().all()


def test_empty_solution_lists_the_unserved_optional_stops():
    p = _problem()
    p = p.replace(required=np.r_[True, True, np.zeros(p.num_customers, dtype=bool)],
                  prize=np.r_[0, 0, np.full(p.num_customers, 10.0)])
    sol = hr.evaluate(p, [], vehicle_types=[])
    df = sol.to_dataframe()
    assert df["stop"].tolist() == ["unserved"] * p.num_customers and list(df.columns) == list(SOLUTION_COLUMNS)
    assert sol.routes_summary().empty


def test_frames_without_fleet_features_keep_their_dtypes(acvrp12):
    sol = hr.solve(acvrp12, "nearest")
    df = sol.to_dataframe()
    assert df["route"].dtype == np.int64 and df["sequence"].dtype == np.int64
    assert set(df["vehicle_type"]) == {0} and "unserved" not in set(df["stop"])
    assert (df["node"][df["stop"] != "visit"] == 0).all()


# -- batch -------------------------------------------------------------------------------


def test_batch_reads_time_origin_and_vehicles():
    d, t = _matrices()
    one = _stops().assign(tw_start="2026-12-03 06:00", tw_end="2026-12-03 22:00")
    frame = pd.concat([one.assign(instance="x"), one.assign(instance="y")], ignore_index=True)
    kw = dict(distance={"x": d, "y": d}, duration={"x": t, "y": t}, vehicles=_vehicles())
    with pytest.raises(ProblemValidationError, match="time_origin"):
        hr.problems_from_dataframe(frame, **kw)
    got = hr.problems_from_dataframe(frame, time_origin="2026-12-03", **kw)
    assert [p.name for p in got] == ["x", "y"]
    expected = _problem(one, time_origin="2026-12-03")
    assert got[0] == expected.replace(name="x")
    got = hr.problems_from_dataframe(frame, time_origin={"x": "2026-12-03", "y": "2026-12-02 12:00"},
                                     **{**kw, "vehicles": pd.DataFrame({"capacity": [10]})})
    assert got[0].time_windows[0, 0] == 6 * H
    assert got[1].time_windows[0, 0] == 18 * H  # 06:00 on the 3rd is 18 h after noon on the 2nd
    # an error in the vehicles frame keeps the vehicles frame's row
    with pytest.raises(ProblemValidationError) as info:
        hr.problems_from_dataframe(frame, time_origin="2026-12-03",
                                   **{**kw, "vehicles": {"x": _vehicles(), "y": _veh_with("capacity", 1, "x")}})
    assert (info.value.field, info.value.index) == ("vehicles.capacity", 1)
    assert "instance 'y'" in str(info.value)


def test_no_unknown_column_warning_for_the_fleet_columns():
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownColumnWarning)
        _problem()
