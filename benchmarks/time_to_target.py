"""Time-to-target: cold classical search versus neural warm starts, on held-out-city instances.

For each kind and size, instances are sampled from the held-out city (Helsinki: never used
for training). Every solver runs on every instance and seed:

* solvers whose search does not depend on the time limit (PyVRP's iterated local search; the
  one-shot ``rrnco`` construction, run with the largest budget) run once, and the cost at
  each smaller budget is read off their anytime curve (``Solution.history``); PyVRP runs
  apart for budgets under 2 s, where it runs one search instead of two (:func:`budget_runs`);
* every other solver (OR-Tools, whose ATSP portfolio splits the limit between searches,
  and the hybrids, whose neural stage gets a share of the limit) runs once per budget, so
  a hybrid at budget b is compared with cold search at the same total budget b.

The time to reach the target (``target_pct`` above the best cost any solver found on that
instance) is the first point of the largest-budget curve at or below it. All solvers run in
the same process, one after another, so they see the same machine load.

Writes ``benchmarks/results/time_to_target<tag>.csv`` (one row per run and budget) and
``time_to_target<tag>.md``: medians per kind, n and solver, and the hybrid checks (paired
per instance, seed and budget): the hybrid's cost minus its classical backend's cold cost,
and how often the hybrid ended worse than its own neural stage.

Run: python benchmarks/time_to_target.py [--count 10] [--seeds 0,1,2] [--sizes 50,100]
Merge runs made in parallel: python benchmarks/time_to_target.py --report results/a.csv results/b.csv
(rows of the same solver, instance, seed and budget in a later file replace earlier ones)
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads: idle threads must not spin

import numpy as np
import pandas as pd
from tqdm import tqdm

import hybridroute as hr
from hybridroute.osrm import bundled_city, load_city, sample_instances
from hybridroute.solvers import solver_class

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_SOLVERS = ("pyvrp", "ortools", "rrnco", "rrnco+pyvrp", "rrnco+ortools")
#: Solvers run once with the largest budget and read off their anytime curve (see above).
BUDGET_FREE = frozenset({"pyvrp", "rrnco"})


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


def budget_runs(solver: str, budgets: list[float]) -> dict[float, list[float]]:
    """The time limits ``solver`` runs with, each mapped to the budgets read off that run.

    A budget-free solver runs once with the largest budget and answers every budget, except
    PyVRP below ``MIN_SIDE_SECONDS``: it runs a second search side by side from that limit on
    (``workers="auto"``), so a shorter budget is a one-search run of its own; read off a longer
    run's curve it would be the better of two searches, which a user's solve with that limit
    is not."""
    from hybridroute.solvers.pyvrp_solver import MIN_SIDE_SECONDS

    budgets = sorted(budgets)
    if solver not in BUDGET_FREE:
        return {b: [b] for b in budgets}
    largest = budgets[-1]
    if solver == "pyvrp" and largest >= MIN_SIDE_SECONDS:
        short = [b for b in budgets if b < MIN_SIDE_SECONDS]
        return {**{b: [b] for b in short}, largest: [b for b in budgets if b >= MIN_SIDE_SECONDS]}
    return {largest: budgets}


def run(args) -> pd.DataFrame:
    city = held_out_city()
    installed = set(hr.installed_solvers())
    solvers = [s for s in args.solvers if s in installed]
    skipped = sorted(set(args.solvers) - set(solvers))
    if skipped:
        logging.warning("not installed, skipped: %s", ", ".join(skipped))
    jobs = [(kind, n, p) for kind in args.kinds for n in args.sizes
            for p in sample_instances(city, kind, n, args.count, seed=args.instance_seed)]
    rows = []
    if any(s.startswith("rrnco") for s in solvers):
        import torch

        # the neural stage on --threads threads (default one, as in neural_eval.py): with
        # torch's default of every core, its passes slowed down by up to 4x beside another job
        torch.set_num_threads(args.threads)
        # load each kind's checkpoint before timing: a first call's model load is not search time
        for kind in args.kinds:
            hr.solve(sample_instances(city, kind, 10, 1, seed=0)[0], "rrnco", time_limit=0.1)
    plan = {s: budget_runs(s, args.budgets) for s in solvers}
    # best costs of earlier runs on the same instances (--best-from), so that a partial rerun
    # aims at the same targets as the run it will be merged with
    prior: dict[tuple, float] = {}
    for path in args.best_from or []:
        old = pd.read_csv(path)
        for key, cost in old.groupby(["kind", "n", "instance"])["final_cost"].min().items():
            prior[key] = min(prior.get(key, np.inf), float(cost))
    total = len(jobs) * len(args.seeds) * sum(len(b) for b in plan.values())
    bar = tqdm(total=total, desc="time-to-target", unit="run")
    for kind, n, problem in jobs:
        runs = []
        for solver, budgets in plan.items():
            if problem.kind not in solver_class(solver).supports:
                bar.update(len(budgets) * len(args.seeds))
                continue
            for seed in args.seeds:
                for b in sorted(budgets):
                    bar.set_postfix_str(f"{kind} n={n} {solver} {b:g}s")
                    t0 = time.perf_counter()
                    settings = {"split": args.split} if "+" in solver and args.split is not None else {}
                    sol = hr.solve(problem, solver, time_limit=b, seed=seed, **settings)
                    runs.append((solver, seed, b, sol, time.perf_counter() - t0))
                    bar.update()
        best = min([s.cost for *_, s, _ in runs if s.is_feasible] + [prior.get((kind, n, problem.name), np.inf)])
        best = best if np.isfinite(best) else np.nan
        target = best * (1 + args.target_pct / 100)
        for solver, seed, run_budget, sol, wall in runs:
            history = list(sol.history) if sol.is_feasible else []
            # a budget-free run answers the budgets read off its curve; a per-budget run its own
            for b in plan[solver][run_budget]:
                c = cost_at(history, b) if sol.is_feasible else np.inf
                rows.append(dict(kind=kind, n=n, instance=problem.name, solver=solver, seed=seed, budget_s=b,
                                 cost=c, gap_pct=100 * (c - best) / best, time_to_target_s=time_to(history, target),
                                 final_cost=sol.cost, wall_s=wall, feasible=sol.is_feasible,
                                 start_accepted=sol.stats.get("initial_accepted"),
                                 neural_cost=sol.stats.get("first_cost"),
                                 neural_s=sol.stats.get("first_runtime")))
    bar.close()
    return pd.DataFrame(rows)


def report(df: pd.DataFrame, target_pct: float) -> str:
    """Markdown: median gaps per budget, time to target, and the hybrid-vs-cold checks."""
    # gaps against the best cost over every row of the instance, so merged runs share one reference
    best = df.groupby(["kind", "n", "instance"])["cost"].transform("min")
    df = df.assign(gap_pct=100 * (df["cost"] - best) / best)
    budgets = sorted(df["budget_s"].unique())
    seeds = sorted(df["seed"].unique())
    counts = df.groupby(["kind", "n"])["instance"].nunique()
    lines = ["# Time to target on held-out Helsinki instances\n",
             f"Gaps are to the best cost any solver found on the instance (all budgets). Target: "
             f"{target_pct:g} % above that. PyVRP and rrnco run once with the largest budget and are read "
             "off their anytime curve; OR-Tools and the hybrids run once per budget (same total budget). "
             f"{int(counts.min())}-{int(counts.max())} instances per kind and size, seeds "
             f"{','.join(map(str, seeds))}; medians over instances × seeds. `inf`: no solution by then.\n"]
    gap = df.pivot_table(index=["kind", "n", "solver"], columns="budget_s", values="gap_pct", aggfunc="median")
    gap.columns = [f"gap@{b:g}s %" for b in gap.columns]
    last = df[df["budget_s"] == max(budgets)]
    ttt = last.groupby(["kind", "n", "solver"]).agg(
        median_time_to_target_s=("time_to_target_s", "median"),
        reached=("time_to_target_s", lambda s: f"{np.isfinite(s).sum()}/{len(s)}"))
    lines.append(gap.join(ttt).reset_index().to_markdown(index=False, floatfmt=".2f"))
    lines += ["", "## Hybrid checks", "",
              "Paired per instance, seed and budget. `median Δ vs cold`: median of (hybrid cost − cold "
              "cost of its classical backend at the same budget) / best, in %, costs read off the anytime "
              "curves at the budget; `returned Δ vs cold`: the same for the solutions the runs returned "
              "(a backend that returns a little past its limit, within the time-limit contract, reads `inf` "
              "at the budget and counts under `no solution`); `cold seed spread`: median "
              "over instances of the cold backend's max − min cost over seeds, in % of best (the noise "
              "level); `worse than neural`: runs whose final cost exceeds their own neural stage's.", ""]
    lines.append(hybrid_checks(df).to_markdown(index=False, floatfmt=".2f"))
    return "\n".join(lines) + "\n"


def hybrid_checks(df: pd.DataFrame) -> pd.DataFrame:
    keys = ["kind", "n", "instance", "seed", "budget_s"]
    best = df.groupby(["kind", "n", "instance"])["cost"].transform("min")
    best_returned = df.groupby(["kind", "n", "instance"])["final_cost"].transform("min")
    df = df.assign(rel=100 * df["cost"] / best, rel_returned=100 * df["final_cost"] / best_returned)
    out = []
    for hybrid in sorted(s for s in df["solver"].unique() if "+" in s):
        cold = hybrid.split("+", 1)[1]
        h = df[df["solver"] == hybrid]
        c = df[df["solver"] == cold]
        pair = h.merge(c[keys + ["rel", "rel_returned"]], on=keys, suffixes=("", "_cold"))
        spread = (c.groupby(["kind", "n", "instance", "budget_s"])["rel"].agg(lambda s: s.max() - s.min())
                  .groupby(["kind", "n", "budget_s"]).median().rename("cold_seed_spread_pct"))
        for (kind, n, b), g in pair.groupby(["kind", "n", "budget_s"]):
            finite = np.isfinite(g["rel"]) & np.isfinite(g["rel_cold"])
            delta = (g["rel"] - g["rel_cold"])[finite]
            returned = (g["rel_returned"] - g["rel_returned_cold"]).dropna()
            neural = g["neural_cost"].astype(float)
            worse = int(((g["final_cost"] > neural * (1 + 1e-9)) & np.isfinite(neural) & g["feasible"]).sum())
            out.append(dict(kind=kind, n=n, hybrid=hybrid, budget_s=b, pairs=len(g),
                            **{"median Δ vs cold %": float(delta.median()) if len(delta) else np.nan,
                               "hybrid better/equal/worse": f"{(delta < -1e-9).sum()}/{(delta.abs() <= 1e-9).sum()}/"
                                                            f"{(delta > 1e-9).sum()}",
                               "returned Δ vs cold %": float(returned.median()) if len(returned) else np.nan,
                               "cold seed spread %": float(spread.get((kind, n, b), np.nan)),
                               "no solution": int((~finite).sum()),
                               "worse than neural": worse}))
    return pd.DataFrame(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kinds", type=lambda s: s.split(","), default=["ATSP", "ACVRP", "ACVRPTW"])
    ap.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[50, 100])
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1, help="torch threads for the neural stage (default 1)")
    ap.add_argument("--seeds", type=lambda s: [int(x) for x in s.split(",")], default=[0, 1, 2])
    ap.add_argument("--budgets", type=lambda s: [float(x) for x in s.split(",")], default=[0.5, 1, 2, 5])
    ap.add_argument("--solvers", type=lambda s: s.split(","), default=list(DEFAULT_SOLVERS))
    ap.add_argument("--split", type=float, default=None,
                    help="the hybrids' split (their neural stage's least share of the limit; default theirs)")
    ap.add_argument("--target-pct", type=float, default=1.0)
    ap.add_argument("--instance-seed", type=int, default=7)
    ap.add_argument("--tag", default="", help="suffix for the output files")
    ap.add_argument("--best-from", type=Path, nargs="+", default=None,
                    help="earlier CSVs on the same instances whose best costs also set the targets")
    ap.add_argument("--report", type=Path, nargs="+", default=None,
                    help="only write the report from these CSVs (e.g. runs made in parallel)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    RESULTS.mkdir(exist_ok=True)
    stem = f"time_to_target{args.tag}"
    if args.report:
        df = pd.concat([pd.read_csv(p) for p in args.report], ignore_index=True)
        df = df.drop_duplicates(["kind", "n", "instance", "solver", "seed", "budget_s"], keep="last")
    else:
        df = run(args)
        df.to_csv(RESULTS / f"{stem}.csv", index=False)
    text = report(df, args.target_pct)
    (RESULTS / f"{stem}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
