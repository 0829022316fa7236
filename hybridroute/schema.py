"""JSON files for problems and solutions: pydantic models with a published JSON Schema.

A problem file (``"format": "hybridroute.problem/2"``) lists its stops by id, the fleet and
where the travel matrices come from; a solution file (``"format": "hybridroute.solution/2"``)
gives each route as stop ids with its schedule. :func:`json_schema` returns both schemas
(also printed by ``hybridroute schema``); :func:`read_problem_json` reads a file into a
:class:`~hybridroute.Problem`. The format is described in ``docs/json.md``.

Units: distances in metres, times and durations in seconds (or clock strings ``"HH:MM"`` /
``"HH:MM:SS"``, hours may pass 24, counted from ``time_origin``), demand in the units of
the capacity, costs in the objective's units (metres, or seconds with
``objective="duration"``).

This module imports pydantic; ``import hybridroute`` does not import it.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import numbers
import os
from typing import Annotated, Any, Literal, Optional, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError, WithJsonSchema, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from .fleet import Break, FleetError, VehicleType
from .problem import Problem, ProblemKind, ProblemValidationError, _read_json_file
from .solution import Solution

__all__ = [
    "PROBLEM_FORMAT", "SOLUTION_FORMAT", "ProblemJSONError", "StopModel", "BreakModel", "VehicleTypeModel",
    "MatricesModel", "OsrmSourceModel", "ProblemModel", "RouteModel", "BreakTakenModel", "ViolationModel",
    "SolutionModel", "PresetModel", "json_schema", "read_problem_json", "error_paths",
]

PROBLEM_FORMAT = "hybridroute.problem/2"
SOLUTION_FORMAT = "hybridroute.solution/2"
#: The format :meth:`Problem.to_json` writes; :func:`read_problem_json` hands it to ``Problem.from_json``.
_LEGACY_PROBLEM_FORMAT = "hybridroute.problem/1"

# The JSON Schema form of ``frames._CLOCK_RE`` (which does the parsing): for validators
# outside Python. tests/test_schema.py checks that the two agree.
_CLOCK_PATTERN = r"^\d+:[0-5]\d(:[0-5]\d)?$"
_CLOCK_HELP = "seconds (a number ≥ 0) or a clock time 'HH:MM' / 'HH:MM:SS' (hours may pass 24)"
# How many errors a ProblemJSONError message lists before "... (N errors in all)".
_SHOWN_ERRORS = 10


class ProblemJSONError(ValueError):
    """A problem file is not valid: each error with its field path (``stops.3.tw_start``).

    Attributes
    ----------
    errors
        ``(path, message)`` pairs; the path joins keys and list positions with dots
        (``"vehicles.0.capacity"``), ``""`` for the file as a whole.
    source
        The file name, ``"JSON text"``, or None.
    """

    def __init__(self, errors: list[tuple[str, str]], source: str | None = None):
        self.errors = list(errors)
        self.source = source
        shown = "; ".join(f"{path}: {msg}" if path else msg for path, msg in self.errors[:_SHOWN_ERRORS])
        if len(self.errors) > _SHOWN_ERRORS:
            shown += f"; ... ({len(self.errors)} errors in all)"
        super().__init__(f"{source}: {shown}" if source else shown)

    def with_source(self, source: str) -> "ProblemJSONError":
        return ProblemJSONError(self.errors, source)


def error_paths(exc: ValidationError, model: type[BaseModel] | None = None) -> list[tuple[str, str]]:
    """``(path, message)`` per error of a pydantic :class:`~pydantic.ValidationError`.

    The path joins the error's location with dots (``"stops.2.demand"``); the message is
    pydantic's, without its ``"Value error, "`` prefix, with the offending value where it is
    a scalar. With ``model`` (the validated class), an unknown key's message lists the keys
    allowed there.
    """
    out = []
    for err in exc.errors(include_url=False):
        loc = err["loc"]
        path = ".".join(str(part) for part in loc)
        msg = err["msg"].removeprefix("Value error, ")
        value = err.get("input")
        if err["type"] == "extra_forbidden":
            known = _keys_at(model, loc[:-1]) if model is not None else None
            msg = "unknown key" + (f" (known: {', '.join(known)})" if known else "")
        elif err["type"] == "missing":
            msg = "missing (required)"
        elif err["type"] in _STANDARD_TYPES and isinstance(value, (str, int, float, bool, type(None))):
            msg += f", got {value!r}"
        out.append((path, msg))
    return out


def _keys_at(model: type[BaseModel], loc: tuple) -> list[str] | None:
    """The field names of the model found at ``loc`` inside ``model`` (None if not a model)."""
    import typing

    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue  # a list position: the list's item type was unwrapped below
        if not (isinstance(current, type) and issubclass(current, BaseModel)) or part not in current.model_fields:
            return None
        current = current.model_fields[part].annotation
        # unwrap Optional[...] and list[...] down to a model class
        while typing.get_origin(current) in (Union, list, typing.Union) or type(current).__name__ == "UnionType":
            args = [a for a in typing.get_args(current) if a is not type(None)]
            if len(args) != 1:
                return None
            current = args[0]
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return None


# Built-in pydantic error types whose message does not show the value (custom errors here do).
_STANDARD_TYPES = frozenset({
    "float_type", "int_type", "bool_type", "string_type", "literal_error", "greater_than",
    "greater_than_equal", "less_than_equal", "finite_number", "int_from_float", "float_parsing",
    "int_parsing", "datetime_parsing", "datetime_from_date_parsing", "datetime_type", "list_type",
    "dict_type", "model_type", "too_short",
})


# -- field types ------------------------------------------------------------------------


def _describe(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return f"a JSON {'object' if isinstance(value, dict) else 'array'}"
    return f"{value!r}"


def _as_number(value: Any) -> int | float | None:
    """A Python int / float from a JSON or numpy number (never from a bool), else None."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    return value if isinstance(value, (int, float)) else float(value)


