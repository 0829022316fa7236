"""Solving many instances: ``solve_many`` (process pool, Dask, batched neural) and ``compare``.

Each task runs in a worker and always comes back: an instance that fails (bad data, a crash
inside a backend, a worker that dies) yields a Solution with status NO_SOLUTION carrying the
error message, never a lost batch.
"""

from __future__ import annotations

import concurrent.futures as cf
import inspect
import logging
import multiprocessing
import sys
import time
from collections import deque
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from .problem import Problem, ProblemValidationError
from .solution import Solution
from .solvers._backend import usable_cores
from .solvers.base import Solver, check_seed, get_solver, solver_class

__all__ = ["solve_many", "compare", "SolveTask", "solutions_to_dataframe", "problems_from_dataframe",
           "read_problems"]

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


def _failed(task: SolveTask, message: str, runtime: float = 0.0, stats: dict | None = None) -> Solution:
    problem = task.problem
    if not isinstance(problem, Problem):
        # A Solution needs a Problem; a placeholder keeps the batch's shape and order.
        problem = Problem("ATSP", np.zeros((2, 2)), name="<invalid>")
    return Solution.no_solution(problem, _solver_label(task.solver), message, runtime=runtime, stats=stats)


def _worker_count(max_workers: int | None) -> int:
    if max_workers is not None:
        if max_workers < 1:
            raise ValueError(f"max_workers must be >= 1, got {max_workers}")
        return int(max_workers)
    return usable_cores()


def _default_executor(max_workers: int | None) -> cf.ProcessPoolExecutor:
    # spawn, not fork: a forked worker inherits torch / OpenMP thread pools in a broken state.
    ctx = multiprocessing.get_context("spawn")
    return cf.ProcessPoolExecutor(max_workers=_worker_count(max_workers), mp_context=ctx)


def _as_executor(executor: Any) -> cf.Executor:
    """Accept a concurrent.futures Executor or a dask.distributed Client."""
    if hasattr(executor, "get_executor") and not isinstance(executor, cf.Executor):
        return executor.get_executor()  # distributed.Client -> ClientExecutor
    if hasattr(executor, "submit"):
        return executor
    raise TypeError(f"executor must be a concurrent.futures.Executor or a distributed.Client, got {executor!r}")


def _progress(total: int, enabled: bool, desc: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, desc=desc, unit="inst", leave=False)


def _run_tasks(tasks: list[SolveTask], executor: Any, max_workers: int | None, progress: bool,
               desc: str) -> list[Solution]:
    results: list[Solution | None] = [None] * len(tasks)
    with _progress(len(tasks), progress, desc) as bar:
        if (isinstance(executor, str) and executor == "serial") or (executor is None and (max_workers == 1 or len(tasks) <= 1)):
            for i, task in enumerate(tasks):
                results[i] = run_task(task)
                bar.update()
        elif executor is None:
            workers = min(_worker_count(max_workers), len(tasks))
            _ProcessPoolRunner(tasks, results, bar, workers).run(range(len(tasks)))
        elif isinstance(executor, cf.ProcessPoolExecutor):
            workers = getattr(executor, "_max_workers", None) or _worker_count(None)
            _ProcessPoolRunner(tasks, results, bar, workers, pool=executor).run(range(len(tasks)))
        else:
            _run_on_executor(tasks, results, bar, _as_executor(executor))
    return results  # type: ignore[return-value]


def _run_on_executor(tasks: list[SolveTask], results: list, bar, pool: cf.Executor) -> None:
    """Threads, Dask (which retries a task whose worker died and reports only the culprit), ..."""
    futures: dict[cf.Future, int] = {}
    try:
        futures = {pool.submit(run_task, task): i for i, task in enumerate(tasks)}
        for fut in cf.as_completed(futures):
            i = futures[fut]
            try:
                results[i] = fut.result()
            except Exception as exc:  # noqa: BLE001 - a dead worker must not lose the batch
                results[i] = _failed(tasks[i], f"worker failed: {type(exc).__name__}: {exc}")
            bar.update()
    except BaseException:  # Ctrl-C included: do not leave queued solves behind
        for fut in futures:
            fut.cancel()
        raise


