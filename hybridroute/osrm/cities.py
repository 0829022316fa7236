"""City matrix datasets in the RRNCO format, and instance sampling by the RRNCO rules.

A city file (``{City}_data.npz``) holds ``points`` (m×2, lat/lon degrees), ``distance``
(m×m, kilometres) and ``duration`` (m×m, minutes) from an OSRM table request — the format of
the published RRNCO dataset, which :func:`load_city` also reads.

:func:`sample_batch` is the one instance generator used both for solving (through
:func:`sample_instances`, which converts to :class:`~hybridroute.Problem` in metres and
seconds) and for training the neural policy (which reads the batch arrays directly), so the
two can never drift apart.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..problem import Problem, ProblemKind

__all__ = ["City", "InstanceBatch", "load_city", "save_city", "sample_batch", "sample_instances",
           "vrp_capacity", "bundled_cities", "bundled_city"]

logger = logging.getLogger(__name__)

# RRNCO time-window constants, in units of the per-instance normalised duration matrix.
DEPOT_HORIZON = 4.6
SERVICE_RANGE = (0.15, 0.18)
WINDOW_LENGTH_RANGE = (0.18, 0.2)

# Capacity by customer count for ACVRP (the RL4CO/POMO table that RRNCO uses; 50 at n=100).
_CVRP_CAPACITY = {10: 20, 15: 25, 20: 30, 30: 33, 40: 37, 50: 40, 60: 43, 75: 45, 100: 50,
                  125: 55, 150: 60, 200: 70, 500: 100, 1000: 150}


def vrp_capacity(kind: ProblemKind | str, n: int) -> int:
    """Vehicle capacity for ``n`` customers under the RRNCO rules.

    ACVRP: the RL4CO table (50 at n=100), linearly interpolated between its sizes.
    ACVRPTW: ``30 + n // 5``.
    """
    kind = ProblemKind.parse(kind)
    if kind is ProblemKind.ACVRPTW:
        return 30 + n // 5
    sizes = sorted(_CVRP_CAPACITY)
    return int(round(np.interp(n, sizes, [_CVRP_CAPACITY[s] for s in sizes])))


@dataclass(frozen=True)
class City:
    """A city's sampled road points and full OSRM matrices.

    Attributes
    ----------
    name
        City name (from the file name ``{name}_data.npz``).
    points
        m×2 (lat, lon) degrees.
    distance
        m×m road distance in kilometres (the RRNCO file unit).
    duration
        m×m travel time in minutes (the RRNCO file unit).
    meta
        Build statistics and provenance, when the file carries them.
    """

    name: str
    points: np.ndarray
    distance: np.ndarray
    duration: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return int(self.points.shape[0])

    def __repr__(self) -> str:
        return f"City({self.name!r}, points={self.size})"


def _check_city_arrays(path: Path, points, distance, duration) -> None:
    m = points.shape[0]
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"{path}: points must be m×2 (lat, lon), got {points.shape}")
    for key, arr in (("distance", distance), ("duration", duration)):
        if arr.shape != (m, m):
            raise ValueError(f"{path}: {key} has shape {arr.shape}, expected ({m}, {m})")
        bad = ~np.isfinite(arr)
        if bad.any():
            i, j = np.argwhere(bad)[0]
            raise ValueError(f"{path}: {key}[{i}, {j}] is not finite (unreachable pair?)")


def load_city(path: str | Path) -> City:
    """Read a city file (this project's or the published RRNCO dataset's).

    Tiny negative entries (OSRM's rounding, down to about -0.5 m) are clipped to 0 and the
    diagonal is set to 0, so sampled sub-matrices always pass :class:`~hybridroute.Problem`
    validation.
    """
    path = Path(path)
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"])) if "meta" in z.files else {}
        # a compact training pack (hybridroute.neural.imitation pack) may leave the durations
        # out for kinds that never read them; its meta says so
        needed = {"points", "distance"} | ({"duration"} if meta.get("duration_from") != "distance" else set())
        missing = needed - set(z.files)
        if missing:
            raise ValueError(f"{path}: not a city file, missing arrays {sorted(missing)}")
        points = np.asarray(z["points"], dtype=np.float64)
        distance = np.asarray(z["distance"], dtype=np.float64)
        duration = (np.asarray(z["duration"], dtype=np.float64) if "duration" in z.files
                    else distance.copy())
    _check_city_arrays(path, points, distance, duration)
    for arr in (distance, duration):
        np.clip(arr, 0.0, None, out=arr)
        np.fill_diagonal(arr, 0.0)
    name = path.name[: -len("_data.npz")] if path.name.endswith("_data.npz") else path.stem
    return City(name=meta.get("name", name), points=points, distance=distance, duration=duration, meta=meta)


def save_city(city: City, path: str | Path, *, float32: bool = True) -> Path:
    """Write a city in the RRNCO format (plus a ``meta`` JSON string with provenance)."""
    path = Path(path)
    dtype = np.float32 if float32 else np.float64
    np.savez_compressed(
        path, points=city.points.astype(np.float64), distance=city.distance.astype(dtype),
        duration=city.duration.astype(dtype), meta=np.array(json.dumps({"name": city.name, **city.meta})),
    )
    return path


@dataclass(frozen=True)
class InstanceBatch:
    """A batch of sampled instances, in the city's units and the RRNCO normalised time units.

    Arrays have a leading batch dimension B; m = n (ATSP) or n + 1 (VRPs, depot first).

    Attributes
    ----------
    kind
        Problem kind.
    index
        (B, m) city point indices.
    coords
        (B, m, 2) lat/lon degrees.
    distance
        (B, m, m) kilometres.
    duration
        (B, m, m) minutes.
    demand
        (B, m) integer demands (depot 0), or None for ATSP.
    capacity
        Vehicle capacity (same for the batch), or None for ATSP.
    time_windows
        (B, m, 2) in normalised time units (duration / max duration of the instance), ACVRPTW.
    service_time
        (B, m) normalised service times, ACVRPTW.
    duration_scale
        (B,) minutes per normalised time unit (the instance's max duration).
    """

    kind: ProblemKind
    index: np.ndarray
    coords: np.ndarray
    distance: np.ndarray
    duration: np.ndarray
    demand: np.ndarray | None
    capacity: int | None
    time_windows: np.ndarray | None
    service_time: np.ndarray | None
    duration_scale: np.ndarray

    def __len__(self) -> int:
        return int(self.index.shape[0])


def _sample_indices(city: City, m: int, count: int, rng: np.random.Generator, mode: str) -> np.ndarray:
    if m > city.size:
        raise ValueError(f"cannot sample {m} points from city {city.name!r} with {city.size} points")
    if mode == "uniform":
        # argsort of uniform keys = a random subset without replacement, vectorised over the batch
        return np.argsort(rng.random((count, city.size)), axis=1)[:, :m]
    if mode == "cluster":
        lat0 = np.deg2rad(city.points[:, 0].mean())
        xy = np.c_[city.points[:, 1] * np.cos(lat0), city.points[:, 0]]
        centres = xy[rng.integers(0, city.size, count)]
        d2 = ((xy[None] - centres[:, None]) ** 2).sum(-1)
        return np.argsort(d2, axis=1)[:, :m]
    raise ValueError(f"mode must be 'uniform' or 'cluster', got {mode!r}")


def _time_windows(dur_norm: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """RRNCO windows on the normalised duration matrix (B, m, m), as generated by the RRNCO
    paper's published code (arXiv 2503.16159): depot window [0, 4.6], service ~ U(0.15, 0.18),
    window length ~ U(0.18, 0.2), window start drawn so that the customer is reachable in time."""
    B, m, _ = dur_norm.shape
    svc = rng.uniform(*SERVICE_RANGE, (B, m))
    length = rng.uniform(*WINDOW_LENGTH_RANGE, (B, m))
    d0 = dur_norm[:, 0, :]
    dmax = np.maximum(d0, dur_norm[:, :, 0])
    h = (DEPOT_HORIZON - svc - length) / (dmax + 1e-6) - 1
    start = d0 + (h - 1) * dmax * rng.uniform(0, 1, (B, m))
    end = start + length
    start[:, 0], end[:, 0], svc[:, 0] = 0.0, DEPOT_HORIZON, 0.0
    return np.stack([start, end], axis=-1), svc


def sample_batch(city: City, kind: ProblemKind | str, n: int, count: int, *, seed: int | None = None,
                 rng: np.random.Generator | None = None, mode: str = "uniform") -> InstanceBatch:
    """Sample ``count`` instances of ``n`` customers (ATSP: ``n`` nodes) from ``city``.

    RRNCO rules: uniform points without replacement (or the nearest points to a random centre
    in ``"cluster"`` mode); for VRPs the first sampled point is the depot; integer demands
    1..9; capacity from :func:`vrp_capacity`; ACVRPTW windows and service times drawn on the
    per-instance normalised duration matrix.
    """
    kind = ProblemKind.parse(kind)
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    rng = rng if rng is not None else np.random.default_rng(seed)
    m = n if kind is ProblemKind.ATSP else n + 1
    idx = _sample_indices(city, m, count, rng, mode)
    dist = city.distance[idx[:, :, None], idx[:, None, :]]
    dur = city.duration[idx[:, :, None], idx[:, None, :]]
    scale = dur.reshape(count, -1).max(axis=1)
    scale = np.where(scale > 0, scale, 1.0)
    demand = capacity = tw = svc = None
    if kind is not ProblemKind.ATSP:
        demand = rng.integers(1, 10, (count, m))
        demand[:, 0] = 0
        capacity = vrp_capacity(kind, n)
    if kind is ProblemKind.ACVRPTW:
        tw, svc = _time_windows(dur / scale[:, None, None], rng)
    return InstanceBatch(kind=kind, index=idx, coords=city.points[idx], distance=dist, duration=dur,
                         demand=demand, capacity=capacity, time_windows=tw, service_time=svc,
                         duration_scale=scale)


def batch_to_problems(batch: InstanceBatch, *, city_name: str = "city", objective: str = "distance",
                      first: int = 0) -> list[Problem]:
    """Convert a batch to Problems in metres and seconds (ids are the city point indices)."""
    m = batch.index.shape[1]
    n = m if batch.kind is ProblemKind.ATSP else m - 1
    problems = []
    for b in range(len(batch)):
        kw: dict[str, Any] = {}
        if batch.demand is not None:
            kw.update(demand=batch.demand[b], capacity=batch.capacity)
        if batch.time_windows is not None:
            seconds = batch.duration_scale[b] * 60.0
            kw.update(time_windows=batch.time_windows[b] * seconds, service_time=batch.service_time[b] * seconds)
        problems.append(Problem(
            batch.kind, batch.distance[b] * 1000.0, batch.duration[b] * 60.0, coords=batch.coords[b],
            ids=batch.index[b], objective=objective, name=f"{city_name}-{batch.kind.value}{n}-{first + b}",
            **kw))
    return problems


def sample_instances(city: City | str | Path, kind: ProblemKind | str, n: int, count: int, seed: int = 0,
                     mode: str = "uniform", objective: str = "distance") -> list[Problem]:
    """Sample Problems (metres, seconds) from a city by the RRNCO rules, reproducibly under ``seed``.

    Parameters
    ----------
    city
        A :class:`City`, a city file path, or the name of a bundled city.
    kind
        ``"ATSP"``, ``"ACVRP"`` or ``"ACVRPTW"``.
    n
        Customers per instance (ATSP: nodes per instance).
    count
        Number of instances.
    seed
        Random seed.
    mode
        ``"uniform"`` or ``"cluster"``.
    """
    if not isinstance(city, City):
        city = bundled_city(city) if isinstance(city, str) and not str(city).endswith(".npz") else load_city(city)
    batch = sample_batch(city, kind, n, count, seed=seed, mode=mode)
    return batch_to_problems(batch, city_name=city.name, objective=objective)


# -- bundled data -------------------------------------------------------------------------

def _data_dir() -> Path:
    return Path(__file__).resolve().parents[1] / "data" / "cities"


def bundled_cities() -> list[str]:
    """Names of the small real-city datasets shipped with the package."""
    return sorted(p.name[: -len("_data.npz")] for p in _data_dir().glob("*_data.npz"))


def bundled_city(name: str) -> City:
    """Load a bundled city by name (case-insensitive). Data © OpenStreetMap contributors (ODbL)."""
    for p in _data_dir().glob("*_data.npz"):
        if p.name[: -len("_data.npz")].lower() == name.lower():
            return load_city(p)
    raise ValueError(f"no bundled city {name!r}; bundled: {', '.join(bundled_cities()) or 'none'}")
