"""Hostile command lines: every failure is one line on stderr and a non-zero exit.

Most cases call :func:`hybridroute.cli.main` in-process; the few that must see the real
stderr of a fresh process (urllib3's retry warnings, logging set up by the command) run
``python -m hybridroute``.
"""

from __future__ import annotations

import importlib
import logging
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import hybridroute as hr
from hybridroute.cli import main
from hybridroute.solvers import base

from support import random_matrix

UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens there
# the module, not the function ``hybridroute.solve`` that shadows it as a package attribute
solve_module = importlib.import_module("hybridroute.solve")


@pytest.fixture
def instance(tmp_path):
    """stops.csv and dist.csv for a 6-stop ACVRP (ids 10, 20, ...)."""
    rng = np.random.default_rng(3)
    n = 6
    ids = [10 * (k + 1) for k in range(n)]
    pd.DataFrame({"id": ids, "lat": 60 + rng.uniform(0, .01, n), "lon": 24 + rng.uniform(0, .01, n),
                  "demand": np.r_[0, np.ones(n - 1, dtype=int)]}).to_csv(tmp_path / "stops.csv", index=False)
    pd.DataFrame(random_matrix(n, rng), index=ids, columns=ids).to_csv(tmp_path / "dist.csv")
    return tmp_path


def _solve_args(path, *extra):
    return ["solve", str(path / "stops.csv"), "--matrix", str(path / "dist.csv"), "--capacity", "10",
            "--solver", "nearest", *extra]


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("hybridroute: error: "), err
    assert "Traceback" not in err
    return lines[0]


def _run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hybridroute", *args], capture_output=True, text=True,
                          timeout=timeout)


# -- --help for every subcommand ---------------------------------------------------------------

@pytest.mark.parametrize("command, usage", [
    ("solve", "usage: hybridroute solve"),
    ("compare", "usage: hybridroute compare"),
    ("solvers", "usage: hybridroute solvers"),
    ("build-city", "extract"),
    ("train", "--config"),
])
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_every_subcommand_has_help(command, usage, flag, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, flag])
    out = capsys.readouterr().out
    assert info.value.code == 0
    assert out.startswith("usage:") and usage in out


def test_global_flags_before_a_delegated_command_still_reach_its_help(capsys):
    with pytest.raises(SystemExit) as info:
        main(["-v", "build-city", "--help"])
    assert info.value.code == 0 and "extract" in capsys.readouterr().out


def test_usage_errors_are_one_line(instance, capsys):
    with pytest.raises(SystemExit) as info:
        main(["solve"])
    assert info.value.code == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "STOPS.csv" in line and "hybridroute solve --help" in line
    with pytest.raises(SystemExit):
        main(["nosuchcommand"])
    assert "invalid choice: 'nosuchcommand'" in _one_error_line(capsys.readouterr().err)
    assert main(_solve_args(instance, "--bogus")) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "unrecognized arguments: --bogus" in line and "hybridroute solve --help" in line


# -- unreachable OSRM ------------------------------------------------------------------------

def test_unreachable_osrm_is_one_line_without_urllib3_noise(instance):
    res = _run("solve", str(instance / "stops.csv"), "--osrm", UNREACHABLE, "--capacity", "10",
               "--solver", "nearest")
    assert res.returncode == 2
    line = _one_error_line(res.stderr)
    assert UNREACHABLE in line and "not reachable" in line
    assert "urllib3" not in res.stderr and "Retrying" not in res.stderr
    assert res.stdout == ""


# -- output paths are checked before solving --------------------------------------------------

@pytest.mark.parametrize("option", ["-o", "--summary"])
def test_output_into_a_missing_folder_fails_before_solving(instance, option, capsys, monkeypatch):
    monkeypatch.setattr(solve_module, "solve", lambda *a, **k: pytest.fail("solved before checking -o"))
    target = instance / "no" / "such" / "routes.csv"
    assert main(_solve_args(instance, option, str(target))) == 2
    cap = capsys.readouterr()
    line = _one_error_line(cap.err)
    assert option in line and str(target) in line and "does not exist" in line
    assert cap.out == ""


