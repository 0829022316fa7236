"""The RRNCO neural policy as a solver backend ("rrnco").

The policy constructs solutions in one shot: greedy POMO rollouts from many start nodes ×
up to 8 dihedral coordinate augmentations, best of all. ``solve`` keeps ``time_limit``: the
checkpoint loads in a background thread (its import of torch included) while the clock runs,
then :func:`hybridroute.neural.anytime.decode_within` decodes passes of growing size until
the next one would not fit, and stops a running pass at the deadline. ``stats`` say what was
decoded (``starts``, ``augment``, ``rollouts``, ``stopped``) and ``first_pass_s``, what the
first pass took or would have needed (the hybrids size their neural share on it). When the
model is still loading at the deadline, or no pass finished in time, the nearest-neighbour
construction is returned instead, with ``stats["fallback"]`` saying why and a logged warning:
load ahead of time with :func:`hybridroute.load_solver` (``hr.load_solver("rrnco")``) so that
short budgets go to decoding. ``time_limit=math.inf`` decodes everything (every start × ``augment``).

ATSP tours of 20 nodes or more are decoded differently by default (``reconstruct=True``): a
tour from up to 32 starts × 1 transform, then segments of it are re-decoded by the policy and
kept where shorter, round after round, until the time limit (after 16 rounds in a row that
change nothing, or from the first round on tours of 320 nodes or more, in longer segments
from fewer starts; without a limit those 16 rounds end the run); see
:mod:`hybridroute.neural.reconstruct`. Per second this gains far more than further starts or
transforms: held-out Helsinki, gap to LKH-3, 32
instances, n = 100 in 1 s: 3.01 % against 7.33 %; n = 200 in 2 s: 5.93 % against 10.88 %;
n = 500 in 10 s: 13.32 % against 25.15 % (``benchmarks/results/reconstruct_atsp*.md``).

ACVRP and ACVRPTW problems of :data:`~hybridroute.neural.reconstruct_routes.MIN_CUSTOMERS` (60)
customers or more are re-constructed the same way (``reconstruct=True``): routes from up to
32 starts × 1 transform (or nearest neighbour's where cheaper), then groups of neighbouring
routes (30-80 customers, by the angle around the depot) are re-decoded as instances of their
own and swapped in where cheaper, until the time limit; see
:mod:`hybridroute.neural.reconstruct_routes` and docs/neural.md for the measurements.

``solve_batch`` without a time limit decodes with the configured ``augment`` and ``starts``,
without a clock; with one, each instance goes through the anytime decoder as in ``solve``.
Use the policy alone for fast construction or through a hybrid (``"rrnco+pyvrp"``) to
spend a time budget on improvement.
"""

from __future__ import annotations

import concurrent.futures
import functools
import logging
import math
import threading
import time
from pathlib import Path
from typing import Any, Sequence

from ..problem import Problem, ProblemKind
from ..solution import Solution
from .base import STAGE_OF, SolveOutput, Solver

__all__ = ["RRNCO"]

logger = logging.getLogger(__name__)

_CACHE: dict[tuple[str, str], Any] = {}
_CACHE_LOCK = threading.Lock()
# Loads run here so that a solve can stop waiting at its deadline while the load goes on;
# the thread is joined at interpreter exit (no half-imported torch at shutdown).
_LOADER = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="rrnco-load")
_PENDING: dict[tuple[str, str, str], concurrent.futures.Future] = {}
# (checkpoint, n) pairs already warned about as beyond the checkpoint's training sizes
_WARNED_SIZES: set[tuple[str, int]] = set()
# Seconds kept back from the time limit for turning the best rollout into routes and
# evaluating them (O(n) work; well under this at n = 1000).
_RESERVE_SECONDS = 0.02


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


def _timed_load(checkpoint: str | Path, device: str):
    t0 = time.perf_counter()
    policy, card, path = _load(checkpoint, device)
    return policy, card, path, time.perf_counter() - t0


