"""Batched RRNCO inference: POMO greedy from every start × dihedral augmentations, best of all.

:func:`solve_problems` takes hybridroute Problems (any size: the policy runs on instances
larger or smaller than its training size), groups them by (kind, size), normalises them
(:func:`~hybridroute.neural.env.instances_from_problems`), decodes in batches and returns
routes validated by :func:`hybridroute.evaluate`. Results are reproducible under ``seed``:
one torch generator drives the distance sampling and any action sampling.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Sequence

import torch
from torch import Tensor

from ..problem import Problem
from ..solution import Solution, evaluate
from .env import Instances, actions_to_routes, fleet_key, instances_from_problems
from .policy import RRNCOPolicy

__all__ = ["dihedral", "augmented", "Best", "best_rollouts", "pass_size", "CPU_PAIRS_PER_PASS", "solve_problems",
           "resolve_device", "select_starts"]

logger = logging.getLogger(__name__)


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"``: CUDA when available, else CPU."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def dihedral(coords: Tensor, count: int = 8, forms: Sequence[int] | None = None) -> Tensor:
    """The first ``count`` (1..8) dihedral transforms of [0, 1]² coordinates: (B, m, 2) → (B·count, m, 2).

    Order per instance: (x, y), (1−x, y), (x, 1−y), (1−x, 1−y), (y, x), (1−y, x), (y, 1−x), (1−y, 1−x).
    ``forms`` picks transforms by their index in that order instead of the first ``count``.
    """
    chosen = list(range(count)) if forms is None else [int(f) for f in forms]
    if not 1 <= len(chosen) <= 8 or not all(0 <= f < 8 for f in chosen):
        raise ValueError(f"augment must be between 1 and 8, got {count if forms is None else list(forms)}")
    x, y = coords[..., 0], coords[..., 1]
    table = [(x, y), (1 - x, y), (x, 1 - y), (1 - x, 1 - y), (y, x), (1 - y, x), (y, 1 - x), (1 - y, 1 - x)]
    out = torch.stack([torch.stack(table[f], -1) for f in chosen], 1)  # (B, count, m, 2)
    return out.reshape(-1, *coords.shape[1:])


def augmented(inst: Instances, count: int = 8, forms: Sequence[int] | None = None) -> tuple[Instances, Tensor, int]:
    """``inst`` under dihedral transforms, as :meth:`RRNCOPolicy.forward` takes them.

    Returns the instances repeated once per transform (consecutive rows per instance), their
    transformed coordinates (:func:`dihedral`: the first ``count``, or ``forms``) and the number
    of transforms, the policy's ``copies`` (its encoder evaluates each group's shared distance
    and duration terms once).
    """
    coords = dihedral(inst.coords.float(), count, forms)
    copies = coords.shape[0] // inst.batch_size
    return inst.repeat(copies), coords, copies


def select_starts(num_starts: int, first: int, count: int | None, batch: int, device) -> Tensor:
    """(batch, P) start nodes: all ``num_starts`` from ``first``, or ``count`` of them evenly spaced."""
    if count is None or count >= num_starts:
        idx = torch.arange(num_starts, device=device)
    else:
        if count < 1:
            raise ValueError(f"starts must be at least 1, got {count}")
        idx = torch.linspace(0, num_starts - 1, count, device=device).round().long()
    return (idx + first).expand(batch, -1).contiguous()


@dataclass
class Best:
    """The best rollout per instance: ``length`` (B,) in D̂ units, ``starts`` (B,), ``actions`` (B, T)."""

    length: Tensor
    starts: Tensor
    actions: Tensor
    rollouts: int


#: On the CPU a batch is decoded in passes whose transforms hold at most this many node pairs
#: (augment × m² per instance). The encoder's per-pair tensors are then a few tens of MB: larger
#: ones are fresh memory maps on every allocation, whose page faults took more time than the
#: arithmetic (ACVRPTW n = 100 ×8, 16 starts, one thread: 32 instances per pass 4.3 instances/s,
#: 4 per pass 5.2; `docs/neural.md`). On a GPU the whole batch runs in one pass.
CPU_PAIRS_PER_PASS = 1 << 18


def pass_size(batch: int, augment: int, num_nodes: int, device: torch.device) -> int:
    """Instances decoded together in one pass of :func:`best_rollouts` (see :data:`CPU_PAIRS_PER_PASS`)."""
    if device.type != "cpu":
        return batch
    return max(1, min(batch, CPU_PAIRS_PER_PASS // (augment * num_nodes * num_nodes)))


@torch.no_grad()
def best_rollouts(policy: RRNCOPolicy, inst: Instances, *, augment: int = 8, starts: int | None = None,
                  samples: int = 0, generator: torch.Generator | None = None,
                  amp: torch.dtype | None = None, forms: Sequence[int] | None = None) -> Best:
    """Best of (greedy POMO × ``augment`` transforms) plus ``samples`` sampled POMO passes per transform.

    ``forms``: the dihedral transforms to decode, by index (:func:`dihedral`), instead of the
    first ``augment``. The instances are decoded in passes of :func:`pass_size` instances, in order.
    """
    count = augment if forms is None else len(forms)
    size = pass_size(inst.batch_size, count, inst.num_nodes, inst.device)
    if size >= inst.batch_size:
        return _best_of_pass(policy, inst, augment, starts, samples, generator, amp, forms)
    parts = [_best_of_pass(policy, inst.select(slice(k, k + size)), augment, starts, samples, generator, amp, forms)
             for k in range(0, inst.batch_size, size)]
    return Best(length=torch.cat([p.length for p in parts]), starts=torch.cat([p.starts for p in parts]),
                actions=_cat_actions([p.actions for p in parts], 0), rollouts=parts[0].rollouts)


def _cat_actions(actions: list[Tensor], dim: int) -> Tensor:
    """Action sequences of unequal length joined along ``dim``, the shorter padded with the
    depot (0): a no-op move for finished VRP rollouts (ATSP sequences all have one length)."""
    T = max(a.shape[-1] for a in actions)
    return torch.cat([torch.nn.functional.pad(a, (0, T - a.shape[-1])) for a in actions], dim)


def _best_of_pass(policy: RRNCOPolicy, inst: Instances, augment: int, starts: int | None, samples: int,
                  generator: torch.Generator | None, amp: torch.dtype | None,
                  forms: Sequence[int] | None = None) -> Best:
    B = inst.batch_size
    is_vrp = inst.kind.has_capacity
    m = inst.num_nodes
    aug, coords, copies = augmented(inst, augment, forms)
    start = select_starts(m - 1 if is_vrp else m, 1 if is_vrp else 0, starts, B * copies, inst.device)
    passes = [("greedy", 0)] + [("sampling", i) for i in range(samples)]
    lengths, starts_all, actions_all = [], [], []
    dev = inst.device
    for decode, _ in passes:
        with torch.autocast(dev.type, dtype=amp, enabled=amp is not None):
            out = policy(aug, start, decode=decode, generator=generator, coords=coords, copies=copies,
                         logp=decode != "greedy")  # rollouts are ranked by length only
        lengths.append(out.length.reshape(B, -1))
        starts_all.append(out.starts.reshape(B, -1))
        actions_all.append(out.actions.reshape(B, -1, out.actions.shape[-1]))
    length = torch.cat(lengths, 1)
    starts_cat = torch.cat(starts_all, 1)
    acts = _cat_actions(actions_all, 1)
    best = fleet_key(inst, length, starts_cat, acts).argmin(1)  # within the fleet first, then shortest
    ar = torch.arange(B, device=dev)
    return Best(length=length[ar, best], starts=starts_cat[ar, best], actions=acts[ar, best],
                rollouts=int(length.shape[1]))


def _groups(problems: Sequence[Problem]) -> dict[tuple, list[int]]:
    groups: dict[tuple, list[int]] = {}
    for i, p in enumerate(problems):
        groups.setdefault((p.kind, p.num_nodes), []).append(i)
    return groups


def solve_problems(problems: Sequence[Problem], policy: RRNCOPolicy, *, augment: int = 8,
                   starts: int | None = None, samples: int = 0, seed: int = 0, device: str = "auto",
                   batch_size: int = 16, coords_fallback: str = "mds",
                   forms: Sequence[int] | None = None) -> list[Solution]:
    """Solve Problems with the policy; one :class:`~hybridroute.Solution` per problem, in order.

    Parameters
    ----------
    problems
        Problems of the policy's kind (any sizes; grouped by size internally).
    policy
        A trained policy (see :func:`hybridroute.neural.checkpoint.load_checkpoint`).
    augment
        Dihedral coordinate transforms (1–8); each runs a full POMO pass.
    starts
        Start nodes per pass (None: every node / customer).
    samples
        Extra sampled POMO passes per transform (0: greedy only).
    seed
        Seed for distance sampling and action sampling.
    device
        ``"auto"`` (CUDA with bf16 autocast when available), ``"cpu"``, ``"cuda"``, ...
    batch_size
        Instances decoded together.
    coords_fallback
        For problems without coordinates: ``"mds"`` or ``"zeros"``.
    forms
        The dihedral transforms to decode, by index (:func:`dihedral`; e.g. ``[4, 5, 6, 7]``),
        instead of the first ``augment``.

    Returns
    -------
    list[Solution]
        Routes re-evaluated by :func:`hybridroute.evaluate`; ``stats`` has ``rollouts`` and
        ``policy_length`` (the env's cost in the problem's cost unit).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    dev = resolve_device(device)
    amp = torch.bfloat16 if dev.type == "cuda" and torch.cuda.is_bf16_supported() else None
    if any(t.device != dev for t in policy.parameters()):
        policy = policy.to(dev)
    policy = policy.eval()
    for p in problems:
        if p.kind is not policy.kind:
            raise ValueError(f"problem {p.name!r} is {p.kind.value}; the policy solves {policy.kind.value}")
    gen = torch.Generator(device=dev).manual_seed(int(seed))
    out: list[Solution | None] = [None] * len(problems)
    groups = _groups(problems)
    for key in sorted(groups, key=lambda k: (k[0].value, k[1])):
        idx = groups[key]
        for k in range(0, len(idx), batch_size):
            chunk = idx[k:k + batch_size]
            t0 = time.perf_counter()
            inst = instances_from_problems([problems[i] for i in chunk], device=dev, dtype=torch.float64,
                                           coords_fallback=coords_fallback)
            best = best_rollouts(policy, inst, augment=augment, starts=starts, samples=samples,
                                 generator=gen, amp=amp, forms=forms)
            per = (time.perf_counter() - t0) / len(chunk)
            for j, i in enumerate(chunk):
                routes = actions_to_routes(inst.kind, int(best.starts[j]), best.actions[j].tolist())
                sol = evaluate(problems[i], routes)
                out[i] = sol.with_info(runtime=per, stats={
                    "rollouts": best.rollouts, "policy_length": float(best.length[j] * inst.dist_scale[j])})
    return out  # type: ignore[return-value]
