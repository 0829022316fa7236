"""examples/dispatch.py end to end on a small day: CSV in, ops sheet, explanation and map out."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

import hybridroute as hr

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "dispatch.py"


@pytest.fixture(scope="module")
def dispatch():
    spec = importlib.util.spec_from_file_location("dispatch_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif("ortools" not in hr.installed_solvers(), reason="needs the ortools extra (breaks)")
def test_dispatch_day_from_csv_to_ops_sheet(dispatch, tmp_path):
    result = dispatch.run(tmp_path, n_stops=12, solver="ortools", time_limit=1.0, plot=False)
    problem, sol = result["problem"], result["solution"]
    assert problem.num_depots == 2 and problem.time_format == "clock"
    assert {"breaks", "optional_stops", "vehicle_types", "multiple_depots", "shifts"} <= problem.features
    # the stop heavier than any vehicle is optional, impossible, and left out
    heavy = problem.num_nodes - 1
    assert heavy in sol.unserved
    assert hr.evaluate(problem, sol.routes, vehicle_types=sol.vehicle_types).cost == pytest.approx(sol.cost)
    assert sol.is_feasible
    why = pd.read_csv(tmp_path / "explain.csv")
    row = why.set_index("id").loc["S12"]
    assert row["status"] == "impossible" and "exceeds the capacity 60" in row["reason"]
    ops = pd.read_csv(tmp_path / "ops.csv")
    assert {"vehicle_type", "arrival", "departure"} <= set(ops.columns)
    assert set(ops["vehicle_type"].dropna()) <= {"van", "truck"}
    assert ops["arrival"].dropna().str.match(r"^2026-12-03 \d\d:\d\d:\d\d$").all()  # date-times: time_origin
    routes = pd.read_csv(tmp_path / "routes.csv")
    assert len(routes) == sol.num_routes
    # a truck route under way at lunch takes its break
    for st in sol.route_stats:
        vt = problem.vehicle_types[st.vehicle_type]
        if vt.name == "truck" and st.start_time < 13 * 3600 and st.end_time > 11.5 * 3600:
            assert len(st.breaks) == 1 and st.breaks[0][2] == 1800.0
