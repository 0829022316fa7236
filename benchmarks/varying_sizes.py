"""A pipeline whose instances all differ in size: the hybrid against its cold improver.

One process solves a stream of held-out Helsinki instances whose customer counts all differ
(``--sizes``, default 150, 160, …, 340), as a daily pipeline would. A hybrid learns how long
the neural stage's first decoding pass takes per (kind, size); a size it has not run yet takes
the need of the nearest size it has run, scaled by n^1.5 (``hybridroute.solvers.hybrid``).
Per instance and seed, the cold improver and the hybrid run one after the other at the same
budget, so both see the same machine load.

Reports how often the neural stage handed on a start, and the paired difference
hybrid − cold in % of cold (median, better / equal / worse), beside the cold backend's seed
spread (median over instances of max − min over seeds, % of the best).

Usage::

    python benchmarks/varying_sizes.py [--kind ACVRP] [--sizes 150,160,...] [--budgets 1,2]
                                       [--then pyvrp] [--seeds 0,1] [--out varying_sizes_acvrp]
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
sys.path.insert(0, str(REPO / "benchmarks"))


def run(args) -> list[dict]:
    import torch

    import hybridroute as hr
    from hybridroute.osrm import sample_instances
    from time_to_target import held_out_city

    torch.set_num_threads(1)  # as in time_to_target.py: the neural stage on one thread
    city = held_out_city()
    hr.solve(sample_instances(city, args.kind, 10, 1, seed=0)[0], "rrnco", time_limit=0.1)  # load the model
    hybrid = f"rrnco+{args.then}"
    rows = []
    for budget in args.budgets:
        for i, n in enumerate(args.sizes):
            problem = sample_instances(city, args.kind, n, 1, seed=1000 + i)[0]
            for seed in args.seeds:
                for solver in (args.then, hybrid):
                    sol = hr.solve(problem, solver, time_limit=budget, seed=seed)
                    st = sol.stats
                    rows.append({"budget_s": budget, "n": n, "seed": seed, "solver": solver, "cost": sol.cost,
                                 "feasible": sol.is_feasible, "wall_s": sol.runtime,
                                 "start_accepted": bool(st.get("initial_accepted")) if solver == hybrid else None,
                                 "first_skipped": st.get("first_skipped") is not None if solver == hybrid else None})
                    print(json.dumps(rows[-1]), flush=True)
    return rows


def report(rows: list[dict], args) -> str:
    import pandas as pd

    df = pd.DataFrame(rows)
    hybrid = f"rrnco+{args.then}"
    lines = ["| budget (s) | starts handed on | skipped | hybrid − cold, median % | better / equal / worse "
             "| cold seed spread % | longest wall (s) |", "|---|---|---|---|---|---|---|"]
    for budget, g in df.groupby("budget_s"):
        cold = g[g.solver == args.then].set_index(["n", "seed"]).cost
        hyb = g[g.solver == hybrid].set_index(["n", "seed"])
        d = 100 * (hyb.cost - cold) / cold
        spread = g[g.solver == args.then].groupby("n").cost.agg(lambda c: 100 * (c.max() - c.min()) / c.min())
        lines.append(f"| {budget:g} | {int(hyb.start_accepted.sum())} of {len(hyb)} | {int(hyb.first_skipped.sum())} "
                     f"| {np.median(d):+.2f} | {(d < -1e-9).sum()} / {(abs(d) <= 1e-9).sum()} / {(d > 1e-9).sum()} "
                     f"| {spread.median():.2f} | {g.wall_s.max():.2f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kind", default="ACVRP", choices=["ATSP", "ACVRP", "ACVRPTW"])
    ap.add_argument("--sizes", default=",".join(str(n) for n in range(150, 341, 10)))
    ap.add_argument("--budgets", default="1,2", help="time limits in seconds (comma-separated)")
    ap.add_argument("--then", default="pyvrp", help="the improver (cold, and after rrnco in the hybrid)")
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--out", default=None, help="results/<out>.csv and .md (default varying_sizes_<kind>_<then>)")
    args = ap.parse_args(argv)
    args.sizes = [int(x) for x in args.sizes.split(",")]
    args.budgets = [float(x) for x in args.budgets.split(",")]
    args.seeds = [int(x) for x in args.seeds.split(",")]
    out = args.out or f"varying_sizes_{args.kind.lower()}_{args.then}"
    sys.path.insert(0, str(REPO))
    import pandas as pd

    import hybridroute as hr

    rows = run(args)
    RESULTS.mkdir(exist_ok=True)
    pd.DataFrame(rows).to_csv(RESULTS / f"{out}.csv", index=False)
    command = "python benchmarks/varying_sizes.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = (f"# Instances that all differ in size: rrnco+{args.then} against cold {args.then}\n\n"
            f"`{command.strip()}` on {datetime.date.today().isoformat()}, {platform.machine()}, "
            f"hybridroute {hr.__version__}; {args.kind}, held-out Helsinki, n = {args.sizes[0]}–{args.sizes[-1]} "
            f"({len(args.sizes)} sizes, one instance each), seeds {','.join(map(str, args.seeds))}.\n\n"
            + report(rows, args))
    (RESULTS / f"{out}.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
