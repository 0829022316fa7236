"""OSRM ``table`` service client: full n×n distance/duration matrices fetched in tiles.

Coordinates go in as (lat, lon) degrees — the order used everywhere in hybridroute — and are
sent to OSRM as ``lon,lat``. Matrices come back in metres and seconds, float64.

What a real OSRM table answer needs before it can be trusted (see ``DESIGN.md``):

- ``null`` entries (no route, usually a point on a disconnected piece of the network) are
  never turned into numbers: by default :class:`~hybridroute.osrm.errors.OSRMUnreachableError`
  is raised; ``on_unreachable="drop"`` drops the offending points instead and reports them.
- OSRM silently *snaps* every point to the road network, sometimes far away; the snap
  distances are exposed and points moved more than ``max_snap_m`` can be flagged, dropped
  or refused.
- tiny negative entries (rounding, down to about −0.5 m) are clipped to 0, and the diagonal
  is set to 0.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from .errors import (OSRMConnectionError, OSRMError, OSRMResponseError, OSRMSnapError, OSRMTimeoutError,
                     OSRMUnreachableError)

__all__ = ["OSRMClient", "TableResult", "drop_unreachable"]

logger = logging.getLogger(__name__)

# Entries below this (metres or seconds) are not rounding noise any more: warn when clipping them.
_NEGATIVE_TOLERANCE = 5.0
_CACHE_VERSION = 1


@dataclass
class TableResult:
    """An OSRM table over the kept input points.

    Unpacks as ``distance, duration = client.table(coords)``.

    Attributes
    ----------
    distance
        k×k road distance, metres (rows: sources, columns: destinations), over ``kept``.
    duration
        k×k travel time, seconds.
    kept
        Input indices of the rows/columns, increasing.
    dropped
        Input indices that were dropped (unreachable entries or too far a snap).
    dropped_reason
        ``{input index: "unreachable" | "snap"}``.
    snap_m
        Snap distance of every input point, metres (length n).
    snapped
        n×2 (lat, lon) of the road position OSRM used for every input point.
    flagged
        Input indices whose snap distance exceeds ``max_snap_m`` (kept unless dropped).
    null_fraction
        Fraction of off-diagonal entries that were ``null`` in the raw n×n answer.
    n_negative
        Number of negative entries clipped to 0.
    requests
        HTTP requests made (tiles not found in the cache).
    """

    distance: np.ndarray
    duration: np.ndarray
    kept: np.ndarray
    dropped: np.ndarray
    dropped_reason: dict[int, str]
    snap_m: np.ndarray
    snapped: np.ndarray
    flagged: np.ndarray
    null_fraction: float
    n_negative: int = 0
    requests: int = 0
    tiles: int = 0
    stats: dict[str, Any] = field(default_factory=dict)

    def __iter__(self) -> Iterator[np.ndarray]:
        yield self.distance
        yield self.duration


def drop_unreachable(missing: np.ndarray, protect: Sequence[int] = ()) -> np.ndarray:
    """Indices to drop so the remaining matrix has no missing entry, greedily worst point first.

    Parameters
    ----------
    missing
        n×n boolean, True where an entry is missing (the diagonal is ignored).
    protect
        Indices never to drop (e.g. the depot): their partners in missing pairs go instead.

    Returns
    -------
    numpy.ndarray
        Dropped indices, in the order they were dropped.

    Raises
    ------
    OSRMUnreachableError
        When a missing entry joins two protected points.
    """
    bad = np.array(missing, dtype=bool, copy=True)
    np.fill_diagonal(bad, False)
    protect = np.asarray(protect, dtype=np.int64)
    if len(protect):
        both = bad[np.ix_(protect, protect)]
        if both.any():
            i, j = np.argwhere(both)[0]
            raise OSRMUnreachableError(np.array([[protect[i], protect[j]]]), len(bad))
    counts = bad.sum(axis=0) + bad.sum(axis=1)
    alive = np.ones(len(bad), dtype=bool)
    dropped = []
    while True:
        pick = counts.copy()
        pick[protect] = 0
        if pick.max(initial=0) <= 0:
            break
        k = int(np.argmax(pick))  # ties: the lowest index, so the result is deterministic
        dropped.append(k)
        alive[k] = False
        counts -= bad[k] & alive
        counts -= bad[:, k] & alive
        counts[k] = 0
        bad[k, :] = False
        bad[:, k] = False
    return np.asarray(dropped, dtype=np.int64)


def _as_coords(coords) -> np.ndarray:
    arr = np.asarray(coords, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f"coords must be n×2 (lat, lon), got shape {arr.shape}")
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        raise ValueError(f"coords[{int(np.argmax(bad))}] is not finite: {arr[bad][0].tolist()}")
    lat_bad = np.abs(arr[:, 0]) > 90
    if lat_bad.any():
        i = int(np.argmax(lat_bad))
        raise ValueError(f"coords[{i}] latitude {arr[i, 0]} is outside [-90, 90] (coords are (lat, lon))")
    lon_bad = np.abs(arr[:, 1]) > 180
    if lon_bad.any():
        i = int(np.argmax(lon_bad))
        raise ValueError(f"coords[{i}] longitude {arr[i, 1]} is outside [-180, 180]")
    return arr


def _fmt(x: float) -> str:
    # 6 decimals = 0.11 m: finer than OSRM's own precision, keeps URLs short
    return f"{x:.6f}".rstrip("0").rstrip(".")


class OSRMClient:
    """Client for the OSRM ``table`` service.

    Parameters
    ----------
    base_url
        Server URL, e.g. ``"http://127.0.0.1:5000"``.
    profile
        Profile segment of the URL (``"driving"``; osrm-routed ignores it, hosted servers do not).
    timeout
        Seconds to wait for one tile's answer.
    max_table_size
        The server's ``--max-table-size``: OSRM accepts a request when
        sources × destinations ≤ ``max_table_size**2``, so tiles are at most
        ``max_table_size`` × ``max_table_size``.
    cache_dir
        Folder caching every tile on disk (key: sha256 of server URL, profile and the tile's
        coordinates), so an interrupted build resumes without asking again. None: no cache.
    retries
        Retries per request on connection errors and HTTP 500/502/503/504 (urllib3 ``Retry``).
    backoff_factor
        urllib3 exponential back-off factor between retries, seconds.
    session
        A ``requests.Session`` to use instead of a new one (its adapters are kept).
    """

    def __init__(self, base_url: str, profile: str = "driving", timeout: float = 60.0, max_table_size: int = 100,
                 cache_dir: str | Path | None = None, *, retries: int = 3, backoff_factor: float = 0.3,
                 session: requests.Session | None = None):
        if max_table_size < 1:
            raise ValueError(f"max_table_size must be at least 1, got {max_table_size}")
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        self.base_url = base_url.rstrip("/")
        self.profile = profile
        self.timeout = float(timeout)
        self.max_table_size = int(max_table_size)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        if session is None:
            session = requests.Session()
            retry = Retry(total=retries, connect=retries, read=retries, status=retries,
                          backoff_factor=backoff_factor, status_forcelist=[500, 502, 503, 504],
                          allowed_methods=["GET"], raise_on_status=False)
            adapter = HTTPAdapter(max_retries=retry)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        self.session = session

    def __repr__(self) -> str:
        return f"OSRMClient({self.base_url!r}, profile={self.profile!r}, max_table_size={self.max_table_size})"

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> "OSRMClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- HTTP -----------------------------------------------------------------------------

    def _get(self, url: str, params: dict[str, str]) -> dict:
        try:
            resp = self.session.get(url, params=params, timeout=self.timeout)
        except requests.Timeout as exc:
            raise OSRMTimeoutError(f"OSRM server at {self.base_url} did not answer within {self.timeout:g} s") from exc
        except requests.ConnectionError as exc:
            # with retries, urllib3 wraps a read timeout in MaxRetryError → requests.ConnectionError
            reason = getattr(exc.args[0], "reason", None) if exc.args else None
            if isinstance(reason, ReadTimeoutError):
                raise OSRMTimeoutError(
                    f"OSRM server at {self.base_url} did not answer within {self.timeout:g} s "
                    f"(after retries)") from exc
            raise OSRMConnectionError(
                f"OSRM server at {self.base_url} is not reachable ({type(exc).__name__}); is osrm-routed "
                f"running there? (hybridroute.osrm.LocalOSRM starts one over an OSM extract)") from exc
        except requests.RequestException as exc:
            raise OSRMError(f"request to {self.base_url} failed: {exc}") from exc
        try:
            body = resp.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise OSRMResponseError(f"HTTP{resp.status_code}", resp.text[:300].strip() or resp.reason,
                                    resp.status_code, self.base_url)
        code = body.get("code")
        if resp.status_code != 200 or code != "Ok":
            message = str(body.get("message") or resp.reason or "(the server gave no message)")
            raise OSRMResponseError(str(code or f"HTTP{resp.status_code}"), message, resp.status_code, self.base_url)
        return body

    def _tile_key(self, src: np.ndarray, dst: np.ndarray) -> str:
        payload = json.dumps([_CACHE_VERSION, self.base_url, self.profile, np.round(src, 6).tolist(),
                              np.round(dst, 6).tolist()])
        return hashlib.sha256(payload.encode()).hexdigest()

    def _fetch_tile(self, src: np.ndarray, dst: np.ndarray, same: bool) -> tuple[dict[str, np.ndarray], bool]:
        """One table request for sources ``src`` × destinations ``dst`` ((lat, lon) arrays).

        Returns the arrays and whether an HTTP request was made (False: served from cache).
        """
        path = None
        if self.cache_dir is not None:
            path = self.cache_dir / f"{self._tile_key(src, dst)}.npz"
            if path.is_file():
                try:
                    with np.load(path) as z:
                        return {k: z[k] for k in z.files}, False
                except (OSError, ValueError, EOFError):
                    logger.warning("ignoring unreadable cache tile %s", path)
        pts = src if same else np.vstack([src, dst])
        coord_str = ";".join(f"{_fmt(lon)},{_fmt(lat)}" for lat, lon in pts)
        params = {"annotations": "distance,duration", "generate_hints": "false"}
        if not same:
            s = len(src)
            params["sources"] = ";".join(map(str, range(s)))
            params["destinations"] = ";".join(map(str, range(s, s + len(dst))))
        body = self._get(f"{self.base_url}/table/v1/{self.profile}/{coord_str}", params)
        tile = {
            "distance": _matrix(body, "distances", len(src), len(dst)),
            "duration": _matrix(body, "durations", len(src), len(dst)),
            "src_snap": _waypoints(body, "sources", len(src))[0],
            "src_loc": _waypoints(body, "sources", len(src))[1],
            "dst_snap": _waypoints(body, "destinations", len(dst))[0],
            "dst_loc": _waypoints(body, "destinations", len(dst))[1],
        }
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npz")
            np.savez(tmp, **tile)
            tmp.replace(path)  # atomic: an interrupted write never leaves a corrupt tile
        return tile, True

    # -- snapping -------------------------------------------------------------------------

    def snap(self, coords) -> tuple[np.ndarray, np.ndarray]:
        """Where OSRM puts each point on the road network, without computing a full matrix.

        One table request per ``max_table_size**2`` points with every point a source and the
        first point the only destination: OSRM reports each source's snap, and the cost
        grows linearly, not quadratically.

        Returns
        -------
        snap_m
            (n,) snap distance, metres.
        snapped
            (n, 2) snapped (lat, lon).
        """
        pts = _as_coords(coords)
        if len(pts) == 0:
            raise ValueError("coords is empty")
        snap = np.full(len(pts), np.nan)
        loc = np.full((len(pts), 2), np.nan)
        chunk = self.max_table_size ** 2
        for i in range(0, len(pts), chunk):
            block = slice(i, min(i + chunk, len(pts)))
            tile, _ = self._fetch_tile(pts[block], pts[:1], same=False)
            snap[block], loc[block] = tile["src_snap"], tile["src_loc"]
        return snap, loc

    # -- table ----------------------------------------------------------------------------

    def raw_table(self, coords, *, progress: bool = False) -> TableResult:
        """The full n×n table with ``NaN`` where OSRM answered ``null`` (nothing dropped)."""
        pts = _as_coords(coords)
        n = len(pts)
        if n == 0:
            raise ValueError("coords is empty")
        dist = np.empty((n, n))
        dur = np.empty((n, n))
        snap = np.full(n, np.nan)
        loc = np.full((n, 2), np.nan)
        b = self.max_table_size
        blocks = [np.arange(i, min(i + b, n)) for i in range(0, n, b)]
        tiles = [(bi, bj) for bi in blocks for bj in blocks]
        made = 0
        bar = None
        if progress and len(tiles) > 1:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(tiles), desc="OSRM table tiles", unit="tile")
        try:
            for bi, bj in tiles:
                same = bi[0] == bj[0]
                tile, fetched = self._fetch_tile(pts[bi], pts[bj], same)
                made += fetched
                dist[np.ix_(bi, bj)] = tile["distance"]
                dur[np.ix_(bi, bj)] = tile["duration"]
                snap[bi], loc[bi] = tile["src_snap"], tile["src_loc"]
                snap[bj], loc[bj] = tile["dst_snap"], tile["dst_loc"]
                if bar is not None:
                    bar.update()
        finally:
            if bar is not None:
                bar.close()
        logger.debug("OSRM table %d×%d: %d tiles, %d requests (%d from cache)", n, n, len(tiles), made,
                     len(tiles) - made)
        missing = np.isnan(dist) | np.isnan(dur)
        np.fill_diagonal(missing, False)
        null_fraction = float(missing.sum() / max(n * (n - 1), 1))
        n_neg = _clip_negative(dist, "distance") + _clip_negative(dur, "duration")
        np.fill_diagonal(dist, 0.0)
        np.fill_diagonal(dur, 0.0)
        return TableResult(distance=dist, duration=dur, kept=np.arange(n), dropped=np.empty(0, np.int64),
                           dropped_reason={}, snap_m=snap, snapped=loc, flagged=np.empty(0, np.int64),
                           null_fraction=null_fraction, n_negative=n_neg, requests=made, tiles=len(tiles))

    def table(self, coords, *, on_unreachable: str = "raise", max_snap_m: float | None = None,
              on_snap: str = "flag", protect: Sequence[int] = (), progress: bool = False) -> TableResult:
        """Distance (metres) and duration (seconds) matrices between all ``coords``.

        Parameters
        ----------
        coords
            n×2 (lat, lon) degrees, any n (fetched in tiles of ``max_table_size``²).
        on_unreachable
            ``"raise"`` (default): raise :class:`OSRMUnreachableError` listing pairs with no
            route. ``"drop"``: drop points greedily (the point with the most missing entries
            first) until the matrix is complete; see ``result.kept`` / ``result.dropped``.
        max_snap_m
            Snap distance limit in metres (None: no check). OSRM moves every point to the
            nearest road it can route on, sometimes hundreds of metres away.
        on_snap
            What to do with points snapped farther than ``max_snap_m``: ``"flag"`` (keep them,
            list them in ``result.flagged``, log a warning), ``"drop"`` or ``"raise"``
            (:class:`OSRMSnapError`).
        protect
            Input indices never dropped (e.g. the depot); their unreachable partners go instead.
        progress
            Show a tqdm bar over the tiles.

        Returns
        -------
        TableResult
            Unpacks as ``(distance, duration)``; carries kept/dropped indices and snap data.
        """
        if on_unreachable not in ("raise", "drop"):
            raise ValueError(f"on_unreachable must be 'raise' or 'drop', got {on_unreachable!r}")
        if on_snap not in ("flag", "drop", "raise"):
            raise ValueError(f"on_snap must be 'flag', 'drop' or 'raise', got {on_snap!r}")
        res = self.raw_table(coords, progress=progress)
        n = len(res.snap_m)
        alive = np.ones(n, dtype=bool)
        reason: dict[int, str] = {}
        if max_snap_m is not None:
            far = np.flatnonzero(res.snap_m > max_snap_m)
            res.flagged = far
            if len(far) and on_snap == "raise":
                raise OSRMSnapError(far, res.snap_m[far], max_snap_m)
            if len(far) and on_snap == "drop" and np.isin(far, protect).any():
                i = int(far[np.isin(far, protect)][0])
                raise OSRMSnapError(np.array([i]), res.snap_m[[i]], max_snap_m)
            if len(far) and on_snap == "drop":
                alive[far] = False
                reason.update({int(i): "snap" for i in far})
                logger.info("dropped %d of %d points snapped farther than %g m", len(far), n, max_snap_m)
            elif len(far):
                logger.warning("%d of %d points snapped farther than %g m (max %.0f m): flagged",
                               len(far), n, max_snap_m, res.snap_m[far].max())
        missing = np.isnan(res.distance) | np.isnan(res.duration)
        missing[~alive] = False
        missing[:, ~alive] = False
        if missing.any():
            if on_unreachable == "raise":
                raise OSRMUnreachableError(np.argwhere(missing), n)
            gone = drop_unreachable(missing, protect)
            alive[gone] = False
            reason.update({int(i): "unreachable" for i in gone})
            logger.info("dropped %d of %d points with unreachable entries (%.1f%% of entries were null)",
                        len(gone), n, 100 * res.null_fraction)
        keep = np.flatnonzero(alive)
        res.kept = keep
        res.dropped = np.asarray(sorted(reason), dtype=np.int64)
        res.dropped_reason = reason
        res.distance = res.distance[np.ix_(keep, keep)]
        res.duration = res.duration[np.ix_(keep, keep)]
        return res


def _matrix(body: dict, key: str, rows: int, cols: int) -> np.ndarray:
    raw = body.get(key)
    if raw is None:
        raise OSRMResponseError("InvalidResponse", f"the answer has no {key!r} (annotations not honoured?)")
    # None → NaN: a null is never silently a number; callers decide (raise or drop)
    arr = np.array(raw, dtype=np.float64)  # numpy turns None into NaN for a float dtype
    if arr.shape != (rows, cols):
        raise OSRMResponseError("InvalidResponse", f"{key} has shape {arr.shape}, expected ({rows}, {cols})")
    return arr


def _waypoints(body: dict, key: str, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Snap distances (metres) and snapped (lat, lon) of the sources or destinations."""
    wps = body.get(key) or []
    snap = np.full(count, np.nan)
    loc = np.full((count, 2), np.nan)
    for i, wp in enumerate(wps[:count]):
        if wp is None:
            continue
        snap[i] = wp.get("distance", np.nan)
        if "location" in wp:
            loc[i] = (wp["location"][1], wp["location"][0])
    return snap, loc


def _clip_negative(arr: np.ndarray, what: str) -> int:
    neg = arr < 0
    count = int(neg.sum())
    if count:
        worst = float(arr[neg].min())
        log = logger.warning if worst < -_NEGATIVE_TOLERANCE else logger.debug
        log("clipped %d negative %s entries to 0 (most negative %.2f)", count, what, worst)
        arr[neg] = 0.0
    return count
