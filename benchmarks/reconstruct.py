"""The neural backend with and without re-construction, at the same time limits.

``rrnco`` decodes a solution from a few starts and then re-constructs parts of it with the
policy until its time limit: segments of an ATSP tour (``hybridroute.neural.reconstruct``),
groups of neighbouring VRP routes (``hybridroute.neural.reconstruct_routes``);
``reconstruct=False`` spends the whole limit on more starts and transforms instead. Both run
on the held-out Helsinki instances of ``benchmarks/neural_eval.py`` (same sizes and seeds), and
their gaps are taken to the references stored in ``results/neural_eval/<kind>_sizes.json``
(LKH-3 for ATSP, PyVRP 10 s for the VRPs; that run must have made references for the sizes
asked), beside nearest neighbour's gap from the same file.

Usage::

    python benchmarks/reconstruct.py [--kind ATSP] [--sizes 100,200,500] [--budgets 1,2,5] [--count 32]
                                     [--variants reconstruct,plain] [--out reconstruct_atsp]
    python benchmarks/reconstruct.py --kind ACVRP --sizes 1000 --budgets 10 --count 8 \
        --city data/bench/Helsinki_data.npz --references acvrp_n1000 --out reconstruct_acvrp1000

``--variants reconstruct`` runs re-construction alone (e.g. at budgets where the plain
decoding's figure is already known, or would not change).
"""

from __future__ import annotations

import argparse
import datetime
import json
import platform
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
REFERENCE_NAMES = {"ATSP": "LKH-3", "ACVRP": "PyVRP 10 s", "ACVRPTW": "PyVRP 10 s"}
sys.path.insert(0, str(REPO / "benchmarks"))

SEED = 20250101  # neural_eval.py's default: the instances its references were made for
VARIANTS = {"reconstruct": {}, "plain": {"reconstruct": False}}


def references(path: Path, kind: str, n: int, count: int) -> tuple[list[float], float | None]:
    """Reference costs of the first ``count`` instances at size n, and nearest neighbour's mean gap."""
    data = json.loads(path.read_text())
    refs = data["references"].get(f"n{n}")
    if refs is None or len(refs) < count:
        raise SystemExit(f"{path.name} has no {count} references at n = {n}: run "
                         f"benchmarks/neural_eval.py --kind {kind} --sizes {n} first")
    nearest = data["results"].get("nearest (all starts)", {}).get(f"n{n}", {}).get("gap_pct")
    return refs[:count], nearest


def run(args) -> list[dict]:
    import torch

    import hybridroute as hr
    import neural_eval as ne

    torch.set_num_threads(1)
    solvers = {name: hr.get_solver("rrnco", **VARIANTS[name]) for name in args.variants}
    next(iter(solvers.values())).warm_up([args.kind])  # the checkpoints load outside the budgets
    rows = []
    for n in args.sizes:
        refs, _ = references(args.references, args.kind, n, args.count)
        problems = ne.instances(args.city, args.kind, n, args.count, SEED)
        for budget in args.budgets:
            for i, (problem, ref) in enumerate(zip(problems, refs)):
                for name, solver in solvers.items():
                    sol = solver.solve(problem, time_limit=budget, seed=0)
                    rows.append({"n": n, "budget_s": budget, "instance": i, "variant": name, "cost": sol.cost,
                                 "gap_pct": 100 * (sol.cost / ref - 1), "wall_s": sol.runtime,
                                 "rounds": sol.stats.get("reconstruct_rounds"), "starts": sol.stats.get("starts"),
                                 "augment": sol.stats.get("augment")})
                    print(json.dumps(rows[-1]), flush=True)
    return rows


def _mean(values) -> str:
    return f"{values.mean():.2f}" if len(values) else "—"


def _median(values) -> str:
    return f"{values.median():.0f}" if len(values) else "—"


def report(rows: list[dict], nearest: dict[int, float | None]) -> str:
    import pandas as pd

    df = pd.DataFrame(rows)
    lines = ["| n | budget (s) | re-construction: mean gap % | rounds (median) | plain: mean gap % "
             "| re-construction better / equal / worse | nearest neighbour gap % | longest wall (s) |",
             "|---|---|---|---|---|---|---|---|"]
    for (n, budget), g in df.groupby(["n", "budget_s"]):
        on = g[g.variant == "reconstruct"].set_index("instance")
        off = g[g.variant == "plain"].set_index("instance")
        d = on.cost - off.cost
        nn = nearest.get(int(n))
        paired = f"{(d < 0).sum()} / {(d == 0).sum()} / {(d > 0).sum()}" if len(on) and len(off) else "—"
        lines.append(f"| {n} | {budget:g} | {_mean(on.gap_pct)} | {_median(on.rounds)} "
                     f"| {_mean(off.gap_pct)} | {paired} "
                     f"| {'—' if nn is None else f'{nn:.2f}'} | {g.wall_s.max():.2f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kind", default="ATSP", choices=sorted(REFERENCE_NAMES))
    ap.add_argument("--sizes", default="100,200,500")
    ap.add_argument("--budgets", default="1,2,5", help="time limits in seconds (comma-separated)")
    ap.add_argument("--count", type=int, default=32, help="instances per size")
    ap.add_argument("--variants", default="reconstruct,plain",
                    help=f"which decodings to run (comma-separated, of {', '.join(VARIANTS)})")
    ap.add_argument("--city", default=str(REPO / "data" / "cities" / "Helsinki_data.npz"),
                    help="the city build the instances are drawn from (neural_eval.py's --city)")
    ap.add_argument("--references", default=None,
                    help="results/neural_eval/<name>.json holding the references (default <kind>_sizes)")
    ap.add_argument("--out", default=None, help="results/<out>.csv and .md (default reconstruct_<kind>)")
    args = ap.parse_args(argv)
    args.references = RESULTS / "neural_eval" / f"{args.references or args.kind.lower() + '_sizes'}.json"
    args.out = args.out or f"reconstruct_{args.kind.lower()}"
    args.variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = sorted(set(args.variants) - set(VARIANTS))
    if unknown or not args.variants:
        ap.error(f"--variants: unknown {unknown}; choose from {', '.join(VARIANTS)}")
    args.sizes = [int(x) for x in args.sizes.split(",")]
    args.budgets = [float(x) for x in args.budgets.split(",")]
    sys.path.insert(0, str(REPO))
    import pandas as pd

    import hybridroute as hr

    nearest = {n: references(args.references, args.kind, n, args.count)[1] for n in args.sizes}
    rows = run(args)
    RESULTS.mkdir(exist_ok=True)
    pd.DataFrame(rows).to_csv(RESULTS / f"{args.out}.csv", index=False)
    command = "python benchmarks/reconstruct.py " + " ".join(argv if argv is not None else sys.argv[1:])
    parts = "segments" if args.kind == "ATSP" else "groups of neighbouring routes"
    text = (f"# {args.kind}: rrnco with and without re-construction at the same time limit\n\n"
            f"`{command.strip()}` on {datetime.date.today().isoformat()}, {platform.machine()}, one thread, "
            f"hybridroute {hr.__version__}; held-out Helsinki, {args.count} instances per size, gaps to "
            f"{REFERENCE_NAMES[args.kind]} (`{args.references.relative_to(REPO)}`). Re-construction: a solution "
            f"from up to 32 starts × 1, then {parts} re-decoded by the policy until the limit; plain: more "
            f"starts and transforms for the whole limit.\n\n" + report(rows, nearest))
    (RESULTS / f"{args.out}.md").write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
