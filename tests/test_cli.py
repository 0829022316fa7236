"""The hybridroute command: CSV in → routes CSV out, and one-line errors for bad input."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import hybridroute as hr
from hybridroute.cli import main

from support import random_matrix


@pytest.fixture
def csv_instance(tmp_path):
    rng = np.random.default_rng(5)
    n = 9
    ids = [100 + 7 * k for k in range(n)]  # integer ids that are not row positions
    d = random_matrix(n, rng)
    stops = pd.DataFrame({"id": ids, "lat": 60 + rng.uniform(0, .01, n), "lon": 24 + rng.uniform(0, .01, n),
                          "demand": np.r_[0, rng.integers(1, 5, n - 1)]})
    stops.to_csv(tmp_path / "stops.csv", index=False)
    order = rng.permutation(n)  # the matrix file lists rows in another order: aligned by id
    pd.DataFrame(d, index=ids, columns=ids).iloc[order].to_csv(tmp_path / "dist.csv")
    return tmp_path, stops, d


def test_solve_round_trip(csv_instance, capsys):
    path, stops, d = csv_instance
    out = path / "routes.csv"
    rc = main(["solve", str(path / "stops.csv"), "--matrix", str(path / "dist.csv"), "--capacity", "10",
               "--solver", "nearest", "-o", str(out), "--summary", str(path / "summary.csv")])
    assert rc == 0
    routes = pd.read_csv(out)
    visits = routes[routes["stop"] == "visit"]
    assert sorted(visits["id"]) == sorted(stops["id"][1:])
    # leg distances in the CSV are the matrix entries looked up by id
    pos = {v: k for k, v in enumerate(stops["id"])}
    for _, r in routes.iterrows():
        if r["stop"] == "start":
            prev = r["id"]
            continue
        assert r["leg_distance"] == pytest.approx(d[pos[prev], pos[r["id"]]])
        prev = r["id"]
    summary = pd.read_csv(path / "summary.csv")
    assert summary["distance"].sum() == pytest.approx(routes["leg_distance"].sum())
    assert "feasible" in capsys.readouterr().out


@pytest.mark.parametrize("mutate, message", [
    (lambda p: (p / "stops.csv").write_text("id,lat\n1,2,3,4\n\"unclosed"), "cannot read stops"),
    (lambda p: pd.read_csv(p / "stops.csv").drop(columns="id").to_csv(p / "stops.csv", index=False),
     "missing column 'id'"),
    (lambda p: (p / "dist.csv").unlink(), "matrix file not found"),
    (lambda p: pd.read_csv(p / "stops.csv").assign(demand=99).to_csv(p / "stops.csv", index=False), "demand"),
])
def test_bad_input_gives_one_line_error(csv_instance, capsys, mutate, message):
    path, _, _ = csv_instance
    mutate(path)
    rc = main(["solve", str(path / "stops.csv"), "--matrix", str(path / "dist.csv"), "--capacity", "10",
               "--solver", "nearest"])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert err.startswith("hybridroute: error:") and message in err and "\n" not in err


def test_unknown_solver_and_missing_matrices(csv_instance, capsys):
    path, _, _ = csv_instance
    assert main(["solve", str(path / "stops.csv"), "--matrix", str(path / "dist.csv"), "--capacity", "10",
                 "--solver", "nope"]) == 2
    assert "known solvers" in capsys.readouterr().err
    assert main(["solve", str(path / "stops.csv"), "--capacity", "10"]) == 2
    assert "--matrix" in capsys.readouterr().err


def test_entry_point_help_and_solvers():
    res = subprocess.run([sys.executable, "-m", "hybridroute", "--help"], capture_output=True, text=True)
    assert res.returncode == 0 and "solve" in res.stdout and "compare" in res.stdout
    res = subprocess.run([sys.executable, "-m", "hybridroute", "solvers"], capture_output=True, text=True)
    assert res.returncode == 0 and "nearest" in res.stdout and "presets:" in res.stdout


def test_compare_on_the_bundled_city(tmp_path, capsys):
    out = tmp_path / "results.csv"
    rc = main(["compare", "--city", "Helsinki", "--kind", "ATSP,ACVRP", "-n", "8", "--count", "2",
               "--solvers", "nearest", "-t", "0.5", "-o", str(out)])
    assert rc == 0
    df = pd.read_csv(out)
    assert len(df) == 4 and set(df["kind"]) == {"ATSP", "ACVRP"} and df["feasible"].all()
    assert "mean_gap_pct" in capsys.readouterr().out
    assert main(["compare", "--city", "Atlantis"]) == 2
    assert "no bundled city" in capsys.readouterr().err


@pytest.fixture
def tw_csv(tmp_path):
    """Depot, a, b: b's window closes at 120 s, so the route a → b is 30 s late at b."""
    ids = ["depot", "a", "b"]
    t = np.array([[0, 100, 100], [100, 0, 50], [100, 50, 0]], dtype=float)
    stops = pd.DataFrame({"id": ids, "demand": [0, 1, 1], "tw_start": [0, 0, 0], "tw_end": [10000, 10000, 120]})
    stops.to_csv(tmp_path / "stops.csv", index=False)
    pd.DataFrame(t, index=ids, columns=ids).to_csv(tmp_path / "dist.csv")
    pd.DataFrame(t, index=ids, columns=ids).to_csv(tmp_path / "dur.csv")
    args = ["explain", str(tmp_path / "stops.csv"), "--matrix", str(tmp_path / "dist.csv"),
            "--duration-matrix", str(tmp_path / "dur.csv"), "--capacity", "5"]
    problem = hr.Problem.from_dataframe(stops, distance=t, duration=t, capacity=5)
    return tmp_path, args, problem


