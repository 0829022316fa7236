"""Population probe: is the best of two policies better than one at the same decoding effort?

Decodes a neural_eval instance set greedily from every start with the base policy on all eight
dihedral transforms (×8, the reference), and with the base on transforms 0-3 beside a partner
on 4-7 (or on 0-3 too): the same eight passes shared by two policies, as a population of two
would decode them (Poppy, Grinsztajn et al. 2023). The partner is a checkpoint or a training
run's resume state (``runs/<name>/state.pt``), e.g. one trained with ``[train] complement``.
Gaps are to the instance set's stored references, paired by instance with the base ×8. One
thread.

Writes ``results/population_probe/<out>.json`` and ``.md``.

Usage (the selection set: its references and seed come from its neural_eval file)::

    python benchmarks/population_probe.py --partner runs/acvrptw-complement2/state.pt \\
        --references acvrptw_rl_selection --seed-set 20260101 --out acvrptw50_complement2
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results" / "population_probe"
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(REPO))

#: (row label, [(member, transforms), ...]): the row's cost is the best over its parts; every
#: row decodes eight passes or more. "base 0-3 + base 4-7" is the control: the base's eight
#: passes split as the pair's are (the distance features are drawn per call, so it is not
#: exactly "base x8"); a partner equal to the base reads exactly that row.
ROWS = [("base x8", [("base", range(8))]), ("partner x8", [("partner", range(8))]),
        ("base 0-3 + base 4-7", [("base", range(4)), ("base", range(4, 8))]),
        ("base 0-3 + partner 4-7", [("base", range(4)), ("partner", range(4, 8))]),
        ("base 0-3 + partner 0-3", [("base", range(4)), ("partner", range(4))]),
        ("base x8 + partner x8 (16 passes)", [("base", range(8)), ("partner", range(8))])]


def load_policy(spec: str):
    """A checkpoint (name or .safetensors path) or a run's resume state (a .pt path): (policy, label)."""
    from hybridroute.neural.checkpoint import load_checkpoint, policy_from_state

    if spec.endswith(".pt"):
        policy, st = policy_from_state(spec)
        return policy, f"{Path(spec).parent.name} step {st['step']}"
    policy, card = load_checkpoint(spec)
    return policy, card["name"]


def transform_costs(policy, problems, forms) -> np.ndarray:
    """Each problem's best greedy cost over every start under the dihedral transforms ``forms``."""
    from hybridroute.neural.inference import solve_problems

    sols = solve_problems(problems, policy, forms=list(forms), seed=0, device="cpu", batch_size=8)
    return np.array([s.cost if s.is_feasible else np.inf for s in sols])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--partner", required=True, help="checkpoint name / .safetensors path, or a run's state.pt")
    ap.add_argument("--base", default="rrnco-acvrptw-imit", help="checkpoint decoded on transforms 0-3")
    ap.add_argument("--kind", default="ACVRPTW")
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--count", type=int, default=32)
    ap.add_argument("--references", required=True, help="neural_eval results file holding the set's references")
    ap.add_argument("--seed-set", type=int, required=True, help="the neural_eval --seed of that set")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)

    import torch

    import neural_eval as ne

    torch.set_num_threads(1)
    refs = json.loads((ne.RESULTS / f"{args.references}.json").read_text())["references"][f"n{args.n}"]
    ref = np.asarray(refs, dtype=float)[:args.count]
    problems = ne.instances(str(REPO / "data" / "cities" / "Helsinki_data.npz"), args.kind, args.n, args.count,
                            args.seed_set)
    base, base_name = load_policy(args.base)
    partner, partner_name = load_policy(args.partner)
    cache: dict[tuple, np.ndarray] = {}

    def costs(which, forms) -> np.ndarray:
        key = (which, tuple(forms))
        if key not in cache:
            cache[key] = transform_costs(base if which == "base" else partner, problems, forms)
        return cache[key]

    gaps = {label: 100 * (np.min([costs(member, forms) for member, forms in parts], axis=0) / ref - 1)
            for label, parts in ROWS}
    reference = gaps["base x8"]
    command = "python benchmarks/population_probe.py " + " ".join(argv if argv is not None else sys.argv[1:])
    lines = [f"# Population probe: {base_name} with {partner_name}", "",
             f"{args.kind} n = {args.n}, {args.count} Helsinki instances (neural_eval seed {args.seed_set}), greedy "
             f"from every start; gap (%) to the references of `{args.references}`, paired by instance with the "
             f"base ×8 (± standard error).", "", f"`{command}` ({datetime.date.today().isoformat()})", "",
             "| decoding | gap % | paired with base ×8 |", "|---|---|---|"]
    for label, g in gaps.items():
        d = g - reference
        lines.append(f"| {label} | {g.mean():.2f} ± {g.std(ddof=1) / np.sqrt(len(g)):.2f} | "
                     f"{d.mean():+.2f} ± {d.std(ddof=1) / np.sqrt(len(d)):.2f} |")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.out}.md").write_text("\n".join(lines) + "\n")
    (RESULTS / f"{args.out}.json").write_text(json.dumps(
        {"command": command, "date": datetime.date.today().isoformat(), "base": base_name, "partner": partner_name,
         "gaps": {k: v.tolist() for k, v in gaps.items()}}, indent=1) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
