"""Decoding within a deadline: the RRNCO policy's effort chosen to fit a time limit.

A full greedy POMO decode runs one rollout from every start node under every dihedral
augmentation: ``augment × n`` rollouts of ``n`` steps each, so its cost grows as n³ (at
n = 1000 on one CPU core one rollout pass costs about 1.3 s and every further start about
0.06 s). :func:`decode_within` splits that work into passes, cheapest and most useful first,
and stops when the next pass is not predicted to fit in what is left of the deadline:

1. the identity transform from a few start nodes spread evenly over the instance, then from
   twice as many new ones, and so on until every start (or the ``starts`` cap) is used;
2. the other augmentations, whole transforms at a time (1, 2, 4, ... per pass);
3. ``samples`` sampled passes per transform, where asked for.

A pass that is still running at the deadline is stopped within one decoding step (or
encoder layer) and discarded. The encoder runs once per transform and its output is reused
by every later pass; a decode of P rollouts is fitted as ``a + b × P`` seconds (per-step
overhead plus per-rollout work); until two pass sizes are known the prediction is
proportional to P, an over-estimate. The first pass's time (or, when it was stopped, what it
would have needed) is reported as ``Effort.first_pass_s``.

Every transform draws its distance samples from a generator seeded by ``(seed, transform)``,
so a rollout's result does not depend on how the work was split into passes: with enough time
the same seed gives the same routes however fast the machine is.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .env import Instances, actions_to_routes, fleet_key
from .inference import dihedral
from .policy import DeadlineExceeded, RRNCOPolicy

__all__ = ["Effort", "decode_within", "spread_order"]

logger = logging.getLogger(__name__)

#: Start nodes in the first pass: enough for a usable tour, cheap at every size.
FIRST_PASS_STARTS = 8


def spread_order(count: int) -> list[int]:
    """0..count-1 ordered so that every prefix is spread evenly (bit-reversed fractions)."""

    def radical_inverse(i: int) -> float:
        f, x = 0.5, 0.0
        while i:
            if i & 1:
                x += f
            i >>= 1
            f /= 2
        return x

    return sorted(range(count), key=lambda i: (radical_inverse(i), i))


@dataclass
class Effort:
    """What :func:`decode_within` did, for ``Solution.stats``.

    ``starts`` and ``augment`` are the start nodes per transform and the transforms fully
    decoded; ``rollouts`` counts every finished rollout; ``passes`` lists each pass as
    ``(transforms, rollouts)``; ``stopped`` says why decoding ended. ``first_pass_s`` is what
    the first pass (encoder and the first few starts) took in seconds or, when the deadline
    stopped it, would have taken: extrapolated from the share of the nodes it had visited, or
    twice the time spent when it stopped before its first step (None: no pass was started).
    A caller that wants a usable tour from this instance size gives at least that much time.
    """

    starts: int = 0
    augment: int = 0
    rollouts: int = 0
    samples: int = 0
    passes: list[tuple[int, int]] = field(default_factory=list)
    stopped: str = "complete"
    interrupted: bool = False
    first_pass_s: float | None = None

    def as_stats(self) -> dict[str, Any]:
        return {"starts": self.starts, "augment": self.augment, "rollouts": self.rollouts,
                "sampled_passes": self.samples, "passes": len(self.passes),
                "stopped": self.stopped, "interrupted": self.interrupted, "first_pass_s": self.first_pass_s}


@dataclass
class _Best:
    length: float = float("inf")
    start: int = -1
    actions: list[int] = field(default_factory=list)

    #: whether the kept rollout uses more routes than the fleet has (see ``fleet_key``)
    over_fleet: bool = True

    def update(self, inst: Instances, length: torch.Tensor, starts: torch.Tensor, actions: torch.Tensor) -> None:
        key = fleet_key(inst, length, starts, actions).reshape(-1)
        flat = length.reshape(-1)
        k = int(key.argmin())
        over = bool(key[k] != flat[k])
        if (over, float(flat[k])) < (self.over_fleet, self.length):
            self.over_fleet = over
            self.length = float(flat[k])
            self.start = int(starts.reshape(-1)[k])
            self.actions = actions.reshape(-1, actions.shape[-1])[k].tolist()


class _Clock:
    """Predicts a pass: the encoder's time per transform, and a decode of P rollouts fitted
    as ``a + b × P`` seconds (proportional to P, an over-estimate, until two sizes are known)."""

    def __init__(self) -> None:
        self.encodes: list[float] = []
        self.decodes: list[tuple[int, float]] = []

    def predict(self, new_transforms: int, transforms: int, rollouts_each: int) -> float:
        encode = max(self.encodes) * new_transforms if self.encodes else 0.0
        return encode + transforms * self._decode(rollouts_each)

    def _decode(self, rollouts: int) -> float:
        if not self.decodes:
            return 0.0
        if len({r for r, _ in self.decodes}) >= 2:
            x = np.array([[1.0, r] for r, _ in self.decodes])
            t = np.array([s for _, s in self.decodes])
            coef, *_ = np.linalg.lstsq(x, t, rcond=None)
            if (coef >= 0).all():
                return float(coef[0] + coef[1] * rollouts)
        r0, s0 = max(self.decodes)
        return s0 * max(rollouts / r0, 1.0)


def _needed(spent: float, clock: _Clock, progress: float, num_nodes: int) -> float:
    """Seconds a first pass stopped at the deadline would have needed: the encoder's time plus
    the decoding time so far scaled up by the share of the nodes visited; twice the time spent
    when decoding had not got past its start nodes (a lower bound, doubled on every retry)."""
    encode = sum(clock.encodes)
    decoded = spent - encode
    if progress * num_nodes <= 2.0 or decoded <= 0.0:
        return 2.0 * spent
    return encode + decoded / progress


def _generator(seed: int, form: int, sample: int, device: torch.device) -> torch.Generator:
    # one stream per (seed, transform, pass kind): results independent of how passes are split
    return torch.Generator(device=device).manual_seed((int(seed) * 1_000_003 + form * 101 + sample) % 2**63)


def decode_within(policy: RRNCOPolicy, inst: Instances, *, deadline: float, augment: int = 8,
                  starts: int | None = None, samples: int = 0, seed: int = 0,
                  amp: torch.dtype | None = None) -> tuple[list[list[int]] | None, float, Effort]:
    """Best rollout found for one instance before ``deadline`` (a :func:`time.perf_counter` instant).

    Parameters
    ----------
    policy
        The trained policy.
    inst
        One normalised instance (batch size 1).
    deadline
        When decoding must have stopped.
    augment
        Dihedral transforms to use at most (1–8).
    starts
        Start nodes per transform at most (None: every node / customer).
    samples
        Sampled passes per transform after the greedy ones.
    seed
        Seeds the distance sampling (per transform) and the sampled passes.
    amp
        Autocast dtype (bf16 on CUDA) or None.

    Returns
    -------
    routes, length, effort
        The best rollout's routes (None when no pass finished), its length in the instance's
        normalised units, and what was decoded.
    """
    if inst.batch_size != 1:
        raise ValueError(f"decode_within takes one instance, got a batch of {inst.batch_size}")
    is_vrp = inst.kind.has_capacity
    num_starts = inst.num_nodes - 1 if is_vrp else inst.num_nodes
    cap = num_starts if starts is None else max(1, min(int(starts), num_starts))
    first_node = 1 if is_vrp else 0
    order = [first_node + i for i in spread_order(num_starts)][:cap]
    best, effort, clock = _Best(), Effort(), _Clock()
    coords = inst.coords.float()
    dev = inst.device
    encoded: dict[int, Any] = {}  # transform -> encoder output, reused by every pass

    def fits(forms: list[int], starts_each: int) -> bool:
        new = sum(f not in encoded for f in forms)
        return clock.predict(new, len(forms), starts_each) <= deadline - time.perf_counter()

    def run(forms: list[int], nodes: list[int], decode: str, sample: int) -> bool:
        """One pass; False when it would not fit or was stopped at the deadline."""
        if not fits(forms, len(nodes)):
            effort.stopped = "next pass predicted past the deadline"
            return False
        first_pass = not effort.passes
        t_pass = time.perf_counter()
        try:
            for f in forms:
                gen = _generator(seed, f, sample, dev)
                with torch.autocast(dev.type, dtype=amp, enabled=amp is not None):
                    if f not in encoded:
                        t0 = time.perf_counter()
                        # the distance sampling draws from the transform's own stream
                        encoded[f] = policy.encode(inst, dihedral(coords, forms=[f]), _generator(seed, f, 0, dev),
                                                   deadline=deadline)
                        clock.encodes.append(time.perf_counter() - t0)
                    t0 = time.perf_counter()
                    out = policy.decode(inst, encoded[f], torch.tensor([nodes], device=dev), decode=decode,
                                        generator=gen, deadline=deadline, logp=decode != "greedy")
                clock.decodes.append((len(nodes), time.perf_counter() - t0))
                best.update(inst, out.length, out.starts, out.actions)
                effort.rollouts += len(nodes)
        except DeadlineExceeded as stop:
            effort.stopped, effort.interrupted = "deadline reached during a pass", True
            if first_pass:
                effort.first_pass_s = _needed(time.perf_counter() - t_pass, clock, stop.progress,
                                              inst.num_nodes)
            return False
        if first_pass:
            effort.first_pass_s = time.perf_counter() - t_pass
        effort.passes.append((len(forms), len(forms) * len(nodes)))
        return True

    # 1. the identity transform, from more and more start nodes
    used, size = 0, min(FIRST_PASS_STARTS, cap)
    while used < cap:
        size = min(size, cap - used)
        while size > 1 and not fits([0], size):
            size //= 2  # a smaller pass may still fit
        chunk = order[used:used + size]
        if not run([0], chunk, "greedy", 0):
            break
        used += len(chunk)
        size *= 2
    effort.starts = used
    effort.augment = 1 if used else 0
    # 2. the other transforms, whole ones at a time
    if used == cap:
        form, count = 1, 1
        while form < augment:
            count = min(count, augment - form)
            while count > 1 and not fits(list(range(form, form + count)), cap):
                count //= 2
            forms = list(range(form, form + count))
            if not run(forms, order, "greedy", 0):
                break
            form += len(forms)
            count *= 2
        effort.augment = form
        # 3. sampled passes over the transforms decoded greedily
        if form == augment:
            for s in range(1, samples + 1):
                if not run(list(range(augment)), order, "sampling", s):
                    break
                effort.samples = s
    if best.start < 0:
        return None, float("inf"), effort
    return actions_to_routes(inst.kind, best.start, best.actions), best.length, effort
