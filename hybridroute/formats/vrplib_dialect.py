"""PyVRP's VRPLIB dialect: what in a parsed file is malformed, and what hybridroute does not model.

PyVRP extends VRPLIB with sections for real fleets (several depots, per-vehicle capacities,
costs, distance and duration limits, client restrictions, prizes, release times, reloads,
shipments). ``vrplib`` parses all of them into one dict: keys in lower case without
``_SECTION``, the node / vehicle number column dropped. hybridroute models one depot and one
vehicle type (a capacity and an optional count) with time windows and service times, so the
reader checks that dict here first:

- :func:`malformed` lists what is wrong in the file itself (a depot outside 1..DIMENSION, a
  per-vehicle section whose row count is not ``VEHICLES``, a window that opens after it
  closes);
- :func:`unmodelled` lists each section or key whose content changes the problem beyond
  that model, named as the file spells it. A section that only restates the model (every
  prize or release time 0, every vehicle at the one depot, allowed every client, unit
  distance cost 1, fixed cost 0, one capacity for all) is accepted. A key this module does
  not know is refused too, never ignored.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

__all__ = ["label", "malformed", "unmodelled"]

# Keys a hybridroute Problem holds, or that do not change the problem (display data).
_PLAIN = frozenset({
    "name", "comment", "type", "dimension", "edge_weight_type", "edge_weight_format", "node_coord_type",
    "display_data_type", "display_data", "node_coord", "edge_weight", "demand", "depot", "capacity",
    "vehicles", "time_window", "service_time",
})
# Per-vehicle data: one row per vehicle (a single value applies to all of them).
_PER_VEHICLE = ("capacity", "vehicles_allowed_clients", "vehicles_reload_depot", "vehicles_depot",
                "vehicles_max_distance", "vehicles_max_duration", "vehicles_max_reloads",
                "vehicles_fixed_cost", "vehicles_unit_distance_cost")
# Sections and keys refused whenever present: what they say is beyond the model. The limits
# are shown with their values.
_LIMITS = {
    "vehicles_max_distance": "a maximum distance per route",
    "vehicles_max_duration": "a maximum duration per route",
    "distance": "a maximum route length",
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


def _depots(data: dict[str, Any]) -> np.ndarray:
    """0-based depot indices (vrplib removes the -1 terminator and subtracts 1); node 1 when
    the file has no DEPOT_SECTION, as in PyVRP."""
    return np.atleast_1d(np.asarray(data.get("depot", [0]))).ravel()


def _clients_mask(data: dict[str, Any], n: int) -> np.ndarray:
    mask = np.ones(n, dtype=bool)
    depots = _depots(data)
    mask[depots[(depots >= 0) & (depots < n)].astype(np.int64)] = False
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
    depots = _numbers(_depots(data))
    if depots is None:
        return ["DEPOT_SECTION must list node numbers"]
    outside = depots[(depots < 0) | (depots >= n) | (depots != np.round(depots))]
    if outside.size == 0:
        return []
    listed = _show(depots + 1, limit=10)
    return [f"DEPOT_SECTION lists {_count(depots.size, 'depot')} ({listed}), and node {outside[0] + 1:g} "
            f"is outside 1..{n} (DIMENSION {n})"]


def _bad_vehicle_rows(data: dict[str, Any], n: int) -> list[str]:
    rows, source = _num_vehicles(data, n)
    found = []
    for key in _PER_VEHICLE:
        value = data.get(key)
        if isinstance(value, (np.ndarray, list)) and len(value) != rows:
            found.append(f"{label(key, value)} has {_count(len(value), 'row')}, but {source}")
    return found


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
        Empty when none of these faults is found: a depot outside ``1..n``, a per-vehicle
        section whose row count differs from ``VEHICLES``, a time window that opens after
        it closes (file node numbers, 1-based).
    """
    return _bad_depots(data, n) + _bad_vehicle_rows(data, n) + _bad_windows(data, n)


# -- not modelled ------------------------------------------------------------------------


def _several_depots(data, key, value, n) -> str | None:
    depots = _depots(data)
    if depots.size <= 1:
        return None
    listed = " and ".join(map(str, depots + 1)) if depots.size == 2 else _show(depots + 1, limit=10)
    order = "" if np.array_equal(depots, np.arange(depots.size)) else \
        f"; they are not the lowest node numbers 1..{depots.size}, as PyVRP's dialect requires"
    return f"{depots.size} depots (DEPOT_SECTION lists {listed}): multiple depots are not modelled{order}"


def _capacity(data, key, value, n) -> str | None:
    caps = _numbers(value)
    if not isinstance(value, np.ndarray) or caps is None:
        return None  # one CAPACITY value; the Problem checks it
    if caps.ndim == 2:
        return f"multiple load dimensions: CAPACITY_SECTION has {caps.shape[1]} values per vehicle"
    if np.unique(caps).size > 1:
        return (f"heterogeneous fleet: CAPACITY_SECTION has {np.unique(caps).size} capacities ({_show(value)}); "
                f"one vehicle type is modelled")
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


def _vehicle_depots(data, key, value, n) -> str | None:
    depots = _depots(data)
    if depots.size > 1:
        return None  # said once, by the depot check
    starts = _numbers(value)
    if starts is not None and depots.size == 1 and np.all(starts - 1 == depots[0]):
        return None
    return f"{label(key, value)}: vehicles based at nodes {_show(value)}, not only at the depot"


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
    "depot": _several_depots,
    "capacity": _capacity,
    "demand": _demand,
    "prize": _nonzero_per_client("optional stops with prizes are not modelled", "have a prize"),
    "release_time": _nonzero_per_client("release times are not modelled", "are released after time 0"),
    "vehicles_fixed_cost": _per_vehicle_other_than(0, "fixed vehicle costs"),
    "vehicles_unit_distance_cost": _per_vehicle_other_than(1, "per-vehicle distance costs"),
    "vehicles_depot": _vehicle_depots,
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
        file spells it (``PRIZE_SECTION: ...``, ``VEHICLES_MAX_DISTANCE: ...``), or naming
        the feature first (``2 depots (DEPOT_SECTION lists 1 and 2): ...``,
        ``heterogeneous fleet: ...``, ``multiple load dimensions: ...``). Keys this module
        does not know are listed as unknown. Empty when the file fits the model.
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