def _quantity(value: Any) -> int | float:
    """A finite number ≥ 0; an integer stays an integer (integer demand stays integer)."""
    number = _as_number(value)
    if number is None:
        raise PydanticCustomError("number", "expected a number ≥ 0, got {got}", {"got": _describe(value)})
    if not math.isfinite(number) or number < 0:
        raise PydanticCustomError("number", "expected a finite number ≥ 0, got {got}", {"got": number})
    return number


def _positive(value: Any) -> int | float:
    number = _quantity(value)
    if number == 0:
        raise PydanticCustomError("number", "expected a number > 0, got 0", {})
    return number


def _stop_id(value: Any) -> int | str:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, str, np.integer, np.str_)):
        raise PydanticCustomError("stop_id", "expected a stop id (an integer or a string), got {got}",
                                  {"got": _describe(value)})
    return value.item() if isinstance(value, np.generic) else value


def _clock_seconds(text: str) -> float | None:
    """Seconds of a clock string ``"HH:MM[:SS]"``, or None when ``text`` is not one."""
    from .frames import _time_text  # pandas, loaded only when a clock string is read

    try:
        form, seconds = _time_text(text, "time", "", 0, None)
    except ProblemValidationError:
        return None
    return seconds if form == "clock" else None


def _time(value: Any) -> int | float | str:
    """Seconds (a number ≥ 0) or a clock string, kept as written."""
    if isinstance(value, str):
        if _clock_seconds(value) is None:
            raise PydanticCustomError("time", "expected " + _CLOCK_HELP + ", got {got}", {"got": repr(value)})
        return value
    number = _as_number(value)
    if number is None or not math.isfinite(number) or number < 0:
        raise PydanticCustomError("time", "expected " + _CLOCK_HELP + ", got {got}", {"got": _describe(value)})
    return number


def _seconds(value: int | float | str | None, default: float) -> float:
    """A validated time value in seconds (``default`` for None)."""
    if value is None:
        return default
    if isinstance(value, str):
        return _clock_seconds(value)  # type: ignore[return-value]  # validated: never None here
    return float(value)


_NUMBER_SCHEMA = {"type": "number", "minimum": 0}
Quantity = Annotated[Union[int, float], PlainValidator(_quantity), WithJsonSchema(_NUMBER_SCHEMA)]
PositiveNumber = Annotated[Union[int, float], PlainValidator(_positive),
                           WithJsonSchema({"type": "number", "exclusiveMinimum": 0})]
StopId = Annotated[Union[int, str], PlainValidator(_stop_id),
                   WithJsonSchema({"anyOf": [{"type": "integer"}, {"type": "string"}]})]
Time = Annotated[Union[int, float, str], PlainValidator(_time),
                 WithJsonSchema({"anyOf": [_NUMBER_SCHEMA, {"type": "string", "pattern": _CLOCK_PATTERN}]})]
_MatrixEntry = Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False)]
_Row = list[_MatrixEntry]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    def _dump(self) -> dict[str, Any]:
        """JSON-ready data without the fields left at their defaults (``format`` kept)."""
        out = self.model_dump(mode="json", exclude_defaults=True)
        return {"format": self.format, **out} if "format" in type(self).model_fields else out

    def to_json(self, path: str | os.PathLike[str] | None = None, indent: int | None = 2) -> str:
        """The JSON text (fields at their defaults left out); also written to ``path`` if given."""
        text = json.dumps(self._dump(), indent=indent, allow_nan=False, ensure_ascii=False)
        if path is not None:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
        return text


def _invalid(title: str, errors: list[tuple[tuple, str, Any]]) -> ValidationError:
    """A ValidationError with one custom error per ``(location, message, input)``."""
    return ValidationError.from_exception_data(title, [
        InitErrorDetails(type=PydanticCustomError("consistency", "{message}", {"message": msg}), loc=loc,
                         input=value)
        for loc, msg, value in errors])


# -- the problem ------------------------------------------------------------------------


