"""Time columns written as clock times, durations or date-times, and outputs in clock form."""

import datetime as dt
import math
import pickle

import numpy as np
import pandas as pd
import pytest

import hybridroute as hr
from hybridroute import ProblemValidationError
from hybridroute.cli import main
from hybridroute.frames import problem_from_dataframe

IDS = ["depot", "a", "b", "c"]
# 07:00, 08:00, 08:30, 07:00 / 26:30 (next day), 10:00, 19:00, open / 0, 5 min, 5 min 30 s, 5 min
TW_START = [25200.0, 28800.0, 30600.0, 25200.0]
TW_END = [95400.0, 36000.0, 68400.0, math.inf]
SERVICE = [0.0, 300.0, 330.0, 300.0]
DISTANCE = np.array([[0, 900, 1500, 700],
                     [1000, 0, 800, 1200],
                     [1400, 850, 0, 600],
                     [650, 1300, 700, 0]], dtype=float)
DURATION = DISTANCE / 8.0  # 87.5 s and the like: fractions of a second on purpose
MIDNIGHT = pd.Timestamp("2026-12-03 00:00")


def _frame(tw_start=TW_START, tw_end=TW_END, service_time=SERVICE) -> pd.DataFrame:
    return pd.DataFrame({"id": IDS, "demand": [0, 3, 4, 2], "tw_start": tw_start, "tw_end": tw_end,
                         "service_time": service_time})


def _build(stops, **kw) -> hr.Problem:
    return problem_from_dataframe(stops, DISTANCE, DURATION, capacity=6, **kw)


def _error(stops, **kw) -> ProblemValidationError:
    with pytest.raises(ProblemValidationError) as info:
        _build(stops, **kw)
    return info.value


def _with(column, row, value, stops=None):
    s = _frame(**CLOCK) if stops is None else stops.copy()
    s[column] = s[column].astype(object)
    s.loc[row, column] = value
    return s


SECONDS = _build(_frame())
CLOCK = dict(tw_start=["07:00", "08:00", "08:30:00", "07:00"], tw_end=["26:30", "10:00", "19:00", math.inf],
             service_time=["00:00", "00:05", "00:05:30", "0:05"])


# -- accepted forms: each gives the Problem of the seconds form -----------------------------


def _stamps(seconds, origin=MIDNIGHT):
    return [origin + pd.Timedelta(seconds=s) if math.isfinite(s) else math.inf for s in seconds]


FORMS = {
    "clock strings": (CLOCK, {}),
    "numeric strings (as read from a CSV)": (
        dict(tw_start=["25200", "28800", "30600", "25200"], tw_end=["95400", "36000", "68400", "inf"],
             service_time=["0", "300", "330", "300"]), {}),
    "datetime.time": (
        dict(tw_start=[dt.time(7), dt.time(8), dt.time(8, 30), dt.time(7)],
             tw_end=[dt.time(23, 59, 59), dt.time(10), dt.time(19), math.inf],
             service_time=[dt.time(0), dt.time(0, 5), dt.time(0, 5, 30), dt.time(0, 5)]), {}),
    "datetime.timedelta": (
        dict(tw_start=[dt.timedelta(seconds=s) for s in TW_START],
             service_time=[dt.timedelta(seconds=s) for s in SERVICE]), {}),
    "pandas Timedelta objects": (
        dict(tw_end=[pd.Timedelta(seconds=s) if math.isfinite(s) else math.inf for s in TW_END],
             service_time=pd.to_timedelta(SERVICE, unit="s").tolist()), {}),
    "timedelta64 columns": (
        dict(tw_start=pd.Series(pd.to_timedelta(TW_START, unit="s")),
             service_time=pd.Series(pd.to_timedelta(SERVICE, unit="s"))), {}),
    "Timestamps with time_origin": (
        dict(tw_start=_stamps(TW_START), tw_end=_stamps(TW_END)), dict(time_origin=MIDNIGHT)),
    "datetime64 column with a datetime origin": (
        dict(tw_start=pd.Series(_stamps(TW_START))), dict(time_origin=dt.datetime(2026, 12, 3))),
    "datetime.datetime objects": (
        dict(tw_start=[s.to_pydatetime() for s in _stamps(TW_START)]), dict(time_origin="2026-12-03")),
    "ISO date-time strings with time_origin": (
        dict(tw_start=["2026-12-03 07:00", "2026-12-03T08:00:00", "2026-12-03 08:30", "2026-12-03 07:00"],
             tw_end=["2026-12-04 02:30", "2026-12-03 10:00", "2026-12-03 19:00", "inf"]),
        dict(time_origin="2026-12-03 00:00")),
    "time-zone-aware Timestamps and origin": (
        dict(tw_start=_stamps(TW_START, MIDNIGHT.tz_localize("Europe/Monaco"))),
        dict(time_origin=MIDNIGHT.tz_localize("Europe/Monaco"))),
    "clock strings counted from a midnight origin": (CLOCK, dict(time_origin=MIDNIGHT)),
}