class _ProcessPoolRunner:
    """Runs tasks on a process pool; survives a worker that dies hard.

    When a worker process dies (a segfault in a backend, ``os._exit``, the OOM killer) the
    pool is broken and *every* unfinished future fails with ``BrokenProcessPool``. To keep the
    other results, at most ``2 * workers`` tasks are in flight at once; after a break those in
    flight are suspects, and each is rerun alone on a fresh pool: the one that breaks it
    again is reported NO_SOLUTION, the others get their real result. A pool passed in by the
    caller is used until it breaks, then replaced by a private one (shut down at the end).
    """

    def __init__(self, tasks: list[SolveTask], results: list, bar, workers: int,
                 pool: cf.ProcessPoolExecutor | None = None):
        self.tasks, self.results, self.bar, self.workers = tasks, results, bar, workers
        self.owned = pool is None
        self.pool = pool if pool is not None else _default_executor(workers)
        self.window = 2 * workers
        self._suspects: list[int] = []

    def run(self, indices: Iterable[int]) -> None:
        try:
            self._run(deque(indices))
        except BaseException:  # Ctrl-C included: kill our workers now, do not wait for them
            if self.owned:
                _terminate_pool(self.pool)
            raise
        finally:
            if self.owned:
                self.pool.shutdown(wait=True, cancel_futures=True)

    def _run(self, pending: deque[int]) -> None:
        inflight: dict[cf.Future, int] = {}
        while pending or inflight:
            broken = self._fill(pending, inflight)
            if inflight and not broken:
                done, _ = cf.wait(inflight, return_when=cf.FIRST_COMPLETED)
                broken = any([self._collect(f, inflight.pop(f)) for f in done])
            if broken:
                suspects = self._drain(inflight)
                self._replace_pool()
                for i in suspects:
                    self._isolate(i)

    def _fill(self, pending: deque[int], inflight: dict[cf.Future, int]) -> bool:
        while pending and len(inflight) < self.window:
            i = pending.popleft()
            try:
                inflight[self.pool.submit(run_task, self.tasks[i])] = i
            except BrokenProcessPool:
                pending.appendleft(i)
                return True
        return False

    def _collect(self, fut: cf.Future, i: int) -> bool:
        """Store the result of a finished future; True when it failed because the pool broke."""
        exc = fut.exception()
        if isinstance(exc, BrokenProcessPool):
            self._suspects.append(i)
            return True
        if exc is not None:
            self.results[i] = _failed(self.tasks[i], f"worker failed: {type(exc).__name__}: {exc}")
        else:
            self.results[i] = fut.result()
        self.bar.update()
        return False

    def _drain(self, inflight: dict[cf.Future, int]) -> list[int]:
        """Wait out the futures of a broken pool; those that did not finish are suspects."""
        for fut in list(inflight):
            cf.wait([fut])
            self._collect(fut, inflight.pop(fut))
        suspects, self._suspects = sorted(self._suspects), []
        logger.warning("a worker process died; rerunning %d in-flight instance(s) one at a time",
                       len(suspects))
        return suspects

    def _replace_pool(self) -> None:
        if self.owned:
            _terminate_pool(self.pool)
        self.pool, self.owned = _default_executor(self.workers), True

    def _isolate(self, i: int) -> None:
        """Rerun one suspect alone: if the pool breaks again, this instance is the culprit."""
        try:
            fut = self.pool.submit(run_task, self.tasks[i])
            cf.wait([fut])
            died = isinstance(fut.exception(), BrokenProcessPool)
        except BrokenProcessPool as exc:
            fut, died = exc, True
        if not died:
            self._collect(fut, i)
            return
        self._suspects = []
        self.results[i] = _failed(self.tasks[i], "worker process died while solving this instance "
                                                 "(BrokenProcessPool: a crash or os._exit in the backend, "
                                                 "or the process was killed)" + _guard_hint())
        self.bar.update()
        self._replace_pool()


