"""Exceptions raised by the OSRM client, the local server and the city builder."""

from __future__ import annotations

__all__ = ["OSRMError", "OSRMNotFoundError", "OSRMConnectionError", "OSRMTimeoutError",
           "OSRMResponseError", "OSRMInvalidTableError", "OSRMUnreachableError", "OSRMSnapError",
           "OSMExtractError"]


class OSRMError(RuntimeError):
    """Base class of every OSRM-related error raised by hybridroute."""


class OSRMNotFoundError(OSRMError, FileNotFoundError):
    """The OSRM executables (or the routing profile) could not be found."""


class OSRMConnectionError(OSRMError, ConnectionError):
    """The OSRM server is not reachable."""


class OSRMTimeoutError(OSRMError, TimeoutError):
    """The OSRM server did not answer within the timeout."""


class OSRMResponseError(OSRMError):
    """The server answered with an error code (``InvalidQuery``, ``TooBig``, ``NoTable``, ...).

    Attributes
    ----------
    code
        OSRM's error code, or ``"HTTP<status>"`` when the body is not OSRM JSON.
    message
        The server's message.
    status
        HTTP status code.
    """

    def __init__(self, code: str, message: str, status: int | None = None, url: str | None = None):
        self.code, self.message, self.status, self.url = code, message, status, url
        where = f" (HTTP {status} from {url})" if url else (f" (HTTP {status})" if status else "")
        super().__init__(f"OSRM error {code}: {message}{where}")


class OSRMInvalidTableError(OSRMResponseError):
    """The server answered, but not with a table that can be trusted.

    An empty or non-JSON body, a missing, ragged or non-numeric matrix, a non-finite entry
    (JSON ``Infinity``/``NaN``, a number beyond float64), a negative distance or duration, or a
    malformed snapping waypoint. ``code`` is ``"InvalidResponse"``.

    Attributes
    ----------
    matrix
        ``"distances"``, ``"durations"``, ``"sources"`` or ``"destinations"``; None when the
        body as a whole is unusable.
    index
        ``(source, destination)`` input indices of a matrix entry, the input index of a
        waypoint (or of a matrix row), or None.
    value
        The offending value as the server sent it, or None.
    """

    def __init__(self, message: str, url: str, *, matrix: str | None = None, index=None, value=None,
                 status: int | None = 200):
        self.matrix, self.index, self.value = matrix, index, value
        super().__init__("InvalidResponse", message, status, url)


class OSMExtractError(OSRMError):
    """An OSM extract cannot be read (corrupt, truncated or not OSM data).

    Attributes
    ----------
    path
        The extract.
    """

    def __init__(self, path, reason: str):
        self.path = str(path)
        super().__init__(f"{self.path}: cannot read this OSM extract ({reason}); is it a complete .osm, "
                         f".osm.gz, .osm.bz2 or .osm.pbf file?")


class OSRMUnreachableError(OSRMError):
    """Some pairs have no route (OSRM returned ``null``).

    Attributes
    ----------
    pairs
        (k, 2) array of (source, destination) input indices without a route.
    """

    def __init__(self, pairs, n: int, shown: int = 5, labels=None):
        self.pairs = pairs
        name = (lambda i: repr(labels[i])) if labels is not None else str
        first = ", ".join(f"({name(i)}, {name(j)})" for i, j in pairs[:shown])
        more = f" and {len(pairs) - shown} more" if len(pairs) > shown else ""
        super().__init__(
            f"{len(pairs)} of {n * (n - 1)} pairs have no route (null in the OSRM table): {first}{more}; "
            f"the points are probably on disconnected pieces of the road network — pass "
            f"on_unreachable='drop' to drop them")


class OSRMSnapError(OSRMError):
    """Some points were snapped to the road network farther than allowed.

    Attributes
    ----------
    indices
        Input indices of the offending points.
    snap_m
        Their snap distances, metres.
    """

    def __init__(self, indices, snap_m, max_snap_m: float, shown: int = 5, labels=None):
        self.indices, self.snap_m, self.max_snap_m = indices, snap_m, max_snap_m
        name = (lambda i: f"id {labels[i]!r}") if labels is not None else (lambda i: f"point {i}")
        first = ", ".join(f"{name(i)}: {d:.0f} m" for i, d in zip(indices[:shown], snap_m[:shown]))
        more = f" and {len(indices) - shown} more" if len(indices) > shown else ""
        super().__init__(f"{len(indices)} points moved more than max_snap_m={max_snap_m:g} m when OSRM "
                         f"snapped them to the road network ({first}{more}): such a point is usually a wrong "
                         f"coordinate (swapped lat/lon, outside the extract); pass on_snap='drop' or 'flag', or "
                         f"a larger max_snap_m (None: no check)")