@pytest.mark.parametrize("name", FORMS)
def test_every_accepted_form_gives_the_seconds_problem(name):
    columns, kw = FORMS[name]
    p = _build(_frame(**columns), **kw)
    expected = SECONDS
    if name == "datetime.time":  # a time of day stops at 23:59:59
        expected = _build(_frame(tw_end=[86399.0, *TW_END[1:]]))
    assert p == expected.replace(time_origin=p.time_origin)
    np.testing.assert_array_equal(p.time_windows, expected.time_windows)
    np.testing.assert_array_equal(p.service_time, expected.service_time)
    assert p.time_format == ("seconds" if name.startswith("numeric") else "clock")


def test_seconds_input_records_seconds_and_no_origin():
    assert SECONDS.time_format == "seconds" and SECONDS.time_origin is None


def test_columns_may_use_different_forms():
    p = _build(_frame(tw_start=CLOCK["tw_start"], service_time=pd.to_timedelta(SERVICE, unit="s")))
    assert p == SECONDS and p.time_format == "clock"


def test_time_origin_is_kept_on_the_problem_as_a_datetime():
    p = _build(_frame(), time_origin="2026-12-03 00:00")
    assert p.time_origin == dt.datetime(2026, 12, 3) and type(p.time_origin) is dt.datetime
    assert p.time_format == "seconds"  # seconds since the origin


def test_spaces_around_clock_strings_and_hours_past_24():
    # surrounding spaces are ignored; hours beyond 24 run on into the next days
    p = _build(_frame(tw_start=[" 07:00", "08:00 ", "08:30", "07:00"], tw_end=["100:00", "10:00", "19:00", "inf"]))
    assert p.time_windows[0].tolist() == [25200.0, 360000.0]
    assert p.time_windows[3, 1] == math.inf


# -- refusals: exact type, the column, the row and its id, the value ------------------------


@pytest.mark.parametrize("column,value", [
    ("tw_start", "9h"), ("tw_start", "25:61"), ("tw_start", ""), ("tw_end", "8:5"), ("tw_end", "-01:00"),
    ("service_time", "00:05:60"), ("service_time", "5 min"), ("tw_start", "1_000"), ("tw_end", "2026-13-03 08:00"),
])
def test_bad_strings_name_column_row_id_and_value(column, value):
    err = _error(_with(column, 2, value), time_origin=MIDNIGHT)
    assert (err.field, err.index) == (column, 2)
    assert str(err).startswith(f"{column} at index 2: {value!r} is not a time (row 2, id 'b')"), str(err)
    assert "'HH:MM'" in str(err)