def _guard_hint() -> str:
    """When the caller is a script: the usual cause of every worker dying at start."""
    main = sys.modules.get("__main__")
    if getattr(main, "__file__", None) is None:
        return ""
    return (f"; if {Path(main.__file__).name} calls solve_many/compare at module level, put the call "
            "under `if __name__ == \"__main__\":` (the pool's workers are spawned and re-import the script)")


def _terminate_pool(pool: cf.Executor) -> None:
    """Kill a process pool's workers now (Ctrl-C must not leave orphans)."""
    procs = list((getattr(pool, "_processes", None) or {}).values())
    for p in procs:
        if p.is_alive():
            p.terminate()
    for p in procs:
        p.join(timeout=5.0)
        if p.is_alive():
            p.kill()
            p.join(timeout=5.0)
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
        Random seed used for every instance, an integer in ``[0, 2**32)``.
    executor
        None: a local process pool (``max_workers`` processes, default one per core), or
        serial when ``max_workers=1``; ``"serial"``; any ``concurrent.futures.Executor``; or
        a ``dask.distributed.Client`` (its workers run the solves).
    max_workers
        Processes of the local pool; default: the CPUs this process may use.
    progress
        Show a progress bar.
    **settings
        Constructor settings for a named solver.

    Returns
    -------
    list of Solution
        One per problem, in order. A failed instance gives status NO_SOLUTION with the error
        in ``message``: bad input, an exception in the backend, or a worker process that died
        (only the instance that killed it is lost; the others in flight are rerun).

    Raises
    ------
    UnknownSolverError
        When ``solver`` is a name no backend is registered under (before anything is solved).
    TypeError, ValueError
        When ``seed`` is not an integer in ``[0, 2**32)``.

    Notes
    -----
    Solvers that batch (the neural ``"rrnco"`` backend, through its ``solve_batch`` method)
    solve all instances in this process when no executor is given: one model load, instances
    of equal size stacked into tensor batches by the backend; ``time_limit`` stays a
    per-instance budget (the neural backend then decodes each instance within it). A
    :class:`~hybridroute.solvers.hybrid.Hybrid` whose first stage batches runs every first
    stage here, one instance after the other with the hybrid's own share, gate and skip rules,
    and fans the improvers out on ``executor``.

    On Ctrl-C (KeyboardInterrupt) the queued solves are cancelled and the workers of the
    process pool that ``solve_many`` created are terminated before the exception propagates;
    a caller's executor is left to the caller (its queued futures are cancelled).
    """
    seed = check_seed(seed)
    _check_solver_name(solver, "solver")
    problems = list(problems)
    if not problems:
        return []
    obj = _resolve(solver, settings)
    if obj is not None and _first_stage_batches(obj):
        return _solve_hybrid_batched(obj, problems, time_limit=time_limit, seed=seed, executor=executor,
                                     max_workers=max_workers, progress=progress)
    if executor is None and obj is not None and _has_solve_batch(obj):
        return _solve_batched(obj, problems, time_limit=time_limit, seed=seed, progress=progress)
    tasks = [SolveTask(p, solver, tuple(sorted(settings.items())), time_limit, seed) for p in problems]
    return _run_tasks(tasks, executor, max_workers, progress, desc=f"solve {_solver_label(solver)}")


def _check_solver_name(solver: Any, what: str) -> None:
    """Refuse an unknown solver name or a non-solver up front (a typo must not cost a batch).

    A missing optional dependency is left to each task: the workers of a remote executor
    may have it when this process does not.
    """
    if isinstance(solver, str):
        solver_class(solver)  # UnknownSolverError naming the known solvers
    elif not isinstance(solver, Solver):
        raise TypeError(f"{what} must be a solver name or a Solver, got {type(solver).__name__} {solver!r}")


def _seed_list(seeds: Any) -> list[int]:
    items = [seeds] if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable) else list(seeds)
    return [check_seed(s, f"seeds[{k}]") for k, s in enumerate(items)]


def _resolve(solver: str | Solver, settings: Mapping[str, Any]) -> Solver | None:
    try:
        return get_solver(solver, **settings)
    except Exception:  # noqa: BLE001 - let the per-task path report the error per instance
        return None


def _has_solve_batch(obj: Any) -> bool:
    return callable(getattr(obj, "solve_batch", None))


def _first_stage_batches(obj: Solver) -> bool:
    from .solvers.hybrid import Hybrid

    if not isinstance(obj, Hybrid):
        return False
    first = obj.first if isinstance(obj.first, Solver) else _resolve(obj.first, obj.first_settings)
    return first is not None and _has_solve_batch(first)


# -- batched solvers (the neural backend) ------------------------------------------------


def _split_valid(solver: Solver, problems: list[Any]) -> tuple[list[int], dict[int, Solution]]:
    """Indices of the problems ``solver`` accepts, and NO_SOLUTION results for the others."""
    valid, failed = [], {}
    for i, p in enumerate(problems):
        try:
            solver.check_problem(p)
        except Exception as exc:  # noqa: BLE001 - one bad instance must not stop the batch
            failed[i] = _failed(SolveTask(p, solver, (), None, 0), f"{type(exc).__name__}: {exc}")
        else:
            valid.append(i)
    return valid, failed


def _call_solve_batch(solver: Solver, problems: list[Problem], *, time_limit: float | None, seed: int,
                      progress: bool) -> list[Solution]:
    """``solver.solve_batch`` with the keywords it accepts (``time_limit``, ``progress`` optional)."""
    kwargs: dict[str, Any] = {"seed": seed}
    try:
        params = inspect.signature(solver.solve_batch).parameters
    except (TypeError, ValueError):  # not introspectable: pass only the seed
        params = {}
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    for key, value in (("time_limit", time_limit), ("progress", progress)):
        if key in params or takes_any:
            kwargs[key] = value
    sols = list(solver.solve_batch(problems, **kwargs))
    if len(sols) != len(problems):
        raise RuntimeError(f"{solver.name}.solve_batch returned {len(sols)} solutions for {len(problems)} problems")
    return sols


def _solve_batched(solver: Solver, problems: list[Any], *, time_limit: float | None, seed: int,
                   progress: bool) -> list[Solution]:
    """All instances through ``solver.solve_batch`` in this process (one model load).

    One call per problem kind (a neural checkpoint is per kind); the backend stacks instances
    of equal size into tensor batches itself, and ``time_limit`` keeps its per-instance
    meaning. Instances the solver refuses fail one by one up front; if a batched call
    raises, the batch is split in halves and retried, so the error ends up on the instance
    that causes it while the others are still solved in batches.
    """
    valid, failed = _split_valid(solver, problems)
    results: list[Solution | None] = [failed.get(i) for i in range(len(problems))]
    by_kind: dict[Any, list[int]] = {}
    for i in valid:
        by_kind.setdefault(problems[i].kind, []).append(i)
    for idx in by_kind.values():
        sols = _batch_or_bisect(solver, [problems[i] for i in idx], time_limit=time_limit, seed=seed,
                                progress=progress)
        for i, sol in zip(idx, sols):
            results[i] = sol
    return results  # type: ignore[return-value]


def _batch_or_bisect(solver: Solver, problems: list[Problem], *, time_limit: float | None, seed: int,
                     progress: bool) -> list[Solution]:
    t0 = time.perf_counter()
    try:
        return _call_solve_batch(solver, problems, time_limit=time_limit, seed=seed, progress=progress)
    except Exception as exc:  # noqa: BLE001 - find the failing instance, keep the others
        message = f"{type(exc).__name__}: {exc}"
        if len(problems) == 1:
            logger.warning("%s failed on %s: %s", solver.name, problems[0].name or "an instance", message)
            return [_failed(SolveTask(problems[0], solver, (), time_limit, seed), message,
                            time.perf_counter() - t0, stats={"error": type(exc).__name__})]
        logger.warning("%s.solve_batch failed on %d instances (%s); splitting the batch",
                       solver.name, len(problems), message)
    mid = len(problems) // 2
    kw = dict(time_limit=time_limit, seed=seed, progress=progress)
    return (_batch_or_bisect(solver, problems[:mid], **kw) + _batch_or_bisect(solver, problems[mid:], **kw))


def _solve_hybrid_batched(hybrid: Any, problems: list[Any], *, time_limit: float | None, seed: int,
                          executor: Any, max_workers: int | None, progress: bool) -> list[Solution]:
    """A Hybrid whose first stage batches: every first stage here (one model load), the
    improvers fanned out on ``executor``.

    Per instance as :meth:`Hybrid.solve`: :meth:`Hybrid.first_stage` runs (or skips) the first
    stage with the hybrid's share, gate and skip rules, which learn from each instance in turn;
    the improver gets the rest of that instance's ``time_limit`` with the start the gate let
    through, and the result is never worse than the first stage's routes. ``runtime`` is the
    instance's first stage plus its improver, so each keeps the time-limit contract.
    """
    from .solvers.base import solution_from_output
    from .solvers.hybrid import _MIN_IMPROVER_SECONDS, skipped_output

    limit = float(time_limit) if time_limit is not None else hybrid.default_time_limit
    valid, failed = _split_valid(hybrid, problems)
    results: list[Solution | None] = [failed.get(i) for i in range(len(problems))]
    stages = {}
    with _progress(len(valid), progress, f"first stage of {hybrid.name}") as bar:
        for i in valid:
            t0 = time.perf_counter()
            try:
                stages[i] = hybrid.first_stage(problems[i], time_limit=limit, seed=seed)
            except Exception as exc:  # noqa: BLE001 - Hybrid.solve would raise: this instance fails alone
                results[i] = _failed(SolveTask(problems[i], hybrid, (), time_limit, seed),
                                     f"{type(exc).__name__}: {exc}", time.perf_counter() - t0)
            bar.update()
    then_settings = () if isinstance(hybrid.then, Solver) else tuple(sorted(hybrid.then_settings.items()))
    tasks = [SolveTask(problems[i], hybrid.then, then_settings,
                       limit if st.skipped is not None else max(limit - st.seconds, _MIN_IMPROVER_SECONDS),
                       seed, initial=st.handed) for i, st in stages.items()]
    finals = _run_tasks(tasks, executor, max_workers, progress, desc=f"solve {hybrid.name}")
    for (i, st), final in zip(stages.items(), finals):
        out = skipped_output(st, final) if st.skipped is not None else hybrid.combine(st, final)
        out.stats.update(first_in_process=True, time_limit=limit)
        results[i] = solution_from_output(hybrid.name, problems[i], out, st.seconds + final.runtime)
    return results  # type: ignore[return-value]


def _instance_name(problem: Any, i: int) -> str:
    name = getattr(problem, "name", None)
    return name if name else f"instance-{i}"


def compare(problems: Sequence[Problem], solvers: Sequence[str | Solver] | Mapping[str, str | Solver], *,
            time_limits: Sequence[float] | float = (1.0,), seeds: Sequence[int] | int = (0,),
            reference: Mapping[str, float] | Sequence[float] | None = None, executor: Any = None,
            max_workers: int | None = 1, progress: bool = True, return_solutions: bool = False,
            warm_up: bool = True):
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
        Seeds, integers in ``[0, 2**32)``.
    reference
        Known costs per instance (by name, or a sequence aligned with ``problems``); when
        absent the gap is to the best feasible cost found in this comparison.
    executor, max_workers
        As in :func:`solve_many`; the default runs serially so that timings are not
        distorted by solvers competing for cores.
    return_solutions
        Also return the Solutions (for plots), one per row of the frame, in row order.
    warm_up
        When solving in this process (the default), warm every solver up first
        (:func:`hybridroute.load_solver`: imports, neural checkpoints), so that no solver's
        first timed solve is charged for loading and every budget goes to solving.

    Returns
    -------
    pandas.DataFrame
        Columns: instance, kind, n, solver, budget_s, seed, cost, gap_pct, runtime_s,
        feasible, status, num_routes, message. With ``return_solutions``: ``(frame, solutions)``.

    Raises
    ------
    UnknownSolverError
        When a solver name is not registered, before anything is solved.
    TypeError, ValueError
        When a seed is not an integer in ``[0, 2**32)`` (the message names ``seeds[i]``).
    """
    import pandas as pd

    problems = list(problems)
    labelled = dict(solvers) if isinstance(solvers, Mapping) else {_solver_label(s): s for s in solvers}
    budgets = [float(t) for t in np.atleast_1d(time_limits)]
    seed_list = _seed_list(seeds)
    for label, s in labelled.items():
        _check_solver_name(s, f"solvers[{label!r}]")
    keys, tasks = [], []
    for i, p in enumerate(problems):
        for label, s in labelled.items():
            for budget in budgets:
                for seed in seed_list:
                    keys.append((i, label, budget, seed))
                    tasks.append(SolveTask(p, s, (), budget, seed))
    in_process = (isinstance(executor, str) and executor == "serial") or (executor is None and max_workers == 1)
    if warm_up and in_process:
        kinds = sorted({p.kind for p in problems})
        for s in labelled.values():
            _warm_up(s, kinds)
    sols = _run_tasks(tasks, executor, max_workers, progress, desc="compare")
    rows = []
    for (i, label, budget, seed), sol in zip(keys, sols):
        p = problems[i]
        rows.append(dict(instance=_instance_name(p, i), kind=p.kind.value, n=p.size, solver=label,
                         budget_s=budget, seed=seed, cost=sol.cost if sol.is_feasible else np.nan,
                         runtime_s=sol.runtime, feasible=sol.is_feasible, status=sol.status.value,
                         num_routes=sol.num_routes, message=sol.message))
    df = pd.DataFrame(rows)
    df.insert(df.columns.get_loc("runtime_s"), "gap_pct", _gaps(df, problems, reference))
    return (df, list(sols)) if return_solutions else df


