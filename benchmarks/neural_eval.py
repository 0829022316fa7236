"""Neural checkpoints across sizes: gap to a classical reference on held-out instances.

For one kind and each size n, ``--count`` instances are sampled (seed ``--seed + n``) from the
held-out city; the reference (LKH-3 for ATSP, PyVRP with one search for the VRPs, ``--ref-seconds``
per instance) is solved once and cached in the results JSON, so more checkpoints can be added
later against the same references. Each checkpoint decodes greedily from every start with ×1
and ×8 dihedral augmentation (batches of 8, one thread); nearest neighbour from every start
is the floor every policy must beat.

Writes ``results/neural_eval/<kind>_sizes.json`` and ``.md`` (``--out`` names another file,
e.g. for instances from another city build; and prints the tables: gap, and seconds per
instance on one thread).

Usage::

    python benchmarks/neural_eval.py --kind ATSP --sizes 20,50,100,200 \
        --checkpoints rrnco-atsp20 models/training/atsp-imit/rrnco-atsp-imit.safetensors

Decoding effort against throughput (fewer POMO starts, larger batches)::

    python benchmarks/neural_eval.py --kind ACVRP --sizes 100 --checkpoints rrnco-acvrp-imit \
        --augments 8 --starts all,32,16,8 --batch-size 32
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results" / "neural_eval"
REFERENCE = {"ATSP": ("lkh", {}), "ACVRP": ("pyvrp", {"workers": 1}), "ACVRPTW": ("pyvrp", {"workers": 1})}


def instances(city: str, kind: str, n: int, count: int, seed: int):
    from hybridroute.osrm.cities import bundled_city, load_city, sample_instances

    c = load_city(city) if city.endswith(".npz") else bundled_city(city)
    return sample_instances(c, kind, n, count, seed=seed + n)


def references(problems, kind: str, seconds: float) -> list[float]:
    import hybridroute as hr

    name, settings = REFERENCE[kind]
    solver = hr.get_solver(name, **settings)
    return [solver.solve(p, time_limit=seconds, seed=0).cost for p in problems]


def policy_costs(checkpoint: str, problems, augment: int, starts: int | None = None,
                 batch_size: int = 8) -> tuple[np.ndarray, float]:
    """Each instance's cost (inf when infeasible) and the wall seconds per instance."""
    from hybridroute.neural.checkpoint import load_checkpoint
    from hybridroute.neural.inference import solve_problems

    policy, _ = load_checkpoint(checkpoint)
    t0 = time.perf_counter()
    sols = solve_problems(problems, policy, augment=augment, starts=starts, seed=0, device="cpu",
                          batch_size=batch_size)
    return np.array([s.cost if s.is_feasible else np.inf for s in sols]), (time.perf_counter() - t0) / len(sols)


def instance_gaps(costs: np.ndarray, ref: np.ndarray) -> list[float | None]:
    """Each instance's gap (%) to its reference, rounded to 1e-4; None where infeasible."""
    return [round(100 * float(c / r - 1), 4) if np.isfinite(c) else None for c, r in zip(costs, ref)]


def standard_error(gaps: list[float | None]) -> float:
    """Standard error (points) of the mean gap over instances: inf with an infeasible instance."""
    if any(g is None for g in gaps) or len(gaps) < 2:
        return math.inf
    return float(np.std(gaps, ddof=1) / math.sqrt(len(gaps)))


def paired_difference(data: dict, label: str, base: str, key: str) -> tuple[float, float]:
    """Mean over instances of ``label``'s gap minus ``base``'s (points), and its standard error.

    Pairing by instance removes what the instances share (some are harder for every policy):
    on 32-instance sets its error was 0.67-0.87 of that of a difference of two means (ACVRP and
    ACVRPTW, n = 20-200).
    """
    a, b = data["results"][label][key]["gaps_pct"], data["results"][base][key]["gaps_pct"]
    if len(a) != len(b):
        raise ValueError(f"{label!r} and {base!r} have {len(a)} and {len(b)} instances at {key}")
    diffs = [None if x is None or y is None else x - y for x, y in zip(a, b)]
    return (float(np.mean(diffs)) if None not in diffs else math.inf), standard_error(diffs)