@pytest.mark.parametrize("column,row,value,first,second", [
    ("tw_start", 2, 3600, "clock time", "seconds"),
    ("tw_end", 1, pd.Timedelta(hours=10), "clock time", "duration"),
    ("service_time", 3, dt.time(0, 5), "clock time", "datetime.time"),
])
def test_a_column_mixing_forms_names_the_first_row_that_differs(column, row, value, first, second):
    err = _error(_with(column, row, value))
    assert type(err) is ProblemValidationError and (err.field, err.index) == (column, row)
    text = str(err)
    assert text.startswith(f"{column} at index {row}: mixes forms: row 0, id 'depot'"), text
    assert f"row {row}, id {IDS[row]!r}" in text and repr(value) in text
    assert text.index(first) < text.index(second)


def test_seconds_then_clock_string_is_refused_at_the_clock_row():
    stops = _with("tw_start", 1, "08:00", stops=_frame())
    err = _error(stops)
    assert (err.field, err.index) == ("tw_start", 1)
    assert "holds seconds (a number) (25200.0)" in str(err) and "'08:00'" in str(err)


@pytest.mark.parametrize("stops", [
    _frame(tw_start=_stamps(TW_START)),
    _frame(tw_start=pd.Series(_stamps(TW_START))),
    _frame(tw_start=["2026-12-03 07:00"] * 4),
], ids=["Timestamp objects", "datetime64 column", "ISO strings"])
def test_date_times_without_time_origin_are_refused(stops):
    err = _error(stops)
    assert (err.field, err.index) == ("tw_start", 0)
    assert "row 0, id 'depot' holds a date-time" in str(err) and "pass time_origin=" in str(err)
    assert "2026-12-03 07:00" in str(err)


def test_date_time_before_the_origin_is_refused():
    err = _error(_frame(tw_start=_stamps(TW_START)), time_origin=MIDNIGHT + pd.Timedelta(hours=8))
    assert (err.field, err.index) == ("tw_start", 0)
    assert "is before time_origin 2026-12-03 08:00:00 (row 0, id 'depot')" in str(err)


def test_time_zone_on_one_side_only_is_refused():
    err = _error(_frame(tw_start=_stamps(TW_START)), time_origin=MIDNIGHT.tz_localize("UTC"))
    assert (err.field, err.index) == ("tw_start", 0)
    assert "time_origin has a time zone and the value has none" in str(err)


@pytest.mark.parametrize("column,value,text", [
    ("tw_start", None, "missing value (NaN) in row 2, id 'b'"),
    ("tw_start", pd.NaT, "missing value (NaN) in row 2, id 'b'"),
    ("tw_start", True, "True is a boolean, not a time (row 2, id 'b')"),
    ("tw_start", dt.date(2026, 12, 3), "is a date without a time of day (row 2, id 'b')"),
    ("tw_start", dt.time(8, tzinfo=dt.timezone.utc), "has a time zone (row 2, id 'b')"),
    ("tw_end", "-inf", "value '-inf' is not finite (row 2, id 'b')"),
    ("tw_start", [8, 30], "[8, 30] (list) is not a time (row 2, id 'b')"),
    ("service_time", pd.Timedelta(seconds=-5), "is negative (row 2, id 'b')"),
])
def test_other_bad_cells_name_column_and_row(column, value, text):
    stops = _with(column, 2, value)
    if isinstance(value, pd.Timedelta):
        stops = _with(column, 2, value, stops=_frame(service_time=pd.to_timedelta(SERVICE, unit="s").tolist()))
    err = _error(stops)
    assert (err.field, err.index) == (column, 2)
    assert str(err).startswith(column) and text in str(err), str(err)


def test_window_order_error_shows_clock_readings():
    err = _error(_with("tw_start", 1, "13:00"))
    assert (err.field, err.index) == ("tw_start", 1)
    assert "tw_start 46800 s (13:00:00) is after tw_end 36000 s (10:00:00) (row 1, id 'a')" in str(err)


@pytest.mark.parametrize("origin", ["garbage", 5, pd.NaT, pd.Timestamp("2026-12-03 00:00:00.000000001")])
def test_bad_time_origin_is_refused(origin):
    err = _error(_frame(**CLOCK), time_origin=origin)
    assert err.field == "time_origin" and str(err).startswith("time_origin: ")