def _warm_up(solver: str | Solver, kinds) -> None:
    """Load a solver's backend and models for ``kinds`` (a missing package is left to the
    solves, which report it per task)."""
    try:
        instance = get_solver(solver)
    except ImportError:
        return
    wanted = [k for k in kinds if k in instance.supports]
    if wanted:
        instance.warm_up(wanted)


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


# -- many instances in and out: DataFrames and folders ---------------------------------------


def _instance_labels(solutions: Sequence[Solution], instances: Sequence[Any] | None) -> list[Any]:
    if instances is None:
        labels = [_instance_name(s.problem, i) for i, s in enumerate(solutions)]
    else:
        labels = list(instances)
        if len(labels) != len(solutions):
            raise ValueError(f"instances has {len(labels)} labels for {len(solutions)} solutions")
    seen: set = set()
    for label in labels:
        if label in seen:
            hint = "" if instances is not None else "; pass instances=[...] to label them"
            raise ValueError(f"instance label {label!r} is not unique{hint}")
        seen.add(label)
    return labels


def solutions_to_dataframe(solutions: Sequence[Solution], instances: Sequence[Any] | None = None):
    """All routes of many solutions as one long DataFrame, one row per stop.

    Parameters
    ----------
    solutions
        Solutions (e.g. from :func:`solve_many`).
    instances
        Labels for the ``instance`` column, aligned with ``solutions``; default: each
        problem's ``name`` (``instance-<i>`` when unnamed). Labels must be unique.

    Returns
    -------
    pandas.DataFrame
        ``instance`` followed by the columns of :meth:`Solution.to_dataframe` (``route``,
        ``vehicle_type``, ``sequence``, ``stop``, ``node``, ``id``, ``lat``, ``lon``,
        ``arrival``, ``departure``, ``wait`` in seconds, ``load_after``, ``leg_distance`` in
        metres, ``leg_duration`` in seconds; break and unserved rows included), instances in
        input order. A solution without routes (NO_SOLUTION) has no
        rows: check ``Solution.status`` / :func:`compare`'s table for failures.
    """
    import pandas as pd

    from .frames import SOLUTION_COLUMNS, _empty_frame

    solutions = list(solutions)
    labels = _instance_labels(solutions, instances)
    parts = []
    for label, sol in zip(labels, solutions):
        frame = sol.to_dataframe()
        if len(frame):
            frame.insert(0, "instance", pd.Series([label] * len(frame), dtype=object))
            parts.append(frame)
    if not parts:
        frame = _empty_frame(SOLUTION_COLUMNS)
        frame.insert(0, "instance", pd.Series([], dtype=object))
        return frame
    # ids of different instances may differ in dtype (str / int): concat gives object then
    return pd.concat(parts, ignore_index=True)


