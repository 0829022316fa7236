"""Solomon VRPTW text files (the 56 100-customer instances and their extensions)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import vrplib

from ..problem import Problem, ProblemKind
from ._text import FormatError, build_problem

__all__ = ["read_solomon", "solomon_distance"]


def solomon_distance(coords: np.ndarray, *, dimacs: bool = True) -> np.ndarray:
    """Euclidean distances between planar points; truncated to one decimal when ``dimacs``.

    The DIMACS convention truncates each distance to one decimal, ``floor(10·d) / 10``. It is
    computed as ``floor(sqrt(100·d²)) / 10``: for integer coordinates (all Solomon files)
    ``100·d²`` is an exact integer and a correctly rounded square root of a perfect square is
    exact, so no distance lands one tenth low through rounding error (``floor(10 * sqrt(d²))``
    can, e.g. when d is exactly 2.3).
    """
    diff = coords[:, None, :] - coords[None, :, :]
    squared = (diff**2).sum(-1)
    if dimacs:
        return np.floor(np.sqrt(100.0 * squared)) / 10.0
    return np.sqrt(squared)


def read_solomon(path: str | os.PathLike, *, dimacs: bool = True) -> Problem:
    """Read a Solomon VRPTW instance into an ACVRPTW :class:`Problem`.

    Parameters
    ----------
    path
        A Solomon text file (name line, ``VEHICLE`` block with fleet size and capacity,
        ``CUSTOMER`` table; the first row is the depot).
    dimacs
        Truncate each Euclidean distance to one decimal, ``floor(10·d) / 10`` (the DIMACS
        convention under which CVRPLIB states its Solomon optima, e.g. C101 = 827.3). False
        keeps full-precision distances (the convention of the classic hierarchical results).

    Returns
    -------
    Problem
        Kind ACVRPTW in the file's abstract units: ``distance`` as above, ``duration`` =
        ``distance`` (one distance unit takes one time unit), time windows [ready, due],
        service times, demands, capacity, ``num_vehicles`` = the file's fleet size (25 in the
        100-customer files). ``ids`` = the customer numbers 0..n-1 (the depot is 0).

    Raises
    ------
    FormatError
        (a ValueError) naming the file, when it does not follow the Solomon layout or its
        data is invalid (e.g. a customer that cannot be reached within its window).
    """
    try:
        data = vrplib.read_instance(path, instance_format="solomon", compute_edge_weights=False)
    except FileNotFoundError:
        raise FormatError(path, "no such file") from None
    except (RuntimeError, ValueError, IndexError, TypeError) as exc:
        raise FormatError(path, f"not a Solomon VRPTW file ({type(exc).__name__}: {exc})") from exc
    coords = np.asarray(data["node_coord"], dtype=np.float64)
    if coords.ndim != 2 or coords.shape[1] != 2 or len(coords) < 2:
        raise FormatError(path, f"the CUSTOMER table must have 7 columns and at least 2 rows "
                                f"(depot + customers); got coordinates of shape {coords.shape}")
    distance = solomon_distance(coords, dimacs=dimacs)
    n = len(coords)
    return build_problem(
        path, kind=ProblemKind.ACVRPTW, distance=distance, duration=distance,
        ids=np.arange(n), demand=np.asarray(data["demand"]), capacity=data["capacity"],
        num_vehicles=data["vehicles"], time_windows=np.asarray(data["time_window"], dtype=np.float64),
        service_time=np.asarray(data["service_time"], dtype=np.float64),
        name=str(data.get("name") or Path(path).stem),
    )
