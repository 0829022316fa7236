"""solve_many and compare: order, failure isolation, executors."""

import concurrent.futures as cf

import numpy as np
import pytest

import hybridroute as hr

from batch_helpers import DiesHard, Exploding, FakeBatchSolver, random_problems

_problems = random_problems


def test_serial_keeps_order_and_matches_single_solves():
    problems = _problems(5)
    sols = hr.solve_many(problems, "nearest", executor="serial", progress=False)
    assert [s.problem.name for s in sols] == [p.name for p in problems]
    for p, s in zip(problems, sols):
        assert s.cost == hr.solve(p, "nearest").cost


def test_bad_instance_and_crashing_backend_do_not_lose_the_batch():
    problems = _problems(4)
    boom = problems[2].replace(name="boom")
    batch = [problems[0], "not a problem", boom, problems[3]]
    with cf.ThreadPoolExecutor(2) as pool:
        sols = hr.solve_many(batch, Exploding(), executor=pool, progress=False)
    assert [s.status for s in sols] == [hr.Status.FEASIBLE, hr.Status.NO_SOLUTION,
                                        hr.Status.NO_SOLUTION, hr.Status.FEASIBLE]
    assert "expected a hybridroute.Problem" in sols[1].message
    assert "backend crashed" in sols[2].message
    assert sols[0].cost == hr.evaluate(problems[0], [list(range(1, 8))]).cost


def test_process_pool_matches_serial():
    problems = _problems(4, seed=3)
    serial = hr.solve_many(problems, "nearest", executor="serial", progress=False, starts=3)
    pooled = hr.solve_many(problems, "nearest", max_workers=2, progress=False, starts=3)
    assert [s.routes for s in pooled] == [s.routes for s in serial]


def test_compare_tidy_frame_and_gaps():
    problems = _problems(3)
    df = hr.compare(problems, ["nearest"], time_limits=[0.5, 1.0], seeds=[0, 1], progress=False)
    assert len(df) == 3 * 2 * 2
    assert list(df.columns) == ["instance", "kind", "n", "solver", "budget_s", "seed", "cost", "gap_pct",
                                "runtime_s", "feasible", "status", "num_routes", "message"]
    assert (df["gap_pct"] >= 0).all() and df.groupby("instance")["gap_pct"].min().eq(0).all()
    ref = {p.name: hr.solve(p, "nearest").cost / 2 for p in problems}
    df2 = hr.compare(problems, {"nn": "nearest"}, reference=ref, progress=False)
    assert np.allclose(df2["gap_pct"], 100.0)
    assert set(df2["solver"]) == {"nn"}


def test_compare_reference_length_is_checked():
    with pytest.raises(ValueError, match="reference has 1 values for 2 problems"):
        hr.compare(_problems(2), ["nearest"], reference=[1.0], progress=False)


# -- process pools: failures, dead workers, Ctrl-C --------------------------------------


def test_process_pool_isolates_bad_instance_and_raising_backend():
    problems = _problems(5)
    batch = [problems[0], "not a problem", problems[2].replace(name="boom"), problems[3], problems[4]]
    sols = hr.solve_many(batch, Exploding(), max_workers=2, progress=False)
    assert [s.status for s in sols] == [hr.Status.FEASIBLE, hr.Status.NO_SOLUTION, hr.Status.NO_SOLUTION,
                                        hr.Status.FEASIBLE, hr.Status.FEASIBLE]
    assert "expected a hybridroute.Problem" in sols[1].message
    assert "RuntimeError: backend crashed" in sols[2].message
    for i in (0, 3, 4):
        assert sols[i].routes == ((*range(1, 8),),) and sols[i].problem.name == batch[i].name


@pytest.mark.parametrize("own_pool", [True, False], ids=["own-pool", "caller-pool"])
def test_worker_that_dies_hard_loses_only_its_instance(own_pool):
    problems = _problems(6)
    problems[2] = problems[2].replace(name="die")
    solver = DiesHard(delay=0.2)  # the others are in flight in the other worker when it dies
    if own_pool:
        sols = hr.solve_many(problems, solver, max_workers=2, progress=False)
    else:
        import multiprocessing

        with cf.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
            sols = hr.solve_many(problems, solver, executor=pool, progress=False)
    assert sols[2].status is hr.Status.NO_SOLUTION
    assert "worker process died" in sols[2].message
    for i in (0, 1, 3, 4, 5):
        assert sols[i].status is hr.Status.FEASIBLE, sols[i].message
        assert sols[i].cost == hr.evaluate(problems[i], [list(range(1, 8))]).cost


