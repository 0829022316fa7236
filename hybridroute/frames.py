"""DataFrame column contract: stops and vehicles in, stops, routes and vehicles out.

pandas is imported by this module only, and ``import hybridroute`` does not import it: the
``Problem.from_dataframe`` / ``to_dataframe`` and ``Solution.to_dataframe`` /
``routes_summary`` methods load it on first use.

Stops frame
-----------
The input of :func:`problem_from_dataframe` and the output of :func:`problem_to_dataframe`:
one row per node (the depots included).

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
``demand``        no        demand in the units of ``capacity``; the depots' must be 0.
``tw_start``      no        earliest service start (0 when the column is absent); a time, see
                            *Time columns*.
``tw_end``        no        latest service start; ``inf`` allowed (``inf`` when the column is
                            absent). A depot's window is its opening hours: routes leave it
                            no earlier than its start and are back by its end.
``service_time``  no        service duration (0 when absent); a time, see *Time columns*.
``is_depot``      no        boolean (True / False), at least one True: the depots (the tour
                            start for ATSP, which has exactly one).
``required``      no        whether the stop must be visited: booleans, ``1``/``0``,
                            ``"yes"``/``"no"``, ``"true"``/``"false"`` (any case); an empty
                            cell means required, the default. A depot cannot be optional.
``prize``         no        what leaving an optional stop out costs, in the objective's units
                            (metres, or seconds with ``objective="duration"``); empty: 0.
                            Ignored for required stops.
================  ========  ===================================================================

Time columns
------------
``tw_start``, ``tw_end`` and ``service_time`` (and the time columns of the vehicles frame)
each take one of these forms, the same in every row of the column (``inf`` in ``tw_end``,
``shift_end`` and ``break_end`` goes with any form); the columns may differ:

* seconds: numbers, or strings of numbers (as a CSV gives them);
* clock strings ``"HH:MM"`` or ``"HH:MM:SS"``: minutes and seconds in two digits below 60,
  hours any number of digits, so ``"26:30"`` is 02:30 the next day and ``"08:30"`` is
  30600 s (a ``service_time`` of ``"00:05"`` is five minutes);
* ``datetime.time`` objects (without a time zone): seconds since midnight;
* durations: ``datetime.timedelta``, pandas ``Timedelta``, a ``timedelta64`` column;
* date-times: pandas ``Timestamp``, ``datetime.datetime``, a ``datetime64`` column or ISO
  strings such as ``"2026-12-03 08:30"``, only with ``time_origin=`` (a date-time, both with
  a time zone or both without): each becomes seconds since ``time_origin``. Not in the
  duration columns of the vehicles frame (``max_duration``, ``break_duration``).

Clock strings, times of day and durations count from ``time_origin`` too when one is given,
so give the day's midnight to read them as times of day. Inside the Problem every time is
seconds; ``Problem.time_origin`` keeps the origin and ``Problem.time_format`` records
``"clock"`` when a time column (of either frame) was not given in seconds, for outputs asked
for with ``times="input"``. A date-time without ``time_origin``, a column that mixes forms
(the error names the first row that differs from the column's first value) and a value in
none of the forms (``"9h"``, ``"25:61"``, ``""``) are errors naming the column, the row, its
id and the value.

Depots: the rows with ``is_depot == True``, in row order; without that column the row whose
``id`` equals the ``depot=`` argument (a list of ids for several depots); without both the
first row. The Problem puts the depots first (nodes ``0 .. num_depots - 1``, in row order)
and the other rows after them in row order; ``ids`` are kept.

Kind: when ``kind`` is None it is inferred from the columns: ``tw_start`` or ``tw_end`` gives
ACVRPTW, else ``demand`` gives ACVRP, else ATSP. With an explicit ``kind`` the columns that
kind does not use are ignored.

Vehicles frame
--------------
The ``vehicles=`` argument of :func:`problem_from_dataframe` and the output of
:func:`vehicles_to_dataframe`: one row per vehicle type (a
:class:`~hybridroute.VehicleType`), in place of the ``capacity`` / ``num_vehicles``
shorthand (giving both is an error). Column names are matched as in the stops frame; other
columns are reported by an :class:`UnknownColumnWarning`. An empty cell takes the default.

==================  ===================================================================
column              meaning (default when the column or the cell is empty)
==================  ===================================================================
``name``            the type's label, unique (none: outputs show the type's row index).
``count``           how many vehicles of the type exist, a positive integer (as many
                    as needed).
``capacity``        load limit per route in demand units; required for ACVRP / ACVRPTW.
``start_depot``     id of the depot (a stops-frame row with ``is_depot``) routes start
                    from (the first depot).
``end_depot``       id of the depot routes end at (their ``start_depot``).
``shift_start``     earliest departure, a time (0; see *Time columns*).
``shift_end``       latest return, a time; ``inf`` allowed (``inf``). A shift needs a
                    duration matrix.
``max_duration``    longest route, a duration: seconds, ``"HH:MM[:SS]"`` or a
                    Timedelta; ``inf`` allowed (no limit).
``max_distance``    longest route in metres (no limit).
``fixed_cost``      cost of each used vehicle, in the objective's units (0).
``break_start``     earliest start of the type's break, a time (0).
``break_end``       latest start of the break (like ``tw_end`` for a stop), a time;
                    ``inf`` allowed (``inf``).
``break_duration``  length of the break, a duration. A type without a break leaves the
                    three break columns empty; a break needs ``break_duration``.
==================  ===================================================================

Errors in the vehicles frame are :class:`~hybridroute.ProblemValidationError` with
``.field`` ``"vehicles.<column>"`` (``"vehicles.capacity"``) and ``.index`` the 0-based row
position in the vehicles frame; the message gives the row and the type's name.

Matrices
--------
``distance`` in metres, ``duration`` in seconds, each either

* an array-like n×n whose rows and columns follow the stops frame's *row order* (they are
  permuted together with the rows, so the depots move to the first indices), or
* a DataFrame indexed by id on both axes (index = from, columns = to). It is aligned by id
  label, never by position; it may hold more ids than the stops frame (e.g. a whole city's
  matrix), the extra ones are dropped. An id of the stops frame missing from its index or
  columns is an error naming that id.

Errors are :class:`~hybridroute.ProblemValidationError` (a ``ValueError``). ``.field`` names
the column (``"id"``, ``"demand"``, ``"tw_start"``, ``"tw_end"``, ``"service_time"``,
``"lat"``, ``"lon"``, ``"is_depot"``, ``"required"``, ``"prize"``), the vehicles frame's
column (``"vehicles.capacity"``, ...), the matrix (``"distance"``, ``"duration"``) or the
argument (``"depot"``, ``"capacity"``, ``"vehicles"``, ...); ``.index`` is the 0-based row
*position* in the stops frame (a ``(row, row)`` pair for a matrix entry) or, for a
``vehicles.*`` field, in the vehicles frame, and the message also gives the id (the name).
A required stop that no vehicle type can serve is reported at its stops row, with the
binding constraint as ``.field``: ``"demand"``, ``"tw_end"``, ``"shift"``,
``"max_duration"``, ``"max_distance"``, or ``"vehicles"`` when the types differ.

Solution frames
---------------
:func:`solution_to_dataframe`: rows in route order, each route's rows in time order. Each
route has a ``"start"`` row at its start depot (``sequence`` 0), its ``"visit"`` rows
(``sequence`` 1..k) and an ``"end"`` row at its end depot. A break taken on the route is a
``"break"`` row right after the row the vehicle set out from before it (the start depot or
a visit), with that row's ``sequence``, ``node``, ``id``, coordinates and load: the break
is taken on the way to the next row (driving pauses) or, when the vehicle gets there
first, at the next stop. Its ``arrival`` and ``departure`` are the break's start and end,
its ``wait`` the time the vehicle stood idle before the break could start, its legs NaN;
the next row's ``arrival`` comes after the break. Per route, ``leg_duration`` + ``wait`` +
service times + break lengths add up to the route's duration. An optional stop that no route
visits is an ``"unserved"`` row after all routes, in node order, with ``route``,
``sequence`` and ``vehicle_type`` missing (``<NA>``; an empty cell in a CSV) and no times,
loads or legs (NaN): for a problem with optional stops ``route`` and ``sequence`` are
nullable integers (``Int64``), else ``int64``. (Unserved stops are rows of this frame, not
a frame of their own, so that one CSV tells the whole plan; ``frame[frame.stop ==
"unserved"]`` selects them, and ``groupby("route")`` leaves them out.)

Columns: ``route`` (0-based, as in ``Solution.routes``), ``vehicle_type`` (the route's type:
its ``name``, or its index in ``problem.vehicle_types`` when unnamed), ``sequence``,
``stop``, ``node`` (index in the Problem), ``id``, ``lat``, ``lon``, ``arrival``,
``departure``, ``wait`` (seconds), ``load_after`` (demand units on board after the stop),
``leg_distance`` (metres), ``leg_duration`` (seconds). A leg is reported on the row it
arrives at (so the start row has NaN legs, and per route the ``leg_distance`` sum is the
route's distance). Columns a problem does not define (coordinates, loads for ATSP, times
without a duration matrix) are NaN.

``times="clock"`` writes ``arrival`` and ``departure`` as ``"HH:MM:SS"`` strings (hours may
pass 24), or as Timestamps when the problem has a ``time_origin``, and ``wait`` as an
``"HH:MM:SS"`` duration, each rounded to the second (undefined times: None / NaT);
``times="input"`` uses the form the problem's times were given in; the default is seconds.

:func:`solution_routes_summary`: one row per route with ``route``, ``vehicle_type``,
``start_depot`` and ``end_depot`` (ids), ``stops`` (visits), ``distance`` (m),
``duration`` (s), ``load``, ``start_time``, ``end_time``, ``waiting`` (s, the sum of the
route's ``wait`` column, waits for a break included), ``break_time`` (s, total length of
the route's breaks), ``late`` (s, total lateness over the route's
time-window violations) and ``fixed_cost`` (the type's cost per used vehicle); with
``times="clock"``, ``start_time``/``end_time`` are clock times (or Timestamps) and
``duration``, ``waiting``, ``break_time`` and ``late`` are ``"HH:MM:SS"``.
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

from .fleet import FleetError, VehicleType
from .problem import Problem, ProblemKind, ProblemValidationError, _as_float_array, _check_time_origin
from .solution import Solution

__all__ = [
    "UnknownColumnWarning",
    "problem_from_dataframe",
    "problem_to_dataframe",
    "vehicles_to_dataframe",
    "matrix_to_dataframe",
    "solution_to_dataframe",
    "solution_routes_summary",
]

logger = logging.getLogger(__name__)

STOP_COLUMNS = ("id", "lat", "lon", "demand", "tw_start", "tw_end", "service_time", "is_depot", "required",
                "prize")
VEHICLE_COLUMNS = ("name", "count", "capacity", "start_depot", "end_depot", "shift_start", "shift_end",
                   "max_duration", "max_distance", "fixed_cost", "break_start", "break_end", "break_duration")
# Prefix of the vehicles frame's columns in error fields ("vehicles.capacity").
_VEHICLES = "vehicles"

# Column -> dtype of the solution frame (also the schema of the empty frame).
SOLUTION_COLUMNS: dict[str, str] = {
    "route": "int64", "vehicle_type": "object", "sequence": "int64", "stop": "object", "node": "int64",
    "id": "object",
    "lat": "float64", "lon": "float64", "arrival": "float64", "departure": "float64",
    "wait": "float64", "load_after": "float64", "leg_distance": "float64",
    "leg_duration": "float64",
}
SUMMARY_COLUMNS: dict[str, str] = {
    "route": "int64", "vehicle_type": "object", "start_depot": "object", "end_depot": "object",
    "stops": "int64", "distance": "float64", "duration": "float64", "load": "float64",
    "start_time": "float64", "end_time": "float64", "waiting": "float64", "break_time": "float64",
    "late": "float64", "fixed_cost": "float64",
}

# Problem fields -> the stops-frame column that carries them (for re-labelled errors).
# The time-window errors left to Problem after this module's own checks are reachability
# errors, i.e. about a window's end.
_COLUMN_OF_FIELD = {"ids": "id", "time_windows": "tw_end", "num_depots": "is_depot", "vehicle_types": "vehicles"}
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
    "mandatory": "required", "must_visit": "required",
}
# The same for the vehicles frame.
_VEHICLE_HINTS = {
    "type": "name", "vehicle": "name", "vehicle_type": "name", "label": "name", "id": "name",
    "number": "count", "num_vehicles": "count", "vehicles": "count", "fleet_size": "count",
    "cap": "capacity", "load": "capacity", "depot": "start_depot", "start": "shift_start",
    "end": "shift_end", "cost": "fixed_cost", "break": "break_duration", "max_time": "max_duration",
    "max_km": "max_distance",
}
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class UnknownColumnWarning(UserWarning):
    """A stops or vehicles frame has columns hybridroute does not read; they are ignored."""


# -- column names --------------------------------------------------------------------------


def _column_key(label: Any) -> Any:
    """How a column name is matched: case, outer spaces and ``_``/``-``/space don't matter."""
    if not isinstance(label, str):
        return label
    return re.sub(r"[\s\-_]+", "_", label.strip()).casefold()


