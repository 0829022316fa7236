"""Solving many instances: ``solve_many`` (process pool, Dask, batched neural) and ``compare``.

Each task runs in a worker and always comes back: an instance that fails (bad data, a crash
inside a backend, a worker that dies) yields a Solution with status NO_SOLUTION carrying the
error message, never a lost batch.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing
import os
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from .problem import Problem
from .solution import Solution
from .solvers.base import Solver, get_solver

__all__ = ["solve_many", "compare", "SolveTask"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SolveTask:
    """One independent solve: everything a worker needs (picklable)."""

    problem: Any
    solver: str | Solver
    settings: tuple[tuple[str, Any], ...]
    time_limit: float | None
    seed: int
    initial: Any = None


def _solver_label(solver: str | Solver) -> str:
    return solver if isinstance(solver, str) else solver.name


def run_task(task: SolveTask) -> Solution:
    """Run one task; any exception becomes a NO_SOLUTION Solution (never raises)."""
    t0 = time.perf_counter()
    try:
        if not isinstance(task.problem, Problem):
            raise TypeError(f"expected a hybridroute.Problem, got {type(task.problem).__name__}")
        solver = get_solver(task.solver, **dict(task.settings))
        return solver.solve(task.problem, time_limit=task.time_limit, seed=task.seed, initial=task.initial)
    except Exception as exc:  # noqa: BLE001 - the point is to keep the batch alive
        logger.warning("solve failed: %s: %s", type(exc).__name__, exc)
        return _failed(task, f"{type(exc).__name__}: {exc}", time.perf_counter() - t0)


def _failed(task: SolveTask, message: str, runtime: float = 0.0) -> Solution:
    problem = task.problem
    if not isinstance(problem, Problem):
        # A Solution needs a Problem; a placeholder keeps the batch's shape and order.
        problem = Problem("ATSP", np.zeros((2, 2)), name="<invalid>")
    return Solution.no_solution(problem, _solver_label(task.solver), message, runtime=runtime)


def _default_executor(max_workers: int | None) -> cf.Executor:
    # spawn, not fork: a forked worker inherits torch / OpenMP thread pools in a broken state.
    ctx = multiprocessing.get_context("spawn")
    return cf.ProcessPoolExecutor(max_workers=max_workers or os.cpu_count() or 1, mp_context=ctx)


def _as_executor(executor: Any) -> tuple[cf.Executor, bool]:
    """Accept a concurrent.futures Executor or a dask.distributed Client."""
    if hasattr(executor, "get_executor") and not isinstance(executor, cf.Executor):
        return executor.get_executor(), False  # distributed.Client → ClientExecutor
    if hasattr(executor, "submit"):
        return executor, False
    raise TypeError(f"executor must be a concurrent.futures.Executor or a distributed.Client, got {executor!r}")


def _progress(total: int, enabled: bool, desc: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, desc=desc, unit="inst", leave=False)


def _run_tasks(tasks: list[SolveTask], executor: Any, max_workers: int | None, progress: bool,
               desc: str) -> list[Solution]:
    results: list[Solution | None] = [None] * len(tasks)
    if executor == "serial" or (executor is None and (max_workers == 1 or len(tasks) <= 1)):
        with _progress(len(tasks), progress, desc) as bar:
            for i, task in enumerate(tasks):
                results[i] = run_task(task)
                bar.update()
        return results  # type: ignore[return-value]
    own = executor is None
    pool, _ = (_default_executor(max_workers), True) if own else _as_executor(executor)
    futures: dict[cf.Future, int] = {}
    try:
        futures = {pool.submit(run_task, task): i for i, task in enumerate(tasks)}
        with _progress(len(tasks), progress, desc) as bar:
            for fut in cf.as_completed(futures):
                i = futures[fut]
                try:
                    results[i] = fut.result()
                except Exception as exc:  # noqa: BLE001 - a dead worker must not lose the batch
                    results[i] = _failed(tasks[i], f"worker failed: {type(exc).__name__}: {exc}")
                bar.update()
    except KeyboardInterrupt:
        for fut in futures:
            fut.cancel()
        if own:
            _terminate_pool(pool)
        raise
    finally:
        if own:
            pool.shutdown(wait=True, cancel_futures=True)
    return results  # type: ignore[return-value]


def _terminate_pool(pool: cf.Executor) -> None:
    """Kill a process pool's workers now (Ctrl-C must not leave orphans)."""
    procs = getattr(pool, "_processes", None) or {}
    for p in list(procs.values()):
        if p.is_alive():
            p.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


