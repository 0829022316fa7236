"""Train an RRNCO policy with REINFORCE and the POMO shared baseline.

Usage::

    python -m hybridroute.neural.train --config atsp20 [acvrp20 ...] [--max-minutes 30]

``--config`` takes the name of a TOML file in ``hybridroute/neural/configs/`` or a path;
several configs run one after the other (a training queue). A run lives in
``runs/<name>/``: ``state.pt`` (resume state: model, optimizer, step, counters — our own
scratch, loaded with ``weights_only=True``), ``log.jsonl`` (training curve and validation),
``validation.json`` (the fixed validation set's reference costs) and ``config.toml``. A run
resumes from ``state.pt`` automatically; ``--max-minutes`` is the wall-clock budget of this
invocation, and SIGTERM / SIGINT end it early the same way (the step under way finishes, then
the state is validated and saved).

Instances are drawn on the fly with :func:`hybridroute.osrm.cities.sample_batch` from the
training cities (RRNCO rule: each chunk takes 10 random cities, 100 instances per city); with
``[data] sizes`` each chunk draws its instance size from that list. The data stream is a pure
function of (seed, step), so a resumed run continues the same stream. ``[train]
init_checkpoint`` starts a new run from a shipped checkpoint of the same architecture
(fine-tuning, e.g. on larger sizes). ``[train] leader_alpha`` adds the Leader Reward and
``[train] augment`` rolls each instance out under that many dihedral transforms with one
baseline over all of them (:func:`pomo_loss`). ``[train] complement`` names a frozen partner
checkpoint: each rollout's cost is capped at the partner's best greedy length over its first
``complement_augment`` transforms (:func:`partner_best`), which trains a policy to be used
beside the partner (the best of both). A policy grown by :mod:`hybridroute.neural.grow`
trains what it added (``new_layers_from``: encoder layers; ``new_params``: name prefixes, e.g.
``"decoder.window_term"``) at ``new_layers_lr`` (:func:`parameter_groups`).
Validation is greedy POMO (every start, no augmentation) on a fixed set from the held-out
city, reported as the mean gap to reference costs computed once (PyVRP at ``ref_seconds``
per instance when the ``pyvrp`` backend is installed, and nearest neighbour from every start;
the best of them per instance).
"""

from __future__ import annotations

import os

# PyTorch's spinning OpenMP threads slow everyone down on a shared machine; must be set
# before torch initialises OpenMP.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import json
import math
import logging
import signal
import sys
import threading
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from ..osrm.cities import City, load_city, sample_batch
from .env import Instances, instances_from_batch
from .inference import augmented
from .policy import ModelConfig, RRNCOPolicy, count_parameters

__all__ = ["TrainConfig", "load_config", "train", "main", "CityPool", "resolve_device", "autocast_dtype"]

logger = logging.getLogger("hybridroute.neural.train")

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class TrainConfig:
    """A training run (one TOML file: [run], [model], [data], [train], [val])."""

    name: str
    model: ModelConfig
    n: int = 20
    batch_size: int = 64
    sizes: tuple[int, ...] = ()
    cities_dir: str = "data/cities"
    holdout: tuple[str, ...] = ("Helsinki",)
    cities_per_chunk: int = 10
    instances_per_city: int = 100
    mode: str = "uniform"
    lr: float = 4e-4
    weight_decay: float = 1e-6
    grad_clip: float = 1.0
    lr_milestones: tuple[int, ...] = ()
    lr_gamma: float = 0.1
    max_steps: int = 10_000_000
    seed: int = 1234
    init_checkpoint: str | None = None
    new_layers_from: int | None = None
    new_params: tuple[str, ...] = ()
    new_layers_lr: float | None = None
    leader_alpha: float = 0.0
    augment: int = 1
    complement: str | None = None
    complement_augment: int = 4
    threads: int = 1
    device: str = "auto"
    precision: str = "auto"
    checkpoint_minutes: float = 5.0
    log_every: int = 20
    val_city: str = "Helsinki"
    val_instances: int = 128
    val_seed: int = 20250101
    val_minutes: float = 5.0
    val_batch: int = 64
    ref_seconds: float = 1.0
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        # before the run's validation set is built (minutes), not at its first step
        if not 1 <= self.augment <= 8:
            raise ValueError(f"{self.name}: [train] augment must be between 1 and 8 (dihedral transforms), "
                             f"got {self.augment}")
        if not 1 <= self.complement_augment <= 8:
            raise ValueError(f"{self.name}: [train] complement_augment must be between 1 and 8 (dihedral "
                             f"transforms), got {self.complement_augment}")