def _closest_column(label: Any, known: Sequence[str], hints: dict[str, str] = _COLUMN_HINTS) -> str | None:
    key = _column_key(str(label))
    if key in hints and hints[key] in known:
        return hints[key]
    found = difflib.get_close_matches(key, [str(k) for k in known], n=1, cutoff=0.6)
    return found[0] if found else None


def _resolve_columns(stops: pd.DataFrame, extra: Sequence[Hashable] = (), *, columns: Sequence[str] = STOP_COLUMNS,
                     what: str = "stops frame", prefix: str = "") -> tuple[pd.DataFrame, list]:
    """The known columns of ``stops`` under their contract names, and the unknown column names.

    ``extra`` names further columns to keep (e.g. a batch's instance column); ``columns`` are
    the contract names (the vehicles frame has its own), ``what`` names the frame in errors
    and ``prefix`` goes before the column in an error's field. Two columns matching one name
    are a :class:`ProblemValidationError` naming both.
    """
    known = [*columns, *(c for c in extra if c not in columns)]
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
            why = (f"the {what} has two columns named {a!r}" if a == b else
                   f"columns {a!r} and {b!r} both name the column {name!r} of the {what} (names are "
                   f"matched ignoring case, spaces and '_'/'-')")
            raise ProblemValidationError(f"{prefix}{name}", f"{why}; keep only one")
    positions = [p for ps in claims.values() for p in ps]
    frame = stops.iloc[:, positions]
    frame.columns = pd.Index(list(claims), dtype=object, tupleize_cols=False)
    renamed = [(stops.columns[p], name) for name, (p,) in claims.items() if stops.columns[p] != name]
    if renamed:
        logger.debug("reading columns %s", ", ".join(f"{a!r} as {b!r}" for a, b in renamed))
    return frame, unknown