def _load_async(checkpoint: str | Path, device: str) -> concurrent.futures.Future:
    """A future of ``(policy, card, path, load seconds)`` for a checkpoint name or path (the
    solver resolves the default for a problem's kind and size first: ``RRNCO._checkpoint_for``);
    one load per key, started once."""
    key = (str(checkpoint), device)
    with _CACHE_LOCK:
        fut = _PENDING.get(key)
        if fut is None or (fut.done() and fut.exception() is not None):
            fut = _LOADER.submit(_timed_load, checkpoint, device)
            _PENDING[key] = fut
        return fut


@functools.lru_cache(maxsize=32)
def _card(checkpoint: str | Path) -> dict[str, Any]:
    """A checkpoint's model card (JSON only), read once per process."""
    from ..neural.checkpoint import find_checkpoint, read_card

    return read_card(find_checkpoint(checkpoint))


def _size_stats(card: dict[str, Any], problem: Problem) -> dict[str, Any]:
    """``trained_n`` (the largest training size) and, beyond it, ``beyond_trained_n``; the
    first solve of each such size per checkpoint logs a warning. At n = 1000 the ACVRP policy
    trained up to n = 500 is 10.2-11.2 % above PyVRP 10 s and nearest neighbour from every
    start 9.6 % (8 Helsinki instances, docs/neural.md), so a user should hear of it rather
    than find out."""
    trained, n = int(card["n"]), problem.size
    if n <= trained:
        return {"trained_n": trained}
    name = str(card.get("name", "the checkpoint"))
    with _CACHE_LOCK:
        first = (name, n) not in _WARNED_SIZES
        _WARNED_SIZES.add((name, n))
    if first:
        logger.warning("rrnco: %s was trained on n <= %d and this %s problem has n = %d: beyond its "
                       "training sizes its routes can be worse than nearest neighbour's (a hybrid's gate "
                       "checks this; see the model card)", name, trained, problem.kind.value, n)
    return {"trained_n": trained, "beyond_trained_n": True}


def _check_kind(policy, path: Path, kind: ProblemKind) -> None:
    """A checkpoint solves the kind it was trained for only."""
    if policy.kind is not kind:
        from .base import UnsupportedProblemError

        raise UnsupportedProblemError(
            f"checkpoint {path.name} is for {policy.kind.value}, the problem is {kind.value}")


