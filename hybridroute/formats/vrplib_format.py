"""VRPLIB capacitated VRP files: CVRPLIB ``EUC_2D`` instances (e.g. set X) and explicit-matrix
asymmetric CVRP instances (Fischetti, Toth & Vigo, as distributed with LKH-3).

Parsing is delegated to ``vrplib`` (it reads both kinds correctly when matrix rows are not
wrapped); this module checks what it returns, applies the distance convention and moves the
depot to index 0.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import vrplib

from ..problem import Problem, ProblemKind
from ._text import FormatError, build_problem

__all__ = ["read_vrplib", "euc_2d"]


def euc_2d(coords: np.ndarray) -> np.ndarray:
    """TSPLIB ``EUC_2D`` distances: Euclidean, rounded to the nearest integer (``nint``).

    ``floor(d + 0.5)`` rather than ``np.round``, which rounds halves to even: TSPLIB's
    ``nint`` rounds halves up, and CVRPLIB's X optima are computed that way.
    """
    diff = coords[:, None, :] - coords[None, :, :]
    return np.floor(np.sqrt((diff**2).sum(-1)) + 0.5)


def _parse(path: str | os.PathLike) -> dict[str, Any]:
    try:
        return vrplib.read_instance(path, compute_edge_weights=False)
    except FileNotFoundError:
        raise FormatError(path, "no such file") from None
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


def _distance(path, data: dict[str, Any], n: int) -> np.ndarray:
    weight_type = str(_field(path, data, "edge_weight_type", "EDGE_WEIGHT_TYPE")).upper()
    if weight_type == "EUC_2D":
        return euc_2d(_array(path, data, "node_coord", "NODE_COORD_SECTION", (n, 2)))
    if weight_type == "EXPLICIT":
        weight_format = str(data.get("edge_weight_format", "")).upper()
        if weight_format != "FULL_MATRIX":
            raise FormatError(path, f"EDGE_WEIGHT_FORMAT {weight_format or '(none)'} is not supported; "
                                    "expected FULL_MATRIX")
        matrix = _array(path, data, "edge_weight", "EDGE_WEIGHT_SECTION", (n, n)).copy()
        # The diagonal holds a "no self loop" sentinel (10000 in the Fischetti files).
        np.fill_diagonal(matrix, 0.0)
        return matrix
    raise FormatError(path, f"EDGE_WEIGHT_TYPE {weight_type} is not supported; expected EUC_2D or EXPLICIT")


def _depot(path, data: dict[str, Any], n: int) -> int:
    depots = np.atleast_1d(np.asarray(_field(path, data, "depot", "DEPOT_SECTION")))
    if depots.size != 1:
        raise FormatError(path, f"DEPOT_SECTION lists {depots.size} depots; exactly one is supported")
    depot = int(depots[0])  # vrplib makes it 0-based
    if not 0 <= depot < n:
        raise FormatError(path, f"DEPOT_SECTION names node {depot + 1}, outside 1..{n}")
    return depot


def read_vrplib(path: str | os.PathLike) -> Problem:
    """Read a VRPLIB CVRP / ACVRP instance into an ACVRP :class:`Problem`.

    Parameters
    ----------
    path
        A VRPLIB file with ``TYPE: CVRP`` or ``ACVRP``, one depot, ``DEMAND_SECTION``,
        ``CAPACITY`` and either ``EDGE_WEIGHT_TYPE: EUC_2D`` with ``NODE_COORD_SECTION``
        (CVRPLIB, e.g. set X) or ``EXPLICIT`` / ``FULL_MATRIX`` (e.g. the Fischetti ACVRP
        instances, rows one per line).

    Returns
    -------
    Problem
        Kind ACVRP, in the file's abstract units (not metres). ``EUC_2D`` distances are
        Euclidean rounded to the nearest integer (the VRPLIB convention); an explicit matrix
        is used as given with its diagonal set to 0. The depot is moved to index 0 and the
        other nodes keep the file's order; ``ids`` are the file's 1-based node numbers, so
        ``problem.ids[i]`` is node ``i``'s number in the file. ``num_vehicles`` = ``VEHICLES``
        when the file has it (Fischetti: the fixed number of routes), else None (the ``k`` in
        a CVRPLIB name is the minimum fleet, not a limit). ``duration`` = None. Planar
        coordinates are not kept: ``Problem.coords`` is for (lat, lon) degrees.

    Raises
    ------
    FormatError
        (a ValueError) naming the file, for unreadable files, missing sections, tables of the
        wrong shape, several depots, unsupported distance types or invalid data.
    """
    data = _parse(path)
    kind = str(data.get("type", "")).upper()
    if kind not in ("CVRP", "ACVRP"):
        hint = " (read ATSP files with read_tsplib_atsp)" if kind in ("ATSP", "TSP") else ""
        raise FormatError(path, f"TYPE is {kind or '(none)'}, expected CVRP or ACVRP{hint}")
    n = _field(path, data, "dimension", "DIMENSION")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise FormatError(path, f"DIMENSION must be an integer ≥ 2, got {n!r}")
    n = int(n)
    distance = _distance(path, data, n)
    demand = _array(path, data, "demand", "DEMAND_SECTION", (n,))
    if np.all(demand == np.round(demand)):
        demand = demand.astype(np.int64)
    depot = _depot(path, data, n)
    order = np.r_[depot, np.delete(np.arange(n), depot)]
    vehicles = data.get("vehicles")
    return build_problem(
        path, kind=ProblemKind.ACVRP, distance=distance[np.ix_(order, order)],
        ids=order + 1, demand=demand[order], capacity=_field(path, data, "capacity", "CAPACITY"),
        num_vehicles=None if vehicles is None else vehicles,
        name=str(data.get("name") or Path(path).stem),
    )