def _warn_unknown_columns(unknown: list, known: Sequence[str], inferred: ProblemKind | None = None,
                          what: str = "stops frame", hints: dict[str, str] = _COLUMN_HINTS) -> None:
    """One :class:`UnknownColumnWarning` listing every unknown column with its closest known name."""
    if not unknown:
        return
    parts = []
    for label in unknown:
        close = _closest_column(label, known, hints)
        parts.append(f"{label!r} (did you mean {close!r}?)" if close else f"{label!r} (no similar column)")
    kind = f"; the problem kind was inferred as {inferred.value} from the columns read" if inferred else ""
    _warn_outside_package(
        f"the {what} has {len(unknown)} column{'s' if len(unknown) > 1 else ''} that hybridroute does not "
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
    vehicles: pd.DataFrame | None = None,
    kind: ProblemKind | str | None = None,
    capacity: float | None = None,
    num_vehicles: int | None = None,
    objective: str = "distance",
    name: str | None = None,
    depot: Hashable | list | None = None,
    time_origin: Any = None,
) -> Problem:
    """Build a :class:`~hybridroute.Problem` from a stops DataFrame (see the module docstring).

    Parameters
    ----------
    stops
        One row per node, with an ``id`` column and the optional columns of the contract
        (``is_depot`` may flag several depots; ``required`` / ``prize`` make stops optional).
    distance
        Distance matrix in metres: an n×n array in the stops' row order, or a DataFrame
        indexed by id on both axes.
    duration
        Travel-time matrix in seconds, same forms as ``distance``. Required for ACVRPTW and
        for vehicle types with a shift, a ``max_duration`` or a break.
    vehicles
        The fleet: a DataFrame with one row per vehicle type (columns in the module
        docstring, depots named by their ids in ``stops``). None: one type from ``capacity``
        and ``num_vehicles``.
    kind
        Problem kind; None infers it from the columns.
    capacity, num_vehicles
        Shorthand for a fleet of one type (capacity in demand units; None vehicles means as
        many as needed); not together with ``vehicles``.
    objective, name
        As in :class:`~hybridroute.Problem`.
    depot
        Id of the depot row (or a list of ids for several depots), used when there is no
        ``is_depot`` column (default: first row).
    time_origin
        The date-time that time 0 stands for (datetime, Timestamp or ISO 8601 string): needed
        to read date-times in the time columns of both frames.

    Returns
    -------
    Problem
        The depots at nodes ``0 .. num_depots - 1`` in row order, the other rows after them
        in row order.

    Raises
    ------
    ProblemValidationError
        Naming the column (``.field``, ``"vehicles.<column>"`` for the vehicles frame) and
        the row position (``.index``) of the bad value; also when two columns match the same
        contract name (e.g. ``lat`` and ``Lat``), when a time column mixes forms or holds
        date-times without ``time_origin``.
    TypeError
        When ``stops`` or ``vehicles`` is not a DataFrame.

    Warns
    -----
    UnknownColumnWarning
        Listing the columns that are not read, each with the closest known name (one warning
        per frame).
    """
    if not isinstance(stops, pd.DataFrame):
        raise TypeError(f"stops must be a pandas DataFrame, got {type(stops).__name__}")
    if vehicles is not None and not isinstance(vehicles, pd.DataFrame):
        raise TypeError(f"vehicles must be a pandas DataFrame with one row per vehicle type, got "
                        f"{type(vehicles).__name__} (for VehicleType objects use Problem(..., vehicle_types=...))")
    stops, unknown = _resolve_columns(stops)
    inferred = _infer_kind(stops) if kind is None else None
    _warn_unknown_columns(unknown, STOP_COLUMNS, inferred)
    ids = _read_ids(stops)
    depot_rows = _depot_rows(stops, ids, depot)
    # order[node] = row position: the depots first, the other rows in row order.
    order = np.r_[depot_rows, np.delete(np.arange(len(ids)), depot_rows)].astype(np.int64)
    kind = inferred if kind is None else ProblemKind.parse(kind)
    _log_ignored_columns(stops, kind, inferred is not None)
    if vehicles is not None:
        for arg, value in (("capacity", capacity), ("num_vehicles", num_vehicles)):
            if value is not None:
                raise ProblemValidationError(arg, "give either capacity / num_vehicles or vehicles=, not both "
                                                  "(the vehicles frame has a capacity and a count per type)")
        if not kind.has_capacity:
            why = " (inferred: the stops frame has no 'demand' column)" if inferred is not None else ""
            raise ProblemValidationError(_VEHICLES, f"kind ATSP{why} has one vehicle; a fleet needs kind='ACVRP' "
                                                    f"or 'ACVRPTW' and a 'demand' column")
    origin = _check_time_origin(time_origin)
    coords = _read_coords(stops, ids)
    demand = _read_demand(stops, ids) if kind.has_capacity else None
    tw, svc, time_format = (_read_time_windows(stops, ids, origin) if kind.has_time_windows
                            else (None, None, "seconds"))
    # An explicit ATSP ignores these columns like demand; an inferred one lets Problem explain why not.
    read_optional = kind.has_capacity or inferred is not None
    required = _read_required(stops, ids) if read_optional and "required" in stops.columns else None
    prize = (_numeric_column(stops, "prize", ids, allow_missing=True)
             if read_optional and "prize" in stops.columns else None)
    dist = _read_matrix("distance", distance, ids, order)
    if dist is None:
        raise ProblemValidationError(
            "distance", "a distance matrix is required (an n×n array in row order or a DataFrame "
            "indexed by id); to query a road router use Problem.from_osrm")
    dur = _read_matrix("duration", duration, ids, order)
    types = None
    if vehicles is not None:
        types, fleet_format = _read_vehicles(vehicles, ids, depot_rows, origin, kind, dur is not None)
        time_format = "clock" if "clock" in (time_format, fleet_format) else "seconds"
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
            num_depots=len(depot_rows),
            vehicle_types=types,
            required=None if required is None else required[order],
            prize=None if prize is None else np.nan_to_num(prize, nan=0.0)[order],
        )
    except ProblemValidationError as exc:
        if types is not None:
            relabelled = _in_vehicles_terms(exc, types)
            if relabelled is not None:
                raise relabelled from None
        raise _in_frame_terms(exc, ids, order) from None


