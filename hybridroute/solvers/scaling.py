"""Integer scaling: the one place where a problem's float data becomes backend integers.

PyVRP and VROOM truncate floats silently and OR-Tools and LKH need integers, so every
backend converts a :class:`~hybridroute.Problem` with :func:`scale_problem`, called exactly
once per solve, with the backend's own :class:`IntegerLimits`. The backend documents its
scale; the returned routes are always re-costed by hybridroute's float evaluator, so scaling
can only change *which* routes a backend prefers, never the costs it reports.

Rounding rules
--------------
* Costs (the objective matrix) round to the nearest integer: the error is unbiased.
* Times round *conservatively*: travel and service durations and window starts round up,
  window ends round down. A schedule that is feasible in integers is then feasible in the
  float data too, which matters because the evaluator checks windows to 1e-9.
* Demands round up and the capacity down when they are not integral at the chosen scale
  (same reason).

Warnings
--------
A :class:`ScalingWarning` (via :func:`warnings.warn`, the only channel this module uses) is
emitted when the estimated relative change of a tour's cost exceeds
:data:`OBJECTIVE_TOLERANCE` (0.01 %), or when scaled values come within a factor
:data:`OVERFLOW_MARGIN` of the backend's integer limits. Values beyond a limit raise
:class:`~hybridroute.solvers.base.SolverError` (they would overflow silently otherwise).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from ..problem import Problem
from .base import SolverError

__all__ = [
    "ScalingWarning", "IntegerLimits", "ScaledProblem", "scale_problem", "choose_scale",
    "rounding_error", "OBJECTIVE_TOLERANCE", "OVERFLOW_MARGIN", "ScaledFleet", "scale_fleet",
]

#: Largest accepted estimated relative change of a tour's cost caused by rounding (0.01 %).
OBJECTIVE_TOLERANCE = 1e-4
#: Warn when a scaled value (or a bound on a route total) exceeds limit / OVERFLOW_MARGIN.
OVERFLOW_MARGIN = 16
#: Scales tried by :func:`choose_scale` (powers of ten keep decimal data exact).
CANDIDATE_SCALES = tuple(10.0 ** k for k in range(0, 7))
# Float noise allowed when testing whether x * scale is an integer (12.3 * 10 != 123 exactly).
_INT_EPS = 1e-7


class ScalingWarning(UserWarning):
    """Integer scaling changes the objective noticeably or approaches an integer limit."""


@dataclass(frozen=True)
class IntegerLimits:
    """What a backend's integers can hold.

    Parameters
    ----------
    backend
        Name used in messages.
    max_entry
        Largest scaled value of a single matrix entry, window bound or demand.
    max_total
        Largest scaled sum the backend forms along a route (route cost, time horizon).
    """

    backend: str
    max_entry: int
    max_total: int


@dataclass(frozen=True)
class ScaledProblem:
    """A problem's data as backend integers (int64 numpy arrays).

    Attributes
    ----------
    cost
        n×n objective matrix (distance or duration) × ``cost_scale``, rounded to nearest.
    cost_scale
        Integers per objective unit (per metre or per second).
    distance
        n×n distance × ``distance_scale`` (nearest), for backends that also want distances.
    distance_scale
        Integers per metre (equals ``cost_scale`` when the objective is distance).
    duration
        n×n travel time × ``time_scale`` (rounded up), or None without a duration matrix.
    time_scale
        Integers per second, shared by ``duration``, ``time_windows`` and ``service_time``.
    time_windows
        n×2 [start, end] × ``time_scale`` (start rounded up, end down; ``inf`` ends become
        ``horizon``), or None.
    service_time
        Per-node service × ``time_scale`` (rounded up), or None.
    horizon
        Latest time any schedule needs (scaled), or None without time windows.
    demand, capacity, demand_scale
        Integer demands (rounded up) and capacity (rounded down), or None for ATSP. The
        capacity is None when the vehicle types' capacities differ (see :class:`ScaledFleet`);
        the demand scale makes every type's capacity integral then.
    cost_error, time_error
        Estimated relative change of a tour's cost / duration caused by rounding.
    """

    cost: np.ndarray
    cost_scale: float
    distance: np.ndarray
    distance_scale: float
    duration: np.ndarray | None
    time_scale: float | None
    time_windows: np.ndarray | None
    service_time: np.ndarray | None
    horizon: int | None
    demand: np.ndarray | None
    capacity: int | None
    demand_scale: float
    cost_error: float
    time_error: float

    def to_cost(self, value: float) -> float:
        """A scaled objective value back in the problem's float units."""
        return float(value) / self.cost_scale