class StopModel(_Model):
    """One stop: a customer, or a depot (``depot: true``).

    Times are seconds since the problem's ``time_origin`` or clock strings
    ``"HH:MM[:SS]"``; a stop without ``tw_start`` / ``tw_end`` / ``service`` has an open
    window and no service time.
    """

    id: StopId = Field(description="The stop's label, unique among the stops (an integer or a string).")
    lat: Optional[float] = Field(None, strict=True, ge=-90, le=90, allow_inf_nan=False,
                                 description="Latitude in degrees (give lat and lon for every stop, or for none).")
    lon: Optional[float] = Field(None, strict=True, ge=-180, le=180, allow_inf_nan=False,
                                 description="Longitude in degrees.")
    demand: Quantity = Field(0, description="Load delivered or picked up, in the units of the capacity; 0 at a "
                                            "depot. ACVRP / ACVRPTW.")
    tw_start: Optional[Time] = Field(None, description="Earliest service start: seconds or 'HH:MM[:SS]' "
                                                       "(default 0). A depot's window is its opening hours. "
                                                       "ACVRPTW.")
    tw_end: Optional[Time] = Field(None, description="Latest service start: seconds or 'HH:MM[:SS]' "
                                                     "(default: none). ACVRPTW.")
    service: Optional[Time] = Field(None, description="Service duration: seconds or 'HH:MM[:SS]' (default 0). "
                                                      "ACVRPTW.")
    required: bool = Field(True, strict=True, description="Whether the stop must be visited; an optional stop "
                                                          "(false) may be left out at its prize.")
    prize: Quantity = Field(0, description="What leaving an optional stop out costs, in the objective's units "
                                           "(metres, or seconds with objective 'duration'); ignored for "
                                           "required stops.")
    depot: bool = Field(False, strict=True, description="Whether the stop is a depot (ATSP: the tour start). "
                                                        "Without any, the first stop is the depot.")


class BreakModel(_Model):
    """A rest every route of a vehicle type takes (see :class:`hybridroute.fleet.Break`)."""

    earliest: Time = Field(description="Earliest start: seconds or 'HH:MM[:SS]'.")
    latest: Optional[Time] = Field(None, description="Latest start: seconds or 'HH:MM[:SS]' (default: none).")
    duration: Time = Field(description="Length: seconds or 'HH:MM[:SS]'.")


class VehicleTypeModel(_Model):
    """``count`` identical vehicles (see :class:`hybridroute.VehicleType`)."""

    name: Optional[str] = Field(None, strict=True, description="Label, unique among the vehicle types.")
    count: Optional[int] = Field(1, strict=True, ge=1, description="Number of vehicles; null: as many as "
                                                                   "needed.")
    capacity: Optional[PositiveNumber] = Field(None, description="Load limit per route, in demand units.")
    start_depot: Optional[StopId] = Field(None, description="Id of the depot stop routes start from (default: "
                                                            "the first depot).")
    end_depot: Optional[StopId] = Field(None, description="Id of the depot stop routes end at (default: the "
                                                          "start depot).")
    shift_start: Optional[Time] = Field(None, description="Earliest departure: seconds or 'HH:MM[:SS]' "
                                                          "(default 0 when shift_end is given).")
    shift_end: Optional[Time] = Field(None, description="Latest return: seconds or 'HH:MM[:SS]' (default: "
                                                        "none).")
    max_duration: Optional[Time] = Field(None, description="Longest route, seconds or 'HH:MM[:SS]' (waiting "
                                                           "and breaks included).")
    max_distance: Optional[PositiveNumber] = Field(None, description="Longest route in metres.")
    fixed_cost: Quantity = Field(0, description="Cost of each used vehicle, in the objective's units.")
    breaks: list[BreakModel] = Field(default_factory=list, description="Rests every route of this type takes.")


class MatricesModel(_Model):
    """Travel matrices, rows and columns in the order of ``stops``."""

    distance: list[_Row] = Field(description="n×n travel distances in metres; distance[i][j] is from stop i to "
                                             "stop j.")
    duration: Optional[list[_Row]] = Field(None, description="n×n travel times in seconds (needed for time "
                                                             "windows, shifts, breaks, objective 'duration').")


class OsrmSourceModel(_Model):
    """An OSRM server to ask for the matrices (every stop needs lat / lon)."""

    url: str = Field(strict=True, description="Server URL, e.g. 'http://127.0.0.1:5000'.")
    profile: str = Field("driving", strict=True, description="Profile segment of the request URL.")
    timeout: PositiveNumber = Field(60.0, description="Seconds to wait for one table request.")


def _time_values(model: BaseModel):
    """Every time value a problem model holds (stops, shifts, breaks)."""
    for stop in getattr(model, "stops", ()):
        yield stop.tw_start
        yield stop.tw_end
        yield stop.service
    for vt in getattr(model, "vehicles", None) or ():
        yield from (vt.shift_start, vt.shift_end, vt.max_duration)
        for b in vt.breaks:
            yield from (b.earliest, b.latest, b.duration)


