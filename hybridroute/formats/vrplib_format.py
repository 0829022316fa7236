"""VRPLIB files: CVRPLIB ``EUC_2D`` instances (e.g. set X), explicit-matrix asymmetric CVRP
instances (Fischetti, Toth & Vigo, as distributed with LKH-3), and files in PyVRP's VRPLIB
dialect (e.g. Solomon instances as CVRPLIB distributes them in VRPLIB form, Cordeau's
multi-depot VRPTW, heterogeneous fleets, prize-collecting instances).

Parsing is delegated to ``vrplib`` (it reads these files correctly when matrix rows are not
wrapped); this module checks what it returns (:mod:`.vrplib_dialect` names each section of
PyVRP's dialect that hybridroute does not model, and groups the vehicles into types), applies
the distance convention and moves a single depot to index 0.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
from vrplib.parse import parse_vrplib

from ..problem import Problem, ProblemKind
from . import vrplib_dialect
from ._text import FormatError, build_problem, read_text
from .solomon import solomon_distance

__all__ = ["read_vrplib", "read_vrplib_fleet", "euc_2d"]

log = logging.getLogger(__name__)

# TYPE values whose problem hybridroute models; no TYPE line is PyVRP's dialect too. The
# sections say what a file holds (each is checked); these names only must not promise more:
# multi-depot, heterogeneous-fleet and prize-collecting variants of CVRP / VRPTW (CPTP is the
# capacitated profitable tour problem, every client optional with a prize).
_MODELLED_TYPES = ("CVRP", "ACVRP", "VRPTW", "CVRPTW", "ACVRPTW", "MDVRP", "MDVRPTW", "HFVRP", "HFVRPTW",
                   "PCVRP", "PCVRPTW", "CPTP")
# Capacitated types: their files must give demands (PyVRP's dialect defaults them to 0).
_DEMAND_TYPES = ("CVRP", "ACVRP", "MDVRP", "HFVRP", "PCVRP", "CPTP")
_ROUNDINGS = ("nint", "dimacs", "exact")


def euc_2d(coords: np.ndarray) -> np.ndarray:
    """TSPLIB ``EUC_2D`` distances: Euclidean, rounded to the nearest integer (``nint``).

    ``floor(d + 0.5)`` rather than ``np.round``, which rounds halves to even: TSPLIB's
    ``nint`` rounds halves up, and CVRPLIB's X optima are computed that way.
    """
    diff = coords[:, None, :] - coords[None, :, :]
    return np.floor(np.sqrt((diff**2).sum(-1)) + 0.5)


def _header(text: str, key: str) -> str | None:
    found = re.search(rf"^\s*{key}\s*:\s*(\S+)", text, re.MULTILINE)
    return found.group(1).upper() if found else None


def _check_weights(path: str | os.PathLike, text: str) -> None:
    """Refuse distance types this reader does not compute, before ``vrplib`` reads the file
    (it raises a bare "Edge weight type or format unknown" on some of them)."""
    weight_type = _header(text, "EDGE_WEIGHT_TYPE")
    if weight_type is None:
        raise FormatError(path, "the header has no EDGE_WEIGHT_TYPE line")
    if weight_type not in ("EUC_2D", "EXPLICIT"):
        raise FormatError(path, f"EDGE_WEIGHT_TYPE {weight_type} is not supported; expected EUC_2D or EXPLICIT")
    weight_format = _header(text, "EDGE_WEIGHT_FORMAT")
    if weight_type == "EXPLICIT" and weight_format != "FULL_MATRIX":
        raise FormatError(path, f"EDGE_WEIGHT_FORMAT {weight_format or '(none)'} is not supported; "
                                "expected FULL_MATRIX")


def _parse(path: str | os.PathLike) -> dict[str, Any]:
    text = read_text(path)
    _check_weights(path, text)
    try:
        return parse_vrplib(text, compute_edge_weights=False)
    except (RuntimeError, ValueError, IndexError, TypeError) as exc:
        # vrplib's own messages do not name the file; rows of an explicit matrix that wrap
        # across lines are a common cause (vrplib reads matrices row by row).
        raise FormatError(path, f"not a readable VRPLIB file ({type(exc).__name__}: {exc})") from exc


def _field(path, data: dict[str, Any], key: str, what: str) -> Any:
    if key not in data:
        raise FormatError(path, f"missing {what}")
    return data[key]


def _array(path, data: dict[str, Any], key: str, what: str, shape: tuple[int, ...]) -> np.ndarray:
    value = _field(path, data, key, what)
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise FormatError(path, f"{what} is not a numeric table (ragged or non-numeric rows)") from None
    if arr.shape != shape:
        raise FormatError(path, f"{what} has shape {arr.shape}, expected {shape} (DIMENSION = {shape[0]})")
    return arr


def _distance(path, data: dict[str, Any], n: int, rounding: str) -> np.ndarray:
    """The n×n distances; the weight type and format were checked by :func:`_check_weights`."""
    if str(data["edge_weight_type"]).upper() == "EUC_2D":
        coords = _array(path, data, "node_coord", "NODE_COORD_SECTION", (n, 2))
        return euc_2d(coords) if rounding == "nint" else solomon_distance(coords, dimacs=rounding == "dimacs")
    matrix = _array(path, data, "edge_weight", "EDGE_WEIGHT_SECTION", (n, n)).copy()
    # The diagonal holds a "no self loop" sentinel (10000 in the Fischetti files).
    np.fill_diagonal(matrix, 0.0)
    return matrix


def _depots(path, data: dict[str, Any], n: int) -> np.ndarray:
    """The depots' 0-based file nodes: one anywhere, or several at nodes 0..k-1 (others are
    refused earlier, by :func:`vrplib_dialect.malformed`)."""
    if "depot" not in data:
        log.info("%s: no DEPOT_SECTION; node 1 is the depot, as in PyVRP's dialect", path)
    depots = vrplib_dialect.depots(data).astype(np.int64)
    if depots.size == 0:
        raise FormatError(path, "DEPOT_SECTION lists no depot")
    return depots


def _dimension(path, data: dict[str, Any]) -> int:
    n = _field(path, data, "dimension", "DIMENSION")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise FormatError(path, f"DIMENSION must be an integer ≥ 2, got {n!r}")
    return int(n)


def _file_type(path, data: dict[str, Any]) -> str:
    kind = str(data.get("type", "")).upper()
    if kind in ("ATSP", "TSP"):
        raise FormatError(path, f"TYPE is {kind}, expected a VRP (read ATSP files with read_tsplib_atsp)")
    return kind


def _refuse_unmodelled(path, data: dict[str, Any], n: int, kind: str) -> None:
    """Malformed dialect data first, then every section or key beyond the model, then the TYPE."""
    faults = vrplib_dialect.malformed(data, n)
    if faults:
        raise FormatError(path, "; ".join(faults))
    beyond = vrplib_dialect.unmodelled(data, n)
    of_type = f" (TYPE {kind})" if kind else ""
    if beyond:
        raise FormatError(path, f"not modelled by hybridroute yet{of_type}: " + "; ".join(beyond))
    if kind and kind not in _MODELLED_TYPES:
        raise FormatError(path, f"TYPE {kind} is not a problem type hybridroute reads; expected one of "
                                f"{', '.join(_MODELLED_TYPES)} or no TYPE line (PyVRP's dialect)")


def _loads(path, data: dict[str, Any], n: int, kind: str) -> dict[str, Any]:
    """``demand`` in file order."""
    if "demand" in data or kind in _DEMAND_TYPES:
        demand = _array(path, data, "demand", "DEMAND_SECTION", (n,))
    else:
        log.info("%s: no DEMAND_SECTION; every demand is 0, as in PyVRP's dialect", path)
        demand = np.zeros(n)
    if np.all(demand == np.round(demand)):
        demand = demand.astype(np.int64)
    return {"demand": demand}


def _fleet(path, data: dict[str, Any], n: int, depots: np.ndarray) -> tuple[dict[str, Any], vrplib_dialect.Fleet]:
    """``num_depots``, and ``capacity`` / ``num_vehicles`` for one plain vehicle type or else
    ``vehicle_types``; with the fleet they come from."""
    _field(path, data, "capacity", "CAPACITY")
    try:
        fleet = vrplib_dialect.fleet(data, n, {int(d): k for k, d in enumerate(depots)})
    except ValueError as exc:
        raise FormatError(path, f"invalid instance data: {exc}") from None
    fields: dict[str, Any] = {"num_depots": int(depots.size)}
    if len(fleet.vehicle_types) == 1 and fleet.vehicle_types[0].is_shorthand:
        (vt,) = fleet.vehicle_types
        return fields | {"capacity": vt.capacity, "num_vehicles": vt.count}, fleet
    return fields | {"vehicle_types": fleet.vehicle_types}, fleet


def _stops(data: dict[str, Any], n: int) -> dict[str, Any]:
    """``required`` and ``prize`` in file order, when some client is optional."""
    optional = vrplib_dialect.optional_stops(data, n)
    return {} if optional is None else {"required": optional[0], "prize": optional[1]}


def _times(path, data: dict[str, Any], n: int, depots: np.ndarray, distance: np.ndarray) -> dict[str, Any]:
    """``time_windows``, ``service_time`` and ``duration`` (= distance) in file order."""
    if "time_window" in data:
        windows = _array(path, data, "time_window", "TIME_WINDOW_SECTION", (n, 2))
    else:
        # A route duration limit without windows: every node is open all the time, so that
        # service times count towards the limit (PyVRP's windows default to [0, max]).
        windows = np.tile([0.0, np.inf], (n, 1))
    service = data.get("service_time", 0)
    if np.ndim(service) == 0:
        # One SERVICE_TIME value applies to every client; depots take none (as in PyVRP).
        try:
            service = np.full(n, float(service))
        except (TypeError, ValueError):
            raise FormatError(path, f"SERVICE_TIME must be a number, got {service!r}") from None
        service[depots] = 0.0
    else:
        service = _array(path, data, "service_time", "SERVICE_TIME_SECTION", (n,))
    return {"time_windows": windows, "service_time": service, "duration": distance}


def read_vrplib(path: str | os.PathLike, *, rounding: str | None = None) -> Problem:
    """Read a VRPLIB capacitated VRP, with or without time windows, into a :class:`Problem`.

    Parameters
    ----------
    path
        A VRPLIB file with ``TYPE`` CVRP, ACVRP, VRPTW, CVRPTW, ACVRPTW, MDVRP, MDVRPTW, HFVRP,
        HFVRPTW, PCVRP, PCVRPTW or CPTP, or with no ``TYPE`` line (PyVRP's dialect); one
        depot anywhere (node 1 when there is no ``DEPOT_SECTION``, as in PyVRP) or several at
        nodes 1..k; ``CAPACITY`` (or a ``CAPACITY_SECTION``, one value per vehicle);
        ``DEMAND_SECTION`` (without it, in files whose TYPE is not CVRP, ACVRP, MDVRP, HFVRP,
        PCVRP or CPTP, every demand is 0, as in PyVRP); optional ``VEHICLES``, ``TIME_WINDOW_SECTION``,
        ``SERVICE_TIME_SECTION`` or one ``SERVICE_TIME`` value for every client,
        ``PRIZE_SECTION``, and per vehicle (a section, or one header value for all)
        ``VEHICLES_DEPOT``, ``VEHICLES_MAX_DISTANCE``, ``VEHICLES_MAX_DURATION``,
        ``VEHICLES_FIXED_COST``; and either ``EDGE_WEIGHT_TYPE: EUC_2D`` with
        ``NODE_COORD_SECTION`` or ``EXPLICIT`` / ``FULL_MATRIX`` (rows one per line).
    rounding
        How ``EUC_2D`` distances are computed from the coordinates: ``"nint"`` (Euclidean
        rounded to the nearest integer, TSPLIB's rule), ``"dimacs"`` (truncated to one
        decimal, the DIMACS rule under which CVRPLIB states its Solomon optima, as
        :func:`~hybridroute.formats.read_solomon` does) or ``"exact"`` (full precision).
        None (the default) is ``"dimacs"`` for files with time windows and ``"nint"``
        otherwise. The file does not say: PyVRP leaves the choice to its caller too.

    Returns
    -------
    Problem
        Kind ACVRPTW when the file has a ``TIME_WINDOW_SECTION`` or a maximum duration
        (``duration`` = ``distance``: one distance unit takes one time unit, as in PyVRP;
        windows and service times as given, or every window [0, inf) when the file has
        none), else ACVRP (a service time is then dropped: without windows or a duration
        limit it changes nothing). Values are in the file's abstract units (not metres, not
        seconds); fixed costs and prizes are in its distance units, as PyVRP's objective
        counts them. A single depot is moved to index 0, several stay at 0..k-1
        (``num_depots``); the other nodes keep the file's order; ``ids`` are the file's
        1-based node numbers. The vehicles are grouped into vehicle types as PyVRP's reader
        groups them (:func:`read_vrplib_fleet`); one type without limits or costs is the
        ``capacity`` / ``num_vehicles`` shorthand, ``num_vehicles`` = ``VEHICLES`` when the
        file has it, else None (the ``k`` in a CVRPLIB name is the minimum fleet, not a
        limit). A client with a prize other than 0 is optional (``required`` False), as in
        PyVRP. Planar coordinates are not kept: ``Problem.coords`` is for (lat, lon).

    Raises
    ------
    FormatError
        (a ValueError) naming the file: unreadable files, missing sections, tables of the
        wrong shape, unsupported distance types, invalid data; malformed dialect data (a
        depot outside 1..DIMENSION, several depots that are not nodes 1..k, a vehicle based
        at a node that is no depot, a per-vehicle section whose row count is not
        ``VEHICLES``, a window that opens after it closes); and every section or key of
        PyVRP's dialect beyond the model (release times, per-vehicle distance costs or
        client restrictions, several load dimensions, reloads, mutually exclusive groups,
        shipments, back-hauls), each named as the file spells it.
    """
    return _read(path, rounding)[0]


def read_vrplib_fleet(path: str | os.PathLike, *, rounding: str | None = None) -> vrplib_dialect.Fleet:
    """The vehicle types of a VRPLIB file and the type of each of its vehicles.

    Parameters
    ----------
    path, rounding
        As for :func:`read_vrplib` (the file is read and checked the same way).

    Returns
    -------
    vrplib_dialect.Fleet
        ``vehicle_types`` (those of ``read_vrplib(path).vehicle_types``) and
        ``type_of_vehicle``: the type index of each of the file's vehicles, in file order.
        PyVRP's ``.sol`` files list ``Route #k`` for vehicle ``k``, empty routes included,
        and PyVRP maps route k to that vehicle's type; so
        ``hr.evaluate(problem, read_solution(sol, problem).routes,
        vehicle_types=fleet.type_of_vehicle[:len(routes)])`` evaluates such a file.
    """
    return _read(path, rounding)[1]


def _read(path: str | os.PathLike, rounding: str | None) -> tuple[Problem, vrplib_dialect.Fleet]:
    if rounding is not None and rounding not in _ROUNDINGS:
        raise ValueError(f"rounding must be one of {_ROUNDINGS} or None, got {rounding!r}")
    data = _parse(path)
    kind = _file_type(path, data)
    n = _dimension(path, data)
    _refuse_unmodelled(path, data, n, kind)
    depots = _depots(path, data, n)
    has_windows = "time_window" in data
    if not has_windows and kind.endswith("TW"):
        raise FormatError(path, f"TYPE {kind} needs a TIME_WINDOW_SECTION")
    timed = has_windows or "vehicles_max_duration" in data
    distance = _distance(path, data, n, rounding or ("dimacs" if has_windows else "nint"))
    fields = _loads(path, data, n, kind) | _stops(data, n)
    if timed:
        fields |= _times(path, data, n, depots, distance)
    elif "service_time" in data:
        log.info("%s: service times dropped: without time windows they change no distance", path)
    # A single depot moves to index 0; several are nodes 0..k-1 already (malformed otherwise).
    order = np.r_[depots, np.delete(np.arange(n), depots)]
    vehicles, fleet = _fleet(path, data, n, depots)
    problem = build_problem(
        path, kind=ProblemKind.ACVRPTW if timed else ProblemKind.ACVRP, distance=distance[np.ix_(order, order)],
        ids=order + 1, name=str(data.get("name") or Path(path).stem), **_depot_first(fields, order), **vehicles,
    )
    return problem, fleet


def _depot_first(fields: dict[str, Any], order: np.ndarray) -> dict[str, Any]:
    """Per-node arrays and matrices of ``fields`` in ``order``; scalars as they are."""
    out = {}
    for key, value in fields.items():
        if key == "duration":
            value = value[np.ix_(order, order)]
        elif isinstance(value, np.ndarray):
            value = value[order]
        out[key] = value
    return out
