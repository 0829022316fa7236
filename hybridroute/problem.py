"""The problem model: one immutable, validated description of an asymmetric routing instance.

Units: distances in metres, durations and times in seconds, unless the data was read from a
benchmark file whose units are abstract (then the file's units are kept as they are).
"""

from __future__ import annotations

import datetime as _dt
import enum
import json
import math
import os
from dataclasses import dataclass, field
from typing import Any, Hashable, Sequence

import numpy as np

from .fleet import FEATURES, Break, FleetError, VehicleType

__all__ = ["ProblemKind", "Problem", "ProblemValidationError", "VehicleType", "Break", "FEATURES"]


class ProblemValidationError(ValueError):
    """A problem's data is invalid.

    Attributes
    ----------
    field
        Name of the offending field (``"distance"``, ``"demand"``, ...).
    index
        First offending index (an int, or a tuple ``(i, j)`` for matrices), or None.
    """

    def __init__(self, field: str, message: str, index: Any = None):
        self.field = field
        self.index = index
        where = f" at index {index}" if index is not None else ""
        super().__init__(f"{field}{where}: {message}")


class ProblemKind(str, enum.Enum):
    """The problem families hybridroute models.

    ``ATSP``: one closed tour over all nodes (node 0 is where the tour starts and ends).
    ``ACVRP``: capacitated routes from depot 0. ``ACVRPTW``: as ACVRP plus time windows.
    """

    ATSP = "ATSP"
    ACVRP = "ACVRP"
    ACVRPTW = "ACVRPTW"

    @classmethod
    def parse(cls, value: "ProblemKind | str") -> "ProblemKind":
        if isinstance(value, cls):
            return value
        try:
            return cls(str(value).upper())
        except ValueError:
            known = ", ".join(k.value for k in cls)
            raise ProblemValidationError("kind", f"unknown kind {value!r}; known kinds: {known}")

    @property
    def has_capacity(self) -> bool:
        return self is not ProblemKind.ATSP

    @property
    def has_time_windows(self) -> bool:
        return self is ProblemKind.ACVRPTW


OBJECTIVES = ("distance", "duration")


def _readonly(a: np.ndarray) -> np.ndarray:
    """A read-only, C-contiguous copy.

    Backends hand these buffers to C/C++ code that reads them row-major (VROOM, PyVRP, the
    scaling helpers); a Fortran-ordered or transposed view would silently be read as its
    transpose, so the Problem always owns row-major memory whatever it was given.
    """
    a = np.array(a, copy=True, order="C")
    a.setflags(write=False)
    return a


def _first_index(mask: np.ndarray) -> Any:
    idx = np.argwhere(mask)[0]
    return int(idx[0]) if len(idx) == 1 else tuple(int(i) for i in idx)


# What each numeric field holds, for messages that say what was expected instead.
_UNITS = {
    "distance": "numbers in metres",
    "duration": "numbers in seconds",
    "coords": "numbers (lat, lon degrees)",
    "time_windows": "numbers in seconds",
    "service_time": "numbers in seconds",
}
# numpy dtype kinds that numpy would silently turn into floats, or refuse with a raw error.
_NON_NUMERIC_KINDS = {
    "c": "complex numbers",
    "M": "datetimes",
    "m": "timedeltas",
    "V": "structured records",
}


def _count_entries(length: int) -> str:
    return "a scalar" if length < 0 else f"{length} entr{'y' if length == 1 else 'ies'}"


def _ragged_where(value: Any) -> tuple[Any, str] | None:
    """Where nested sequences stop being rectangular: ``(index, what is there)``, or None."""
    try:
        rows = list(value)
    except TypeError:
        return None
    lengths = []
    for r in rows:
        try:
            lengths.append(len(r))
        except TypeError:  # a scalar next to rows that are sequences
            lengths.append(-1)
    for i, length in enumerate(lengths):
        if length != lengths[0]:
            got, first = (_count_entries(k) for k in (length, lengths[0]))
            return i, f"row {i} has {got} but row 0 has {first}"
    for i, r in enumerate(rows):
        for j, v in enumerate(r if lengths[0] >= 0 else ()):
            if hasattr(v, "__len__") and not isinstance(v, str):
                return (i, j), f"entry ({i}, {j}) is a sequence ({type(v).__name__}), not a number"
    return None


def _is_real(v: Any) -> bool:
    import numbers
    from decimal import Decimal

    if isinstance(v, (bool, np.bool_)):
        return False
    return isinstance(v, (numbers.Real, Decimal))


# Element types accepted without a closer look (the common case, checked in bulk).
_PLAIN_NUMBER_TYPES = frozenset({float, int, np.float64, np.float32, np.int64, np.int32})


def _first_non_real(obj: np.ndarray) -> tuple[Any, Any] | None:
    """``(index, value)`` of the first element of an object array that is not a real number."""
    if set(map(type, obj.flat)) <= _PLAIN_NUMBER_TYPES:
        return None
    for flat, v in enumerate(obj.flat):
        if not _is_real(v):
            i = np.unravel_index(flat, obj.shape)
            index = int(i[0]) if len(i) == 1 else (tuple(int(k) for k in i) or None)
            return index, v
    return None


def _as_array(name: str, value: Any, expected: str) -> np.ndarray:
    """``np.asarray(value)``, with ragged nested sequences reported by row."""
    try:
        return np.asarray(value)
    except ValueError:
        where = _ragged_where(value)
        if where is None:
            raise ProblemValidationError(name, f"must be a rectangular array of {expected}") from None
        index, what = where
        raise ProblemValidationError(
            name, f"is ragged: {what}; expected a rectangular array of {expected}", index) from None