class ProblemModel(_Model):
    """A routing problem: stops by id, the fleet, and the matrices or an OSRM server.

    Depots (``depot: true``) become the Problem's first nodes, in the order of ``stops``,
    the other stops follow in order; ids are kept. ``kind`` is inferred when absent:
    ACVRPTW when a stop gives ``tw_start``, ``tw_end`` or ``service``, else ACVRP when a
    stop gives ``demand`` or there is a fleet (``vehicles``, ``capacity``), else ATSP.
    """

    model_config = ConfigDict(
        title="hybridroute problem",
        json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema",
                           # the matrices, or a server to ask for them (checked by _check_consistency)
                           "oneOf": [{"required": ["matrices"]}, {"required": ["osrm"]}]},
    )

    format: Literal["hybridroute.problem/2"] = Field(PROBLEM_FORMAT, description="The file format and version.")
    name: Optional[str] = Field(None, strict=True, description="Instance name.")
    kind: Optional[Literal["ATSP", "ACVRP", "ACVRPTW"]] = Field(
        None, description="Problem kind. Default: ACVRPTW when a stop gives tw_start, tw_end or service, else "
                          "ACVRP when a stop gives demand or there is a fleet, else ATSP.")
    objective: Literal["distance", "duration"] = Field("distance", description="Minimise metres or seconds.")
    time_origin: Optional[_dt.datetime] = Field(None, description="ISO 8601 date-time that time 0 stands for "
                                                                  "(e.g. '2026-12-03T00:00:00').")
    stops: list[StopModel] = Field(min_length=2, description="Every node, depots included.")
    vehicles: Optional[list[VehicleTypeModel]] = Field(None, min_length=1, description="The fleet, one entry per "
                                                                                       "vehicle type.")
    capacity: Optional[PositiveNumber] = Field(None, description="Shorthand for one vehicle type: its capacity "
                                                                 "(demand units).")
    num_vehicles: Optional[int] = Field(None, strict=True, ge=1, description="Shorthand: the number of vehicles "
                                                                             "(default: unlimited).")
    matrices: Optional[MatricesModel] = Field(None, description="The travel matrices (give matrices or osrm).")
    osrm: Optional[OsrmSourceModel] = Field(None, description="An OSRM server to ask for the matrices.")

    # -- consistency between fields (pydantic checks each field on its own) ---------------

    @model_validator(mode="after")
    def _check_consistency(self) -> "ProblemModel":
        errors: list[tuple[tuple, str, Any]] = []
        n = len(self.stops)
        if self.matrices is not None and self.osrm is not None:
            errors.append((("osrm",), "give either 'matrices' or 'osrm', not both", None))
        elif self.matrices is None and self.osrm is None:
            errors.append((("matrices",), "missing: give 'matrices' (distance in metres, duration in seconds) or "
                                          "'osrm' (a server to ask for them)", None))
        if self.vehicles is not None:
            for key in ("capacity", "num_vehicles"):
                if getattr(self, key) is not None:
                    errors.append(((key,), "give either 'vehicles' or 'capacity' / 'num_vehicles', not both",
                                   getattr(self, key)))
        first: dict[Any, int] = {}
        for k, stop in enumerate(self.stops):
            key = (type(stop.id), stop.id)
            if key in first:
                errors.append((("stops", k, "id"), f"duplicate id {stop.id!r} (first at stops.{first[key]})",
                               stop.id))
            first.setdefault(key, k)
        errors += self._coordinate_errors()
        errors += self._kind_errors()
        if self.matrices is not None:
            for name in ("distance", "duration"):
                m = getattr(self.matrices, name)
                if m is None:
                    continue
                if len(m) != n:
                    errors.append((("matrices", name), f"has {len(m)} rows, expected {n} (one per stop)", None))
                for i, row in enumerate(m):
                    if len(row) != n:
                        errors.append((("matrices", name, i), f"has {len(row)} entries, expected {n} (one per "
                                                              f"stop)", None))
                        break
        depots = {s.id for s in self._depot_stops()}
        for t, vt in enumerate(self.vehicles or ()):
            for key in ("start_depot", "end_depot"):
                ref = getattr(vt, key)
                if ref is not None and ref not in depots:
                    known = ", ".join(map(repr, sorted(depots, key=str)))
                    errors.append((("vehicles", t, key), f"{ref!r} is not the id of a depot stop (depots: {known})",
                                   ref))
        if errors:
            raise _invalid(type(self).__name__, errors)
        return self

    def _coordinate_errors(self) -> list[tuple[tuple, str, Any]]:
        with_coords = [s.lat is not None and s.lon is not None for s in self.stops]
        errors = []
        for k, s in enumerate(self.stops):
            if (s.lat is None) != (s.lon is None):
                key = "lon" if s.lon is None else "lat"
                errors.append((("stops", k, key), "missing: give lat and lon together", None))
            elif not with_coords[k] and (self.osrm is not None or any(with_coords)):
                why = "needed to ask OSRM for the matrices" if self.osrm is not None else \
                    "missing while other stops have lat / lon (give them for every stop, or for none)"
                errors.append((("stops", k, "lat"), why, None))
        return errors

    def _kind_errors(self) -> list[tuple[tuple, str, Any]]:
        """Fields the (explicit) kind does not use: an error rather than silently ignored."""
        kind = self.problem_kind
        errors = []
        for k, s in enumerate(self.stops):
            if not kind.has_time_windows:
                for key in ("tw_start", "tw_end", "service"):
                    if getattr(s, key) is not None:
                        errors.append((("stops", k, key), f"is not used by {kind.value}; use kind 'ACVRPTW'",
                                       getattr(s, key)))
            if kind is ProblemKind.ATSP:
                for key, default in (("demand", 0), ("required", True), ("prize", 0)):
                    if getattr(s, key) != default:
                        errors.append((("stops", k, key), "is not used by ATSP; use kind 'ACVRP'", getattr(s, key)))
        if kind is ProblemKind.ATSP:
            for key in ("vehicles", "capacity", "num_vehicles"):
                if getattr(self, key) not in (None, 1 if key == "num_vehicles" else None):
                    errors.append(((key,), "is not used by ATSP (one vehicle); use kind 'ACVRP'", None))
        return errors

    @property
    def problem_kind(self) -> ProblemKind:
        """``kind``, or the kind inferred from the fields given (see the class docstring)."""
        if self.kind is not None:
            return ProblemKind(self.kind)
        if any(getattr(s, key) is not None for s in self.stops for key in ("tw_start", "tw_end", "service")):
            return ProblemKind.ACVRPTW
        if self.vehicles is not None or self.capacity is not None or self.num_vehicles is not None \
                or any("demand" in s.model_fields_set for s in self.stops):
            return ProblemKind.ACVRP
        return ProblemKind.ATSP

    def _depot_stops(self) -> list[StopModel]:
        return [s for s in self.stops if s.depot] or self.stops[:1]

    def _node_order(self) -> list[int]:
        """Stop positions in node order: the depots first, then the other stops."""
        depots = [k for k, s in enumerate(self.stops) if s.depot] or [0]
        taken = set(depots)
        return depots + [k for k in range(len(self.stops)) if k not in taken]

    # -- to and from Problem -----------------------------------------------------------

    def to_problem(self, client: Any = None) -> Problem:
        """The :class:`~hybridroute.Problem` this file describes.

        Parameters
        ----------
        client
            For a file with ``osrm``: an :class:`~hybridroute.osrm.OSRMClient`, a running
            :class:`~hybridroute.osrm.LocalOSRM` or a URL to ask instead of ``osrm.url``.
            Ignored when the file gives ``matrices``.

        Raises
        ------
        ProblemJSONError
            The data is invalid as a problem (a demand above every capacity, a window no
            vehicle can reach, ...): the path names the stop (``stops.3.demand``), the
            vehicle type (``vehicles.1``) or the matrix entry, in the file's order.
        OSRMError
            From the OSRM server (unreachable pairs and far snaps name the stop ids).
        """
        order = self._node_order()
        stops = [self.stops[k] for k in order]
        kind = self.problem_kind
        num_depots = len(self._depot_stops())
        ids = [s.id for s in stops]
        coords = None if stops[0].lat is None else [[s.lat, s.lon] for s in stops]
        distance, duration = self._travel_matrices(order, coords, ids, num_depots, client)
        vrp = kind is not ProblemKind.ATSP
        kwargs: dict[str, Any] = {}
        if vrp:
            kwargs.update(demand=np.asarray([s.demand for s in stops]), required=[s.required for s in stops],
                          prize=[float(s.prize) for s in stops], num_depots=num_depots)
            if self.vehicles is not None:
                kwargs["vehicle_types"] = self._vehicle_types(ids[:num_depots])
            else:
                kwargs.update(capacity=self.capacity, num_vehicles=self.num_vehicles)
        elif num_depots > 1:
            kwargs["num_depots"] = num_depots  # refused by Problem with the ATSP reason
        if kind.has_time_windows:
            kwargs["time_windows"] = [[_seconds(s.tw_start, 0.0), _seconds(s.tw_end, math.inf)] for s in stops]
            kwargs["service_time"] = [_seconds(s.service, 0.0) for s in stops]
        clock = any(isinstance(v, str) for v in _time_values(self))
        try:
            return Problem(kind, distance, duration, coords=coords, ids=ids, objective=self.objective,
                           name=self.name, time_origin=self.time_origin,
                           time_format="clock" if clock else "seconds", **kwargs)
        except ProblemValidationError as exc:
            raise ProblemJSONError([self._path_of(exc, order)]) from None

    def _travel_matrices(self, order, coords, ids, num_depots, client):
        if self.matrices is not None:
            rows = np.ix_(order, order)
            dist = np.asarray(self.matrices.distance, dtype=np.float64)[rows]
            dur = (None if self.matrices.duration is None
                   else np.asarray(self.matrices.duration, dtype=np.float64)[rows])
            return dist, dur
        from .osrm.client import OSRMClient
        from .osrm.errors import OSRMSnapError, OSRMUnreachableError
        from .osrm.frames import _as_client

        osrm = OSRMClient(self.osrm.url, profile=self.osrm.profile, timeout=float(self.osrm.timeout)) \
            if client is None else _as_client(client)
        try:
            table = osrm.table(np.asarray(coords, dtype=np.float64), protect=list(range(num_depots)))
        except OSRMUnreachableError as exc:
            # re-raised with the stop ids instead of node positions, as Problem.from_osrm does
            raise OSRMUnreachableError(exc.pairs, len(ids), labels=ids) from None
        except OSRMSnapError as exc:
            raise OSRMSnapError(exc.indices, exc.snap_m, exc.max_snap_m, labels=ids) from None
        return table.distance, table.duration

    def _vehicle_types(self, depot_ids: list) -> list[VehicleType]:
        depot_index = {v: i for i, v in enumerate(depot_ids)}
        types = []
        for t, vt in enumerate(self.vehicles or ()):
            breaks = []
            for b, br in enumerate(vt.breaks):
                try:
                    breaks.append(Break(_seconds(br.earliest, 0.0), _seconds(br.latest, math.inf),
                                        _seconds(br.duration, 0.0)))
                except FleetError as exc:
                    raise ProblemJSONError([(f"vehicles.{t}.breaks.{b}.{exc.field}",
                                             str(exc).removeprefix(f"{exc.field}: "))]) from None
            shift = None
            if vt.shift_start is not None or vt.shift_end is not None:
                shift = (_seconds(vt.shift_start, 0.0), _seconds(vt.shift_end, math.inf))
            try:
                types.append(VehicleType(
                    count=vt.count, capacity=vt.capacity,
                    start_depot=0 if vt.start_depot is None else depot_index[vt.start_depot],
                    end_depot=None if vt.end_depot is None else depot_index[vt.end_depot],
                    shift=shift, max_duration=None if vt.max_duration is None else _seconds(vt.max_duration, 0.0),
                    max_distance=vt.max_distance, fixed_cost=float(vt.fixed_cost), breaks=breaks, name=vt.name))
            except FleetError as exc:
                key = {"shift": "shift_end"}.get(exc.field, exc.field)
                raise ProblemJSONError([(f"vehicles.{t}.{key}", str(exc).removeprefix(f"{exc.field}: "))]) from None
        return types

    def _path_of(self, exc: ProblemValidationError, order: list[int]) -> tuple[str, str]:
        """``(path in this file, message)`` of a Problem's error about node ``order``-ed data."""
        where = f" at index {exc.index}" if exc.index is not None else ""
        msg = str(exc).removeprefix(f"{exc.field}{where}: ")
        field, index = exc.field, exc.index
        if field in ("distance", "duration"):
            base = f"matrices.{field}" if self.matrices is not None else "osrm"
            if self.matrices is not None and isinstance(index, tuple):
                return f"{base}.{order[index[0]]}.{order[index[1]]}", msg
            if self.matrices is not None and isinstance(index, int):
                return f"{base}.{order[index]}", msg
            return base, f"{field}: {msg}" if base == "osrm" else msg
        if field in _LIST_OF_FIELD:  # indexed by vehicle type, not by node
            base = _LIST_OF_FIELD[field]
            return (base if index is None else f"{base}.{index}"), msg
        if isinstance(index, int) and 0 <= index < len(order):
            key = _STOP_KEY_OF_FIELD.get(field, field)
            if field == "time_windows" and msg.startswith("window start"):
                key = "tw_start"
            stop = self.stops[order[index]]
            path = f"stops.{order[index]}" + (f".{key}" if key else "")
            return path, f"{msg} (stop {stop.id!r})"
        return field, msg

    @classmethod
    def from_problem(cls, problem: Problem) -> "ProblemModel":
        """The file form of ``problem`` (times as clock strings where ``time_format`` is ``"clock"``).

        Raises
        ------
        ValueError
            A stop id that is neither an integer nor a string (JSON has no other keys).
        """
        clock = problem.time_format == "clock"

        def time(seconds: float) -> int | float | str:
            from .frames import _clock_text

            s = float(seconds)
            return _clock_text(s) if clock and s.is_integer() else s

        n, nd = problem.num_nodes, problem.num_depots
        ids = [problem.id_of(i) for i in range(n)]
        for i, v in enumerate(ids):
            if isinstance(v, bool) or not isinstance(v, (int, str)):
                raise ValueError(f"ids: node {i} has id {v!r} ({type(v).__name__}); a JSON problem's stop ids are "
                                 f"integers or strings")
        vrp = problem.kind is not ProblemKind.ATSP
        tw, svc = problem.time_windows, problem.service_time
        stops = []
        for i in range(n):
            stop: dict[str, Any] = {"id": ids[i]}
            if problem.coords is not None:
                stop["lat"], stop["lon"] = (float(x) for x in problem.coords[i])
            if i < nd:
                stop["depot"] = True
            if vrp:
                stop["demand"] = problem.demand[i].item()
                if not problem.required[i]:
                    stop["required"] = False
                    stop["prize"] = float(problem.prize[i])
            if tw is not None:
                stop["tw_start"] = time(tw[i, 0])
                if math.isfinite(tw[i, 1]):
                    stop["tw_end"] = time(tw[i, 1])
                stop["service"] = time(svc[i])
            stops.append(stop)
        data: dict[str, Any] = {"format": PROBLEM_FORMAT, "kind": problem.kind.value, "objective": problem.objective,
                                "stops": stops}
        if problem.name is not None:
            data["name"] = problem.name
        if problem.time_origin is not None:
            data["time_origin"] = problem.time_origin
        if vrp:
            types = problem.vehicle_types
            if len(types) == 1 and types[0].is_shorthand:  # written as it was given: capacity / num_vehicles
                data["capacity"] = problem.capacity
                if problem.num_vehicles is not None:
                    data["num_vehicles"] = problem.num_vehicles
            else:
                data["vehicles"] = [_vehicle_dict(vt, ids, nd, time) for vt in problem.vehicle_types]
        data["matrices"] = {"distance": problem.distance.tolist()}
        if problem.duration is not None:
            data["matrices"]["duration"] = problem.duration.tolist()
        return cls.model_validate(data)


