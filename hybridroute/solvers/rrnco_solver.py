"""The RRNCO neural policy as a solver backend ("rrnco").

The policy constructs solutions in one shot: greedy POMO rollouts from every start node ×
up to 8 dihedral coordinate augmentations, best of all. ``solve`` fits the augmentations to
``time_limit``: one pass without augmentation always runs (it is not interrupted, so a budget
shorter than one pass is exceeded), then a pass with as many augmentations as the remaining
time allows, timed from the first. ``solve_batch`` always uses the configured ``augment``. Use it alone for fast construction or through a
hybrid (``"rrnco+pyvrp"``) to spend a time budget on improvement.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any, Sequence

from ..problem import Problem, ProblemKind
from ..solution import Solution
from .base import SolveOutput, Solver

__all__ = ["RRNCO"]

logger = logging.getLogger(__name__)

_CACHE: dict[tuple[str, str], Any] = {}
_CACHE_LOCK = threading.Lock()


def _load(checkpoint: str | Path, device: str):
    """Load (once per process) a checkpoint; returns (policy, card, resolved path)."""
    from ..neural.checkpoint import find_checkpoint, load_checkpoint
    from ..neural.inference import resolve_device

    path = find_checkpoint(checkpoint).resolve()
    dev = str(resolve_device(device))
    key = (str(path), dev)
    with _CACHE_LOCK:
        if key not in _CACHE:
            policy, card = load_checkpoint(path, device=dev)
            _CACHE[key] = (policy, card, path)
        return _CACHE[key]


class RRNCO(Solver):
    """RRNCO neural construction policy (PyTorch; GPU when present).

    Parameters
    ----------
    checkpoint
        A checkpoint name or ``.safetensors`` path; None uses the shipped checkpoint for the
        problem's kind (``rrnco-atsp20``, ``rrnco-acvrp20``, ``rrnco-acvrptw20``).
    augment
        Dihedral coordinate augmentations (1–8).
    starts
        POMO start nodes per augmentation; None uses every node (ATSP) / customer (VRPs).
    samples
        Extra sampled POMO passes per augmentation (0: greedy only).
    device
        ``"auto"`` (CUDA with bf16 autocast when available, else CPU), ``"cpu"``, ``"cuda"``.
    batch_size
        Instances decoded together by :meth:`solve_batch`.
    coords_fallback
        When a Problem has no coordinates: ``"mds"`` (planar embedding of the cost matrix) or
        ``"zeros"``.

    Notes
    -----
    The policy minimises the problem's cost matrix (distance, or duration when
    ``objective="duration"``, waiting time not modelled). ``num_vehicles`` is not enforced
    during construction; the evaluator reports ``too_many_routes`` if exceeded. Same seed,
    same routes (the seed drives the encoder's distance sampling).
    """

    name = "rrnco"
    supports = frozenset(ProblemKind)
    accepts_initial = False
    requires = ("torch", "safetensors")
    extra = "neural"
    deterministic = True
    default_time_limit = 10.0

    def __init__(self, checkpoint: str | None = None, augment: int = 8, starts: int | None = None,
                 samples: int = 0, device: str = "auto", batch_size: int = 16, coords_fallback: str = "mds"):
        if not 1 <= int(augment) <= 8:
            raise ValueError(f"augment must be between 1 and 8, got {augment}")
        if starts is not None and int(starts) < 1:
            raise ValueError(f"starts must be None or >= 1, got {starts}")
        if int(samples) < 0:
            raise ValueError(f"samples must be >= 0, got {samples}")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if coords_fallback not in ("mds", "zeros"):
            raise ValueError(f"coords_fallback must be 'mds' or 'zeros', got {coords_fallback!r}")
        self.checkpoint = checkpoint
        self.augment = int(augment)
        self.starts = None if starts is None else int(starts)
        self.samples = int(samples)
        self.device = device
        self.batch_size = int(batch_size)
        self.coords_fallback = coords_fallback

    def _checkpoint_for(self, kind: ProblemKind) -> str | Path:
        from ..neural.checkpoint import default_checkpoint

        return self.checkpoint if self.checkpoint is not None else default_checkpoint(kind)

    def _policy(self, kind: ProblemKind):
        from .base import UnsupportedProblemError

        policy, card, path = _load(self._checkpoint_for(kind), self.device)
        if policy.kind is not kind:
            raise UnsupportedProblemError(
                f"checkpoint {path.name} is for {policy.kind.value}, the problem is {kind.value}")
        return policy, card, path

    def _run(self, problems: Sequence[Problem], seed: int, augment: int | None = None) -> list[Solution]:
        t_load = time.perf_counter()
        from ..neural.inference import solve_problems  # imports torch on first use

        augment = self.augment if augment is None else augment
        policy, card, path = self._policy(problems[0].kind)  # loads the checkpoint on first use only
        load_seconds = time.perf_counter() - t_load
        sols = solve_problems(problems, policy, augment=augment, starts=self.starts, samples=self.samples,
                              seed=seed, device=self.device, batch_size=self.batch_size,
                              coords_fallback=self.coords_fallback)
        info = {"checkpoint": card.get("name", path.stem), "checkpoint_sha256": card["sha256"],
                "trained_n": card["n"], "augment": augment, "load_seconds": load_seconds}
        return [s.with_info(stats={**s.stats, **info}) for s in sols]

    def _solve(self, problem, *, time_limit, seed, initial):
        # Budget-aware: one pass without augmentation first; the remaining augmentations run
        # only if a pass with them fits in what is left of time_limit (timed from the first).
        t0 = time.perf_counter()
        best = self._run([problem], seed, augment=1)[0]
        load_seconds = best.stats["load_seconds"]
        elapsed = time.perf_counter() - t0
        t1 = elapsed - load_seconds  # one pass, without the one-off model load
        history = [(elapsed, best.cost)] if best.is_feasible else []
        fits = int((time_limit - elapsed) // max(t1, 1e-3))
        augment = min(self.augment, fits)
        if augment >= 2:
            more = self._run([problem], seed, augment=augment)[0]
            if (not more.is_feasible, more.cost) < (not best.is_feasible, best.cost):
                best = more
                history.append((time.perf_counter() - t0, more.cost))
        # the first pass's load time (the second pass finds the model cached)
        stats = {**best.stats, "augment": max(1, augment), "augment_requested": self.augment,
                 "load_seconds": load_seconds}
        return SolveOutput(routes=[list(r) for r in best.routes], history=history, stats=stats)

    def solve_batch(self, problems: Sequence[Problem], seed: int = 0) -> list[Solution]:
        """Solve many problems in batched forward passes (grouped by kind and size).

        Returns one Solution per problem, in order, re-evaluated by :func:`hybridroute.evaluate`;
        ``runtime`` is the per-instance share of its batch's wall clock.
        """
        from ..solution import evaluate

        self.check_installed()
        problems = list(problems)
        for p in problems:
            self.check_problem(p)
        out: list[Solution | None] = [None] * len(problems)
        for kind in {p.kind for p in problems}:
            idx = [i for i, p in enumerate(problems) if p.kind is kind]
            for i, sol in zip(idx, self._run([problems[i] for i in idx], seed)):
                # re-evaluated from the routes alone, as every backend's results are
                again = evaluate(problems[i], sol.routes)
                out[i] = again.with_info(solver=self.name, runtime=sol.runtime, stats=sol.stats)
        return out  # type: ignore[return-value]
