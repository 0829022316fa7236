"""The benchmark scripts' report logic (the scripts themselves are run by hand, not in tests)."""

import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
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
    assert one["returned Δ vs cold %"] == pytest.approx(-0.5)  # final costs equal the costs here
    assert one["cold seed spread %"] == pytest.approx(2.0)
    assert one["worse than neural"] == 0
    assert two["hybrid better/equal/worse"] == "0/0/1"
    assert two["worse than neural"] == 1


def test_hybrid_checks_count_runs_without_a_solution(ttt):
    rows = [_row("pyvrp", 0, 0.5, 100.0), _row("rrnco+pyvrp", 0, 0.5, np.inf, neural=np.nan)]
    out = ttt.hybrid_checks(pd.DataFrame(rows))
    assert out.loc[0, "no solution"] == 1
    assert np.isnan(out.loc[0, "median Δ vs cold %"])


def test_hybrid_checks_pair_the_returned_costs_of_runs_that_end_past_the_budget(ttt):
    """VROOM returns a few hundredths of a second past its limit: no cost at the budget on the
    curve, but the returned solutions still pair."""
    rows = [_row("vroom", 0, 1.0, np.inf, final=100.0), _row("rrnco+vroom", 0, 1.0, np.inf, neural=120.0, final=98.0)]
    out = ttt.hybrid_checks(pd.DataFrame(rows))
    assert out.loc[0, "no solution"] == 1 and np.isnan(out.loc[0, "median Δ vs cold %"])
    assert out.loc[0, "returned Δ vs cold %"] == pytest.approx(-200 / 98)  # in % of the best returned, 98


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


# -- classical.py ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def classical():
    return _load("classical")


def _classical_csv(module, path, rows):
    import csv

    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=module.COLUMNS)
        writer.writeheader()
        for r in rows:
            writer.writerow(r)
    return path


def _crow(instance, solver, budget, gap, *, repeat=0, set_="atsp", n=50, routes=1, limit=1,
          feasible=True):
    optimum = 1000.0
    return {"set": set_, "instance": instance, "n": n, "solver": solver, "budget_s": budget,
            "cost": f"{optimum * (1 + gap / 100):g}", "optimum": f"{optimum:g}",
            "gap_pct": f"{gap:.4f}", "feasible": feasible, "num_routes": routes,
            "vehicles_limit": limit, "runtime_s": budget, "status": "feasible", "message": "",
            "repeat": repeat}


def test_classical_check_fails_when_any_repeat_of_an_instance_fails(classical, tmp_path):
    spec = next(s for s in classical.CHECKS if s.name.startswith("ATSP ≤ 100 nodes: OR-Tools"))
    rows = [_crow("ftv55", "ortools", 5, 0.5, repeat=0), _crow("ftv55", "ortools", 5, 2.4, repeat=1),
            _crow("ft53", "ortools", 5, 1.0), _crow("ft53", "ortools", 5, 1.9, repeat=1),
            _crow("ft53", "pyvrp", 5, 9.0), _crow("kro124p", "ortools", 5, 9.0, n=100),
            _crow("ftv170", "ortools", 5, 9.0, n=171), _crow("ft70", "ortools", 10, 9.0, n=70)]
    read = classical.read_rows(_classical_csv(classical, tmp_path / "c.csv", rows))
    picked = spec.rows(read)  # only OR-Tools at 5 s on <= 100 nodes
    assert sorted((r["instance"], r["repeat"]) for r in picked) == [
        ("ft53", 0), ("ft53", 1), ("ftv55", 0), ("ftv55", 1), ("kro124p", 0)]
    name, passing, runs, worst, verdict, detail = classical._check(spec, picked)
    assert (passing, runs, worst, verdict) == ("1/3", 2, "9.00", "FAIL")
    assert "ftv55 ortools 2.40% (repeat 1)" in detail and "kro124p" in detail


def test_classical_check_is_pending_until_every_instance_has_run(classical, tmp_path):
    spec = next(s for s in classical.CHECKS if s.set == "acvrp" and s.budget == 10.0)
    rows = [_crow("A034-02f", "pyvrp", 10, 1.0, set_="acvrp", routes=2, limit=2),
            _crow("A034-04f", "pyvrp", 10, 1.0, set_="acvrp", routes=4, limit=4)]
    read = classical.read_rows(_classical_csv(classical, tmp_path / "c.csv", rows))
    assert classical._check(spec, spec.rows(read))[4] == "pending (2/32 instances so far, all pass)"
    # a route over the fleet limit fails even at a small gap
    over = classical.read_rows(_classical_csv(classical, tmp_path / "d.csv", [
        _crow("A034-02f", "pyvrp", 10, 0.5, set_="acvrp", routes=3, limit=2)]))
    assert classical._check(spec, spec.rows(over))[4] == "FAIL"


