"""Compare every installed backend, hybrids included, on bundled real-city instances.

Samples instances of each kind from the bundled Helsinki road network (OSRM matrices,
© OpenStreetMap contributors, ODbL), solves them with every installed solver at the same
budget, prints a table, and writes a CSV and PNG plots to ``out/``.

Run: python examples/compare_solvers.py [--n 50] [--count 3] [--budget 1.0] [--out out]
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

import hybridroute as hr
from hybridroute.osrm import sample_instances
from hybridroute.solvers import solver_class

KINDS = ("ATSP", "ACVRP", "ACVRPTW")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--city", default="Helsinki")
    ap.add_argument("--n", type=int, default=50, help="customers per instance")
    ap.add_argument("--count", type=int, default=3, help="instances per kind")
    ap.add_argument("--budget", type=float, default=1.0, help="seconds per solve")
    ap.add_argument("--out", default="out")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    out = Path(args.out)
    out.mkdir(exist_ok=True)

    solvers = hr.installed_solvers()
    print(f"installed solvers: {', '.join(solvers)}")
    frames, anytime = [], {}
    for kind in KINDS:
        problems = sample_instances(args.city, kind, args.n, args.count, seed=2026)
        usable = [s for s in solvers if problems[0].kind in solver_class(s).supports]
        df, sols = hr.compare(problems, usable, time_limits=[args.budget], seeds=[0], return_solutions=True)
        frames.append(df)
        # Anytime curves and a route map for the first instance of each kind.
        first = df["instance"] == problems[0].name
        anytime[kind] = {row.solver: sols[i] for i, row in df[first].iterrows()}
    results = pd.concat(frames, ignore_index=True)
    results.to_csv(out / "compare.csv", index=False)

    table = (results.groupby(["kind", "solver"])
             .agg(mean_cost_km=("cost", lambda c: c.mean() / 1000), median_gap_pct=("gap_pct", "median"),
                  feasible=("feasible", "mean"), mean_runtime_s=("runtime_s", "mean"))
             .reset_index().sort_values(["kind", "median_gap_pct"]))
    print(f"\n{args.city}, n={args.n}, {args.count} instances per kind, {args.budget:g} s per solve "
          "(gap to the best cost found by any solver):")
    print(table.to_string(index=False, float_format=lambda x: f"{x:.2f}"))

    try:
        from hybridroute.plotting import plot_anytime, plot_routes
    except ImportError:
        return
    for kind, sols in anytime.items():
        plot_anytime(sols, path=out / f"anytime_{kind}.png", title=f"{args.city} {kind} n={args.n}")
        best = min((s for s in sols.values() if s.is_feasible), key=lambda s: s.cost)
        plot_routes(best, path=out / f"routes_{kind}.png")
    print(f"\nwrote {out / 'compare.csv'} and PNG plots in {out}/")


if __name__ == "__main__":
    main()
