"""DataFrame column contract: stops in, stops and routes out.

pandas is imported by this module only, and ``import hybridroute`` does not import it: the
``Problem.from_dataframe`` / ``to_dataframe`` and ``Solution.to_dataframe`` /
``routes_summary`` methods load it on first use.

Stops frame
-----------
The input of :func:`problem_from_dataframe` and the output of :func:`problem_to_dataframe`:
one row per node (the depot included).

Column names are matched ignoring case, surrounding spaces and the difference between
``_``, ``-`` and a space (``Lat``, ``TW_Start``, ``is depot`` are read as ``lat``,
``tw_start``, ``is_depot``); two columns that match the same name are an error naming both.
Any other column is not read: an :class:`UnknownColumnWarning` lists each such column with
the closest known name, so that a misspelt ``tw_start`` cannot silently turn an ACVRPTW
into an ACVRP.

================  ========  ===================================================================
column            required  meaning
================  ========  ===================================================================
``id``            yes       the caller's label: any hashable, unique, not null. The Problem's
                            ``ids`` keep the column's dtype (a string column gives a numpy
                            ``str`` array, an object column an object array).
``lat``, ``lon``  no        coordinates in degrees (both or neither).
``demand``        no        demand in the units of ``capacity``; the depot's must be 0.
``tw_start``      no        earliest service start (0 when the column is absent); a time, see
                            *Time columns*.
``tw_end``        no        latest service start; ``inf`` allowed (``inf`` when the column is
                            absent). The depot's window is the vehicles' working day.
``service_time``  no        service duration (0 when absent); a time, see *Time columns*.
``is_depot``      no        boolean, exactly one True: the depot (the tour start for ATSP).
================  ========  ===================================================================

Time columns
------------
``tw_start``, ``tw_end`` and ``service_time`` each take one of these forms, the same in every
row of the column (``inf`` in ``tw_end`` goes with any form); the columns may differ:

* seconds: numbers, or strings of numbers (as a CSV gives them);
* clock strings ``"HH:MM"`` or ``"HH:MM:SS"``: minutes and seconds in two digits below 60,
  hours any number of digits, so ``"26:30"`` is 02:30 the next day and ``"08:30"`` is
  30600 s (a ``service_time`` of ``"00:05"`` is five minutes);
* ``datetime.time`` objects (without a time zone): seconds since midnight;
* durations: ``datetime.timedelta``, pandas ``Timedelta``, a ``timedelta64`` column;
* date-times: pandas ``Timestamp``, ``datetime.datetime``, a ``datetime64`` column or ISO
  strings such as ``"2026-12-03 08:30"``, only with ``time_origin=`` (a date-time, both with
  a time zone or both without): each becomes seconds since ``time_origin``.

Clock strings, times of day and durations count from ``time_origin`` too when one is given,
so give the day's midnight to read them as times of day. Inside the Problem every time is
seconds; ``Problem.time_origin`` keeps the origin and ``Problem.time_format`` records
``"clock"`` when a time column was not given in seconds, for outputs asked for with
``times="input"``. A date-time without ``time_origin``, a column that mixes forms (the
error names the first row that differs from the column's first value) and a value in none
of the forms (``"9h"``, ``"25:61"``, ``""``) are errors naming the column, the row, its id
and the value.

The depot is the row with ``is_depot == True``; without that column it is the row whose ``id``
equals the ``depot=`` argument; without both it is the first row. The Problem puts the depot
at node 0 and the other rows after it in row order.

Kind: when ``kind`` is None it is inferred from the columns: ``tw_start`` or ``tw_end`` gives
ACVRPTW, else ``demand`` gives ACVRP, else ATSP. With an explicit ``kind`` the columns that
kind does not use are ignored.

Matrices (``distance`` in metres, ``duration`` in seconds), each either

* an array-like n×n whose rows and columns follow the stops frame's *row order* (they are
  permuted together with the rows, so the depot moves to index 0), or
* a DataFrame indexed by id on both axes (index = from, columns = to). It is aligned by id
  label, never by position; it may hold more ids than the stops frame (e.g. a whole city's
  matrix), the extra ones are dropped. An id of the stops frame missing from its index or
  columns is an error naming that id.

Errors are :class:`~hybridroute.ProblemValidationError` (a ``ValueError``). ``.field`` names
the column (``"id"``, ``"demand"``, ``"tw_start"``, ``"tw_end"``, ``"service_time"``,
``"lat"``, ``"lon"``, ``"is_depot"``), the matrix (``"distance"``, ``"duration"``) or the
argument (``"depot"``, ``"capacity"``, ...); ``.index`` is the 0-based row *position* in the
stops frame (a ``(row, row)`` pair for a matrix entry), and the message also gives the id.

Solution frames
---------------
:func:`solution_to_dataframe`: one row per stop, routes in order. Each route has a ``"start"``
row at the depot (``sequence`` 0), its ``"visit"`` rows (``sequence`` 1..k) and an ``"end"``
row back at the depot. Columns: ``route`` (0-based, as in ``Solution.routes``), ``sequence``,
``stop``, ``node`` (index in the Problem), ``id``, ``lat``, ``lon``, ``arrival``,
``departure``, ``wait`` (seconds), ``load_after`` (demand units on board after the stop),
``leg_distance`` (metres), ``leg_duration`` (seconds). A leg is reported on the row it arrives
at (so the start row has NaN legs, and per route the ``leg_distance`` sum is the route's
distance). Columns a problem does not define (coordinates, loads for ATSP, times without a
duration matrix) are NaN.

``times="clock"`` writes ``arrival`` and ``departure`` as ``"HH:MM:SS"`` strings (hours may
pass 24), or as Timestamps when the problem has a ``time_origin``, and ``wait`` as an
``"HH:MM:SS"`` duration, each rounded to the second (undefined times: None / NaT);
``times="input"`` uses the form the problem's times were given in; the default is seconds.

:func:`solution_routes_summary`: one row per route with ``route``, ``stops`` (visits),
``distance`` (m), ``duration`` (s), ``load``, ``start_time``, ``end_time``, ``waiting`` (s)
and ``late`` (s, total lateness over the route's time-window violations); with
``times="clock"``, ``start_time``/``end_time`` are clock times (or Timestamps) and
``duration``, ``waiting`` and ``late`` are ``"HH:MM:SS"``.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import logging
import math
import numbers
import os
import re
import sys
import warnings
from decimal import Decimal
from typing import Any, Hashable, Sequence

import numpy as np
import pandas as pd

from .problem import Problem, ProblemKind, ProblemValidationError, _as_float_array, _check_time_origin
from .solution import Solution

__all__ = [
    "UnknownColumnWarning",
    "problem_from_dataframe",
    "problem_to_dataframe",
    "matrix_to_dataframe",
    "solution_to_dataframe",
    "solution_routes_summary",
]

logger = logging.getLogger(__name__)

STOP_COLUMNS = ("id", "lat", "lon", "demand", "tw_start", "tw_end", "service_time", "is_depot")

# Column -> dtype of the solution frame (also the schema of the empty frame).
SOLUTION_COLUMNS: dict[str, str] = {
    "route": "int64", "sequence": "int64", "stop": "object", "node": "int64", "id": "object",
    "lat": "float64", "lon": "float64", "arrival": "float64", "departure": "float64",
    "wait": "float64", "load_after": "float64", "leg_distance": "float64",
    "leg_duration": "float64",
}
SUMMARY_COLUMNS: dict[str, str] = {
    "route": "int64", "stops": "int64", "distance": "float64", "duration": "float64",
    "load": "float64", "start_time": "float64", "end_time": "float64", "waiting": "float64",
    "late": "float64",
}

# Problem fields -> the stops-frame column that carries them (for re-labelled errors).
# The time-window errors left to Problem after this module's own checks are reachability
# errors, i.e. about a window's end.
_COLUMN_OF_FIELD = {"ids": "id", "time_windows": "tw_end"}
_TIME_WINDOW_COLUMNS = ("tw_start", "tw_end")

# The forms a time column may be written in, as error messages name them.
_TIME_FORMS = {
    "seconds": "seconds (a number)",
    "clock": "a clock time 'HH:MM[:SS]'",
    "time": "a datetime.time",
    "duration": "a duration (Timedelta / timedelta)",
    "timestamp": "a date-time (Timestamp / datetime)",
}
_TIME_HELP = ("seconds, 'HH:MM' or 'HH:MM:SS' (hours may pass 24), datetime.time, a Timedelta, "
              "or a Timestamp with time_origin=")
# Minutes and seconds take two digits below 60; hours any number of digits ("26:30" is the
# next day), so that a clock string has exactly one reading.
_CLOCK_RE = re.compile(r"(\d+):([0-5]\d)(?::([0-5]\d))?", re.ASCII)
_DATETIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?", re.ASCII)
#: Values of the ``times=`` argument of the output functions.
TIMES = ("seconds", "clock", "input")

# Hints for the unknown-column warning where spelling similarity finds nothing (never
# applied: a column is only read under its own name, matched as the module docstring says).
_COLUMN_HINTS = {
    "latitude": "lat", "longitude": "lon", "lng": "lon", "long": "lon", "ready_time": "tw_start",
    "ready": "tw_start", "earliest": "tw_start", "open": "tw_start", "due_date": "tw_end",
    "due": "tw_end", "latest": "tw_end", "close": "tw_end", "service": "service_time",
    "depot": "is_depot", "load": "demand", "quantity": "demand", "name": "id", "label": "id",
}
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class UnknownColumnWarning(UserWarning):
    """A stops frame has columns hybridroute does not read; they are ignored."""


# -- column names --------------------------------------------------------------------------


def _column_key(label: Any) -> Any:
    """How a column name is matched: case, outer spaces and ``_``/``-``/space don't matter."""
    if not isinstance(label, str):
        return label
    return re.sub(r"[\s\-_]+", "_", label.strip()).casefold()


