"""Teacher-forcing probe: does a change to the model or the imitation loss help a trained policy?

Starts from a checkpoint, optionally changed (``--grow-layers``: AAFM layers appended as the
identity; ``--window-hidden``: the decoder window term at zero), and trains it by teacher
forcing on one size's committed PyVRP / LKH-3 labels of an imitation run, some label files
kept out. Every ``--eval-every`` steps it records the held-out negative log-likelihood per
counted move (over random route orders, and over the likeliest of them) and the greedy ×8 gap on
a neural_eval instance set (paired by instance with the starting policy). One thread.

``--order likeliest`` trains each instance on the route order (of ``--rotations`` random ones)
that the policy finds most likely instead of on all of them: the label's routes carry no order,
and a policy fine-tuned by RL has its own.

Writes ``results/imitation_probe/<out>.json`` and ``.md``.

Usage (the selection set's references come from its neural_eval file)::

    python benchmarks/imitation_probe.py --checkpoint rrnco-acvrptw-imit --labels-run acvrptw-imit \\
        --n 50 --steps 3000 --order likeliest --references acvrptw_rl_selection --seed-set 20260101 \\
        --out acvrptw50_likeliest
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results" / "imitation_probe"
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(REPO))


def split_label_files(run_dir: Path, n: int, held_out: int) -> tuple[list[Path], list[Path]]:
    """(held-out, training) label files of size ``n``: every 6th of the first 6·held_out kept out."""
    files = sorted((run_dir / "labels").glob(f"*_n{n}_*.npz"))
    if len(files) < 6 * held_out + 1:
        raise SystemExit(f"{run_dir}/labels has {len(files)} label files at n = {n}; "
                         f"--held-out {held_out} needs more than {6 * held_out}")
    held = files[::6][:held_out]
    return held, [f for f in files if f not in held]


def sequence_logp(policy, inst, seqs, coords, generator):
    """(B, P) summed log-probability of each label sequence and (B, P) its counted moves."""
    from hybridroute.neural import imitation as im

    logp, counted = im.teacher_forced_logp(policy, inst, seqs[..., 0], seqs[..., 1:], coords=coords,
                                           generator=generator)
    return logp.sum(-1), counted.sum(-1)


def of_order(logp, counted, order: str):
    """(logp, counted) of every route order, or of each instance's likeliest one only (B, 1)."""
    if order == "likeliest":
        best = logp.detach().argmax(-1, keepdim=True)
        return logp.gather(1, best), counted.gather(1, best)
    return logp, counted


def probe_loss(logp, counted, order: str):
    """Mean negative log-likelihood per counted move: of every order, or of each instance's likeliest."""
    logp, counted = of_order(logp, counted, order)
    return -(logp.sum() / counted.sum().clamp_min(1))


