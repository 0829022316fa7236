"""Decoding speed of the working tree against a git revision, timed alternately, same outputs.

Each round runs one process per tree (the revision's ``hybridroute`` extracted with ``git
archive`` into a temporary folder), alternating base, tree, base, tree…, so that both see the
same machine load. A process decodes the shipped checkpoint greedily on fixed held-out
instances and reports the best of ``--repeats`` wall times per case and the decoded costs; the
costs must be identical across trees (the rewrites this measures are exact). One thread.

Cases: a hybrid's first pass at n = 200 (one instance, 32 starts, ×1) and batched ×8 at n = 100
(8 instances, every start), per kind.

Usage::

    python benchmarks/decode_ab.py --base 572ed01 --kinds ACVRPTW,ACVRP,ATSP --rounds 3 --out decode_ab
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
CHECKPOINT = {"ATSP": "rrnco-atsp-imit", "ACVRP": "rrnco-acvrp-imit", "ACVRPTW": "rrnco-acvrptw-imit"}
CASES = (("first pass n=200, 32 starts x1", 200, 1, 1, 32), ("batched n=100 x8, every start", 100, 8, 8, None))


def _measure(kinds: list[str], repeats: int) -> dict:
    """In the child process: {case key: [best seconds, costs]} with the ``hybridroute`` on sys.path."""
    import torch

    torch.set_num_threads(1)
    from hybridroute.neural.checkpoint import load_checkpoint
    from hybridroute.neural.env import instances_from_problems
    from hybridroute.neural.inference import best_rollouts
    from hybridroute.osrm import load_city, sample_instances

    import hybridroute

    city = load_city(REPO / "data" / "cities" / "Helsinki_data.npz")
    out = {"__package__": hybridroute.__file__}
    for kind in kinds:
        policy, _ = load_checkpoint(REPO / "models" / f"{CHECKPOINT[kind]}.safetensors")
        policy.eval()
        for label, n, count, augment, starts in CASES:
            inst = instances_from_problems(sample_instances(city, kind, n, count, seed=7 + n))
            times = []
            with torch.inference_mode():
                for _ in range(repeats + 1):  # the first call warms up
                    t0 = time.perf_counter()
                    best = best_rollouts(policy, inst, augment=augment, starts=starts,
                                         generator=torch.Generator().manual_seed(0))
                    times.append(time.perf_counter() - t0)
            out[f"{kind}|{label}"] = [min(times[1:]), best.length.tolist()]
    return out


def _run_tree(root: Path, kinds: list[str], repeats: int) -> dict:
    code = (f"import sys, json; sys.path.insert(0, {str(root)!r}); sys.path.insert(1, {str(REPO / 'benchmarks')!r});"
            f"import decode_ab; print(json.dumps(decode_ab._measure({kinds!r}, {repeats})))")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=root, check=True)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    if not Path(out.pop("__package__")).is_relative_to(root):  # an installed copy would shadow the tree
        raise RuntimeError(f"the process for {root} imported hybridroute from elsewhere")
    return out


def _extract(rev: str, into: Path) -> Path:
    archive = into / "base.tar"
    subprocess.run(["git", "-C", str(REPO), "archive", "-o", str(archive), rev, "hybridroute"], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "base", filter="data")
    return into / "base"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", required=True, help="the git revision to compare the working tree with")
    ap.add_argument("--kinds", default="ACVRPTW,ACVRP,ATSP")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default="decode_ab")
    args = ap.parse_args(argv)
    kinds = args.kinds.split(",")
    runs: dict[str, list[dict]] = {"base": [], "tree": []}
    with tempfile.TemporaryDirectory(dir=REPO / "benchmarks") as tmp:
        base = _extract(args.base, Path(tmp))
        for r in range(args.rounds):
            for name, root in (("base", base), ("tree", REPO)):
                runs[name].append(_run_tree(root, kinds, args.repeats))
                print(f"round {r + 1} {name} done", flush=True)
    rows = []
    for key in runs["base"][0]:
        kind, case = key.split("|")
        base_t = [run[key][0] for run in runs["base"]]
        tree_t = [run[key][0] for run in runs["tree"]]
        same = all(run[key][1] == runs["base"][0][key][1] for run in runs["base"] + runs["tree"])
        rows.append({"kind": kind, "case": case, "base_s": base_t, "tree_s": tree_t,
                     "tree_over_base": round(float(np.sum(tree_t) / np.sum(base_t)), 3), "same_costs": same})
    command = "python benchmarks/decode_ab.py " + " ".join(sys.argv[1:] if argv is None else argv)
    date = datetime.date.today().isoformat()
    (RESULTS / f"{args.out}.json").write_text(json.dumps({"command": command, "date": date, "rows": rows}, indent=1) + "\n")
    lines = [f"# Decoding speed: working tree against {args.base}", "",
             f"Command ({date}, one thread, processes alternating base / tree): `{command}`. Best of "
             f"{args.repeats} timed calls per process, seconds per call; `tree_over_base`: the ratio of the summed "
             "times; `same_costs`: every process decoded the same costs.", "",
             "| kind | case | base s | tree s | tree / base | same costs |", "|---|---|---|---|---|---|"]
    for row in rows:
        fmt = lambda ts: " / ".join(f"{t:.3f}" for t in ts)  # noqa: E731
        lines.append(f"| {row['kind']} | {row['case']} | {fmt(row['base_s'])} | {fmt(row['tree_s'])} | "
                     f"{row['tree_over_base']:.3f} | {row['same_costs']} |")
    (RESULTS / f"{args.out}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if all(row["same_costs"] for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
