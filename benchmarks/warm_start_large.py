"""Cold search against the neural warm start on one large size (default ACVRP n = 1000, 10 s).

Instances are sampled (seed ``--instance-seed``) from a held-out city build with more points
than the 1000-point training builds, e.g.::

    python -m hybridroute.osrm.build ../shared/data/osm/Helsinki.osm.pbf -o data/bench --points 1001 --seed 0
    python benchmarks/warm_start_large.py --then pyvrp --n 1000 --budget 10 --count 5

Each instance runs cold ``--then``, ``rrnco+<then>`` and nearest neighbour in one process, one
after another (the neural stage on one thread), once per seed of ``--seeds``. Writes one JSON
line per instance and seed and a summary (paired median of hybrid − cold in %, better / equal
/ worse, and cold's seed spread: the median over instances of its largest − smallest cost
across the seeds, in %) to ``results/warm_start_large_<kind>_n<n>_<then>[<tag>].jsonl`` and
prints them.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads: idle threads must not spin

import numpy as np

import hybridroute as hr
from hybridroute.osrm import load_city, sample_instances

RESULTS = Path(__file__).resolve().parent / "results"


def better_equal_worse(diffs: list[float]) -> tuple[int, int, int]:
    """How many differences (first minus second) are negative, zero and positive."""
    return int(sum(d < 0 for d in diffs)), int(sum(d == 0 for d in diffs)), int(sum(d > 0 for d in diffs))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--city", default="data/bench/Helsinki_data.npz")
    ap.add_argument("--kind", default="ACVRP")
    ap.add_argument("--then", default="pyvrp", help="the improver: pyvrp or ortools")
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--count", type=int, default=5)
    ap.add_argument("--budget", type=float, default=10.0, help="seconds per solve")
    ap.add_argument("--seeds", default="0", help="comma-separated solver seeds (default 0)")
    ap.add_argument("--tag", default="", help="suffix of the results file name")
    ap.add_argument("--instance-seed", type=int, default=20251111)
    ap.add_argument("--split", type=float, default=None,
                    help="the hybrid's first-stage share of the budget (default: the hybrid's own)")
    ap.add_argument("--nearest-start", action="store_true",
                    help="also run --then from the nearest-neighbour solution (initial=, the whole budget): "
                         "does any start give the improver what the neural one gives?")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(1)
    city = load_city(args.city)
    hr.load_solver("rrnco").warm_up([args.kind])  # a model load is not search time
    seeds = [int(x) for x in args.seeds.split(",")]
    out = RESULTS / f"warm_start_large_{args.kind.lower()}_n{args.n}_{args.then}{args.tag}.jsonl"
    lines = [json.dumps({"command": "python benchmarks/warm_start_large.py " + " ".join(sys.argv[1:]),
                         "date": datetime.date.today().isoformat()})]
    rows, colds = [], {}
    problems = sample_instances(city, args.kind, args.n, args.count, seed=args.instance_seed)
    for seed in seeds:
        for i, p in enumerate(problems):
            cold = hr.solve(p, args.then, time_limit=args.budget, seed=seed)
            hybrid = hr.get_solver(f"rrnco+{args.then}", **({} if args.split is None else {"split": args.split}))
            hyb = hybrid.solve(p, time_limit=args.budget, seed=seed)
            nearest = hr.solve(p, "nearest")
            from_nearest = (hr.solve(p, args.then, time_limit=args.budget, seed=seed, initial=nearest)
                            if args.nearest_start else None)
            first = hyb.stats.get("first_stats") or {}
            row = {"instance": i, "seed": seed, "cold": cold.cost, "hybrid": hyb.cost, "nearest": nearest.cost,
                   "hybrid_minus_cold_pct": 100 * (hyb.cost - cold.cost) / cold.cost,
                   "neural_cost": hyb.stats.get("first_cost"), "start_accepted": hyb.stats.get("initial_accepted"),
                   "neural_s": hyb.stats.get("first_runtime"), "neural_starts": first.get("starts"),
                   "neural_rounds": first.get("reconstruct_rounds"),
                   "first_pass_s": first.get("first_pass_s"), "first_skipped": hyb.stats.get("first_skipped"),
                   "cold_wall_s": cold.runtime, "hybrid_wall_s": hyb.runtime}
            if from_nearest is not None:
                row["from_nearest"] = from_nearest.cost
                row["from_nearest_minus_cold_pct"] = 100 * (from_nearest.cost - cold.cost) / cold.cost
                row["hybrid_minus_from_nearest_pct"] = 100 * (hyb.cost - from_nearest.cost) / from_nearest.cost
            rows.append(row)
            colds.setdefault(i, []).append(cold.cost)
            lines.append(json.dumps(row))
            print(lines[-1], flush=True)
    spread = [100 * (max(c) - min(c)) / min(c) for c in colds.values()]
    diffs = [r["hybrid_minus_cold_pct"] for r in rows]
    better, equal, worse = better_equal_worse(diffs)
    summary = {"median_hybrid_minus_cold_pct": float(np.median(diffs)),
               "hybrid_better": better, "equal": equal, "hybrid_worse": worse, "pairs": len(diffs),
               "cold_seed_spread_pct": float(np.median(spread)) if len(seeds) > 1 else None}
    if args.nearest_start:
        for key in ("from_nearest_minus_cold_pct", "hybrid_minus_from_nearest_pct"):
            d = [r[key] for r in rows]
            summary[f"median_{key}"] = float(np.median(d))
            summary[f"{key}_better_equal_worse"] = list(better_equal_worse(d))
    lines.append(json.dumps(summary))
    print(lines[-1])
    out.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