def test_bad_time_format_and_times_arguments():
    with pytest.raises(ProblemValidationError, match=r"^time_format: must be one of"):
        SECONDS.replace(time_format="minutes")
    sol = hr.evaluate(SECONDS, [[1, 2], [3]])
    for call in (sol.to_dataframe, sol.routes_summary, SECONDS.to_dataframe):
        with pytest.raises(ValueError, match=r"times must be one of 'seconds', 'clock', 'input', got 'hours'"):
            call(times="hours")


# -- outputs in clock form --------------------------------------------------------------------


@pytest.fixture
def clock_solution():
    return hr.evaluate(_build(_frame(**CLOCK)), [[3, 2], [1]])


def test_default_output_stays_in_seconds(clock_solution):
    frame = clock_solution.to_dataframe()
    seconds = hr.evaluate(SECONDS, [[3, 2], [1]]).to_dataframe()
    pd.testing.assert_frame_equal(frame, seconds)
    assert frame["arrival"].dtype == np.float64
    pd.testing.assert_frame_equal(clock_solution.routes_summary(), hr.evaluate(SECONDS, [[3, 2], [1]]).routes_summary())


def test_clock_output_round_trips_to_the_seconds_rounded(clock_solution):
    seconds = clock_solution.to_dataframe()
    clock = clock_solution.to_dataframe(times="clock")
    assert clock["arrival"].tolist()[:4] == [None, "07:01:28", "07:07:55", "08:38:25"]
    assert clock["departure"].iloc[0] == "07:00:00" and clock["wait"].iloc[2] == "01:22:05"
    for c in ("arrival", "departure", "wait"):
        back = pd.to_timedelta(clock[c]).dt.total_seconds().to_numpy()
        want = np.floor(seconds[c].to_numpy() + 0.5)
        np.testing.assert_array_equal(back, want)
        assert (np.abs(back - seconds[c].to_numpy()) <= 0.5)[seconds[c].notna()].all()
    # the other columns are unchanged
    rest = [c for c in seconds.columns if c not in ("arrival", "departure", "wait")]
    pd.testing.assert_frame_equal(clock[rest], seconds[rest])


def test_input_form_follows_the_problem(clock_solution):
    pd.testing.assert_frame_equal(clock_solution.to_dataframe(times="input"),
                                  clock_solution.to_dataframe(times="clock"))
    sol = hr.evaluate(SECONDS, [[3, 2], [1]])
    pd.testing.assert_frame_equal(sol.to_dataframe(times="input"), sol.to_dataframe())


def test_clock_output_with_origin_gives_timestamps():
    origin = pd.Timestamp("2026-12-03 00:00", tz="Europe/Monaco")
    sol = hr.evaluate(_build(_frame(**CLOCK), time_origin=origin), [[3, 2], [1]])
    seconds = sol.to_dataframe()
    clock = sol.to_dataframe(times="clock")
    assert str(clock["arrival"].dt.tz) == "Europe/Monaco"
    visits = seconds["arrival"].notna()
    back = (clock["arrival"][visits] - origin).dt.total_seconds().to_numpy()
    np.testing.assert_array_equal(back, np.floor(seconds["arrival"][visits].to_numpy() + 0.5))
    assert clock["arrival"][~visits].isna().all()
    assert clock["wait"].iloc[2] == "01:22:05"  # a duration, not a date-time
    summary = sol.routes_summary(times="clock")
    assert summary["start_time"].iloc[0] == origin + pd.Timedelta(hours=7)
    assert summary["waiting"].iloc[0] == "01:22:05" and summary["late"].tolist() == ["00:00:00"] * 2