def _closest_column(label: Any, known: Sequence[str]) -> str | None:
    key = _column_key(str(label))
    if key in _COLUMN_HINTS and _COLUMN_HINTS[key] in known:
        return _COLUMN_HINTS[key]
    found = difflib.get_close_matches(key, [str(k) for k in known], n=1, cutoff=0.6)
    return found[0] if found else None


def _resolve_columns(stops: pd.DataFrame, extra: Sequence[Hashable] = ()) -> tuple[pd.DataFrame, list]:
    """The known columns of ``stops`` under their contract names, and the unknown column names.

    ``extra`` names further columns to keep (e.g. a batch's instance column). Two columns
    matching one name are a :class:`ProblemValidationError` naming both.
    """
    known = [*STOP_COLUMNS, *(c for c in extra if c not in STOP_COLUMNS)]
    keys = {_column_key(k): k for k in known}
    claims: dict[Hashable, list[int]] = {}
    unknown: list[Any] = []
    for pos, label in enumerate(stops.columns):
        name = label if any(label == k for k in known) else keys.get(_column_key(label))
        if name is None:
            unknown.append(label)
        else:
            claims.setdefault(name, []).append(pos)
    for name, positions in claims.items():
        if len(positions) > 1:
            a, b = (stops.columns[p] for p in positions[:2])
            why = (f"the stops frame has two columns named {a!r}" if a == b else
                   f"columns {a!r} and {b!r} both name the column {name!r} (names are matched "
                   f"ignoring case, spaces and '_'/'-')")
            raise ProblemValidationError(name, f"{why}; keep only one")
    positions = [p for ps in claims.values() for p in ps]
    frame = stops.iloc[:, positions]
    frame.columns = pd.Index(list(claims), dtype=object, tupleize_cols=False)
    renamed = [(stops.columns[p], name) for name, (p,) in claims.items() if stops.columns[p] != name]
    if renamed:
        logger.debug("reading columns %s", ", ".join(f"{a!r} as {b!r}" for a, b in renamed))
    return frame, unknown