def _merge_into_file(path: Path, data: dict, run: dict | None = None) -> dict:
    """Merge this run's references and results into ``path`` as it is now (re-read, so that
    runs made side by side keep theirs), plus ``run`` in its list of runs; returns the whole."""
    import fcntl

    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one read-modify-write at a time
        current = json.loads(path.read_text()) if path.exists() else {"references": {}, "results": {}}
        current["references"].update(data["references"])
        for label, per in data["results"].items():
            current["results"].setdefault(label, {}).update(per)
        if run is not None:
            current["runs"] = current.get("runs", []) + [run]
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(current, indent=1) + "\n")
        tmp.replace(path)
    return current


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kind", default="ATSP")
    ap.add_argument("--sizes", default="20,50,100,200")
    ap.add_argument("--count", type=int, default=32)
    ap.add_argument("--seed", type=int, default=20250101)
    ap.add_argument("--city", default=str(REPO / "data" / "cities" / "Helsinki_data.npz"))
    ap.add_argument("--ref-seconds", type=float, default=10.0)
    ap.add_argument("--checkpoints", nargs="+", help="checkpoints to decode (names or .safetensors paths)")
    ap.add_argument("--augments", default="1,8", help="dihedral augmentations to decode with")
    ap.add_argument("--starts", default="all", help="POMO starts per augmentation: 'all' or counts, e.g. all,16")
    ap.add_argument("--batch-size", type=int, default=8, help="instances decoded together")
    ap.add_argument("--out", default=None,
                    help="results/neural_eval/<out>.json and .md (default <kind>_sizes; the cached references "
                         "belong to the file's city and count)")
    ap.add_argument("--paired", nargs=2, metavar=("ROW", "BASE_ROW"),
                    help="decode nothing: print ROW's gap minus BASE_ROW's, paired by instance, at each size "
                         "both hold (rows as labelled in the results file)")
    args = ap.parse_args(argv)
    out_name = args.out or f"{args.kind.lower()}_sizes"
    if args.paired:
        return print_paired(RESULTS / f"{out_name}.json", *args.paired)
    if not args.checkpoints:
        ap.error("--checkpoints is required (or --paired)")
    augments = [int(x) for x in args.augments.split(",")]
    start_counts = [None if x == "all" else int(x) for x in args.starts.split(",")]
    sys.path.insert(0, str(REPO))
    import torch

    import hybridroute as hr

    torch.set_num_threads(1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out_json = RESULTS / f"{out_name}.json"
    known = json.loads(out_json.read_text())["references"] if out_json.exists() else {}
    # only this run's own entries: merged into the file as it is when written, so that runs of
    # other sizes or checkpoints made side by side keep theirs
    data: dict = {"references": {}, "results": {}}
    sizes = [int(x) for x in args.sizes.split(",")]
    for n in sizes:
        problems = instances(args.city, args.kind, n, args.count, args.seed)
        key = f"n{n}"
        if key not in known:
            t0 = time.perf_counter()
            data["references"][key] = known[key] = references(problems, args.kind, args.ref_seconds)
            print(f"n={n}: references in {time.perf_counter() - t0:.0f} s", flush=True)
        ref = np.asarray(known[key])
        nn = hr.get_solver("nearest", starts=problems[0].num_nodes)
        nn_cost = np.array([nn.solve(p, time_limit=math.inf).cost for p in problems])
        data["results"].setdefault("nearest (all starts)", {})[key] = {"gap_pct": 100 * float(np.mean(nn_cost / ref - 1))}
        for ckpt in args.checkpoints:
            name = Path(ckpt).stem
            for aug in augments:
                for count in start_counts:
                    costs, per = policy_costs(ckpt, problems, aug, count, args.batch_size)
                    label = f"{name} x{aug}" + ("" if count is None else f" {count} starts") + \
                        ("" if args.batch_size == 8 else f" batch {args.batch_size}")
                    data["results"].setdefault(label, {})[key] = {
                        "gap_pct": 100 * float(np.mean(costs / ref - 1)), "seconds_per_instance": round(per, 4),
                        "gaps_pct": instance_gaps(costs, ref)}
                    shown = {k: v for k, v in data["results"][label][key].items() if k != "gaps_pct"}
                    print(f"n={n} {label}: {shown}", flush=True)
        _merge_into_file(out_json, data)
    command = "python benchmarks/neural_eval.py " + " ".join(sys.argv[1:] if argv is None else argv)
    data = _merge_into_file(out_json, data, run={"command": command, "date": datetime.date.today().isoformat()})
    text = report(data, args.kind, args.ref_seconds, args.count)
    (RESULTS / f"{out_name}.md").write_text(text)
    print(text)
    return 0


def print_paired(path: Path, label: str, base: str) -> int:
    """Print ``label`` minus ``base`` paired by instance at every size where both stored gaps."""
    data = json.loads(path.read_text())
    for name in (label, base):
        if name not in data["results"]:
            raise SystemExit(f"{path}: no row {name!r}; rows: {sorted(data['results'])}")
    keys = [k for k, v in data["results"][label].items()
            if "gaps_pct" in v and "gaps_pct" in data["results"][base].get(k, {})]
    if not keys:
        raise SystemExit(f"{path}: {label!r} and {base!r} share no size with per-instance gaps "
                         "(rows written before they were stored hold only the mean)")
    for key in sorted(keys, key=lambda k: int(k[1:])):
        mean, se = paired_difference(data, label, base, key)
        print(f"n = {key[1:]}: {label} − {base}: {mean:+.2f} ± {se:.2f} points (standard error, "
              f"{len(data['results'][label][key]['gaps_pct'])} instances)")
    return 0


def _gap_cell(result: dict) -> str:
    """'mean' or, where the instances' gaps are stored, 'mean ± standard error'."""
    if "gaps_pct" not in result:
        return f"{result['gap_pct']:.2f}"
    return f"{result['gap_pct']:.2f} ± {standard_error(result['gaps_pct']):.2f}"


def report(data: dict, kind: str, ref_seconds: float, count: int) -> str:
    """The markdown tables (gap, seconds per instance) of one kind's results JSON."""
    all_sizes = sorted({int(k[1:]) for r in data["results"].values() for k in r})
    ref_name = REFERENCE[kind][0]
    lines = [f"# Neural checkpoints across sizes ({kind}, held-out city)", "",
             f"Gap (%) to {ref_name} at {ref_seconds:g} s per instance, mean over {count} instances "
             "per size; greedy from every start unless a row names fewer, ×1 / ×8 augmentation; "
             "± the standard error of the mean over instances, where the run stored each instance's gap "
             "(`--paired A B` prints the difference of two rows paired by instance, with its own error). Runs:",
             ""]
    lines += [f"- `{r['command']}` ({r['date']})" for r in data["runs"]]
    lines += ["", "| method | " + " | ".join(f"n = {n}" for n in all_sizes) + " |",
              "|---|" + "---|" * len(all_sizes)]
    for method, per in data["results"].items():
        cells = [_gap_cell(per[f"n{n}"]) if f"n{n}" in per else "—" for n in all_sizes]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    lines += ["", "Seconds per instance (one thread, CPU; instances decoded in batches, ×8 = 8 transforms):", "",
              "| method | " + " | ".join(f"n = {n}" for n in all_sizes) + " |", "|---|" + "---|" * len(all_sizes)]
    for method, per in data["results"].items():
        if not any("seconds_per_instance" in v for v in per.values()):
            continue
        cells = [f"{per[f'n{n}']['seconds_per_instance']:.3f}" if "seconds_per_instance" in per.get(f"n{n}", {})
                 else "—" for n in all_sizes]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