class _RowLabels:
    """How an error message names a row of a frame other than the stops frame."""

    def __init__(self, what: str, key: str, values: Sequence[Any] | None):
        self.what, self.key, self.values = what, key, values

    def __call__(self, row: int) -> str:
        value = None if self.values is None else self.values[row]
        return f"{self.what}, row {row}" + ("" if value is None else f", {self.key} {value!r}")


def _row_label(ids: np.ndarray | _RowLabels, row: int) -> str:
    if isinstance(ids, _RowLabels):
        return ids(row)
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


def _depot_rows(stops: pd.DataFrame, ids: np.ndarray, depot: Hashable | list | None) -> list[int]:
    """Row positions of the depots, in row order (see the module docstring)."""
    wanted = None if depot is None else _rows_of_ids(ids, depot)
    if "is_depot" in stops.columns:
        flags = _read_bool_column(stops, "is_depot", ids)
        rows = np.flatnonzero(flags).tolist()
        if not rows:
            raise ProblemValidationError(
                "is_depot", "at least one row must be True (the depot), found 0 rows flagged True")
        if wanted is not None and sorted(wanted) != rows:
            shown = depot if isinstance(depot, list) else repr(depot)
            raise ProblemValidationError(
                "depot", f"depot={shown} disagrees with the is_depot column (flagged: "
                         f"{'; '.join(_row_label(ids, r) for r in rows[:5])})", rows[0])
        return rows
    return [0] if wanted is None else sorted(wanted)


def _rows_of_ids(ids: np.ndarray, depot: Hashable | list) -> list[int]:
    """Row positions of the ids in ``depot`` (one id, or a list of ids)."""
    labels = depot if isinstance(depot, list) else [depot]
    if not labels:
        raise ProblemValidationError("depot", "the list of depot ids is empty")
    values = ids.tolist()
    rows = []
    for label in labels:
        hits = [row for row, v in enumerate(values) if v == label]
        if not hits:
            raise ProblemValidationError("depot", f"no row has id {label!r}")
        if hits[0] in rows:
            raise ProblemValidationError("depot", f"id {label!r} is listed twice")
        rows.append(hits[0])
    return rows


def _read_bool_column(stops: pd.DataFrame, column: str, ids: np.ndarray | None = None) -> np.ndarray:
    col = stops[column]
    null = col.isna().to_numpy()

    def where(row: int) -> str:
        return "" if ids is None else f" ({_row_label(ids, row)})"

    if null.any():
        row = int(np.argmax(null))
        raise ProblemValidationError(column, f"row {row} is null; use True or False{where(row)}", row)
    if pd.api.types.is_bool_dtype(col.dtype):
        return col.to_numpy(dtype=bool)
    values = col.tolist()
    for row, v in enumerate(values):
        if not isinstance(v, (bool, np.bool_)):
            raise ProblemValidationError(column, f"must be True or False, row {row} holds {v!r}{where(row)}", row)
    return np.array(values, dtype=bool)


_TRUE_TEXT = frozenset({"true", "yes", "y", "1"})
_FALSE_TEXT = frozenset({"false", "no", "n", "0"})


def _read_required(stops: pd.DataFrame, ids: np.ndarray) -> np.ndarray:
    """The ``required`` column as booleans: True/False, 1/0, yes/no, true/false; empty -> True."""
    col = stops["required"]
    if pd.api.types.is_bool_dtype(col.dtype) and not col.isna().any():
        return col.to_numpy(dtype=bool)
    out = np.ones(len(col), dtype=bool)
    missing = col.isna().to_numpy()
    for row, v in enumerate(col.tolist()):
        if missing[row]:
            continue  # the default: required
        if isinstance(v, (bool, np.bool_)):
            out[row] = bool(v)
        elif isinstance(v, numbers.Real) and v in (0, 1):
            out[row] = bool(v)
        elif isinstance(v, str) and v.strip().casefold() in _TRUE_TEXT | _FALSE_TEXT:
            out[row] = v.strip().casefold() in _TRUE_TEXT
        elif isinstance(v, str) and not v.strip():
            continue  # an empty cell written as spaces
        else:
            raise ProblemValidationError(
                "required", f"{v!r} is not a yes/no value ({_row_label(ids, row)}); give True/False, 1/0, "
                            f"'yes'/'no' or leave it empty (required)", row)
    return out


def _infer_kind(stops: pd.DataFrame) -> ProblemKind:
    if any(c in stops.columns for c in _TIME_WINDOW_COLUMNS):
        return ProblemKind.ACVRPTW
    if "demand" in stops.columns:
        return ProblemKind.ACVRP
    return ProblemKind.ATSP


def _log_ignored_columns(stops: pd.DataFrame, kind: ProblemKind, inferred: bool = False) -> None:
    unused = []
    if not kind.has_capacity and "demand" in stops.columns:
        unused.append("demand")
    if not kind.has_capacity and not inferred:
        unused += [c for c in ("required", "prize") if c in stops.columns]
    if not kind.has_time_windows:
        unused += [c for c in (*_TIME_WINDOW_COLUMNS, "service_time") if c in stops.columns]
    if unused:
        logger.info("kind %s does not use the columns %s; ignoring them", kind.value, unused)


def _numeric_column(stops: pd.DataFrame, column: str, ids: np.ndarray | _RowLabels, *, allow_posinf: bool = False,
                    nonnegative: bool = True, keep_int: bool = False, allow_missing: bool = False) -> np.ndarray:
    """A numeric column as a numpy array, with bad values reported by column and row.

    ``allow_missing``: empty cells are NaN in the result instead of an error.
    """
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
    bad = np.isnan(arr) if arr.dtype.kind == "f" and not allow_missing else np.zeros(len(arr), dtype=bool)
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


