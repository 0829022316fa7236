"""OSRM ``table`` service client: full n×n distance/duration matrices fetched in tiles.

Coordinates go in as (lat, lon) degrees — the order used everywhere in hybridroute — and are
sent to OSRM as ``lon,lat``. Matrices come back in metres and seconds, float64.

What a real OSRM table answer needs before it can be trusted:

- ``null`` entries (no route, usually a point on a disconnected piece of the network) are
  never turned into numbers: by default :class:`~hybridroute.osrm.errors.OSRMUnreachableError`
  is raised; ``on_unreachable="drop"`` drops the offending points instead and reports them.
- OSRM silently *snaps* every point to the road network, sometimes far away; the snap
  distances are exposed, and by default a point moved more than
  :data:`DEFAULT_MAX_SNAP_M` (1 km) is refused with
  :class:`~hybridroute.osrm.errors.OSRMSnapError` naming it and its snap distance
  (``max_snap_m`` / ``on_snap`` flag, drop, or change the limit).
- every entry must be a finite number: an empty or non-JSON body, a ragged or non-numeric
  matrix, JSON ``Infinity``/``NaN``, a negative entry beyond rounding noise or a malformed
  waypoint is an :class:`~hybridroute.osrm.errors.OSRMInvalidTableError` naming the matrix,
  the source and destination input indices and the server URL.
- rounding noise (OSRM answers down to about −0.5 m or s between near-identical points) is
  clipped to 0, and the diagonal is set to 0.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np
import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from .errors import (OSRMConnectionError, OSRMError, OSRMInvalidTableError, OSRMResponseError, OSRMSnapError,
                     OSRMTimeoutError, OSRMUnreachableError)

__all__ = ["OSRMClient", "TableResult", "drop_unreachable", "DEFAULT_MAX_SNAP_M"]

logger = logging.getLogger(__name__)

#: Default snapping limit of :meth:`OSRMClient.table`, metres. A stop given by a real address
#: lies within tens of metres of a road, and OSRM moves a point on a piece of road cut off
#: from the routable network up to about 1 km; a point farther away is almost always a wrong
#: coordinate (swapped lat/lon, a sign lost, a place outside the extract), and OSRM would
#: silently route it from wherever it snapped (a point 170 km off the map gets 0 m to a stop).
DEFAULT_MAX_SNAP_M = 1000.0
# OSRM answers small negative entries between points snapped onto the same road segment
# (phantom-node offsets: -0.1 to -0.5 m on the bundled cities, -1.5 m on Andorra); noise up to
# this size is clipped to 0, anything more negative is refused as a bad answer.
_ROUNDING_TOLERANCE = 10.0
# 2: tiles are validated before they are cached; tiles cached by version 1 were not.
_CACHE_VERSION = 2
_JSON_NUMBER_TYPES = (int, float)


class _JsonConstant(str):
    """A JSON ``NaN``/``Infinity``/``-Infinity`` literal, kept apart from ``null`` and numbers."""

    def __repr__(self) -> str:
        return str(self)


def _span(idx: np.ndarray) -> str:
    return f"{int(idx[0])}" if len(idx) == 1 else f"{int(idx[0])}..{int(idx[-1])}"


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
        Number of negative entries clipped to 0 (rounding noise, within 1 m or 1 s of 0; more
        negative entries are refused).
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

    def _get(self, url: str, params: dict[str, str], what: str = "") -> dict:
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
            body = resp.json(parse_constant=_JsonConstant)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            text = resp.text.strip()
            if resp.status_code == 200:
                got = (f"a body that is not a JSON object ({text[:100]!r})" if text else "an empty body")
                raise OSRMInvalidTableError(f"the server answered HTTP 200 with {got}{what}", self.base_url)
            raise OSRMResponseError(f"HTTP{resp.status_code}", text[:300] or resp.reason,
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

    def _fetch_tile(self, src: np.ndarray, dst: np.ndarray, same: bool, src_idx: np.ndarray,
                    dst_idx: np.ndarray) -> tuple[dict[str, np.ndarray], bool]:
        """One table request for sources ``src`` × destinations ``dst`` ((lat, lon) arrays).

        ``src_idx`` / ``dst_idx`` are their input indices, used to name a bad entry. Returns
        the arrays and whether an HTTP request was made (False: served from cache).
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
        what = f" (table of sources {_span(src_idx)} × destinations {_span(dst_idx)})"
        body = self._get(f"{self.base_url}/table/v1/{self.profile}/{coord_str}", params, what)
        src_snap, src_loc = _waypoints(body, "sources", src_idx, self.base_url)
        dst_snap, dst_loc = _waypoints(body, "destinations", dst_idx, self.base_url)
        tile = {
            "distance": _matrix(body, "distances", src_idx, dst_idx, self.base_url),
            "duration": _matrix(body, "durations", src_idx, dst_idx, self.base_url),
            "src_snap": src_snap, "src_loc": src_loc, "dst_snap": dst_snap, "dst_loc": dst_loc,
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
            tile, _ = self._fetch_tile(pts[block], pts[:1], same=False,
                                       src_idx=np.arange(block.start, block.stop), dst_idx=np.arange(1))
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
                tile, fetched = self._fetch_tile(pts[bi], pts[bj], same, bi, bj)
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

    def table(self, coords, *, on_unreachable: str = "raise", max_snap_m: float | None = DEFAULT_MAX_SNAP_M,
              on_snap: str = "raise", protect: Sequence[int] = (), progress: bool = False) -> TableResult:
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
            Snap distance limit in metres; default :data:`DEFAULT_MAX_SNAP_M` (1000 m), None:
            no check. OSRM moves every point to the nearest road it can route on, without a
            word: a point 170 km off the map would get the matrix rows of a road at the map's
            edge. Real stops are tens of metres from a road, and points on road pieces cut off
            from the network snap up to about 1 km, so beyond that the coordinate is wrong.
        on_snap
            What to do with points snapped farther than ``max_snap_m``: ``"raise"`` (default:
            :class:`OSRMSnapError` naming each point's index and snap distance), ``"flag"``
            (keep them, list them in ``result.flagged``, log a warning) or ``"drop"``.
        protect
            Input indices never dropped (e.g. the depot); their unreachable partners go instead.
        progress
            Show a tqdm bar over the tiles.

        Returns
        -------
        TableResult
            Unpacks as ``(distance, duration)``; carries kept/dropped indices and snap data.

        Raises
        ------
        OSRMInvalidTableError
            The answer is not a usable table (see the module docstring); names the matrix,
            the source and destination input indices and the server URL.
        OSRMSnapError, OSRMUnreachableError
            As described for ``on_snap`` and ``on_unreachable``.
        """
        if max_snap_m is not None and (isinstance(max_snap_m, bool) or not isinstance(max_snap_m, (int, float))
                                       or math.isnan(max_snap_m) or max_snap_m < 0):
            raise ValueError(f"max_snap_m must be a distance ≥ 0 in metres or None, got {max_snap_m!r}")
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


def _describe(value: Any) -> str:
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return "nothing" if value is None else f"{type(value).__name__} {str(value)[:60]!r}"


def _matrix(body: dict, key: str, src_idx: np.ndarray, dst_idx: np.ndarray, url: str) -> np.ndarray:
    """The ``distances``/``durations`` matrix of a tile, with ``null`` as NaN and nothing else unchecked."""
    rows, cols = len(src_idx), len(dst_idx)
    tile = f"sources {_span(src_idx)} × destinations {_span(dst_idx)}"
    raw = body.get(key)
    if raw is None:
        raise OSRMInvalidTableError(f"the answer has no {key!r} ({tile}; annotations not honoured?)", url,
                                    matrix=key)
    if not isinstance(raw, list) or len(raw) != rows:
        raise OSRMInvalidTableError(f"{key} must be a list of {rows} rows ({tile}), got {_describe(raw)}", url,
                                    matrix=key)
    for i, row in enumerate(raw):
        if not isinstance(row, list) or len(row) != cols:
            raise OSRMInvalidTableError(
                f"{key} is ragged: the row of source {int(src_idx[i])} is {_describe(row)}, expected {cols} "
                f"entries (destinations {_span(dst_idx)})", url, matrix=key, index=int(src_idx[i]))
    unit = "m" if key == "distances" else "s"

    def bad(i: int, j: int, why: str) -> OSRMInvalidTableError:
        s, d = int(src_idx[i]), int(dst_idx[j])
        return OSRMInvalidTableError(f"{key} entry (source {s}, destination {d}) is {raw[i][j]!r}: {why}", url,
                                     matrix=key, index=(s, d), value=raw[i][j])

    # type() not isinstance(): a JSON true is a bool, and bool is an int to isinstance
    if not {type(v) for row in raw for v in row} <= {int, float, type(None)}:
        for i, row in enumerate(raw):
            for j, v in enumerate(row):
                if isinstance(v, _JsonConstant):
                    raise bad(i, j, "not a finite number")
                if v is not None and type(v) not in _JSON_NUMBER_TYPES:
                    raise bad(i, j, f"not a number ({type(v).__name__})")
    try:
        arr = np.array(raw, dtype=np.float64)  # null -> NaN: a null is never silently a number
    except OverflowError:  # an integer beyond float64
        arr = np.array([[math.inf if isinstance(v, int) and abs(v) > 1e308 else v for v in row] for row in raw],
                       dtype=np.float64)
    # NaN here only comes from null (a JSON NaN literal was refused above); inf from 1e400-like numbers
    inf = np.isinf(arr)
    if inf.any():
        i, j = np.argwhere(inf)[0]
        raise bad(i, j, "not a finite number")
    negative = arr < -_ROUNDING_TOLERANCE
    if negative.any():
        i, j = np.argwhere(negative)[0]
        raise bad(i, j, f"a negative {key[:-1]} ({unit}), beyond rounding noise of {_ROUNDING_TOLERANCE:g} {unit}")
    return arr


def _waypoints(body: dict, key: str, idx: np.ndarray, url: str) -> tuple[np.ndarray, np.ndarray]:
    """Snap distances (metres) and snapped (lat, lon) of the sources or destinations of a tile."""
    wps = body.get(key)
    if not isinstance(wps, list) or len(wps) != len(idx):
        raise OSRMInvalidTableError(f"the answer's {key!r} must list {len(idx)} waypoints (the snap of input "
                                    f"points {_span(idx)}), got {_describe(wps)}", url, matrix=key)
    snap = np.empty(len(idx))
    loc = np.empty((len(idx), 2))
    for i, wp in enumerate(wps):
        k = int(idx[i])
        d = wp.get("distance") if isinstance(wp, dict) else None
        if type(d) not in _JSON_NUMBER_TYPES or not math.isfinite(d) or d < 0:
            raise OSRMInvalidTableError(f"{key} waypoint of point {k} has snap distance {d!r}: expected a finite "
                                        f"distance ≥ 0 m", url, matrix=key, index=k, value=d)
        xy = wp.get("location")
        if not (isinstance(xy, list) and len(xy) == 2 and all(type(v) in _JSON_NUMBER_TYPES for v in xy)
                and abs(xy[0]) <= 180 and abs(xy[1]) <= 90):
            raise OSRMInvalidTableError(f"{key} waypoint of point {k} has location {xy!r}: expected [lon, lat] "
                                        f"degrees", url, matrix=key, index=k, value=xy)
        snap[i] = d
        loc[i] = (xy[1], xy[0])
    return snap, loc


def _clip_negative(arr: np.ndarray, what: str) -> int:
    """Clip rounding noise (entries in [-_ROUNDING_TOLERANCE, 0); larger ones were refused) to 0."""
    neg = arr < 0
    count = int(neg.sum())
    if count:
        logger.debug("clipped %d negative %s entries to 0 (most negative %.2f: rounding)", count, what,
                     float(arr[neg].min()))
        arr[neg] = 0.0
    return count