def _as_float_array(name: str, value: Any, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """``value`` as float64; booleans, strings, complex or ragged data are refused by name.

    numpy would read a boolean matrix as 0/1 metres, a ``True`` among numbers as 1 and a
    string ``"12"`` as 12.0, so only real numbers are accepted; each error names the field
    and, where one element is at fault, its index.
    """
    expected = _UNITS.get(name, "numbers")
    arr = _as_array(name, value, expected)
    if arr.dtype.kind == "b":
        what = "matrix" if arr.ndim == 2 else "array"
        raise ProblemValidationError(name, f"must be {expected}, got a boolean {what}")
    if arr.dtype.kind in _NON_NUMERIC_KINDS:
        raise ProblemValidationError(
            name, f"must be {expected}, got {_NON_NUMERIC_KINDS[arr.dtype.kind]} (dtype {arr.dtype})")
    # Nested lists: numpy has already turned a True among numbers into 1, and a number among
    # strings into a string, so look at the elements as they were given.
    if arr.dtype.kind in "OUS" or (isinstance(value, (list, tuple)) and arr.dtype.kind in "iuf"):
        obj = arr if arr.dtype.kind == "O" else np.asarray(value, dtype=object)
        if obj.shape != arr.shape:  # numpy unpacked something the object view did not
            obj = arr.astype(object)
        bad = _first_non_real(obj)
        if bad is not None:
            index, v = bad
            raise ProblemValidationError(name, f"must be {expected}, got {v!r} ({type(v).__name__})", index)
    try:
        arr = arr.astype(np.float64)
    except (TypeError, ValueError, OverflowError) as exc:  # e.g. a Decimal beyond float range
        raise ProblemValidationError(name, f"must be {expected} ({exc})") from None
    if shape is not None and arr.shape != shape:
        raise ProblemValidationError(name, f"has shape {arr.shape}, expected {shape}")
    return arr


def _check_finite(name: str, arr: np.ndarray, allow_posinf: bool = False) -> None:
    bad = np.isnan(arr) | (np.isinf(arr) if not allow_posinf else np.isneginf(arr))
    if bad.any():
        i = _first_index(bad)
        raise ProblemValidationError(name, f"value {arr[i]} is not finite", i)


def _check_nonnegative(name: str, arr: np.ndarray) -> None:
    bad = arr < 0
    if bad.any():
        i = _first_index(bad)
        raise ProblemValidationError(name, f"value {arr[i]} is negative", i)


def _check_matrix(name: str, value: Any, n: int | None) -> np.ndarray:
    arr = _as_float_array(name, value)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ProblemValidationError(name, f"must be a square matrix, got shape {arr.shape}")
    if n is not None and arr.shape[0] != n:
        raise ProblemValidationError(name, f"has shape {arr.shape}, expected ({n}, {n})")
    _check_finite(name, arr)
    _check_nonnegative(name, arr)
    diag = np.diag(arr)
    if (diag != 0).any():
        i = int(np.argmax(diag != 0))
        raise ProblemValidationError(name, f"diagonal must be 0, found {diag[i]}", (i, i))
    _check_summable(name, arr)
    return arr


def _check_summable(name: str, arr: np.ndarray) -> None:
    """Refuse entries so large that a solution's total would overflow float64 to ``inf``.

    A feasible solution sums at most ``2(n - 1)`` entries (one route per customer, out and
    back), so every entry must stay below ``float64 max / 2n``: then every cost any backend
    or the evaluator computes is finite. Such values are never metres or seconds.
    """
    n = arr.shape[0]
    if n == 0:
        return
    limit = np.finfo(np.float64).max / (2 * n)
    i = _first_index(arr == arr.max())
    if arr[i] > limit:
        unit = _UNITS.get(name, "numbers").removeprefix("numbers in ")
        raise ProblemValidationError(
            name, f"value {arr[i]:g} is too large: a solution's total of up to {2 * (n - 1)} entries "
                  f"would overflow float64 (entries must stay below {limit:.3g} for n = {n}); "
                  f"expected {unit}", i)


def _read_json_file(path: "str | os.PathLike[str]") -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except UnicodeDecodeError as exc:
        raise ProblemValidationError("json", f"{path}: not a text file ({exc.reason} at byte {exc.start})") from None
    except IsADirectoryError:
        raise ProblemValidationError("json", f"{path}: is a directory, not a JSON file") from None


def _shortest_from(matrix: np.ndarray, source: int) -> np.ndarray:
    """Shortest travel from ``source`` to every node over a dense non-negative matrix
    (Dijkstra, O(n²) with numpy)."""
    n = matrix.shape[0]
    best = np.full(n, np.inf)
    best[source] = 0.0
    done = np.zeros(n, dtype=bool)
    for _ in range(n):
        i = int(np.argmin(np.where(done, np.inf, best)))
        if done[i] or not np.isfinite(best[i]):
            break
        done[i] = True
        np.minimum(best, best[i] + matrix[i], out=best)
    return best


def _json_scalar(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    return v


# The keyword arguments of Problem(...), i.e. the keys a problem's JSON may hold.
_INIT_FIELDS = ("kind", "distance", "duration", "coords", "ids", "demand", "capacity", "num_vehicles",
                "time_windows", "service_time", "objective", "name", "time_origin", "time_format",
                "num_depots", "vehicle_types", "required", "prize")

#: How a problem's times were written by the caller (see ``Problem.time_format``).
TIME_FORMATS = ("seconds", "clock")
# Fields that describe how times are shown, not the instance: == ignores them.
_DISPLAY_FIELDS = ("time_format",)


def _check_time_origin(value: Any) -> "_dt.datetime | None":
    """``value`` as a :class:`datetime.datetime` (None stays None).

    Accepts a ``datetime`` (a pandas ``Timestamp`` is one), a ``date`` (its midnight), a
    ``numpy.datetime64`` or an ISO 8601 string such as ``"2026-12-03 00:00"``.
    """
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return _dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ProblemValidationError(
                "time_origin", f"{value!r} is not an ISO 8601 date-time (e.g. '2026-12-03 00:00')") from None
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            raise ProblemValidationError("time_origin", "is NaT; give a date-time or None")
        value = value.astype("datetime64[us]").item()
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp: a datetime with nanoseconds
        if value != value:  # NaT
            raise ProblemValidationError("time_origin", "is NaT; give a date-time or None")
        if getattr(value, "nanosecond", 0):
            raise ProblemValidationError(
                "time_origin", f"{value} has nanoseconds; give it to the microsecond")
        return value.to_pydatetime()
    if isinstance(value, _dt.datetime):
        return value
    if isinstance(value, _dt.date):
        return _dt.datetime.combine(value, _dt.time())
    raise ProblemValidationError(
        "time_origin", f"must be a datetime, a pandas Timestamp or an ISO 8601 string, got {value!r} "
                       f"({type(value).__name__})")


@dataclass(frozen=True, eq=False, repr=False)
class Problem:
    """An asymmetric routing instance (ATSP, ACVRP or ACVRPTW), validated and immutable.

    The objective: travel cost (the sum of ``distance`` in metres, or of route durations in
    seconds, per ``objective``) + ``fixed_cost`` of every used vehicle + ``prize`` of every
    optional stop left out.

    Parameters
    ----------
    kind
        A :class:`ProblemKind` or its name (``"ATSP"``, ``"ACVRP"``, ``"ACVRPTW"``).
    distance
        n×n travel distances in metres; ``distance[i, j]`` is i→j (need not equal j→i).
    duration
        n×n travel times in seconds. Required for ACVRPTW, for ``objective="duration"`` and
        for vehicle types with a shift, a ``max_duration`` or breaks.
    coords
        Optional n×2 (lat, lon) in degrees, used for plots, OSRM and the neural policy.
    ids
        The caller's labels, one per node (any hashable; unique). Defaults to 0..n-1.
    demand
        Per-node demand (the depots' must be 0). Required for ACVRP / ACVRPTW.
    capacity
        Vehicle capacity, in the units of ``demand``: shorthand for one vehicle type.
    num_vehicles
        Maximum number of routes; None means unlimited. ATSP always uses one. Shorthand, with
        ``capacity``, for ``vehicle_types=[VehicleType(count=num_vehicles, capacity=capacity)]``.
    time_windows
        n×2 [earliest, latest] service start in seconds (ACVRPTW). ``inf`` is allowed as a
        latest time. Depot rows are opening hours: routes leave a depot no earlier than its
        start and must be back at their end depot by its end.
    service_time
        Per-node service duration in seconds (ACVRPTW; defaults to 0).
    objective
        ``"distance"`` (minimise metres) or ``"duration"`` (minimise seconds, waiting included).
    name
        Optional instance name.
    time_origin
        Optional date-time that time 0 stands for (a ``datetime``, pandas ``Timestamp`` or
        ISO 8601 string; kept as a ``datetime.datetime``). Times stay seconds since it; it
        only lets outputs show them as date-times. Part of ``==``, kept by :meth:`replace`,
        pickling and JSON (as ISO 8601 text).
    time_format
        How the caller wrote the times: ``"seconds"`` (default) or ``"clock"`` (clock
        times, durations or date-times, see :func:`hybridroute.frames.problem_from_dataframe`).
        A display hint for outputs asked for with ``times="input"``; ``==`` ignores it.
    num_depots
        The first ``num_depots`` nodes are depots (1 by default). ACVRP / ACVRPTW only.
    vehicle_types
        The fleet, a list of :class:`VehicleType` (or dicts of their fields); replaces the
        ``capacity`` / ``num_vehicles`` shorthand. ACVRP / ACVRPTW only.
    required
        Per node, whether it must be visited (default: all). ``required[i] = False`` makes
        stop i optional: a solution may leave it out, paying ``prize[i]``.
    prize
        Per node, what leaving an optional stop out costs, in the objective's units (metres
        or seconds; default 0). Ignored for required stops.

    Notes
    -----
    Node 0 is the depot for VRPs and the start of the tour for ATSP; with ``num_depots > 1``
    nodes ``0 .. num_depots - 1`` are depots. Solutions give routes as lists of node indices
    without depots, and each route's vehicle type.

    Time windows follow the Solomon convention: a vehicle leaves its depot at the depot's
    window start (or its shift's start, if later), arrives at ``j`` at
    ``departure_i + duration[i, j]``, waits until ``tw_start_j`` if early, is late if it
    arrives after ``tw_end_j``, departs after service, and must be back at its end depot by
    that depot's ``tw_end`` (and its shift's end). A route leaves as late as it can without
    serving any stop later: its departure is delayed by the wait at its first stop, so no
    route waits at its first stop (see :func:`hybridroute.evaluate`).

    A required stop that no vehicle type can serve (demand above every capacity, a window
    closed before any vehicle can arrive, a return after every shift or depot closing, a
    direct trip beyond every ``max_duration`` / ``max_distance``) is refused at build time,
    naming the stop; an optional one is accepted and reported by :func:`hybridroute.explain`.
    """

    kind: ProblemKind
    distance: np.ndarray
    duration: np.ndarray | None = None
    coords: np.ndarray | None = None
    ids: np.ndarray | None = None
    demand: np.ndarray | None = None
    capacity: float | None = None
    num_vehicles: int | None = None
    time_windows: np.ndarray | None = None
    service_time: np.ndarray | None = None
    objective: str = "distance"
    name: str | None = None
    time_origin: _dt.datetime | None = None
    time_format: str = "seconds"
    num_depots: int = 1
    vehicle_types: tuple[VehicleType, ...] = ()
    required: np.ndarray | None = None
    prize: np.ndarray | None = None
    depot: int = field(default=0, init=False)

    def __init__(
        self,
        kind: ProblemKind | str,
        distance: Any,
        duration: Any = None,
        *,
        coords: Any = None,
        ids: Sequence[Hashable] | None = None,
        demand: Any = None,
        capacity: float | None = None,
        num_vehicles: int | None = None,
        time_windows: Any = None,
        service_time: Any = None,
        objective: str = "distance",
        name: str | None = None,
        time_origin: Any = None,
        time_format: str = "seconds",
        num_depots: int = 1,
        vehicle_types: Sequence[VehicleType | dict] | None = None,
        required: Any = None,
        prize: Any = None,
    ):
        set_ = object.__setattr__
        kind = ProblemKind.parse(kind)
        dist = _check_matrix("distance", distance, None)
        n = dist.shape[0]
        min_n = 2
        if n < min_n:
            raise ProblemValidationError("distance", f"needs at least {min_n} nodes, got {n}")
        dur = None if duration is None else _check_matrix("duration", duration, n)

        if objective not in OBJECTIVES:
            raise ProblemValidationError("objective", f"must be one of {OBJECTIVES}, got {objective!r}")
        if objective == "duration" and dur is None:
            raise ProblemValidationError("duration", "is required when objective='duration'")
        if kind.has_time_windows and dur is None:
            raise ProblemValidationError("duration", f"is required for {kind.value}")

        set_(self, "kind", kind)
        set_(self, "distance", _readonly(dist))
        set_(self, "duration", None if dur is None else _readonly(dur))
        set_(self, "objective", objective)
        set_(self, "name", name)
        if time_format not in TIME_FORMATS:
            raise ProblemValidationError("time_format", f"must be one of {TIME_FORMATS}, got {time_format!r}")
        set_(self, "time_origin", _check_time_origin(time_origin))
        set_(self, "time_format", time_format)
        set_(self, "depot", 0)
        set_(self, "coords", None if coords is None else _readonly(self._check_coords(coords, n)))
        set_(self, "ids", _readonly(self._check_ids(ids, n)))
        self._set_depots_and_stops(kind, n, num_depots, required, prize)
        self._set_vehicles_and_loads(kind, n, demand, capacity, num_vehicles)
        self._set_fleet(kind, vehicle_types, capacity, num_vehicles)
        self._set_time_windows(kind, n, time_windows, service_time)
        self._check_servable()

    # -- validation helpers -------------------------------------------------------------

    @staticmethod
    def _check_coords(coords: Any, n: int) -> np.ndarray:
        c = _as_float_array("coords", coords, (n, 2))
        _check_finite("coords", c)
        bad_lat = np.abs(c[:, 0]) > 90
        if bad_lat.any():
            i = int(np.argmax(bad_lat))
            raise ProblemValidationError("coords", f"latitude {c[i, 0]} outside [-90, 90] (coords are lat, lon)", i)
        bad_lon = np.abs(c[:, 1]) > 180
        if bad_lon.any():
            i = int(np.argmax(bad_lon))
            raise ProblemValidationError("coords", f"longitude {c[i, 1]} outside [-180, 180]", i)
        return c

    @staticmethod
    def _check_ids(ids: Any, n: int) -> np.ndarray:
        if ids is None:
            return np.arange(n)
        if isinstance(ids, np.ndarray):
            arr = ids
        else:
            labels = list(ids)
            try:
                arr = np.asarray(labels)
            except ValueError:  # ragged tuples
                arr = None
            # numpy turns mixed labels into strings ([1, "a"] -> ["1", "a"]) and tuples into
            # matrix rows: keep the caller's objects as they are then.
            if arr is None or arr.ndim != 1 or arr.tolist() != labels:
                arr = np.empty(len(labels), dtype=object)
                for i, v in enumerate(labels):
                    arr[i] = v
        if arr.ndim != 1 or len(arr) != n:
            raise ProblemValidationError("ids", f"needs {n} labels, got {len(arr) if arr.ndim else 'a scalar'}")
        seen: dict[Any, int] = {}
        for i, v in enumerate(arr.tolist()):
            try:
                hash(v)
            except TypeError:
                raise ProblemValidationError("ids", f"label {v!r} is not hashable", i) from None
            if v in seen:
                raise ProblemValidationError("ids", f"duplicate label {v!r} (first at index {seen[v]})", i)
            seen[v] = i
        return arr

    def _set_depots_and_stops(self, kind, n, num_depots, required, prize) -> None:
        set_ = object.__setattr__
        if isinstance(num_depots, bool) or not isinstance(num_depots, (int, np.integer)) or num_depots < 1:
            raise ProblemValidationError("num_depots", f"must be a positive integer, got {num_depots!r}")
        num_depots = int(num_depots)
        if kind is ProblemKind.ATSP and num_depots != 1:
            raise ProblemValidationError("num_depots", "ATSP has one tour start; use kind='ACVRP' for several depots")
        if num_depots >= n:
            raise ProblemValidationError("num_depots", f"{num_depots} depots leave no stop among {n} nodes")
        set_(self, "num_depots", num_depots)
        if kind is ProblemKind.ATSP:
            for fname, v in (("required", required), ("prize", prize)):
                if v is not None:
                    raise ProblemValidationError(fname, "ATSP visits every node; use kind='ACVRP' for optional stops")
        req = np.ones(n, dtype=bool)
        if required is not None:
            arr = _as_array("required", required, "booleans")
            if arr.shape != (n,):
                raise ProblemValidationError("required", f"must be {n} booleans, got shape {arr.shape}")
            if arr.dtype.kind != "b":
                obj = arr.astype(object) if arr.dtype.kind != "O" else arr
                for i, v in enumerate(obj):
                    if not (isinstance(v, (bool, np.bool_)) or (_is_real(v) and v in (0, 1))):
                        raise ProblemValidationError("required", f"must be True/False (or 1/0), got {v!r}", i)
            req = arr.astype(bool)
            bad = ~req[:num_depots]
            if bad.any():
                i = int(np.argmax(bad))
                raise ProblemValidationError("required", "a depot cannot be optional", i)
        pz = np.zeros(n)
        if prize is not None:
            pz = _as_float_array("prize", prize, (n,))
            _check_finite("prize", pz)
            _check_nonnegative("prize", pz)
        set_(self, "required", _readonly(req))
        set_(self, "prize", _readonly(np.where(req, 0.0, pz)))

    def _set_vehicles_and_loads(self, kind, n, demand, capacity, num_vehicles) -> None:
        set_ = object.__setattr__
        if num_vehicles is not None:
            try:
                ok = not isinstance(num_vehicles, bool) and int(num_vehicles) == num_vehicles >= 1
            except (TypeError, ValueError, OverflowError):  # None-like, NaN, inf, strings
                ok = False
            if not ok:
                raise ProblemValidationError("num_vehicles", f"must be a positive integer or None, got {num_vehicles!r}")
        if kind is ProblemKind.ATSP:
            for fname, v in (("demand", demand), ("capacity", capacity)):
                if v is not None:
                    raise ProblemValidationError(fname, "is not used by ATSP; use kind='ACVRP'")
            if num_vehicles not in (None, 1):
                raise ProblemValidationError("num_vehicles", "ATSP has exactly one vehicle")
            set_(self, "demand", None)
            return
        if demand is None:
            raise ProblemValidationError("demand", f"is required for {kind.value}")
        dem = np.asarray(demand)
        if isinstance(demand, (list, tuple)) and dem.dtype.kind in "iuf":
            # numpy reads a True among numbers as 1: look at the elements as they were given
            bad = _first_non_real(np.asarray(demand, dtype=object))
            if bad is not None:
                raise ProblemValidationError("demand", f"must be numbers, got {bad[1]!r} "
                                                       f"({type(bad[1]).__name__})", bad[0])
        if dem.dtype.kind not in "iuf" or dem.shape != (n,):
            raise ProblemValidationError("demand", f"must be {n} numbers, got shape {dem.shape} dtype {dem.dtype}")
        dem = dem.astype(np.int64) if dem.dtype.kind in "iu" else dem.astype(np.float64)
        _check_finite("demand", dem)
        _check_nonnegative("demand", dem)
        nonzero = dem[:self.num_depots] != 0
        if nonzero.any():
            i = int(np.argmax(nonzero))
            raise ProblemValidationError("demand", f"the depot's demand must be 0, got {dem[i]}", i)
        set_(self, "demand", _readonly(dem))

    def _set_fleet(self, kind, vehicle_types, capacity, num_vehicles) -> None:
        """The vehicle types, from ``vehicle_types`` or the capacity / num_vehicles shorthand."""
        set_ = object.__setattr__
        if kind is ProblemKind.ATSP:
            if vehicle_types is not None:
                raise ProblemValidationError("vehicle_types", "ATSP has one vehicle; use kind='ACVRP' for a fleet")
            set_(self, "vehicle_types", (VehicleType(count=1),))
            set_(self, "capacity", None)
            set_(self, "num_vehicles", 1)
            return
        if vehicle_types is None:
            if capacity is None:
                raise ProblemValidationError("capacity", f"is required for {kind.value} (or give vehicle_types)")
            try:
                cap = float(capacity)
            except (TypeError, ValueError):
                raise ProblemValidationError("capacity", f"must be a number, got {capacity!r}") from None
            if isinstance(capacity, bool) or not math.isfinite(cap) or cap <= 0:
                raise ProblemValidationError("capacity", f"must be positive and finite, got {capacity!r}")
            if cap.is_integer() and self.demand.dtype.kind == "i":
                cap = int(cap)
            types = (VehicleType(count=None if num_vehicles is None else int(num_vehicles), capacity=cap),)
        else:
            for fname, v in (("capacity", capacity), ("num_vehicles", num_vehicles)):
                if v is not None:
                    raise ProblemValidationError(fname, "give either capacity / num_vehicles or vehicle_types, not both")
            types = self._check_vehicle_types(kind, vehicle_types)
        set_(self, "vehicle_types", types)
        caps = {t.capacity for t in types}
        set_(self, "capacity", caps.pop() if len(caps) == 1 else None)
        counts = [t.count for t in types]
        set_(self, "num_vehicles", None if None in counts else int(sum(counts)))
        self._check_loads(types)

    def _check_vehicle_types(self, kind, vehicle_types) -> tuple[VehicleType, ...]:
        if isinstance(vehicle_types, (VehicleType, dict, str, bytes)) or not hasattr(vehicle_types, "__iter__"):
            raise ProblemValidationError("vehicle_types", f"must be a list of VehicleType, got {type(vehicle_types).__name__}")
        types = []
        for t, value in enumerate(vehicle_types):
            try:
                vt = VehicleType.coerce(value)
            except FleetError as exc:
                raise ProblemValidationError("vehicle_types", str(exc), t) from None
            except TypeError as exc:
                raise ProblemValidationError("vehicle_types", str(exc), t) from None
            for name in ("start_depot", "end_depot"):
                depot = getattr(vt, name)
                if depot is not None and depot >= self.num_depots:
                    raise ProblemValidationError(
                        "vehicle_types", f"{name}: {depot} is not a depot (num_depots = {self.num_depots}; depots are "
                                         f"nodes 0..{self.num_depots - 1})", t)
            if vt.capacity is None:
                raise ProblemValidationError("vehicle_types", f"capacity: is required for {kind.value}", t)
            if self.duration is None:
                for feature, present in (("shift", vt.shift is not None), ("max_duration", vt.max_duration is not None),
                                         ("breaks", bool(vt.breaks))):
                    if present:
                        raise ProblemValidationError("vehicle_types", f"{feature}: needs a duration matrix (seconds)", t)
            types.append(vt)
        if not types:
            raise ProblemValidationError("vehicle_types", "needs at least one vehicle type")
        first: dict[str, int] = {}
        for t, vt in enumerate(types):
            if vt.name is not None and vt.name in first:
                raise ProblemValidationError(
                    "vehicle_types", f"name {vt.name!r} is already used by type {first[vt.name]}", t)
            if vt.name is not None:
                first[vt.name] = t
        return tuple(types)

    def _check_loads(self, types: tuple[VehicleType, ...]) -> None:
        """Refuse a required stop heavier than every vehicle, and a fleet too small for the
        required demand (when every type's count is known)."""
        dem, req = self.demand, self.required
        largest = max(t.capacity for t in types)
        over = (dem > largest) & req
        if over.any():
            i = int(np.argmax(over))
            what = (f"the vehicle capacity {largest}" if len(types) == 1
                    else f"every vehicle type's capacity (largest {largest})")
            raise ProblemValidationError("demand", f"{dem[i]} exceeds {what}", i)
        if any(t.count is None for t in types):
            return
        total_cap = sum(t.count * float(t.capacity) for t in types)
        need = float(dem[req].sum())
        if need > total_cap * (1 + 1e-12):
            if len(types) == 1:
                needed = math.ceil(need / float(types[0].capacity) - 1e-9)
                raise ProblemValidationError(
                    "num_vehicles",
                    f"{types[0].count} vehicles of capacity {types[0].capacity} cannot carry the total demand "
                    f"{dem[req].sum()} (at least {needed} needed)")
            raise ProblemValidationError(
                "vehicle_types", f"the fleet's total capacity {total_cap:g} cannot carry the required demand {need:g}")

    def _set_time_windows(self, kind, n, time_windows, service_time) -> None:
        set_ = object.__setattr__
        if not kind.has_time_windows:
            for fname, v in (("time_windows", time_windows), ("service_time", service_time)):
                if v is not None:
                    raise ProblemValidationError(fname, f"is not used by {kind.value}; use kind='ACVRPTW'")
            set_(self, "time_windows", None)
            set_(self, "service_time", None)
            return
        if time_windows is None:
            raise ProblemValidationError("time_windows", "is required for ACVRPTW")
        tw = _as_float_array("time_windows", time_windows, (n, 2))
        _check_finite("time_windows", tw, allow_posinf=True)
        if np.isinf(tw[:, 0]).any():
            i = int(np.argmax(np.isinf(tw[:, 0])))
            raise ProblemValidationError("time_windows", "window start must be finite", i)
        _check_nonnegative("time_windows", tw)
        bad = tw[:, 0] > tw[:, 1]
        if bad.any():
            i = int(np.argmax(bad))
            raise ProblemValidationError("time_windows", f"start {tw[i, 0]} is after end {tw[i, 1]}", i)
        svc = np.zeros(n) if service_time is None else _as_float_array("service_time", service_time, (n,))
        _check_finite("service_time", svc)
        _check_nonnegative("service_time", svc)
        set_(self, "time_windows", _readonly(tw))
        set_(self, "service_time", _readonly(svc))

    # -- which stops some vehicle can serve ---------------------------------------------

    def route_window(self, vehicle_type: int) -> tuple[float, float]:
        """(earliest departure, latest return) in seconds of a route of ``vehicle_type``: its
        depots' opening hours intersected with its shift (``(0, inf)`` when neither is set)."""
        vt = self.vehicle_types[vehicle_type]
        tw = self.time_windows
        start = float(tw[vt.start_depot, 0]) if tw is not None else 0.0
        end = float(tw[vt.end, 1]) if tw is not None else math.inf
        if vt.shift is not None:
            start, end = max(start, vt.shift[0]), min(end, vt.shift[1])
        return start, end

    def unservable(self) -> dict[int, tuple[str, str]]:
        """Stops that no vehicle type can serve, even on a route of their own.

        Returns
        -------
        dict
            ``{node: (field, reason)}`` for every such stop, required or optional; ``field``
            names the binding constraint (``"demand"``, ``"time_windows"``, ``"shift"``,
            ``"max_duration"``, ``"max_distance"``; ``"vehicle_types"`` when the types fail
            for different reasons). The test is a lower bound (shortest paths through any
            nodes, no waiting charged), so a stop listed here is certainly unservable.
        """
        out = {}
        for i, by_type in self.unservable_by_type().items():
            fields_ = {f for f, _ in by_type.values()}
            if len(self.vehicle_types) == 1:
                out[i] = by_type[0]
            else:
                out[i] = (fields_.pop() if len(fields_) == 1 else "vehicle_types",
                          "; ".join(f"{self._type_label(t)}: {why}" for t, (_, why) in sorted(by_type.items())))
        return out

    def unservable_by_type(self) -> dict[int, dict[int, tuple[str, str]]]:
        """The stops of :meth:`unservable`, with each vehicle type's own reason:
        ``{node: {type index: (field, reason)}}``."""
        if self.kind is ProblemKind.ATSP:
            return {}
        stops = np.arange(self.num_depots, self.num_nodes)
        per_type: dict[int, dict[int, tuple[str, str]]] = {}
        for t in range(len(self.vehicle_types)):
            for i, fld, why in self._type_cannot_serve(t, stops):
                per_type.setdefault(i, {})[t] = (fld, why)
        return {i: by_type for i, by_type in sorted(per_type.items()) if len(by_type) == len(self.vehicle_types)}

    def _type_label(self, t: int) -> str:
        vt = self.vehicle_types[t]
        return f"type {t}" + (f" ({vt.name})" if vt.name else "")

    def _type_cannot_serve(self, t: int, stops: np.ndarray):
        """``(node, field, reason)`` for each stop a route of type ``t`` cannot serve alone
        (first reason per stop)."""
        vt = self.vehicle_types[t]
        s, e = vt.start_depot, vt.end
        dem, tw, svc = self.demand, self.time_windows, self.service_time
        found: set[int] = set()
        out = []

        def add(mask, fld, text):
            for k in np.flatnonzero(mask):
                i = int(stops[k])
                if i not in found:
                    found.add(i)
                    out.append((i, fld, text(k, i)))

        add(dem[stops] > vt.capacity, "demand",
            lambda k, i: f"demand {dem[i]} exceeds the capacity {vt.capacity}")
        if self.duration is not None:
            begin, close = self.route_window(t)
            begin += float(svc[s]) if svc is not None else 0.0
            service = svc[stops] if svc is not None else np.zeros(len(stops))
            opens = tw[stops, 0] if tw is not None else np.zeros(len(stops))
            due = tw[stops, 1] if tw is not None else np.full(len(stops), np.inf)

            def timing(out_t, in_t):
                arrive = begin + out_t
                back = np.maximum(arrive, opens) + service + in_t
                return arrive, back

            arrive, back = timing(self.duration[s, stops], self.duration[stops, e])
            alone = self.duration[s, stops] + service + self.duration[stops, e]
            limit = vt.max_duration if vt.max_duration is not None else math.inf
            if (arrive > due * (1 + 1e-12)).any() or (back > close * (1 + 1e-12)).any() or (alone > limit).any():
                out_t, in_t = _shortest_from(self.duration, s)[stops], _shortest_from(self.duration.T, e)[stops]
                arrive, back = timing(out_t, in_t)
                alone = out_t + service + in_t
            where = "the depot" if self.num_depots == 1 else f"depot {s}"
            add(arrive > due * (1 + 1e-12), "time_windows",
                lambda k, i: f"customer unreachable: earliest arrival {arrive[k]:g} s from {where} (shortest path) "
                             f"is after its window end {due[k]:g} s")
            closes = "the depot closes" if vt.shift is None or (tw is not None and tw[e, 1] <= vt.shift[1]) \
                else "the shift ends"
            add(back > close * (1 + 1e-12), "time_windows" if closes == "the depot closes" else "shift",
                lambda k, i: f"customer unreachable: even a direct visit returns to "
                             f"{'the depot' if self.num_depots == 1 else f'depot {e}'} at {back[k]:g} s at the "
                             f"earliest, after {closes} at {close:g} s")
            add(alone > limit * (1 + 1e-12), "max_duration",
                lambda k, i: f"a direct visit takes {alone[k]:g} s at the least, above max_duration {limit:g} s")
        if vt.max_distance is not None and math.isfinite(vt.max_distance):
            dist = self.distance[s, stops] + self.distance[stops, e]
            if (dist > vt.max_distance).any():
                dist = _shortest_from(self.distance, s)[stops] + _shortest_from(self.distance.T, e)[stops]
            add(dist > vt.max_distance * (1 + 1e-12), "max_distance",
                lambda k, i: f"a direct visit drives {dist[k]:g} m at the least, above max_distance "
                             f"{vt.max_distance:g} m")
        return out

    def _check_servable(self) -> None:
        """Refuse a required stop that no vehicle type can serve; also a vehicle type whose
        shift leaves no time between its depots' opening hours."""
        if self.kind is ProblemKind.ATSP:
            return
        for t in range(len(self.vehicle_types)):
            begin, close = self.route_window(t)
            if begin > close:
                raise ProblemValidationError(
                    "vehicle_types", f"shift: routes cannot leave before {begin:g} s and must be back by {close:g} s "
                                     f"(shift and depot opening hours do not overlap)", t)
        bad = {i: r for i, r in self.unservable().items() if self.required[i]}
        if bad:
            i = min(bad)
            fld, why = bad[i]
            if len(self.vehicle_types) == 1:
                raise ProblemValidationError(fld, why, i)
            # the stop's being required is what cannot hold (an optional one would be accepted)
            raise ProblemValidationError(fld if fld != "vehicle_types" else "required",
                                         f"no vehicle type can serve this stop: {why}", i)

    # -- convenience --------------------------------------------------------------------

    @property
    def num_nodes(self) -> int:
        """Number of nodes, depot included."""
        return int(self.distance.shape[0])

    @property
    def num_customers(self) -> int:
        """Number of nodes to visit (all nodes but the depots / tour start)."""
        return self.num_nodes - self.num_depots

    @property
    def size(self) -> int:
        """n as instances are named in the field: nodes for ATSP (ATSP-100 has 100 nodes),
        customers for VRPs (ACVRP-100 has 100 customers and a depot)."""
        return self.num_nodes if self.kind is ProblemKind.ATSP else self.num_customers

    @property
    def customers(self) -> range:
        """The stops' node indices (``num_depots .. n - 1``)."""
        return range(self.num_depots, self.num_nodes)

    @property
    def depots(self) -> range:
        """The depots' node indices (``0 .. num_depots - 1``)."""
        return range(self.num_depots)

    @property
    def features(self) -> frozenset[str]:
        """The :data:`~hybridroute.fleet.FEATURES` this problem uses beyond one depot and one
        vehicle type; a backend must declare them all (``Solver.features``) to solve it."""
        out: set[str] = set()
        if self.num_depots > 1:
            out.add("multiple_depots")
        if len(self.vehicle_types) > 1:
            out.add("vehicle_types")
        if self.required is not None and not self.required.all():
            out.add("optional_stops")
        for vt in self.vehicle_types:
            out |= vt.features
        return frozenset(out)

    @property
    def optional(self) -> np.ndarray:
        """Indices of the optional stops (``required[i]`` False)."""
        return np.flatnonzero(~self.required)

    @property
    def cost_matrix(self) -> np.ndarray:
        """The matrix the objective sums over (distance in metres or duration in seconds)."""
        return self.duration if self.objective == "duration" else self.distance

    def id_of(self, index: int) -> Hashable:
        return _json_scalar(self.ids[index])

    def index_of(self, label: Hashable) -> int:
        if self.ids.dtype.kind == "O":  # numpy would broadcast a tuple label elementwise
            hits = [i for i, v in enumerate(self.ids.tolist()) if v == label]
        else:
            hits = np.flatnonzero(self.ids == label)
        if len(hits) == 0:
            raise KeyError(f"no node with id {label!r}")
        return int(hits[0])

    def replace(self, **changes: Any) -> "Problem":
        """A new Problem with some fields changed (this one is never mutated).

        Giving ``vehicle_types`` replaces the ``capacity`` / ``num_vehicles`` shorthand and
        the other way round, so either spelling of the fleet can be swapped in.
        """
        fields_ = self._fields()
        if "vehicle_types" in changes:
            fields_.update(capacity=None, num_vehicles=None)
        elif {"capacity", "num_vehicles"} & set(changes) and fields_["vehicle_types"] is not None:
            fields_["vehicle_types"] = None
        return Problem(**{**fields_, **changes})

    def _fields(self) -> dict[str, Any]:
        shorthand = len(self.vehicle_types) == 1 and self.vehicle_types[0].is_shorthand
        vrp = self.kind is not ProblemKind.ATSP
        return dict(
            kind=self.kind,
            distance=self.distance,
            duration=self.duration,
            coords=self.coords,
            ids=self.ids,
            demand=self.demand,
            capacity=self.capacity if shorthand else None,
            num_vehicles=None if self.kind is ProblemKind.ATSP or not shorthand else self.num_vehicles,
            time_windows=self.time_windows,
            service_time=self.service_time,
            objective=self.objective,
            name=self.name,
            time_origin=self.time_origin,
            time_format=self.time_format,
            num_depots=self.num_depots,
            vehicle_types=None if (shorthand or not vrp) else self.vehicle_types,
            required=self.required if vrp else None,
            prize=self.prize if vrp else None,
        )

    def __repr__(self) -> str:
        parts = [f"kind={self.kind.value}", f"n={self.num_nodes}", f"objective={self.objective!r}"]
        if self.name:
            parts.insert(0, f"name={self.name!r}")
        if self.capacity is not None:
            parts.append(f"capacity={self.capacity}")
        if self.kind is not ProblemKind.ATSP:
            parts.append(f"num_vehicles={self.num_vehicles}")
        if self.num_depots > 1:
            parts.append(f"num_depots={self.num_depots}")
        if len(self.vehicle_types) > 1:
            parts.append(f"vehicle_types={len(self.vehicle_types)}")
        if self.features:
            parts.append(f"features={sorted(self.features)}")
        if self.time_origin is not None:
            parts.append(f"time_origin={self.time_origin.isoformat(sep=' ')!r}")
        return f"Problem({', '.join(parts)})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Problem):
            return NotImplemented
        a, b = self._fields(), other._fields()
        for key in a:
            if key in _DISPLAY_FIELDS:
                continue
            x, y = a[key], b[key]
            if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
                if x is None or y is None or x.shape != y.shape or x.dtype.kind != y.dtype.kind:
                    return False
                if not np.array_equal(x, y):
                    return False
            elif x != y:
                return False
        return True

    __hash__ = None  # type: ignore[assignment]

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Unpickled arrays come back writeable; keep the Problem immutable in workers too.
        for key, value in state.items():
            if isinstance(value, np.ndarray):
                value.setflags(write=False)
            object.__setattr__(self, key, value)

    # -- JSON ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (floats kept exactly; ``inf`` written as ``Infinity``).

        ``time_origin`` (ISO 8601 text) and ``time_format`` are written only when set.
        """
        d: dict[str, Any] = {"format": "hybridroute.problem/1"}
        for key, value in self._fields().items():
            if (key == "time_origin" and value is None) or (key == "time_format" and value == "seconds") \
                    or (key == "num_depots" and value == 1) or (key == "vehicle_types" and value is None) \
                    or (key in ("required", "prize") and (value is None or not self.features & {"optional_stops"})):
                continue  # unset: the JSON of a problem without these features stays as it was
            if key == "vehicle_types":
                value = [vt.to_dict() for vt in value]
            if isinstance(value, _dt.datetime):
                value = value.isoformat()
            elif isinstance(value, ProblemKind):
                value = value.value
            elif isinstance(value, np.ndarray):
                value = value.tolist()
            d[key] = _json_scalar(value)
        d["ids_dtype"] = self.ids.dtype.str if self.ids.dtype.kind != "O" else "object"
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Problem":
        d = dict(d)
        fmt = d.pop("format", None)
        if fmt not in (None, "hybridroute.problem/1"):
            raise ProblemValidationError("format", f"unsupported format {fmt!r}")
        ids_dtype = d.pop("ids_dtype", None)
        if d.get("ids") is not None and ids_dtype not in (None, "object"):
            d["ids"] = np.asarray(d["ids"], dtype=np.dtype(ids_dtype))
        elif d.get("ids") is not None:
            d["ids"] = np.asarray(d["ids"], dtype=object)
        if d.get("demand") is not None:
            d["demand"] = np.asarray(d["demand"])
        return cls(**d)

    def to_json(self, path: str | None = None) -> str:
        try:
            text = json.dumps(self.to_dict())
        except TypeError as exc:
            raise ProblemValidationError("ids", f"cannot be written to JSON ({exc})") from None
        if path is not None:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
        return text

    @classmethod
    def from_json(cls, text_or_path: "str | os.PathLike[str]") -> "Problem":
        """A Problem from the JSON of :meth:`to_json`, given as text or as a file path.

        Raises
        ------
        ProblemValidationError
            Naming the file (or "JSON text") in the message: ``.field`` is ``"json"`` for text
            that is not JSON (the message gives the line and column, and ``__cause__`` is the
            :class:`json.JSONDecodeError`), that is not a JSON object, or a file that is not
            text; an unknown or missing key is reported under its own name; invalid data as
            in :class:`Problem` (same ``.field`` and ``.index``).
        FileNotFoundError
            The path does not exist.
        """
        is_text = isinstance(text_or_path, str) and text_or_path.lstrip()[:1] in ("{", "[")
        source = "JSON text" if is_text else str(text_or_path)
        text = text_or_path if is_text else _read_json_file(text_or_path)
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ProblemValidationError(
                "json", f"{source}, line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})") from exc
        if not isinstance(d, dict):
            raise ProblemValidationError(
                "json", f"{source}: expected a JSON object of the problem's fields, got a {type(d).__name__}")
        known = {"format", "ids_dtype", *(f for f in _INIT_FIELDS)}
        for key in d:
            if key not in known:
                raise ProblemValidationError(
                    key, f"{source}: unknown key {key!r}; known keys: {', '.join(sorted(known))}")
        for key in ("kind", "distance"):
            if key not in d:
                raise ProblemValidationError(key, f"{source}: the JSON object has no {key!r}")
        try:
            return cls.from_dict(d)
        except ProblemValidationError as exc:
            where = f" at index {exc.index}" if exc.index is not None else ""
            message = str(exc).removeprefix(f"{exc.field}{where}: ")
            raise ProblemValidationError(exc.field, f"{source}: {message}", exc.index) from exc
        except (TypeError, ValueError) as exc:  # e.g. an ids_dtype numpy does not know
            raise ProblemValidationError("json", f"{source}: {exc}") from exc

    # -- DataFrames (implemented in hybridroute.frames; pandas imported on demand) -------

    @classmethod
    def from_dataframe(cls, stops, distance=None, duration=None, **kwargs) -> "Problem":
        """Build a Problem from a stops DataFrame; see :func:`hybridroute.frames.problem_from_dataframe`."""
        from .frames import problem_from_dataframe

        return problem_from_dataframe(stops, distance=distance, duration=duration, **kwargs)

    def to_dataframe(self, times: str = "seconds"):
        """The stops DataFrame (inverse of :meth:`from_dataframe`); ``times`` as in
        :func:`hybridroute.frames.problem_to_dataframe`."""
        from .frames import problem_to_dataframe

        return problem_to_dataframe(self, times=times)

    @classmethod
    def from_osrm(cls, stops, client, **kwargs) -> "Problem":
        """Build a Problem from a stops DataFrame, with matrices from an OSRM server."""
        from .osrm.frames import problem_from_osrm

        return problem_from_osrm(stops, client, **kwargs)