# -- vehicles frame -> vehicle types ------------------------------------------------------

# VehicleType / Break fields (as FleetError and Problem name them) -> vehicles-frame columns.
_FLEET_COLUMN = {"shift": "shift_start", "breaks": "break_start", "earliest": "break_start",
                 "latest": "break_end", "duration": "break_duration"}
_FLEET_FIELD_RE = re.compile(r"(count|capacity|start_depot|end_depot|shift|max_duration|max_distance|fixed_cost|"
                             r"breaks|earliest|latest|duration|name): (.*)", re.DOTALL)


def _read_vehicles(vehicles: pd.DataFrame, ids: np.ndarray, depot_rows: list[int], origin: _dt.datetime | None,
                   kind: ProblemKind, has_duration: bool) -> tuple[list[VehicleType], str]:
    """The vehicle types of a vehicles frame (one per row, in row order) and its time format.

    Depot ids become depot indices (positions in ``depot_rows``); errors name the column as
    ``vehicles.<column>`` and the row position in the vehicles frame.
    """
    if len(vehicles) == 0:
        raise ProblemValidationError(_VEHICLES, "the vehicles frame has no rows; give one row per vehicle type")
    frame, unknown = _resolve_columns(vehicles, columns=VEHICLE_COLUMNS, what="vehicles frame",
                                      prefix=f"{_VEHICLES}.")
    _warn_unknown_columns(unknown, VEHICLE_COLUMNS, what="vehicles frame", hints=_VEHICLE_HINTS)
    # Prefixed names: the shared column readers then raise errors with fields like "vehicles.capacity".
    frame = frame.set_axis([f"{_VEHICLES}.{c}" for c in frame.columns], axis=1)
    n = len(frame)
    names = _vehicle_names(frame)
    rows = _RowLabels("vehicles frame", "name", names)
    forms: list[str] = []

    def col(name: str) -> str:
        return f"{_VEHICLES}.{name}"

    def numbers_(name: str, **kw: Any) -> np.ndarray:
        return (_numeric_column(frame, col(name), rows, allow_missing=True, **kw) if col(name) in frame.columns
                else np.full(n, np.nan))

    def times(name: str, **kw: Any) -> np.ndarray:
        if col(name) not in frame.columns:
            return np.full(n, np.nan)
        values, form = _time_column(frame, col(name), rows, origin, allow_missing=True, **kw)
        forms.append(form)
        return values

    count = numbers_("count")
    bad = ~np.isnan(count) & ((count < 1) | (count != np.floor(count)))
    if bad.any():
        row = int(np.argmax(bad))
        raise ProblemValidationError(
            col("count"), f"{count[row]:g} is not a positive integer ({rows(row)}); leave it empty for as many "
                          f"vehicles as needed", row)
    if col("capacity") not in frame.columns:
        raise ProblemValidationError(
            col("capacity"), f"the vehicles frame needs a 'capacity' column for {kind.value} (demand units per "
                             f"route); it has {list(map(str, vehicles.columns))}")
    capacity = _numeric_column(frame, col("capacity"), rows)
    start = _depot_column(frame, "start_depot", rows, ids, depot_rows)
    end = _depot_column(frame, "end_depot", rows, ids, depot_rows)
    shift_start, shift_end = times("shift_start"), times("shift_end", allow_posinf=True)
    max_duration = times("max_duration", allow_posinf=True, duration=True)
    max_distance = numbers_("max_distance", allow_posinf=True)
    fixed_cost = numbers_("fixed_cost")
    break_start, break_end = times("break_start"), times("break_end", allow_posinf=True)
    break_duration = times("break_duration", duration=True)

    types = []
    for row in range(n):
        if not has_duration:
            for name, values in (("shift_start", shift_start), ("shift_end", shift_end),
                                 ("max_duration", max_duration), ("break_duration", break_duration),
                                 ("break_start", break_start), ("break_end", break_end)):
                if not math.isnan(values[row]):
                    raise ProblemValidationError(
                        col(name), f"needs a duration matrix (seconds) to be scheduled ({rows(row)}); pass "
                                   f"duration= or leave the column empty", row)
        shift = _pair(shift_start[row], shift_end[row], "shift_start", "shift_end", rows, row)
        breaks: tuple = ()
        if not all(math.isnan(v[row]) for v in (break_start, break_end, break_duration)):
            if math.isnan(break_duration[row]):
                raise ProblemValidationError(
                    col("break_duration"), f"a break needs its duration ({rows(row)}); give break_duration, or "
                                           f"leave break_start and break_end empty for a type without a break", row)
            window = _pair(break_start[row], break_end[row], "break_start", "break_end", rows, row) or (0.0, math.inf)
            breaks = ((*window, float(break_duration[row])),)
        cap = float(capacity[row])
        try:
            vt = VehicleType(
                count=None if math.isnan(count[row]) else int(count[row]),
                capacity=int(cap) if cap.is_integer() else cap,
                start_depot=0 if start[row] is None else start[row],
                end_depot=end[row],
                shift=shift,
                max_duration=None if math.isnan(max_duration[row]) else float(max_duration[row]),
                max_distance=None if math.isnan(max_distance[row]) else float(max_distance[row]),
                fixed_cost=0.0 if math.isnan(fixed_cost[row]) else float(fixed_cost[row]),
                breaks=breaks,
                name=names[row] if names is not None else None,
            )
        except FleetError as exc:
            column = _FLEET_COLUMN.get(exc.field, exc.field)
            message = str(exc).removeprefix(f"{exc.field}: ")
            raise ProblemValidationError(col(column), f"{message} ({rows(row)})", row) from None
        types.append(vt)
    return types, "clock" if any(f != "seconds" for f in forms) else "seconds"


def _vehicle_names(frame: pd.DataFrame) -> list[str | None] | None:
    """The ``name`` column as strings (None for an empty cell), or None without the column."""
    column = f"{_VEHICLES}.name"
    if column not in frame.columns:
        return None
    missing = frame[column].isna().to_numpy()
    names: list[str | None] = []
    for v in frame[column].tolist():
        if isinstance(v, float) and v.is_integer():
            v = int(v)  # a CSV column of numbered types with a gap reads as floats
        names.append(None if missing[len(names)] else v if isinstance(v, str) else str(v))
    seen: dict[str, int] = {}
    for row, v in enumerate(names):
        if v is None:
            continue
        first = seen.setdefault(v, row)
        if first != row:
            raise ProblemValidationError(
                column, f"name {v!r} is used by rows {first} and {row}; names must be unique (vehicles frame, row "
                        f"{row}, name {v!r})", row)
    return names


