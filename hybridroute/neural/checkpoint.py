"""Shipped RRNCO checkpoints: safetensors weights + a JSON model card, loaded strictly.

A checkpoint ``<name>`` is two files in a models folder: ``<name>.safetensors`` (the weights,
nothing else) and ``<name>.json`` (the card: architecture name, model config, problem kind
and size, training data and provenance, validation curve, sha256 of the weights). A short
``<name>.md`` is written next to them for humans.

Loading never guesses: the class comes from the card's ``architecture`` (a name in
:data:`~hybridroute.neural.policy.ARCHITECTURES`), the shape from its ``model_config``; the
weights' sha256 must match the card and the state dict must match the model exactly.

Models folder lookup: ``$HYBRIDROUTE_MODELS`` if set, then the shipped folder
(:func:`hybridroute.resources.models_dir`: the top-level ``models/`` in a checkout, the
``hybridroute._models`` package in a wheel).

Export a run: ``python -m hybridroute.neural.checkpoint export runs/atsp20 --name rrnco-atsp20``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

from ..problem import ProblemKind
from .._files import file_sha256

__all__ = ["CheckpointError", "models_dirs", "find_checkpoint", "default_checkpoint", "save_checkpoint",
           "load_checkpoint", "policy_from_state", "export_run", "sha256_file", "CARD_FORMAT", "DEFAULT_CHECKPOINTS",
           "SMALL_CHECKPOINTS", "default_checkpoints", "grow_checkpoint"]

logger = logging.getLogger(__name__)

CARD_FORMAT = "hybridroute.rrnco-checkpoint/1"
ATTRIBUTION = "Training data: road matrices from OpenStreetMap via OSRM. Data © OpenStreetMap contributors (ODbL)."

# The shipped checkpoint used for each problem kind when no checkpoint is named.
DEFAULT_CHECKPOINTS = {
    ProblemKind.ATSP: "rrnco-atsp-imit",
    ProblemKind.ACVRP: "rrnco-acvrp-imit",
    ProblemKind.ACVRPTW: "rrnco-acvrptw-imit",
}
#: Shipped checkpoints that replace the kind's default on small problems, where they were
#: measured better: kind -> (checkpoint, largest n it serves; n as :attr:`Problem.size`).
#: ACVRPTW n = 20 (128 held-out Helsinki instances, ×8, PyVRP 10 s references):
#: ``rrnco-acvrptw20`` 1.99 ± 0.19 %, ``rrnco-acvrptw-imit`` 2.59 ± 0.22 %, paired
#: -0.61 ± 0.24 points (docs/neural.md, "Small instances").
SMALL_CHECKPOINTS = {
    ProblemKind.ACVRPTW: ("rrnco-acvrptw20", 20),
}


class CheckpointError(ValueError):
    """A checkpoint is missing, corrupt or does not match its card / model."""


def _shipped_dir() -> Path | None:
    from ..resources import models_dir

    try:
        return models_dir()
    except FileNotFoundError:
        return None


def models_dirs() -> list[Path]:
    """Folders searched for named checkpoints, in order."""
    dirs = []
    env = os.environ.get("HYBRIDROUTE_MODELS")
    if env:
        dirs.append(Path(env))
    shipped = _shipped_dir()
    if shipped is not None:
        dirs.append(shipped)
    return [d for d in dirs if d.is_dir()]


sha256_file = file_sha256


def find_checkpoint(name_or_path: str | Path) -> Path:
    """The ``.safetensors`` path of a checkpoint given by path (with or without suffix) or name."""
    p = Path(name_or_path)
    for cand in (p, p.with_suffix(".safetensors")):
        if cand.suffix == ".safetensors" and cand.is_file():
            return cand
    if p.suffix == ".json" and p.is_file() and p.with_suffix(".safetensors").is_file():
        return p.with_suffix(".safetensors")
    for d in models_dirs():
        cand = d / f"{p.name}.safetensors" if p.suffix != ".safetensors" else d / p.name
        if cand.is_file():
            return cand
    searched = ", ".join(str(d) for d in models_dirs()) or "(no models folder found)"
    raise CheckpointError(f"no checkpoint {str(name_or_path)!r}: not a file, and not in {searched}")


def default_checkpoint(kind: ProblemKind | str, n: int | None = None) -> str:
    """Name of the shipped checkpoint for a problem kind and, when given, size ``n``
    (customers; ATSP: nodes): :data:`SMALL_CHECKPOINTS` up to its size, else
    :data:`DEFAULT_CHECKPOINTS`."""
    kind = ProblemKind.parse(kind)
    small = SMALL_CHECKPOINTS.get(kind)
    if n is not None and small is not None and n <= small[1]:
        return small[0]
    return DEFAULT_CHECKPOINTS[kind]


def default_checkpoints(kind: ProblemKind | str) -> list[str]:
    """Every shipped checkpoint a kind's problems may be decoded with (the default first)."""
    kind = ProblemKind.parse(kind)
    small = SMALL_CHECKPOINTS.get(kind)
    return [DEFAULT_CHECKPOINTS[kind]] + ([small[0]] if small else [])


