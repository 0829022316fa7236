"""From an OSM extract to solved routes through a real, local OSRM.

Starts osrm-routed on 127.0.0.1 over an OpenStreetMap extract (default: Monaco from the
project's shared data), samples road points along the drivable network, queries their
asymmetric distance/duration matrices, samples ACVRP instances by the RRNCO rules and solves
them. Also builds a Problem straight from a stops DataFrame with ``Problem.from_osrm``.

Needs the OSRM executables: ``scripts/fetch_osrm.sh`` (``scripts/setup.sh --dev`` runs it).
Map data © OpenStreetMap contributors, ODbL.

Run: python examples/osrm_city.py [EXTRACT.osm.pbf] [--points 200]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

import hybridroute as hr
from hybridroute.osrm import LocalOSRM, build_city, sample_instances

DEFAULT_EXTRACT = Path(__file__).resolve().parents[2] / "shared" / "data" / "osm" / "monaco.osm.pbf"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("extract", nargs="?", default=str(DEFAULT_EXTRACT))
    ap.add_argument("--points", type=int, default=200)
    ap.add_argument("--n", type=int, default=30, help="customers per instance")
    ap.add_argument("--out", default="out")
    args = ap.parse_args()
    if not Path(args.extract).exists():
        raise SystemExit(f"extract not found: {args.extract} (pass an .osm/.osm.pbf file)")
    Path(args.out).mkdir(exist_ok=True)

    with LocalOSRM(args.extract) as osrm:
        t0 = time.perf_counter()
        city = build_city(args.extract, n_points=args.points, seed=0, osrm=osrm, out=args.out, progress=True)
        print(f"built {city} in {time.perf_counter() - t0:.1f} s; "
              f"asymmetry {city.meta.get('asymmetry', float('nan')):.3f}")

        # A stops table → Problem with matrices fetched from the running server.
        pts = city.points[:12]
        stops = pd.DataFrame({"id": [f"S{k}" for k in range(12)], "lat": pts[:, 0], "lon": pts[:, 1],
                              "demand": np.r_[0, np.full(11, 2)]})
        p = hr.Problem.from_osrm(stops, osrm.client(), capacity=8)
        print(p, hr.solve(p, time_limit=1), sep="\n")

    solver = hr.installed_solvers()[0]
    for problem in sample_instances(city, "ACVRP", args.n, 3, seed=1):
        sol = hr.solve(problem, solver, time_limit=1)
        print(f"{problem.name}: {solver} {sol.cost / 1000:.2f} km, {sol.num_routes} routes, {sol.status.value}")


if __name__ == "__main__":
    main()
