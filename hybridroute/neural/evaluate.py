"""Benchmark an RRNCO checkpoint against classical backends on a fixed city instance set.

Usage::

    python -m hybridroute.neural.evaluate --checkpoint rrnco-atsp20 --city data/cities/Helsinki_data.npz \
        --n 20 --count 32 --reference pyvrp lkh --seconds 1

Prints one JSON object: per method the mean cost (metres), mean gap to the best reference
per instance (%), feasibility rate and mean runtime (s). Methods: the policy greedy from
every start without augmentation ("rrnco-x1") and with 8 dihedral augmentations
("rrnco-x8"), nearest neighbour from every start, and each reference backend.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import json
import math
import sys
import time
from typing import Any

import numpy as np


#: Backends whose ``workers`` setting runs several searches per solve.
_MULTI_SEARCH = frozenset({"pyvrp", "ortools"})


def benchmark(checkpoint: str, city: str, n: int, count: int, *, seed: int = 20250101,
              references: tuple[str, ...] = ("pyvrp",), seconds: float = 1.0, device: str = "cpu",
              kind: str | None = None) -> dict[str, Any]:
    """Costs and gaps of the policy and the reference backends on ``count`` sampled instances."""
    import hybridroute as hr
    from hybridroute.osrm.cities import bundled_city, load_city, sample_instances

    from .checkpoint import load_checkpoint
    from .inference import solve_problems

    policy, card = load_checkpoint(checkpoint)
    kind = kind or card["kind"]
    c = load_city(city) if city.endswith(".npz") else bundled_city(city)
    problems = sample_instances(c, kind, n, count, seed=seed)
    results: dict[str, dict[str, Any]] = {}

    def record(name, sols, runtime):
        results[name] = {"cost": np.array([s.cost if s.is_feasible else np.inf for s in sols]),
                         "feasible": float(np.mean([s.is_feasible for s in sols])),
                         "seconds_per_instance": runtime / len(sols)}

    for aug in (1, 8):
        t0 = time.perf_counter()
        sols = solve_problems(problems, policy, augment=aug, seed=0, device=device)
        record(f"rrnco-x{aug}", sols, time.perf_counter() - t0)
    t0 = time.perf_counter()
    nn = hr.get_solver("nearest", starts=problems[0].num_nodes)
    record("nearest-all-starts", [nn.solve(p, time_limit=math.inf) for p in problems], time.perf_counter() - t0)
    for ref in references:
        # One search per solve, so references are the same on every machine
        # (workers="auto" would run one per core).
        solver = hr.get_solver(ref, **({"workers": 1} if ref in _MULTI_SEARCH else {}))
        if hr.ProblemKind(kind) not in solver.supports:
            continue
        t0 = time.perf_counter()
        record(f"{ref}-{seconds:g}s", [solver.solve(p, time_limit=seconds, seed=0) for p in problems],
               time.perf_counter() - t0)
    ref_names = [k for k in results if not k.startswith(("rrnco", "nearest"))] or ["nearest-all-starts"]
    best = np.min([results[k]["cost"] for k in ref_names], axis=0)
    out = {"checkpoint": card["name"], "kind": kind, "n": n, "count": count, "city": c.name, "seed": seed,
           "reference": f"best of {', '.join(ref_names)} per instance", "methods": {}}
    for name, r in results.items():
        gap = r["cost"] / best - 1
        out["methods"][name] = {"mean_cost_m": float(np.mean(r["cost"])), "gap_pct": 100 * float(np.mean(gap)),
                                "feasible": r["feasible"], "seconds_per_instance": round(r["seconds_per_instance"], 4)}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hybridroute.neural.evaluate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--city", default="Helsinki", help="a city .npz path or a bundled city name")
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--count", type=int, default=32)
    ap.add_argument("--seed", type=int, default=20250101)
    ap.add_argument("--reference", nargs="*", default=["pyvrp"])
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    res = benchmark(args.checkpoint, args.city, args.n, args.count, seed=args.seed,
                    references=tuple(args.reference), seconds=args.seconds, device=args.device)
    res["command"] = " ".join(["python -m hybridroute.neural.evaluate",
                               *(sys.argv[1:] if argv is None else argv)])
    print(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