def test_output_that_is_a_folder_is_refused(instance, capsys):
    assert main(_solve_args(instance, "-o", str(instance))) == 2
    assert "is a folder" in _one_error_line(capsys.readouterr().err)


def test_compare_output_into_a_missing_folder_fails_before_sampling(tmp_path, capsys, monkeypatch):
    import hybridroute.osrm.cities as cities

    monkeypatch.setattr(cities, "sample_instances", lambda *a, **k: pytest.fail("sampled before checking -o"))
    target = tmp_path / "missing" / "results.csv"
    assert main(["compare", "-n", "5", "--count", "1", "--solvers", "nearest", "-o", str(target)]) == 2
    cap = capsys.readouterr()
    assert "-o/--output" in _one_error_line(cap.err) and cap.out == ""


# -- unknown / uninstalled solvers ----------------------------------------------------------

def test_compare_with_an_unknown_solver_names_it_and_the_known_ones(capsys):
    assert main(["compare", "-n", "5", "--count", "1", "--solvers", "nearest,nosuch", "-t", "0.1"]) == 2
    cap = capsys.readouterr()
    line = _one_error_line(cap.err)
    assert "unknown solver 'nosuch'" in line and "known solvers:" in line
    for name in hr.available_solvers():
        assert name in line
    assert cap.out == ""  # no table of NaNs