def test_classical_plan_repeats_whole_passes_and_checks_pick_their_rows(classical):
    import hybridroute as hr
    from hybridroute import ProblemKind

    atsp = hr.Problem(ProblemKind.ATSP, distance=np.array([[0, 1, 2], [2, 0, 1], [1, 2, 0]], dtype=float))
    small = classical.Instance("atsp", "ftv33", Path("ftv33.atsp"), atsp, 1286.0)
    other = classical.Instance("x", "X-n110-k13", Path("x.vrp"), atsp, 1.0)
    jobs = classical.plan([small], ["pyvrp", "ortools"], [5.0], repeats=2)
    assert [j.key for j in jobs] == [("atsp", "ftv33", "pyvrp", "5", "0"), ("atsp", "ftv33", "ortools", "5", "0"),
                                     ("atsp", "ftv33", "pyvrp", "5", "1"), ("atsp", "ftv33", "ortools", "5", "1")]
    checks = classical.plan_checks([small, other], ["lkh", "pyvrp", "ortools", "vroom"], 1)
    # X-n110-k13 is in no check; VROOM in none; LKH, PyVRP and OR-Tools each once at 5 s
    assert sorted((j.instance.name, j.solver, j.budget_s) for j in checks) == [
        ("ftv33", "lkh", 5.0), ("ftv33", "ortools", 5.0), ("ftv33", "pyvrp", 5.0)]


def test_classical_resume_refuses_a_csv_with_other_columns(classical, tmp_path):
    old = tmp_path / "old.csv"
    old.write_text(",".join(classical.COLUMNS[:-1]) + "\natsp,br17,17,lkh,5,39,39,0,True,1,1,0.1,feasible,\n")
    with pytest.raises(SystemExit, match="columns"):
        classical.done_keys(old)
    new = _classical_csv(classical, tmp_path / "new.csv", [_crow("br17", "lkh", 5, 0.0, repeat=2)])
    assert classical.done_keys(new) == {("atsp", "br17", "lkh", "5", "2")}


def test_classical_report_shows_the_quiet_rerun_first(classical, tmp_path):
    table = _classical_csv(classical, tmp_path / "classical.csv", [_crow("ftv55", "ortools", 5, 2.8)])
    quiet = _classical_csv(classical, tmp_path / "checks.csv",
                           [_crow("ftv55", "ortools", 5, g, repeat=k) for k, g in enumerate((0.0, 1.2, 0.4))])
    md = tmp_path / "classical.md"
    classical.write_report(table, md, checks_csv=quiet)
    text = md.read_text()
    assert text.index("re-run on a quiet machine") < text.index("Issue checks on this table")
    assert "opt … 1.20 (3 runs)" in text  # best and worst of the repeats
    assert "| ATSP ≤ 100 nodes: OR-Tools within 2 % at 5 s | 1/1 | 3 | 1.20 | pending" in text
    assert "ftv55 ortools 2.80%" in text  # the loaded single run stays visible below


def test_neural_eval_runs_side_by_side_keep_each_others_rows(tmp_path):
    neural_eval = _load("neural_eval")
    path = tmp_path / "acvrp_sizes.json"
    small = {"references": {"n20": [1.0]}, "results": {"cand x8": {"n20": {"gap_pct": 2.0}}}}
    large = {"references": {"n500": [5.0]}, "results": {"cand x1": {"n500": {"gap_pct": 9.0}}}}
    neural_eval._merge_into_file(path, small)
    neural_eval._merge_into_file(path, large, run={"command": "--sizes 500", "date": "2026-12-04"})
    whole = neural_eval._merge_into_file(path, small, run={"command": "--sizes 20", "date": "2026-12-04"})
    assert whole["references"] == {"n20": [1.0], "n500": [5.0]}
    assert whole["results"] == {"cand x8": {"n20": {"gap_pct": 2.0}}, "cand x1": {"n500": {"gap_pct": 9.0}}}
    assert [r["command"] for r in whole["runs"]] == ["--sizes 500", "--sizes 20"]