def save_probe_policy(policy, args, command: str, curve: list[dict], seconds: float, cities: list[str]) -> None:
    from hybridroute.neural.checkpoint import ATTRIBUTION, find_checkpoint, read_card, save_checkpoint

    base = read_card(find_checkpoint(args.checkpoint))
    card = {"n": base.get("n"),
            "fine_tuned_from": {"checkpoint": args.checkpoint, "name": base.get("name"), "sha256": base["sha256"],
                                "training": base.get("training"), "validation": base.get("validation"),
                                "fine_tuned_from": base.get("fine_tuned_from")},
            "training": {"method": f"teacher forcing on {args.labels_run}'s n = {args.n} labels "
                                   f"({args.order} route order; benchmarks/imitation_probe.py)",
                         "command": command, "steps": args.steps, "instances": args.steps * args.batch_size,
                         "sizes": [args.n], "trained_seconds": seconds, "device": "cpu, one thread",
                         "cities": cities},
            "validation": {"city": Path(args.city).name.split("_")[0], "count": args.count, "augment": 8,
                           "method": f"PyVRP / LKH-3 (results/neural_eval/{args.references}.json)",
                           "curve": [{"step": r["step"], "instances": r["step"] * args.batch_size,
                                      "gap_pct": r["gap_x8_pct"]} for r in curve]},
            "data_license": base.get("data_license", "ODbL-1.0"), "attribution": base.get("attribution", ATTRIBUTION)}
    policy.eval()
    print("saved", save_checkpoint(policy, args.save, card), flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--labels-run", required=True, help="an imitation config whose committed labels are used")
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--rotations", type=int, default=8)
    ap.add_argument("--order", choices=("random", "likeliest"), default="random")
    ap.add_argument("--lr", type=float, default=2e-5, help="the trained tensors' learning rate")
    ap.add_argument("--new-lr", type=float, default=1e-3, help="the grown tensors' learning rate")
    ap.add_argument("--grow-layers", type=int, default=None)
    ap.add_argument("--window-hidden", type=int, default=None)
    ap.add_argument("--held-out", type=int, default=6, help="label files kept out for the NLL")
    ap.add_argument("--eval-every", type=int, default=500)
    ap.add_argument("--references", required=True, help="results/neural_eval/<name>.json holding the set's references")
    ap.add_argument("--seed-set", type=int, default=20260101, help="the neural_eval --seed of that set")
    ap.add_argument("--count", type=int, default=32)
    ap.add_argument("--city", default=str(REPO / "data" / "cities" / "Helsinki_data.npz"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--save", default=None, help="write the final policy here (.safetensors, with its card), "
                                                "e.g. as a fine-tuning run's init_checkpoint")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    import neural_eval as ne
    from hybridroute.neural import imitation as im
    from hybridroute.neural.checkpoint import load_checkpoint
    from hybridroute.neural.env import instances_from_batch
    from hybridroute.neural.grow import add_window_term, grow_layers
    from hybridroute.neural.inference import dihedral, solve_problems
    from hybridroute.neural.train import TrainConfig, parameter_groups

    cfg = im.load_config(args.labels_run)
    store = im._LabelStore(cfg)
    held, train = split_label_files(im.run_dir(cfg), args.n, args.held_out)
    refs = json.loads((ne.RESULTS / f"{args.references}.json").read_text())["references"]
    if f"n{args.n}" not in refs:
        raise SystemExit(f"results/neural_eval/{args.references}.json has no references at n = {args.n}")
    ref = np.array(refs[f"n{args.n}"][:args.count])
    problems = ne.instances(args.city, cfg.kind.value, args.n, args.count, args.seed_set)

    policy, _ = load_checkpoint(args.checkpoint)
    old_depth = policy.config.num_layers
    if args.grow_layers:
        policy = grow_layers(policy, args.grow_layers)
    if args.window_hidden:
        policy = add_window_term(policy, args.window_hidden)
    # what was grown trains at --new-lr, the rest at --lr: the fine-tuning runs' own grouping
    grown = TrainConfig(name=args.out, model=policy.config, new_layers_lr=args.new_lr,
                        new_layers_from=old_depth if args.grow_layers else None,
                        new_params=("decoder.window_term",) if args.window_hidden else ())
    opt = torch.optim.Adam(parameter_groups(policy, grown), lr=args.lr)

    def held_out_nll() -> dict[str, float]:
        policy.eval()
        total = {"random": [0.0, 0], "likeliest": [0.0, 0]}
        with torch.no_grad():
            for f in held:
                batch, tours = store.get(f)
                seqs = torch.as_tensor(im._rotations(tours, 8, np.random.default_rng(7), cfg.kind))
                lp, cnt = sequence_logp(policy, instances_from_batch(batch), seqs, None,
                                        torch.Generator().manual_seed(0))
                for order, sums in total.items():
                    chosen, moves = of_order(lp, cnt, order)
                    sums[0] -= float(chosen.sum())
                    sums[1] += int(moves.sum())
        return {k: round(v[0] / v[1], 4) for k, v in total.items()}

    def set_gaps() -> np.ndarray:
        policy.eval()
        sols = solve_problems(problems, policy, augment=8, seed=0, device="cpu", batch_size=8)
        return 100 * (np.array([s.cost if s.is_feasible else np.inf for s in sols]) / ref - 1)

    start_gaps = set_gaps()
    curve = [{"step": 0, "nll": held_out_nll(), "gap_x8_pct": round(float(start_gaps.mean()), 3)}]
    print(curve[0], flush=True)
    t0 = time.perf_counter()
    for step in range(1, args.steps + 1):
        policy.train()
        rng = np.random.default_rng([99, step])
        batch, tours = store.get(train[int(rng.integers(len(train)))])
        sel = rng.choice(len(tours), size=min(args.batch_size, len(tours)), replace=False)
        seqs = torch.as_tensor(im._rotations(tours[sel], args.rotations, rng, cfg.kind))
        inst = instances_from_batch(im._take_batch(batch, sel))
        coords = dihedral(inst.coords.float(), forms=[int(rng.integers(8))])
        lp, cnt = sequence_logp(policy, inst, seqs, coords, torch.Generator().manual_seed(step))
        loss = probe_loss(lp, cnt, args.order)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
        opt.step()
        if step % args.eval_every == 0 or step == args.steps:
            gaps = set_gaps()
            diff = gaps - start_gaps
            rec = {"step": step, "nll": held_out_nll(), "gap_x8_pct": round(float(gaps.mean()), 3),
                   "paired_pts": round(float(diff.mean()), 3),
                   "paired_se": round(float(diff.std(ddof=1) / np.sqrt(len(diff))), 3),
                   "sec_per_step": round((time.perf_counter() - t0) / step, 3)}
            curve.append(rec)
            print(rec, flush=True)
    command = "python benchmarks/imitation_probe.py " + " ".join(sys.argv[1:] if argv is None else argv)
    if args.save:
        save_probe_policy(policy, args, command, curve, time.perf_counter() - t0, im.training_city_names(cfg))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {"command": command, "date": datetime.date.today().isoformat(), "args": vars(args), "curve": curve}
    (RESULTS / f"{args.out}.json").write_text(json.dumps(out, indent=1) + "\n")
    lines = [f"# Imitation probe: {args.out}", "", f"Command ({out['date']}, one thread): `{command}`", "",
             f"Held-out NLL per counted move ({len(held)} label files of `{args.labels_run}` at n = {args.n}, "
             f"8 random route orders; 'likeliest': each instance's likeliest order) and greedy ×8 gap on "
             f"{args.count} instances (neural_eval seed {args.seed_set}), paired with the starting policy.", "",
             "| step | NLL random | NLL likeliest | gap ×8 % | paired (points) |", "|---|---|---|---|---|"]
    for r in curve:
        paired = f"{r['paired_pts']:+.2f} ± {r['paired_se']:.2f}" if "paired_pts" in r else "—"
        lines.append(f"| {r['step']} | {r['nll']['random']:.4f} | {r['nll']['likeliest']:.4f} | "
                     f"{r['gap_x8_pct']:.2f} | {paired} |")
    (RESULTS / f"{args.out}.md").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