_SECTIONS = {
    "run": {"name"},
    "data": {"n", "sizes", "batch_size", "cities_dir", "holdout", "cities_per_chunk", "instances_per_city", "mode"},
    "train": {"lr", "weight_decay", "grad_clip", "lr_milestones", "lr_gamma", "max_steps", "seed", "init_checkpoint", "threads",
              "new_layers_from", "new_params", "new_layers_lr", "leader_alpha", "augment",
              "complement", "complement_augment",
              "device", "precision", "checkpoint_minutes", "log_every"},
    "val": {"val_city", "val_instances", "val_seed", "val_minutes", "val_batch", "ref_seconds"},
}


def config_path(name_or_path: str | Path) -> Path:
    """A config file from its name (``hybridroute/neural/configs/<name>.toml``) or path."""
    p = Path(name_or_path)
    if p.suffix == ".toml" and p.exists():
        return p
    q = CONFIG_DIR / f"{name_or_path}.toml"
    if q.exists():
        return q
    known = ", ".join(sorted(x.stem for x in CONFIG_DIR.glob("*.toml")))
    raise FileNotFoundError(f"no training config {str(name_or_path)!r}; known: {known}")


def load_config(name_or_path: str | Path) -> TrainConfig:
    """Parse and check a training config; unknown keys are errors (typos must not be ignored)."""
    path = config_path(name_or_path)
    raw = tomllib.loads(path.read_text())
    kw: dict[str, Any] = {}
    for section, values in raw.items():
        if section == "model":
            continue
        allowed = _SECTIONS.get(section)
        if allowed is None:
            raise ValueError(f"{path}: unknown section [{section}]; known: model, {', '.join(_SECTIONS)}")
        bad = set(values) - allowed
        if bad:
            raise ValueError(f"{path}: unknown keys {sorted(bad)} in [{section}]")
        kw.update(values)
    if "model" not in raw:
        raise ValueError(f"{path}: missing [model] section")
    for key in ("holdout", "lr_milestones", "sizes", "new_params"):
        if key in kw:
            kw[key] = tuple(kw[key])
    kw.setdefault("name", path.stem)
    if ("new_layers_from" in kw or "new_params" in kw) != ("new_layers_lr" in kw):
        raise ValueError(f"{path}: [train] new_layers_lr goes with new_layers_from and/or new_params")
    return TrainConfig(model=ModelConfig.from_dict(raw["model"]), raw=raw, **kw)


# -- devices and precision -------------------------------------------------------------

def resolve_device(device: str = "auto") -> torch.device:
    """``"auto"``: CUDA when available, else CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _cpu_has_bf16() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def autocast_dtype(device: torch.device, precision: str = "auto") -> torch.dtype | None:
    """bf16 autocast where it pays: CUDA with bf16 support, or a CPU with native bf16 (AVX512-BF16/AMX)."""
    if precision == "fp32":
        return None
    if precision == "bf16":
        return torch.bfloat16
    if precision != "auto":
        raise ValueError(f"precision must be 'auto', 'bf16' or 'fp32', got {precision!r}")
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    return torch.bfloat16 if device.type == "cpu" and _cpu_has_bf16() else None


# -- data --------------------------------------------------------------------------------

def _city_names_from_splits(cities_dir: Path) -> dict[str, list[str]] | None:
    path = cities_dir / "splits.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return {k: list(v) for k, v in data.items() if isinstance(v, list)}


class CityPool:
    """Training and validation cities, loaded once (matrices kept as float32 to halve memory)."""

    def __init__(self, train: list[City], val: City):
        if not train:
            raise ValueError("no training cities")
        self.train = train
        self.val = val

    @staticmethod
    def _compact(city: City) -> City:
        return City(city.name, city.points, city.distance.astype(np.float32), city.duration.astype(np.float32),
                    city.meta)

    @classmethod
    def from_dir(cls, cities_dir: str | Path, val_city: str, holdout: tuple[str, ...]) -> "CityPool":
        """Training cities from ``splits.json``'s ``train`` list (else every file), minus held-out ones."""
        d = Path(cities_dir)
        if not d.is_absolute():
            d = REPO_ROOT / d
        files = {p.name[: -len("_data.npz")]: p for p in sorted(d.glob("*_data.npz"))}
        if not files:
            raise FileNotFoundError(f"no city files (*_data.npz) in {d}")
        splits = _city_names_from_splits(d)
        names = list(files)
        if splits and "train" in splits:
            names = [c for c in splits["train"] if c in files]
        excluded = {c.lower() for c in (*holdout, val_city)}
        if splits:
            for key, vals in splits.items():
                if key != "train":
                    excluded |= {c.lower() for c in vals}
        train_names = [c for c in names if c.lower() not in excluded]
        val_file = next((p for c, p in files.items() if c.lower() == val_city.lower()), None)
        if val_file is None:
            raise FileNotFoundError(f"validation city {val_city!r} not found in {d}")
        logger.info("training on %d cities from %s; validation city %s", len(train_names), d, val_city)
        train = [cls._compact(load_city(files[c])) for c in train_names]
        return cls(train, load_city(val_file))


