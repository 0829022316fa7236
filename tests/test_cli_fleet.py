"""The command line with a fleet: --vehicles CSV, several depots and optional stops in STOPS.csv."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import hybridroute as hr
from hybridroute.cli import main

from support import random_matrix

# Two depots (rows 1 and 4) and optional stops; times as clock strings.
STOPS = pd.DataFrame({
    "id": [11, 20, 12, 13, 30, 14, 15, 16],
    "demand": [2, 0, 3, 1, 0, 2, 2, 1],
    "tw_start": ["08:00", "07:00", "08:00", "08:00", "07:00", "09:00", "08:00", "08:00"],
    "tw_end": ["12:00", "20:00", "17:00", "17:00", "20:00", "17:00", "17:00", "17:00"],
    "service_time": ["00:05"] * 8,
    "is_depot": [False, True, False, False, True, False, False, False],
    "required": ["yes", "", "yes", "no", "", "yes", "no", "yes"],
    "prize": ["", "", "", "100000", "", "", "5", ""],
})
VEHICLES = pd.DataFrame({
    "name": ["van", "truck"],
    "count": [2, 1],
    "capacity": [6, 12],
    "start_depot": [20, 30],
    "end_depot": ["", 20],
    "shift_start": ["07:30", ""],
    "shift_end": ["18:00", ""],
    "fixed_cost": [50, 200],
})


@pytest.fixture
def fleet_csv(tmp_path):
    rng = np.random.default_rng(3)
    ids = STOPS["id"].tolist()
    d = random_matrix(len(ids), rng, scale=4000.0).round(1)
    STOPS.to_csv(tmp_path / "stops.csv", index=False)
    VEHICLES.to_csv(tmp_path / "vehicles.csv", index=False)
    pd.DataFrame(d, index=ids, columns=ids).to_csv(tmp_path / "dist.csv")
    pd.DataFrame((d / 10).round(1), index=ids, columns=ids).to_csv(tmp_path / "dur.csv")
    args = [str(tmp_path / "stops.csv"), "--matrix", str(tmp_path / "dist.csv"), "--duration-matrix",
            str(tmp_path / "dur.csv"), "--vehicles", str(tmp_path / "vehicles.csv")]
    return tmp_path, args


def _problem(path) -> hr.Problem:
    """The instance the CLI builds from the fixture's files."""
    from hybridroute.cli import _read_matrix

    stops = pd.read_csv(path / "stops.csv")
    return hr.Problem.from_dataframe(stops, _read_matrix(str(path / "dist.csv"), stops["id"].dtype),
                                     _read_matrix(str(path / "dur.csv"), stops["id"].dtype, "duration"),
                                     vehicles=pd.read_csv(path / "vehicles.csv"))


def _fleet_solver(problem: hr.Problem) -> str:
    """An installed backend that honours every feature of ``problem``, or skip."""
    from hybridroute.solvers import installed_solvers, solver_class

    for name in ("pyvrp", "ortools", "vroom", *installed_solvers()):
        if name in installed_solvers():
            cls = solver_class(name)
            if problem.features <= cls.features and problem.kind in cls.supports:
                return name
    pytest.skip(f"no installed backend declares the features {sorted(problem.features)}")


def test_the_cli_reads_the_same_fleet_as_the_library(fleet_csv):
    path, _ = fleet_csv
    p = _problem(path)
    assert p.num_depots == 2 and p.ids.tolist()[:2] == [20, 30]
    assert [vt.name for vt in p.vehicle_types] == ["van", "truck"]
    assert [(vt.start_depot, vt.end) for vt in p.vehicle_types] == [(0, 0), (1, 0)]
    assert p.optional.tolist() == [p.index_of(13), p.index_of(15)]


def test_solve_with_a_vehicles_csv_then_explain(fleet_csv, capsys):
    path, args = fleet_csv
    problem = _problem(path)
    solver = _fleet_solver(problem)
    out, summary = path / "routes.csv", path / "summary.csv"
    rc = main(["solve", *args, "--solver", solver, "-t", "1", "-o", str(out), "--summary", str(summary)])
    assert rc == 0, capsys.readouterr().err
    routes = pd.read_csv(out)
    served = routes[routes["stop"] == "visit"]
    # every required stop once; the optional one with a huge prize is served too
    assert sorted(served["id"]) == sorted(set(served["id"])) and {11, 12, 13, 14, 16} <= set(served["id"])
    unserved = routes[routes["stop"] == "unserved"]
    assert set(unserved["id"]) == {15} - set(served["id"]) and unserved["route"].isna().all()
    depots = {"van": (20, 20), "truck": (30, 20)}
    for r, rows in routes.dropna(subset=["route"]).groupby("route"):
        (kind,) = set(rows["vehicle_type"])
        assert (rows["id"].iloc[0], rows["id"].iloc[-1]) == depots[kind]
    s = pd.read_csv(summary)
    assert set(s["vehicle_type"]) <= {"van", "truck"}
    assert s["fixed_cost"].tolist() == [{"van": 50.0, "truck": 200.0}[t] for t in s["vehicle_type"]]
    capsys.readouterr()
    # explain reads the routes back with their vehicle types
    rc = main(["explain", *args, "--routes", str(out), "-o", str(path / "why.csv")])
    assert rc == 0, capsys.readouterr().err
    why = pd.read_csv(path / "why.csv").set_index("id")
    type_index = {"van": 0, "truck": 1}
    for _, row in served.iterrows():
        assert why.loc[row["id"], "status"] == "served"
        assert why.loc[row["id"], "vehicle_type"] == type_index[row["vehicle_type"]]
    assert (why.loc[list(unserved["id"]), "status"] == "left out").all()