def _offdiag(matrix: np.ndarray) -> np.ndarray:
    n = matrix.shape[0]
    return matrix[~np.eye(n, dtype=bool)] if n > 1 else matrix.ravel()


def _round(values: np.ndarray, scale: float, rounding: str) -> np.ndarray:
    """Scale and round; ``up``/``down`` ignore float noise so 12.3 * 10 stays 123."""
    x = np.asarray(values, dtype=np.float64) * scale
    eps = _INT_EPS * np.maximum(1.0, np.abs(x))
    if rounding == "nearest":
        return np.rint(x)
    if rounding == "up":
        return np.ceil(x - eps)
    if rounding == "down":
        return np.floor(x + eps)
    raise ValueError(f"unknown rounding {rounding!r}")


def rounding_error(matrix: np.ndarray, scale: float, rounding: str = "nearest") -> float:
    """Estimated relative change of a tour's cost when ``matrix`` is scaled and rounded.

    A tour of n legs changes by about n × (mean absolute rounding error of an entry), and it
    costs at least the sum of the row minima (every node is left once), so the estimate is
    n × mean|error| / Σ_i min_j≠i C[i, j]. When that lower bound is 0 (duplicate points)
    the mean entry stands in for the row minima.
    """
    m = np.asarray(matrix, dtype=np.float64)
    n = m.shape[0]
    off = _offdiag(m)
    if off.size == 0:
        return 0.0
    err = np.abs(_round(off, scale, rounding) - off * scale)
    err[err < _INT_EPS * np.maximum(1.0, off * scale)] = 0.0
    mean_err = float(err.mean())
    if mean_err == 0.0:
        return 0.0
    masked = m + np.diag(np.full(n, np.inf))
    lower = float(np.min(masked, axis=1).sum()) * scale
    if lower <= 0.0:
        lower = float(off.mean()) * scale * n
    if lower <= 0.0:
        return 0.0 if mean_err == 0.0 else math.inf
    return n * mean_err / lower


def _route_bound(matrix: np.ndarray, scale: float) -> float:
    """An upper bound on any route's scaled total: the sum of the row maxima."""
    return float(np.max(matrix, axis=1).sum()) * scale


def choose_scale(matrix: np.ndarray, limits: IntegerLimits, rounding: str = "nearest",
                 extra_total: float = 0.0) -> float:
    """The smallest power of ten that keeps rounding within :data:`OBJECTIVE_TOLERANCE`.

    Integer data gets scale 1, one-decimal data (Solomon) 10, and so on: the first candidate
    whose estimated error is below a tenth of the tolerance (or 0) wins, provided the scaled
    route totals stay a margin below ``limits.max_total``. When none qualifies, the largest
    candidate within the limits is returned (and :func:`scale_problem` will warn).

    Parameters
    ----------
    matrix
        The float matrix to scale.
    limits
        The backend's integer limits.
    rounding
        ``"nearest"`` (costs) or ``"up"`` (times).
    extra_total
        Unscaled amount added to route totals besides the matrix (service, window starts).
    """
    m = np.asarray(matrix, dtype=np.float64)
    best_fit = None
    for scale in CANDIDATE_SCALES:
        total = _route_bound(m, scale) + extra_total * scale
        entry = float(m.max(initial=0.0)) * scale
        if total > limits.max_total / OVERFLOW_MARGIN or entry > limits.max_entry / OVERFLOW_MARGIN:
            break
        best_fit = scale
        if rounding_error(m, scale, rounding) <= OBJECTIVE_TOLERANCE / 10:
            return scale
    return best_fit if best_fit is not None else CANDIDATE_SCALES[0]