def _warn_unknown_columns(unknown: list, known: Sequence[str], inferred: ProblemKind | None = None) -> None:
    """One :class:`UnknownColumnWarning` listing every unknown column with its closest known name."""
    if not unknown:
        return
    parts = []
    for label in unknown:
        close = _closest_column(label, known)
        parts.append(f"{label!r} (did you mean {close!r}?)" if close else f"{label!r} (no similar column)")
    kind = f"; the problem kind was inferred as {inferred.value} from the columns read" if inferred else ""
    _warn_outside_package(
        f"the stops frame has {len(unknown)} column{'s' if len(unknown) > 1 else ''} that hybridroute does not "
        f"read, ignored: {', '.join(parts)}{kind}. Known columns: {', '.join(known)}", UnknownColumnWarning)


def _warn_outside_package(message: str, category: type[Warning]) -> None:
    """``warnings.warn`` attributed to the first caller outside hybridroute (the user's line)."""
    level, frame = 1, sys._getframe(0)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)


# -- stops frame -> Problem ---------------------------------------------------------------


def problem_from_dataframe(
    stops: pd.DataFrame,
    distance: Any = None,
    duration: Any = None,
    *,
    kind: ProblemKind | str | None = None,
    capacity: float | None = None,
    num_vehicles: int | None = None,
    objective: str = "distance",
    name: str | None = None,
    depot: Hashable | None = None,
    time_origin: Any = None,
) -> Problem:
    """Build a :class:`~hybridroute.Problem` from a stops DataFrame (see the module docstring).

    Parameters
    ----------
    stops
        One row per node, with an ``id`` column and the optional columns of the contract.
    distance
        Distance matrix in metres: an n×n array in the stops' row order, or a DataFrame
        indexed by id on both axes.
    duration
        Travel-time matrix in seconds, same forms as ``distance``. Required for ACVRPTW.
    kind
        Problem kind; None infers it from the columns.
    capacity, num_vehicles, objective, name
        As in :class:`~hybridroute.Problem`.
    depot
        Id of the depot row, used when there is no ``is_depot`` column (default: first row).
    time_origin
        The date-time that time 0 stands for (a pandas ``Timestamp``, ``datetime`` or ISO 8601
        string). Required when a time column holds date-times; kept as
        ``Problem.time_origin`` so that outputs can show date-times.

    Returns
    -------
    Problem
        Depot at node 0, the other rows in row order.

    Raises
    ------
    ProblemValidationError
        Naming the column (``.field``) and the row position (``.index``) of the bad value;
        also when two columns match the same contract name (e.g. ``lat`` and ``Lat``), when a
        time column mixes forms or holds date-times without ``time_origin``.

    Warns
    -----
    UnknownColumnWarning
        Listing the columns that are not read, each with the closest known name.
    """
    if not isinstance(stops, pd.DataFrame):
        raise TypeError(f"stops must be a pandas DataFrame, got {type(stops).__name__}")
    stops, unknown = _resolve_columns(stops)
    inferred = _infer_kind(stops) if kind is None else None
    _warn_unknown_columns(unknown, STOP_COLUMNS, inferred)
    ids = _read_ids(stops)
    depot_row = _depot_row(stops, ids, depot)
    # order[node] = row position: the depot first, the other rows in row order.
    order = np.r_[depot_row, np.delete(np.arange(len(ids)), depot_row)]
    kind = inferred if kind is None else ProblemKind.parse(kind)
    _log_ignored_columns(stops, kind)
    origin = _check_time_origin(time_origin)
    coords = _read_coords(stops, ids)
    demand = _read_demand(stops, ids) if kind.has_capacity else None
    tw, svc, time_format = (_read_time_windows(stops, ids, origin) if kind.has_time_windows
                            else (None, None, "seconds"))
    dist = _read_matrix("distance", distance, ids, order)
    if dist is None:
        raise ProblemValidationError(
            "distance", "a distance matrix is required (an n×n array in row order or a DataFrame "
            "indexed by id); to query a road router use Problem.from_osrm")
    dur = _read_matrix("duration", duration, ids, order)
    try:
        return Problem(
            kind, dist, dur,
            coords=None if coords is None else coords[order],
            ids=ids[order],
            demand=None if demand is None else demand[order],
            capacity=capacity,
            num_vehicles=num_vehicles,
            time_windows=None if tw is None else tw[order],
            service_time=None if svc is None else svc[order],
            objective=objective,
            name=name,
            time_origin=origin,
            time_format=time_format,
        )
    except ProblemValidationError as exc:
        raise _in_frame_terms(exc, ids, order) from None


def _row_label(ids: np.ndarray, row: int) -> str:
    return f"row {row}, id {ids[row].item() if isinstance(ids[row], np.generic) else ids[row]!r}"


def _read_ids(stops: pd.DataFrame) -> np.ndarray:
    """The ``id`` column as a numpy array in row order, keeping its dtype (strings -> str)."""
    if "id" not in stops.columns:
        raise ProblemValidationError(
            "id", f"the stops frame needs an 'id' column; it has {list(map(str, stops.columns))}")
    col = stops["id"]
    if isinstance(col, pd.DataFrame):
        raise ProblemValidationError("id", "the stops frame has more than one 'id' column")
    if len(col) == 0:
        raise ProblemValidationError("id", "the stops frame has no rows")
    null = col.isna().to_numpy()
    if null.any():
        row = int(np.argmax(null))
        raise ProblemValidationError("id", f"row {row} has no id (null)", row)
    if isinstance(col.dtype, pd.StringDtype):
        ids = np.array(col.tolist(), dtype=str)
    elif isinstance(col.dtype, pd.api.extensions.ExtensionDtype) and hasattr(col.dtype, "numpy_dtype"):
        ids = col.to_numpy(dtype=col.dtype.numpy_dtype)  # nullable Int64 etc., nulls excluded above
    else:
        ids = col.to_numpy(copy=True)
    seen: dict[Any, int] = {}
    for row, v in enumerate(ids.tolist()):
        try:
            first = seen.setdefault(v, row)
        except TypeError:
            raise ProblemValidationError("id", f"id {v!r} in row {row} is not hashable", row) from None
        if first != row:
            raise ProblemValidationError("id", f"duplicate id {v!r} in row {row} (first in row {first})", row)
    return ids