def _per_instance(value: Any, key: Any, what: str) -> Any:
    """``value[key]`` for a mapping (a clear error when ``key`` is missing), else ``value``."""
    if isinstance(value, Mapping):
        try:
            return value[key]
        except KeyError:
            raise ProblemValidationError(what, f"no entry for instance {key!r} in the {what} mapping") from None
    return value


def _matrix_for(value: Any, key: Any, what: str) -> Any:
    import pandas as pd

    if value is None or isinstance(value, (Mapping, pd.DataFrame)):
        return _per_instance(value, key, what)
    raise ProblemValidationError(
        what, "with an instance column, give a mapping instance -> matrix (array in that instance's row "
              "order, or a DataFrame indexed by id) or one id-indexed DataFrame shared by all instances; "
              f"got {type(value).__name__}")


def _in_global_rows(exc: ProblemValidationError, key: Any, rows: np.ndarray) -> ProblemValidationError:
    """Re-label an error about one instance's sub-frame in terms of the whole stops frame."""
    import re

    where = f" at index {exc.index}" if exc.index is not None else ""
    text = str(exc)
    prefix = f"{exc.field}{where}: "
    message = text[len(prefix):] if text.startswith(prefix) else text
    if exc.field.startswith("vehicles."):
        # rows of the instance's vehicles frame, not of the stops frame: kept as they are
        return ProblemValidationError(exc.field, f"instance {key!r}: {message}", exc.index)
    message = re.sub(r"\brow (\d+)\b", lambda m: f"row {rows[int(m.group(1))]}", message)
    index = exc.index
    if isinstance(index, (int, np.integer)):
        index = int(rows[index])
    elif isinstance(index, tuple):
        index = tuple(int(rows[i]) for i in index)
    return ProblemValidationError(exc.field, f"instance {key!r}: {message}", index)