def _vehicle_dict(vt: VehicleType, ids: list, num_depots: int, time) -> dict[str, Any]:
    out: dict[str, Any] = {"count": vt.count}
    if vt.name is not None:
        out["name"] = vt.name
    if vt.capacity is not None:
        out["capacity"] = vt.capacity
    if num_depots > 1 or vt.start_depot != 0:
        out["start_depot"] = ids[vt.start_depot]
    if vt.end_depot is not None:
        out["end_depot"] = ids[vt.end_depot]
    if vt.shift is not None:
        out["shift_start"] = time(vt.shift[0])
        if math.isfinite(vt.shift[1]):
            out["shift_end"] = time(vt.shift[1])
    # An infinite limit is no limit: JSON has no infinity, so it is left out.
    if vt.max_duration is not None and math.isfinite(vt.max_duration):
        out["max_duration"] = time(vt.max_duration)
    if vt.max_distance is not None and math.isfinite(vt.max_distance):
        out["max_distance"] = vt.max_distance
    if vt.fixed_cost:
        out["fixed_cost"] = vt.fixed_cost
    if vt.breaks:
        out["breaks"] = [{"earliest": time(b.earliest), "duration": time(b.duration),
                          **({"latest": time(b.latest)} if math.isfinite(b.latest) else {})} for b in vt.breaks]
    return out


