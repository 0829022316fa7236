"""Solvers for the solve_many tests, in an importable module so that they pickle by reference
into process-pool and Dask workers (classes defined in a test function would not)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

import hybridroute as hr
from hybridroute.solvers.base import SolveOutput, Solver


def identity_tour(problem: hr.Problem) -> list[list[int]]:
    return [list(range(1, problem.num_nodes))]


class Exploding(Solver):
    """Raises on the instance named 'boom' (a failure inside a backend)."""

    name = "exploding"

    def _solve(self, problem, *, time_limit, seed, initial):
        if problem.name == "boom":
            raise RuntimeError("backend crashed")
        return SolveOutput(routes=identity_tour(problem))


class DiesHard(Solver):
    """Kills its worker process (no exception, no cleanup) on the instance named 'die'.

    The other instances sleep ``delay`` seconds so that they are in flight in other workers
    when the pool breaks.
    """

    name = "dies-hard"

    def __init__(self, delay: float = 0.0):
        self.delay = float(delay)

    def _solve(self, problem, *, time_limit, seed, initial):
        if problem.name == "die":
            os._exit(3)
        time.sleep(self.delay)
        return SolveOutput(routes=identity_tour(problem))


class Sleepy(Solver):
    """Writes ``started-<pid>`` into ``$HYBRIDROUTE_TEST_MARKERS`` then sleeps (a slow solve)."""

    name = "sleepy"

    def __init__(self, seconds: float = 60.0):
        self.seconds = float(seconds)

    def _solve(self, problem, *, time_limit, seed, initial):
        markers = os.environ.get("HYBRIDROUTE_TEST_MARKERS")
        if markers:
            Path(markers, f"started-{os.getpid()}").touch()
        time.sleep(self.seconds)
        return SolveOutput(routes=identity_tour(problem))


class FakeBatchSolver(Solver):
    """A solver with ``solve_batch`` (like the neural backend) that records how it was called.

    ``solve_batch`` returns the identity tour for every problem; a problem named 'poison'
    makes the whole batch call fail (as a batched model would on one malformed instance).
    """

    name = "fake-batch"
    supports = frozenset({hr.ProblemKind.ATSP})
    calls: list[dict] = []

    def _solve(self, problem, *, time_limit, seed, initial):
        if problem.name == "poison":
            raise ValueError("poisoned instance")
        return SolveOutput(routes=identity_tour(problem), stats={"path": "single"})

    def solve_batch(self, problems, *, time_limit=None, seed=0, progress=False):
        FakeBatchSolver.calls.append(dict(count=len(problems), time_limit=time_limit, seed=seed,
                                          progress=progress, sizes=[p.num_nodes for p in problems]))
        if any(p.name == "poison" for p in problems):
            raise ValueError("poisoned batch")
        return [self.solve(p, time_limit=time_limit, seed=seed).with_info(stats={"path": "batch"})
                for p in problems]


def random_problems(count: int, n: int = 8, seed: int = 0) -> list[hr.Problem]:
    from support import random_matrix

    rng = np.random.default_rng(seed)
    return [hr.Problem("ATSP", random_matrix(n, rng), name=f"p{i}") for i in range(count)]


class Polish(Solver):
    """An 'improver' that returns its warm start unchanged (the identity tour without one)."""

    name = "polish"
    accepts_initial = True

    def _solve(self, problem, *, time_limit, seed, initial):
        routes = initial if initial is not None else identity_tour(problem)[::-1]
        return SolveOutput(routes=routes, stats={"got_initial": initial is not None,
                                                 "time_limit": time_limit})


class SeedOnlyBatchSolver(FakeBatchSolver):
    """``solve_batch(problems, seed=0)``: no time limit and no progress keyword (like RRNCO's)."""

    name = "seed-only-batch"

    def solve_batch(self, problems, seed=0):
        return super().solve_batch(problems, seed=seed)