def test_varying_sizes_report_pairs_hybrid_and_cold_by_size_and_seed():
    vs = _load("varying_sizes")
    args = type("Args", (), {"then": "pyvrp"})()

    def row(solver, n, seed, cost, accepted=None, skipped=None, wall=1.0):
        return dict(budget_s=1.0, n=n, seed=seed, solver=solver, cost=cost, feasible=True, wall_s=wall,
                    start_accepted=accepted, first_skipped=skipped)

    rows = [row("pyvrp", 150, 0, 100.0), row("rrnco+pyvrp", 150, 0, 98.0, True, False),
            row("pyvrp", 150, 1, 102.0), row("rrnco+pyvrp", 150, 1, 102.0, False, True, wall=1.3),
            row("pyvrp", 160, 0, 200.0), row("rrnco+pyvrp", 160, 0, 204.0, True, False),
            row("pyvrp", 160, 1, 200.0), row("rrnco+pyvrp", 160, 1, 200.0, False, False)]
    line = vs.report(rows, args).splitlines()[-1]
    cells = [c.strip() for c in line.strip("|").split("|")]
    # differences −2 %, 0, +2 %, 0: median 0; spreads 2 % (n = 150) and 0 (n = 160): median 1 %
    assert cells == ["1", "2 of 4", "1", "+0.00", "1 / 2 / 1", "1.00", "1.30"]


def test_reconstruct_report_pairs_the_two_decodings_by_instance():
    rc = _load("reconstruct")

    def row(variant, instance, cost, gap, rounds=None, wall=1.0):
        return dict(n=100, budget_s=1.0, instance=instance, variant=variant, cost=cost, gap_pct=gap,
                    wall_s=wall, rounds=rounds, starts=32, augment=1)

    rows = [row("reconstruct", 0, 101.0, 1.0, 10), row("plain", 0, 105.0, 5.0),
            row("reconstruct", 1, 103.0, 3.0, 20, wall=1.02), row("plain", 1, 103.0, 3.0),
            row("reconstruct", 2, 108.0, 8.0, 30), row("plain", 2, 104.0, 4.0)]
    line = rc.report(rows, {100: 28.61}).splitlines()[-1]
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells == ["100", "1", "4.00", "20", "4.00", "1 / 1 / 1", "28.61", "1.02"]
    # re-construction alone (--variants reconstruct): no plain column, no pairing
    alone = rc.report([r for r in rows if r["variant"] == "reconstruct"], {100: 28.61}).splitlines()[-1]
    assert [c.strip() for c in alone.strip("|").split("|")] == ["100", "1", "4.00", "20", "—", "—", "28.61", "1.02"]
    with pytest.raises(SystemExit):
        rc.main(["--variants", "reconstruct,greedy"])


def test_pyvrp_budgets_under_two_seconds_run_apart(ttt):
    """Under 2 s PyVRP runs one search, from 2 s on two: a short budget read off a longer run
    would be the better of two searches."""
    assert ttt.budget_runs("pyvrp", [1, 2, 10]) == {1: [1], 10: [2, 10]}
    assert ttt.budget_runs("pyvrp", [0.5, 1]) == {1: [0.5, 1]}
    assert ttt.budget_runs("rrnco", [1, 2, 10]) == {10: [1, 2, 10]}
    assert ttt.budget_runs("ortools", [2, 1]) == {1: [1], 2: [2]}


def test_neural_eval_stores_each_instance_gap_and_pairs_rows_by_instance(tmp_path, capsys):
    neural_eval = _load("neural_eval")
    ref = np.array([100.0, 200.0, 400.0])
    gaps_a = neural_eval.instance_gaps(np.array([101.0, 204.0, np.inf]), ref)
    assert gaps_a == [1.0, 2.0, None]  # infeasible: no gap, and no finite error
    assert neural_eval.standard_error(gaps_a) == math.inf
    a = neural_eval.instance_gaps(np.array([103.0, 210.0, 440.0]), ref)  # 3, 5, 10 %
    b = neural_eval.instance_gaps(np.array([102.0, 208.0, 436.0]), ref)  # 2, 4, 9 %
    data = {"references": {"n3": list(ref)}, "results": {
        "a x8": {"n3": {"gap_pct": 6.0, "gaps_pct": a}}, "b x8": {"n3": {"gap_pct": 5.0, "gaps_pct": b}},
        "old x8": {"n3": {"gap_pct": 7.0}}}, "runs": []}
    # every instance is one point better: the paired difference is exact although the gaps spread
    assert neural_eval.paired_difference(data, "a x8", "b x8", "n3") == (1.0, 0.0)
    assert neural_eval.standard_error(a) == pytest.approx(np.std([3, 5, 10], ddof=1) / math.sqrt(3), abs=1e-6)
    table = neural_eval.report(data, "ACVRP", 10.0, 3)
    assert f"| a x8 | 6.00 ± {neural_eval.standard_error(a):.2f} |" in table
    assert "| old x8 | 7.00 |" in table  # rows written before per-instance gaps keep their mean alone
    path = tmp_path / "acvrp_sizes.json"
    path.write_text(json.dumps(data))
    assert neural_eval.print_paired(path, "a x8", "b x8") == 0
    assert "n = 3: a x8 − b x8: +1.00 ± 0.00 points" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="share no size with per-instance gaps"):
        neural_eval.print_paired(path, "a x8", "old x8")