def solve_many(problems: Iterable[Problem], solver: str | Solver = "nearest", *,
               time_limit: float | None = None, seed: int = 0, executor: Any = None,
               max_workers: int | None = None, progress: bool = True,
               **settings: Any) -> list[Solution]:
    """Solve independent instances in parallel; results come back in input order.

    Parameters
    ----------
    problems
        The instances.
    solver
        Registry name or a :class:`Solver` (must be picklable for process pools).
    time_limit
        Seconds per instance.
    seed
        Random seed used for every instance.
    executor
        None: a local process pool (``max_workers`` processes, default one per core), or
        serial when ``max_workers=1``; ``"serial"``; any ``concurrent.futures.Executor``; or
        a ``dask.distributed.Client`` (its workers run the solves).
    progress
        Show a progress bar.
    **settings
        Constructor settings for a named solver.

    Returns
    -------
    list of Solution
        One per problem, in order. A failed instance gives status NO_SOLUTION with the error
        in ``message``.

    Notes
    -----
    Solvers that batch (the neural ``"rrnco"`` backend) solve all instances in one process
    through their ``solve_batch`` method, grouped by size, when no executor is given.
    """
    problems = list(problems)
    if not problems:
        return []
    if executor is None and _batches_natively(solver, settings):
        batch_solver = get_solver(solver, **settings)
        return batch_solver.solve_batch(problems, time_limit=time_limit, seed=seed)
    tasks = [SolveTask(p, solver, tuple(sorted(settings.items())), time_limit, seed) for p in problems]
    return _run_tasks(tasks, executor, max_workers, progress, desc=f"solve {_solver_label(solver)}")


def _batches_natively(solver: str | Solver, settings: Mapping[str, Any]) -> bool:
    try:
        obj = get_solver(solver, **settings)
    except Exception:  # noqa: BLE001 - let the per-task path report the error per instance
        return False
    return callable(getattr(obj, "solve_batch", None))


def _size(problem: Problem) -> int:
    """Instance size as RRNCO counts it: nodes for ATSP, customers for VRPs."""
    return problem.num_nodes if problem.kind.value == "ATSP" else problem.num_customers


def _instance_name(problem: Any, i: int) -> str:
    name = getattr(problem, "name", None)
    return name if name else f"instance-{i}"


def compare(problems: Sequence[Problem], solvers: Sequence[str | Solver] | Mapping[str, str | Solver], *,
            time_limits: Sequence[float] | float = (1.0,), seeds: Sequence[int] | int = (0,),
            reference: Mapping[str, float] | Sequence[float] | None = None, executor: Any = None,
            max_workers: int | None = 1, progress: bool = True):
    """Run every solver × budget × seed on every problem; a tidy DataFrame of the results.

    Parameters
    ----------
    problems
        Instances (their ``name`` labels the rows; unnamed ones get ``instance-<i>``).
    solvers
        Registry names / Solver objects, or a mapping label → solver.
    time_limits
        Budgets in seconds.
    seeds
        Seeds.
    reference
        Known costs per instance (by name, or a sequence aligned with ``problems``); when
        absent the gap is to the best feasible cost found in this comparison.
    executor, max_workers
        As in :func:`solve_many`; the default runs serially so that timings are not
        distorted by solvers competing for cores.

    Returns
    -------
    pandas.DataFrame
        Columns: instance, kind, n, solver, budget_s, seed, cost, gap_pct, runtime_s,
        feasible, status, num_routes, message.
    """
    import pandas as pd

    problems = list(problems)
    labelled = dict(solvers) if isinstance(solvers, Mapping) else {_solver_label(s): s for s in solvers}
    budgets = [float(t) for t in np.atleast_1d(time_limits)]
    seed_list = [int(s) for s in np.atleast_1d(seeds)]
    keys, tasks = [], []
    for i, p in enumerate(problems):
        for label, s in labelled.items():
            for budget in budgets:
                for seed in seed_list:
                    keys.append((i, label, budget, seed))
                    tasks.append(SolveTask(p, s, (), budget, seed))
    sols = _run_tasks(tasks, executor, max_workers, progress, desc="compare")
    rows = []
    for (i, label, budget, seed), sol in zip(keys, sols):
        p = problems[i]
        rows.append(dict(instance=_instance_name(p, i), kind=p.kind.value, n=_size(p), solver=label,
                         budget_s=budget, seed=seed, cost=sol.cost if sol.is_feasible else np.nan,
                         runtime_s=sol.runtime, feasible=sol.is_feasible, status=sol.status.value,
                         num_routes=sol.num_routes, message=sol.message))
    df = pd.DataFrame(rows)
    df.insert(df.columns.get_loc("runtime_s"), "gap_pct", _gaps(df, problems, reference))
    return df


def _gaps(df, problems: Sequence[Problem], reference) -> np.ndarray:
    if reference is None:
        best = df.groupby("instance")["cost"].transform("min")
    elif isinstance(reference, Mapping):
        best = df["instance"].map(reference).astype(float)
    else:
        ref = list(reference)
        if len(ref) != len(problems):
            raise ValueError(f"reference has {len(ref)} values for {len(problems)} problems")
        names = [_instance_name(p, i) for i, p in enumerate(problems)]
        best = df["instance"].map(dict(zip(names, ref))).astype(float)
    return (100.0 * (df["cost"] - best) / best).to_numpy()