def problems_from_dataframe(stops, instance_col: str = "instance", distance: Any = None, duration: Any = None,
                            *, kind: Any = None, capacity: Any = None, num_vehicles: Any = None,
                            objective: str = "distance", depot: Any = None, vehicles: Any = None,
                            time_origin: Any = None) -> list[Problem]:
    """Many Problems from one stops DataFrame with an instance column.

    Each instance's rows follow the stops-frame contract of :mod:`hybridroute.frames`
    (``id``, optional ``lat``/``lon``, ``demand``, ``tw_start``/``tw_end``/``service_time``,
    ``is_depot``, ``required``, ``prize``) and become one Problem through
    :func:`hybridroute.frames.problem_from_dataframe`, named ``str(instance)``.

    Parameters
    ----------
    stops
        One row per node per instance.
    instance_col
        The column that says which instance a row belongs to.
    distance
        Metres: a mapping instance -> matrix (an array in that instance's row order or a
        DataFrame indexed by id on both axes), or one id-indexed DataFrame shared by every
        instance (e.g. a whole city's matrix; each instance takes its ids from it).
    duration
        Seconds, in the same forms (required for ACVRPTW).
    kind
        Problem kind for all instances; None infers it from the columns.
    capacity, num_vehicles, depot
        A value for all instances or a mapping instance -> value (``depot``: an id, or a list
        of ids for several depots).
    objective
        ``"distance"`` or ``"duration"``.
    vehicles
        The fleet, instead of ``capacity`` / ``num_vehicles``: a vehicles DataFrame (one row
        per vehicle type, see :mod:`hybridroute.frames`) for all instances, or a mapping
        instance -> vehicles DataFrame. Its depot ids must be depots of every instance it is
        used for.
    time_origin
        The date-time that time 0 stands for (datetime, Timestamp or ISO 8601 string), for
        all instances or as a mapping instance -> value; needed to read date-times in the
        time columns, as in :func:`hybridroute.frames.problem_from_dataframe`.

    Returns
    -------
    list of Problem
        In order of each instance's first row.

    Raises
    ------
    ProblemValidationError
        ``.field`` names the column or argument, ``.index`` is the row position in ``stops``
        (a pair for a matrix entry; for a ``vehicles.*`` field the row position in that
        instance's vehicles frame) and the message names the instance.

    Warns
    -----
    hybridroute.frames.UnknownColumnWarning
        Once, listing the columns that are not read (column names are matched as in
        :mod:`hybridroute.frames`, ``instance_col`` included).
    """
    import pandas as pd

    from .frames import STOP_COLUMNS, _infer_kind, _resolve_columns, _warn_unknown_columns, problem_from_dataframe

    if not isinstance(stops, pd.DataFrame):
        raise TypeError(f"stops must be a pandas DataFrame, got {type(stops).__name__}")
    # Columns are matched and unknown ones reported once for the whole frame, not per instance.
    given = list(map(str, stops.columns))
    stops, unknown = _resolve_columns(stops, extra=(instance_col,))
    if instance_col not in stops.columns:
        raise ProblemValidationError(
            instance_col, f"the stops frame has no {instance_col!r} column; it has {given}")
    _warn_unknown_columns(unknown, [*STOP_COLUMNS, instance_col], _infer_kind(stops) if kind is None else None)
    missing = stops[instance_col].isna().to_numpy()
    if missing.any():
        row = int(np.argmax(missing))
        raise ProblemValidationError(instance_col, f"missing instance label (row {row})", row)
    groups = stops.groupby(instance_col, sort=False).indices
    problems = []
    for key, rows in groups.items():
        sub = stops.iloc[rows].drop(columns=instance_col)
        try:
            problems.append(problem_from_dataframe(
                sub, _matrix_for(distance, key, "distance"), _matrix_for(duration, key, "duration"), kind=kind,
                capacity=_per_instance(capacity, key, "capacity"),
                num_vehicles=_per_instance(num_vehicles, key, "num_vehicles"),
                objective=objective, name=str(key), depot=_per_instance(depot, key, "depot"),
                vehicles=_per_instance(vehicles, key, "vehicles"),
                time_origin=_per_instance(time_origin, key, "time_origin")))
        except ProblemValidationError as exc:
            raise _in_global_rows(exc, key, rows) from None
    return problems


