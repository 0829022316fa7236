"""Imitation training: teacher forcing on classical solvers' tours, at mixed sizes.

Why imitation first: at n = 100 a teacher-forced forward + backward costs about 0.03 s per
instance on one CPU thread, one POMO sample 0.25 s; and a supervised prototype (15 CPU-min,
LKH-3 tours, n = 50 and 100) took ATSP-100 ×8 from 91.8 % to 21.9 % above LKH-3 where the
same CPU spent on POMO REINFORCE made it worse (docs/neural.md).

Labels
    :func:`make_labels` samples ``count`` instances of ``n`` nodes from a city with a seed
    (:func:`hybridroute.osrm.cities.sample_batch`, the same stream training re-samples) and
    solves them: ATSP with LKH-3 (one run of at most 50 trials), ACVRP / ACVRPTW with PyVRP
    (one search, 2 s). A label file stores only the tours (int16) and their costs, so it is
    small and committed; the instances are re-drawn from (city, n, seed) when training.
    ``python -m hybridroute.neural.imitation labels --config NAME`` fills a run's label folder
    chunk by chunk on a fixed schedule over the training cities and sizes; it resumes by
    skipping chunks already written. ``--workers K`` writes them in K processes, one per core.
Training
    ``python -m hybridroute.neural.imitation train --config NAME --max-minutes M`` minimises
    the negative log-likelihood of the label's next node along the label tour, from several
    rotations of each tour (every node of an ATSP tour is a valid start) under a random
    dihedral flip of the coordinates. Every step picks a label file and instances from a
    stream that is a pure function of (seed, step), so a resumed run continues the same curve.
    ``batch_nodes`` caps the nodes in a step (``batch_size`` × n), so that the largest sizes
    take fewer instances per step instead of most of the run's time. The learning rate is
    ``lr``, or ``lr_from_step = { 10000 = 1e-4 }`` from a step on; a resumed run takes it (and
    ``weight_decay``) from the config, not from the saved optimizer. A run that grows its label
    pool records when: ``chunks_until_step = { 5486 = 88 }`` makes steps below 5486 draw from
    the first 88 chunks only, so the whole curve stays a function of (config, step).
    The resume state (``state.pt``: weights, optimizer, step), the curve (``log.jsonl``) and
    the validation references live in ``models/training/<name>/`` and are committed.
Validation
    Greedy POMO (×1) on a fixed set of instances from the held-out city at the sizes listed in
    ``[val] sizes``, as the mean gap to LKH-3 / PyVRP references computed once.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch initialises OpenMP

import argparse
import concurrent.futures
import dataclasses
import json
import logging
import math
import multiprocessing
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..osrm.cities import City, batch_to_problems, load_city, sample_batch
from ..problem import ProblemKind
from .env import Instances, RoutingEnv, State, instances_from_batch
from .inference import dihedral
from .policy import ModelConfig, RRNCOPolicy, count_parameters
from .train import StopRequest, _atomic_save, _log

__all__ = ["ImitationConfig", "load_config", "make_labels", "label_schedule", "teacher_forced_logp",
           "train", "main"]

logger = logging.getLogger("hybridroute.neural.imitation")

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
REPO_ROOT = Path(__file__).resolve().parents[2]
#: The classical solver, its settings and its time limit (seconds) that label each kind.
LABEL_SOLVERS: dict[ProblemKind, tuple[str, dict[str, Any], float]] = {
    ProblemKind.ATSP: ("lkh", {"runs": 1, "max_trials": 50}, 30.0),
    ProblemKind.ACVRP: ("pyvrp", {"workers": 1}, 2.0),
    ProblemKind.ACVRPTW: ("pyvrp", {"workers": 1}, 2.0),
}


@dataclass
class ImitationConfig:
    """An imitation run (one TOML file: [run], [model], [data], [train], [val])."""

    name: str
    model: ModelConfig
    sizes: tuple[int, ...] = (20, 50, 100, 200)
    label_count: int = 32
    label_chunks: int = 88
    sizes_from_chunk: dict[int, tuple[int, ...]] = field(default_factory=dict)
    cities_dir: str = "data/cities"
    runs_root: str = "models/training"
    holdout: tuple[str, ...] = ("Helsinki",)
    batch_size: int = 16
    batch_nodes: int | None = None
    rotations: int = 8
    lr: float = 2e-4
    lr_from_step: dict[int, float] = field(default_factory=dict)
    chunks_until_step: dict[int, int] = field(default_factory=dict)
    weight_decay: float = 1e-6
    grad_clip: float = 1.0
    average_from_step: int | None = None
    average_every: int = 20
    seed: int = 1234
    threads: int = 1
    device: str = "auto"
    checkpoint_minutes: float = 5.0
    log_every: int = 20
    val_city: str = "Helsinki"
    val_sizes: tuple[int, ...] = (50, 100)
    val_count: int = 16
    val_seed: int = 20250101
    val_minutes: float = 15.0
    source: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.average_every < 1:
            raise ValueError(f"{self.name}: average_every must be at least 1, got {self.average_every}")
        too_many = {s: c for s, c in self.chunks_until_step.items() if not 0 < c <= self.label_chunks}
        if too_many:
            raise ValueError(f"{self.name}: chunks_until_step {too_many} must be within 1 … label_chunks "
                             f"({self.label_chunks})")

    @property
    def kind(self) -> ProblemKind:
        return self.model.problem_kind

    def lr_at(self, step: int) -> float:
        """The learning rate of step ``step``: ``lr``, or the ``lr_from_step`` entry with the
        largest step at or below it (a schedule that is a function of the step alone, so a
        resumed run follows the same one)."""
        started = [s for s in self.lr_from_step if s <= step]
        return self.lr_from_step[max(started)] if started else self.lr

    def chunks_at(self, step: int) -> int:
        """The label chunks step ``step`` draws from: the ``chunks_until_step`` entry with the
        smallest step above it, else all ``label_chunks`` (a pool that grew during the run)."""
        pending = [s for s in self.chunks_until_step if s > step]
        return self.chunks_until_step[min(pending)] if pending else self.label_chunks

    @property
    def all_sizes(self) -> tuple[int, ...]:
        """Every size the label schedule uses, ascending."""
        return tuple(sorted({*self.sizes, *(n for v in self.sizes_from_chunk.values() for n in v)}))


def load_config(name_or_path: str | Path) -> ImitationConfig:
    """A config from ``hybridroute/neural/configs/<name>.toml`` or a path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = CONFIG_DIR / f"{name_or_path}.toml"
    if not path.exists():
        raise FileNotFoundError(f"no imitation config {name_or_path!r} (looked for {path})")
    raw = tomllib.loads(path.read_text())
    flat: dict[str, Any] = {}
    for section in ("data", "train", "val"):
        flat.update(raw.get(section, {}))
    known = set(ImitationConfig.__dataclass_fields__)
    unknown = set(flat) - known
    if unknown:
        raise ValueError(f"{path}: unknown keys {sorted(unknown)}")
    for key in ("sizes", "holdout", "val_sizes"):
        if key in flat:
            flat[key] = tuple(flat[key])
    if "sizes_from_chunk" in flat:
        flat["sizes_from_chunk"] = {int(k): tuple(int(n) for n in v) for k, v in flat["sizes_from_chunk"].items()}
    if "lr_from_step" in flat:
        flat["lr_from_step"] = {int(k): float(v) for k, v in flat["lr_from_step"].items()}
    if "chunks_until_step" in flat:
        flat["chunks_until_step"] = {int(k): int(v) for k, v in flat["chunks_until_step"].items()}
    return ImitationConfig(name=raw["run"]["name"], model=ModelConfig.from_dict(raw["model"]), source=raw, **flat)


