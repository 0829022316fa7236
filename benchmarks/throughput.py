"""Throughput of solve_many: instances per second and mean cost, serial / process pool / Dask.

Samples small instances (n = 20-50 customers, ATSP / ACVRP / ACVRPTW) from the bundled real
cities (OSRM road matrices, © OpenStreetMap contributors, ODbL) and solves them with an
iteration-limited PyVRP (so every configuration does the same work and finds the same
routes: the mean cost must agree across rows) serially, on local process pools and on a
Dask LocalCluster. With an RRNCO checkpoint it also times the neural backend on ATSP-50:
batched inference (``solve_many`` -> ``solve_batch``) against one ``solve`` call per
instance, in the same run.

Writes ``benchmarks/results/throughput.md`` (a markdown table with the settings and the
machine) and ``throughput.csv``.

Run (from the repository root, with hybridroute installed or ``PYTHONPATH=.``):

    python benchmarks/throughput.py                    # 1000 instances: tens of minutes on 2 cores
    python benchmarks/throughput.py --instances 100    # a quick check
    python benchmarks/throughput.py --rrnco-checkpoint models/rrnco-atsp20.safetensors
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import csv
import datetime as dt
import logging
import math
import multiprocessing
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

# OMP_WAIT_POLICY is left as the user has it: PASSIVE (kind to a shared CPU) makes each
# small torch op wake its threads, which doubles the latency of one-instance RRNCO calls on
# 2 cores (125 vs 65 ms at ATSP-50) and so inflates the batched speedup (6.3x vs 3.7x).

import hybridroute as hr  # noqa: E402
from hybridroute.osrm import bundled_cities, sample_instances  # noqa: E402

logger = logging.getLogger("benchmarks.throughput")

RESULTS = Path(__file__).resolve().parent / "results"
COLUMNS = ["section", "config", "solver", "workers", "instances", "wall_s", "instances_per_s",
           "mean_cost", "feasible_pct", "failed", "speedup", "notes"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", type=int, default=1000, help="classical instances (default 1000)")
    ap.add_argument("--n-min", type=int, default=20, help="smallest instance (customers; ATSP: nodes)")
    ap.add_argument("--n-max", type=int, default=50, help="largest instance")
    ap.add_argument("--kinds", default="ATSP,ACVRP,ACVRPTW", help="comma-separated kinds, cycled")
    ap.add_argument("--cities", default=",".join(bundled_cities()), help="bundled cities, cycled")
    ap.add_argument("--solver", default="pyvrp")
    ap.add_argument("--max-iterations", type=int, default=200,
                    help="PyVRP iteration cap (the stop that binds; 0 disables)")
    ap.add_argument("--time-limit", type=float, default=10.0, help="seconds per instance (a cap)")
    ap.add_argument("--workers", default="1,2", help="process-pool sizes to time")
    ap.add_argument("--dask-workers", type=int, default=2, help="LocalCluster worker processes (0: skip)")
    ap.add_argument("--no-serial", action="store_true", help="skip the in-process serial row")
    ap.add_argument("--rrnco-checkpoint", default=None,
                    help="RRNCO ATSP checkpoint (name or .safetensors); default: the shipped one if present")
    ap.add_argument("--neural-instances", type=int, default=256)
    ap.add_argument("--neural-n", type=int, default=50)
    ap.add_argument("--neural-configs", default="8:all",
                    help="RRNCO settings to time, 'augment:starts' comma-separated (starts: int or all)")
    ap.add_argument("--neural-batch-size", type=int, default=64, help="RRNCO batch_size for solve_batch")
    ap.add_argument("--device", default="auto", help="RRNCO device")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--progress", action="store_true", help="show progress bars")
    return ap.parse_args(argv)


# -- instances ----------------------------------------------------------------------------


def make_instances(count: int, n_min: int, n_max: int, kinds: list[str], cities: list[str],
                   seed: int) -> list[hr.Problem]:
    """``count`` instances, kinds and cities cycled, sizes uniform in [n_min, n_max]."""
    rng = np.random.default_rng(seed)
    draws = [(cities[i % len(cities)], kinds[i % len(kinds)], int(rng.integers(n_min, n_max + 1)))
             for i in range(count)]
    groups: dict[tuple, list[int]] = {}
    for i, key in enumerate(draws):
        groups.setdefault(key, []).append(i)
    out: list[hr.Problem | None] = [None] * count
    for g, (key, idx) in enumerate(sorted(groups.items())):
        city, kind, n = key
        for i, p in zip(idx, sample_instances(city, kind, n, len(idx), seed=seed * 7919 + g)):
            out[i] = p
    return out  # type: ignore[return-value]


# -- timing -------------------------------------------------------------------------------


def summarise(section: str, config: str, solver: str, workers: Any, sols: list[hr.Solution],
              wall: float, notes: str = "") -> dict[str, Any]:
    feasible = [s for s in sols if s.is_feasible]
    return dict(section=section, config=config, solver=solver, workers=workers, instances=len(sols),
                wall_s=wall, instances_per_s=len(sols) / wall if wall > 0 else math.nan,
                mean_cost=float(np.mean([s.cost for s in feasible])) if feasible else math.nan,
                feasible_pct=100.0 * len(feasible) / len(sols) if sols else math.nan,
                failed=sum(s.status is hr.Status.NO_SOLUTION for s in sols), speedup=math.nan, notes=notes)


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def classical_rows(args: argparse.Namespace, problems: list[hr.Problem]) -> list[dict[str, Any]]:
    settings = {"max_iterations": args.max_iterations} if args.max_iterations and args.solver == "pyvrp" else {}
    kw = dict(time_limit=args.time_limit, seed=args.seed, progress=args.progress, **settings)
    label = args.solver + (f" (max_iterations={args.max_iterations})" if settings else "")
    rows = []
    if not args.no_serial:
        logger.info("serial, in-process")
        sols, wall = timed(lambda: hr.solve_many(problems, args.solver, executor="serial", **kw))
        rows.append(summarise("classical", "serial (in-process)", label, 1, sols, wall))
    for w in [int(x) for x in args.workers.split(",") if x.strip()]:
        logger.info("process pool, %d worker(s)", w)
        # An explicit pool also for 1 worker (solve_many would otherwise run serially):
        # the row then shows the cost of pickling and of the worker's start-up.
        pool = cf.ProcessPoolExecutor(w, mp_context=multiprocessing.get_context("spawn"))
        with pool:
            sols, wall = timed(lambda: hr.solve_many(problems, args.solver, executor=pool, **kw))
        rows.append(summarise("classical", f"process pool ({w})", label, w, sols, wall,
                              "includes spawning the workers"))
    if args.dask_workers > 0:
        rows.append(dask_row(args, problems, label, kw))
    return rows


def dask_row(args: argparse.Namespace, problems: list[hr.Problem], label: str, kw: dict) -> dict[str, Any]:
    from distributed import Client, LocalCluster

    logger.info("Dask LocalCluster, %d worker process(es)", args.dask_workers)
    (cluster, client), startup = timed(lambda: _start_cluster(args.dask_workers, LocalCluster, Client))
    try:
        sols, wall = timed(lambda: hr.solve_many(problems, args.solver, executor=client, **kw))
    finally:
        client.close()
        cluster.close()
    return summarise("classical", f"Dask LocalCluster ({args.dask_workers})", label, args.dask_workers, sols,
                     wall, f"cluster start-up {startup:.1f} s not included")


def _start_cluster(workers: int, LocalCluster, Client):
    # LocalCluster exports OMP_NUM_THREADS=1 (and MKL_/OPENBLAS_) into *this* process's
    # environment for its workers; torch imported later would then run on one thread.
    saved = dict(os.environ)
    try:
        cluster = LocalCluster(n_workers=workers, processes=True, threads_per_worker=1, dashboard_address=None,
                               silence_logs=logging.ERROR)
        return cluster, Client(cluster)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def neural_rows(args: argparse.Namespace) -> tuple[list[dict[str, Any]], str]:
    """RRNCO on ATSP-n: one solve() per instance vs one batched solve_many, per setting."""
    try:
        from hybridroute.neural.checkpoint import default_checkpoint, find_checkpoint
        from hybridroute.solvers.rrnco_solver import RRNCO
        checkpoint = find_checkpoint(args.rrnco_checkpoint or default_checkpoint("ATSP"))
    except Exception as exc:  # noqa: BLE001 - the classical part stands on its own
        return [], f"RRNCO section skipped: {type(exc).__name__}: {exc}"
    import torch

    cities = [c for c in args.cities.split(",") if c]
    problems = sample_instances(cities[0], "ATSP", args.neural_n, args.neural_instances, seed=args.seed + 1)
    rows = []
    for spec in [s for s in args.neural_configs.split(",") if s]:
        augment, starts = spec.split(":")
        settings = dict(augment=int(augment), starts=None if starts == "all" else int(starts))
        # the raw policy on both paths: re-construction (ATSP, by default in solve) spends
        # spare time improving tours, which is not what this compares
        rrnco = RRNCO(checkpoint=str(checkpoint), device=args.device, batch_size=args.neural_batch_size,
                      reconstruct=False, **settings)
        rrnco.solve(problems[0], seed=args.seed)  # load the model and warm up, outside the timings
        label = f"rrnco (augment={settings['augment']}, starts={starts})"
        logger.info("%s: %d single calls", label, len(problems))
        singles, t_single = timed(lambda: [rrnco.solve(p, seed=args.seed) for p in problems])
        logger.info("%s: one batched solve_many", label)
        batched, t_batch = timed(lambda: hr.solve_many(problems, rrnco, seed=args.seed, progress=args.progress))
        single_row = summarise("neural", "one solve() per instance", label, 1, singles, t_single)
        batch_row = summarise("neural", f"batched solve_many (batch_size={args.neural_batch_size})", label, 1,
                              batched, t_batch)
        batch_row["speedup"] = t_single / t_batch
        rows += [single_row, batch_row]
    note = (f"RRNCO checkpoint `{checkpoint.name}`, {args.neural_instances} ATSP-{args.neural_n} instances "
            f"from {cities[0]}, device {args.device}, torch {torch.__version__} with "
            f"{torch.get_num_threads()} threads; OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset (default)')}; model loading excluded.")
    return rows, note


# -- output -------------------------------------------------------------------------------


def _fmt(value: Any, digits: int = 2) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:,.{digits}f}"
    return str(value)


def markdown(rows: list[dict[str, Any]], args: argparse.Namespace, notes: list[str], argv: list[str]) -> str:
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    head = ["| config | solver | workers | instances | wall s | instances/s | mean cost | feasible % | failed "
            "| speedup |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    lines = [
        "# solve_many throughput",
        "",
        f"{dt.datetime.now().isoformat(timespec='seconds')}; `python benchmarks/throughput.py {' '.join(argv)}`",
        "",
        f"Machine: {platform.platform()}, {cpus} CPU(s) available, Python {platform.python_version()}, "
        f"hybridroute {hr.__version__}. The machine was shared with other work while this ran.",
        "",
        f"Classical: {args.instances} instances, n = {args.n_min}-{args.n_max}, kinds {args.kinds}, "
        f"cities {args.cities} (OSRM road matrices, © OpenStreetMap contributors, ODbL); seed {args.seed}; "
        f"time limit {args.time_limit:g} s per instance as a cap. Mean cost is over the feasible "
        "solutions, in the problems' units (metres; ACVRPTW also metres, objective distance).",
        "",
    ]
    for section in ("classical", "neural"):
        part = [r for r in rows if r["section"] == section]
        if not part:
            continue
        lines += [f"## {section}", ""] + head
        for r in part:
            lines.append(f"| {r['config']} | {r['solver']} | {r['workers']} | {r['instances']} | {_fmt(r['wall_s'])} "
                         f"| {_fmt(r['instances_per_s'])} | {_fmt(r['mean_cost'], 1)} | {_fmt(r['feasible_pct'], 1)} "
                         f"| {r['failed']} | {_fmt(r['speedup'])} |")
        lines.append("")
        lines += [f"- {r['config']}: {r['notes']}" for r in part if r["notes"]]
        lines.append("")
    lines += [f"{n}" for n in notes if n]
    return "\n".join(lines).rstrip() + "\n"


def write(rows: list[dict[str, Any]], args: argparse.Namespace, notes: list[str], argv: list[str]) -> Path:
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "throughput.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    md = args.out / "throughput.md"
    md.write_text(markdown(rows, args, notes, argv))
    return md


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    cities = [c.strip() for c in args.cities.split(",") if c.strip()]
    problems = make_instances(args.instances, args.n_min, args.n_max, kinds, cities, args.seed)
    rows = classical_rows(args, problems) if args.instances > 0 else []
    costs = {round(r["mean_cost"], 6) for r in rows}
    notes = []
    if len(costs) > 1:
        notes.append("Note: the mean costs differ between rows: the time limit, not the iteration cap, "
                     "stopped some solves (raise --time-limit).")
    neural, note = neural_rows(args) if args.neural_instances > 0 else ([], "")
    rows += neural
    notes.append(note)
    md = write(rows, args, notes, argv)
    print(md.read_text())


if __name__ == "__main__":
    # Progress lines from this script only; Dask's own INFO chatter stays out.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    logger.setLevel(logging.INFO)
    for name in ("distributed", "hybridroute"):
        logging.getLogger(name).setLevel(logging.ERROR)
    main()