def _gone(pid: int) -> bool:
    psutil = pytest.importorskip("psutil")

    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_ctrl_c_terminates_the_pool_workers(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    psutil = pytest.importorskip("psutil", reason="psutil lists the worker processes (pip install psutil)")
    tests_dir = Path(__file__).resolve().parent
    script = ("import hybridroute as hr\n"
              "from batch_helpers import Sleepy, random_problems\n"
              "hr.solve_many(random_problems(6), Sleepy(120), max_workers=2, progress=False)\n")
    env = dict(os.environ, HYBRIDROUTE_TEST_MARKERS=str(tmp_path),
               PYTHONPATH=os.pathsep.join([str(tests_dir.parent), str(tests_dir)]))
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, cwd=tests_dir,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    children: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 60  # hang guards, not performance thresholds
        while len(list(tmp_path.glob("started-*"))) < 2:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the workers never started solving"
            time.sleep(0.1)
        children = psutil.Process(proc.pid).children(recursive=True)
        workers = {int(p.name.split("-")[1]) for p in tmp_path.glob("started-*")}
        assert workers <= {c.pid for c in children}
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.monotonic() + 10
        while not all(_gone(c.pid) for c in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        leftover = [c.pid for c in children if not _gone(c.pid)]
    finally:
        # Whatever happened, do not leave sleeping workers behind (they hold our pipes open).
        for c in children + [psutil.Process(proc.pid)] if proc.poll() is None else children:
            try:
                c.kill()
            except psutil.NoSuchProcess:
                pass
        _, err = proc.communicate()
    assert leftover == [], "worker processes outlived the interrupted solve_many"
    assert "KeyboardInterrupt" in err


# -- batched solvers and hybrids -------------------------------------------------------


def test_batched_solver_gets_one_call_and_bad_instances_fail_alone():
    FakeBatchSolver.calls.clear()
    problems = _problems(3, n=6) + _problems(2, n=9, seed=1)
    vrp = hr.Problem("ACVRP", np.ones((3, 3)) - np.eye(3), demand=[0, 1, 1], capacity=2, name="vrp")
    batch = problems[:2] + ["not a problem", vrp] + problems[2:]
    sols = hr.solve_many(batch, FakeBatchSolver(), time_limit=2.5, seed=7, progress=False)
    assert FakeBatchSolver.calls == [dict(count=5, time_limit=2.5, seed=7, progress=False,
                                          sizes=[6, 6, 6, 9, 9])]
    assert [s.status for s in sols] == [hr.Status.FEASIBLE] * 2 + [hr.Status.NO_SOLUTION] * 2 + [hr.Status.FEASIBLE] * 3
    assert "expected a hybridroute.Problem" in sols[2].message
    assert "does not support ACVRP" in sols[3].message
    assert all(s.stats["path"] == "batch" for s in sols if s.is_feasible)


def test_failing_batch_is_bisected_down_to_the_bad_instance():
    FakeBatchSolver.calls.clear()
    problems = _problems(6)
    problems[1] = problems[1].replace(name="poison")
    sols = hr.solve_many(problems, FakeBatchSolver(), progress=False)
    # [0..5] fails -> [0,1,2] fails -> [0] ok, [1,2] fails -> [1] fails, [2] ok; [3,4,5] ok
    assert [c["count"] for c in FakeBatchSolver.calls] == [6, 3, 1, 2, 1, 1, 3]
    assert sols[1].status is hr.Status.NO_SOLUTION and "ValueError: poisoned batch" in sols[1].message
    assert [s.stats["path"] for i, s in enumerate(sols) if i != 1] == ["batch"] * 5


def test_hybrid_runs_its_first_stage_in_process_and_matches_per_instance_solves():
    from hybridroute.solvers.hybrid import Hybrid

    from batch_helpers import Polish

    # gate off: these first stages are deliberately poor, and this test is about the hand-over
    hybrid = Hybrid(FakeBatchSolver(), Polish(), split=0.2, gate=False)
    problems = _problems(4)
    with cf.ThreadPoolExecutor(2) as pool:
        sols = hr.solve_many(problems, hybrid, time_limit=5.0, executor=pool, progress=False)
    for p, sol in zip(problems, sols):
        single = hybrid.solve(p, time_limit=5.0)
        assert sol.solver == single.solver == "fake-batch+polish"
        assert sol.routes == single.routes and sol.cost == single.cost
        assert set(single.stats) <= set(sol.stats)
        assert sol.stats["first_in_process"] and sol.stats["time_limit"] == 5.0
        assert sol.stats["first_solver"] == "fake-batch" and sol.stats["then_solver"] == "polish"
        assert sol.stats["initial_accepted"] and sol.stats["then_stats"]["got_initial"]
        assert 0 < sol.stats["then_stats"]["time_limit"] <= 5.0
        assert sol.runtime >= sol.stats["first_runtime"]


def test_solve_batch_gets_only_the_keywords_it_accepts():
    from batch_helpers import SeedOnlyBatchSolver

    FakeBatchSolver.calls.clear()
    sols = hr.solve_many(_problems(3), SeedOnlyBatchSolver(), time_limit=3.0, seed=4, progress=False)
    assert [(c["count"], c["seed"], c["time_limit"]) for c in FakeBatchSolver.calls] == [(3, 4, None)]
    assert all(s.stats["path"] == "batch" for s in sols)


@pytest.fixture
def tiny_rrnco_checkpoint(tmp_path):
    """An untrained, tiny ATSP policy saved as a checkpoint (the shapes, not the quality, matter)."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("safetensors")
    from hybridroute.neural.checkpoint import save_checkpoint
    from hybridroute.neural.policy import ModelConfig, RRNCOPolicy

    torch.manual_seed(0)
    model = RRNCOPolicy(ModelConfig("ATSP", embed_dim=16, num_layers=1, ff_hidden=32, num_heads=4, sample_k=5))
    return save_checkpoint(model.eval(), tmp_path / "tiny-atsp.safetensors", {"n": 8, "training": {"steps": 0}})


def test_rrnco_batches_in_process_and_its_hybrid_fans_out_the_improver(tiny_rrnco_checkpoint, monkeypatch):
    from hybridroute.solvers.hybrid import Hybrid
    from hybridroute.solvers.rrnco_solver import RRNCO

    rrnco = RRNCO(checkpoint=str(tiny_rrnco_checkpoint), augment=1, device="cpu")
    calls = []
    original = RRNCO.solve_batch

    def counting(self, ps, seed=0):
        calls.append(len(ps))
        return original(self, ps, seed)

    monkeypatch.setattr(RRNCO, "solve_batch", counting)
    problems = _problems(3, n=8) + _problems(3, n=10, seed=1)
    sols = hr.solve_many(problems, rrnco, seed=1, progress=False)
    assert calls == [6] and all(s.is_feasible and s.solver == "rrnco" for s in sols)
    assert [sorted(s.routes[0]) for s in sols] == [list(range(1, p.num_nodes)) for p in problems]

    hybrid = Hybrid(rrnco, "pyvrp", split=0.1, then_settings={"max_iterations": 30}, gate=False)
    mixed = problems + [hr.Problem("ACVRP", np.ones((3, 3)) - np.eye(3), demand=[0, 1, 1], capacity=2)]
    out = hr.solve_many(mixed, hybrid, time_limit=20.0, seed=1, executor="serial", progress=False)
    assert calls == [6]  # the first stages ran one by one, each within its share of the limit
    # as Hybrid.solve, which raises when its first stage does
    assert out[-1].status is hr.Status.NO_SOLUTION and out[-1].solver == "rrnco+pyvrp"
    assert out[-1].message.startswith("UnsupportedProblemError: checkpoint tiny-atsp.safetensors is for ATSP")
    with pytest.raises(hr.UnsupportedProblemError):
        hybrid.solve(mixed[-1])
    for sol in out[:-1]:
        assert sol.solver == "rrnco+pyvrp" and sol.stats["first_in_process"]
        assert sol.stats["first_stats"]["augment"] >= 1  # a neural start, not a fallback
        assert sol.stats["then_solver"] == "pyvrp" and sol.stats["initial_accepted"]
        assert sol.stats["then_stats"]["iterations"] == 30
        assert sol.cost <= sol.stats["first_cost"] and sol.runtime <= 20.0 * 1.1 + 0.5


def test_rrnco_keeps_a_per_instance_time_limit_in_solve_many(tiny_rrnco_checkpoint):
    """A batched pass has a fixed effort (5 s per instance at ACVRP n = 200): with a time
    limit every instance is decoded within it by the anytime decoder instead."""
    from hybridroute.solvers.base import allowed_runtime
    from hybridroute.solvers.rrnco_solver import RRNCO

    rrnco = RRNCO(checkpoint=str(tiny_rrnco_checkpoint), augment=8, device="cpu")
    problems = _problems(3, n=8)
    timed = hr.solve_many(problems, rrnco, time_limit=2.0, seed=1, progress=False)
    assert all(s.is_feasible and s.runtime <= allowed_runtime(2.0) for s in timed)
    assert all("stopped" in s.stats and "first_pass_s" in s.stats for s in timed)  # the anytime decoder
    batched = hr.solve_many(problems, rrnco, seed=1, progress=False)
    assert not any("stopped" in s.stats for s in batched)


# -- many instances in and out: DataFrames and folders -----------------------------------


def _city_vrps(count=3, n=6):
    from hybridroute.osrm import sample_instances

    return sample_instances("Helsinki", "ACVRPTW", n, count, seed=2)


def test_solutions_to_dataframe_is_one_long_frame_with_an_instance_column():
    problems = _city_vrps()
    sols = hr.solve_many(problems, "nearest", executor="serial", progress=False)
    sols.insert(1, hr.Solution.no_solution(problems[0].replace(name="failed"), "x", "boom"))
    df = hr.solutions_to_dataframe(sols)
    assert list(df.columns) == ["instance"] + list(sols[0].to_dataframe().columns)
    assert list(dict.fromkeys(df["instance"])) == [p.name for p in problems]  # the failed one has no rows
    for p, sol in zip(problems, [sols[0]] + sols[2:]):
        part = df[df["instance"] == p.name].drop(columns="instance").reset_index(drop=True)
        assert part.equals(sol.to_dataframe())
        assert part["leg_distance"].sum() == pytest.approx(sol.distance)
    labelled = hr.solutions_to_dataframe(sols, instances=[10, 11, 12, 13])
    assert list(dict.fromkeys(labelled["instance"])) == [10, 12, 13]
    with pytest.raises(ValueError, match="instances has 1 labels for 4 solutions"):
        hr.solutions_to_dataframe(sols, instances=[1])
    with pytest.raises(ValueError, match="'p0' is not unique; pass instances="):
        hr.solutions_to_dataframe(hr.solve_many(_problems(2) * 2, "nearest", executor="serial", progress=False))
    empty = hr.solutions_to_dataframe([sols[1]])
    assert len(empty) == 0 and list(empty.columns) == list(df.columns)


def test_problems_from_dataframe_round_trips_many_instances():
    import pandas as pd

    from hybridroute.frames import matrix_to_dataframe
    from hybridroute.osrm import bundled_city

    problems = _city_vrps()
    stops = pd.concat([p.to_dataframe().assign(instance=p.name) for p in problems], ignore_index=True)
    dist = {p.name: p.distance for p in problems}
    dur = {p.name: matrix_to_dataframe(p, "duration") for p in problems}  # id-indexed form too
    back = hr.problems_from_dataframe(stops, distance=dist, duration=dur, capacity=problems[0].capacity)
    assert [b.name for b in back] == [p.name for p in problems]
    for p, b in zip(problems, back):
        assert np.array_equal(b.distance, p.distance) and np.array_equal(b.duration, p.duration)
        assert np.array_equal(b.demand, p.demand) and np.array_equal(b.time_windows, p.time_windows)
        assert b.capacity == p.capacity and list(b.ids) == list(p.ids)
    # one id-indexed matrix shared by all instances (a city's), per-instance capacities
    city = bundled_city("Helsinki")
    ids = pd.Index(range(city.size))
    shared = pd.DataFrame(city.distance * 1000.0, index=ids, columns=ids)
    atsp = stops.drop(columns=["demand", "is_depot", "tw_start", "tw_end", "service_time"])
    tsps = hr.problems_from_dataframe(atsp, distance=shared, kind="ATSP")
    assert [t.kind for t in tsps] == [hr.ProblemKind.ATSP] * 3
    assert np.allclose(tsps[1].distance, problems[1].distance)
    caps = {p.name: 50 + i for i, p in enumerate(problems)}
    vrps = hr.problems_from_dataframe(stops.drop(columns=["tw_start", "tw_end", "service_time"]),
                                      distance=dist, capacity=caps)
    assert [v.capacity for v in vrps] == [50, 51, 52]


def test_problems_from_dataframe_errors_name_instance_and_frame_row():
    import pandas as pd

    problems = _city_vrps()
    stops = pd.concat([p.to_dataframe().assign(instance=p.name) for p in problems], ignore_index=True)
    dist = {p.name: p.distance for p in problems}
    kw = dict(distance=dist, duration={p.name: p.duration for p in problems}, capacity=100)
    bad = stops.copy()
    bad.loc[15, "demand"] = -3  # row 1 of the third instance
    where = r"instance 'Helsinki-ACVRPTW6-2': .*negative \(row 15,"
    with pytest.raises(hr.ProblemValidationError, match=where) as info:
        hr.problems_from_dataframe(bad, **kw)
    assert info.value.field == "demand" and info.value.index == 15
    with pytest.raises(hr.ProblemValidationError, match="no entry for instance 'Helsinki-ACVRPTW6-1'") as info:
        hr.problems_from_dataframe(stops, **{**kw, "distance": {problems[0].name: problems[0].distance}})
    assert info.value.field == "distance"
    with pytest.raises(hr.ProblemValidationError, match="mapping instance -> matrix"):
        hr.problems_from_dataframe(stops, **{**kw, "distance": problems[0].distance})
    with pytest.raises(hr.ProblemValidationError, match="no 'scenario' column"):
        hr.problems_from_dataframe(stops, instance_col="scenario", **kw)
    holes = stops.astype({"instance": object})
    holes.loc[4, "instance"] = None
    with pytest.raises(hr.ProblemValidationError, match=r"missing instance label \(row 4\)"):
        hr.problems_from_dataframe(holes, **kw)


def test_read_problems_reads_a_folder_in_natural_order(tmp_path):
    from hybridroute.formats import FormatError

    problems = _problems(3)
    for i, p in zip((10, 2, 1), problems):
        (tmp_path / f"inst-{i}.json").write_text(p.to_json())
    (tmp_path / "inst-2.sol").write_text("Route #1: 1 2\nCost 3\n")
    (tmp_path / ".hidden.json").write_text("{")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "inst-0.json").write_text(problems[0].to_json())
    got = hr.read_problems(tmp_path)
    assert [g.name for g in got] == ["p2", "p1", "p0"]  # inst-1, inst-2, inst-10
    assert np.array_equal(got[2].distance, problems[0].distance)
    assert len(hr.read_problems(tmp_path, "**/*.json")) == 4
    (tmp_path / "notes.txt").write_text("not an instance\n")
    with pytest.raises(FormatError, match="notes.txt"):
        hr.read_problems(tmp_path)
    assert len(hr.read_problems(tmp_path, errors="skip")) == 3
    with pytest.raises(FileNotFoundError, match=r"no instance files matching '\*.vrp'"):
        hr.read_problems(tmp_path, "*.vrp")


def test_throughput_benchmark_runs_small(tmp_path):
    """benchmarks/throughput.py end to end on a few instances (keeps the script from rotting)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "throughput.py"
    spec = importlib.util.spec_from_file_location("throughput_benchmark", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.main(["--instances", "4", "--n-min", "5", "--n-max", "8", "--workers", "", "--dask-workers", "0",
                "--max-iterations", "20", "--neural-instances", "0", "--out", str(tmp_path)])
    md = (tmp_path / "throughput.md").read_text()
    assert "| serial (in-process) | pyvrp (max_iterations=20) | 1 | 4 |" in md
    import pandas as pd

    df = pd.read_csv(tmp_path / "throughput.csv")
    assert list(df.columns) == bench.COLUMNS and len(df) == 1 and df["failed"].iloc[0] == 0
    problems = bench.make_instances(6, 5, 8, ["ATSP", "ACVRP"], ["Helsinki", "Monaco"], seed=1)
    assert [p.kind.value for p in problems] == ["ATSP", "ACVRP"] * 3
    assert len({p.name for p in problems}) == 6 and all(5 <= p.num_customers + (p.kind.value == "ATSP") <= 8
                                                         for p in problems)


def test_compare_can_return_the_solutions():
    problems = _problems(2)
    df, sols = hr.compare(problems, ["nearest"], seeds=[0, 1], progress=False, return_solutions=True)
    assert len(sols) == len(df)
    assert [s.cost for s in sols] == list(df["cost"])


def test_batched_hybrid_applies_the_same_gate_as_one_solve():
    from batch_helpers import Polish

    from hybridroute.solvers.hybrid import Hybrid

    FakeBatchSolver.calls.clear()
    hybrid = Hybrid(FakeBatchSolver(), Polish(), split=0.2)  # gate on
    problems = _problems(3)
    sols = hr.solve_many(problems, hybrid, time_limit=5.0, executor=None, progress=False)
    ran = [(p, sol) for p, sol in zip(problems, sols) if "first_skipped" not in sol.stats]
    assert ran  # after a refused start the skip rule skips the next ones, as in one-by-one solves
    for p, sol in ran:
        nearest = hr.evaluate(p, hr.solvers.baselines.nearest_neighbour_routes(p))
        refused = sol.stats["first_cost"] > nearest.cost
        assert ("start_gated" in sol.stats) == refused
        assert sol.stats["then_stats"]["got_initial"] is not refused
    for sol in sols:
        if "first_skipped" in sol.stats:
            assert "gate refused" in sol.stats["first_skipped"] and not sol.stats["then_stats"]["got_initial"]