def _check_limits(name: str, values: np.ndarray, total: float, limits: IntegerLimits) -> None:
    """Raise beyond the backend's limits; warn when a margin close to them."""
    peak = float(np.max(values, initial=0))
    if peak > limits.max_entry:
        raise SolverError(
            f"{limits.backend}: scaled {name} reaches {peak:.4g}, beyond the backend's integer "
            f"limit {limits.max_entry:.4g}; use a smaller scale or coarser units")
    if total > limits.max_total:
        raise SolverError(
            f"{limits.backend}: scaled {name} route totals may reach {total:.4g}, beyond the "
            f"backend's integer limit {limits.max_total:.4g}; use a smaller scale or coarser units")
    if peak > limits.max_entry / OVERFLOW_MARGIN or total > limits.max_total / OVERFLOW_MARGIN:
        warnings.warn(
            f"{limits.backend}: scaled {name} (largest {peak:.4g}, route totals up to {total:.4g}) "
            f"come within a factor {OVERFLOW_MARGIN} of the backend's integer limits "
            f"({limits.max_entry:.4g} / {limits.max_total:.4g})", ScalingWarning, stacklevel=3)


def _warn_rounding(name: str, error: float, scale: float, limits: IntegerLimits) -> None:
    if error > OBJECTIVE_TOLERANCE:
        warnings.warn(
            f"{limits.backend}: rounding {name} at scale {scale:g} changes a tour's cost by about "
            f"{100 * error:.3g} % (tolerance {100 * OBJECTIVE_TOLERANCE:g} %); pass a larger scale",
            ScalingWarning, stacklevel=3)


def _integral_scale(values: np.ndarray) -> float:
    """Smallest power of ten making all ``values`` integral (capped at 10**6)."""
    for scale in CANDIDATE_SCALES:
        x = values * scale
        if np.all(np.abs(x - np.rint(x)) <= _INT_EPS * np.maximum(1.0, np.abs(x))):
            return scale
    return CANDIDATE_SCALES[-1]


def _scale_loads(problem: Problem, limits: IntegerLimits):
    if problem.demand is None:
        return None, None, 1.0
    dem = np.asarray(problem.demand, dtype=np.float64)
    # every vehicle type's capacity shares the demands' scale (one type: the capacity alone)
    caps = np.array([float(vt.capacity) for vt in problem.vehicle_types if vt.capacity is not None])
    scale = _integral_scale(np.r_[dem, caps])
    demand = _round(dem, scale, "up").astype(np.int64)
    scaled_caps = _round(caps, scale, "down").astype(np.int64)
    # None when the types' capacities differ: see ScaledFleet.capacity
    capacity = None if problem.capacity is None else int(
        _round(np.array([float(problem.capacity)]), scale, "down")[0])
    largest = float(scaled_caps.max(initial=0))
    _check_limits("demand", np.r_[demand, scaled_caps], largest, limits)
    return demand, capacity, scale


def _horizon(problem: Problem) -> float:
    """Latest time a schedule can need: the latest depot close, or a safe bound when a depot
    never closes (or the problem has no time windows): the latest window or shift start, plus
    all service, the longest leg out of every node, and the longest run of breaks."""
    tw, svc, T = problem.time_windows, problem.service_time, problem.duration
    nd = problem.num_depots
    if tw is not None and np.isfinite(tw[:nd, 1]).all():
        return float(tw[:nd, 1].max())
    starts = [float(tw[:, 0].max()) if tw is not None else 0.0]
    starts += [vt.shift[0] for vt in problem.vehicle_types if vt.shift is not None]
    service = 0.0 if svc is None else float(svc.sum() + svc[:nd].max())
    rests = max(sum(b.duration for b in vt.breaks) for vt in problem.vehicle_types)
    return float(max(starts) + service + np.max(T, axis=1).sum() + rests)


