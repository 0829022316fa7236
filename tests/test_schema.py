"""JSON problem and solution files (hybridroute.schema): round trips, the JSON Schema, errors
with field paths, and the CLI's schema / solve problem.json."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

import hybridroute as hr
from hybridroute.cli import main
from hybridroute.schema import (ProblemJSONError, ProblemModel, SolutionModel, json_schema,
                                read_problem_json)

from support import random_matrix


# -- problems to round-trip ---------------------------------------------------------------


def _clock_tw_problem() -> hr.Problem:
    rng = np.random.default_rng(21)
    n = 8
    d = random_matrix(n, rng)
    opens = np.r_[6 * 3600, 8 * 3600 + 900 * rng.integers(0, 8, n - 1)]
    tw = np.c_[opens, np.r_[np.inf, opens[1:] + 5400]]
    svc = np.r_[0, np.full(n - 1, 300.0)]
    return hr.Problem("ACVRPTW", d, d / 10, demand=np.r_[0, rng.integers(1, 4, n - 1)], capacity=9, num_vehicles=4,
                      time_windows=tw, service_time=svc, time_origin="2026-12-03 00:00", time_format="clock",
                      ids=[f"s{k}" for k in range(n)], name="clock")


def _fleet_problem() -> hr.Problem:
    rng = np.random.default_rng(22)
    n = 10
    d = random_matrix(n, rng)
    types = [
        hr.VehicleType(count=2, capacity=10, start_depot=0, end_depot=1, shift=(0, 30000), fixed_cost=50,
                       breaks=[(10, 5000, 300)], name="van"),
        hr.VehicleType(count=None, capacity=15.5, start_depot=1, max_duration=20000, max_distance=1e5,
                       shift=(100, np.inf)),
    ]
    tw = np.c_[np.zeros(n), np.r_[np.inf, 1e5, np.full(n - 2, 2e4)]]
    return hr.Problem("ACVRPTW", d, d / 10, demand=np.r_[0, 0, rng.integers(1, 5, n - 2)], num_depots=2,
                      vehicle_types=types, required=[True] * 6 + [False] * 4, prize=[0] * 6 + [100, 200, 300.5, 0],
                      time_windows=tw, service_time=np.r_[0, 0, np.full(n - 2, 60.5)],
                      ids=[10, 20, 1, 2, 3, 4, 5, 6, 7, 8], objective="duration")


@pytest.fixture(params=["atsp", "acvrp", "acvrptw_clock", "fleet"])
def problem(request, atsp10, acvrp12):
    return {"atsp": lambda: atsp10, "acvrp": lambda: acvrp12, "acvrptw_clock": _clock_tw_problem,
            "fleet": _fleet_problem}[request.param]()


def test_round_trip_through_json_text_and_file(problem, tmp_path):
    text = ProblemModel.from_problem(problem).to_json()
    assert json.loads(text)["format"] == "hybridroute.problem/2"
    back = read_problem_json(text)
    assert back == problem
    assert back.vehicle_types == problem.vehicle_types and back.num_depots == problem.num_depots
    assert back.features == problem.features
    path = tmp_path / "problem.json"
    ProblemModel.from_problem(problem).to_json(path)
    assert read_problem_json(path) == problem
    assert read_problem_json(str(path)) == problem


def test_clock_times_are_written_as_clock_strings_and_read_back():
    p = _clock_tw_problem()
    data = json.loads(ProblemModel.from_problem(p).to_json())
    stop = data["stops"][1]
    assert re.fullmatch(r"\d\d:\d\d:00", stop["tw_start"]) and stop["service"] == "00:05:00"
    assert "tw_end" not in data["stops"][0]  # an open depot window: no end
    assert data["time_origin"].startswith("2026-12-03T00:00")
    back = read_problem_json(json.dumps(data))
    assert back.time_format == "clock" and back == p
    # HH:MM without seconds, and hours past 24
    data["stops"][1].update(tw_start="08:30", tw_end="26:00")
    back = read_problem_json(json.dumps(data))
    assert back.time_windows[1].tolist() == [8.5 * 3600, 26 * 3600]


def test_fleet_written_with_depot_ids_and_names():
    data = json.loads(ProblemModel.from_problem(_fleet_problem()).to_json())
    van, other = data["vehicles"]
    assert van == {"name": "van", "count": 2, "capacity": 10, "start_depot": 10, "end_depot": 20,
                   "shift_start": 0.0, "shift_end": 30000.0, "fixed_cost": 50.0,
                   "breaks": [{"earliest": 10.0, "latest": 5000.0, "duration": 300.0}]}
    assert other["count"] is None and other["start_depot"] == 20 and "end_depot" not in other
    assert "shift_end" not in other  # an open shift end: left out
    assert [s.get("required", True) for s in data["stops"]] == [True] * 6 + [False] * 4
    assert data["stops"][8]["prize"] == 300.5


def test_depots_come_first_and_ids_are_kept():
    # the depot is the third stop in the file; matrices follow the file's order
    d = [[0, 1, 2, 3], [4, 0, 5, 6], [7, 8, 0, 9], [10, 11, 12, 0]]
    text = json.dumps({"kind": "ACVRP", "capacity": 10, "matrices": {"distance": d},
                       "stops": [{"id": "a", "demand": 2}, {"id": "b", "demand": 3}, {"id": "D", "depot": True},
                                 {"id": "c", "demand": 4}]})
    p = read_problem_json(text)
    assert p.ids.tolist() == ["D", "a", "b", "c"] and p.num_depots == 1
    assert p.demand.tolist() == [0, 2, 3, 4] and p.demand.dtype.kind == "i"
    assert p.distance[0].tolist() == [0, 7, 8, 9]  # from D (file row 2) to a, b, c
    assert p.distance[1, 0] == 2 and p.distance[3, 2] == 11


def test_kind_is_inferred_and_defaults_apply():
    d = [[0, 1], [1, 0]]
    atsp = read_problem_json(json.dumps({"stops": [{"id": 0}, {"id": 1}], "matrices": {"distance": d}}))
    assert atsp.kind is hr.ProblemKind.ATSP
    vrp = read_problem_json(json.dumps({"stops": [{"id": 0}, {"id": 1, "demand": 1}], "capacity": 2,
                                        "matrices": {"distance": d}}))
    assert vrp.kind is hr.ProblemKind.ACVRP and vrp.num_vehicles is None
    tw = read_problem_json(json.dumps({"stops": [{"id": 0}, {"id": 1, "tw_end": "10:00"}], "capacity": 2,
                                       "matrices": {"distance": d, "duration": d}}))
    assert tw.kind is hr.ProblemKind.ACVRPTW and tw.time_windows.tolist() == [[0, np.inf], [0, 36000]]


def test_legacy_format_goes_to_problem_from_json(acvrptw12, tmp_path):
    assert read_problem_json(acvrptw12.to_json()) == acvrptw12
    path = tmp_path / "old.json"
    acvrptw12.to_json(str(path))
    assert read_problem_json(path) == acvrptw12


def test_the_documented_example_reads_and_solves():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "json.md").read_text(encoding="utf-8")
    example = re.search(r"```json\n(.*?)```", doc, re.S).group(1)
    p = read_problem_json(example)
    assert p.kind is hr.ProblemKind.ACVRPTW and p.ids[0] == "depot" and p.time_format == "clock"
    assert p.features == {"optional_stops", "shifts", "fixed_costs", "breaks"}
    assert p.vehicle_types[0].breaks[0].duration == 900 and p.prize[3] == 1500
    sol = hr.evaluate(p, [[1, 2]])
    assert sol.unserved == (3,) and sol.cost == pytest.approx(sol.distance + 1000 + 1500)


# -- the JSON Schema ----------------------------------------------------------------------


def _check_keys(obj, schema, defs, path="$"):
    """Every key of ``obj`` is a property of its schema, and every required one is there."""
    if "$ref" in schema:
        schema = defs[schema["$ref"].split("/")[-1]]
    if "anyOf" in schema:
        for option in schema["anyOf"]:
            if option.get("type") == "array" and isinstance(obj, list) or "$ref" in option and isinstance(obj, dict):
                return _check_keys(obj, option, defs, path)
        return
    if isinstance(obj, dict):
        props = schema["properties"]
        assert set(obj) <= set(props), (path, set(obj) - set(props))
        assert set(schema.get("required", ())) <= set(obj), path
        for key, value in obj.items():
            _check_keys(value, props[key], defs, f"{path}.{key}")
    elif isinstance(obj, list) and "items" in schema:
        for k, value in enumerate(obj):
            _check_keys(value, schema["items"], defs, f"{path}[{k}]")


def test_schema_describes_written_files():
    schemas = json_schema()
    assert set(schemas) == {"problem", "solution"}
    problem_schema, solution_schema = schemas["problem"], schemas["solution"]
    assert problem_schema["required"] == ["stops"]
    assert {"required": ["matrices"]} in problem_schema["oneOf"] and {"required": ["osrm"]} in problem_schema["oneOf"]
    defs = problem_schema["$defs"]
    assert defs["StopModel"]["required"] == ["id"] and defs["StopModel"]["additionalProperties"] is False
    assert "metres" in defs["MatricesModel"]["properties"]["distance"]["description"]
    assert solution_schema["required"] == ["status"]
    p = _fleet_problem()
    _check_keys(json.loads(ProblemModel.from_problem(p).to_json()), problem_schema, defs)
    sol = hr.evaluate(p, [[2, 3], [4, 5]], vehicle_types=[0, 1])
    _check_keys(json.loads(SolutionModel.from_solution(sol).to_json()), solution_schema, solution_schema["$defs"])


def test_schema_validates_with_jsonschema_when_installed(acvrptw12):
    jsonschema = pytest.importorskip("jsonschema")
    schemas = json_schema()
    jsonschema.validate(json.loads(ProblemModel.from_problem(_clock_tw_problem()).to_json()), schemas["problem"])
    sol = hr.solve(acvrptw12, "nearest")
    jsonschema.validate(json.loads(SolutionModel.from_solution(sol).to_json()), schemas["solution"])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"stops": [{"id": 1}, {"id": 2}]}, schemas["problem"])


def test_clock_pattern_agrees_with_the_parser():
    from hybridroute.frames import _CLOCK_RE

    pattern = json_schema()["problem"]["$defs"]["StopModel"]["properties"]["tw_start"]["anyOf"][1]["pattern"]
    for text in ["08:30", "8:30", "08:30:15", "26:00", "100:00:00", "08:60", "08:30:60", "8", "08:3", "", "x:00",
                 "08:30:15:00", "-1:00"]:
        assert bool(re.search(pattern, text)) == bool(_CLOCK_RE.fullmatch(text)), text


# -- errors with field paths --------------------------------------------------------------


def _base() -> dict:
    """A valid ACVRP file with the depot second (file positions differ from node indices)."""
    d = [[0, 5, 6, 7], [8, 0, 9, 10], [11, 12, 0, 13], [14, 15, 16, 0]]
    return {"format": "hybridroute.problem/2", "kind": "ACVRP", "capacity": 10, "matrices": {"distance": d},
            "stops": [{"id": "a", "demand": 2}, {"id": "D", "depot": True}, {"id": "b", "demand": 3},
                      {"id": "c", "demand": 4}]}


def _set(path, value):
    def mutate(data):
        *head, last = path
        target = data
        for key in head:
            target = target[key]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value
    return mutate


_DELETE = object()


@pytest.mark.parametrize("mutate, path, words", [
    (_set(("stops", 2, "demand"), "x"), "stops.2.demand", "expected a number"),
    (_set(("stops", 2, "demand"), True), "stops.2.demand", "expected a number"),
    (_set(("stops", 1, "colour"), 1), "stops.1.colour", "unknown key (known: id, lat"),
    (_set(("colour",), 1), "colour", "unknown key"),
    (_set(("osrm",), {"url": "http://127.0.0.1:5000"}), "osrm", "not both"),
    (_set(("matrices",), _DELETE), "matrices", "missing"),
    (_set(("stops", 3, "id"), "a"), "stops.3.id", "duplicate id 'a' (first at stops.0)"),
    (_set(("matrices", "distance", 2, 1), True), "matrices.distance.2.1", "valid number"),
    (_set(("matrices", "distance", 1), [1, 0, 2]), "matrices.distance.1", "has 3 entries, expected 4"),
    (_set(("stops", 2, "tw_start"), "08:00"), "stops.2.tw_start", "not used by ACVRP"),
    (_set(("format",), "hybridroute.problem/9"), "format", "hybridroute.problem/2"),
    (_set(("vehicles",), [{"capacity": 10, "start_depot": "a"}]), "vehicles.0.start_depot", "not the id of a depot"),
    (_set(("vehicles",), [{"capacity": 10, "colour": 1}]), "vehicles.0.colour", "unknown key"),
    # found by Problem, reported at the stop's position in the file (the depot is second)
    (_set(("stops", 0, "demand"), 99), "stops.0.demand", "exceeds the vehicle capacity 10 (stop 'a')"),
    (_set(("matrices", "distance", 0, 0), 3), "matrices.distance.0.0", "diagonal"),
    (_set(("matrices", "distance", 0, 2), -1), "matrices.distance.0.2", "greater than or equal to 0"),
    (_set(("stops", 1, "required"), False), "stops.1.required", "a depot cannot be optional"),
    (_set(("stops", 0, "lat"), 60.0), "stops.0.lon", "give lat and lon together"),
])
def test_bad_input_names_the_field_path(mutate, path, words):
    data = _base()
    read_problem_json(json.dumps(data))  # the base is valid
    mutate(data)
    with pytest.raises(ProblemJSONError) as err:
        read_problem_json(json.dumps(data))
    msg = str(err.value)
    assert isinstance(err.value, ValueError) and "\n" not in msg and "Traceback" not in msg
    assert msg.startswith("JSON text: ")
    paths = dict(err.value.errors)
    assert path in paths, (path, msg)
    assert words in paths[path], msg


def test_breaks_and_shift_errors_name_the_vehicle_field():
    data = _base()
    data.update(kind="ACVRPTW", capacity=None, vehicles=[{"capacity": 10, "breaks": [
        {"earliest": "10:00", "latest": "09:00", "duration": 600}]}])
    del data["capacity"]
    data["matrices"]["duration"] = data["matrices"]["distance"]
    with pytest.raises(ProblemJSONError, match=r"vehicles\.0\.breaks\.0\.latest: .*before earliest"):
        read_problem_json(json.dumps(data))
    data["vehicles"] = [{"capacity": 10, "shift_start": "10:00", "shift_end": "09:00"}]
    with pytest.raises(ProblemJSONError, match=r"vehicles\.0\.shift_end: .*before the earliest start"):
        read_problem_json(json.dumps(data))


def test_not_json_and_file_errors(tmp_path):
    with pytest.raises(ProblemJSONError, match=r"JSON text: line 1, column \d+: not valid JSON"):
        read_problem_json('{"stops": [')
    with pytest.raises(ProblemJSONError, match="expected a JSON object"):
        read_problem_json("[1, 2]")
    with pytest.raises(FileNotFoundError):
        read_problem_json(tmp_path / "missing.json")
    path = tmp_path / "bad.json"
    data = _base()
    data["stops"][2]["demand"] = -1
    path.write_text(json.dumps(data))
    with pytest.raises(ProblemJSONError, match=rf"^{re.escape(str(path))}: stops\.2\.demand: "):
        read_problem_json(path)


def test_atsp_refuses_vrp_fields():
    data = {"kind": "ATSP", "stops": [{"id": 0}, {"id": 1, "demand": 2}], "matrices": {"distance": [[0, 1], [1, 0]]}}
    with pytest.raises(ProblemJSONError, match=r"stops\.1\.demand: is not used by ATSP"):
        read_problem_json(json.dumps(data))


# -- OSRM as the matrix source ------------------------------------------------------------


class _StubOSRM(hr.osrm.OSRMClient):
    """Answers table() from the coordinates, recording what was asked."""

    def __init__(self):
        super().__init__("http://stub.invalid")
        self.asked = None

    def table(self, coords, **kwargs):
        self.asked = (np.asarray(coords), kwargs)
        lat = np.asarray(coords)[:, 0]
        dist = np.abs(lat[:, None] - lat[None]) * 1e5 + (lat[:, None] < lat[None]) * 7.0
        np.fill_diagonal(dist, 0.0)
        return SimpleNamespace(distance=dist, duration=dist / 10)


def test_osrm_source_fetches_matrices_in_node_order():
    data = {"kind": "ACVRP", "capacity": 10, "osrm": {"url": "http://127.0.0.1:5000", "profile": "car"},
            "stops": [{"id": "a", "lat": 60.01, "lon": 24.0, "demand": 1}, {"id": "D", "lat": 60.0, "lon": 24.0,
                                                                             "depot": True},
                      {"id": "b", "lat": 60.03, "lon": 24.0, "demand": 1}]}
    stub = _StubOSRM()
    p = read_problem_json(json.dumps(data), client=stub)
    coords, kwargs = stub.asked
    assert coords[:, 0].tolist() == [60.0, 60.01, 60.03]  # the depot first
    assert kwargs["protect"] == [0]
    assert p.ids.tolist() == ["D", "a", "b"]
    assert p.distance[0, 1] == pytest.approx(0.01 * 1e5 + 7) and p.duration is not None
    model = ProblemModel.model_validate(data)
    assert model.osrm.profile == "car" and model.osrm.timeout == 60.0
    del data["stops"][2]["lat"], data["stops"][2]["lon"]
    with pytest.raises(ProblemJSONError, match=r"stops\.2\.lat: needed to ask OSRM"):
        read_problem_json(json.dumps(data), client=stub)


# -- solutions ----------------------------------------------------------------------------


def test_solution_json_names_types_depots_breaks_and_unserved():
    p = _fleet_problem()
    sol = hr.evaluate(p, [[2, 3], [4, 5, 6]], vehicle_types=[0, 1])
    model = SolutionModel.from_solution(sol)
    data = json.loads(model.to_json())
    assert data["format"] == "hybridroute.solution/2" and data["status"] == sol.status.value
    van, other = data["routes"]
    assert van["vehicle_type"] == "van" and other["vehicle_type"] == 1  # unnamed: its index
    assert (van["start_depot"], van["end_depot"]) == (10, 20) and other["start_depot"] == 20
    assert van["stops"] == [1, 2] and other["stops"] == [3, 4, 5]
    assert van["arrival"] == pytest.approx(sol.route_stats[0].arrival.tolist())
    assert [b["duration"] for b in van["breaks"]] == [300.0]
    assert data["unserved"] == [6, 7, 8] and data["unserved_prize"] == pytest.approx(sol.unserved_prize)
    assert data["cost"] == pytest.approx(sol.cost) and data["fixed_cost"] == 50.0
    assert SolutionModel.model_validate_json(model.to_json()) == model


def test_solution_json_clock_times_and_violations():
    p = _clock_tw_problem()
    sol = hr.solve(p, "nearest")
    data = json.loads(SolutionModel.from_solution(sol).to_json())  # the problem's times were clock times
    assert data["time_format"] == "clock"
    assert all(re.fullmatch(r"\d\d:\d\d:\d\d", t) for r in data["routes"] for t in r["arrival"] + r["departure"])
    assert json.loads(SolutionModel.from_solution(sol, time_format="seconds").to_json())["routes"][0]["arrival"][0] \
        == pytest.approx(sol.route_stats[0].arrival[0])
    bad = hr.evaluate(p, [[1, 2]])
    data = json.loads(SolutionModel.from_solution(bad).to_json())
    assert data["status"] == "infeasible"
    missing = [v for v in data["violations"] if v["kind"] == "missing_visit"]
    assert missing and missing[0]["stop"] == "s3"
    none = json.loads(SolutionModel.from_solution(hr.Solution.no_solution(p, "x", "failed")).to_json())
    assert none["status"] == "no_solution" and none.get("cost") is None and none.get("routes", []) == []


# -- CLI ----------------------------------------------------------------------------------


def test_cli_schema(tmp_path, capsys):
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == json_schema()
    out = tmp_path / "problem.schema.json"
    assert main(["schema", "--what", "problem", "-o", str(out)]) == 0
    assert json.loads(out.read_text()) == json_schema()["problem"]
    with pytest.raises(SystemExit) as exit_:
        main(["schema", "--what", "route"])
    assert exit_.value.code == 2 and "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize("solver", ["nearest", "pyvrp"])
def test_cli_solve_problem_json_writes_solution_json(tmp_path, capsys, solver):
    if solver not in hr.installed_solvers():
        pytest.skip(f"{solver} is not installed")
    p = _clock_tw_problem()
    src, out = tmp_path / "problem.json", tmp_path / "solution.json"
    ProblemModel.from_problem(p).to_json(src)
    rc = main(["solve", str(src), "--solver", solver, "-t", "1", "-o", str(out), "--times", "input"])
    assert rc == 0, capsys.readouterr().err
    sol = SolutionModel.model_validate_json(out.read_text())
    visited = sorted(s for r in sol.routes for s in r.stops)
    assert visited == sorted(p.ids[1:].tolist()) and sol.solver == solver and sol.time_format == "clock"
    # the CSV output still works for a JSON problem
    assert main(["solve", str(src), "--solver", "nearest", "-o", str(tmp_path / "routes.csv")]) == 0


def test_cli_bad_problem_json_is_one_line_with_paths(tmp_path, capsys):
    data = _base()
    data["stops"][2]["demand"] = "x"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    assert main(["solve", str(path), "--solver", "nearest"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hybridroute: error:") and "stops.2.demand" in err and "\n" not in err
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_base()))
    assert main(["solve", str(good), "--solver", "nearest", "--capacity", "5"]) == 2
    assert "--capacity" in capsys.readouterr().err


# -- presets and imports ------------------------------------------------------------------


@pytest.mark.parametrize("text, key", [
    ('backend = "nearest"\ntime_limit = true\n', "time_limit"),
    ('backend = "nearest"\ntime_limit = inf\n', "time_limit"),
    ('backend = 3\n', "backend"),
    ('backend = "nearest"\ndescription = 3\n', "description"),
])
def test_preset_model_refuses_wrong_types(tmp_path, text, key):
    from hybridroute.presets import PresetError, load_preset

    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(PresetError) as err:
        load_preset(path)
    assert str(path) in str(err.value) and repr(key) in str(err.value)


def test_import_does_not_load_pydantic():
    code = ("import sys, hybridroute as hr, hybridroute.cli; hr.presets.list_presets(); "
            "assert 'pydantic' not in sys.modules; "
            "from hybridroute.schema import read_problem_json; assert 'pydantic' in sys.modules")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr


def test_model_from_python_data():
    model = ProblemModel.model_validate(_base())
    assert model.problem_kind is hr.ProblemKind.ACVRP
    p = model.to_problem()
    assert ProblemModel.from_problem(p).to_problem() == p
