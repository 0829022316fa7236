"""Build an RRNCO-format city (points + OSRM distance/duration matrices) from an OSM extract.

Recipe (that of the RRNCO paper's city data, arXiv 2503.16159): points are sampled
uniformly *along* the drivable network — proportional to road length — inside a ``box_km`` × ``box_km`` square
around the densest part of the network, excluding motorways (and their links), bridges,
tunnels and roads within 50 m of water; the full matrix is queried from a local
``osrm-routed``; points that OSRM had to move more than a few metres, or that have
unreachable entries, are dropped and replaced by new samples until ``n_points`` remain or
the network cannot give more.

Command line::

    python -m hybridroute.osrm.build monaco.osm.pbf -o Monaco_data.npz --points 1000

Road data © OpenStreetMap contributors (ODbL); the attribution is written into every file.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import logging
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .cities import City, save_city
from .errors import OSMExtractError

__all__ = ["ATTRIBUTION", "CAR_HIGHWAYS", "RoadNetwork", "read_road_network", "sample_along", "build_city",
           "matrix_stats", "build_city_main"]

logger = logging.getLogger(__name__)

ATTRIBUTION = "© OpenStreetMap contributors (ODbL)"
EARTH_RADIUS_M = 6_371_008.8

# Highway types a car drives on, without motorways and their links (RRNCO excludes them).
# "service" is left out: parking aisles and driveways are mostly private or snap badly.
CAR_HIGHWAYS = frozenset({
    "trunk", "trunk_link", "primary", "primary_link", "secondary", "secondary_link", "tertiary",
    "tertiary_link", "unclassified", "residential", "living_street", "road",
})
_NO_ACCESS = frozenset({"no", "private", "agricultural", "forestry", "delivery", "destination_no"})
_WATER_NATURAL = frozenset({"water", "coastline", "bay", "strait"})
_WATER_WATERWAY = frozenset({"river", "riverbank", "canal", "dock"})
_WATER_LANDUSE = frozenset({"reservoir", "basin"})


@dataclass(frozen=True)
class RoadNetwork:
    """Drivable road segments and water geometry of an extract, in degrees.

    Attributes
    ----------
    seg_a, seg_b
        (s, 2) (lat, lon) of each segment's ends.
    water
        (w, 2) (lat, lon) points densified along water outlines/lines (≤ 10 m apart).
    ways
        Number of road ways kept.
    """

    seg_a: np.ndarray
    seg_b: np.ndarray
    water: np.ndarray
    ways: int


def _is_water(tags) -> bool:
    return (tags.get("natural") in _WATER_NATURAL or tags.get("waterway") in _WATER_WATERWAY
            or tags.get("landuse") in _WATER_LANDUSE)


def _is_car_road(tags, highways: frozenset[str]) -> bool:
    if tags.get("highway") not in highways or tags.get("area") == "yes":
        return False
    if tags.get("bridge", "no") != "no" or tags.get("tunnel", "no") != "no":
        return False
    if tags.get("layer", "0").lstrip("-").isdigit() and int(tags.get("layer", "0")) < 0:
        return False  # underground roads without a tunnel tag
    for key in ("access", "motor_vehicle", "motorcar", "vehicle"):
        if tags.get(key) in _NO_ACCESS:
            return False
    return True


def _water_relation_ways(path: Path) -> set[int]:
    """Ids of the ways that make up water multipolygons (their own tags are often empty)."""
    import osmium

    ids: set[int] = set()
    for rel in osmium.FileProcessor(str(path), osmium.osm.RELATION):
        if _is_water(rel.tags):
            ids.update(m.ref for m in rel.members if m.type == "w")
    return ids


def read_road_network(path: str | Path, *, highways: frozenset[str] = CAR_HIGHWAYS, water: bool = True) -> RoadNetwork:
    """Parse an extract (``.osm``, ``.osm.gz``, ``.osm.bz2``, ``.osm.pbf``) with pyosmium.

    Parameters
    ----------
    path
        OSM extract.
    highways
        ``highway=*`` values to keep.
    water
        Also collect water outlines (for the 50 m exclusion).

    Raises
    ------
    FileNotFoundError
        The extract does not exist.
    OSMExtractError
        The file is corrupt, truncated or not OSM data (the message names it).
    ValueError
        The extract holds no drivable road.
    """
    try:
        import osmium  # noqa: F401  (checked here: the reader below needs it)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("building cities needs pyosmium: pip install 'hybridroute[osrm]' (or pip install osmium)") from exc
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"OSM extract {path} does not exist")
    try:
        return _read_road_network(path, highways, water)
    except RuntimeError as exc:  # libosmium's io/pbf/xml/gzip errors, which do not name the file
        raise OSMExtractError(path, str(exc)) from exc


def _read_road_network(path: Path, highways: frozenset[str], water: bool) -> RoadNetwork:
    import osmium

    water_members = _water_relation_ways(path) if water else set()
    keys = ("highway", "natural", "waterway", "landuse") if water else ("highway",)
    fp = (osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY).with_locations()
          .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY)))
    if not water_members:
        # without water relations only tagged ways matter: let libosmium skip the rest
        fp = fp.with_filter(osmium.filter.KeyFilter(*keys))
    a: list[tuple[float, float]] = []
    b: list[tuple[float, float]] = []
    water_lines: list[np.ndarray] = []
    ways = 0
    for w in fp:
        road = _is_car_road(w.tags, highways)
        is_water = water and (_is_water(w.tags) or w.id in water_members)
        if not (road or is_water):
            continue
        pts = [(nd.lat, nd.lon) for nd in w.nodes if nd.location.valid()]
        if len(pts) < 2:
            continue
        if road:
            ways += 1
            a.extend(pts[:-1])
            b.extend(pts[1:])
        if is_water:
            water_lines.append(np.asarray(pts))
    if not a:
        raise ValueError(f"{path}: no drivable roads of types {sorted(highways)} found")
    dense = [_densify(line, 10.0) for line in water_lines]
    water_pts = np.vstack(dense) if dense else np.empty((0, 2))
    logger.info("%s: %d road ways, %d segments, %d water features", path.name, ways, len(a), len(water_lines))
    return RoadNetwork(np.asarray(a), np.asarray(b), water_pts, ways)


def _to_xy(latlon: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    """Equirectangular projection to metres around (lat0, lon0): exact enough within a city."""
    lat = np.deg2rad(latlon[..., 0])
    lon = np.deg2rad(latlon[..., 1])
    x = (lon - math.radians(lon0)) * math.cos(math.radians(lat0)) * EARTH_RADIUS_M
    y = (lat - math.radians(lat0)) * EARTH_RADIUS_M
    return np.stack([x, y], axis=-1)


def _densify(line: np.ndarray, step_m: float) -> np.ndarray:
    xy = _to_xy(line, line[0, 0], line[0, 1])
    seg = np.linalg.norm(np.diff(xy, axis=0), axis=1)
    out = [line[:1]]
    for i, length in enumerate(seg):
        k = max(int(math.ceil(length / step_m)), 1)
        t = np.arange(1, k + 1)[:, None] / k
        out.append(line[i] + t * (line[i + 1] - line[i]))
    return np.vstack(out)


def _densest_box(mid_xy: np.ndarray, length: np.ndarray, box_m: float, cell_m: float = 100.0):
    """(x0, y0) lower-left corner of the box_m square holding the most road length."""
    lo = mid_xy.min(axis=0)
    span = mid_xy.max(axis=0) - lo
    if (span <= box_m).all():
        centre = lo + span / 2
        return centre - box_m / 2
    ij = np.floor((mid_xy - lo) / cell_m).astype(int)
    shape = ij.max(axis=0) + 1
    grid = np.zeros(shape)
    np.add.at(grid, (ij[:, 0], ij[:, 1]), length)
    w = int(round(box_m / cell_m))
    cs = np.pad(grid.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    wx, wy = min(w, shape[0]), min(w, shape[1])
    window = cs[wx:, wy:] - cs[:-wx, wy:] - cs[wx:, :-wy] + cs[:-wx, :-wy]
    i, j = np.unravel_index(int(np.argmax(window)), window.shape)
    return lo + np.array([i, j]) * cell_m - (np.array([w - wx, w - wy]) * cell_m) / 2


class _Sampler:
    """Draws points uniformly along the road segments inside the chosen box."""

    def __init__(self, net: RoadNetwork, box_km: float | None, water_m: float):
        mid = (net.seg_a + net.seg_b) / 2
        self.lat0, self.lon0 = float(np.median(mid[:, 0])), float(np.median(mid[:, 1]))
        a_xy = _to_xy(net.seg_a, self.lat0, self.lon0)
        b_xy = _to_xy(net.seg_b, self.lat0, self.lon0)
        length = np.linalg.norm(b_xy - a_xy, axis=1)
        mid_xy = (a_xy + b_xy) / 2
        keep = length > 0
        self.box = None
        if box_km is not None:
            box_m = box_km * 1000.0
            x0, y0 = _densest_box(mid_xy[keep], length[keep], box_m)
            self.box = (x0, y0, box_m)
            # segments touching the box; sample() rejects the points of their parts outside it
            keep &= self._in_box(a_xy) | self._in_box(b_xy) | self._in_box(mid_xy)
        self.a, self.b = net.seg_a[keep], net.seg_b[keep]
        self.length = length[keep]
        self.network_km = float(self.length.sum() / 1000.0)
        self.water_m = water_m
        self.water_xy = _to_xy(net.water, self.lat0, self.lon0) if len(net.water) else np.empty((0, 2))
        self._water_grid = self._grid(self.water_xy, water_m) if len(self.water_xy) and water_m > 0 else None
        if not len(self.length):
            raise ValueError("no drivable road inside the sampling box")

    def _in_box(self, xy: np.ndarray) -> np.ndarray:
        if self.box is None:
            return np.ones(len(xy), dtype=bool)
        x0, y0, side = self.box
        return (xy[:, 0] >= x0) & (xy[:, 0] <= x0 + side) & (xy[:, 1] >= y0) & (xy[:, 1] <= y0 + side)

    @staticmethod
    def _grid(xy: np.ndarray, cell: float) -> dict[tuple[int, int], np.ndarray]:
        keys = np.floor(xy / cell).astype(np.int64)
        grid: dict[tuple[int, int], list[int]] = {}
        for idx, (i, j) in enumerate(map(tuple, keys)):
            grid.setdefault((i, j), []).append(idx)
        return {k: xy[v] for k, v in grid.items()}

    def near_water(self, latlon: np.ndarray) -> np.ndarray:
        if self._water_grid is None:
            return np.zeros(len(latlon), dtype=bool)
        xy = _to_xy(latlon, self.lat0, self.lon0)
        cell = self.water_m
        out = np.zeros(len(xy), dtype=bool)
        for k, p in enumerate(xy):
            ci, cj = np.floor(p / cell).astype(int)
            for di in (-1, 0, 1):
                for dj in (-1, 0, 1):
                    pts = self._water_grid.get((ci + di, cj + dj))
                    if pts is not None and (((pts - p) ** 2).sum(1) < cell * cell).any():
                        out[k] = True
                        break
                if out[k]:
                    break
        return out

    def sample(self, count: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
        """``count`` points (lat, lon) along the network, none near water; returns (points, rejected)."""
        out, rejected = [], 0
        p = self.length / self.length.sum()
        while sum(len(o) for o in out) < count:
            k = count - sum(len(o) for o in out)
            draw = max(2 * k, 16)
            seg = rng.choice(len(p), size=draw, p=p)
            t = rng.random(draw)[:, None]
            pts = self.a[seg] + t * (self.b[seg] - self.a[seg])
            pts = pts[self._in_box(_to_xy(pts, self.lat0, self.lon0))]
            bad = self.near_water(pts)
            rejected += int(bad.sum())
            if not (~bad).any() and rejected > 100 * count:
                raise ValueError("every sampled road point lies within the water margin")
            out.append(pts[~bad][:k])
        return np.vstack(out)[:count], rejected


def sample_along(osm_file: str | Path, count: int, seed: int = 0, *, box_km: float | None = 3.0,
                 water_m: float = 50.0) -> np.ndarray:
    """``count`` (lat, lon) points uniformly along the drivable network of an extract."""
    sampler = _Sampler(read_road_network(osm_file, water=water_m > 0), box_km, water_m)
    return sampler.sample(count, np.random.default_rng(seed))[0]


def matrix_stats(distance: np.ndarray, duration: np.ndarray, *, triples: int = 200_000,
                 seed: int = 0) -> dict[str, float]:
    """Asymmetry and triangle-inequality statistics of a complete matrix (any unit).

    ``asymmetry`` is Σ|D − Dᵀ| / ΣD over off-diagonal pairs; ``triangle_violations`` the
    fraction of sampled triples (i, j, k) with D[i, k] > D[i, j] + D[j, k] (beyond 1e-6
    relative); ``zero_durations`` the off-diagonal zero durations; ``mean_distance`` and
    ``mean_duration`` the off-diagonal means in the matrices' own units.
    """
    n = len(distance)
    off = ~np.eye(n, dtype=bool)
    d = distance[off]
    asym = float(np.abs(distance - distance.T)[off].sum() / max(d.sum(), 1e-12))
    rng = np.random.default_rng(seed)
    ijk = rng.integers(0, n, (triples, 3))
    ijk = ijk[(ijk[:, 0] != ijk[:, 1]) & (ijk[:, 1] != ijk[:, 2]) & (ijk[:, 0] != ijk[:, 2])]
    i, j, k = ijk.T
    direct, via = distance[i, k], distance[i, j] + distance[j, k]
    viol = float(np.mean(direct > via * (1 + 1e-6) + 1e-9)) if len(ijk) else 0.0
    return {"asymmetry": round(asym, 5), "triangle_violations": round(viol, 5),
            "triangle_triples": int(len(ijk)), "zero_durations": int((duration[off] == 0).sum()),
            "mean_distance": round(float(d.mean()), 4), "mean_duration": round(float(duration[off].mean()), 4)}


def _default_name(osm_file: Path) -> str:
    stem = osm_file.name.split(".")[0]
    return "-".join(part[:1].upper() + part[1:] for part in stem.split("-"))


def build_city(osm_file: str | Path, n_points: int = 1000, seed: int = 0, *, name: str | None = None,
               out: str | Path | None = None, box_km: float | None = 3.0, osrm=None, max_snap_m: float = 5.0,
               water_m: float = 50.0, max_rounds: int = 6, progress: bool = False,
               work_dir: str | Path | None = None) -> City:
    """Sample road points from an OSM extract and query their full OSRM matrices.

    Parameters
    ----------
    osm_file
        OSM extract (``.osm``, ``.osm.gz``, ``.osm.bz2`` or ``.osm.pbf``).
    n_points
        Points wanted. Fewer are returned (with a warning and ``meta["short"]``) when the
        network cannot give that many valid points in ``max_rounds`` rounds.
    seed
        Sampling seed: the same extract, seed and OSRM version give the same city.
    name
        City name (default: the extract's stem, capitalised).
    out
        Where to write ``{name}_data.npz`` (a file path, or a folder). A ``{name}_stats.json``
        is written next to it. None: nothing is written.
    box_km
        Side of the sampling square around the densest part of the network, km (None: all).
    osrm
        A running :class:`~hybridroute.osrm.server.LocalOSRM` or an
        :class:`~hybridroute.osrm.client.OSRMClient` over the same extract; None starts a
        LocalOSRM for the duration of the build.
    max_snap_m
        Points that OSRM moved farther than this (metres) are dropped.
    water_m
        Points within this distance of water are not sampled (0 disables the check).
    max_rounds
        Sampling/query rounds to top up dropped points.
    progress
        Show tqdm progress bars.
    work_dir
        Cache folder for the OSRM preprocessing when a LocalOSRM is started here.

    Returns
    -------
    City
        Distances in km, durations in minutes; ``meta`` holds the build statistics.
    """
    from .client import OSRMClient
    from .server import LocalOSRM, file_sha256, osrm_version

    if n_points < 2:
        raise ValueError(f"n_points must be at least 2, got {n_points}")
    t_start = time.perf_counter()
    osm_file = Path(osm_file)
    name = name or _default_name(osm_file)
    rng = np.random.default_rng(seed)
    net = read_road_network(osm_file, water=water_m > 0)
    sampler = _Sampler(net, box_km, water_m)
    logger.info("%s: %.1f km of drivable road in the sampling area", name, sampler.network_km)

    own_server = None
    if osrm is None:
        own_server = osrm = LocalOSRM(osm_file, max_table_size=max(1000, n_points), work_dir=work_dir).start()
    client = osrm if isinstance(osrm, OSRMClient) else osrm.client(timeout=600.0)
    try:
        points, stats = _sample_and_query(sampler, client, n_points, rng, max_snap_m, max_rounds, progress)
    finally:
        if own_server is not None:
            own_server.stop()
    pts, dist_m, dur_s = points
    version = osrm_version() if own_server is not None or not isinstance(osrm, OSRMClient) else None
    meta: dict[str, Any] = {
        "n_points": int(len(pts)), "n_requested": int(n_points), "short": bool(len(pts) < n_points),
        **stats, **matrix_stats(dist_m / 1000.0, dur_s / 60.0, seed=seed),
        "network_km": round(sampler.network_km, 3), "box_km": box_km,
        "center": [sampler.lat0, sampler.lon0], "seed": seed, "max_snap_m": max_snap_m, "water_m": water_m,
        "source": osm_file.name, "source_sha256": file_sha256(osm_file), "osrm": version, "profile": "car",
        "algorithm": "mld", "units": {"distance": "km", "duration": "minutes"},
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "attribution": ATTRIBUTION,
    }
    meta["build_seconds"] = round(time.perf_counter() - t_start, 2)
    city = City(name=name, points=pts, distance=dist_m / 1000.0, duration=dur_s / 60.0, meta=meta)
    if len(pts) < n_points:
        logger.warning("%s: only %d of %d points could be kept", name, len(pts), n_points)
    logger.info("%s: %d points in %.1f s (dropped %d snap, %d unreachable; null fraction %.3f; asymmetry "
                "%.3f; triangle violations %.4f)", name, len(pts), meta["build_seconds"], stats["dropped_snap"],
                stats["dropped_unreachable"], stats["null_fraction"], meta["asymmetry"], meta["triangle_violations"])
    if out is not None:
        write_city(city, out)
    return city


def write_city(city: City, out: str | Path) -> Path:
    """Write ``{name}_data.npz`` (float32) and ``{name}_stats.json``; ``out`` is a file or folder."""
    out = Path(out)
    if out.is_dir() or not out.suffix:
        out.mkdir(parents=True, exist_ok=True)
        out = out / f"{city.name}_data.npz"
    out.parent.mkdir(parents=True, exist_ok=True)
    # write then rename, so a reader never sees half a file (cities are read while others build)
    tmp = out.with_name(f".{out.name[:-4]}.tmp.npz")
    save_city(city, tmp)
    tmp.replace(out)
    stats_path = out.with_name(out.name.replace("_data.npz", "") + "_stats.json") if out.name.endswith(
        "_data.npz") else out.with_suffix(".stats.json")
    tmp_json = stats_path.with_name("." + stats_path.name)
    tmp_json.write_text(json.dumps({"name": city.name, **city.meta}, indent=1, ensure_ascii=False) + "\n",
                        encoding="utf-8")
    tmp_json.replace(stats_path)
    logger.info("wrote %s and %s", out, stats_path.name)
    return out


def _snapped_candidates(sampler: _Sampler, client, count: int, rng: np.random.Generator, max_snap_m: float,
                        stats: dict, snap_rate: float) -> tuple[np.ndarray, float]:
    """``count`` sampled points that OSRM places within ``max_snap_m`` of where they were drawn.

    The snap check costs one n×1 table request, so far-snapped points (roads on pieces cut off
    from the routable network) never enter the quadratic full-matrix query.
    """
    out = []
    for _ in range(50):
        missing = count - sum(len(o) for o in out)
        if missing <= 0:
            break
        draw = int(math.ceil(missing / max(snap_rate, 0.05))) + 2
        pts, rejected = sampler.sample(draw, rng)
        stats["candidates"] += draw
        stats["rejected_water"] += rejected
        t0 = time.perf_counter()
        snap_m, _ = client.snap(pts)
        stats["table_seconds"] += time.perf_counter() - t0
        ok = snap_m <= max_snap_m
        stats["dropped_snap"] += int((~ok).sum())
        snap_rate = max(float(ok.mean()), 0.01)
        out.append(pts[ok])
    pts = np.vstack(out)
    return pts[:count], snap_rate


def _sample_and_query(sampler: _Sampler, client, n_points: int, rng: np.random.Generator, max_snap_m: float,
                      max_rounds: int, progress: bool):
    """Sample, query, drop bad points, top up; return ((points, D m, T s), stats)."""
    good = np.empty((0, 2))
    reach_rate, snap_rate = 0.9, 0.9  # first guesses, re-estimated from each round
    stats = {"candidates": 0, "rejected_water": 0, "dropped_snap": 0, "dropped_unreachable": 0,
             "null_fraction": None, "rounds": 0, "negative_clipped": 0, "table_seconds": 0.0}
    result = None
    for round_ in range(max_rounds):
        need = n_points - len(good)
        want = int(math.ceil(need / max(reach_rate, 0.2) * 1.03)) + 3
        new, snap_rate = _snapped_candidates(sampler, client, want, rng, max_snap_m, stats, snap_rate)
        pool = np.vstack([good, new])
        t0 = time.perf_counter()
        # the snap check runs again here: its result is already known, so it drops nothing new
        result = client.table(pool, on_unreachable="drop", max_snap_m=max_snap_m, on_snap="drop",
                              progress=progress)
        stats["table_seconds"] += time.perf_counter() - t0
        stats["rounds"] = round_ + 1
        stats["negative_clipped"] += result.n_negative
        if stats["null_fraction"] is None:
            stats["null_fraction"] = round(result.null_fraction, 5)
        new_idx = np.arange(len(good), len(pool))
        reasons = [result.dropped_reason.get(int(i)) for i in new_idx]
        stats["dropped_snap"] += reasons.count("snap")
        stats["dropped_unreachable"] += reasons.count("unreachable")
        kept_new = int(np.isin(new_idx, result.kept).sum())
        reach_rate = max(kept_new / max(len(new), 1), 0.05)
        logger.info("round %d: %d points queried, kept %d of %d new (%.0f%%): %d valid", round_ + 1, len(pool),
                    kept_new, len(new), 100 * reach_rate, len(result.kept))
        good = pool[result.kept]
        if len(good) >= n_points:
            break
    k = min(n_points, len(good))
    # the pool keeps sampling order, so the first k valid points are a uniform sample
    dist, dur = result.distance[:k, :k], result.duration[:k, :k]
    stats["table_seconds"] = round(stats["table_seconds"], 2)
    return (good[:k], dist, dur), stats


def build_city_main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry: ``python -m hybridroute.osrm.build EXTRACT -o City_data.npz --points 1000``."""
    p = argparse.ArgumentParser(prog="python -m hybridroute.osrm.build", description=build_city.__doc__.split("\n")[0])
    p.add_argument("extract", help="OSM extract (.osm, .osm.gz, .osm.bz2, .osm.pbf)")
    p.add_argument("-o", "--out", default=".", help="output file {Name}_data.npz or folder (default: .)")
    p.add_argument("-n", "--points", type=int, default=1000, help="points to sample (default 1000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--name", help="city name (default: from the extract's file name)")
    p.add_argument("--box-km", type=float, default=3.0, help="sampling square side, km; 0 = whole extract")
    p.add_argument("--max-snap-m", type=float, default=5.0, help="drop points OSRM moved farther (m)")
    p.add_argument("--water-m", type=float, default=50.0, help="no points this close to water (m); 0 = off")
    p.add_argument("--work-dir", help="cache folder for preprocessed OSRM data")
    p.add_argument("-q", "--quiet", action="store_true")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    out = Path(args.out)
    build_city(args.extract, args.points, args.seed, name=args.name, out=out,
               box_km=args.box_km or None, max_snap_m=args.max_snap_m, water_m=args.water_m,
               progress=not args.quiet, work_dir=args.work_dir)
    return 0


main = build_city_main  # the entry point ``hybridroute build-city`` delegates to


if __name__ == "__main__":  # pragma: no cover
    sys.exit(build_city_main())
