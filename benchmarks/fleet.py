"""Dispatch features on real road networks: every backend that supports them, 1/5/10 s.

Instances (seeded, from the bundled OSRM cities Helsinki and Monaco, 200 points each; data ©
OpenStreetMap contributors, ODbL): ``n`` stops with demands 1-9, 5 min service and 2-hour
windows between 08:00 and 16:00; two depots (the first two sampled points, open 07:00-18:00).

Scenario ``fleet``: a heterogeneous fleet from two depots with shifts, fixed costs and a
distance limit, and 20 % optional stops:

* ``van``: capacity 20, from depot 0, shift 08:00-12:00 (4 h), fixed cost 2 km;
* ``truck``: capacity 40, from depot 1 back to depot 0, shift 07:00-17:00, fixed cost 6 km,
  at most 60 km a route;
* every fifth stop optional, its prize 0.5-3 times its round trip from the nearest depot
  (metres), so that some are worth serving and some are not.

Scenario ``breaks``: the same fleet, every stop required, and each route takes a 30 min
break starting between 11:30 and 13:00 when it is under way then (the van's shift is
08:00-16:00 here so that its routes span lunch).

Every solution is re-evaluated by hybridroute (cost = metres + fixed costs + prizes of the
stops left out). Writes ``results/fleet.csv`` and ``results/fleet.md``.

Usage::

    python benchmarks/fleet.py [--limits 1,5,10] [--sizes 50,100] [--seeds 0,1] [--solvers all]
"""

from __future__ import annotations

import argparse
import datetime
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import hybridroute as hr  # noqa: E402
from hybridroute.osrm import bundled_city  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
CITIES = ("Helsinki", "Monaco")
HOUR = 3600.0


def fleet_instance(city_name: str, n: int, seed: int, scenario: str) -> hr.Problem:
    """A two-depot dispatch day of ``n`` stops in a bundled city (metres, seconds)."""
    city = bundled_city(city_name)
    rng = np.random.default_rng([seed, n, 0 if scenario == "fleet" else 1])
    pick = rng.choice(city.size, n + 2, replace=False)
    dist = city.distance[np.ix_(pick, pick)].astype(float) * 1000.0
    dur = city.duration[np.ix_(pick, pick)].astype(float) * 60.0
    np.fill_diagonal(dist, 0.0)
    np.fill_diagonal(dur, 0.0)
    opens = rng.choice(np.arange(8.0, 14.5, 0.5), n) * HOUR
    windows = np.r_[[[7 * HOUR, 18 * HOUR]] * 2, np.c_[opens, opens + 2 * HOUR]]
    service = np.r_[0.0, 0.0, np.full(n, 300.0)]
    demand = np.r_[0, 0, rng.integers(1, 10, n)]
    van_shift = (8 * HOUR, 12 * HOUR) if scenario == "fleet" else (8 * HOUR, 16 * HOUR)
    breaks = [] if scenario == "fleet" else [(11.5 * HOUR, 13 * HOUR, 1800.0)]
    types = [
        hr.VehicleType(count=None, capacity=20, start_depot=0, shift=van_shift, fixed_cost=2000.0,
                       breaks=breaks, name="van"),
        hr.VehicleType(count=None, capacity=40, start_depot=1, end_depot=0, shift=(7 * HOUR, 17 * HOUR),
                       fixed_cost=6000.0, max_distance=60_000.0, breaks=breaks, name="truck"),
    ]
    required = prize = None
    if scenario == "fleet":
        required = np.ones(n + 2, dtype=bool)
        required[2::5] = False
        round_trip = np.minimum(dist[0, :] + dist[:, 0], dist[1, :] + dist[:, 1])
        prize = np.where(required, 0.0, round_trip * rng.uniform(0.5, 3.0, n + 2))
    return hr.Problem("ACVRPTW", dist, dur, demand=demand, time_windows=windows, service_time=service,
                      num_depots=2, vehicle_types=types, required=required, prize=prize,
                      name=f"{city_name}-{scenario}-n{n}-s{seed}")