def _fleet_times(problem: Problem) -> np.ndarray:
    """The vehicle types' finite shift bounds and break times (seconds), for the time scale."""
    values = []
    for vt in problem.vehicle_types:
        if vt.shift is not None:
            values += list(vt.shift)
        for b in vt.breaks:
            values += [b.earliest, b.latest, b.duration]
    arr = np.array(values, dtype=np.float64)
    return arr[np.isfinite(arr)]


def _scale_times(problem: Problem, time_scale: float | None, limits: IntegerLimits):
    """Durations, windows and service in one shared time scale (conservative rounding)."""
    T = problem.duration
    tw = problem.time_windows
    svc = problem.service_time if problem.service_time is not None else None
    extra = 0.0 if tw is None else float(np.nanmax(np.where(np.isfinite(tw), tw, np.nan)))
    extra = max(extra, float(_fleet_times(problem).max(initial=0.0)))  # shifts and breaks
    extra += 0.0 if svc is None else float(svc.sum())
    scale = time_scale or choose_scale(T, limits, "up", extra)
    duration = _round(T, scale, "up").astype(np.int64)
    error = rounding_error(T, scale, "up")
    windows = service = horizon = None
    if tw is not None:
        horizon_f = _horizon(problem)
        horizon = int(_round(np.array([horizon_f]), scale, "down")[0])
        ends = np.where(np.isfinite(tw[:, 1]), tw[:, 1], horizon_f)
        windows = np.c_[_round(tw[:, 0], scale, "up"), _round(ends, scale, "down")].astype(np.int64)
        windows[:, 1] = np.minimum(windows[:, 1], horizon)
        service = _round(svc, scale, "up").astype(np.int64)
    total = _route_bound(T, scale) + (0 if horizon is None else horizon) + (
        0 if service is None else float(service.sum()))
    _check_limits("durations", duration if windows is None else np.r_[duration.ravel(), windows.ravel()],
                  total, limits)
    return duration, scale, windows, service, horizon, error


def scale_problem(problem: Problem, limits: IntegerLimits, *, cost_scale: float | None = None,
                  time_scale: float | None = None, need_time: bool | None = None) -> ScaledProblem:
    """Convert ``problem`` to backend integers (the single conversion point of every backend).

    Parameters
    ----------
    problem
        The float problem (metres, seconds, demand units).
    limits
        The backend's integer limits (see each backend's ``INTEGER_LIMITS``).
    cost_scale
        Integers per objective unit; None chooses one with :func:`choose_scale`.
    time_scale
        Integers per second for durations, windows and service; None chooses one. When the
        objective is duration the cost scale is used for both, so costs and times agree.
    need_time
        Whether to scale the duration matrix; default: when the problem has time windows or
        minimises duration (and has a duration matrix).

    Returns
    -------
    ScaledProblem

    Warns
    -----
    ScalingWarning
        When rounding changes a tour's cost by more than 0.01 % (estimated) or values come
        close to the backend's integer limits.

    Raises
    ------
    SolverError
        When scaled values exceed the backend's integer limits.
    """
    by_duration = problem.objective == "duration"
    if need_time is None:
        need_time = problem.duration is not None and (problem.time_windows is not None or by_duration)
    cost_matrix = problem.cost_matrix
    if by_duration:
        # One scale for costs and times; times round up so the cost does too.
        duration, tscale, windows, service, horizon, terr = _scale_times(
            problem, time_scale or cost_scale, limits)
        cost, cscale, cerr = duration, tscale, terr
        distance_scale = choose_scale(problem.distance, limits)
        distance = _round(problem.distance, distance_scale, "nearest").astype(np.int64)
    else:
        cscale = cost_scale or choose_scale(cost_matrix, limits)
        rounded = _round(cost_matrix, cscale, "nearest")
        # checked before the cast: a float beyond int64 would cast to garbage with a warning
        _check_limits("costs", rounded, _route_bound(cost_matrix, cscale), limits)
        cost = rounded.astype(np.int64)
        cerr = rounding_error(cost_matrix, cscale)
        distance, distance_scale = cost, cscale
        duration = windows = service = horizon = None
        tscale, terr = None, 0.0
        if need_time:
            duration, tscale, windows, service, horizon, terr = _scale_times(problem, time_scale, limits)
    _warn_rounding(f"the {problem.objective} matrix", cerr, cscale, limits)
    if need_time and not by_duration:
        _warn_rounding("the duration matrix", terr, tscale, limits)
    demand, capacity, dscale = _scale_loads(problem, limits)
    return ScaledProblem(cost=cost, cost_scale=float(cscale), distance=distance,
                         distance_scale=float(distance_scale), duration=duration,
                         time_scale=None if tscale is None else float(tscale), time_windows=windows,
                         service_time=service, horizon=horizon, demand=demand, capacity=capacity,
                         demand_scale=float(dscale), cost_error=float(cerr), time_error=float(terr))


