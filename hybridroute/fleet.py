"""The fleet: vehicle types, their shifts, limits, costs and breaks.

A :class:`VehicleType` describes ``count`` identical vehicles. A :class:`~hybridroute.Problem`
holds a tuple of them; the ``capacity`` / ``num_vehicles`` shorthand is one type. Units:
seconds for times and durations, metres for distances, the problem's objective units
(metres or seconds) for ``fixed_cost``.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields
from typing import Any, Iterable

__all__ = ["Break", "VehicleType", "FEATURES"]

#: The problem features beyond one depot and one vehicle type, as backends declare them
#: (``Solver.features``) and problems report them (``Problem.features``).
FEATURES = (
    "multiple_depots",   # num_depots > 1 (routes start / end at different depots)
    "vehicle_types",     # more than one vehicle type (heterogeneous fleet)
    "optional_stops",    # required[i] = False: a stop may be left out, at its prize
    "shifts",            # a vehicle type's (earliest start, latest return)
    "max_duration",      # seconds per route
    "max_distance",      # metres per route
    "fixed_costs",       # a cost per used vehicle
    "breaks",            # (earliest start, latest start, duration) per route
)


class FleetError(ValueError):
    """A vehicle type's field is invalid (re-raised by Problem with the type's index)."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


def _number(name: str, value: Any, *, positive: bool = False, allow_inf: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise FleetError(name, f"must be a number, got {value!r} ({type(value).__name__})")
    v = float(value)
    if math.isnan(v) or (math.isinf(v) and not (allow_inf and v > 0)):
        raise FleetError(name, f"must be finite{' (or inf)' if allow_inf else ''}, got {value!r}")
    if v < 0 or (positive and v == 0):
        raise FleetError(name, f"must be {'positive' if positive else 'non-negative'}, got {value!r}")
    return v


@dataclass(frozen=True)
class Break:
    """A rest a route must take: it starts within [earliest, latest] and lasts ``duration``.

    All three in seconds from the problem's time origin (``duration`` in seconds). A break is
    taken between two services — at the previous stop, pausing the drive, or waiting at the
    next stop — never during a service; it is needed only by a route that is under way at some
    time in [earliest, latest] (starts before ``latest`` and returns after ``earliest``).
    """

    earliest: float
    latest: float
    duration: float

    def __post_init__(self):
        e = _number("earliest", self.earliest)
        lt = _number("latest", self.latest, allow_inf=True)
        d = _number("duration", self.duration)
        if lt < e:
            raise FleetError("latest", f"{lt:g} s is before earliest {e:g} s")
        object.__setattr__(self, "earliest", e)
        object.__setattr__(self, "latest", lt)
        object.__setattr__(self, "duration", d)

    @classmethod
    def coerce(cls, value: Any) -> "Break":
        """A Break from a Break, a mapping with its fields, or an (earliest, latest, duration) triple."""
        if isinstance(value, Break):
            return value
        if isinstance(value, dict):
            unknown = set(value) - {"earliest", "latest", "duration"}
            if unknown:
                raise FleetError("breaks", f"unknown key(s) {sorted(unknown)}; a break has earliest, latest, duration")
            return cls(**value)
        try:
            e, lt, d = value
        except (TypeError, ValueError):
            raise FleetError("breaks", f"each break is (earliest, latest, duration) in seconds, got {value!r}") from None
        return cls(e, lt, d)


@dataclass(frozen=True)
class VehicleType:
    """``count`` identical vehicles.

    Parameters
    ----------
    count
        How many vehicles of this type exist (a positive integer), or None for as many as
        needed.
    capacity
        Load limit per route, in the units of the problem's ``demand``. Required for ACVRP
        and ACVRPTW.
    start_depot
        Index of the depot routes start from (a node below the problem's ``num_depots``).
    end_depot
        Index of the depot routes end at; None means back to ``start_depot``.
    shift
        ``(earliest start, latest return)`` in seconds, or None for the depots' opening hours
        only. The latest return may be ``inf``.
    max_duration
        Longest route in seconds (from leaving the start depot to arriving at the end depot,
        waiting and breaks included), or None (``inf`` is read as None).
    max_distance
        Longest route in metres, or None (``inf`` is read as None).
    fixed_cost
        Cost of using one vehicle of this type, in the objective's units (metres or seconds).
    breaks
        Rests every route of this type takes: :class:`Break` or ``(earliest, latest,
        duration)`` triples in seconds.
    name
        Optional label (shown in outputs; unique within a problem when given).
    """

    count: int | None = 1
    capacity: float | None = None
    start_depot: int = 0
    end_depot: int | None = None
    shift: tuple[float, float] | None = None
    max_duration: float | None = None
    max_distance: float | None = None
    fixed_cost: float = 0.0
    breaks: tuple[Break, ...] = ()
    name: str | None = None

    def __post_init__(self):
        set_ = object.__setattr__
        if self.count is not None:
            if isinstance(self.count, bool) or not isinstance(self.count, numbers.Real) \
                    or not float(self.count).is_integer() or self.count < 1:
                raise FleetError("count", f"must be a positive integer or None (unlimited), got {self.count!r}")
            set_(self, "count", int(self.count))
        if self.capacity is not None:
            cap = _number("capacity", self.capacity, positive=True)
            set_(self, "capacity", int(cap) if isinstance(self.capacity, numbers.Integral) else cap)
        for name in ("start_depot", "end_depot"):
            v = getattr(self, name)
            if v is None and name == "end_depot":
                continue
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
                raise FleetError(name, f"must be a depot index (a non-negative integer), got {v!r}")
            set_(self, name, int(v))
        if self.shift is not None:
            try:
                s0, s1 = self.shift
            except (TypeError, ValueError):
                raise FleetError("shift", f"must be (earliest start, latest return) in seconds, got {self.shift!r}") from None
            s0 = _number("shift", s0)
            s1 = _number("shift", s1, allow_inf=True)
            if s1 < s0:
                raise FleetError("shift", f"latest return {s1:g} s is before the earliest start {s0:g} s")
            set_(self, "shift", (s0, s1))
        for name in ("max_duration", "max_distance"):
            value = getattr(self, name)
            if value is not None:
                value = _number(name, value, positive=True, allow_inf=True)
                set_(self, name, None if math.isinf(value) else value)  # no limit: one spelling
        set_(self, "fixed_cost", _number("fixed_cost", self.fixed_cost))
        if isinstance(self.breaks, (str, bytes)) or not isinstance(self.breaks, Iterable):
            raise FleetError("breaks", f"must be a list of (earliest, latest, duration), got {self.breaks!r}")
        breaks = [Break.coerce(b) for b in self.breaks]
        set_(self, "breaks", tuple(sorted(breaks, key=lambda b: (b.earliest, b.latest))))
        if self.name is not None and not isinstance(self.name, str):
            set_(self, "name", str(self.name))

    @property
    def end(self) -> int:
        """The depot routes end at (``end_depot``, or ``start_depot`` when None)."""
        return self.start_depot if self.end_depot is None else self.end_depot

    @property
    def features(self) -> frozenset[str]:
        """The :data:`FEATURES` this type uses on its own (depots are the problem's)."""
        out = set()
        if self.shift is not None:
            out.add("shifts")
        if self.max_duration is not None:
            out.add("max_duration")
        if self.max_distance is not None:
            out.add("max_distance")
        if self.fixed_cost > 0:
            out.add("fixed_costs")
        if self.breaks:
            out.add("breaks")
        return frozenset(out)

    @property
    def is_shorthand(self) -> bool:
        """Whether this type says no more than ``capacity`` and ``num_vehicles`` do."""
        return self == VehicleType(count=self.count, capacity=self.capacity)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (defaults left out; ``inf`` kept as a float)."""
        out: dict[str, Any] = {}
        default = VehicleType()
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name != "count" and value == getattr(default, f.name):
                continue
            if f.name == "breaks":
                value = [[b.earliest, b.latest, b.duration] for b in value]
            elif f.name == "shift":
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def coerce(cls, value: Any) -> "VehicleType":
        """A VehicleType from a VehicleType or a mapping of its fields."""
        if isinstance(value, VehicleType):
            return value
        if isinstance(value, dict):
            known = {f.name for f in fields(cls)}
            unknown = set(value) - known
            if unknown:
                raise FleetError(sorted(unknown)[0], f"unknown vehicle type field; known: {', '.join(sorted(known))}")
            return cls(**value)
        raise FleetError("vehicle_types", f"each entry must be a VehicleType or a dict of its fields, got "
                                          f"{type(value).__name__}")