def test_explain_with_a_vehicles_csv_before_solving(fleet_csv, capsys):
    _, args = fleet_csv
    assert main(["explain", *args]) == 0, capsys.readouterr().err
    text = capsys.readouterr().out
    assert "servable" in text and "16" in text


def test_vehicles_number_still_caps_the_routes(tmp_path, capsys):
    rng = np.random.default_rng(1)
    ids = list(range(100, 107))
    stops = pd.DataFrame({"id": ids, "demand": [0, 1, 1, 1, 1, 1, 1]})
    stops.to_csv(tmp_path / "stops.csv", index=False)
    pd.DataFrame(random_matrix(7, rng), index=ids, columns=ids).to_csv(tmp_path / "d.csv")
    rc = main(["solve", str(tmp_path / "stops.csv"), "--matrix", str(tmp_path / "d.csv"), "--capacity", "3",
               "--vehicles", "2", "--solver", "nearest", "--summary", str(tmp_path / "s.csv")])
    assert rc == 0, capsys.readouterr().err
    summary = pd.read_csv(tmp_path / "s.csv")
    assert len(summary) == 2 and summary["vehicle_type"].tolist() == [0, 0]
    assert main(["solve", str(tmp_path / "stops.csv"), "--matrix", str(tmp_path / "d.csv"), "--capacity", "3",
                 "--vehicles", "2.5", "--solver", "nearest"]) == 2
    assert "whole number of routes" in capsys.readouterr().err


@pytest.mark.parametrize("mutate, message", [
    (lambda v: v.assign(capacity=[6, "big"]), "vehicles.capacity at index 1: 'big' is not a number"),
    (lambda v: v.assign(start_depot=[20, 12]), "vehicles.start_depot at index 1: 12 is the id of a stop"),
    (lambda v: v.assign(shift_end=["25:61", ""]), "vehicles.shift_end at index 0"),
    (lambda v: v.assign(name=["van", "van"]), "vehicles.name at index 1"),
])
def test_vehicles_csv_errors_name_the_file_line_and_column(fleet_csv, capsys, mutate, message):
    path, args = fleet_csv
    mutate(VEHICLES.copy()).to_csv(path / "vehicles.csv", index=False)
    rc = main(["solve", *args, "--solver", "nearest"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "\n" not in err
    index = int(message.split("at index ")[1][0])
    assert err.startswith(f"hybridroute: error: vehicles {path / 'vehicles.csv'}, line {index + 2}: ")
    assert message in err, err


def test_vehicles_csv_with_capacity_or_missing_is_refused(fleet_csv, capsys):
    path, args = fleet_csv
    assert main(["solve", *args, "--capacity", "5", "--solver", "nearest"]) == 2
    assert "drop --capacity" in capsys.readouterr().err
    (path / "vehicles.csv").unlink()
    assert main(["solve", *args, "--solver", "nearest"]) == 2
    assert "vehicles file not found" in capsys.readouterr().err


def test_one_source_of_matrices(fleet_csv, capsys):
    path, args = fleet_csv
    rc = main(["solve", *args, "--osm", str(path / "none.osm.pbf"), "--solver", "nearest"])
    assert rc == 2 and "--matrix or --osm" in capsys.readouterr().err
    rc = main(["solve", str(path / "stops.csv"), "--osm", str(path / "none.osm.pbf"), "--vehicles",
               str(path / "vehicles.csv"), "--solver", "nearest"])
    assert rc == 2 and "OSM extract not found" in capsys.readouterr().err


def test_explain_refuses_an_unknown_vehicle_type_in_the_routes_csv(fleet_csv, capsys):
    path, args = fleet_csv
    pd.DataFrame({"route": [0, 0], "vehicle_type": ["van", "bus"], "stop": ["visit", "visit"],
                  "id": [11, 12]}).to_csv(path / "routes.csv", index=False)
    assert main(["explain", *args, "--routes", str(path / "routes.csv")]) == 2
    err = capsys.readouterr().err
    assert "line 3: vehicle_type 'bus' is not a vehicle type" in err and "'van', 'truck'" in err