def _depot_row(stops: pd.DataFrame, ids: np.ndarray, depot: Hashable | None) -> int:
    if "is_depot" in stops.columns:
        flags = _read_bool_column(stops, "is_depot")
        rows = np.flatnonzero(flags)
        if len(rows) != 1:
            raise ProblemValidationError(
                "is_depot", f"exactly one row must be True, found {len(rows)} (rows {rows.tolist()[:10]})",
                int(rows[1]) if len(rows) > 1 else None)
        row = int(rows[0])
        if depot is not None and ids[row] != depot:
            raise ProblemValidationError(
                "depot", f"depot={depot!r} disagrees with the is_depot column ({_row_label(ids, row)})", row)
        return row
    if depot is None:
        return 0
    hits = [row for row, v in enumerate(ids.tolist()) if v == depot]
    if not hits:
        raise ProblemValidationError("depot", f"no row has id {depot!r}")
    return hits[0]


def _read_bool_column(stops: pd.DataFrame, column: str) -> np.ndarray:
    col = stops[column]
    null = col.isna().to_numpy()
    if null.any():
        row = int(np.argmax(null))
        raise ProblemValidationError(column, f"row {row} is null; use True or False", row)
    if pd.api.types.is_bool_dtype(col.dtype):
        return col.to_numpy(dtype=bool)
    values = col.tolist()
    for row, v in enumerate(values):
        if not isinstance(v, (bool, np.bool_)):
            raise ProblemValidationError(column, f"must be True or False, row {row} holds {v!r}", row)
    return np.array(values, dtype=bool)


def _infer_kind(stops: pd.DataFrame) -> ProblemKind:
    if any(c in stops.columns for c in _TIME_WINDOW_COLUMNS):
        return ProblemKind.ACVRPTW
    if "demand" in stops.columns:
        return ProblemKind.ACVRP
    return ProblemKind.ATSP


def _log_ignored_columns(stops: pd.DataFrame, kind: ProblemKind) -> None:
    unused = []
    if not kind.has_capacity and "demand" in stops.columns:
        unused.append("demand")
    if not kind.has_time_windows:
        unused += [c for c in (*_TIME_WINDOW_COLUMNS, "service_time") if c in stops.columns]
    if unused:
        logger.info("kind %s does not use the columns %s; ignoring them", kind.value, unused)


def _numeric_column(stops: pd.DataFrame, column: str, ids: np.ndarray, *, allow_posinf: bool = False,
                    nonnegative: bool = True, keep_int: bool = False) -> np.ndarray:
    """A numeric column as a numpy array, with bad values reported by column and row."""
    col = stops[column]
    if pd.api.types.is_bool_dtype(col.dtype):
        raise ProblemValidationError(column, "must be numeric, got booleans")
    values = pd.to_numeric(col, errors="coerce")
    coerced = (values.isna() & col.notna()).to_numpy()
    if coerced.any():
        row = int(np.argmax(coerced))
        raise ProblemValidationError(
            column, f"{col.iloc[row]!r} is not a number ({_row_label(ids, row)})", row)
    if keep_int and pd.api.types.is_integer_dtype(values.dtype) and not values.isna().any():
        arr = values.to_numpy(dtype=np.int64)
    else:
        arr = values.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.isnan(arr) if arr.dtype.kind == "f" else np.zeros(len(arr), dtype=bool)
    if bad.any():
        row = int(np.argmax(bad))
        raise ProblemValidationError(column, f"missing value (NaN) in {_row_label(ids, row)}", row)
    if arr.dtype.kind == "f":
        bad = np.isneginf(arr) if allow_posinf else np.isinf(arr)
        if bad.any():
            row = int(np.argmax(bad))
            raise ProblemValidationError(column, f"value {arr[row]} is not finite ({_row_label(ids, row)})", row)
    if nonnegative and (arr < 0).any():
        row = int(np.argmax(arr < 0))
        raise ProblemValidationError(column, f"value {arr[row]} is negative ({_row_label(ids, row)})", row)
    return arr


def _read_coords(stops: pd.DataFrame, ids: np.ndarray) -> np.ndarray | None:
    has = [c in stops.columns for c in ("lat", "lon")]
    if not any(has):
        return None
    if not all(has):
        missing = "lon" if has[0] else "lat"
        raise ProblemValidationError(missing, "lat and lon come together: add the missing column or drop both")
    coords = np.column_stack([
        _numeric_column(stops, c, ids, nonnegative=False) for c in ("lat", "lon")])
    for j, (column, limit) in enumerate((("lat", 90.0), ("lon", 180.0))):
        out = np.abs(coords[:, j]) > limit
        if out.any():
            row = int(np.argmax(out))
            raise ProblemValidationError(
                column, f"{coords[row, j]} is outside [-{limit:g}, {limit:g}] degrees ({_row_label(ids, row)})", row)
    return coords


def _read_demand(stops: pd.DataFrame, ids: np.ndarray) -> np.ndarray:
    if "demand" not in stops.columns:
        raise ProblemValidationError("demand", "capacitated kinds need a 'demand' column")
    return _numeric_column(stops, "demand", ids, keep_int=True)


