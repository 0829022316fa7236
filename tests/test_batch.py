"""solve_many and compare: order, failure isolation, executors."""

import concurrent.futures as cf

import numpy as np
import pytest

import hybridroute as hr
from hybridroute.solvers.base import SolveOutput, Solver

from conftest import random_matrix


def _problems(count, n=8, seed=0):
    rng = np.random.default_rng(seed)
    return [hr.Problem("ATSP", random_matrix(n, rng), name=f"p{i}") for i in range(count)]


class Exploding(Solver):
    """Raises on the instance named 'boom' (a worker failure inside a backend)."""

    name = "exploding"

    def _solve(self, problem, *, time_limit, seed, initial):
        if problem.name == "boom":
            raise RuntimeError("backend crashed")
        return SolveOutput(routes=[list(range(1, problem.num_nodes))])


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
