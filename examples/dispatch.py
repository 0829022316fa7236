"""A dispatcher's day: CSV files with clock times → routes, an ops sheet, a map and the why.

Stops in Monaco (bundled OSRM city matrices, © OpenStreetMap contributors, ODbL) with
``HH:MM`` windows and service times, two depots, some stops optional (with the prize that
leaving them out costs, in metres), one stop too heavy for any vehicle; a vehicles file with
two types — vans with a 4 h shift from the main depot, a truck from the second depot back to
the main one with a fixed cost, a distance limit and a lunch break.

The script writes the two input CSVs (as a dispatcher would have them), builds the problem
from them, solves it with the first installed backend that supports every feature used,
and writes:

* ``ops.csv``: one row per stop, break and unserved stop, clock times;
* ``routes.csv``: one row per route (vehicle type, stops, distance, duration, load, start/end);
* ``explain.csv``: per stop, served / late / left out / impossible, and why;
* ``routes.png``: the routes on the map (needs matplotlib).

Run: python examples/dispatch.py [--stops 40] [--solver ortools] [--time-limit 5] [--out out/dispatch]
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
from pathlib import Path

import numpy as np
import pandas as pd

import hybridroute as hr
from hybridroute.osrm import bundled_city

DAY = dt.datetime(2026, 12, 3)


def clock(seconds: float) -> str:
    return f"{int(seconds // 3600):02d}:{int(seconds % 3600 // 60):02d}"


def write_inputs(folder: Path, n_stops: int = 40, seed: int = 3) -> tuple[Path, Path]:
    """stops.csv and vehicles.csv, with clock times, as a dispatcher would export them."""
    city = bundled_city("Monaco")
    rng = np.random.default_rng(seed)
    pick = rng.choice(city.size, n_stops + 2, replace=False)
    ids = ["DEPOT-N", "DEPOT-S"] + [f"S{k:02d}" for k in range(1, n_stops + 1)]
    opens = rng.choice(np.arange(8 * 3600, 14 * 3600, 1800), n_stops)
    demand = rng.integers(1, 8, n_stops)
    required = rng.random(n_stops) > 0.2
    demand[-1], required[-1] = 70, False  # heavier than any vehicle: impossible, so optional
    stops = pd.DataFrame({
        "id": ids,
        "lat": city.points[pick, 0], "lon": city.points[pick, 1],
        "is_depot": [True, True] + [False] * n_stops,
        "demand": np.r_[0, 0, demand],
        "tw_start": ["07:00", "07:00"] + [clock(t) for t in opens],
        "tw_end": ["18:00", "18:00"] + [clock(t + 2 * 3600) for t in opens],
        "service_time": ["00:00", "00:00"] + ["00:05"] * n_stops,
        "required": np.r_[True, True, required],
        "prize": np.r_[0, 0, np.where(required, 0, rng.integers(500, 4000, n_stops))],
    })
    vehicles = pd.DataFrame({
        "name": ["van", "truck"],
        "count": [3, 1],
        "capacity": [30, 60],
        "start_depot": ["DEPOT-N", "DEPOT-S"],
        "end_depot": ["DEPOT-N", "DEPOT-N"],
        "shift_start": ["08:00", "07:30"],
        "shift_end": ["12:00", "16:00"],
        "max_distance": [None, 40_000],
        "fixed_cost": [0, 3000],
        "break_start": [None, "11:30"],
        "break_end": [None, "13:00"],
        "break_duration": [None, "00:30"],
    })
    folder.mkdir(parents=True, exist_ok=True)
    stops.to_csv(folder / "stops.csv", index=False)
    vehicles.to_csv(folder / "vehicles.csv", index=False)
    # the matrices the routing engine gave (metres, seconds), keyed by stop id
    dist = pd.DataFrame(city.distance[np.ix_(pick, pick)] * 1000.0, index=ids, columns=ids)
    dur = pd.DataFrame(city.duration[np.ix_(pick, pick)] * 60.0, index=ids, columns=ids)
    dist.to_csv(folder / "distance.csv")
    dur.to_csv(folder / "duration.csv")
    return folder / "stops.csv", folder / "vehicles.csv"


def build_problem(folder: Path) -> hr.Problem:
    """The problem from the CSV files, clock times read against the day they describe."""
    stops = pd.read_csv(folder / "stops.csv")
    vehicles = pd.read_csv(folder / "vehicles.csv")
    dist = pd.read_csv(folder / "distance.csv", index_col=0)
    dur = pd.read_csv(folder / "duration.csv", index_col=0)
    return hr.Problem.from_dataframe(stops, distance=dist, duration=dur, vehicles=vehicles,
                                     kind="ACVRPTW", time_origin=DAY, name="Monaco dispatch")


def run(out: Path, n_stops: int = 40, solver: str | None = None, time_limit: float = 5.0,
        plot: bool = True) -> dict[str, object]:
    write_inputs(out, n_stops)
    problem = build_problem(out)
    before = hr.explain(problem)
    solution = hr.solve(problem, solver, time_limit=time_limit)
    why = hr.explain(problem, solution)
    solution.to_dataframe(times="clock").to_csv(out / "ops.csv", index=False)
    solution.routes_summary(times="clock").to_csv(out / "routes.csv", index=False)
    why.to_csv(out / "explain.csv", index=False)
    if plot:
        try:
            from hybridroute.plotting import plot_routes
        except ImportError:  # matplotlib is an optional extra
            plot = False
        else:
            import matplotlib

            matplotlib.use("Agg")
            ax = plot_routes(solution)
            ax.figure.savefig(out / "routes.png", dpi=120, bbox_inches="tight")
    return {"problem": problem, "solution": solution, "explain": why, "before": before, "plotted": plot}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stops", type=int, default=40)
    ap.add_argument("--solver", default=None, help="default: the first installed backend that supports the features")
    ap.add_argument("--time-limit", type=float, default=5.0)
    ap.add_argument("--out", default="out/dispatch")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    result = run(Path(args.out), args.stops, args.solver, args.time_limit)
    problem, solution, why = result["problem"], result["solution"], result["explain"]
    print(problem)
    print(solution)
    print(solution.routes_summary(times="clock").to_string(index=False))
    print()
    brief = why.loc[why["status"] != "served", ["id", "status", "binding", "prize", "reason"]].copy()
    brief["reason"] = brief["reason"].str.slice(0, 100)  # the whole reason is in explain.csv
    print(brief.to_string(index=False))
    print(f"\nwrote {args.out}/ops.csv, routes.csv, explain.csv" + (", routes.png" if result["plotted"] else ""))


if __name__ == "__main__":
    main()