def test_summary_in_clock_form(clock_solution):
    seconds = clock_solution.routes_summary()
    clock = clock_solution.routes_summary(times="clock")
    for c in ("start_time", "end_time", "duration", "waiting", "late"):
        back = pd.to_timedelta(clock[c]).dt.total_seconds().to_numpy()
        np.testing.assert_array_equal(back, np.floor(seconds[c].to_numpy() + 0.5))
    assert clock["distance"].tolist() == seconds["distance"].tolist()


def test_empty_solution_in_clock_form_keeps_the_columns(clock_solution):
    empty = hr.Solution.no_solution(clock_solution.problem)
    for frame, seconds in ((empty.to_dataframe(times="clock"), empty.to_dataframe()),
                           (empty.routes_summary(times="clock"), empty.routes_summary())):
        assert len(frame) == 0 and list(frame.columns) == list(seconds.columns)


def test_times_beyond_a_day_are_written_as_hours_past_24():
    p = _build(_frame(tw_start=["07:00", "25:00", "08:30", "07:00"], tw_end=["30:00", "26:00", "19:00", "inf"]))
    clock = hr.evaluate(p, [[1], [2], [3]]).to_dataframe(times="clock")
    assert clock.loc[clock["id"] == "a", "departure"].item() == "25:05:00"


@pytest.mark.parametrize("origin", [None, MIDNIGHT])
def test_stops_frame_round_trips_in_clock_form(origin):
    p = _build(_frame(**CLOCK), time_origin=origin)
    frame = p.to_dataframe(times="clock")
    assert frame["tw_end"].iloc[3] == math.inf
    if origin is None:
        assert frame["tw_start"].tolist() == ["07:00:00", "08:00:00", "08:30:00", "07:00:00"]
    else:
        assert frame["tw_start"].iloc[1] == MIDNIGHT + pd.Timedelta(hours=8)
    assert frame["service_time"].tolist() == ["00:00:00", "00:05:00", "00:05:30", "00:05:00"]
    back = problem_from_dataframe(frame, p.distance, p.duration, capacity=6, time_origin=origin)
    assert back == p and back.time_format == "clock" and back.time_origin == p.time_origin
    pd.testing.assert_frame_equal(p.to_dataframe(), SECONDS.to_dataframe())  # default: seconds


# -- the origin survives replace, pickling and JSON -----------------------------------------


@pytest.mark.parametrize("origin", [MIDNIGHT, pd.Timestamp("2026-12-03 06:00", tz="Europe/Monaco")])
def test_origin_and_format_survive_json_pickle_and_replace(origin):
    p = _build(_frame(**CLOCK), time_origin=origin)
    back = hr.Problem.from_json(p.to_json())
    assert back == p
    assert back.time_origin == origin.to_pydatetime() and back.time_origin.utcoffset() == origin.utcoffset()
    assert back.time_format == "clock"
    assert p.to_dict()["time_origin"] == origin.isoformat()
    unpickled = pickle.loads(pickle.dumps(p))
    assert unpickled == p and (unpickled.time_origin, unpickled.time_format) == (p.time_origin, "clock")
    changed = p.replace(name="monday")
    assert (changed.time_origin, changed.time_format) == (p.time_origin, "clock")


def test_json_of_a_seconds_problem_has_no_time_keys():
    d = SECONDS.to_dict()
    assert "time_origin" not in d and "time_format" not in d


def test_equality_sees_the_origin_but_not_the_display_format():
    p = _build(_frame(**CLOCK))
    assert p == SECONDS and p.time_format != SECONDS.time_format
    assert p.replace(time_origin=MIDNIGHT) != p
    assert p.replace(time_origin=MIDNIGHT) == SECONDS.replace(time_origin="2026-12-03T00:00:00")


def test_json_with_a_bad_origin_names_the_key():
    d = SECONDS.to_dict()
    d["time_origin"] = "the third"
    with pytest.raises(ProblemValidationError, match=r"^time_origin: 'the third' is not an ISO 8601"):
        hr.Problem.from_dict(d)


# -- command line -----------------------------------------------------------------------------