def test_imitation_probe_trains_on_each_instances_likeliest_order_and_keeps_labels_out(tmp_path):
    torch = pytest.importorskip("torch")
    probe = _load("imitation_probe")
    logp = torch.tensor([[-10.0, -4.0, -6.0], [-3.0, -9.0, -5.0]])   # (B, P) summed over moves
    counted = torch.tensor([[5, 4, 6], [3, 3, 5]])
    assert float(probe.probe_loss(logp, counted, "likeliest")) == pytest.approx((4.0 + 3.0) / (4 + 3))
    assert float(probe.probe_loss(logp, counted, "random")) == pytest.approx(37.0 / 26)
    (tmp_path / "labels").mkdir()
    for i in range(14):
        (tmp_path / "labels" / f"City_n50_{i:03d}.npz").touch()
    (tmp_path / "labels" / "City_n100_000.npz").touch()
    held, train = probe.split_label_files(tmp_path, 50, 2)
    assert [f.name for f in held] == ["City_n50_000.npz", "City_n50_006.npz"]
    assert len(train) == 12 and not set(held) & set(train)
    with pytest.raises(SystemExit, match="needs more than 18"):
        probe.split_label_files(tmp_path, 50, 3)


def test_population_probe_decodes_the_chosen_transforms():
    """``transform_costs`` with transforms 0-3 is ``solve_problems(augment=4)``; with 4-7 it
    decodes other transforms."""
    pytest.importorskip("torch")
    sys.path.insert(0, str(Path(__file__).resolve().parent / "neural"))
    from neural_helpers import synthetic_city, tiny_policy

    import hybridroute.neural.inference as inference
    from hybridroute.osrm.cities import batch_to_problems, sample_batch

    probe = _load("population_probe")
    policy = tiny_policy("ACVRPTW", seed=3)
    problems = batch_to_problems(sample_batch(synthetic_city(4, 40), "ACVRPTW", 9, 3, seed=5))
    first = probe.transform_costs(policy, problems, range(4))
    plain = [s.cost for s in inference.solve_problems(problems, policy, augment=4, seed=0, device="cpu", batch_size=8)]
    np.testing.assert_allclose(first, plain)
    other = probe.transform_costs(policy, problems, range(4, 8))
    assert np.all(np.isfinite(other)) and not np.allclose(other, first)
    assert [label for label, _ in probe.ROWS][:3] == ["base x8", "partner x8", "base 0-3 + base 4-7"]


def test_route_probe_counts_voluntary_returns_and_restores_the_mask():
    """A route that ends while a later customer fits at its end is voluntary; the forced-return
    decoding closes the depot only while the probe runs, and every rollout then returns only
    when no customer fits."""
    pytest.importorskip("torch")
    sys.path.insert(0, str(Path(__file__).resolve().parent / "neural"))
    from neural_helpers import synthetic_city, tiny_policy

    import hybridroute as hr
    from hybridroute.neural.env import RoutingEnv
    from hybridroute.osrm.cities import batch_to_problems, sample_batch

    probe = _load("route_probe")
    dist = np.array([[0, 10, 10, 10], [10, 0, 1, 1], [10, 1, 0, 1], [10, 1, 1, 0]], dtype=float)
    problem = hr.Problem("ACVRP", dist, demand=[0, 1, 1, 1], capacity=2)
    assert probe.voluntary_ends(problem, [[1], [2, 3]]) == 1      # 2 or 3 fits after 1
    assert probe.voluntary_ends(problem, [[1, 2], [3]]) == 0      # the first route is full
    assert probe.route_summary(problem, [[1, 2], [3]]) == {"routes": 2, "fill": 0.75, "capacity_bound": 2}

    policy = tiny_policy("ACVRP", seed=3)
    problems = batch_to_problems(sample_batch(synthetic_city(4, 40), "ACVRP", 12, 3, seed=5))
    original = RoutingEnv.action_mask
    with probe.returns_only_when_stuck():
        assert RoutingEnv.action_mask is not original
        forced = probe.decode(policy, problems)
    assert RoutingEnv.action_mask is original
    for p, sol in zip(problems, forced):
        assert sol.is_feasible and probe.voluntary_ends(p, [list(r) for r in sol.routes]) == 0