def run(limits, sizes, seeds, solvers, scenarios) -> pd.DataFrame:
    rows = []
    for scenario in scenarios:
        for city in CITIES:
            for n in sizes:
                for seed in seeds:
                    problem = fleet_instance(city, n, seed, scenario)
                    for name in solvers:
                        solver = hr.get_solver(name)
                        if not problem.features <= solver.features:
                            continue
                        for limit in limits:
                            t0 = time.perf_counter()
                            sol = solver.solve(problem, time_limit=limit, seed=seed)
                            wall = time.perf_counter() - t0
                            rows.append(dict(
                                scenario=scenario, city=city, n=n, seed=seed, solver=name, time_limit=limit,
                                status=sol.status.value, cost=sol.cost, distance_m=sol.distance,
                                fixed_cost=sol.fixed_cost, unserved=len(sol.unserved),
                                unserved_prize=sol.unserved_prize, routes=sol.num_routes,
                                violations=len(sol.violations), wall_s=wall))
                            print(f"{problem.name:28s} {name:14s} {limit:4g} s  {sol.status.value:10s} "
                                  f"cost {sol.cost:12.1f}  routes {sol.num_routes:3d}  unserved "
                                  f"{len(sol.unserved):3d}  {wall:6.2f} s", flush=True)
    return pd.DataFrame(rows)


def report(df: pd.DataFrame, command: str) -> str:
    feasible = df["status"].isin(["feasible", "optimal"])
    best = df[feasible].groupby(["scenario", "city", "n", "seed"])["cost"].min().rename("best")
    df = df.join(best, on=["scenario", "city", "n", "seed"])
    df["gap_pct"] = np.where(feasible, 100.0 * (df["cost"] / df["best"] - 1.0), np.nan)
    lines = [f"Command: `{command}`  ", f"Date: {datetime.date.today().isoformat()}, "
             f"{platform.processor() or platform.machine()}, Python {platform.python_version()}.", ""]
    for scenario, part in df.groupby("scenario", sort=False):
        lines += [f"### {scenario}", "",
                  "Mean gap (%) to the best feasible cost found for the instance (any backend, any limit); "
                  "feasible runs / runs in brackets; mean wall time.", ""]
        table = part.groupby(["solver", "time_limit"]).agg(
            gap=("gap_pct", "mean"), feasible=("status", lambda s: int(s.isin(["feasible", "optimal"]).sum())),
            runs=("status", "size"), unserved=("unserved", "mean"), routes=("routes", "mean"),
            wall=("wall_s", "mean")).reset_index()
        lines.append("| solver | limit (s) | gap % | feasible | unserved stops | routes | wall (s) |")
        lines.append("|---|---|---|---|---|---|---|")
        for r in table.itertuples():
            lines.append(f"| {r.solver} | {r.time_limit:g} | {r.gap:.2f} | {r.feasible}/{r.runs} | "
                         f"{r.unserved:.1f} | {r.routes:.1f} | {r.wall:.2f} |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limits", default="1,5,10")
    ap.add_argument("--sizes", default="50,100")
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--solvers", default="all", help="comma-separated, or 'all' installed")
    ap.add_argument("--scenarios", default="fleet,breaks")
    ap.add_argument("--out", default=str(RESULTS / "fleet"))
    args = ap.parse_args(argv)
    solvers = (hr.installed_solvers() if args.solvers == "all" else args.solvers.split(","))
    df = run([float(x) for x in args.limits.split(",")], [int(x) for x in args.sizes.split(",")],
             [int(x) for x in args.seeds.split(",")], solvers, args.scenarios.split(","))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(out.with_suffix(".csv"), index=False)
    command = "python benchmarks/fleet.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = report(df, command.strip())
    out.with_suffix(".md").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
