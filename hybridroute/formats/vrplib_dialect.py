"""PyVRP's VRPLIB dialect: what in a parsed file is malformed, what hybridroute does not model,
and the fleet and optional stops it describes.

PyVRP extends VRPLIB with sections for real fleets (several depots, per-vehicle capacities,
costs, distance and duration limits, client restrictions, prizes, release times, reloads,
shipments). ``vrplib`` parses all of them into one dict: keys in lower case without
``_SECTION``, the node / vehicle number column dropped. hybridroute models several depots,
vehicle types (capacity, depot, maximum distance and duration per route, fixed cost, a
count) and optional stops with prizes, with time windows and service times, so the reader
checks that dict here first:

- :func:`malformed` lists what is wrong in the file itself (a depot outside 1..DIMENSION,
  several depots that are not the lowest node numbers, a vehicle based at a node that is not
  a depot, a per-vehicle section whose row count is not ``VEHICLES``, a window that opens
  after it closes);
- :func:`unmodelled` lists each section or key whose content changes the problem beyond
  that model, named as the file spells it. A section that only restates the model (every
  release time 0, allowed every client, unit distance cost 1) is accepted. A key this module
  does not know is refused too, never ignored;
- :func:`fleet` groups the file's vehicles into vehicle types, and :func:`optional_stops`
  gives each node's ``required`` flag and prize, both as PyVRP's own reader derives them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..fleet import FleetError, VehicleType

__all__ = ["Fleet", "depots", "fleet", "label", "malformed", "optional_stops", "unmodelled"]

# Keys a hybridroute Problem holds, or that do not change the problem (display data).
_PLAIN = frozenset({
    "name", "comment", "type", "dimension", "edge_weight_type", "edge_weight_format", "node_coord_type",
    "display_data_type", "display_data", "node_coord", "edge_weight", "demand", "depot", "capacity",
    "vehicles", "time_window", "service_time", "prize", "vehicles_depot", "vehicles_max_distance",
    "vehicles_max_duration", "vehicles_fixed_cost",
})
# Per-vehicle data: one row per vehicle (a single value applies to all of them).
_PER_VEHICLE = ("capacity", "vehicles_allowed_clients", "vehicles_reload_depot", "vehicles_depot",
                "vehicles_max_distance", "vehicles_max_duration", "vehicles_max_reloads",
                "vehicles_fixed_cost", "vehicles_unit_distance_cost")
# Per-vehicle data with one number per vehicle (capacity may hold one per load dimension).
_PER_VEHICLE_NUMBER = ("vehicles_depot", "vehicles_max_distance", "vehicles_max_duration",
                       "vehicles_fixed_cost", "vehicles_unit_distance_cost")
# Sections and keys refused whenever present: what they say is beyond the model. The limits
# are shown with their values.
_LIMITS = {
    # CVRPLIB's DISTANCE header: which times count towards it (service times?) varies by set.
    "distance": "a maximum route length (CVRPLIB's DISTANCE header; use VEHICLES_MAX_DISTANCE)",
}
_ALWAYS = {
    "vehicles_reload_depot": "several trips per vehicle (reloading at a depot) are not modelled",
    "vehicles_max_reloads": "several trips per vehicle (reloading at a depot) are not modelled",
    "mutually_exclusive_group": "groups of clients of which only one is served are not modelled",
    "pickup_and_delivery": "shipments (pickup and delivery pairs) are not modelled",
    "linehaul": "line-haul and back-haul clients are not modelled",
    "backhaul": "line-haul and back-haul clients are not modelled",
}


def label(key: str, value: Any) -> str:
    """The name the file gives a parsed key: ``KEY_SECTION`` for a table, ``KEY`` for a header value."""
    return key.upper() + ("_SECTION" if isinstance(value, (np.ndarray, list)) else "")


def _show(values: Any, limit: int = 5) -> str:
    """Distinct values, in order of appearance, as the file writes them (``58, 100, 147``)."""
    if isinstance(values, list):  # a ragged table
        flat = [v for row in values for v in np.atleast_1d(row).tolist()]
    else:
        flat = np.asarray(values).ravel().tolist()
    distinct = list(dict.fromkeys(flat))
    text = ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in distinct[:limit])
    return text + (", ..." if len(distinct) > limit else "")


def _count(k: int, noun: str) -> str:
    return f"{k} {noun}" + ("" if k == 1 else "s")


def _numbers(value: Any) -> np.ndarray | None:
    """``value`` as a float array, or None when it is ragged or not numeric."""
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None


def depots(data: dict[str, Any]) -> np.ndarray:
    """0-based depot nodes in DEPOT_SECTION order (vrplib removes the -1 terminator and
    subtracts 1); node 1 when the file has no DEPOT_SECTION, as in PyVRP."""
    return np.atleast_1d(np.asarray(data.get("depot", [0]))).ravel()


def _clients_mask(data: dict[str, Any], n: int) -> np.ndarray:
    mask = np.ones(n, dtype=bool)
    found = depots(data)
    mask[found[(found >= 0) & (found < n)].astype(np.int64)] = False
    return mask


def _num_vehicles(data: dict[str, Any], n: int) -> tuple[int, str]:
    """Rows a per-vehicle section must have, and where that number comes from."""
    vehicles = data.get("vehicles")
    if isinstance(vehicles, (int, np.integer)) and not isinstance(vehicles, bool):
        return int(vehicles), f"VEHICLES is {vehicles}"
    clients = int(_clients_mask(data, n).sum())
    return clients, f"there is no VEHICLES line (PyVRP then assumes one vehicle per client: {clients})"


# -- malformed ---------------------------------------------------------------------------


def _bad_depots(data: dict[str, Any], n: int) -> list[str]:
    found = _numbers(depots(data))
    if found is None:
        return ["DEPOT_SECTION must list node numbers"]
    listed = " and ".join(f"{d + 1:g}" for d in found) if found.size == 2 else _show(found + 1, limit=10)
    what = f"DEPOT_SECTION lists {_count(found.size, 'depot')} ({listed})"
    outside = found[(found < 0) | (found >= n) | (found != np.round(found))]
    if outside.size:
        return [f"{what}, and node {outside[0] + 1:g} is outside 1..{n} (DIMENSION {n})"]
    if found.size > 1 and not np.array_equal(found, np.arange(found.size)):
        # A single depot anywhere is moved to index 0; several are kept in place, and
        # PyVRP's dialect numbers them first (its .sol files count locations that way).
        return [f"{what}: several depots must be the lowest node numbers 1..{found.size}, in order, "
                f"as PyVRP's dialect requires"]
    return []


def _bad_vehicle_rows(data: dict[str, Any], n: int) -> list[str]:
    rows, source = _num_vehicles(data, n)
    found = []
    for key in _PER_VEHICLE:
        value = data.get(key)
        if isinstance(value, (np.ndarray, list)) and len(value) != rows:
            found.append(f"{label(key, value)} has {_count(len(value), 'row')}, but {source}")
    return found


def _bad_vehicle_numbers(data: dict[str, Any], n: int) -> list[str]:
    found = []
    for key in _PER_VEHICLE_NUMBER:
        if key in data:
            values = _numbers(data[key])
            if values is None or values.ndim > 1:
                found.append(f"{label(key, data[key])} must hold one number per vehicle")
    if "prize" in data:
        values = _numbers(data["prize"])
        if values is None or values.shape not in ((), (n,)):
            found.append(f"{label('prize', data['prize'])} must hold one number per node (DIMENSION {n})")
    return found


def _bad_vehicle_depots(data: dict[str, Any], n: int) -> list[str]:
    starts = _numbers(data.get("vehicles_depot", np.zeros(0)))
    if starts is None or starts.ndim > 1:
        return []  # said by _bad_vehicle_numbers
    listed = depots(data)
    for vehicle, node in enumerate(np.atleast_1d(starts).tolist(), start=1):
        if node - 1 not in listed.tolist():
            where = ("DEPOT_SECTION lists " + _show(listed + 1, limit=10)) if "depot" in data else \
                "node 1 is the depot: the file has no DEPOT_SECTION"
            return [f"{label('vehicles_depot', data['vehicles_depot'])}: vehicle {vehicle} is based at node "
                    f"{node:g}, which is not a depot ({where})"]
    return []


def _bad_windows(data: dict[str, Any], n: int) -> list[str]:
    tw = _numbers(data.get("time_window", np.zeros((0, 2))))
    if tw is None or tw.ndim != 2 or tw.shape[1] != 2:
        return []  # the shape is checked, with the file's DIMENSION, when the Problem is built
    bad = np.flatnonzero(tw[:, 0] > tw[:, 1])
    return [f"TIME_WINDOW_SECTION: node {i + 1} opens at {tw[i, 0]:g}, after it closes at {tw[i, 1]:g}"
            for i in bad[:3]]


def malformed(data: dict[str, Any], n: int) -> list[str]:
    """What is wrong in a parsed VRPLIB file of ``n`` nodes, one sentence per fault.

    Parameters
    ----------
    data
        ``vrplib``'s dict for the file.
    n
        ``DIMENSION``.

    Returns
    -------
    list of str
        Empty when none of these faults is found: a depot outside ``1..n``; several depots
        that are not nodes ``1..k`` in order (PyVRP's rule); a per-vehicle section whose row
        count differs from ``VEHICLES``, or that does not hold one number per vehicle; a
        vehicle based at a node that is not a depot; a ``PRIZE_SECTION`` that does not hold
        one number per node; a time window that opens after it closes (file node and
        vehicle numbers, 1-based). Only the depot faults are reported when there are any.
    """
    bad_depots = _bad_depots(data, n)
    if bad_depots:
        return bad_depots
    return (_bad_vehicle_rows(data, n) + _bad_vehicle_numbers(data, n) + _bad_vehicle_depots(data, n)
            + _bad_windows(data, n))


# -- not modelled ------------------------------------------------------------------------


def _capacity(data, key, value, n) -> str | None:
    caps = _numbers(value)
    if not isinstance(value, np.ndarray) or caps is None:
        return None  # one CAPACITY value; the Problem checks it
    if caps.ndim == 2:
        return f"multiple load dimensions: CAPACITY_SECTION has {caps.shape[1]} values per vehicle"
    return None


def _demand(data, key, value, n) -> str | None:
    demand = _numbers(value)  # None: ragged, reported when the Problem is built
    if demand is not None and demand.ndim == 2:
        return f"multiple load dimensions: DEMAND_SECTION has {demand.shape[1]} values per node"
    return None


def _nonzero_per_client(text: str, having: str) -> Callable:
    """A check refusing a per-node value that is not 0 at some client (0 everywhere is the model)."""
    def check(data, key, value, n) -> str | None:
        values = _numbers(value)
        if values is not None and values.ndim == 0:  # one value for every node
            values = np.full(n, values)
        if values is None or values.shape != (n,):
            return f"{label(key, value)}: {text} (and it does not hold one number per node)"
        clients = _clients_mask(data, n)
        nonzero = (values != 0) & clients
        if not nonzero.any():
            return None
        return f"{label(key, value)}: {text} ({int(nonzero.sum())} of {int(clients.sum())} clients {having})"
    return check


def _per_vehicle_other_than(neutral: float, text: str) -> Callable:
    def check(data, key, value, n) -> str | None:
        values = _numbers(value)
        if values is not None and np.all(values == neutral):
            return None
        return f"{label(key, value)}: {text} ({_show(value)}) are not modelled"
    return check


def _allowed_clients(data, key, value, n) -> str | None:
    clients = set((np.flatnonzero(_clients_mask(data, n)) + 1).tolist())
    # vrplib keeps a ragged table as lists; an even one is an array, squeezed to 1-D when
    # each vehicle lists one client.
    rows = value if isinstance(value, list) else np.asarray(value).reshape(len(value), -1).tolist()
    for vehicle, row in enumerate(rows, start=1):
        missing = sorted(clients - set(np.atleast_1d(row).tolist()))
        if missing:
            return (f"{label(key, value)}: client restrictions per vehicle are not modelled "
                    f"(vehicle {vehicle} may not serve node {missing[0]})")
    return None


def _limit(data, key, value, n) -> str:
    return f"{label(key, value)}: {_LIMITS[key]} ({_show(value)}) is not modelled"


def _always(data, key, value, n) -> str:
    return f"{label(key, value)}: {_ALWAYS[key]}"


_CHECKS: dict[str, Callable] = {
    "capacity": _capacity,
    "demand": _demand,
    "release_time": _nonzero_per_client("release times are not modelled", "are released after time 0"),
    # hybridroute's objective prices every route's distance alike.
    "vehicles_unit_distance_cost": _per_vehicle_other_than(1, "per-vehicle distance costs"),
    "vehicles_allowed_clients": _allowed_clients,
    **{key: _limit for key in _LIMITS},
    **{key: _always for key in _ALWAYS},
}


def unmodelled(data: dict[str, Any], n: int) -> list[str]:
    """What a parsed VRPLIB file asks for that hybridroute does not model yet.

    Parameters
    ----------
    data
        ``vrplib``'s dict for the file (checked by :func:`malformed` first).
    n
        ``DIMENSION``.

    Returns
    -------
    list of str
        One sentence per section or key, in file order, each starting with its name as the
        file spells it (``RELEASE_TIME_SECTION: ...``, ``VEHICLES_RELOAD_DEPOT_SECTION: ...``),
        or naming the feature first (``multiple load dimensions: ...``). Keys this module
        does not know are listed as unknown. Empty when the file fits the model: several
        depots, prizes, and per-vehicle capacities, depots, maximum distances and durations
        and fixed costs are modelled (see :func:`fleet` and :func:`optional_stops`).
    """
    found = []
    for key, value in data.items():
        check = _CHECKS.get(key)
        if check is not None:
            reason = check(data, key, value, n)
        elif key in _PLAIN:
            reason = None
        else:
            reason = (f"{label(key, value)}: unknown to hybridroute's reader (neither VRPLIB nor PyVRP's "
                      f"dialect as read here); refused rather than ignored")
        if reason and reason not in found:
            found.append(reason)
    return found


# -- what the file describes -------------------------------------------------------------


# The file's key for each VehicleType field read from it.
_FLEET_KEYS = {"capacity": "capacity", "max_distance": "vehicles_max_distance",
               "max_duration": "vehicles_max_duration", "fixed_cost": "vehicles_fixed_cost"}


def _python(value: Any) -> int | float:
    """A numpy number as a Python int when it is integral, else a float."""
    v = float(value)
    return int(v) if v.is_integer() else v


def _per_vehicle(data: dict[str, Any], key: str, rows: int, default: Any) -> list[Any]:
    """The value of each vehicle: a section's rows, or one header value for all."""
    if key not in data:
        return [default] * rows
    values = np.broadcast_to(np.asarray(data[key]), (rows,))
    return [_python(v) for v in values.tolist()]


@dataclass(frozen=True)
class Fleet:
    """The file's vehicles grouped into vehicle types.

    Attributes
    ----------
    vehicle_types
        One :class:`~hybridroute.VehicleType` per distinct combination of capacity, depot,
        maximum distance, maximum duration and fixed cost, in order of first appearance
        (as PyVRP groups them); ``count`` is the number of vehicles in the group, or None
        (unlimited) for a file with no ``VEHICLES`` line whose vehicles are all alike.
    type_of_vehicle
        The type index of each of the file's vehicles, in file order. PyVRP's ``.sol``
        files list ``Route #k`` for vehicle ``k`` (empty routes included), so this is the
        ``vehicle_types`` argument of :func:`hybridroute.evaluate` for their routes.
    """

    vehicle_types: tuple[VehicleType, ...]
    type_of_vehicle: tuple[int, ...]


def fleet(data: dict[str, Any], n: int, depot_index: dict[int, int]) -> Fleet:
    """The vehicle types of a parsed file (checked by :func:`malformed` and :func:`unmodelled`).

    Parameters
    ----------
    data
        ``vrplib``'s dict for the file.
    n
        ``DIMENSION``.
    depot_index
        The Problem's depot index of each depot's 0-based file node.

    Returns
    -------
    Fleet
        Per vehicle, as PyVRP's reader reads it: ``CAPACITY`` (a header value for all or a
        ``CAPACITY_SECTION``); ``VEHICLES_DEPOT`` (1-based depot node; default the first
        depot) as ``start_depot``, routes returning there; ``VEHICLES_MAX_DISTANCE`` as
        ``max_distance`` and ``VEHICLES_MAX_DURATION`` as ``max_duration`` (PyVRP's shift
        duration: leaving the depot to returning, waiting included), in the file's
        distance and time units; ``VEHICLES_FIXED_COST`` as ``fixed_cost``. The dialect
        has no vehicle time windows: routes keep their depots' windows (``time_windows``),
        which PyVRP copies onto its vehicle types. No type has a ``shift`` or breaks.

    Raises
    ------
    ValueError
        Naming the section and the first vehicle of a type whose value is invalid (a
        capacity, limit or fixed cost that is not a positive, or non-negative, number).
    """
    rows, _ = _num_vehicles(data, n)
    first = int(depots(data)[0])
    capacity = _per_vehicle(data, "capacity", rows, None)
    start = _per_vehicle(data, "vehicles_depot", rows, first + 1)
    max_distance = _per_vehicle(data, "vehicles_max_distance", rows, None)
    max_duration = _per_vehicle(data, "vehicles_max_duration", rows, None)
    fixed_cost = _per_vehicle(data, "vehicles_fixed_cost", rows, 0)
    groups: dict[tuple, list[int]] = {}
    for vehicle, key in enumerate(zip(capacity, start, max_distance, max_duration, fixed_cost)):
        groups.setdefault(key, []).append(vehicle)
    unlimited = "vehicles" not in data and len(groups) == 1
    types, type_of_vehicle = [], [0] * rows
    for t, ((cap, node, dist, dur, fixed), vehicles) in enumerate(groups.items()):
        try:
            types.append(VehicleType(count=None if unlimited else len(vehicles), capacity=cap,
                                     start_depot=depot_index[int(node) - 1], max_distance=dist, max_duration=dur,
                                     fixed_cost=fixed))
        except FleetError as exc:
            key = _FLEET_KEYS.get(exc.field, exc.field)
            raise ValueError(f"{label(key, data.get(key))} of vehicle {vehicles[0] + 1}: "
                             f"{str(exc).split(': ', 1)[-1]}") from None
        for vehicle in vehicles:
            type_of_vehicle[vehicle] = t
    return Fleet(tuple(types), tuple(type_of_vehicle))


def optional_stops(data: dict[str, Any], n: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``(required, prize)`` per node from ``PRIZE_SECTION``, or None when every stop is required.

    As in PyVRP's reader, a client is optional exactly when its prize is not 0; leaving it
    out costs its prize, in the file's distance units. Depots are required and their prizes
    ignored.
    """
    if "prize" not in data:
        return None
    prize = np.broadcast_to(np.asarray(data["prize"], dtype=np.float64), (n,)).copy()
    required = np.isclose(prize, 0) | ~_clients_mask(data, n)
    if required.all():
        return None
    prize[required] = 0.0
    if np.all(prize == np.round(prize)):
        prize = prize.astype(np.int64)
    return required, prize