def _read_time_windows(stops: pd.DataFrame, ids: np.ndarray,
                       origin: _dt.datetime | None) -> tuple[np.ndarray, np.ndarray, str]:
    """Windows (n×2) and service times in seconds, and the Problem's ``time_format``."""
    if not any(c in stops.columns for c in _TIME_WINDOW_COLUMNS):
        raise ProblemValidationError("tw_end", "ACVRPTW needs a 'tw_start' and/or 'tw_end' column (seconds)")
    n = len(ids)
    forms = {}
    start, end, svc = np.zeros(n), np.full(n, np.inf), np.zeros(n)
    if "tw_start" in stops.columns:
        start, forms["tw_start"] = _time_column(stops, "tw_start", ids, origin)
    if "tw_end" in stops.columns:
        end, forms["tw_end"] = _time_column(stops, "tw_end", ids, origin, allow_posinf=True)
    after = start > end
    if after.any():
        row = int(np.argmax(after))
        raise ProblemValidationError(
            "tw_start", f"tw_start {_show_seconds(start[row])} is after tw_end {_show_seconds(end[row])} "
                        f"({_row_label(ids, row)})", row)
    if "service_time" in stops.columns:
        svc, forms["service_time"] = _time_column(stops, "service_time", ids, origin)
    time_format = "seconds" if set(forms.values()) <= {"seconds"} else "clock"
    return np.column_stack([start, end]), svc, time_format


def _show_seconds(seconds: float) -> str:
    """``"30600 s (08:30:00)"``: seconds, with the clock reading where it is a finite time."""
    if not math.isfinite(seconds) or seconds < 0:
        return f"{seconds:g} s"
    return f"{seconds:g} s ({_clock_text(seconds)})"


# -- time columns: seconds, clock strings, time of day, durations, date-times -------------


def _time_column(stops: pd.DataFrame, column: str, ids: np.ndarray, origin: _dt.datetime | None, *,
                 allow_posinf: bool = False) -> tuple[np.ndarray, str]:
    """A time column in seconds (float64) and the form it was written in (a key of ``_TIME_FORMS``).

    Numeric columns are read as seconds. Other columns are read value by value: each value is
    one of the forms in ``_TIME_FORMS``, every row of a column in the same form (an ``inf``
    ``tw_end`` goes with any form), date-times only with a ``time_origin``.
    """
    col = stops[column]
    if pd.api.types.is_numeric_dtype(col.dtype):
        return _numeric_column(stops, column, ids, allow_posinf=allow_posinf).astype(np.float64), "seconds"
    base = None if origin is None else pd.Timestamp(origin)
    values = col.tolist()
    missing = col.isna().to_numpy()
    seconds = np.full(len(values), np.nan)
    first: tuple[str, int] | None = None  # (form, row) of the first row that sets the column's form
    for row, value in enumerate(values):
        if missing[row]:
            continue  # reported as a missing value below, like in numeric columns
        form, seconds[row] = _time_value(value, column, ids, row, base)
        if form is None:  # inf has no form of its own (an open tw_end; -inf is refused below)
            continue
        if first is None:
            first = (form, row)
        elif form != first[0]:
            f0, r0 = first
            raise ProblemValidationError(
                column, f"mixes forms: {_row_label(ids, r0)} holds {_TIME_FORMS[f0]} ({values[r0]!r}) but "
                        f"{_row_label(ids, row)} holds {_TIME_FORMS[form]} ({value!r}); write the whole "
                        f"column in one form", row)
    form = "seconds" if first is None else first[0]
    _check_time_values(column, seconds, ids, values, allow_posinf, form, base)
    return seconds, form


def _time_value(value: Any, column: str, ids: np.ndarray, row: int,
                origin: pd.Timestamp | None) -> tuple[str | None, float]:
    """``(form, seconds)`` of one non-null cell of a time column (form None for ``inf``)."""
    where = _row_label(ids, row)
    if isinstance(value, str):
        return _time_text(value, column, where, row, origin)
    if isinstance(value, (bool, np.bool_)):
        raise ProblemValidationError(column, f"{value!r} is a boolean, not a time ({where}); give {_TIME_HELP}", row)
    if isinstance(value, (_dt.datetime, np.datetime64)):
        return "timestamp", _since_origin(pd.Timestamp(value), value, column, where, row, origin)
    if isinstance(value, (_dt.timedelta, np.timedelta64)):
        return "duration", pd.Timedelta(value).total_seconds()
    if isinstance(value, _dt.time):
        if value.tzinfo is not None:
            raise ProblemValidationError(
                column, f"{value!r} has a time zone ({where}); give a time without one, or a Timestamp "
                        f"with time_origin=", row)
        return "time", value.hour * 3600.0 + value.minute * 60.0 + value.second + value.microsecond / 1e6
    if isinstance(value, _dt.date):
        raise ProblemValidationError(
            column, f"{value!r} is a date without a time of day ({where}); give {_TIME_HELP}", row)
    if isinstance(value, (numbers.Real, Decimal)):
        seconds = float(value)
        return (None if math.isinf(seconds) else "seconds"), seconds
    raise ProblemValidationError(
        column, f"{value!r} ({type(value).__name__}) is not a time ({where}); give {_TIME_HELP}", row)


def _time_text(value: str, column: str, where: str, row: int,
               origin: pd.Timestamp | None) -> tuple[str | None, float]:
    text = value.strip()
    clock = _CLOCK_RE.fullmatch(text)
    if clock:
        h, m, sec = clock.groups()
        return "clock", int(h) * 3600.0 + int(m) * 60.0 + int(sec or 0)
    if _DATETIME_RE.fullmatch(text):
        try:
            stamp = pd.Timestamp(text)
        except ValueError:
            stamp = None  # e.g. month 13: reported as not a time below
        if stamp is not None:
            return "timestamp", _since_origin(stamp, value, column, where, row, origin)
    try:
        # "_" is refused: float() reads "1_000" as 1000, which no CSV means
        seconds = float(text) if text and "_" not in text else None
    except ValueError:
        seconds = None
    if seconds is None:
        raise ProblemValidationError(column, f"{value!r} is not a time ({where}); give {_TIME_HELP}", row)
    return (None if math.isinf(seconds) else "seconds"), seconds