# Problem field -> the stop key that carries it.
# Problem fields indexed by something other than nodes, and the list of this file they come from.
_LIST_OF_FIELD = {"vehicle_types": "vehicles"}
_STOP_KEY_OF_FIELD = {"ids": "id", "coords": "lat", "demand": "demand", "time_windows": "tw_end",
                      "service_time": "service", "required": "required", "prize": "prize", "num_depots": "depot",
                      # a stop no vehicle type can serve: the stop as a whole
                      "shift": None, "max_duration": None, "max_distance": None}


# -- the solution -----------------------------------------------------------------------


class BreakTakenModel(_Model):
    """A break a route takes."""

    after: int = Field(strict=True, ge=0, description="Where: after the route's k-th stop (0: the start depot), "
                                                      "before the next stop's service or the return; the drive "
                                                      "pauses, or the break fills waiting at the next stop.")
    start: Time = Field(description="Start: seconds or 'HH:MM:SS' (per time_format).")
    duration: Time = Field(description="Length: seconds or 'HH:MM:SS'.")


class RouteModel(_Model):
    """One route: the stops in visiting order, with their schedule."""

    vehicle_type: Union[int, str] = Field(description="The route's vehicle type: its name, or its index in the "
                                                      "problem's vehicles when unnamed.")
    start_depot: StopId = Field(description="Id of the depot the route starts from.")
    end_depot: StopId = Field(description="Id of the depot the route ends at.")
    stops: list[StopId] = Field(description="Ids of the visited stops, in order, without the depots.")
    distance: Optional[float] = Field(None, description="Route distance in metres (null for a route with "
                                                        "unknown stops).")
    duration: Optional[float] = Field(None, description="Route duration in seconds (waiting and breaks "
                                                        "included); null without a duration matrix.")
    load: float = Field(0, description="Total demand served, in demand units.")
    start_time: Optional[Time] = Field(None, description="When the route leaves its start depot.")
    end_time: Optional[Time] = Field(None, description="When the route is back at its end depot.")
    arrival: Optional[list[Time]] = Field(None, description="Arrival at each stop (seconds or 'HH:MM:SS').")
    departure: Optional[list[Time]] = Field(None, description="Departure from each stop, after service.")
    breaks: list[BreakTakenModel] = Field(default_factory=list, description="Breaks taken on the route.")