def _pair(first: float, second: float, a: str, b: str, rows: _RowLabels, row: int) -> tuple[float, float] | None:
    """``(first, second)`` with defaults 0 and ``inf`` for an empty cell; None when both are empty."""
    if math.isnan(first) and math.isnan(second):
        return None
    lo = 0.0 if math.isnan(first) else float(first)
    hi = math.inf if math.isnan(second) else float(second)
    if lo > hi:
        raise ProblemValidationError(
            f"{_VEHICLES}.{a}", f"{a} {_show_seconds(lo)} is after {b} {_show_seconds(hi)} ({rows(row)})", row)
    return lo, hi


def _depot_column(frame: pd.DataFrame, name: str, rows: _RowLabels, ids: np.ndarray,
                  depot_rows: list[int]) -> list[int | None]:
    """A column of depot ids as depot indices (None for an empty cell or no column)."""
    column = f"{_VEHICLES}.{name}"
    n = len(frame)
    if column not in frame.columns:
        return [None] * n
    labels = ids.tolist()
    depots = [labels[r] for r in depot_rows]
    missing = frame[column].isna().to_numpy()
    out: list[int | None] = []
    for row, v in enumerate(frame[column].tolist()):
        if missing[row]:
            out.append(None)
            continue
        k = _match_label(v, depots)
        if k is None:
            shown = ", ".join(repr(d) for d in depots[:10])
            stop = _match_label(v, labels)
            what = ("is the id of a stop, not of a depot; flag depots with the stops frame's is_depot column"
                    if stop is not None else "is not an id of the stops frame")
            raise ProblemValidationError(column, f"{v!r} {what} ({rows(row)}); the depots are {shown}", row)
        out.append(k)
    return out


def _match_label(value: Any, labels: list) -> int | None:
    """Position of ``value`` in ``labels``: equal, or equal once read the way a CSV types it
    (``100.0`` for ``100`` in a column with empty cells, ``"7"`` for ``7``)."""
    for k, label in enumerate(labels):
        if type(label) is type(value) and label == value:
            return k
    candidates = [value]
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) and float(value).is_integer():
        candidates.append(int(value))
    for k, label in enumerate(labels):
        if any(isinstance(c, type(label)) and c == label for c in candidates):
            return k
    text = str(candidates[-1]).strip()
    for k, label in enumerate(labels):
        if str(label).strip() == text:
            return k
    return None


def _in_vehicles_terms(exc: ProblemValidationError, types: list[VehicleType]) -> ProblemValidationError | None:
    """A Problem error about one vehicle type in vehicles-frame terms, or None when it is not one."""
    if exc.field != "vehicle_types" or not isinstance(exc.index, int):
        return None
    text = str(exc).removeprefix(f"{exc.field} at index {exc.index}: ")
    found = _FLEET_FIELD_RE.fullmatch(text)
    if found is None:
        return None  # e.g. a stop no type can serve: the index is a node, not a type
    field, message = found.groups()
    rows = _RowLabels("vehicles frame", "name", [t.name for t in types])
    return ProblemValidationError(f"{_VEHICLES}.{_FLEET_COLUMN.get(field, field)}", f"{message} ({rows(exc.index)})",
                                  exc.index)


# -- time columns: seconds, clock strings, time of day, durations, date-times -------------


def _time_column(stops: pd.DataFrame, column: str, ids: np.ndarray | _RowLabels, origin: _dt.datetime | None, *,
                 allow_posinf: bool = False, allow_missing: bool = False,
                 duration: bool = False) -> tuple[np.ndarray, str]:
    """A time column in seconds (float64) and the form it was written in (a key of ``_TIME_FORMS``).

    Numeric columns are read as seconds. Other columns are read value by value: each value is
    one of the forms in ``_TIME_FORMS``, every row of a column in the same form (an ``inf``
    ``tw_end`` goes with any form), date-times only with a ``time_origin``. ``allow_missing``:
    empty cells are NaN instead of an error. ``duration``: the column is a length of time, so
    date-times are refused.
    """
    col = stops[column]
    if pd.api.types.is_numeric_dtype(col.dtype):
        return _numeric_column(stops, column, ids, allow_posinf=allow_posinf,
                               allow_missing=allow_missing).astype(np.float64), "seconds"
    base = None if origin is None else pd.Timestamp(origin)
    values = col.tolist()
    missing = col.isna().to_numpy()
    seconds = np.full(len(values), np.nan)
    first: tuple[str, int] | None = None  # (form, row) of the first row that sets the column's form
    for row, value in enumerate(values):
        if missing[row]:
            continue  # reported as a missing value below, like in numeric columns
        if duration and (isinstance(value, (_dt.datetime, np.datetime64)) or
                         (isinstance(value, str) and _DATETIME_RE.fullmatch(value.strip()))):
            raise ProblemValidationError(
                column, f"{value!r} is a date-time, not a duration ({_row_label(ids, row)}); give seconds, "
                        f"'HH:MM[:SS]' or a Timedelta", row)
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
    _check_time_values(column, seconds, ids, values, allow_posinf, form, base, allow_missing)
    return seconds, form


