"""Time-to-target: cold classical search versus neural warm starts, on held-out-city instances.

For each kind and size, instances are sampled from the held-out city (Helsinki: never used
for training). Every solver runs once per instance and seed with the largest budget; the
cost at each smaller budget is read off its anytime curve (``Solution.history``), and the
time to reach the target (``target_pct`` above the best cost any solver found on that
instance) is the first point of the curve at or below it. All solvers run in the same
process, one after another, so they see the same machine load.

Writes ``benchmarks/results/time_to_target.csv`` (one row per run and budget) and
``time_to_target.md`` (medians per kind, n and solver).

Run: python benchmarks/time_to_target.py [--count 10] [--seeds 0,1,2] [--sizes 50,100]
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

import hybridroute as hr
from hybridroute.osrm import bundled_city, load_city, sample_instances
from hybridroute.solvers import solver_class

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_SOLVERS = ("pyvrp", "ortools", "rrnco", "rrnco+pyvrp", "rrnco+ortools")


def held_out_city():
    """The 1000-point Helsinki build when present (data/cities), else the bundled 200 points."""
    full = Path(__file__).resolve().parents[1] / "data" / "cities" / "Helsinki_data.npz"
    return load_city(full) if full.exists() else bundled_city("Helsinki")


def cost_at(history, t: float) -> float:
    """Best cost reached by time ``t`` seconds (inf before the first solution)."""
    best = np.inf
    for ht, c in history:
        if ht <= t + 1e-9:
            best = min(best, c)
    return best


def time_to(history, target: float) -> float:
    for ht, c in history:
        if c <= target * (1 + 1e-12):
            return ht
    return np.inf


def run(args) -> pd.DataFrame:
    city = held_out_city()
    installed = set(hr.installed_solvers())
    solvers = [s for s in args.solvers if s in installed]
    skipped = sorted(set(args.solvers) - set(solvers))
    if skipped:
        logging.warning("not installed, skipped: %s", ", ".join(skipped))
    budget = max(args.budgets)
    jobs = [(kind, n, p) for kind in args.kinds for n in args.sizes
            for p in sample_instances(city, kind, n, args.count, seed=args.instance_seed)]
    rows = []
    bar = tqdm(total=len(jobs) * len(solvers) * len(args.seeds), desc="time-to-target", unit="run")
    for kind, n, problem in jobs:
        runs = []
        for solver in solvers:
            if problem.kind not in solver_class(solver).supports:
                continue
            for seed in args.seeds:
                t0 = time.perf_counter()
                sol = hr.solve(problem, solver, time_limit=budget, seed=seed)
                runs.append((solver, seed, sol, time.perf_counter() - t0))
                bar.update()
        best = min((s.cost for _, _, s, _ in runs if s.is_feasible), default=np.nan)
        target = best * (1 + args.target_pct / 100)
        for solver, seed, sol, wall in runs:
            history = list(sol.history) if sol.is_feasible else []
            for b in args.budgets:
                c = cost_at(history, b)
                rows.append(dict(kind=kind, n=n, instance=problem.name, solver=solver, seed=seed, budget_s=b,
                                 cost=c, gap_pct=100 * (c - best) / best, time_to_target_s=time_to(history, target),
                                 final_cost=sol.cost, wall_s=wall, feasible=sol.is_feasible,
                                 start_accepted=sol.stats.get("initial_accepted"),
                                 neural_cost=sol.stats.get("first_cost"),
                                 neural_s=sol.stats.get("first_runtime")))
    bar.close()
    return pd.DataFrame(rows)


def report(df: pd.DataFrame, args) -> str:
    lines = [f"# Time to target on held-out Helsinki instances\n",
             f"Target: {args.target_pct:g} % above the best cost any solver found on the instance. "
             f"Costs at each budget are read off one {max(args.budgets):g} s run's anytime curve. "
             f"{args.count} instances per kind and size, seeds {','.join(map(str, args.seeds))}; "
             "medians over instances × seeds.\n"]
    gap = df.pivot_table(index=["kind", "n", "solver"], columns="budget_s", values="gap_pct", aggfunc="median")
    gap.columns = [f"gap@{b:g}s %" for b in gap.columns]
    first = df[df["budget_s"] == max(args.budgets)]
    ttt = first.groupby(["kind", "n", "solver"]).agg(
        median_time_to_target_s=("time_to_target_s", "median"),
        reached=("time_to_target_s", lambda s: f"{np.isfinite(s).sum()}/{len(s)}"))
    table = gap.join(ttt).reset_index()
    lines.append(table.to_markdown(index=False, floatfmt=".2f"))
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kinds", type=lambda s: s.split(","), default=["ATSP", "ACVRP", "ACVRPTW"])
    ap.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[50, 100])
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--seeds", type=lambda s: [int(x) for x in s.split(",")], default=[0, 1, 2])
    ap.add_argument("--budgets", type=lambda s: [float(x) for x in s.split(",")], default=[0.5, 1, 2, 5])
    ap.add_argument("--solvers", type=lambda s: s.split(","), default=list(DEFAULT_SOLVERS))
    ap.add_argument("--target-pct", type=float, default=1.0)
    ap.add_argument("--instance-seed", type=int, default=7)
    ap.add_argument("--tag", default="", help="suffix for the output files")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    RESULTS.mkdir(exist_ok=True)
    df = run(args)
    stem = f"time_to_target{args.tag}"
    df.to_csv(RESULTS / f"{stem}.csv", index=False)
    text = report(df, args)
    (RESULTS / f"{stem}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