@dataclass(frozen=True)
class ScaledFleet:
    """The vehicle types' data as backend integers, in the scales of a :class:`ScaledProblem`.

    One entry per vehicle type (index into ``problem.vehicle_types``) in each tuple.

    Attributes
    ----------
    capacity
        Capacity × ``demand_scale`` (rounded down), or None (ATSP).
    departure, return_by
        Earliest departure from the start depot and latest return to the end depot, ×
        ``time_scale``: :meth:`Problem.route_window` with the start depot's service added to
        the departure (rounded up) and the return rounded down (``inf`` becomes the horizon).
        None without a scaled duration matrix. ``return_by`` may be tightened by a break, see
        ``breaks``.
    breaks
        Per type, ``(earliest, latest, duration)`` × ``time_scale`` of each break a backend
        must schedule (earliest and duration rounded up, latest down; ``inf`` becomes the
        horizon). Left out: a break no route of the type can need (the route window ends
        by its earliest start or begins after its latest start), and a break whose latest start
        comes before ``departure`` (every route that needs it is late for it, which the
        evaluator reports). A break that cannot end before the window closes
        (earliest + duration > return_by) is replaced by ``return_by = earliest`` (rounded
        down): a route under way after its earliest start would need it and return too late,
        so routes of the type must be back by then and never need it.
    max_distance
        Longest route × ``distance_scale`` (rounded down), or None.
    fixed_cost
        Cost of using a vehicle × ``cost_scale`` (rounded to nearest).
    distance_up
        The distance matrix × ``distance_scale`` rounded *up* (a route within ``max_distance``
        in integers is then within it in metres), or None when no type has a finite
        ``max_distance``.
    """

    capacity: tuple[int | None, ...]
    departure: tuple[int, ...] | None
    return_by: tuple[int, ...] | None
    breaks: tuple[tuple[tuple[int, int, int], ...], ...]
    max_distance: tuple[int | None, ...]
    fixed_cost: tuple[int, ...]
    distance_up: np.ndarray | None


def _one(value: float, scale: float, rounding: str) -> int:
    """One scaled, rounded value (see :func:`_round`)."""
    return int(_round(np.array([value]), scale, rounding)[0])


def _breaks_to_keep(problem: Problem, t: int) -> tuple[list, float]:
    """Type ``t``'s breaks a route may need, and its latest return (seconds) after breaks that
    could not end in time have moved it to their earliest start."""
    begin, close = problem.route_window(t)
    breaks = list(problem.vehicle_types[t].breaks)
    while True:
        kept = [b for b in breaks if begin < b.latest and close > b.earliest]
        blocking = [b for b in kept if b.earliest + b.duration > close]
        if not blocking:
            return kept, close
        close = min(b.earliest for b in blocking)
        breaks = kept


