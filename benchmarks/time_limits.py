"""The time-limit contract, measured: wall time / time limit per backend and size.

Every solve runs in a fresh Python process, so each cell is a *first call*: the backend's
imports, any model load and any side processes are inside the measured time, as they are
for a user's first solve. The contract (``hybridroute.solvers.base.allowed_runtime``) is
``time_limit × 1.1 + 0.5 s``; a cell outside it is marked ``✗``.

Instances: ACVRP (``--kind``; ATSP for ``lkh``, which solves ATSP only) with n = 10, 100, 200, 500 and
1000 customers sampled, seed 0, from a 1001-point city built with OSRM from the Monaco
extract (``python -m hybridroute.osrm.build monaco.osm.pbf --points 1001``; built here on first
use from ``--extract``, default ``../shared/data/osm/monaco.osm.pbf``).

Writes ``results/time_limits.csv`` and ``results/time_limits.md`` (and prints the table).

Usage::

    python benchmarks/time_limits.py [--limits 1,10] [--sizes 10,100,200,500,1000] [--solvers all]
                                     [--kind ACVRPTW] [--out time_limits_acvrptw]
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
CITY = REPO / "data" / "bench" / "Monaco1001_data.npz"  # not under data/cities: no training city
DEFAULT_EXTRACT = REPO.parent / "shared" / "data" / "osm" / "monaco.osm.pbf"

NN_NOTE = '(nn): the backend returned its nearest-neighbour fallback, with the reason in `stats` (rrnco: the model was still loading on this first call; vroom, lkh: a native phase that cannot be interrupted was estimated past the deadline and was stopped at it).'

# One solve in a fresh interpreter: prints one JSON line.
CHILD = r"""
import json, sys, time
sys.path.insert(0, {repo!r})
import hybridroute as hr
from hybridroute.osrm import sample_instances
problem = sample_instances({city!r}, {kind!r}, n={n}, count=1, seed=0)[0]
solver = hr.get_solver({solver!r})
t0 = time.perf_counter()
sol = solver.solve(problem, time_limit={limit}, seed=0)
wall = time.perf_counter() - t0
keep = ("fallback", "fallback_reason", "starts", "augment", "stopped", "first_skipped", "exploration_level",
        "cpu_limit_floored", "portfolio")
stats = {{k: sol.stats[k] for k in keep if k in sol.stats}}
print(json.dumps({{"wall_s": wall, "runtime_s": sol.runtime, "status": sol.status.value, "cost": sol.cost,
                  "stats": stats}}, default=str))
"""


def ensure_city(extract: Path) -> Path:
    if CITY.exists():
        return CITY
    if not extract.exists():
        sys.exit(f"need {CITY} or the OSM extract {extract} to build it (--extract)")
    CITY.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "hybridroute.osrm.build", str(extract), "-o", str(CITY),
                    "--points", "1001"], check=True, cwd=REPO)
    return CITY


def run_cell(solver: str, kind: str, n: int, limit: float, city: Path) -> dict:
    code = CHILD.format(repo=str(REPO), city=str(city), kind=kind, n=n, solver=solver, limit=limit)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=limit * 5 + 120)
    process_s = time.perf_counter() - t0
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = proc.stderr.strip().splitlines()[-1:] or ["no output"]
        return {"solver": solver, "kind": kind, "n": n, "time_limit_s": limit, "error": tail[0],
                "process_s": process_s}
    out = json.loads(lines[-1])
    allowed = limit * 1.1 + 0.5
    return {"solver": solver, "kind": kind, "n": n, "time_limit_s": limit, "wall_s": out["wall_s"],
            "ratio": out["wall_s"] / limit, "within": out["wall_s"] <= allowed, "status": out["status"],
            "cost": out["cost"], "process_s": process_s, "stats": json.dumps(out["stats"])}


def table(rows: list[dict], sizes: list[int], limits: list[float]) -> str:
    solvers = list(dict.fromkeys(r["solver"] for r in rows))
    lines = []
    for limit in limits:
        lines += [f"**time_limit = {limit:g} s** (wall / limit; ✗ = outside {limit * 1.1 + 0.5:.2f} s)", "",
                  "| backend | kind | " + " | ".join(f"n = {n}" for n in sizes) + " |",
                  "|---|---|" + "---|" * len(sizes)]
        for s in solvers:
            cells, kind = [], ""
            for n in sizes:
                r = next((r for r in rows if r["solver"] == s and r["n"] == n and r["time_limit_s"] == limit), None)
                if r is None:
                    cells.append("—")
                    continue
                kind = r["kind"]
                if "error" in r:
                    cells.append("error")
                    continue
                stats = json.loads(r["stats"])
                mark = "" if r["within"] else " ✗"
                note = " (nn)" if stats.get("fallback") == "nearest" else ""
                cells.append(f"{r['ratio']:.2f}{mark}{note}")
            lines.append(f"| {s} | {kind} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limits", default="1,10", help="time limits in seconds (comma-separated)")
    ap.add_argument("--sizes", default="10,100,200,500,1000", help="customers (comma-separated)")
    ap.add_argument("--solvers", default="all", help="backends (comma-separated) or 'all' installed")
    ap.add_argument("--kind", default="ACVRP", choices=["ATSP", "ACVRP", "ACVRPTW"],
                    help="problem kind of every cell (lkh: always ATSP)")
    ap.add_argument("--extract", type=Path, default=DEFAULT_EXTRACT, help="OSM extract for the city")
    ap.add_argument("--out", default="time_limits", help="results/<out>.csv and .md")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(REPO))
    import pandas as pd

    import hybridroute as hr

    limits = [float(x) for x in args.limits.split(",")]
    sizes = [int(x) for x in args.sizes.split(",")]
    solvers = hr.installed_solvers() if args.solvers == "all" else args.solvers.split(",")
    city = ensure_city(args.extract)
    rows = []
    for limit in limits:
        for solver in solvers:
            kind = "ATSP" if solver == "lkh" else args.kind
            for n in sizes:
                row = run_cell(solver, kind, n, limit, city)
                rows.append(row)
                print(f"{solver:14s} {kind:7s} n={n:5d} limit={limit:5g}s "
                      f"wall={row.get('wall_s', float('nan')):7.2f}s {row.get('error', '')}", flush=True)
    RESULTS.mkdir(exist_ok=True)
    pd.DataFrame(rows).to_csv(RESULTS / f"{args.out}.csv", index=False)
    command = "python benchmarks/time_limits.py " + " ".join(argv if argv is not None else sys.argv[1:])
    header = (f"# Time limits kept, first call of a fresh process\n\n"
              f"`{command.strip()}` on {datetime.date.today().isoformat()}, {platform.machine()} "
              f"({len(__import__('os').sched_getaffinity(0))} usable cores), hybridroute {hr.__version__}.\n"
              f"Cells: wall seconds of `solve()` / time_limit; {NN_NOTE}\n\n")
    text = header + table(rows, sizes, limits)
    (RESULTS / f"{args.out}.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    bad = [r for r in rows if "error" in r or not r.get("within", False)]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
