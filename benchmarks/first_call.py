"""The first solve of a process: a hybrid's neural share with and without the warm-up calibration.

A hybrid sizes its first stage's share from the first pass it measured on the same kind and
size (or the nearest size, scaled by n^1.5). A fresh process has measured nothing, so before
:meth:`hybridroute.solvers.hybrid.Hybrid.calibrate` its first solve got ``split`` (10 %) of the
limit, too little for a decoding pass at n >= 100 with 1 s. Each run here is a fresh Python
process that loads the hybrid (``load_solver``: with the calibration, or ``--variant flat``:
both stages warmed up without it, as before), solves one held-out Helsinki instance, and then
solves it cold with the improver in the same process. Writes
``results/first_call<tag>.{csv,md}``::

    python benchmarks/first_call.py --cells ATSP:200:1,ACVRP:200:1,ACVRP:500:2 --count 6
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parents[1]


def one_run(kind: str, n: int, limit: float, index: int, variant: str, then: str, city: str) -> dict:
    """One fresh-process solve (runs in the child)."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    import hybridroute as hr
    from hybridroute.osrm import load_city, sample_instances

    torch.set_num_threads(1)
    name = f"rrnco+{then}"
    if variant == "calibrated":
        solver = hr.load_solver(name, kinds=[kind])
    else:  # the warm-up as it was before the calibration: both stages, nothing measured
        solver = hr.get_solver(name)
        solver._stage(solver.first, solver.first_settings).warm_up([kind])
        solver._stage(solver.then, solver.then_settings).warm_up([kind])
    problem = sample_instances(load_city(city), kind, n, index + 1, seed=20251205)[index]
    hybrid = solver.solve(problem, time_limit=limit, seed=0)
    cold = hr.solve(problem, then, time_limit=limit, seed=0)
    first = hybrid.stats.get("first_stats") or {}
    return {"kind": kind, "n": n, "limit_s": limit, "instance": index, "variant": variant,
            "wall_over_limit": hybrid.runtime / limit, "first_s": hybrid.stats.get("first_runtime", 0.0),
            "skipped": hybrid.stats.get("first_skipped") is not None,
            "fallback": first.get("fallback") is not None,
            "handed_on": bool(hybrid.stats.get("initial_accepted")),
            "hybrid": hybrid.cost, "cold": cold.cost, "hybrid_minus_cold_pct": 100 * (hybrid.cost / cold.cost - 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cells", default="ATSP:200:1,ACVRP:200:1,ACVRP:500:2",
                    help="KIND:N:SECONDS, comma-separated")
    ap.add_argument("--count", type=int, default=6, help="instances (fresh processes) per cell and variant")
    ap.add_argument("--then", default="pyvrp")
    ap.add_argument("--city", default="data/cities/Helsinki_data.npz")
    ap.add_argument("--variants", default="flat,calibrated")
    ap.add_argument("--tag", default="")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(one_run(**json.loads(args.child))), flush=True)
        return

    import pandas as pd

    rows = []
    for cell in args.cells.split(","):
        kind, n, limit = cell.split(":")
        for index in range(args.count):
            for variant in args.variants.split(","):
                spec = {"kind": kind, "n": int(n), "limit": float(limit), "index": index, "variant": variant,
                        "then": args.then, "city": args.city}
                out = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], cwd=ROOT,
                                     capture_output=True, text=True, check=True)
                rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
                print(rows[-1], flush=True)
    df = pd.DataFrame(rows)
    RESULTS.mkdir(exist_ok=True)
    df.to_csv(RESULTS / f"first_call{args.tag}.csv", index=False)
    summary = (df.groupby(["kind", "n", "limit_s", "variant"], sort=False)
               .agg(runs=("instance", "size"), handed_on=("handed_on", "mean"), fallback=("fallback", "mean"),
                    skipped=("skipped", "mean"), first_s_median=("first_s", "median"),
                    hybrid_minus_cold_median_pct=("hybrid_minus_cold_pct", "median"),
                    wall_over_limit_max=("wall_over_limit", "max"))
               .reset_index())
    command = "python benchmarks/first_call.py " + " ".join(sys.argv[1:])
    head = (f"# The first solve of a process: rrnco+{args.then}\n\n`{command}` "
            f"({datetime.date.today().isoformat()})\n\nEach run is a fresh process: `flat` warms both stages "
            "up as before (nothing measured: the first stage gets 10 % of the limit), `calibrated` "
            "loads the hybrid with `load_solver` (a first pass timed at n = 100 per kind). "
            "handed_on / fallback / skipped: share of runs whose neural start went to the improver, "
            "that fell back to nearest neighbour, whose first stage was skipped; hybrid − cold: "
            "paired with the improver alone at the same limit in the same process, % of cold.\n\n")
    (RESULTS / f"first_call{args.tag}.md").write_text(head + summary.to_markdown(index=False, floatfmt=".2f") + "\n")
    print(summary.to_string(index=False))


if __name__ == "__main__":
    main()