def test_explain_before_and_after_solving(tw_csv, capsys):
    path, args, problem = tw_csv
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and lines[0].split()[:3] == ["id", "node", "status"]  # header, a, b, fleet
    assert lines[2].split()[:3] == ["b", "2", "servable"] and "leaves the depot by 20 s" in lines[2]
    assert lines[3].startswith("fleet: at least 1 vehicle(s) needed")
    # the routes CSV exactly as 'hybridroute solve -o' writes it
    hr.evaluate(problem, [[1, 2]]).to_dataframe().to_csv(path / "routes.csv", index=False)
    assert main(args + ["--routes", str(path / "routes.csv"), "-o", str(path / "why.csv")]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[:3] == ["a", "1", "served"]
    assert lines[2].split()[:4] == ["b", "2", "late", "sequence"]
    assert lines[2].rstrip().endswith("a feasible insertion exists at +50 metres (route 0, position 0)")
    why = pd.read_csv(path / "why.csv")
    assert why["lateness"].tolist() == [0, 30] and why["insertion_cost"].iloc[1] == 50


def test_explain_routes_from_solve(tw_csv, capsys):
    path, args, _ = tw_csv
    solve = ["solve"] + args[1:] + ["--solver", "nearest", "-o", str(path / "routes.csv")]
    assert main(solve) in (0, 1)
    capsys.readouterr()
    assert main(args + ["--routes", str(path / "routes.csv")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out[1:3]] == ["a", "b"]
    assert all(line.split()[2] in ("served", "late") for line in out[1:3])


@pytest.mark.parametrize("routes, message", [
    ("route,sequence,stop\n0,1,visit\n", "needs columns 'route' and 'id'"),
    ("route,sequence,stop,id\n0,1,visit,zz\n", "line 2: id 'zz' is not a stop of the problem"),
    ("route,sequence,stop,id\nx,1,visit,a\n", "line 2: route 'x' is not a route number"),
    ("route,sequence,stop,id\n0,1,visit,a\n0,2,visit,a\n", "node 1 is visited twice"),
])
def test_explain_bad_routes_give_one_line_errors(tw_csv, capsys, routes, message):
    path, args, _ = tw_csv
    (path / "routes.csv").write_text(routes)
    assert main(args + ["--routes", str(path / "routes.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hybridroute: error:") and message in err and "\n" not in err
    assert main(args + ["--routes", str(path / "missing.csv")]) == 2
    assert "routes file not found" in capsys.readouterr().err


def test_solve_warms_the_solver_up_before_the_time_limit_starts(csv_instance, monkeypatch):
    from hybridroute.solvers.baselines import NearestNeighbour

    path, _, _ = csv_instance
    events = []
    real_solve = NearestNeighbour.solve
    monkeypatch.setattr(NearestNeighbour, "warm_up", lambda self, kinds=None: events.append(("warm_up", kinds)))
    monkeypatch.setattr(NearestNeighbour, "solve", lambda self, *a, **k: events.append("solve") or real_solve(self, *a, **k))
    rc = main(["solve", str(path / "stops.csv"), "--matrix", str(path / "dist.csv"), "--capacity", "10",
               "--solver", "nearest", "--time-limit", "1"])
    assert rc == 0
    # a command-line solve is its process's first: imports and models load before the clock
    assert events == [("warm_up", [hr.ProblemKind.ACVRP]), "solve"]
