"""Solomon VRPTW text files (the 56 100-customer instances and their extensions)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import vrplib

from ..problem import Problem, ProblemKind
from ._text import FormatError, build_problem, read_text

__all__ = ["read_solomon", "solomon_distance"]

_INTEGER = re.compile(r"[+-]?[0-9]+")
_VEHICLE_COLUMNS = ("NUMBER", "CAPACITY")
_CUSTOMER_COLUMNS = ("CUST NO.", "XCOORD.", "YCOORD.", "DEMAND", "READY TIME", "DUE DATE", "SERVICE TIME")
# Beyond this an integer no longer converts to an int64 (numpy raises OverflowError).
_INT64_MAX = 2**63 - 1


def _content_lines(text: str) -> list[tuple[int, str]]:
    """(1-based line number, stripped text) of the lines vrplib reads: not blank, not ``#``."""
    return [(number, line.strip()) for number, line in enumerate(text.splitlines(), start=1)
            if line.strip() and not line.strip().startswith("#")]


def _check_row(path: str | os.PathLike, number: int, line: str, columns: tuple[str, ...], block: str) -> None:
    tokens = line.split()
    if len(tokens) != len(columns):
        raise FormatError(path, f"the {block} row has {len(tokens)} values, expected {len(columns)} "
                                f"({', '.join(columns)})", number)
    for token, column in zip(tokens, columns):
        if not _INTEGER.fullmatch(token):
            raise FormatError(path, f"{block} column {column}: {token!r} is not an integer (the Solomon "
                                    f"format holds integers only)", number)
        if abs(int(token)) > _INT64_MAX:
            raise FormatError(path, f"{block} column {column}: {token} is too large", number)


def _check_numbers(path: str | os.PathLike, text: str) -> None:
    """Every value of the VEHICLE line and the CUSTOMER table must be an integer token."""
    lines = _content_lines(text)
    if len(lines) < 7 or "VEHICLE" not in lines[1][1] or "CUSTOMER" not in lines[4][1]:
        return  # not the Solomon layout: vrplib's own error says so
    _check_row(path, *lines[3], _VEHICLE_COLUMNS, "VEHICLE")
    for number, line in lines[6:]:
        _check_row(path, number, line, _CUSTOMER_COLUMNS, "CUSTOMER")


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
        data is invalid (e.g. a customer that cannot be reached within its window); a value
        that is not an integer (``9l2``, ``2.5``) is reported with its line and column name.
    """
    text = read_text(path)
    try:
        data = vrplib.read_instance(path, instance_format="solomon", compute_edge_weights=False)
    except (RuntimeError, ValueError, IndexError, TypeError, OverflowError) as exc:
        _check_numbers(path, text)  # names the line and column where it can
        raise FormatError(path, f"not a Solomon VRPTW file ({type(exc).__name__}: {exc})") from exc
    # vrplib reads the table with numpy.genfromtxt, which turns a token it cannot read as an
    # integer ("9l2", "2.5") into -1 without a word: every token is checked here first.
    _check_numbers(path, text)
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