def test_uninstalled_solver_is_refused_up_front(instance, capsys, monkeypatch):
    class Missing(base.Solver):
        name = "missing"
        requires = ("hybridroute_no_such_module",)
        extra = "missing"

    monkeypatch.setitem(base._REGISTRY, "missing", Missing)
    assert main(["compare", "-n", "5", "--count", "1", "--solvers", "missing"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "solver 'missing' needs hybridroute_no_such_module" in line and "pip install" in line
    assert main(["solve", str(instance / "stops.csv"), "--matrix", str(instance / "dist.csv"),
                 "--capacity", "10", "--solver", "missing"]) == 2
    assert "solver 'missing' needs" in _one_error_line(capsys.readouterr().err)


def test_unknown_preset_is_one_line(instance, capsys):
    assert main(["solve", str(instance / "stops.csv"), "--matrix", str(instance / "dist.csv"),
                 "--capacity", "10", "--preset", "nosuch/preset"]) == 2
    assert "nosuch/preset" in _one_error_line(capsys.readouterr().err)


# -- bad arguments and bad data ---------------------------------------------------------------

@pytest.mark.parametrize("seed", ["-1", str(2**40)])
def test_bad_seed_is_one_line(instance, capsys, seed, monkeypatch):
    monkeypatch.setattr(solve_module, "solve", lambda *a, **k: pytest.fail("solved with a bad seed"))
    assert main(_solve_args(instance, "--seed", seed)) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert f"error: --seed must be in [0, 2**32) = [0, 4294967295], got {seed}" in line


def test_compare_bad_seeds_fail_before_sampling(capsys, monkeypatch):
    import hybridroute.osrm.cities as cities

    monkeypatch.setattr(cities, "sample_instances", lambda *a, **k: pytest.fail("sampled with a bad seed"))
    assert main(["compare", "--solvers", "nearest", "--seeds", "0,-3"]) == 2
    assert "error: --seeds[1] must be in [0, 2**32)" in _one_error_line(capsys.readouterr().err)


def test_malformed_matrix_file_is_one_line(instance, capsys):
    text = (instance / "dist.csv").read_text().splitlines()
    cells = text[2].split(",")
    cells[1] = "abc"
    text[2] = ",".join(cells)
    (instance / "dist.csv").write_text("\n".join(text) + "\n")
    assert main(_solve_args(instance)) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "distance" in line and "abc" in line


def test_truncated_stops_file_is_one_line(instance, capsys):
    (instance / "stops.csv").write_bytes(b'id,lat,lon\n10,60.0,"24')
    assert main(_solve_args(instance)) == 2
    assert "stops" in _one_error_line(capsys.readouterr().err)


def test_problem_validation_error_is_one_line(instance, capsys):
    pd.read_csv(instance / "stops.csv").assign(demand=50).to_csv(instance / "stops.csv", index=False)
    assert main(_solve_args(instance)) == 2
    assert "demand" in _one_error_line(capsys.readouterr().err)


def test_unsupported_problem_is_one_line(instance, capsys):
    assert main(_solve_args(instance)[:-2] + ["--solver", "lkh"]) == 2
    assert "does not support ACVRP" in _one_error_line(capsys.readouterr().err)


def test_corrupt_extract_is_one_line(tmp_path, capsys):
    pytest.importorskip("osmium")
    bad = tmp_path / "corrupt.osm.pbf"
    bad.write_bytes(np.random.default_rng(0).bytes(3000))
    assert main(["build-city", str(bad), "-o", str(tmp_path), "-n", "5"]) == 2
    _one_error_line(capsys.readouterr().err)


def test_missing_extract_is_one_line(tmp_path, capsys):
    assert main(["build-city", str(tmp_path / "nothing.osm.pbf"), "-n", "5"]) == 2
    assert "nothing.osm.pbf" in _one_error_line(capsys.readouterr().err)


# -- unexpected failures, interrupts, warnings ------------------------------------------------

def test_an_internal_error_is_one_line_with_a_debug_hint(instance, capsys, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("backend exploded\nsecond line")

    monkeypatch.setattr(solve_module, "solve", boom)
    assert main(_solve_args(instance)) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert line == ("hybridroute: error: RuntimeError: backend exploded second line "
                    "(run with --debug for the traceback)")
    assert main(["--debug"] + _solve_args(instance)) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.strip().splitlines()[-1].startswith("hybridroute: error: RuntimeError")


def test_solver_error_has_no_debug_hint(instance, capsys, monkeypatch):
    def fail(*args, **kwargs):
        raise hr.SolverError("pyvrp: the search crashed")

    monkeypatch.setattr(solve_module, "solve", fail)
    assert main(_solve_args(instance)) == 2
    assert _one_error_line(capsys.readouterr().err) == "hybridroute: error: pyvrp: the search crashed"


def test_interrupt_exits_130(instance, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(solve_module, "solve", interrupted)
    assert main(_solve_args(instance)) == 130
    assert capsys.readouterr().err.strip() == "hybridroute: interrupted"


def test_library_warnings_print_as_one_line(instance, capsys, monkeypatch):
    real = solve_module.solve

    def warn_then_solve(*args, **kwargs):
        warnings.warn("unknown column 'TW_Start'\n  (did you mean 'tw_start'?)", UserWarning)
        return real(*args, **kwargs)

    monkeypatch.setattr(solve_module, "solve", warn_then_solve)
    assert main(_solve_args(instance)) == 0
    err = capsys.readouterr().err.strip()
    assert err == "hybridroute: warning: unknown column 'TW_Start' (did you mean 'tw_start'?)"


# -- -v shows progress --------------------------------------------------------------------------

@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_logs_solve_progress(instance, caplog, where):
    args = ["-v"] + _solve_args(instance) if where == "before" else _solve_args(instance) + ["-v"]
    with caplog.at_level(logging.NOTSET):
        assert main(args) == 0
    cli_info = [r.getMessage() for r in caplog.records if r.name == "hybridroute.cli" and r.levelno == logging.INFO]
    assert any(m.startswith("problem: ACVRP, 6 nodes; solving with nearest") for m in cli_info), cli_info
    assert any(m.startswith("solved by nearest") for m in cli_info), cli_info


def test_quiet_by_default(instance, caplog):
    with caplog.at_level(logging.NOTSET):
        assert main(_solve_args(instance)) == 0
    assert not [r for r in caplog.records if r.name.startswith("hybridroute") and r.levelno < logging.WARNING]
    assert logging.getLogger("hybridroute").level == logging.NOTSET  # restored after main


def test_verbose_progress_reaches_stderr_of_the_command(instance):
    res = _run("-v", *_solve_args(instance))
    assert res.returncode == 0, res.stderr
    assert "INFO hybridroute.cli: problem: ACVRP, 6 nodes; solving with nearest" in res.stderr
    res = _run("compare", "-n", "5", "--count", "1", "--solvers", "nearest", "-t", "0.1", "-v")
    assert res.returncode == 0, res.stderr
    assert "INFO hybridroute.cli: comparing nearest on 1 instances" in res.stderr