class ViolationModel(_Model):
    """A broken constraint."""

    kind: str = Field(description="time_window, capacity, missing_visit, ... (see hybridroute.Violation).")
    message: str = Field(description="What is wrong, in words.")
    route: Optional[int] = Field(None, description="Index of the route in routes, where one is at fault.")
    stop: Optional[StopId] = Field(None, description="Id of the stop at fault, where one is.")


class SolutionModel(_Model):
    """A solution: routes as stop ids with their schedule, costs and violations."""

    model_config = ConfigDict(
        title="hybridroute solution",
        json_schema_extra={"$schema": "https://json-schema.org/draft/2020-12/schema"},
    )

    format: Literal["hybridroute.solution/2"] = Field(SOLUTION_FORMAT, description="The file format and version.")
    status: Literal["optimal", "feasible", "infeasible", "no_solution"] = Field(description="Outcome of the solve.")
    cost: Optional[float] = Field(None, description="The objective (objective units); null without a solution.")
    distance: Optional[float] = Field(None, description="Total distance in metres; null without a solution.")
    duration: Optional[float] = Field(None, description="Total route duration in seconds.")
    fixed_cost: float = Field(0.0, description="Sum of the used vehicles' fixed costs (objective units).")
    unserved_prize: float = Field(0.0, description="Sum of the prizes of the unserved stops (objective units).")
    time_format: Literal["seconds", "clock"] = Field("seconds", description="How times are written: seconds "
                                                                            "or 'HH:MM:SS'.")
    routes: list[RouteModel] = Field(default_factory=list, description="The routes.")
    unserved: list[StopId] = Field(default_factory=list, description="Ids of the optional stops left out.")
    violations: list[ViolationModel] = Field(default_factory=list, description="Broken constraints (empty when "
                                                                               "feasible).")
    solver: Optional[str] = Field(None, description="The backend that produced the routes.")
    runtime: float = Field(0.0, description="Solve time in seconds (wall clock).")
    message: str = Field("", description="The backend's message, if any.")

    @classmethod
    def from_solution(cls, solution: Solution, time_format: str | None = None) -> "SolutionModel":
        """The file form of ``solution``.

        Parameters
        ----------
        time_format
            ``"seconds"``, ``"clock"`` (``"HH:MM:SS"``, rounded to the second) or None: the
            problem's ``time_format`` (as its times were given).
        """
        from .frames import _clock_text

        problem = solution.problem
        fmt = problem.time_format if time_format in (None, "input") else time_format
        if fmt not in ("seconds", "clock"):
            raise ValueError(f"time_format must be 'seconds', 'clock' or None, got {time_format!r}")

        def time(seconds: float | None):
            if seconds is None or not math.isfinite(seconds):
                return None
            return _clock_text(seconds) if fmt == "clock" else float(seconds)

        def type_label(t: int) -> int | str:
            name = problem.vehicle_types[t].name
            return t if name is None else name

        timed = problem.duration is not None
        routes = []
        stats = solution.route_stats if len(solution.route_stats) == len(solution.routes) else None
        types = solution.vehicle_types or (0,) * len(solution.routes)
        for k, route in enumerate(solution.routes):
            vt = problem.vehicle_types[types[k]] if types[k] < len(problem.vehicle_types) else None
            start = vt.start_depot if vt is not None else 0
            entry: dict[str, Any] = {
                "vehicle_type": type_label(types[k]) if vt is not None else types[k],
                "start_depot": problem.id_of(start), "end_depot": problem.id_of(vt.end if vt is not None else start),
                "stops": [problem.id_of(i) if 0 <= i < problem.num_nodes else i for i in route],
            }
            if stats is not None:
                st = stats[k]
                entry.update(distance=st.distance, duration=st.duration, load=float(st.load))
                if timed:
                    entry.update(start_time=time(st.start_time), end_time=time(st.end_time),
                                 arrival=[time(x) for x in st.arrival.tolist()],
                                 departure=[time(x) for x in st.departure.tolist()],
                                 breaks=[{"after": int(pos), "start": time(s), "duration": time(d)}
                                         for pos, s, d in st.breaks])
            routes.append(entry)
        def finite(x: float | None) -> float | None:
            return None if x is None or not math.isfinite(x) else float(x)

        data = {
            "format": SOLUTION_FORMAT, "status": solution.status.value, "cost": finite(solution.cost),
            "distance": finite(solution.distance), "duration": finite(solution.duration),
            "fixed_cost": float(solution.fixed_cost), "unserved_prize": float(solution.unserved_prize),
            "time_format": fmt, "routes": routes, "unserved": [problem.id_of(i) for i in solution.unserved],
            "violations": [{"kind": v.kind, "message": v.message, "route": v.route,
                            "stop": problem.id_of(v.node) if v.node is not None and 0 <= v.node < problem.num_nodes
                            else None} for v in solution.violations],
            "solver": solution.solver, "runtime": float(solution.runtime), "message": solution.message,
        }
        return cls.model_validate(data)