def _since_origin(stamp: pd.Timestamp, value: Any, column: str, where: str, row: int,
                  origin: pd.Timestamp | None) -> float:
    """Seconds from ``origin`` to ``stamp``; an error naming the cell when there is no origin."""
    if origin is None:
        raise ProblemValidationError(
            column, f"{where} holds a date-time ({value!r}) but no time_origin was given; pass "
                    f"time_origin= (a Timestamp or datetime, e.g. the day's midnight) and times become "
                    f"seconds since it", row)
    if (stamp.tzinfo is None) != (origin.tzinfo is None):
        has, lacks = ("the value", "time_origin") if stamp.tzinfo is not None else ("time_origin", "the value")
        raise ProblemValidationError(
            column, f"{value!r} ({where}): {has} has a time zone and {lacks} has none; give both with "
                    f"or both without", row)
    return (stamp - origin).total_seconds()


def _check_time_values(column: str, seconds: np.ndarray, ids: np.ndarray, values: list, allow_posinf: bool,
                       form: str, origin: pd.Timestamp | None) -> None:
    """Missing, infinite and negative times, reported with the cell as it was written."""
    bad = np.isnan(seconds)
    if bad.any():
        row = int(np.argmax(bad))
        raise ProblemValidationError(column, f"missing value (NaN) in {_row_label(ids, row)}", row)
    bad = np.isneginf(seconds) if allow_posinf else np.isinf(seconds)
    if bad.any():
        row = int(np.argmax(bad))
        raise ProblemValidationError(
            column, f"value {values[row]!r} is not finite ({_row_label(ids, row)})", row)
    bad = seconds < 0
    if bad.any():
        row = int(np.argmax(bad))
        what = f"is before time_origin {origin}" if form == "timestamp" else "is negative"
        raise ProblemValidationError(
            column, f"value {values[row]!r} {what} ({_row_label(ids, row)})", row)


def _read_matrix(name: str, value: Any, ids: np.ndarray, order: np.ndarray) -> np.ndarray | None:
    """The matrix in node order (depot first), from an array in row order or an id-indexed frame."""
    if value is None:
        return None
    if isinstance(value, pd.DataFrame):
        return _align_matrix_frame(name, value, ids, order)
    arr = _matrix_values(name, value, ids, np.arange(len(ids)))
    n = len(ids)
    if arr.shape != (n, n):
        raise ProblemValidationError(
            name, f"has shape {arr.shape} but the stops frame has {n} rows; expected ({n}, {n}) in row order")
    return arr[np.ix_(order, order)]


def _align_matrix_frame(name: str, frame: pd.DataFrame, ids: np.ndarray, order: np.ndarray) -> np.ndarray:
    for axis, labels in (("index", frame.index), ("columns", frame.columns)):
        if not labels.is_unique:
            dup = labels[labels.duplicated()][0]
            raise ProblemValidationError(name, f"the matrix frame's {axis} repeats id {dup!r}")
    # tupleize_cols=False: tuple ids are labels, not a MultiIndex.
    wanted = pd.Index(ids[order].tolist(), dtype=object, tupleize_cols=False)
    positions = []
    for axis, labels in (("row (index)", frame.index), ("column", frame.columns)):
        pos = labels.get_indexer(wanted)
        if (pos < 0).any():
            node = int(np.argmax(pos < 0))
            row = int(order[node])
            raise ProblemValidationError(
                name, f"the matrix frame has no {axis} for id {wanted[node]!r} ({_row_label(ids, row)})", row)
        positions.append(pos)
    block = frame.iloc[positions[0], positions[1]]
    return _matrix_values(name, block.to_numpy(), ids, order)


