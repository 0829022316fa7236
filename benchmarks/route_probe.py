"""Route probe: where does a VRP policy's ×8 tour lose against the reference solver's?

Decodes a neural_eval instance set greedily from every start under the eight dihedral
transforms (×8), solves each instance again with the set's reference solver (PyVRP, one
worker, 10 s, seed 0, as the stored reference was made; the report says on how many instances
the costs agree, since PyVRP stops on the clock), and
compares the two solutions route by route: the number of routes, the mean load as a share of
the capacity, and, for the policy, how often a route ends while a customer that the policy
serves in a later route could still have been appended to it feasibly (a *voluntary* return;
feasibility by :func:`hybridroute.evaluate`). ``--forced-return`` decodes once more with the
depot closed while any customer is feasible (returns only when stuck) and pairs that with
×8. One thread.

Writes ``results/route_probe/<out>.json`` and ``.md``.

Usage (the selection set: its references and seed come from its neural_eval file)::

    python benchmarks/route_probe.py --references acvrptw_rl_selection --seed-set 20260101 \\
        --forced-return --out acvrptw50_selection
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results" / "route_probe"
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(REPO))


@contextlib.contextmanager
def returns_only_when_stuck():
    """Close the depot to every rollout that stands at a customer with a feasible customer left."""
    from hybridroute.neural.env import RoutingEnv

    original = RoutingEnv.action_mask

    def mask(self, state):
        allowed = original(self, state)
        if self.is_vrp:
            allowed[..., 0] &= ~(allowed[..., 1:].any(-1) & (state.current != 0))
        return allowed

    RoutingEnv.action_mask = mask
    try:
        yield
    finally:
        RoutingEnv.action_mask = original


def voluntary_ends(problem, routes: list[list[int]]) -> int:
    """Routes (in construction order) that end while a customer of a later route fits at their end."""
    from hybridroute import evaluate

    def fits(route: list[int]) -> bool:  # the route alone: the other customers are missing, not a fault
        return all(v.kind == "missing_visit" for v in evaluate(problem, [route]).violations)

    count = 0
    for k, route in enumerate(routes[:-1]):
        later = [j for r in routes[k + 1:] for j in r]
        count += any(fits(route + [j]) for j in later)
    return count


def route_summary(problem, routes: list[list[int]]) -> dict:
    capacity = float(problem.capacity)
    loads = [float(np.sum(np.asarray(problem.demand)[r])) for r in routes]
    return {"routes": len(routes), "fill": float(np.mean(loads)) / capacity,
            "capacity_bound": int(np.ceil(float(np.sum(problem.demand)) / capacity))}


def decode(policy, problems) -> list:
    from hybridroute.neural.inference import solve_problems

    return solve_problems(problems, policy, augment=8, seed=0, device="cpu", batch_size=8)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", default="rrnco-acvrptw-imit")
    ap.add_argument("--kind", default="ACVRPTW")
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--count", type=int, default=32)
    ap.add_argument("--references", required=True, help="neural_eval results file holding the set's references")
    ap.add_argument("--seed-set", type=int, required=True, help="the neural_eval --seed of that set")
    ap.add_argument("--ref-seconds", type=float, default=10.0)
    ap.add_argument("--forced-return", action="store_true", help="also decode with returns only when stuck")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)

    import torch

    import hybridroute as hr
    import neural_eval as ne
    from hybridroute.neural.checkpoint import load_checkpoint

    torch.set_num_threads(1)
    ref = np.asarray(json.loads((ne.RESULTS / f"{args.references}.json").read_text())["references"][f"n{args.n}"],
                     dtype=float)[:args.count]
    problems = ne.instances(str(REPO / "data" / "cities" / "Helsinki_data.npz"), args.kind, args.n, args.count,
                            args.seed_set)
    policy, card = load_checkpoint(args.checkpoint)
    name, settings = ne.REFERENCE[args.kind]
    solver = hr.get_solver(name, **settings)
    rows = []
    for i, (problem, sol) in enumerate(zip(problems, decode(policy, problems))):
        reference = solver.solve(problem, time_limit=args.ref_seconds, seed=0)
        routes = [list(map(int, r)) for r in sol.routes]
        rows.append({"gap_pct": 100 * (sol.cost / ref[i] - 1), "policy": route_summary(problem, routes),
                     "reference": route_summary(problem, [list(map(int, r)) for r in reference.routes]),
                     "voluntary_ends": voluntary_ends(problem, routes),
                     "reference_matches": bool(np.isclose(reference.cost, ref[i], rtol=1e-9))})
        print(f"{i}: gap {rows[-1]['gap_pct']:.2f} %, routes {len(routes)} / {len(reference.routes)}", flush=True)
    gaps = np.array([r["gap_pct"] for r in rows])
    extra = np.array([r["policy"]["routes"] - r["reference"]["routes"] for r in rows])
    forced = None
    if args.forced_return:
        with returns_only_when_stuck():
            sols = decode(policy, problems)
        forced = {"gap_pct": [100 * (s.cost / r - 1) for s, r in zip(sols, ref)],
                  "routes": [len(s.routes) for s in sols]}

    def mean_se(x, sign: str = "") -> str:
        x = np.asarray(x, dtype=float)
        return f"{x.mean():{sign}.2f} ± {x.std(ddof=1) / np.sqrt(len(x)):.2f}"

    command = "python benchmarks/route_probe.py " + " ".join(argv if argv is not None else sys.argv[1:])
    date = datetime.date.today().isoformat()
    n_ends = sum(r["policy"]["routes"] - 1 for r in rows)
    lines = [f"# Route probe: {card['name']}, {args.kind} n = {args.n}", "",
             f"{args.count} Helsinki instances (neural_eval seed {args.seed_set}), greedy ×8 from every start, against "
             f"{name} {args.ref_seconds:g} s (the references of `{args.references}`).", "",
             f"`{command}` ({date})", "",
             "| | policy ×8 | reference |", "|---|---|---|",
             f"| gap % | {mean_se(gaps)} | 0 |",
             f"| routes per instance | {mean_se([r['policy']['routes'] for r in rows])} | "
             f"{mean_se([r['reference']['routes'] for r in rows])} |",
             f"| mean load / capacity | {np.mean([r['policy']['fill'] for r in rows]):.3f} | "
             f"{np.mean([r['reference']['fill'] for r in rows]):.3f} |",
             f"| capacity bound on routes | {np.mean([r['policy']['capacity_bound'] for r in rows]):.2f} | |", "",
             f"Instances with more routes than the reference: {int((extra > 0).sum())}, as many: "
             f"{int((extra == 0).sum())}, fewer: {int((extra < 0).sum())}; mean gap {gaps[extra > 0].mean():.2f} % "
             f"with more routes, {gaps[extra <= 0].mean():.2f} % otherwise.",
             f"The reference solved again gave the stored cost on {sum(r['reference_matches'] for r in rows)} of "
             f"{len(rows)} instances (PyVRP stops on the clock).",
             f"Voluntary returns (a later customer fits at the route's end): "
             f"{sum(r['voluntary_ends'] for r in rows)} of {n_ends} route ends before the last."]
    if forced is not None:
        d = np.asarray(forced["gap_pct"]) - gaps
        lines += ["", f"Returning only when stuck: gap {mean_se(forced['gap_pct'])} %, paired with ×8 "
                      f"{mean_se(d, '+')} points; routes per instance {mean_se(forced['routes'])}."]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.out}.md").write_text("\n".join(lines) + "\n")
    (RESULTS / f"{args.out}.json").write_text(json.dumps(
        {"command": command, "date": date, "checkpoint": card["name"], "instances": rows, "forced_return": forced},
        indent=1) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