# -- cities and labels -------------------------------------------------------------------

def _cities_dir(cfg: ImitationConfig) -> Path:
    d = Path(cfg.cities_dir)
    return d if d.is_absolute() else REPO_ROOT / d


def training_city_names(cfg: ImitationConfig) -> list[str]:
    """The training cities in schedule order: ``splits.json``'s ``train`` list when the folder
    has one (scripts/build_cities.sh writes it), else every city file; minus held-out ones."""
    d = _cities_dir(cfg)
    names = sorted(p.name[: -len("_data.npz")] for p in d.glob("*_data.npz"))
    splits = d / "splits.json"
    if splits.exists():
        listed = json.loads(splits.read_text()).get("train", [])
        names = [c for c in listed if c in names]
    held = {c.lower() for c in (*cfg.holdout, cfg.val_city)}
    train = [c for c in names if c.lower() not in held]
    if not train:
        raise FileNotFoundError(f"no training cities in {d} (build them: scripts/build_cities.sh)")
    return train


def label_schedule(cities: list[str], sizes: tuple[int, ...], seed: int, chunk: int,
                   sizes_from_chunk: dict[int, tuple[int, ...]] | None = None) -> tuple[str, int, int]:
    """(city, n, seed) of label chunk ``chunk``: cities round-robin, sizes cycling per round.

    ``sizes_from_chunk`` maps a chunk index to the sizes that cycle from that chunk on (their
    rounds counted from there), so a run can add sizes later without moving its earlier chunks.
    """
    city = cities[chunk % len(cities)]
    first = max((c for c in (sizes_from_chunk or {}) if c <= chunk), default=None)
    if first is None:
        first = 0
    else:
        sizes = sizes_from_chunk[first]
    n = sizes[((chunk - first) // len(cities)) % len(sizes)]
    return city, n, seed * 1_000_003 + chunk


def chunk_spec(cfg: "ImitationConfig", cities: list[str], chunk: int) -> tuple[str, int, int]:
    """(city, n, seed) of a run's label chunk ``chunk``."""
    return label_schedule(cities, cfg.sizes, cfg.seed, chunk, cfg.sizes_from_chunk)


def run_dir(cfg: ImitationConfig) -> Path:
    root = Path(cfg.runs_root)
    return (root if root.is_absolute() else REPO_ROOT / root) / cfg.name


def label_path(cfg: ImitationConfig, city: str, n: int, seed: int) -> Path:
    return run_dir(cfg) / "labels" / f"{city}_n{n}_s{seed}.npz"


def _solve_labels(problems, kind: ProblemKind) -> tuple[np.ndarray, np.ndarray]:
    from ..solvers import get_solver

    name, settings, limit = LABEL_SOLVERS[kind]
    solver = get_solver(name, **settings)
    seqs, costs = [], []
    for p in problems:
        sol = solver.solve(p, time_limit=limit, seed=0)
        if not sol.is_feasible:
            raise RuntimeError(f"{name} found no feasible label for {p.name}: {sol.message}")
        seqs.append([0] + [v for r in sol.routes for v in (*r, 0)][:-1] if kind.has_capacity
                    else [0] + list(sol.routes[0]))
        costs.append(sol.cost)
    width = max(len(s) for s in seqs)
    out = np.full((len(seqs), width), -1, dtype=np.int16)
    for i, s in enumerate(seqs):
        out[i, :len(s)] = s
    return out, np.asarray(costs)


def make_labels(city: City, kind: ProblemKind | str, n: int, count: int, seed: int) -> dict[str, np.ndarray]:
    """Label ``count`` instances of ``n`` drawn from ``city`` with ``seed``.

    Returns ``{"tours": (count, L) int16, "costs": (count,) metres}``. A tour is the node
    sequence from node 0 (ATSP: a permutation; VRPs: routes joined by depot visits, padded with
    −1).
    """
    kind = ProblemKind.parse(kind)
    batch = sample_batch(city, kind, n, count, seed=seed)
    tours, costs = _solve_labels(batch_to_problems(batch, city_name=city.name), kind)
    return {"tours": tours, "costs": costs}


def write_labels(cfg: ImitationConfig, max_minutes: float, cities: dict[str, City] | None = None,
                 shard: tuple[int, int] = (0, 1)) -> int:
    """Write the run's ``label_chunks`` label files in schedule order, for at most
    ``max_minutes`` (chunks already written are skipped); returns the chunks written.

    ``shard = (i, k)`` writes only the chunks whose index is ``i`` modulo ``k``: k processes
    with i = 0 … k−1 share the schedule without writing a chunk twice (:func:`write_labels_parallel`).
    """
    index, count = shard
    if not 0 <= index < count:
        raise ValueError(f"shard: index {index} is not in 0 … {count - 1}")
    names = training_city_names(cfg)
    cities = cities or {}
    end = time.monotonic() + max_minutes * 60
    written, chunk = 0, index
    while time.monotonic() < end and chunk < cfg.label_chunks:
        city, n, seed = chunk_spec(cfg, names, chunk)
        path = label_path(cfg, city, n, seed)
        chunk += count
        if path.exists():
            continue
        if city not in cities:
            cities[city] = load_city(_cities_dir(cfg) / f"{city}_data.npz")
        t0 = time.perf_counter()
        labels = make_labels(cities[city], cfg.kind, n, cfg.label_count, seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {"city": city, "kind": cfg.kind.value, "n": n, "seed": seed, "count": cfg.label_count,
                "solver": LABEL_SOLVERS[cfg.kind][0], "settings": LABEL_SOLVERS[cfg.kind][1],
                "time_limit_s": LABEL_SOLVERS[cfg.kind][2]}
        tmp = path.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, meta=np.array(json.dumps(meta)), **labels)
        os.replace(tmp, path)
        written += 1
        logger.info("labels %s (%d x n=%d) in %.1f s", path.name, cfg.label_count, n, time.perf_counter() - t0)
    return written


def _label_worker(cfg: ImitationConfig, max_minutes: float, shard: tuple[int, int]) -> int:
    # Each worker is one process on one core: a label solver's time limit is wall-clock, so a
    # worker that shared its core with torch threads would write labels with less search.
    torch.set_num_threads(1)
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s [labels {shard[0]}/{shard[1]}] %(message)s",
                        stream=sys.stderr)
    return write_labels(cfg, max_minutes, shard=shard)


def write_labels_parallel(cfg: ImitationConfig, max_minutes: float, workers: int) -> int:
    """:func:`write_labels` in ``workers`` processes, one per core (chunk i goes to worker
    i mod ``workers``); returns the chunks written. Each chunk is drawn from the same
    (city, n, seed) as with one worker."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if workers == 1:
        return write_labels(cfg, max_minutes)
    ctx = multiprocessing.get_context("spawn")  # no fork of a process that holds torch threads
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx) as pool:
        jobs = [pool.submit(_label_worker, cfg, max_minutes, (i, workers)) for i in range(workers)]
        return sum(job.result() for job in jobs)


# -- teacher forcing ---------------------------------------------------------------------

def teacher_forced_logp(policy: RRNCOPolicy, inst: Instances, starts: torch.Tensor, actions: torch.Tensor,
                        *, coords: torch.Tensor | None = None,
                        generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-probabilities of the label's moves, (B, P, T), and where they count (B, P, T) bool.

    ``starts`` (B, P) and ``actions`` (B, P, T) are the label sequences after their first node;
    padding (−1) and forced moves (one allowed node) do not count.

    The label fixes every move, so the states along it do not depend on the policy: the
    environment is rolled along the label once without gradients, and the decoder scores all T
    decisions in one call (T × P queries per instance) instead of T calls of P queries. The
    log-probabilities are those of a step-by-step decode, at a fraction of the cost.
    """
    cache = policy.encode(inst, coords, generator)
    states, masks, moves, counts = _label_states(RoutingEnv(inst), starts, actions)
    B, P = starts.shape
    T = len(states)
    logp = policy.decoder(cache, _concat_states(states), torch.cat(masks, 1), policy.model_view(inst))
    chosen = logp.gather(-1, torch.cat(moves, 1).unsqueeze(-1)).squeeze(-1)     # (B, T·P), step-major
    counted = torch.cat(counts, 1)
    chosen = torch.where(counted, chosen, torch.zeros_like(chosen))
    return chosen.view(B, T, P).transpose(1, 2), counted.view(B, T, P).transpose(1, 2)


@torch.no_grad()
def _label_states(env: RoutingEnv, starts: torch.Tensor, actions: torch.Tensor):
    """Every state along the label sequences, with its action mask, move and whether it counts."""
    state = env.reset(starts)
    states, masks, moves, counts = [], [], [], []
    for t in range(actions.shape[-1]):
        action = actions[..., t]
        pad = action < 0
        if bool(pad.all()):
            break
        mask = env.action_mask(state)
        move = torch.where(pad, torch.zeros_like(action), action)
        states.append(state)
        masks.append(mask)
        moves.append(move)
        counts.append(~pad & ~state.done & (mask.sum(-1) > 1))
        state = env.step(state, move)
    return states, masks, moves, counts


def _concat_states(states: list[State]) -> State:
    """T states of (B, P, ...) as one of (B, T·P, ...): every step's rollouts side by side."""
    fields = {}
    for f in dataclasses.fields(State):
        values = [getattr(s, f.name) for s in states]
        fields[f.name] = None if values[0] is None else torch.cat(values, 1)
    return State(**fields)


def _rotations(tours: np.ndarray, rotations: int, rng: np.random.Generator, kind: ProblemKind) -> np.ndarray:
    """(B, P, L) label sequences: ATSP tours rotated to random start nodes; VRP routes in a
    random order, each starting the sequence in turn (the route order carries no meaning)."""
    B, L = tours.shape
    out = np.empty((B, rotations, L), dtype=np.int64)
    for b in range(B):
        t = tours[b][tours[b] >= 0]
        if kind is ProblemKind.ATSP:
            for p, r in enumerate(rng.integers(0, len(t), rotations)):
                out[b, p] = np.roll(t, -r)
            continue
        routes = [r for r in np.split(t, np.flatnonzero(t == 0)) if len(r) > 1]
        for p in range(rotations):
            order = rng.permutation(len(routes))
            seq = np.concatenate([routes[i] for i in order])[1:]  # drop the leading depot
            row = np.full(L, -1)
            row[:len(seq)] = seq
            row[len(seq)] = 0 if len(seq) < L else row[-1]
            out[b, p] = row
    return out


# -- the training loop -------------------------------------------------------------------

class _LabelStore:
    """The label files of a run, with their instances re-drawn (and kept) on first use."""

    def __init__(self, cfg: ImitationConfig):
        self.cfg = cfg
        self.cities: dict[str, City] = {}
        self.loaded: dict[Path, tuple[Any, np.ndarray]] = {}
        self._files: list[Path] | None = None

    def files(self) -> list[Path]:
        """The ``label_chunks`` files of the schedule, all of which must exist: the data a step
        sees is then a pure function of (seed, step)."""
        cfg = self.cfg
        names = training_city_names(cfg)
        paths = [label_path(cfg, *chunk_spec(cfg, names, c)) for c in range(cfg.label_chunks)]
        missing = [p for p in paths if not p.exists()]
        if missing:
            raise FileNotFoundError(f"{len(missing)} of {cfg.label_chunks} label files are missing (first: "
                                    f"{missing[0]}): run 'python -m hybridroute.neural.imitation labels "
                                    f"--config {cfg.name}' first")
        return paths

    def files_cached(self) -> list[Path]:
        if self._files is None:
            self._files = self.files()
        return self._files

    def get(self, path: Path):
        if path not in self.loaded:
            with np.load(path) as z:
                meta, tours = json.loads(str(z["meta"])), z["tours"]
            city = meta["city"]
            if city not in self.cities:
                self.cities[city] = load_city(_cities_dir(self.cfg) / f"{city}_data.npz")
            batch = sample_batch(self.cities[city], meta["kind"], meta["n"], meta["count"], seed=meta["seed"])
            self.loaded[path] = (batch, tours)
        return self.loaded[path]


def _take_batch(batch, sel: np.ndarray):
    from dataclasses import replace

    kw = {}
    for name in ("index", "coords", "distance", "duration", "demand", "time_windows", "service_time",
                 "duration_scale"):
        value = getattr(batch, name)
        kw[name] = None if value is None else value[sel]
    return replace(batch, **kw)


def step_batch_size(cfg: ImitationConfig, num_nodes: int, available: int) -> int:
    """Instances in a step on ``num_nodes``-node labels: ``batch_size``, fewer when
    ``batch_nodes`` caps the nodes per step (a step's cost grows as n², so large sizes would
    otherwise dominate the run's time), never fewer than one."""
    size = min(cfg.batch_size, available)
    if cfg.batch_nodes is not None:
        size = min(size, max(1, cfg.batch_nodes // num_nodes))
    return size


def _step_data(store: _LabelStore, cfg: ImitationConfig, step: int):
    files = store.files_cached()[: cfg.chunks_at(step)]
    rng = np.random.default_rng([cfg.seed, step])
    batch, tours = store.get(files[int(rng.integers(len(files)))])
    size = step_batch_size(cfg, batch.distance.shape[-1], len(tours))
    sel = rng.choice(len(tours), size=size, replace=False)
    seqs = _rotations(tours[sel], cfg.rotations, rng, cfg.kind)
    return _take_batch(batch, sel), seqs, int(rng.integers(8)), rng


def _validation_set(cfg: ImitationConfig):
    city = load_city(_cities_dir(cfg) / f"{cfg.val_city}_data.npz")
    return {n: batch_to_problems(sample_batch(city, cfg.kind, n, cfg.val_count, seed=cfg.val_seed + n),
                                 city_name=city.name) for n in cfg.val_sizes}


def _references(cfg: ImitationConfig, problems: dict[int, list]) -> dict[str, list[float]]:
    path = run_dir(cfg) / "validation.json"
    if path.exists():
        return json.loads(path.read_text())
    refs = {str(n): [float(c) for c in _solve_labels(ps, cfg.kind)[1]] for n, ps in problems.items()}
    path.write_text(json.dumps(refs, indent=1) + "\n")
    return refs


def validate(policy: RRNCOPolicy, problems: dict[int, list], refs: dict[str, list[float]],
             device: str | torch.device = "cpu") -> dict[str, float]:
    """Mean gap (%) of greedy POMO ×1 to the references, per validation size."""
    from .inference import solve_problems

    policy.eval()
    out = {}
    for n, ps in problems.items():
        sols = solve_problems(ps, policy, augment=1, batch_size=4, device=str(device))
        costs = np.array([s.cost for s in sols])
        out[f"gap_n{n}_pct"] = 100 * float(np.mean(costs / np.asarray(refs[str(n)]) - 1))
    policy.train()
    return out


class WeightAverage:
    """A running uniform mean of the weights (stochastic weight averaging, Izmailov et al.
    2018), taken after every ``every``-th step from step ``from_step`` on (None: off).

    At a small constant learning rate the imitation loss is flat and the weights wander
    around a minimum: the held-out n = 50 gap of one ACVRP run moved between 5.03 and 5.37 %
    over 3,400 steps at 1.25e-5. Means of 149 and 357 of its states evened that out (4.95 and
    4.98 %) but were 0.3–0.4 points worse at n = 20 and 200, so none was shipped
    (docs/neural.md, "Weight averaging"). The mean is summed in float64 and kept as float32
    in ``average.pt`` beside ``state.pt`` (:data:`AVERAGE_FILE`: ``average``,
    ``average_count``, ``step``), so a resumed run continues it and each committed file stays
    under 8 MiB; ``export --average`` writes it. A state saved with the mean inside
    (``state.pt`` holding ``average``) still resumes and exports. Instance normalisation keeps
    no running statistics, so the mean needs no recomputed normalisation.

    Moving ``average_from_step`` in the config starts a new window: a saved mean whose first
    step differs (files that predate the key: one saved before the new first step) is set
    aside and the mean starts over, so that it spans one phase of the run only (e.g. after
    its label pool grew)."""

    def __init__(self, from_step: int | None, every: int) -> None:
        self.from_step, self.every = from_step, every
        self.mean: dict[str, torch.Tensor] | None = None
        self.count = 0

    def update(self, policy: RRNCOPolicy, step: int) -> None:
        """Fold the weights after step ``step`` into the mean when the step is one it takes."""
        if self.from_step is None or step < self.from_step or (step - self.from_step) % self.every:
            return
        weights = {k: v.detach().to("cpu", torch.float64) for k, v in policy.state_dict().items()}
        self.count += 1
        if self.mean is None:
            self.mean = weights
        else:
            for k, v in weights.items():
                self.mean[k] += (v - self.mean[k]) / self.count

    def policy(self, model: ModelConfig, device: str | torch.device = "cpu") -> RRNCOPolicy:
        """A policy holding the mean (for validation)."""
        policy = RRNCOPolicy(model).to(device)
        policy.load_state_dict({k: v.float() for k, v in self.mean.items()})
        return policy

    def save(self, path: Path, step: int) -> None:
        """Write the mean (float32, as the weights are) for the state at ``step``; nothing
        before the first state it takes."""
        if self.mean is not None:
            _atomic_save({"average": {k: v.float() for k, v in self.mean.items()}, "average_count": self.count,
                          "step": step, "from_step": self.from_step}, path)

    def load(self, path: Path, state: dict[str, Any]) -> None:
        """Continue the mean saved at ``path`` (or inside ``state``, as older states kept it)."""
        saved = state
        if path.exists():
            saved = torch.load(path, weights_only=True, map_location="cpu")
            if int(saved["step"]) != int(state["step"]):
                # the two files are written one after the other: a run stopped between them
                # leaves a mean a few states off, which is kept rather than lost
                logger.warning("%s is from step %s, the resume state from step %s: the mean continues "
                               "from there", path, saved["step"], state["step"])
        if "average" in saved and self._other_window(saved):
            logger.info("the weight average saved at step %s (%s states) began before average_from_step = %s: "
                        "the mean starts over there", saved["step"], saved["average_count"], self.from_step)
        elif "average" in saved:
            self.mean = {k: v.to("cpu", torch.float64) for k, v in saved["average"].items()}
            self.count = int(saved["average_count"])

    def _other_window(self, saved: dict[str, Any]) -> bool:
        """Whether a saved mean belongs to another averaging window than this config's."""
        if self.from_step is None:
            return False
        if "from_step" in saved:
            return saved["from_step"] != self.from_step
        return int(saved["step"]) < self.from_step  # saved before the key existed


#: The weight average's file, beside ``state.pt`` (see :class:`WeightAverage`).
AVERAGE_FILE = "average.pt"


def train(cfg: ImitationConfig, max_minutes: float, until_step: int | None = None) -> Path:
    """Train (or resume) ``cfg`` for ``max_minutes``; returns the run folder.

    ``until_step`` also stops the run once it has taken that many steps in all (counted from
    the run's start, not this call's), so a run can be continued to a given point of its curve
    whatever the machine's speed. SIGTERM or SIGINT ends the run early the same way: the state
    is saved and validated."""
    from .inference import resolve_device

    torch.set_num_threads(cfg.threads)
    dev = resolve_device(cfg.device)
    rdir = run_dir(cfg)
    rdir.mkdir(parents=True, exist_ok=True)
    (rdir / "config.toml").write_text(_toml(cfg.source))
    policy = RRNCOPolicy(cfg.model).to(dev)
    opt = torch.optim.Adam(policy.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    step = instances = 0
    average = WeightAverage(cfg.average_from_step, cfg.average_every)
    state_path, log_path = rdir / "state.pt", rdir / "log.jsonl"
    if state_path.exists():
        state = torch.load(state_path, weights_only=True, map_location=dev)
        policy.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        for group in opt.param_groups:  # the config's, not the saved ones: an edited config takes effect
            group["weight_decay"] = cfg.weight_decay
        step = int(state["step"])
        instances = _instances_seen(state, cfg)
        average.load(rdir / AVERAGE_FILE, state)
        logger.info("resumed %s at step %d on %s", cfg.name, step, dev)
    else:
        logger.info("new run %s: %d parameters", cfg.name, count_parameters(policy))
    store = _LabelStore(cfg)
    val_problems = _validation_set(cfg)
    refs = _references(cfg, val_problems)
    end = time.monotonic() + max_minutes * 60
    last_ckpt = last_val = time.monotonic()
    window: list[float] = []
    t_window = time.perf_counter()

    def checkpoint() -> None:
        # saved from the CPU, so the state resumes on any machine
        cpu = lambda t: t.detach().cpu() if torch.is_tensor(t) else t  # noqa: E731
        opt_state = opt.state_dict()
        opt_state["state"] = {k: {n: cpu(v) for n, v in st.items()} for k, st in opt_state["state"].items()}
        average.save(rdir / AVERAGE_FILE, step)
        _atomic_save({"model": {k: cpu(v) for k, v in policy.state_dict().items()}, "optimizer": opt_state,
                      "step": step, "instances": instances}, state_path)

    def validation() -> None:
        rec = {"step": step, "instances": instances, "time": time.time(),
               **validate(policy, val_problems, refs, dev)}
        if average.mean is not None:  # the mean's curve too, under its own keys (not ranked)
            rec.update({f"average_{k}": v for k, v in validate(average.policy(cfg.model, dev), val_problems,
                                                               refs, dev).items()})
        _log(log_path, rec)
        logger.info("validation at step %d: %s", step, rec)
        _keep_if_best(policy, rec, rdir / BEST_FILE)

    policy.train()
    with StopRequest(logger) as stop:
        while time.monotonic() < end and not stop.requested and (until_step is None or step < until_step):
            batch, seqs, form, rng = _step_data(store, cfg, step)
            inst = instances_from_batch(batch, device=dev, dtype=torch.float32)
            seq = torch.as_tensor(seqs, device=dev)
            gen = torch.Generator(device=dev).manual_seed(int(rng.integers(2**62)))
            logp, counted = teacher_forced_logp(policy, inst, seq[..., 0], seq[..., 1:],
                                                coords=dihedral(inst.coords.float(), forms=[form]), generator=gen)
            loss = -(logp.sum() / counted.sum().clamp_min(1))
            for group in opt.param_groups:
                group["lr"] = cfg.lr_at(step)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(policy.parameters(), cfg.grad_clip)
            opt.step()
            step += 1
            instances += inst.batch_size
            average.update(policy, step)
            window.append(float(loss.detach()))
            if step % cfg.log_every == 0:
                rec = {"step": step, "instances": instances, "nll": float(np.mean(window)), "n": int(inst.num_nodes),
                       "lr": cfg.lr_at(step - 1), "sec_per_step": (time.perf_counter() - t_window) / len(window), "time": time.time()}
                _log(log_path, rec)
                logger.info("step %d nll %.4f (%.2f s/step)", step, rec["nll"], rec["sec_per_step"])
                window, t_window = [], time.perf_counter()
            if time.monotonic() - last_ckpt > cfg.checkpoint_minutes * 60:
                checkpoint()
                last_ckpt = time.monotonic()
            if time.monotonic() - last_val > cfg.val_minutes * 60:
                validation()
                last_val = time.monotonic()
    checkpoint()
    validation()
    return rdir


#: The weights at the run's best validation so far, beside ``state.pt``.
BEST_FILE = "best.pt"


def _validation_score(rec: dict[str, Any]) -> float:
    """Mean validation gap over the sizes (%), the figure runs are ranked by."""
    return float(np.mean([v for k, v in rec.items() if k.startswith("gap_n")]))


def _keep_if_best(policy: RRNCOPolicy, rec: dict[str, Any], path: Path) -> None:
    """Save the weights when this validation beats every earlier one of the run: an imitation
    curve measured on 16 instances moves by points between validations, and the state a run
    stops at need not be its best."""
    score = _validation_score(rec)
    if path.exists() and torch.load(path, weights_only=True)["score"] <= score:
        return
    _atomic_save({"model": {k: v.detach().cpu() for k, v in policy.state_dict().items()}, "score": score,
                  "validation": rec}, path)
    logger.info("best validation so far (mean gap %.2f %% at step %d): %s", score, rec["step"], path)


def _instances_seen(state: dict[str, Any], cfg: ImitationConfig) -> int:
    """Instances a run has trained on; states written before runs counted them had
    ``batch_size`` instances in every step."""
    return int(state.get("instances", int(state["step"]) * cfg.batch_size))


def _toml_value(v: Any) -> str:
    if isinstance(v, dict):  # an inline table: { 440 = [500] }
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    return json.dumps(list(v) if isinstance(v, tuple) else v)


def _toml(raw: dict[str, Any]) -> str:
    lines = []
    for section, values in raw.items():
        lines.append(f"[{section}]")
        for k, v in values.items():
            lines.append(f"{k} = {_toml_value(v)}")
        lines.append("")
    return "\n".join(lines)


def export(cfg: ImitationConfig, out: Path, best: bool = False, average: bool = False) -> Path:
    """The run's current weights (or, with ``best``, those of its best validation so far; with
    ``average``, the mean of its weights since ``average_from_step``, see
    :class:`WeightAverage`) as a checkpoint (``.safetensors`` + model card) at ``out``.

    The card records the training (steps, sizes, cities, label solver) and the validation
    curve from ``log.jsonl`` (gap at the largest validation size) up to the exported step.
    """
    from .checkpoint import save_checkpoint

    if best and average:
        raise ValueError("export either the best weights or the average, not both")
    rdir = run_dir(cfg)
    records = [json.loads(line) for line in (rdir / "log.jsonl").read_text().splitlines() if line.strip()]
    averaged = None
    if best:
        if not (rdir / BEST_FILE).exists():
            raise FileNotFoundError(f"{rdir / BEST_FILE} does not exist: the run has not validated since "
                                    "runs keep their best weights")
        kept = torch.load(rdir / BEST_FILE, weights_only=True, map_location="cpu")
        at = int(kept["validation"]["step"])
        state = {"model": kept["model"], "step": at, "instances": kept["validation"]["instances"]}
        records = [r for r in records if r["step"] <= at]
    else:
        state = torch.load(rdir / "state.pt", weights_only=True, map_location="cpu")
    if average:
        mean = WeightAverage(cfg.average_from_step, cfg.average_every)
        mean.load(rdir / AVERAGE_FILE, state)
        if mean.mean is None:
            raise ValueError(f"{rdir} holds no weight average ({AVERAGE_FILE}): set average_from_step in the "
                             f"[train] section of {cfg.name}'s config and train past that step")
        state["model"] = {k: v.to(torch.float32) for k, v in mean.mean.items()}
        averaged = {"from_step": cfg.average_from_step, "every": cfg.average_every, "states": mean.count}
    policy = RRNCOPolicy(cfg.model)
    policy.load_state_dict(state["model"])
    key = f"gap_n{max(cfg.val_sizes)}_pct"

    def curve_of(key: str) -> list[dict[str, Any]]:
        return [{"step": r["step"], "instances": r.get("instances", r["step"] * cfg.batch_size), "gap_pct": r[key]}
                for r in records if key in r]

    curve = curve_of(key)
    card = {"n": max(cfg.all_sizes), "training": {
                "method": "imitation (teacher forcing) of " + " ".join(map(str, LABEL_SOLVERS[cfg.kind][:2])),
                "steps": int(state["step"]),
                "instances": _instances_seen(state, cfg),
                "sizes": list(cfg.all_sizes), "cities": training_city_names(cfg), "device": "cpu",
                "trained_seconds": sum(r.get("sec_per_step", 0) * cfg.log_every for r in records),
                "command": f"python -m hybridroute.neural.imitation train --config {cfg.name}",
                **({"weight_average": averaged} if averaged else {})},
            "validation": {"city": cfg.val_city, "count": cfg.val_count, "sizes": list(cfg.val_sizes),
                           "method": f"{LABEL_SOLVERS[cfg.kind][0]} (the label solver)", "curve": curve,
                           "last": {k: v for k, v in (records[-1] if records else {}).items() if k.startswith("gap")}}}
    if averaged:
        # the run's curve is of its current weights; the mean's own validations beside it
        card["validation"]["average_curve"] = curve_of(f"average_{key}")
    return save_checkpoint(policy, out, card)


def write_pack(cfg: ImitationConfig, out: Path) -> Path:
    """The run's cities (training and validation) as a compact pack for another machine:
    distances as float16 (relative error under 5e-4; the labels are tours, unchanged by it),
    durations only for ACVRPTW, ``splits.json`` beside them. 23 ATSP cities of 1000 points take
    about 40 MB, which fits what a lent GPU machine is sent."""
    out.mkdir(parents=True, exist_ok=True)
    names = training_city_names(cfg)
    for name in [*names, cfg.val_city]:
        src = _cities_dir(cfg) / f"{name}_data.npz"
        with np.load(src, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"])) if "meta" in z.files else {"name": name}
            arrays = {"points": z["points"], "distance": z["distance"].astype(np.float16)}
            if cfg.kind.has_time_windows:
                arrays["duration"] = z["duration"].astype(np.float16)
            else:
                meta["duration_from"] = "distance"
        np.savez_compressed(out / src.name, meta=np.array(json.dumps(meta)), **arrays)
    (out / "splits.json").write_text(json.dumps({"train": names, "test": [cfg.val_city]}, indent=1) + "\n")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m hybridroute.neural.imitation",
                                description="Labels and imitation training for size-aware RRNCO policies.")
    p.add_argument("command", choices=["labels", "train", "pack", "export"],
                   help="write labels, train on them, pack the cities for another machine, or export "
                        "the weights as a checkpoint")
    p.add_argument("--config", required=True, help="config name in hybridroute/neural/configs/ or a path")
    p.add_argument("--max-minutes", type=float, default=30.0, help="wall-clock budget of this invocation")
    p.add_argument("--until-step", type=int, help="train: also stop once the run has taken this many steps in all")
    p.add_argument("--cities-dir", help="read the cities from here instead of the config's cities_dir")
    p.add_argument("--device", help="override the config's device (auto, cpu, cuda)")
    p.add_argument("--threads", type=int, help="override the config's torch threads")
    p.add_argument("--out", type=Path, help="pack: output folder (default data/pack); export: the "
                                             ".safetensors file (default models/training/<run>/<run>.safetensors)")
    p.add_argument("--workers", type=int, default=1,
                   help="labels: processes writing chunks side by side, one per core (default 1)")
    p.add_argument("--best", action="store_true",
                   help="export: the weights of the run's best validation so far instead of its last state")
    p.add_argument("--average", action="store_true",
                   help="export: the mean of the weights since the config's average_from_step instead of "
                        "the last state")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    cfg = load_config(args.config)
    for key in ("cities_dir", "device", "threads"):
        if getattr(args, key) is not None:
            setattr(cfg, key, getattr(args, key))
    torch.set_num_threads(cfg.threads)
    if args.command == "pack":
        logger.info("packed the cities into %s", write_pack(cfg, args.out or REPO_ROOT / "data" / "pack"))
    elif args.command == "export":
        out = args.out or run_dir(cfg) / f"rrnco-{cfg.name}.safetensors"
        logger.info("exported %s", export(cfg, out, best=args.best, average=args.average))
    elif args.command == "labels":
        written = write_labels_parallel(cfg, args.max_minutes, args.workers)
        logger.info("wrote %d label chunks", written)
    else:
        train(cfg, args.max_minutes, until_step=args.until_step)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