def _card_path(weights: Path) -> Path:
    return weights.with_suffix(".json")


def read_card(weights: str | Path) -> dict[str, Any]:
    """The model card of a ``.safetensors`` file (errors name the file)."""
    weights = Path(weights)
    card_path = _card_path(weights)
    if not card_path.is_file():
        raise CheckpointError(f"{weights}: model card {card_path.name} is missing")
    try:
        card = json.loads(card_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{card_path}: not a valid JSON model card ({exc})") from None
    if card.get("format") != CARD_FORMAT:
        raise CheckpointError(f"{card_path}: format {card.get('format')!r}, expected {CARD_FORMAT!r}")
    for key in ("architecture", "model_config", "sha256", "kind", "n"):
        if key not in card:
            raise CheckpointError(f"{card_path}: card has no {key!r}")
    return card


def load_checkpoint(name_or_path: str | Path, device: str = "cpu"):
    """Load a checkpoint strictly.

    Parameters
    ----------
    name_or_path
        A checkpoint name (``"rrnco-atsp20"``) or a path to its ``.safetensors`` file.
    device
        Where to put the model.

    Returns
    -------
    (RRNCOPolicy, dict)
        The model in eval mode and its card.

    Raises
    ------
    CheckpointError
        Missing file or card, sha256 mismatch, unreadable weights, a tensor holding NaN or
        inf (named), unknown architecture, or missing / unexpected / mis-shaped tensors; the
        message names the file.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from .policy import ARCHITECTURES, ModelConfig

    weights = find_checkpoint(name_or_path)
    card = read_card(weights)
    digest = sha256_file(weights)
    if digest != card["sha256"]:
        raise CheckpointError(f"{weights}: sha256 {digest} does not match its card ({card['sha256']}); "
                              "the file is corrupt or belongs to another card")
    arch = ARCHITECTURES.get(card["architecture"])
    if arch is None:
        raise CheckpointError(f"{weights}: unknown architecture {card['architecture']!r} "
                              f"(known: {', '.join(ARCHITECTURES)})")
    try:
        config = ModelConfig.from_dict(card["model_config"])
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{_card_path(weights)}: bad model_config ({exc})") from None
    try:
        tensors = load_file(str(weights), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{weights}: not a readable safetensors file ({exc})") from None
    _check_finite_tensors(weights, tensors)
    model = arch(config)
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(f"{weights}: weights do not match {card['architecture']} {config}: {exc}") from None
    return model.to(device).eval(), card


def _check_finite_tensors(weights: Path, tensors: dict) -> None:
    """Refuse NaN/inf weights at load: they would only show up later as a decoder that never finishes."""
    import torch

    for name, tensor in tensors.items():
        if not (tensor.is_floating_point() or tensor.is_complex()):
            continue
        bad = ~torch.isfinite(tensor)
        if bad.any():
            first = tuple(int(i) for i in torch.nonzero(bad)[0]) if tensor.dim() else ()
            raise CheckpointError(
                f"{weights}: tensor {name!r} holds {int(bad.sum())} non-finite values (NaN or inf; first "
                f"at index {first}: {tensor[first].item()}); the weights are corrupt (a diverged training run?)")


def save_checkpoint(model, path: str | Path, card: dict[str, Any]) -> Path:
    """Write ``model``'s weights to ``path`` (.safetensors) and its card (.json, .md) beside it.

    ``card`` supplies the provenance; ``format``, ``architecture``, ``model_config``, ``kind``,
    ``parameters``, ``sha256`` and ``weights_file`` are filled in here.
    """
    from safetensors.torch import save_file

    from .policy import ARCHITECTURES, count_parameters

    path = Path(path)
    if path.suffix != ".safetensors":
        raise ValueError(f"{path}: checkpoint files must end in .safetensors")
    path.parent.mkdir(parents=True, exist_ok=True)
    arch = next((k for k, v in ARCHITECTURES.items() if type(model) is v), None)
    if arch is None:
        raise ValueError(f"{type(model).__name__} is not a registered architecture")
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    tmp = path.with_suffix(".safetensors.tmp")
    # one metadata entry only: safetensors writes a multi-key metadata map in arbitrary order,
    # which would make the sha256 of identical weights differ between exports
    save_file(state, str(tmp), metadata={"format": f"{CARD_FORMAT} {arch}"})
    os.replace(tmp, path)
    os.chmod(path, 0o644)  # shipped data: readable by everyone (the writer uses a private temp file)
    full = {"format": CARD_FORMAT, "name": path.stem, "architecture": arch,
            "model_config": model.config.to_dict(), "kind": model.config.kind,
            "parameters": count_parameters(model), **card,
            "weights_file": path.name, "sha256": sha256_file(path)}
    _card_path(path).write_text(json.dumps(full, indent=1) + "\n")
    path.with_suffix(".md").write_text(_markdown(full))
    return path


def _markdown(card: dict[str, Any]) -> str:
    tr = card.get("training", {})
    curve = card.get("validation", {}).get("curve", [])
    rows = "\n".join(f"| {v['step']} | {v['instances']} | {v['gap_pct']:.2f} |" for v in curve)
    mc = card["model_config"]
    sizes = tr.get("sizes") or [card["n"]]
    trained_at = _sizes_md(sizes)
    base = card.get("fine_tuned_from")
    if base and (base.get("training") or {}).get("sizes"):
        trained_at = f"{_sizes_md(base['training']['sizes'])}, then fine-tuned at {_sizes_md(sizes)}"
    return f"""# {card['name']}

RRNCO policy for **{card['kind']}** trained at {trained_at} ({card['parameters']:,} parameters;
d = {mc['embed_dim']}, L = {mc['num_layers']}). Weights: `{card['weights_file']}`
(sha256 `{card['sha256']}`); the machine-readable card is `{card['name']}.json`.

- Training: {tr.get('steps')} steps, {tr.get('instances')} instances, {tr.get('trained_seconds', 0) / 3600:.2f} h on
  {tr.get('device', '?')}; cities: {', '.join(tr.get('cities', []))}.{_base_md(card.get('fine_tuned_from'))}
- Validation: {card.get('validation', {}).get('count')} instances from the held-out city
  {card.get('validation', {}).get('city')}; gap = mean(cost / reference − 1), reference =
  {card.get('validation', {}).get('method')}; greedy POMO from every start, {_augment_md(card)}.

| step | instances | gap % |
|---|---|---|
{rows}

{"".join(_benchmark_md(b) for b in _benchmarks(card))}{ATTRIBUTION}
"""


def _augment_md(card: dict[str, Any]) -> str:
    augment = card.get("validation", {}).get("augment", 1)
    return "no augmentation" if augment == 1 else f"best of {augment} dihedral transforms"


def _sizes_md(sizes: list[int]) -> str:
    return f"n = {sizes[0]}" if len(sizes) == 1 else f"mixed n = {', '.join(map(str, sizes))}"


def _base_md(base: dict[str, Any] | None) -> str:
    if not base:
        return ""
    tr = base.get("training") or {}
    how = tr.get("method") or tr.get("algorithm") or "?"
    return (f"\n- Fine-tuned from `{base.get('name')}` (sha256 `{base['sha256'][:12]}…`), itself trained by {how}:"
            f" {tr.get('steps')} steps, {tr.get('instances')} instances at n = {', '.join(map(str, tr.get('sizes', [])))},"
            f" {tr.get('trained_seconds', 0) / 3600:.2f} h; the steps above are the fine-tuning's.")


def _benchmarks(card: dict[str, Any]) -> list[dict[str, Any]]:
    """The card's benchmark results (``benchmarks``; older cards hold one ``benchmark``)."""
    if card.get("benchmarks"):
        return list(card["benchmarks"])
    return [card["benchmark"]] if card.get("benchmark") else []


def _benchmark_md(bench: dict[str, Any] | None) -> str:
    if not bench:
        return ""
    rows = "\n".join(f"| {k} | {v['gap_pct']:.2f} | {v['feasible']:.2f} | {v['seconds_per_instance']:.3f} |"
                     for k, v in bench["methods"].items())
    return (f"Benchmark: {bench['count']} {bench['kind']}-{bench['n']} instances from {bench['city']} "
            f"(seed {bench['seed']}); gap to the {bench['reference']}; CPU, 1 thread"
            + (f" (`{bench['command']}`)" if bench.get("command") else "") + ".\n\n"
            f"| method | gap % | feasible | s / instance |\n|---|---|---|---|\n{rows}\n\n")


#: Card fields :func:`save_checkpoint` fills in; an export's ``extra`` may not set them.
_FILLED_BY_SAVE = frozenset({"format", "name", "architecture", "model_config", "kind", "parameters",
                             "weights_file", "sha256"})


def _base_record(init: str) -> dict[str, Any]:
    """What a fine-tuned checkpoint's card says about the checkpoint its run started from: the
    base's name, sha256 and training record (so the card tells the whole training, both stages)."""
    from .train import init_checkpoint_path

    path = find_checkpoint(init_checkpoint_path(init))
    base = read_card(path)
    return {"checkpoint": init, "name": base.get("name"), "sha256": base["sha256"], "n": base.get("n"),
            "training": base.get("training"), "validation": base.get("validation")}


def policy_from_state(state_path: str | Path):
    """A training run's resume state (``state.pt``) as ``(policy in eval mode, the state dict)``."""
    import torch

    from .policy import ModelConfig, RRNCOPolicy

    st = torch.load(state_path, map_location="cpu", weights_only=True)
    model = RRNCOPolicy(ModelConfig.from_dict(st["model_config"]))
    model.load_state_dict(st["model"], strict=True)
    return model.eval(), st


def export_run(run_dir: str | Path, name: str, out_dir: str | Path | None = None,
               benchmark: dict[str, Any] | list[dict[str, Any]] | None = None,
               extra: dict[str, Any] | None = None) -> Path:
    """Write a shipped checkpoint (``<out_dir>/<name>.safetensors`` + card) from a run's latest state.

    ``benchmark``: one or several outputs of :func:`hybridroute.neural.evaluate.benchmark`
    (e.g. against 1 s and 10 s references), stored in the card's ``benchmarks`` and shown
    in its markdown in that order. A run that started from ``init_checkpoint`` records that
    checkpoint's name, sha256, size and training in ``fine_tuned_from``, and the card's ``n``
    (the largest training size) is the larger of the run's and the base's. ``extra``: more card fields
    measured outside the run (e.g. ``evaluation``, ``warm_start_max_n``); a field the export
    writes itself is an error, not silently replaced.
    """
    import torch

    run_dir = Path(run_dir)
    state_path = run_dir / "state.pt"
    if not state_path.is_file():
        raise CheckpointError(f"{state_path}: no training state to export")
    model, st = policy_from_state(state_path)
    train_cfg = json.loads(st["train_config"])
    val = json.loads((run_dir / "validation.json").read_text()) if (run_dir / "validation.json").exists() else {}
    curve = [{k: v[k] for k in ("step", "instances", "gap_pct", "nearest_gap_pct")} for v in json.loads(st["val_curve"])]
    card = {
        "n": int(train_cfg.get("data", {}).get("n", 0)),
        "training": {"steps": st["step"], "instances": st["instances"], "trained_seconds": round(st["trained_seconds"], 1),
                     "cities": json.loads(st["cities"]), "sampling": train_cfg.get("data", {}).get("mode", "uniform"),
                     "sizes": train_cfg.get("data", {}).get("sizes", [int(train_cfg.get("data", {}).get("n", 0))]),
                     "algorithm": "REINFORCE, POMO shared baseline", "config": train_cfg,
                     "device": "cpu", "run": run_dir.name},
        "validation": {"city": st["val_city"], "method": st["val_method"], "count": val.get("count"),
                       "seed": val.get("seed"), "curve": curve},
        "data_license": "ODbL-1.0", "attribution": ATTRIBUTION,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "torch": torch.__version__,
    }
    init = train_cfg.get("train", {}).get("init_checkpoint")
    if init:
        card["fine_tuned_from"] = _base_record(init)
        # ``n`` is the largest size the weights were trained at: a base trained up to n = 500 and
        # fine-tuned at n = 50 still knows n = 500 (the backend warns only beyond ``n``)
        card["n"] = max(card["n"], int(card["fine_tuned_from"]["n"] or 0))
    if benchmark:
        card["benchmarks"] = [benchmark] if isinstance(benchmark, dict) else list(benchmark)
    if extra:
        clash = sorted(set(extra) & set(card) | set(extra) & _FILLED_BY_SAVE)
        if clash:
            raise ValueError(f"extra card fields {clash} would replace fields the export writes")
        card.update(extra)
    out = Path(out_dir) if out_dir is not None else _shipped_dir()
    if out is None:
        raise CheckpointError("no models folder found; pass out_dir")
    return save_checkpoint(model, out / f"{name}.safetensors", card)


def grow_checkpoint(name_or_path: str | Path, num_layers: int | None, out: str | Path,
                    window_hidden: int | None = None) -> Path:
    """Write a larger copy of a checkpoint that computes the same policy to ``out``: more AAFM
    layers (:func:`hybridroute.neural.grow.grow_layers`) and/or the ACVRPTW window term
    (:func:`hybridroute.neural.grow.add_window_term`).

    The new card keeps the base's size ``n`` and records the base (name, sha256, training,
    validation) in ``grown_from``, so that a run started from it tells its whole history.
    """
    from .grow import add_window_term, grow_layers

    if num_layers is None and window_hidden is None:
        raise ValueError("grow needs num_layers, window_hidden or both")
    policy, base = load_checkpoint(name_or_path)
    grown, growth = policy, []
    if num_layers is not None:
        grown = grow_layers(grown, num_layers)
        growth.append("AAFM layers appended as the identity")
    if window_hidden is not None:
        grown = add_window_term(grown, window_hidden)
        growth.append(f"a decoder window term of {window_hidden} units added at zero")
    card = {"n": base["n"],
            "grown_from": {"checkpoint": str(name_or_path), "name": base.get("name"), "sha256": base["sha256"],
                           "num_layers": policy.config.num_layers, "training": base.get("training"),
                           "validation": base.get("validation"), "fine_tuned_from": base.get("fine_tuned_from")},
            "growth": "; ".join(growth) + " (hybridroute.neural.grow): the same policy, more to train",
            "data_license": base.get("data_license", "ODbL-1.0"), "attribution": base.get("attribution", ATTRIBUTION)}
    return save_checkpoint(grown, out, card)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hybridroute.neural.checkpoint")
    sub = ap.add_subparsers(dest="cmd", required=True)
    ex = sub.add_parser("export", help="write a shipped checkpoint from a run's latest state")
    ex.add_argument("run_dir")
    ex.add_argument("--name", required=True, help="checkpoint name, e.g. rrnco-atsp20")
    ex.add_argument("--out", default=None, help="output folder (default: the shipped models folder)")
    ex.add_argument("--benchmark", nargs="+", default=None,
                    help="JSON file(s) from python -m hybridroute.neural.evaluate to embed, in order")
    ex.add_argument("--extra", default=None,
                    help="JSON file of more card fields measured outside the run (e.g. evaluation, warm_start_max_n)")
    gr = sub.add_parser("grow", help="write a larger copy of a checkpoint that computes the same policy: "
                                     "appended AAFM layers start as the identity, a window term at zero")
    gr.add_argument("checkpoint", help="checkpoint name or .safetensors path")
    gr.add_argument("--layers", type=int, default=None, help="the new number of AAFM layers")
    gr.add_argument("--window-hidden", type=int, default=None,
                    help="add the ACVRPTW decoder's window term with this many hidden units")
    gr.add_argument("--out", required=True, help="the new .safetensors path (its cards are written beside it)")
    ck = sub.add_parser("check", help="load a checkpoint strictly and print its card summary")
    ck.add_argument("checkpoint")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    if args.cmd == "export":
        bench = [json.loads(Path(b).read_text()) for b in args.benchmark or []]
        extra = json.loads(Path(args.extra).read_text()) if args.extra else None
        path = export_run(args.run_dir, args.name, args.out, benchmark=bench, extra=extra)
        print(path)
    elif args.cmd == "grow":
        print(grow_checkpoint(args.checkpoint, args.layers, args.out, window_hidden=args.window_hidden))
    else:
        model, card = load_checkpoint(args.checkpoint)
        print(json.dumps({k: card[k] for k in ("name", "kind", "n", "parameters", "sha256")}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
