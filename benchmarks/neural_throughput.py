"""RRNCO inference throughput: instances per second, batched, per kind and size.

Solves ``--count`` held-out Helsinki instances of each kind and size in batched forward
passes (``solve_problems``), with and without the ×8 dihedral augmentation, on the CPU and
on CUDA when one is present, and writes ``benchmarks/results/<out>.{csv,md}`` (``--out``,
default ``neural_throughput``).
Model loading is excluded; one warm-up batch runs before timing.

Run: python benchmarks/neural_throughput.py [--count 32] [--sizes 50,100] [--threads 1] [--starts all,16]
     [--pairs-per-pass 18] [--out neural_throughput]

``--starts`` lists the start nodes per transform to measure (``all``: every node / customer,
POMO; a number: that many, evenly spread): the decoder's work grows with the starts, the
encoder's does not. ``--pairs-per-pass`` lists powers of two to try for
``hybridroute.neural.inference.CPU_PAIRS_PER_PASS`` (the CPU pass size; default: the
library's).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import pandas as pd
import torch

import hybridroute as hr
from hybridroute.neural import inference
from hybridroute.neural.checkpoint import default_checkpoint, load_checkpoint
from hybridroute.neural.inference import solve_problems
from hybridroute.osrm import bundled_city, sample_instances

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kinds", default="ATSP,ACVRP")
    ap.add_argument("--sizes", default="50,100")
    ap.add_argument("--count", type=int, default=32)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--starts", default="all", help="comma-separated: 'all' or a number of starts per transform")
    ap.add_argument("--out", default="neural_throughput", help="results/<out>.csv and .md (default neural_throughput)")
    ap.add_argument("--pairs-per-pass", default=None,
                    help="comma-separated exponents e: CPU passes of at most 2^e node pairs (default: the library's)")
    args = ap.parse_args()
    starts_list = [None if s == "all" else int(s) for s in args.starts.split(",")]
    pairs_list = ([1 << int(e) for e in args.pairs_per_pass.split(",")] if args.pairs_per_pass
                  else [inference.CPU_PAIRS_PER_PASS])
    torch.set_num_threads(args.threads)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    city = bundled_city("Helsinki")
    rows = []
    for kind in args.kinds.split(","):
        for n in (int(s) for s in args.sizes.split(",")):
            problems = sample_instances(city, kind, n, args.count, seed=99)
            for device in devices:
                policy, card = load_checkpoint(default_checkpoint(hr.ProblemKind.parse(kind)), device=device)
                for augment, starts, pairs in ((a, s, p) for s in starts_list for a in (1, 8) for p in pairs_list):
                    inference.CPU_PAIRS_PER_PASS = pairs
                    run = lambda ps: solve_problems(ps, policy, augment=augment, starts=starts,  # noqa: E731
                                                    seed=0, device=device, batch_size=args.batch_size)
                    run(problems[: min(2, len(problems))])  # warm-up
                    t0 = time.perf_counter()
                    sols = run(problems)
                    wall = time.perf_counter() - t0
                    rows.append(dict(kind=kind, n=n, device=device, augment=augment,
                                     starts="all" if starts is None else starts,
                                     per_pass=inference.pass_size(args.batch_size, augment, problems[0].num_nodes,
                                                                torch.device(device)),
                                     instances=len(problems),
                                     wall_s=wall, instances_per_s=len(problems) / wall,
                                     feasible=float(np.mean([s.is_feasible for s in sols])),
                                     mean_cost_km=float(np.mean([s.cost for s in sols])) / 1000,
                                     checkpoint=card["name"]))
                    print(rows[-1], flush=True)
    df = pd.DataFrame(rows)
    RESULTS.mkdir(exist_ok=True)
    df.to_csv(RESULTS / f"{args.out}.csv", index=False)
    command = "python benchmarks/neural_throughput.py " + " ".join(sys.argv[1:])
    head = (f"# RRNCO inference throughput\n\n`{command}` ({datetime.date.today().isoformat()})\n\n"
            f"{platform.platform()}, {os.cpu_count()} CPUs, torch {torch.__version__}, {args.threads} "
            f"threads, batch size {args.batch_size}; held-out Helsinki instances; greedy POMO from "
            "`starts` start nodes per transform (all: every node / customer), x1 or x 8 dihedral "
            "augmentations; model loading excluded.\n\n")
    (RESULTS / f"{args.out}.md").write_text(head + df.to_markdown(index=False, floatfmt=".3f") + "\n")
    print(df.to_string(index=False))


if __name__ == "__main__":
    main()