_SOLUTION_SUFFIXES = (".sol", ".tour")


def _natural_key(text: str) -> list:
    import re

    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", text)]


def read_problems(folder, pattern: str = "*", *, errors: str = "raise", **kwargs: Any) -> list[Problem]:
    """Read every instance file in ``folder`` matching ``pattern`` (see :func:`hybridroute.formats.read`).

    Parameters
    ----------
    folder
        A directory.
    pattern
        Glob pattern of the instance files (``"*.vrp"``, ``"**/*.atsp"`` to recurse). Hidden
        files, folders, and reference solutions (``.sol``, ``.tour``) are skipped.
    errors
        ``"raise"`` (the first unreadable file raises its :class:`~hybridroute.formats.FormatError`)
        or ``"skip"`` (log a warning and go on).
    **kwargs
        Passed to the reader of every file.

    Returns
    -------
    list of Problem
        In natural file-name order (``X-n9`` before ``X-n10``).
    """
    from pathlib import Path

    from .formats import read

    if errors not in ("raise", "skip"):
        raise ValueError(f"errors must be 'raise' or 'skip', got {errors!r}")
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a directory")
    paths = sorted((p for p in folder.glob(pattern)
                    if p.is_file() and not p.name.startswith(".") and p.suffix.lower() not in _SOLUTION_SUFFIXES),
                   key=lambda p: _natural_key(p.relative_to(folder).as_posix()))
    if not paths:
        raise FileNotFoundError(f"no instance files matching {pattern!r} in {folder}")
    problems = []
    for path in paths:
        try:
            problems.append(read(path, **kwargs))
        except (ValueError, OSError) as exc:
            if errors == "raise":
                raise
            logger.warning("skipping %s: %s", path, exc)
    return problems
