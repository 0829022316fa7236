"""The benchmark scripts' report logic (the scripts themselves are run by hand, not in tests)."""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def ttt():
    return _load("time_to_target")


def _row(solver, seed, budget, cost, *, neural=np.nan, final=None, instance="a"):
    return dict(kind="ACVRP", n=50, instance=instance, solver=solver, seed=seed, budget_s=budget, cost=cost,
                gap_pct=0.0, time_to_target_s=1.0, final_cost=cost if final is None else final, wall_s=budget,
                feasible=np.isfinite(cost), start_accepted=True, neural_cost=neural, neural_s=0.1)


def test_cost_at_and_time_to_read_the_anytime_curve(ttt):
    history = [(0.2, 120.0), (0.9, 110.0), (3.0, 100.0)]
    assert ttt.cost_at(history, 0.1) == np.inf
    assert ttt.cost_at(history, 1.0) == 110.0
    assert ttt.cost_at(history, 5.0) == 100.0
    assert ttt.time_to(history, 110.0) == 0.9
    assert ttt.time_to(history, 90.0) == np.inf


def test_hybrid_checks_pair_runs_by_instance_seed_and_budget(ttt):
    rows = [
        # cold PyVRP: seeds differ by 2 (the noise level), budget 1 s
        _row("pyvrp", 0, 1.0, 100.0), _row("pyvrp", 1, 1.0, 102.0),
        # hybrid: better than cold on seed 0? no, equal; worse by 1 on seed 1? no: better by 1
        _row("rrnco+pyvrp", 0, 1.0, 100.0, neural=130.0), _row("rrnco+pyvrp", 1, 1.0, 101.0, neural=130.0),
        # a run that ended worse than its own neural stage must be counted
        _row("pyvrp", 0, 2.0, 100.0), _row("rrnco+pyvrp", 0, 2.0, 105.0, neural=104.0),
    ]
    out = ttt.hybrid_checks(pd.DataFrame(rows)).set_index("budget_s")
    one, two = out.loc[1.0], out.loc[2.0]
    assert one["pairs"] == 2
    assert one["hybrid better/equal/worse"] == "1/1/0"
    assert one["median Δ vs cold %"] == pytest.approx(-0.5)  # (0 + -1) / 2, best = 100
    assert one["cold seed spread %"] == pytest.approx(2.0)
    assert one["worse than neural"] == 0
    assert two["hybrid better/equal/worse"] == "0/0/1"
    assert two["worse than neural"] == 1


def test_hybrid_checks_count_runs_without_a_solution(ttt):
    rows = [_row("pyvrp", 0, 0.5, 100.0), _row("rrnco+pyvrp", 0, 0.5, np.inf, neural=np.nan)]
    out = ttt.hybrid_checks(pd.DataFrame(rows))
    assert out.loc[0, "no solution"] == 1
    assert np.isnan(out.loc[0, "median Δ vs cold %"])


def test_report_renders_every_solver_and_budget(ttt):
    rows = [_row("pyvrp", 0, b, 100.0 + b) for b in (0.5, 1.0)]
    rows += [_row("rrnco+pyvrp", 0, b, 100.0, neural=120.0) for b in (0.5, 1.0)]
    text = ttt.report(pd.DataFrame(rows), target_pct=1.0)
    assert "gap@0.5s %" in text and "gap@1s %" in text
    assert "rrnco+pyvrp" in text and "## Hybrid checks" in text


def test_report_recomputes_gaps_against_the_best_of_all_merged_rows(ttt):
    # two runs merged: each stored gap_pct against its own best; the report uses the common best
    rows = [_row("pyvrp", 0, 1.0, 100.0), _row("rrnco+pyvrp", 0, 1.0, 110.0, neural=120.0)]
    df = pd.DataFrame(rows).assign(gap_pct=0.0)
    text = ttt.report(df, target_pct=1.0)
    line = next(ln for ln in text.splitlines() if "| rrnco+pyvrp" in ln and "ACVRP" in ln)
    assert "10.00" in line
