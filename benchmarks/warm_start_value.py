"""What a neural start is worth to one PyVRP search, apart from the time the neural stage takes.

For each instance and seed: the ``rrnco`` policy builds a start within ``--neural-s`` seconds
(one thread), then one PyVRP search (``workers=1``) runs ``--budget`` seconds cold and one the
same time from that start. The two searches get the same time, so the difference is the start's
worth alone; the hybrid pays the neural stage's time on top. Also recorded: how long the cold
search took to reach the start's cost (``cold_reaches_start_s``), to test whether a start's cost
says what it is worth.

    python benchmarks/warm_start_value.py --kind ACVRPTW --n 500 --count 10 --seeds 0,1
    python benchmarks/warm_start_value.py --kind ACVRPTW --n 500 --part 0 --parts 2 &   # two cores:
    python benchmarks/warm_start_value.py --kind ACVRPTW --n 500 --part 1 --parts 2     # one half each
    python benchmarks/warm_start_value.py --kind ACVRPTW --n 500 --report               # summary of the parts

Instances come from the 1000-point Helsinki build (``data/cities``; never used in training).
Writes one JSON line per instance, seed and start to
``results/warm_start_value_<kind>_n<n>.jsonl`` (appended; ``--report`` reads it) and a summary
``.md``: per time point, the median of (warm − cold) / cold in % and how often warm was lower.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads: idle threads must not spin

import numpy as np
import pandas as pd

import hybridroute as hr
from hybridroute.osrm import load_city, sample_instances
from hybridroute.solvers.pyvrp_solver import PyVRPSolver
from time_to_target import cost_at  # the anytime-curve reading every study shares (benchmarks/ is on sys.path)

RESULTS = Path(__file__).resolve().parent / "results"
CITY = Path(__file__).resolve().parents[1] / "data" / "cities" / "Helsinki_data.npz"


def times(budget: float) -> list[float]:
    return [t for t in (0.5, 1.0, 2.0, 5.0) if t < budget] + [budget]


def run(args, path: Path) -> None:
    import torch

    torch.set_num_threads(1)
    city = load_city(CITY)
    problems = sample_instances(city, args.kind, args.n, args.count, seed=args.instance_seed)
    hr.load_solver("rrnco", kinds=[args.kind])
    with path.open("a") as out:
        for i, problem in enumerate(problems):
            if i % args.parts != args.part:
                continue
            for seed in args.seeds:
                start = hr.solve(problem, "rrnco", time_limit=args.neural_s, seed=seed)
                for variant, initial in (("cold", None), ("warm", start)):
                    sol = PyVRPSolver(workers=1).solve(problem, time_limit=args.budget, seed=seed, initial=initial)
                    history = list(sol.history)
                    row = dict(instance=problem.name, seed=seed, variant=variant, start_cost=start.cost,
                               start_s=start.runtime, start_fallback=start.stats.get("fallback"),
                               start_routes=len(start.routes), routes=len(sol.routes), final=sol.cost,
                               cold_reaches_start_s=next((t for t, c in history if c <= start.cost), None)
                               if variant == "cold" else None,
                               **{f"cost_{t:g}s": cost_at(history, t) for t in times(args.budget)})
                    out.write(json.dumps(row) + "\n")
                    out.flush()
                    print(json.dumps(row), flush=True)


def report(args, path: Path) -> str:
    df = pd.read_json(path, lines=True)
    df = df[df["start_fallback"].isna()]  # a start that is nearest neighbour's is no neural start
    cols = [c for c in df.columns if c.startswith("cost_")]
    cold = df[df.variant == "cold"].set_index(["instance", "seed"])
    warm = df[df.variant == "warm"].set_index(["instance", "seed"])
    pairs = cold.index.intersection(warm.index)
    lines = [f"# What a neural start is worth to one PyVRP search: {args.kind} n = {args.n}", "",
             f"`python benchmarks/warm_start_value.py --kind {args.kind} --n {args.n} --count {args.count} "
             f"--seeds {','.join(map(str, args.seeds))} --budget {args.budget:g} --neural-s {args.neural_s:g}` "
             f"({datetime.date.today().isoformat()}; {len(pairs)} pairs, held-out Helsinki).", "",
             "| time | warm − cold, median % | warm lower |", "|---|---|---|"]
    for c in cols:
        d = 100 * (warm.loc[pairs, c] / cold.loc[pairs, c] - 1)
        lines.append(f"| {c[5:]} | {d.median():+.2f} | {(d < 0).sum()} of {len(d)} |")
    start_s, reach = cold.loc[pairs, "start_s"], cold.loc[pairs, "cold_reaches_start_s"].astype(float)
    lines += ["", f"Neural stage: median {start_s.median():.2f} s; start cost / cold final: median "
              f"{(cold.loc[pairs, 'start_cost'] / cold.loc[pairs, 'final']).median():.3f}; routes: start median "
              f"{cold.loc[pairs, 'start_routes'].median():.0f}, cold final {cold.loc[pairs, 'routes'].median():.0f}. "
              f"Cold search reached the start's cost after a median {np.nanmedian(reach):.2f} s "
              f"(range {np.nanmin(reach):.2f}–{np.nanmax(reach):.2f} s)."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kind", default="ACVRPTW")
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--count", type=int, default=10)
    ap.add_argument("--seeds", type=lambda s: [int(x) for x in s.split(",")], default=[0, 1])
    ap.add_argument("--budget", type=float, default=9.0, help="seconds of each PyVRP search")
    ap.add_argument("--neural-s", type=float, default=1.0, help="seconds for the neural start")
    ap.add_argument("--instance-seed", type=int, default=0)
    ap.add_argument("--part", type=int, default=0)
    ap.add_argument("--parts", type=int, default=1)
    ap.add_argument("--report", action="store_true", help="summarise the results file only")
    args = ap.parse_args()
    path = RESULTS / f"warm_start_value_{args.kind.lower()}_n{args.n}.jsonl"
    if not args.report:
        run(args, path)
    if args.report or args.parts == 1:
        md = report(args, path)
        path.with_suffix(".md").write_text(md)
        print(md)


if __name__ == "__main__":
    main()
