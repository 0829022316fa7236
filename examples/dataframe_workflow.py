"""DataFrame round trip: a stops table → Problem → solve → routes table → CSV.

Builds an analyst-style stops table (string ids, demands, time windows) from the bundled
Helsinki road network (© OpenStreetMap contributors, ODbL) and id-indexed matrices, solves
it, and writes one row per stop and one row per route.

Run: python examples/dataframe_workflow.py [--solver pyvrp] [--out out]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

import hybridroute as hr
from hybridroute.osrm import bundled_city


def stops_table(n_customers: int = 30, seed: int = 7):
    """A delivery day: a depot and customers with demands and 2-hour windows (seconds)."""
    city = bundled_city("Helsinki")
    rng = np.random.default_rng(seed)
    pick = rng.choice(city.size, n_customers + 1, replace=False)
    ids = ["DEPOT"] + [f"C{k:03d}" for k in range(1, n_customers + 1)]
    start = rng.choice([8, 10, 12, 14], n_customers) * 3600.0
    stops = pd.DataFrame({
        "id": ids,
        "lat": city.points[pick, 0],
        "lon": city.points[pick, 1],
        "demand": np.r_[0, rng.integers(1, 10, n_customers)],
        "tw_start": np.r_[7 * 3600.0, start],
        "tw_end": np.r_[19 * 3600.0, start + 2 * 3600],
        "service_time": np.r_[0.0, np.full(n_customers, 300.0)],
    })
    # Matrices as an analyst would get them: id-indexed tables (metres, seconds), rows shuffled.
    dist = pd.DataFrame(city.distance[np.ix_(pick, pick)] * 1000.0, index=ids, columns=ids)
    dur = pd.DataFrame(city.duration[np.ix_(pick, pick)] * 60.0, index=ids, columns=ids)
    order = rng.permutation(len(ids))
    return stops.sample(frac=1, random_state=seed), dist.iloc[order], dur.iloc[order]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--solver", default=None, help="default: best installed backend")
    ap.add_argument("--time-limit", type=float, default=2.0)
    ap.add_argument("--out", default="out")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(exist_ok=True)

    stops, dist, dur = stops_table()
    problem = hr.Problem.from_dataframe(stops, distance=dist, duration=dur, capacity=40, depot="DEPOT")
    print(problem)
    sol = hr.solve(problem, args.solver, time_limit=args.time_limit)
    print(sol)

    visits = sol.to_dataframe()
    summary = sol.routes_summary()
    visits.to_csv(out / "routes.csv", index=False)
    summary.to_csv(out / "routes_summary.csv", index=False)
    with pd.option_context("display.width", 140, "display.max_columns", 20):
        print(visits.head(8).to_string(index=False, float_format=lambda x: f"{x:.1f}"))
        print(summary.to_string(index=False, float_format=lambda x: f"{x:.1f}"))
    assert set(visits.loc[visits["stop"] == "visit", "id"]) == set(stops["id"]) - {"DEPOT"}
    print(f"wrote {out / 'routes.csv'} and {out / 'routes_summary.csv'}")


if __name__ == "__main__":
    main()
