"""Neural warm start: the RRNCO policy's solution seeds OR-Tools and PyVRP.

For a few bundled Helsinki instances (© OpenStreetMap contributors, ODbL) it compares, at
the same total budget, each classical backend from its own construction ("cold") with the
hybrid in which the neural policy builds the start ("rrnco+…"), and prints both stages.

Run: python examples/warm_start.py [--kind ACVRP] [--n 50] [--budget 2]
"""

from __future__ import annotations

import argparse

import pandas as pd

import hybridroute as hr
from hybridroute.osrm import sample_instances


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kind", default="ACVRP", choices=["ATSP", "ACVRP", "ACVRPTW"])
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--count", type=int, default=3)
    ap.add_argument("--budget", type=float, default=2.0, help="total seconds per solve")
    args = ap.parse_args()

    installed = set(hr.installed_solvers())
    pairs = [(c, f"rrnco+{c}") for c in ("ortools", "pyvrp") if {c, f"rrnco+{c}"} <= installed]
    if not pairs:
        raise SystemExit('needs the neural and a classical backend: pip install "hybridroute[all]"')
    rows = []
    for problem in sample_instances("Helsinki", args.kind, args.n, args.count, seed=11):
        for cold_name, hybrid_name in pairs:
            cold = hr.solve(problem, cold_name, time_limit=args.budget, seed=0)
            hyb = hr.solve(problem, hybrid_name, time_limit=args.budget, seed=0)
            st = hyb.stats
            rows.append({
                "instance": problem.name, "backend": cold_name,
                "cold_km": cold.cost / 1000,
                # None when the hybrid skipped its neural stage (see Hybrid's max_first_share / gate)
                "neural_km": st["first_cost"] / 1000 if st.get("first_cost") is not None else float("nan"),
                "neural_s": st["first_runtime"], "hybrid_km": hyb.cost / 1000,
                "start": ("skipped" if "first_skipped" in st else "refused" if "start_gated" in st
                          else "accepted" if st["initial_accepted"] else "rejected"),
                "hybrid_vs_cold_pct": 100 * (hyb.cost - cold.cost) / cold.cost,
            })
    df = pd.DataFrame(rows)
    print(f"{args.kind} n={args.n}, {args.budget:g} s total per solve")
    print(df.to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    print("\nmedian hybrid vs cold (%):")
    print(df.groupby("backend")["hybrid_vs_cold_pct"].median().to_string(float_format=lambda x: f"{x:+.2f}"))


if __name__ == "__main__":
    main()