def _matrix_values(name: str, value: Any, ids: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """A matrix as float64, refusing booleans, strings and ragged rows like :class:`Problem` does.

    ``rows[k]`` is the stops-frame row of the matrix's k-th row/column, for the error's index.
    """
    try:
        return _as_float_array(name, value)
    except ProblemValidationError as exc:
        index = exc.index
        message = str(exc).removeprefix(f"{exc.field}{f' at index {index}' if index is not None else ''}: ")
        if isinstance(index, tuple) and len(index) == 2 and all(i < len(rows) for i in index):
            index = (int(rows[index[0]]), int(rows[index[1]]))
            message += f" (from {_row_label(ids, index[0])} to {_row_label(ids, index[1])})"
        elif isinstance(index, int) and index < len(rows):
            index = int(rows[index])
            message += f" ({_row_label(ids, index)})"
        else:
            index = None
        raise ProblemValidationError(name, message, index) from None


def _in_frame_terms(exc: ProblemValidationError, ids: np.ndarray, order: np.ndarray) -> ProblemValidationError:
    """Re-label a Problem error: node indices -> stops-frame row positions, fields -> columns."""
    where = f" at index {exc.index}" if exc.index is not None else ""
    text = str(exc)
    prefix = f"{exc.field}{where}: "
    message = text[len(prefix):] if text.startswith(prefix) else text
    field = _COLUMN_OF_FIELD.get(exc.field, exc.field)
    index = exc.index
    if isinstance(index, int):
        index = int(order[index])
        message += f" ({_row_label(ids, index)})"
    elif isinstance(index, tuple):
        index = tuple(int(order[i]) for i in index)
        message += f" (from {_row_label(ids, index[0])} to {_row_label(ids, index[1])})"
    return ProblemValidationError(field, message, index)


# -- times out: seconds or clock --------------------------------------------------------


def _clock_text(seconds: float) -> str:
    """``seconds`` as ``"HH:MM:SS"``, rounded to the second; hours may pass 24 (``"26:30:00"``)."""
    total = math.floor(abs(seconds) + 0.5)
    hours, rest = divmod(total, 3600)
    sign = "-" if seconds < 0 and total else ""
    return f"{sign}{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


def _output_form(problem: Problem, times: str) -> str:
    """``"seconds"`` or ``"clock"`` for a ``times=`` argument (``"input"``: as the problem was given)."""
    if times not in TIMES:
        raise ValueError(f"times must be one of {', '.join(map(repr, TIMES))}, got {times!r}")
    return problem.time_format if times == "input" else times


def _durations_as_clock(values: Any) -> pd.Series:
    """Seconds as ``"HH:MM:SS"`` strings (object dtype); NaN -> None, ``inf`` kept as a float."""
    out = [None if math.isnan(v) else v if math.isinf(v) else _clock_text(v)
           for v in np.asarray(values, dtype=np.float64).tolist()]
    return pd.Series(out, dtype=object)


def _instants_as_clock(values: Any, origin: _dt.datetime | None) -> pd.Series:
    """Seconds as clock strings, or as Timestamps rounded to the second when there is an origin.

    Undefined times (NaN) become None / NaT; ``inf`` (an open window end) stays a float.
    """
    if origin is None:
        return _durations_as_clock(values)
    arr = np.asarray(values, dtype=np.float64)
    # rounded half up like the strings (Timestamp.round would round half to even)
    whole = np.floor(np.where(np.isfinite(arr), arr, np.nan) + 0.5)
    stamps = pd.Series(pd.Timestamp(origin) + pd.to_timedelta(whole, unit="s"))
    if not np.isinf(arr).any():
        return stamps
    out = stamps.astype(object)
    out[np.isinf(arr)] = np.inf
    return out


def _clock_columns(frame: pd.DataFrame, problem: Problem, instants: Sequence[str],
                   durations: Sequence[str]) -> pd.DataFrame:
    """``frame`` with its time columns in clock form (instants from ``problem.time_origin``)."""
    for c in instants:
        frame[c] = _instants_as_clock(frame[c].to_numpy(dtype=np.float64), problem.time_origin).set_axis(frame.index)
    for c in durations:
        frame[c] = _durations_as_clock(frame[c].to_numpy(dtype=np.float64)).set_axis(frame.index)
    return frame


# -- Problem -> frames ---------------------------------------------------------------------


def _ids_series(ids: np.ndarray) -> pd.Series:
    """The ids as a Series that converts back to the same numpy dtype kind."""
    if ids.dtype.kind == "O":
        return pd.Series(ids, dtype=object)
    if ids.dtype.kind != "U":
        return pd.Series(ids)
    series = pd.Series(ids.tolist(), dtype=str)
    if not isinstance(series.dtype, pd.StringDtype):
        series = series.astype("string")  # pandas 2 infers object for strings
    return series


def problem_to_dataframe(problem: Problem, times: str = "seconds") -> pd.DataFrame:
    """The stops frame of ``problem`` (inverse of :func:`problem_from_dataframe`).

    Parameters
    ----------
    problem
        The instance.
    times
        ``"seconds"`` (default), ``"clock"`` (windows as ``"HH:MM:SS"``, or Timestamps when
        the problem has a ``time_origin``; ``service_time`` as ``"HH:MM:SS"``; rounded to the
        second, an open ``tw_end`` stays ``inf``) or ``"input"`` (as the problem was given).

    Returns
    -------
    pandas.DataFrame
        One row per node in node order (depot first): ``id``, then ``lat``/``lon`` when the
        problem has coordinates, ``demand`` and ``is_depot`` for capacitated kinds,
        ``tw_start``/``tw_end``/``service_time`` (seconds) for ACVRPTW. Passing it back to
        :func:`problem_from_dataframe` with the matrices and the scalar settings (capacity,
        num_vehicles, objective, name, time_origin) gives an equal Problem.
    """
    form = _output_form(problem, times)
    data: dict[str, Any] = {"id": _ids_series(problem.ids)}
    if problem.coords is not None:
        data["lat"] = problem.coords[:, 0].copy()
        data["lon"] = problem.coords[:, 1].copy()
    if problem.demand is not None:
        data["demand"] = problem.demand.copy()
    if problem.time_windows is not None:
        data["tw_start"] = problem.time_windows[:, 0].copy()
        data["tw_end"] = problem.time_windows[:, 1].copy()
        data["service_time"] = problem.service_time.copy()
    if problem.kind.has_capacity:
        data["is_depot"] = np.arange(problem.num_nodes) == problem.depot
    frame = pd.DataFrame(data)
    if form == "clock" and problem.time_windows is not None:
        frame = _clock_columns(frame, problem, ("tw_start", "tw_end"), ("service_time",))
    return frame


def _ids_index(ids: np.ndarray, name: str) -> pd.Index:
    if ids.dtype.kind == "O":
        return pd.Index(ids.tolist(), dtype=object, tupleize_cols=False, name=name)
    return pd.Index(ids.tolist() if ids.dtype.kind == "U" else ids, name=name)


def matrix_to_dataframe(problem: Problem, which: str = "distance") -> pd.DataFrame:
    """A matrix of ``problem`` as a DataFrame indexed by id (index "from", columns "to").

    Parameters
    ----------
    problem
        The instance.
    which
        ``"distance"`` (metres) or ``"duration"`` (seconds).

    Returns
    -------
    pandas.DataFrame
        A writable copy; ``frame.loc[a, b]`` is the a→b entry.
    """
    if which not in ("distance", "duration"):
        raise ValueError(f"which must be 'distance' or 'duration', got {which!r}")
    matrix = getattr(problem, which)
    if matrix is None:
        raise ProblemValidationError(which, "this problem has no duration matrix")
    return pd.DataFrame(matrix.copy(), index=_ids_index(problem.ids, "from"),
                        columns=_ids_index(problem.ids, "to"))


# -- Solution -> frames --------------------------------------------------------------------


def _empty_frame(schema: dict[str, str], ids: np.ndarray | None = None) -> pd.DataFrame:
    cols = {c: pd.Series(dtype=t) for c, t in schema.items()}
    if ids is not None and "id" in cols:
        cols["id"] = _ids_series(ids[:0])
    return pd.DataFrame(cols)


def _route_rows(problem: Problem, stats) -> dict[str, np.ndarray]:
    """The start / visit / end rows of one scheduled route, as column arrays."""
    k = len(stats.nodes)
    nan = np.full(k + 2, np.nan)
    timed = problem.duration is not None
    svc0 = float(problem.service_time[stats.start_depot]) if problem.service_time is not None else 0.0
    cols = {
        "node": np.concatenate([[stats.start_depot], np.asarray(stats.nodes, dtype=np.int64), [stats.end_depot]]),
        "arrival": np.r_[np.nan, stats.arrival, stats.end_time] if timed else nan,
        "departure": np.r_[stats.start_time + svc0, stats.departure, np.nan] if timed else nan,
        # No waiting happens at the depot: a route leaves when it must (late departure).
        "wait": np.r_[0.0, stats.wait, 0.0] if timed else nan,
        "load_after": (np.r_[0.0, stats.load_after, stats.load] if problem.demand is not None else nan),
        "leg_distance": np.r_[np.nan, stats.leg_distance, stats.return_distance],
        "leg_duration": np.r_[np.nan, stats.leg_duration, stats.return_duration] if timed else nan,
    }
    return cols


def _unscheduled_rows(problem: Problem, route: tuple[int, ...]) -> dict[str, np.ndarray]:
    """Rows of a route that evaluate() could not schedule (it visits unknown nodes)."""
    nan = np.full(len(route) + 2, np.nan)
    cols = {c: nan for c in ("arrival", "departure", "wait", "load_after", "leg_distance", "leg_duration")}
    cols["node"] = np.concatenate([[0], np.asarray(route, dtype=np.int64), [0]])
    return cols


def solution_to_dataframe(solution: Solution, times: str = "seconds") -> pd.DataFrame:
    """One row per stop of ``solution`` (see the module docstring for the columns).

    Parameters
    ----------
    solution
        Any Solution; an empty or NO_SOLUTION one gives an empty frame with the same columns.
    times
        ``"seconds"`` (default): ``arrival``, ``departure`` and ``wait`` in seconds.
        ``"clock"``: ``arrival`` and ``departure`` as ``"HH:MM:SS"`` strings (Timestamps when
        the problem has a ``time_origin``) and ``wait`` as ``"HH:MM:SS"``, rounded to the
        second. ``"input"``: the form the problem's times were given in
        (``Problem.time_format``).

    Returns
    -------
    pandas.DataFrame
        Distances in metres, ``leg_duration`` in seconds, loads in demand units.
    """
    frame = _solution_frame(solution)
    if _output_form(solution.problem, times) == "clock":
        frame = _clock_columns(frame, solution.problem, ("arrival", "departure"), ("wait",))
    return frame


def _solution_frame(solution: Solution) -> pd.DataFrame:
    problem = solution.problem
    if not solution.routes:
        return _empty_frame(SOLUTION_COLUMNS, problem.ids)
    scheduled = len(solution.route_stats) == len(solution.routes)
    parts = []
    for r, route in enumerate(solution.routes):
        cols = _route_rows(problem, solution.route_stats[r]) if scheduled else _unscheduled_rows(problem, route)
        k = len(route)
        cols["route"] = np.full(k + 2, r, dtype=np.int64)
        cols["sequence"] = np.arange(k + 2, dtype=np.int64)
        cols["stop"] = np.array(["start"] + ["visit"] * k + ["end"], dtype=object)
        parts.append(cols)
    data = {c: np.concatenate([p[c] for p in parts]) for c in SOLUTION_COLUMNS if c not in ("id", "lat", "lon")}
    nodes = data["node"]
    known = (nodes >= 0) & (nodes < problem.num_nodes)
    if known.all():
        data["id"] = _ids_series(problem.ids[nodes])
    else:  # unknown node indices have no id
        data["id"] = pd.Series([problem.id_of(v) if ok else None for v, ok in zip(nodes, known)], dtype=object)
    for j, c in enumerate(("lat", "lon")):
        data[c] = np.full(len(nodes), np.nan)
        if problem.coords is not None:
            data[c][known] = problem.coords[nodes[known], j]
    return pd.DataFrame({c: data[c] for c in SOLUTION_COLUMNS})


def solution_routes_summary(solution: Solution, times: str = "seconds") -> pd.DataFrame:
    """One row per route of ``solution``.

    Parameters
    ----------
    solution
        Any Solution; an empty or NO_SOLUTION one gives an empty frame with the same columns.
    times
        ``"seconds"`` (default), ``"clock"`` (``start_time``/``end_time`` as ``"HH:MM:SS"``,
        or Timestamps when the problem has a ``time_origin``; ``duration``, ``waiting`` and
        ``late`` as ``"HH:MM:SS"``; rounded to the second) or ``"input"`` (as the problem's
        times were given).

    Returns
    -------
    pandas.DataFrame
        ``route``, ``stops`` (number of visits), ``distance`` (m), ``duration`` (s),
        ``load``, ``start_time``, ``end_time``, ``waiting`` (s) and ``late`` (s: total
        lateness of the route's ``time_window`` and ``depot_time_window`` violations). Values
        the problem does not define (loads for ATSP, times without durations) are NaN.
    """
    frame = _summary_frame(solution)
    if _output_form(solution.problem, times) == "clock":
        frame = _clock_columns(frame, solution.problem, ("start_time", "end_time"), ("duration", "waiting", "late"))
    return frame


def _summary_frame(solution: Solution) -> pd.DataFrame:
    problem = solution.problem
    if not solution.routes:
        return _empty_frame(SUMMARY_COLUMNS)
    late = np.zeros(len(solution.routes))
    for v in solution.violations:
        if v.kind in ("time_window", "depot_time_window") and v.route is not None:
            late[v.route] += v.amount
    timed = problem.duration is not None
    rows = []
    for r, route in enumerate(solution.routes):
        row = {c: np.nan for c in SUMMARY_COLUMNS}
        row.update(route=r, stops=len(route))
        if len(solution.route_stats) == len(solution.routes):
            s = solution.route_stats[r]
            row["distance"] = s.distance
            if problem.demand is not None:
                row["load"] = s.load
            if timed:
                row.update(duration=s.duration, start_time=s.start_time, end_time=s.end_time,
                           waiting=float(s.wait.sum()), late=float(late[r]))
        rows.append(row)
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS)).astype(SUMMARY_COLUMNS)