def _time_value(value: Any, column: str, ids: np.ndarray | _RowLabels, row: int,
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


def _check_time_values(column: str, seconds: np.ndarray, ids: np.ndarray | _RowLabels, values: list,
                       allow_posinf: bool, form: str, origin: pd.Timestamp | None, allow_missing: bool = False) -> None:
    """Missing, infinite and negative times, reported with the cell as it was written."""
    bad = np.isnan(seconds) & (not allow_missing)
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
        One row per node in node order (depots first): ``id``, then ``lat``/``lon`` when the
        problem has coordinates, ``demand`` and ``is_depot`` for capacitated kinds,
        ``tw_start``/``tw_end``/``service_time`` (seconds) for ACVRPTW, ``required`` and
        ``prize`` when some stops are optional. Passing it back to
        :func:`problem_from_dataframe` with the matrices, the fleet (the scalar settings
        capacity and num_vehicles, or ``vehicles=`` :func:`vehicles_to_dataframe`) and the
        other settings (objective, name, time_origin) gives an equal Problem.
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
        data["is_depot"] = np.arange(problem.num_nodes) < problem.num_depots
    if "optional_stops" in problem.features:
        data["required"] = problem.required.copy()
        data["prize"] = problem.prize.copy()
    frame = pd.DataFrame(data)
    if form == "clock" and problem.time_windows is not None:
        frame = _clock_columns(frame, problem, ("tw_start", "tw_end"), ("service_time",))
    return frame


def vehicles_to_dataframe(problem: Problem, times: str = "seconds") -> pd.DataFrame:
    """The vehicles frame of ``problem``: one row per vehicle type (see the module docstring).

    Parameters
    ----------
    problem
        A capacitated problem (ACVRP / ACVRPTW); the ``capacity`` / ``num_vehicles``
        shorthand gives one row.
    times
        ``"seconds"`` (default), ``"clock"`` (``shift_*`` and ``break_start`` / ``break_end``
        as ``"HH:MM:SS"``, or Timestamps when the problem has a ``time_origin``;
        ``max_duration`` and ``break_duration`` as ``"HH:MM:SS"``; ``inf`` stays ``inf``) or
        ``"input"`` (as the problem's times were given).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`VEHICLE_COLUMNS`: depots as ids of the stops frame, ``count`` a
        nullable integer (empty: as many as needed), ``end_depot`` empty when routes return
        to their start depot, unset limits, shifts and breaks empty (NaN / None).
        :func:`problem_from_dataframe` reads it back as an equal fleet.

    Raises
    ------
    ValueError
        For ATSP (one vehicle, no fleet), or a vehicle type with more than one break (the
        frame holds one per type).
    """
    form = _output_form(problem, times)
    if not problem.kind.has_capacity:
        raise ValueError("ATSP has one vehicle and no fleet; vehicles_to_dataframe needs an ACVRP or ACVRPTW problem")
    rows = []
    for t, vt in enumerate(problem.vehicle_types):
        if len(vt.breaks) > 1:
            raise ValueError(f"{problem._type_label(t)} has {len(vt.breaks)} breaks; the vehicles frame holds one "
                             f"break per type (build the Problem with vehicle_types= for more)")
        brk = vt.breaks[0] if vt.breaks else None
        rows.append({
            "name": vt.name, "count": vt.count, "capacity": vt.capacity,
            "start_depot": problem.id_of(vt.start_depot),
            "end_depot": None if vt.end_depot is None else problem.id_of(vt.end_depot),
            "shift_start": vt.shift[0] if vt.shift else np.nan, "shift_end": vt.shift[1] if vt.shift else np.nan,
            "max_duration": np.nan if vt.max_duration is None else vt.max_duration,
            "max_distance": np.nan if vt.max_distance is None else vt.max_distance,
            "fixed_cost": vt.fixed_cost,
            "break_start": brk.earliest if brk else np.nan, "break_end": brk.latest if brk else np.nan,
            "break_duration": brk.duration if brk else np.nan,
        })
    frame = pd.DataFrame(rows, columns=list(VEHICLE_COLUMNS))
    frame["name"] = frame["name"].astype(object)
    frame["count"] = pd.array([vt.count for vt in problem.vehicle_types], dtype="Int64")
    frame["end_depot"] = pd.Series([r["end_depot"] for r in rows], dtype=object)
    if form == "clock":
        frame = _clock_columns(frame, problem, ("shift_start", "shift_end", "break_start", "break_end"),
                               ("max_duration", "break_duration"))
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


def _solution_schema(problem: Problem) -> dict[str, str]:
    """:data:`SOLUTION_COLUMNS`, with nullable route / sequence where unserved rows may have none."""
    if "optional_stops" not in problem.features:
        return SOLUTION_COLUMNS
    return {**SOLUTION_COLUMNS, "route": "Int64", "sequence": "Int64"}


def _type_label(problem: Problem, t: int) -> Any:
    """How outputs name vehicle type ``t``: its name, or its index when unnamed (or unknown)."""
    if 0 <= t < len(problem.vehicle_types) and problem.vehicle_types[t].name is not None:
        return problem.vehicle_types[t].name
    return int(t)


def _route_rows(problem: Problem, stats) -> dict[str, np.ndarray]:
    """The start / visit / break / end rows of one scheduled route, as column arrays."""
    k = len(stats.nodes)
    nan = np.full(k + 2, np.nan)
    timed = problem.duration is not None
    svc = problem.service_time
    svc0 = float(svc[stats.start_depot]) if svc is not None else 0.0
    cols = {
        "sequence": np.arange(k + 2, dtype=np.int64),
        "stop": np.array(["start"] + ["visit"] * k + ["end"], dtype=object),
        "node": np.concatenate([[stats.start_depot], np.asarray(stats.nodes, dtype=np.int64), [stats.end_depot]]),
        "arrival": np.r_[np.nan, stats.arrival, stats.end_time] if timed else nan,
        "departure": np.r_[stats.start_time + svc0, stats.departure, np.nan] if timed else nan,
        # No waiting happens at the depot: a route leaves when it must (late departure).
        "wait": np.r_[0.0, stats.wait, 0.0] if timed else nan,
        "load_after": (np.r_[0.0, stats.load_after, stats.load] if problem.demand is not None else nan),
        "leg_distance": np.r_[np.nan, stats.leg_distance, stats.return_distance],
        "leg_duration": np.r_[np.nan, stats.leg_duration, stats.return_duration] if timed else nan,
    }
    if not stats.breaks or not timed:
        return cols
    return _with_break_rows(problem, stats, cols)


def _with_break_rows(problem: Problem, stats, cols: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``cols`` with a "break" row for each break, right after the row the vehicle left from.

    ``stats.breaks`` holds ``(gap, start, duration)``: gap ``p`` lies between the service at
    the row of ``sequence`` p (the start depot for 0) and the next arrival; a break is taken on
    the way (driving pauses) or, when the vehicle gets there first, at the next stop. A break
    row's ``arrival`` and ``departure`` are the break's start and end and its ``wait`` the
    time the vehicle stood idle before it (the drive done, the break not yet allowed).
    """
    by_gap: dict[int, list[tuple[float, float]]] = {}
    for gap, start, duration in stats.breaks:
        by_gap.setdefault(int(gap), []).append((float(start), float(duration)))
    out: dict[str, list] = {c: [] for c in cols}
    for p in range(len(cols["node"])):
        for c, values in cols.items():
            out[c].append(values[p])
        if p not in by_gap:
            continue
        # Replay the gap: the drive to the next row (its leg) pauses for each break.
        t, drive = float(cols["departure"][p]), float(cols["leg_duration"][p + 1])
        for start, duration in sorted(by_gap[p]):
            driven = min(drive, max(0.0, start - t))
            drive -= driven
            row = {"sequence": cols["sequence"][p], "stop": "break", "node": cols["node"][p], "arrival": start,
                   "departure": start + duration, "wait": max(0.0, start - t) - driven,
                   "load_after": cols["load_after"][p], "leg_distance": np.nan, "leg_duration": np.nan}
            for c in cols:
                out[c].append(row[c])
            t = start + duration
    return {c: np.asarray(v, dtype=cols[c].dtype) for c, v in out.items()}


def _unscheduled_rows(problem: Problem, route: tuple[int, ...], t: int) -> dict[str, np.ndarray]:
    """Rows of a route that evaluate() could not schedule (unknown nodes or vehicle type)."""
    k = len(route)
    nan = np.full(k + 2, np.nan)
    cols = {c: nan for c in ("arrival", "departure", "wait", "load_after", "leg_distance", "leg_duration")}
    vt = problem.vehicle_types[t] if 0 <= t < len(problem.vehicle_types) else None
    start, end = (vt.start_depot, vt.end) if vt is not None else (0, 0)
    cols["node"] = np.concatenate([[start], np.asarray(route, dtype=np.int64), [end]])
    cols["sequence"] = np.arange(k + 2, dtype=np.int64)
    cols["stop"] = np.array(["start"] + ["visit"] * k + ["end"], dtype=object)
    return cols


def _unserved_rows(solution: Solution) -> dict[str, np.ndarray]:
    """One "unserved" row per optional stop that no route visits: no route, times or legs."""
    m = len(solution.unserved)
    cols: dict[str, Any] = {c: np.full(m, np.nan) for c in
                            ("arrival", "departure", "wait", "load_after", "leg_distance", "leg_duration")}
    cols["node"] = np.asarray(solution.unserved, dtype=np.int64)
    cols["stop"] = np.array(["unserved"] * m, dtype=object)
    return cols


def solution_to_dataframe(solution: Solution, times: str = "seconds") -> pd.DataFrame:
    """One row per stop of ``solution`` (see the module docstring for the rows and columns).

    Parameters
    ----------
    solution
        Any Solution; an empty or NO_SOLUTION one gives an empty frame with the same columns
        (an empty solution of a problem with optional stops lists them as "unserved").
    times
        ``"seconds"`` (default): ``arrival``, ``departure`` and ``wait`` in seconds.
        ``"clock"``: ``arrival`` and ``departure`` as ``"HH:MM:SS"`` strings (Timestamps when
        the problem has a ``time_origin``) and ``wait`` as ``"HH:MM:SS"``, rounded to the
        second; break rows too. ``"input"``: the form the problem's times were given in
        (``Problem.time_format``).

    Returns
    -------
    pandas.DataFrame
        Rows ``"start"``, ``"visit"``, ``"break"`` and ``"end"`` per route, then the
        ``"unserved"`` optional stops. Distances in metres, ``leg_duration`` in seconds,
        loads in demand units; ``vehicle_type`` is the route's type name (its index when
        unnamed).
    """
    frame = _solution_frame(solution)
    if _output_form(solution.problem, times) == "clock":
        frame = _clock_columns(frame, solution.problem, ("arrival", "departure"), ("wait",))
    return frame


def _solution_frame(solution: Solution) -> pd.DataFrame:
    problem = solution.problem
    schema = _solution_schema(problem)
    if not solution.routes and not solution.unserved:
        return _empty_frame(schema, problem.ids)
    scheduled = len(solution.route_stats) == len(solution.routes)
    types = list(solution.vehicle_types) + [0] * (len(solution.routes) - len(solution.vehicle_types))
    parts = []
    for r, route in enumerate(solution.routes):
        cols = (_route_rows(problem, solution.route_stats[r]) if scheduled
                else _unscheduled_rows(problem, route, types[r]))
        rows = len(cols["node"])
        cols["route"] = np.full(rows, r, dtype=np.int64)
        cols["vehicle_type"] = np.full(rows, _type_label(problem, types[r]), dtype=object)
        parts.append(cols)
    if solution.unserved:
        cols = _unserved_rows(solution)
        cols["route"] = pd.array([None] * len(cols["node"]), dtype="Int64")
        cols["sequence"] = pd.array([None] * len(cols["node"]), dtype="Int64")
        cols["vehicle_type"] = np.full(len(cols["node"]), None, dtype=object)
        parts.append(cols)
    data: dict[str, Any] = {}
    for c in SOLUTION_COLUMNS:
        if c in ("id", "lat", "lon"):
            continue
        pieces = [p[c] for p in parts]
        data[c] = (pd.array(np.concatenate([np.asarray(p, dtype=object) for p in pieces]), dtype=schema[c])
                   if schema[c] == "Int64" else np.concatenate(pieces))
    nodes = np.asarray(data["node"], dtype=np.int64)
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
        or Timestamps when the problem has a ``time_origin``; ``duration``, ``waiting``,
        ``break_time`` and ``late`` as ``"HH:MM:SS"``; rounded to the second) or ``"input"``
        (as the problem's times were given).

    Returns
    -------
    pandas.DataFrame
        ``route``, ``vehicle_type`` (name, or index when unnamed), ``start_depot`` and
        ``end_depot`` (ids), ``stops`` (number of visits), ``distance`` (m), ``duration``
        (s), ``load``, ``start_time``, ``end_time``, ``waiting`` (s, waits before breaks
        included), ``break_time`` (s),
        ``late`` (s: total lateness of the route's ``time_window`` and ``depot_time_window``
        violations) and ``fixed_cost`` (the type's cost per used vehicle, objective units).
        Values the problem does not define (loads for ATSP, times without durations) are NaN.
    """
    frame = _summary_frame(solution)
    if _output_form(solution.problem, times) == "clock":
        frame = _clock_columns(frame, solution.problem, ("start_time", "end_time"),
                               ("duration", "waiting", "break_time", "late"))
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
    types = list(solution.vehicle_types) + [0] * (len(solution.routes) - len(solution.vehicle_types))
    rows = []
    for r, route in enumerate(solution.routes):
        t = types[r]
        row: dict[str, Any] = {c: np.nan for c in SUMMARY_COLUMNS}
        row.update(route=r, stops=len(route), vehicle_type=_type_label(problem, t), start_depot=None, end_depot=None)
        if 0 <= t < len(problem.vehicle_types):
            vt = problem.vehicle_types[t]
            row.update(start_depot=problem.id_of(vt.start_depot), end_depot=problem.id_of(vt.end),
                       fixed_cost=vt.fixed_cost)
        if len(solution.route_stats) == len(solution.routes):
            s = solution.route_stats[r]
            row["distance"] = s.distance
            if problem.demand is not None:
                row["load"] = s.load
            if timed:
                row.update(duration=s.duration, start_time=s.start_time, end_time=s.end_time,
                           waiting=float(s.wait.sum()) + sum(_break_waits(problem, s)),
                           break_time=float(sum(d for _, _, d in s.breaks)), late=float(late[r]))
        rows.append(row)
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS)).astype(SUMMARY_COLUMNS)


def _break_waits(problem: Problem, stats) -> list[float]:
    """The waits before each break of a route (as its break rows show them), in seconds."""
    if not stats.breaks:
        return []
    rows = _route_rows(problem, stats)
    return [float(w) for w, stop in zip(rows["wait"], rows["stop"]) if stop == "break"]