def chunk_size_and_batch(cfg: TrainConfig, chunk: int) -> tuple[int, int]:
    """(instance size, batch size) of a data chunk.

    With ``sizes`` set, each chunk draws its size uniformly from it (from its own random
    stream, so the fixed-size stream is unchanged) and scales the batch by ``n / size`` so a
    step costs about the same number of rollouts at every size.
    """
    if not cfg.sizes:
        return cfg.n, cfg.batch_size
    size = int(np.random.default_rng([cfg.seed, chunk, 1]).choice(cfg.sizes))
    return size, max(1, round(cfg.batch_size * cfg.n / size))


def batch_stream(pool: CityPool, cfg: TrainConfig, start_step: int) -> Iterator[tuple[int, Any]]:
    """(step, InstanceBatch) forever, from ``start_step``; a pure function of (seed, step)."""
    cities = min(cfg.cities_per_chunk, len(pool.train))
    per_chunk = max(1, cities * cfg.instances_per_city // cfg.batch_size)
    step = start_step
    while True:
        chunk, offset = divmod(step, per_chunk)
        size, bs = chunk_size_and_batch(cfg, chunk)
        per_city = max(cfg.instances_per_city, -(-per_chunk * bs // cities))
        rng = np.random.default_rng([cfg.seed, chunk])
        picks = rng.choice(len(pool.train), size=cities, replace=False)
        parts = [sample_batch(pool.train[i], cfg.model.kind, size, per_city, rng=rng, mode=cfg.mode)
                 for i in picks]
        order = rng.permutation(sum(len(p) for p in parts))
        for k in range(offset, per_chunk):
            sel = order[k * bs:(k + 1) * bs]
            yield step, _take(parts, sel)
            step += 1


def _take(parts, sel):
    """Instances ``sel`` (indices into the concatenation of ``parts``) as one InstanceBatch."""
    from dataclasses import replace

    first = parts[0]
    cat = {}
    for f in ("index", "coords", "distance", "duration", "demand", "time_windows", "service_time",
              "duration_scale"):
        vals = [getattr(p, f) for p in parts]
        cat[f] = None if vals[0] is None else np.concatenate(vals)[sel]
    return replace(first, **cat)


# -- validation --------------------------------------------------------------------------

def reference_costs(problems, ref_seconds: float) -> tuple[np.ndarray, np.ndarray, str]:
    """(reference cost, nearest-neighbour cost, method) per problem, in metres.

    Reference = min(PyVRP at ``ref_seconds``, nearest neighbour from every start) when the
    ``pyvrp`` backend is registered and installed, else the nearest-neighbour multi-start.
    """
    from ..solvers import get_solver, installed_solvers

    nn_solver = get_solver("nearest", starts=problems[0].num_nodes)
    nn_cost = np.array([nn_solver.solve(p, seed=0, time_limit=math.inf).cost for p in problems])
    if "pyvrp" in installed_solvers():
        solver = get_solver("pyvrp", workers=1)  # one search: the same reference on every machine
        costs = []
        for p in problems:
            s = solver.solve(p, time_limit=ref_seconds, seed=0)
            costs.append(s.cost if s.is_feasible else np.inf)
        return np.minimum(np.array(costs), nn_cost), nn_cost, f"min(pyvrp {ref_seconds:g}s, nearest x all starts)"
    return nn_cost, nn_cost, "nearest x all starts (pyvrp backend not available)"


class Validator:
    """A fixed validation set from the held-out city with stored reference costs."""

    def __init__(self, cfg: TrainConfig, pool: CityPool, run_dir: Path):
        from ..osrm.cities import batch_to_problems

        self.batch = sample_batch(pool.val, cfg.model.kind, cfg.n, cfg.val_instances, seed=cfg.val_seed,
                                  mode=cfg.mode)
        self.cfg = cfg
        path = run_dir / "validation.json"
        if path.exists():
            data = json.loads(path.read_text())
            self.ref = np.array(data["reference_m"])
            self.nn = np.array(data["nearest_m"])
            self.method = data["method"]
        else:
            problems = batch_to_problems(self.batch, city_name=pool.val.name)
            t0 = time.perf_counter()
            self.ref, self.nn, self.method = reference_costs(problems, cfg.ref_seconds)
            data = {"city": pool.val.name, "kind": cfg.model.kind, "n": cfg.n, "count": cfg.val_instances,
                    "seed": cfg.val_seed, "mode": cfg.mode, "method": self.method,
                    "seconds": time.perf_counter() - t0, "reference_m": self.ref.tolist(),
                    "nearest_m": self.nn.tolist()}
            path.write_text(json.dumps(data, indent=1))
        logger.info("validation: %d %s-%d instances from %s, reference %s (nearest-neighbour gap %.2f%%)",
                    cfg.val_instances, cfg.model.kind, cfg.n, pool.val.name, self.method,
                    100 * float(np.mean(self.nn / self.ref - 1)))

    @torch.no_grad()
    def __call__(self, policy: RRNCOPolicy, device: torch.device, amp: torch.dtype | None) -> dict[str, float]:
        policy.eval()
        costs = []
        gen = torch.Generator(device=device).manual_seed(self.cfg.val_seed)
        for i in range(0, len(self.batch), self.cfg.val_batch):
            sub = _take([self.batch], np.arange(i, min(i + self.cfg.val_batch, len(self.batch))))
            inst = instances_from_batch(sub, device=device)
            with torch.autocast(device.type, dtype=amp, enabled=amp is not None):
                out = policy(inst, decode="greedy", generator=gen)
            best = out.length.min(1).values * inst.dist_scale * 1000.0  # km → metres
            costs.append(best.double().cpu().numpy())
        policy.train()
        cost = np.concatenate(costs)
        return {"gap_pct": 100 * float(np.mean(cost / self.ref - 1)),
                "nearest_gap_pct": 100 * float(np.mean(self.nn / self.ref - 1)),
                "mean_cost_m": float(cost.mean())}


# -- training ----------------------------------------------------------------------------

class StopRequest:
    """SIGTERM / SIGINT while training: finish the step, save the state, validate, return.

    A killed run (a session's end, a batch system's limit) then loses no steps. Handlers are
    installed only in the main thread and restored on exit."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self, log: logging.Logger | None = None):
        self.requested = False
        self._log = log or logger
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> "StopRequest":
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._request)
        return self

    def _request(self, signum, frame) -> None:
        if self.requested:  # a second signal: stop now
            raise KeyboardInterrupt
        self.requested = True
        self._log.info("signal %d: stopping after this step (state is saved)", signum)

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def _atomic_save(obj: Any, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _log(path: Path, record: dict[str, Any]) -> None:
    with path.open("a") as f:
        f.write(json.dumps(record) + "\n")


def pomo_loss(out, leader_alpha: float = 0.0, group: int = 1,
              ceiling: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """REINFORCE with the POMO shared baseline: advantage = reward − mean over the instance's starts.

    With ``leader_alpha`` > 0 the best rollout of each instance (the "leader") gets an extra
    ``leader_alpha · (max − mean)`` of advantage (Leader Reward, Wang et al. 2024). The policy is
    used as the best of many rollouts (every start, ×8), so the signal that moves the best one
    matters more than the average's.

    ``group``: the batch holds ``group`` consecutive dihedral transforms of each instance
    (``[train] augment``); the baseline (and the leader) is then taken over all their rollouts,
    transforms × starts, as Sym-NCO's symmetric baseline does (Kim et al. 2022): a rollout is
    rewarded for beating what every transform of its instance reaches, which is how the policy
    is used (the best of every start × 8).

    ``ceiling``: (instances,) the length a partner policy already reaches on each instance
    (``[train] complement``). A rollout's cost is then min(length, ceiling): rollouts that do
    not beat the partner all cost the same and get no signal among them, so the policy learns
    where it can do better than the partner, which is what the best of both pays for (the
    population objective of Poppy, Grinsztajn et al. 2023, with the partner frozen).

    Returns the loss and the rewards, (instances, group × starts).
    """
    length, logp = out.length, out.logp
    if group > 1:
        if length.shape[0] % group:
            raise ValueError(f"group {group} does not divide the batch of {length.shape[0]} rollout rows")
        length = length.reshape(length.shape[0] // group, -1)
        logp = logp.reshape(logp.shape[0] // group, -1)
    if ceiling is not None:
        length = torch.minimum(length.float(), ceiling.to(length.device).float().unsqueeze(1))
    reward = -length.float()
    mean = reward.mean(1, keepdim=True)
    adv = reward - mean
    if leader_alpha:
        best = reward.max(1, keepdim=True)
        bonus = torch.zeros_like(adv).scatter_(1, best.indices, leader_alpha * (best.values - mean))
        adv = adv + bonus
    loss = -(adv.detach() * logp).mean()
    return loss, reward


def rollout_batch(policy: RRNCOPolicy, inst, augment: int, generator: torch.Generator):
    """Sampled POMO rollouts from every start of each instance, under its first ``augment``
    dihedral transforms (consecutive rows per instance, as :func:`pomo_loss` groups them)."""
    if augment == 1:
        return policy(inst, decode="sampling", generator=generator)
    aug, coords, copies = augmented(inst, augment)
    return policy(aug, decode="sampling", generator=generator, coords=coords, copies=copies)


@torch.no_grad()
def partner_best(partner: RRNCOPolicy, inst, augment: int, generator: torch.Generator) -> torch.Tensor:
    """(instances,) the partner's best greedy length from every start under its first
    ``augment`` dihedral transforms: how it is used next to the policy being trained."""
    aug, coords, copies = augmented(inst, augment)
    out = partner(aug, decode="greedy", generator=generator, coords=coords, copies=copies)
    return out.length.reshape(inst.batch_size, -1).min(1).values


def train(cfg: TrainConfig, *, run_root: str | Path = REPO_ROOT / "runs", max_minutes: float = 30.0,
          pool: CityPool | None = None, device: str | None = None, progress: bool = True) -> Path:
    """Train (or resume) ``cfg`` for ``max_minutes`` of wall clock or up to ``cfg.max_steps``.

    Returns
    -------
    Path
        The run directory.
    """
    run_dir = Path(run_root) / cfg.name
    run_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(run_dir / "train.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.setLevel(logging.INFO)
    logging.getLogger("hybridroute").addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)  # the run's own log always records progress
    try:
        return _train(cfg, run_dir, max_minutes=max_minutes, pool=pool, device=device, progress=progress)
    finally:
        logger.setLevel(level)
        logging.getLogger("hybridroute").removeHandler(handler)
        handler.close()


def parameter_groups(policy: RRNCOPolicy, cfg: TrainConfig) -> list[dict[str, Any]]:
    """Optimizer groups: what a grown policy added at ``new_layers_lr``, the rest at ``lr``.

    New are the encoder layers from ``new_layers_from`` on and the parameters whose names start
    with one of ``new_params`` (e.g. ``"decoder.window_term"``). A policy grown by
    :mod:`hybridroute.neural.grow` starts with them at the identity or zero: at the
    fine-tuning rate of the trained tensors (2e-5) they would take thousands of steps to
    matter, so they get their own rate.
    """
    if cfg.new_layers_from is None and not cfg.new_params:
        return [{"params": list(policy.parameters())}]
    new = []
    if cfg.new_layers_from is not None:
        depth = cfg.model.num_layers
        if not 0 < cfg.new_layers_from < depth:
            raise ValueError(f"new_layers_from must be between 1 and {depth - 1} (the model has {depth} layers), "
                             f"got {cfg.new_layers_from}")
        new += [p for i, layer in enumerate(policy.encoder.layers) if i >= cfg.new_layers_from
                for p in layer.parameters()]
    for prefix in cfg.new_params:
        named = [p for name, p in policy.named_parameters() if name.startswith(prefix)]
        if not named:
            raise ValueError(f"new_params: no parameter of the policy is named {prefix!r}*")
        new += named
    ids = {id(p) for p in new}
    return [{"params": [p for p in policy.parameters() if id(p) not in ids]},
            {"params": list({id(p): p for p in new}.values()), "lr": cfg.new_layers_lr}]


def _train(cfg: TrainConfig, run_dir: Path, *, max_minutes: float, pool: CityPool | None, device: str | None,
           progress: bool) -> Path:
    from tqdm import tqdm

    torch.set_num_threads(cfg.threads)
    dev = resolve_device(device or cfg.device)
    amp = autocast_dtype(dev, cfg.precision)
    pool = pool or CityPool.from_dir(cfg.cities_dir, cfg.val_city, cfg.holdout)
    torch.manual_seed(cfg.seed)
    policy = RRNCOPolicy(cfg.model).to(dev)
    opt = torch.optim.Adam(parameter_groups(policy, cfg), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=list(cfg.lr_milestones), gamma=cfg.lr_gamma)
    state_path, log_path = run_dir / "state.pt", run_dir / "log.jsonl"
    step, seen, trained_s = 0, 0, 0.0
    val_curve: list[dict[str, Any]] = []
    if state_path.exists():
        st = torch.load(state_path, map_location=dev, weights_only=True)
        if st["model_config"] != cfg.model.to_dict():
            raise ValueError(f"{state_path} was trained with {st['model_config']}, config says "
                             f"{cfg.model.to_dict()}: use a new run name")
        policy.load_state_dict(st["model"], strict=True)
        opt.load_state_dict(st["optimizer"])
        sched.load_state_dict(st["scheduler"])
        step, seen, trained_s = st["step"], st["instances"], st["trained_seconds"]
        val_curve = json.loads(st["val_curve"])
        logger.info("resumed %s at step %d (%d instances, %.0f s trained)", cfg.name, step, seen, trained_s)
    else:
        (run_dir / "config.toml").write_text(config_path_text(cfg))
        if cfg.init_checkpoint:
            from .checkpoint import load_checkpoint

            init, card = load_checkpoint(init_checkpoint_path(cfg.init_checkpoint))
            if init.config != cfg.model:
                raise ValueError(f"init_checkpoint {cfg.init_checkpoint!r} has {init.config}, config says {cfg.model}")
            policy.load_state_dict(init.state_dict(), strict=True)
            logger.info("%s: starting from %s (sha256 %s)", cfg.name, card["name"], card["sha256"][:12])
    partner = None
    if cfg.complement:
        from .checkpoint import load_checkpoint

        partner, card = load_checkpoint(init_checkpoint_path(cfg.complement))
        if partner.config.kind != cfg.model.kind:
            raise ValueError(f"complement {cfg.complement!r} is a {partner.config.kind} policy, "
                             f"config trains {cfg.model.kind}")
        partner = partner.to(dev).eval().requires_grad_(False)
        logger.info("%s: complementing %s (sha256 %s) x%d", cfg.name, card["name"], card["sha256"][:12],
                    cfg.complement_augment)
    logger.info("%s: %s, %d parameters, device %s, autocast %s, %d threads", cfg.name, cfg.model,
                count_parameters(policy), dev, amp, torch.get_num_threads())
    validator = Validator(cfg, pool, run_dir)

    def checkpoint() -> None:
        _atomic_save({"model": policy.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                      "step": step, "instances": seen, "trained_seconds": trained_s,
                      "model_config": cfg.model.to_dict(), "train_config": json.dumps(cfg.raw),
                      "val_curve": json.dumps(val_curve), "cities": json.dumps([c.name for c in pool.train]),
                      "val_city": pool.val.name, "val_method": validator.method}, state_path)

    def validate() -> None:
        res = validator(policy, dev, amp)
        rec = {"type": "val", "step": step, "instances": seen, "trained_s": round(trained_s, 1), **res}
        val_curve.append(rec)
        _log(log_path, rec)
        logger.info("val step %d: gap %.2f%% (nearest %.2f%%)", step, res["gap_pct"], res["nearest_gap_pct"])

    if not val_curve:
        validate()
    t_start = time.perf_counter()
    t_last_ckpt = t_last_val = t_start
    gen = torch.Generator(device=dev)
    bar = tqdm(total=None, desc=cfg.name, mininterval=60, file=sys.stderr, disable=not progress, initial=step)
    acc: dict[str, float] = {"loss": 0.0, "len": 0.0, "best": 0.0, "k": 0}
    policy.train()
    with StopRequest() as stop:  # SIGTERM / SIGINT: finish the step, validate, save, return
        for step_i, batch in batch_stream(pool, cfg, step):
            if step >= cfg.max_steps or time.perf_counter() - t_start > max_minutes * 60 or stop.requested:
                break
            t0 = time.perf_counter()
            gen.manual_seed(cfg.seed * 1_000_003 + step_i)
            inst = instances_from_batch(batch, device=dev)
            ceiling = None
            with torch.autocast(dev.type, dtype=amp, enabled=amp is not None):
                if partner is not None:
                    ceiling = partner_best(partner, inst, cfg.complement_augment, gen)
                out = rollout_batch(policy, inst, cfg.augment, gen)
            loss, reward = pomo_loss(out, cfg.leader_alpha, cfg.augment, ceiling)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(policy.parameters(), cfg.grad_clip)
            opt.step()
            sched.step()
            step, seen = step_i + 1, seen + len(batch)
            trained_s += time.perf_counter() - t0
            bar.update(1)
            acc["loss"] += float(loss.detach())
            acc["len"] += float(-reward.mean())
            acc["best"] += float(-reward.max(1).values.mean())
            acc["k"] += 1
            if step % cfg.log_every == 0:
                k = acc.pop("k")
                rec = {"type": "train", "step": step, "instances": seen, "trained_s": round(trained_s, 1),
                       "s_per_step": round(trained_s / max(step, 1), 3), "lr": sched.get_last_lr()[0],
                       **{f"{key}": v / k for key, v in acc.items()}}
                _log(log_path, rec)
                acc = {"loss": 0.0, "len": 0.0, "best": 0.0, "k": 0}
            now = time.perf_counter()
            if now - t_last_val > cfg.val_minutes * 60:
                validate()
                t_last_val = time.perf_counter()
            if now - t_last_ckpt > cfg.checkpoint_minutes * 60:
                checkpoint()
                t_last_ckpt = time.perf_counter()
    bar.close()
    validate()
    checkpoint()
    logger.info("%s: stopped at step %d (%d instances, %.0f s trained)", cfg.name, step, seen, trained_s)
    return run_dir


def init_checkpoint_path(name_or_path: str) -> str | Path:
    """``[train] init_checkpoint`` as given: a checkpoint name, a path, or a path relative to the
    repository (configs name committed files that way, whatever the working directory)."""
    p = Path(name_or_path)
    if not p.is_absolute() and not p.exists() and (REPO_ROOT / p).is_file():
        return REPO_ROOT / p
    return name_or_path


def config_path_text(cfg: TrainConfig) -> str:
    """The config as TOML text (kept with the run for provenance)."""
    lines = []
    for section, values in cfg.raw.items():
        lines.append(f"[{section}]")
        for k, v in values.items():
            lines.append(f"{k} = {json.dumps(v)}")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hybridroute.neural.train", description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", nargs="+", required=True, help="config names or TOML paths (run in order)")
    ap.add_argument("--max-minutes", type=float, default=30.0, help="wall-clock budget per config (minutes)")
    ap.add_argument("--run-root", default=str(REPO_ROOT / "runs"))
    ap.add_argument("--cities-dir", default=None, help="override [data] cities_dir")
    ap.add_argument("--threads", type=int, default=None, help="override [train] threads")
    ap.add_argument("--device", default=None, help="override [train] device (auto, cpu, cuda)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    for name in args.config:
        cfg = load_config(name)
        if args.cities_dir:
            cfg.cities_dir = args.cities_dir
        if args.threads:
            cfg.threads = args.threads
        train(cfg, run_root=args.run_root, max_minutes=args.max_minutes, device=args.device)
    return 0


if __name__ == "__main__":
    sys.exit(main())