@pytest.fixture
def clock_csv(tmp_path):
    stops = _frame(**CLOCK)
    stops.to_csv(tmp_path / "stops.csv", index=False)
    pd.DataFrame(DISTANCE, index=IDS, columns=IDS).to_csv(tmp_path / "dist.csv")
    pd.DataFrame(DURATION, index=IDS, columns=IDS).to_csv(tmp_path / "dur.csv")
    return tmp_path


def _solve(path, *extra):
    return main(["solve", str(path / "stops.csv"), "--matrix", str(path / "dist.csv"), "--duration-matrix",
                 str(path / "dur.csv"), "--capacity", "6", "--solver", "nearest", *extra])


def test_cli_reads_clock_times_and_writes_clock_output(clock_csv, capsys):
    assert _solve(clock_csv, "-o", str(clock_csv / "routes.csv"), "--summary", str(clock_csv / "sum.csv"),
                  "--times", "clock") == 0
    routes = pd.read_csv(clock_csv / "routes.csv")
    seconds = hr.solve(_build(_frame(**CLOCK)), "nearest").to_dataframe()
    back = pd.to_timedelta(routes["departure"]).dt.total_seconds().to_numpy()
    np.testing.assert_array_equal(back, np.floor(seconds["departure"].to_numpy() + 0.5))
    assert routes["departure"].iloc[0] == "07:00:00"
    summary = pd.read_csv(clock_csv / "sum.csv")
    # each route starts when it leaves its depot (late departure: not before it must)
    assert summary["start_time"].tolist() == routes.groupby("route", sort=True)["departure"].first().tolist()
    assert "feasible" in capsys.readouterr().out


def test_cli_default_output_is_seconds_and_input_follows_the_csv(clock_csv):
    assert _solve(clock_csv, "-o", str(clock_csv / "seconds.csv")) == 0
    assert pd.read_csv(clock_csv / "seconds.csv")["departure"].iloc[0] == 25200.0
    assert _solve(clock_csv, "-o", str(clock_csv / "input.csv"), "--times", "input") == 0
    assert pd.read_csv(clock_csv / "input.csv")["departure"].iloc[0] == "07:00:00"


def test_cli_time_origin_gives_date_times(clock_csv):
    assert _solve(clock_csv, "--time-origin", "2026-12-03 00:00", "--times", "clock",
                  "-o", str(clock_csv / "routes.csv")) == 0
    routes = pd.read_csv(clock_csv / "routes.csv")
    assert routes["departure"].iloc[0] == "2026-12-03 07:00:00"


def test_cli_reads_date_times_with_time_origin(clock_csv, capsys):
    _frame(tw_start=[f"2026-12-03 {t}" for t in CLOCK["tw_start"]]).to_csv(clock_csv / "stops.csv", index=False)
    assert _solve(clock_csv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hybridroute: error: stops ") and "\n" not in err
    assert "tw_start" in err and "id 'depot'" in err and "--time-origin" in err
    assert _solve(clock_csv, "--time-origin", "2026-12-03") == 0


@pytest.mark.parametrize("extra,cell,message", [
    ((), ("tw_start", 2, "9h"), "tw_start at index 2: '9h' is not a time (row 2, id 'b')"),
    ((), ("tw_end", 1, "3600"), "tw_end at index 1: mixes forms"),
    (("--time-origin", "the third"), None, "time_origin: 'the third' is not an ISO 8601 date-time"),
])
def test_cli_bad_times_give_one_line_errors(clock_csv, capsys, extra, cell, message):
    if cell is not None:
        _with(*cell).to_csv(clock_csv / "stops.csv", index=False)
    assert _solve(clock_csv, *extra) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hybridroute: error:") and message in err and "\n" not in err, err


def test_cli_unknown_times_choice_is_a_one_line_usage_error(clock_csv, capsys):
    with pytest.raises(SystemExit) as info:
        _solve(clock_csv, "--times", "hours")
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hybridroute: error: argument --times: invalid choice: 'hours'") and "\n" not in err