class RRNCO(Solver):
    """RRNCO neural construction policy (PyTorch; GPU when present).

    Parameters
    ----------
    checkpoint
        A checkpoint name or ``.safetensors`` path; None uses the shipped checkpoint for the
        problem's kind (``DEFAULT_CHECKPOINTS``: ``rrnco-atsp-imit``, ``rrnco-acvrp-imit``,
        ``rrnco-acvrptw-imit``), or on small problems the one measured better there
        (``SMALL_CHECKPOINTS``: ``rrnco-acvrptw20`` for ACVRPTW up to n = 20).
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
    reconstruct
        ATSP (n >= 20) and ACVRP / ACVRPTW (60 customers or more): after a solution from
        ``min(starts, 32)`` starts × 1 transform, spend the rest of the time limit
        re-constructing parts of it with the policy (tour segments; groups of neighbouring
        routes), ``augment`` then not applying. False: every start × ``augment`` transforms.
        :meth:`solve_batch` without a time limit never re-constructs (its batched passes are
        the throughput path).

    Notes
    -----
    The policy minimises the problem's cost matrix (distance, or duration when
    ``objective="duration"``, waiting time not modelled). ``num_vehicles`` is kept by
    construction: a route is closed only while the vehicles left can still carry the demand
    left (a packing bound; should no customer fit the open route, the evaluator reports
    ``too_many_routes``), and of all rollouts the shortest that keeps the fleet is returned
    before any shorter one that does not. With ``time_limit=math.inf``, the same seed gives
    the same routes (the seed drives the encoder's distance sampling, one stream per
    augmentation).
    """

    name = "rrnco"
    supports = frozenset(ProblemKind)
    accepts_initial = False
    requires = ("torch", "safetensors")
    extra = "neural"
    deterministic = True
    default_time_limit = 10.0
    converges = True

    def __init__(self, checkpoint: str | None = None, augment: int = 8, starts: int | None = None,
                 samples: int = 0, device: str = "auto", batch_size: int = 16, coords_fallback: str = "mds",
                 reconstruct: bool = True):
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
        self.reconstruct = bool(reconstruct)

    def _checkpoint_for(self, kind: ProblemKind, n: int | None = None) -> str | Path:
        """The checkpoint that decodes a problem of this kind and size: the one given, else the
        shipped default for the kind and size (``default_checkpoint``: a small-instance
        specialist where one was measured better)."""
        from ..neural.checkpoint import default_checkpoint  # no torch

        return self.checkpoint if self.checkpoint is not None else default_checkpoint(kind, n)

    def _policy(self, kind: ProblemKind, n: int | None = None):
        policy, card, path, _ = _load_async(self._checkpoint_for(kind, n), self.device).result()
        _check_kind(policy, path, kind)
        return policy, card, path

    def start_not_worth(self, problem: Problem, improver: str | None = None) -> str | None:
        """Why a hybrid should not run the policy first on ``problem``: its model card's
        ``warm_start_max_n`` (the largest size at which its starts were measured to help an
        improver) is below the problem's size. The field is a size for every improver, or a
        mapping from improver name to size, with ``"default"`` for improvers it does not name
        (a start that pays against OR-Tools' construction can cost PyVRP more than it gives).
        Reads the card only (no weights); None when the card sets no size for this improver,
        or cannot be read (the solve then reports why)."""
        try:
            card = _card(self._checkpoint_for(problem.kind, problem.size))
        except (OSError, ValueError):
            return None
        limit = card.get("warm_start_max_n")
        if isinstance(limit, dict):
            limit = limit.get(improver, limit.get("default"))  # improver None: the default
        if limit is None or card.get("kind") != problem.kind.value or problem.size <= int(limit):
            return None
        against = "" if improver is None else f" to {improver}"
        return (f"{card.get('name', 'the checkpoint')}'s starts were measured not to pay{against} above "
                f"n = {int(limit)} on {problem.kind.value} (warm_start_max_n in its model card); this problem "
                f"has n = {problem.size}")

    def warm_up(self, kinds: Sequence[ProblemKind | str] | None = None) -> None:
        """Load the checkpoints (and torch) now and decode once, so that solves spend their
        whole time limit decoding. ``kinds``: the problem kinds to load (default: all; a
        given ``checkpoint`` serves its own kind only; without one, every shipped checkpoint
        of the kind is loaded, the small-instance ones included)."""
        from ..neural.checkpoint import default_checkpoints
        from ..neural.inference import solve_problems
        from ..testing import conformance_problems

        wanted = [ProblemKind.parse(k) for k in kinds] if kinds is not None else sorted(self.supports)
        for kind in wanted:
            problem = conformance_problems()[kind]
            names = [self.checkpoint] if self.checkpoint is not None else default_checkpoints(kind)
            for name in names:
                policy = _load_async(name, self.device).result()[0]
                if policy.kind is not kind:
                    continue
                if str(name) == str(self._checkpoint_for(kind, problem.size)):
                    self.solve(problem, time_limit=math.inf)  # the first pass of a process is slow
                else:  # a checkpoint for other sizes: one decode of its own
                    solve_problems([problem], policy, augment=1, device=self.device,
                                   coords_fallback=self.coords_fallback)

    def _run(self, problems: Sequence[Problem], seed: int, augment: int | None = None) -> list[Solution]:
        t_load = time.perf_counter()
        from ..neural.inference import solve_problems  # imports torch on first use

        augment = self.augment if augment is None else augment
        policy, card, path = self._policy(problems[0].kind, problems[0].size)  # loads on first use only
        load_seconds = time.perf_counter() - t_load
        sols = solve_problems(problems, policy, augment=augment, starts=self.starts, samples=self.samples,
                              seed=seed, device=self.device, batch_size=self.batch_size,
                              coords_fallback=self.coords_fallback)
        info = {"checkpoint": card.get("name", path.stem), "checkpoint_sha256": card["sha256"],
                "augment": augment, "load_seconds": load_seconds}
        return [s.with_info(stats={**s.stats, **info, **_size_stats(card, p)}) for s, p in zip(sols, problems)]

    def _solve(self, problem, *, time_limit, seed, initial):
        t0 = time.perf_counter()
        deadline = t0 + time_limit - _RESERVE_SECONDS if math.isfinite(time_limit) else math.inf
        future = _load_async(self._checkpoint_for(problem.kind, problem.size), self.device)
        try:
            wait = None if math.isinf(deadline) else max(deadline - time.perf_counter(), 0.0)
            policy, card, path, _ = future.result(timeout=wait)
        except concurrent.futures.TimeoutError:
            return self._fallback(problem, time_limit, "the model was still loading at the deadline "
                                  "(call hybridroute.load_solver('rrnco') ahead of time)", cause="loading")
        _check_kind(policy, path, problem.kind)
        waited = time.perf_counter() - t0
        routes, effort = self._decode(policy, problem, deadline, seed)
        info = {"checkpoint": card.get("name", path.stem), "checkpoint_sha256": card["sha256"],
                **_size_stats(card, problem), "augment_requested": self.augment,
                "load_seconds": waited, **effort}
        if routes is None:
            return self._fallback(problem, time_limit, "no decoding pass finished before the deadline", info,
                                  cause="deadline")
        num_starts = problem.size
        if "reconstruct_rounds" in effort:
            logger.info("rrnco: %s n=%d, %g s: %d starts, then %d re-construction rounds (%.1f %% shorter; %s)",
                        problem.kind.value, problem.num_nodes, time_limit, effort["starts"],
                        effort["reconstruct_rounds"], 100 * effort["reconstruct_gain"], effort["reconstruct_stopped"])
        elif effort["augment"] < self.augment or effort["starts"] < min(self.starts or num_starts, num_starts):
            logger.info("rrnco: %s n=%d, %g s: decoded %d starts x %d of %d transforms (%s)",
                        problem.kind.value, problem.num_nodes, time_limit, effort["starts"], effort["augment"],
                        self.augment, effort["stopped"])
        return SolveOutput(routes=routes, stats=info)

    def _decode(self, policy, problem: Problem, deadline: float, seed: int):
        import torch

        from ..neural.anytime import decode_within
        from ..neural.env import instances_from_problems
        from ..neural.inference import resolve_device

        dev = resolve_device(self.device)
        amp = torch.bfloat16 if dev.type == "cuda" and torch.cuda.is_bf16_supported() else None
        inst = instances_from_problems([problem], device=dev, dtype=torch.float64,
                                       coords_fallback=self.coords_fallback)
        if not self._reconstructs(problem):
            routes, _, effort = decode_within(policy, inst, deadline=deadline, augment=self.augment,
                                              starts=self.starts, samples=self.samples, seed=seed, amp=amp)
            return routes, effort.as_stats()
        from ..neural.reconstruct import RECONSTRUCT_STARTS, reconstruct_tour

        # a solution from a few starts, then re-construction for the rest of the budget: per
        # second it gains more than further starts or transforms (see neural.reconstruct and
        # neural.reconstruct_routes). 32 starts at every size: a 16-start tour was no better at
        # ATSP n = 500 in 10 s, and in a hybrid's short neural share the first solution is often
        # all there is time for
        routes, _, effort = decode_within(policy, inst, deadline=deadline, augment=1,
                                          starts=min(self.starts or problem.num_nodes, RECONSTRUCT_STARTS),
                                          seed=seed, amp=amp)
        if routes is None:
            return None, effort.as_stats()
        routes, origin = self._cheaper_start(problem, routes)
        if problem.kind.has_capacity:
            from ..neural.reconstruct_routes import reconstruct_routes

            routes, done = reconstruct_routes(policy, problem, routes, coords=inst.coords[0].cpu().numpy(),
                                              deadline=deadline, seed=seed, device=dev, amp=amp)
            return routes, {**effort.as_stats(), **done.as_stats(), "reconstruct_from": origin}
        tour, done = reconstruct_tour(policy, inst, [0, *routes[0]], deadline=deadline, seed=seed, amp=amp)
        k = tour.index(0)
        return [tour[k + 1:] + tour[:k]], {**effort.as_stats(), **done.as_stats(), "reconstruct_from": origin}

    @staticmethod
    def _cheaper_start(problem: Problem, routes: list[list[int]]) -> tuple[list[list[int]], str]:
        """The policy's routes, or nearest neighbour's where those are feasible and cheaper
        (``"policy"`` / ``"nearest"``). Beyond the training sizes the policy's own start can
        lose: a 32-start ATSP tour at n = 1000 is about 10 points worse, and at ACVRP n = 1000 a
        32-start solution can be too; the parts re-construction then re-decodes are of the
        sizes the policy was trained on."""
        from ..solution import evaluate
        from .baselines import nearest_neighbour_routes

        ours, nearest = evaluate(problem, routes), evaluate(problem, nearest_neighbour_routes(problem))
        if (not nearest.is_feasible, nearest.cost) < (not ours.is_feasible, ours.cost):
            return [list(r) for r in nearest.routes], "nearest"
        return routes, "policy"

    def _reconstructs(self, problem: Problem) -> bool:
        from ..neural.reconstruct import MIN_NODES
        from ..neural.reconstruct_routes import MIN_CUSTOMERS

        if not self.reconstruct:
            return False
        if problem.kind is ProblemKind.ATSP:
            return problem.num_nodes >= MIN_NODES
        return problem.num_customers >= MIN_CUSTOMERS

    def _fallback(self, problem: Problem, time_limit: float, why: str,
                  info: dict[str, Any] | None = None, *, cause: str) -> SolveOutput:
        """Nearest-neighbour routes, with ``stats["fallback_cause"]``: ``"loading"`` (the model
        was not ready: a one-off) or ``"deadline"`` (no decoding pass fits this size and budget)."""
        from .baselines import nearest_neighbour_routes

        # a loading fallback asks the user to load ahead of time; one for want of time inside a
        # hybrid is the hybrid's to report (it starts its improver cold)
        stage_of = STAGE_OF.get()
        level = logging.INFO if stage_of is not None and cause == "deadline" else logging.WARNING
        logger.log(level, "rrnco%s: %s; returning the nearest-neighbour construction (%s n=%d, %g s)",
                   "" if stage_of is None else f" (first stage of {stage_of})", why, problem.kind.value,
                   problem.num_nodes, time_limit)
        stats = {**(info or {}), "fallback": "nearest", "fallback_reason": why, "fallback_cause": cause,
                 "augment_requested": self.augment}
        stats.setdefault("augment", 0)
        stats.setdefault("starts", 0)
        return SolveOutput(routes=nearest_neighbour_routes(problem), stats=stats,
                           message=f"nearest-neighbour fallback: {why}")

    def solve_batch(self, problems: Sequence[Problem], seed: int = 0,
                    time_limit: float | None = None) -> list[Solution]:
        """Solve many problems in batched forward passes (grouped by kind and size).

        Returns one Solution per problem, in order, re-evaluated by :func:`hybridroute.evaluate`;
        ``runtime`` is the per-instance share of its batch's wall clock.

        With a finite ``time_limit`` (seconds per instance) each problem is decoded within it by
        the anytime decoder, as :meth:`solve` does: a batched pass has a fixed effort (every
        start × ``augment``), which at ACVRP n = 200 took 5 s per instance, so it cannot keep a
        per-instance budget. The checkpoints are loaded first, outside the instances' budgets.
        """
        from ..solution import evaluate

        self.check_installed()
        problems = list(problems)
        for p in problems:
            self.check_problem(p)
        if time_limit is not None and math.isfinite(time_limit):
            for kind, n in {(p.kind, p.size) for p in problems}:
                self._policy(kind, n)
            return [self.solve(p, time_limit=time_limit, seed=seed) for p in problems]
        out: list[Solution | None] = [None] * len(problems)
        groups: dict[tuple[ProblemKind, str], list[int]] = {}
        for i, p in enumerate(problems):  # one batch per kind and checkpoint
            groups.setdefault((p.kind, str(self._checkpoint_for(p.kind, p.size))), []).append(i)
        for idx in groups.values():
            for i, sol in zip(idx, self._run([problems[i] for i in idx], seed)):
                # re-evaluated from the routes alone, as every backend's results are
                again = evaluate(problems[i], sol.routes)
                out[i] = again.with_info(solver=self.name, runtime=sol.runtime, stats=sol.stats)
        return out  # type: ignore[return-value]