# -- presets ----------------------------------------------------------------------------


class PresetModel(_Model):
    """A solver preset file (TOML): see :mod:`hybridroute.presets`."""

    description: str = Field("", strict=True, description="What the preset is for.")
    backend: str = Field(strict=True, description="A registered solver name.")
    time_limit: Optional[float] = Field(None, strict=True, gt=0, allow_inf_nan=False,
                                        description="Default time limit in seconds.")
    settings: dict[str, Any] = Field(default_factory=dict, description="Constructor settings of the backend.")


# -- entry points -----------------------------------------------------------------------


def json_schema() -> dict[str, dict[str, Any]]:
    """The JSON Schemas of the problem and solution files: ``{"problem": ..., "solution": ...}``."""
    return {"problem": ProblemModel.model_json_schema(), "solution": SolutionModel.model_json_schema()}


def read_problem_json(path_or_text: "str | os.PathLike[str]", client: Any = None) -> Problem:
    """A :class:`~hybridroute.Problem` from a JSON problem file, given as a path or as text.

    ``"format": "hybridroute.problem/2"`` (this module's format; also the default for an
    object with ``stops``) is validated by :class:`ProblemModel`; ``"hybridroute.problem/1"``
    (written by :meth:`Problem.to_json`) goes to :meth:`Problem.from_json`.

    Parameters
    ----------
    path_or_text
        A file path, or JSON text (a string starting with ``{``).
    client
        For a file with ``osrm``: the OSRM client or URL to ask instead (see
        :meth:`ProblemModel.to_problem`).

    Raises
    ------
    ProblemJSONError
        Text that is not JSON (line and column), or invalid data: the message lists each
        error with its field path, e.g. ``stops.3.tw_start: expected seconds ...``.
    ProblemValidationError
        From :meth:`Problem.from_json`, for a ``hybridroute.problem/1`` file.
    FileNotFoundError
        The path does not exist.
    """
    is_text = isinstance(path_or_text, str) and path_or_text.lstrip()[:1] in ("{", "[")
    source = "JSON text" if is_text else str(path_or_text)
    try:
        text = path_or_text if is_text else _read_json_file(path_or_text)
    except ProblemValidationError as exc:
        raise ProblemJSONError([("", str(exc).removeprefix("json: ").removeprefix(f"{source}: "))], source) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProblemJSONError([("", f"line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})")],
                               source) from None
    if not isinstance(data, dict):
        raise ProblemJSONError([("", f"expected a JSON object, got a JSON {type(data).__name__}")], source)
    fmt = data.get("format")
    if fmt == _LEGACY_PROBLEM_FORMAT or (fmt is None and "distance" in data and "stops" not in data):
        return Problem.from_json(path_or_text)
    try:
        model = ProblemModel.model_validate(data)
    except ValidationError as exc:
        raise ProblemJSONError(error_paths(exc, ProblemModel), source) from None
    try:
        return model.to_problem(client)
    except ProblemJSONError as exc:
        raise exc.with_source(source) from None