def scale_fleet(problem: Problem, scaled: ScaledProblem, limits: IntegerLimits) -> ScaledFleet:
    """Convert ``problem.vehicle_types`` to integers in the scales of ``scaled``.

    Parameters
    ----------
    problem
        The float problem.
    scaled
        Its :func:`scale_problem` result (scaled with times when a type has a shift or breaks).
    limits
        The backend's integer limits.

    Returns
    -------
    ScaledFleet

    Raises
    ------
    ValueError
        When a type has a shift or breaks but ``scaled`` has no time scale.
    SolverError
        When scaled values exceed the backend's integer limits.
    """
    types = problem.vehicle_types
    timed = scaled.time_scale is not None and scaled.duration is not None
    if not timed and any(vt.shift is not None or vt.breaks for vt in types):
        raise ValueError("scale_fleet: the problem has shifts or breaks; scale it with need_time=True")
    capacity = tuple(None if vt.capacity is None or scaled.demand is None
                     else _one(float(vt.capacity), scaled.demand_scale, "down") for vt in types)
    departure = return_by = None
    breaks: list[tuple[tuple[int, int, int], ...]] = [() for _ in types]
    if timed:
        ts = scaled.time_scale
        svc = problem.service_time
        horizon_f = _horizon(problem)
        horizon = _one(horizon_f, ts, "down")
        dep, ret = [], []
        for t, vt in enumerate(types):
            begin, _ = problem.route_window(t)
            kept, close = _breaks_to_keep(problem, t)
            d0 = _one(begin + (float(svc[vt.start_depot]) if svc is not None else 0.0), ts, "up")
            r0 = min(_one(close, ts, "down"), horizon) if math.isfinite(close) else horizon
            # (earliest up, latest down, duration up, earliest down)
            cand = [(_one(b.earliest, ts, "up"), _one(b.latest, ts, "down") if math.isfinite(b.latest) else horizon,
                     _one(b.duration, ts, "up"), _one(b.earliest, ts, "down")) for b in kept]
            while True:
                # Breaks are taken in order of earliest start, none before the depot's service
                # ends (d0), each after the one before. A route needs a break only when back
                # after its earliest start, so one that cannot start by its latest, or end by
                # the return, moves the return to its earliest start. Rounding can make a break
                # that fits in seconds overrun the return; the chain makes VROOM's consistency
                # rule hold (a break can always follow the previous one).
                active = sorted((c for c in cand if r0 > c[3]), key=lambda c: (c[0], c[1]))
                blocking, ready = [], d0
                for c in active:
                    begins = max(c[0], ready)
                    if begins > c[1] or begins + c[2] > r0:
                        blocking.append(c)
                    ready = begins + c[2]
                if not blocking:
                    break
                r0 = min(c[3] for c in blocking)
            # max(): a window narrower than one integer step has rounded ends that cross
            mine = [(e, max(lt, e), d) for e, lt, d, _ in active]
            dep.append(d0)
            ret.append(r0)
            breaks[t] = tuple(mine)
        departure, return_by = tuple(dep), tuple(ret)
        flat = [v for per_type in breaks for b in per_type for v in b]
        _check_limits("shifts and breaks", np.array(list(departure) + list(return_by) + flat, dtype=np.int64),
                      float(max(return_by, default=0)), limits)
    max_distance = []
    for vt in types:
        limit = vt.max_distance
        max_distance.append(None if limit is None or not math.isfinite(limit)
                            else _one(limit, scaled.distance_scale, "down"))
    distance_up = None
    if any(m is not None for m in max_distance):
        rounded = _round(problem.distance, scaled.distance_scale, "up")
        _check_limits("distances", np.r_[rounded.ravel(), [m for m in max_distance if m is not None]],
                      _route_bound(problem.distance, scaled.distance_scale), limits)
        distance_up = rounded.astype(np.int64)
    fixed = _round(np.array([vt.fixed_cost for vt in types]), scaled.cost_scale, "nearest").astype(np.int64)
    _check_limits("fixed costs", fixed, float(fixed.sum()), limits)
    return ScaledFleet(capacity=capacity, departure=departure, return_by=return_by, breaks=tuple(breaks),
                       max_distance=tuple(max_distance), fixed_cost=tuple(int(f) for f in fixed),
                       distance_up=distance_up)
