"""``read`` and ``read_solution``: pick the right reader from a file's extension and content."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from ..problem import Problem, ProblemValidationError
from ._text import FormatError, read_text
from .solomon import read_solomon
from .solutions import ReferenceSolution, read_lkh_tour, read_vrplib_solution
from .tsplib import read_tsplib_atsp
from .vrplib_format import read_vrplib

__all__ = ["read", "read_solution"]

_TYPE = re.compile(r"^\s*TYPE\s*:\s*(\S+)", re.MULTILINE)
_DIMENSION = re.compile(r"^\s*DIMENSION\s*:", re.MULTILINE)
# TSPLIB types that are neither a TSP nor a VRP: no reader takes them.
_OTHER_TSPLIB_TYPES = ("SOP", "HCP", "TOUR")
_SUPPORTED = ("TSPLIB ATSP (.atsp), VRPLIB CVRP/ACVRP/VRPTW and PyVRP's VRPLIB dialect (.vrp, .txt), "
              "Solomon VRPTW (.txt), hybridroute JSON (.json)")


def _looks_solomon(text: str) -> bool:
    # Blank lines do not count (the files put one between blocks), as in vrplib's parser.
    lines = [line.strip() for line in text.splitlines()[:12] if line.strip()]
    return len(lines) >= 6 and lines[1].startswith("VEHICLE") and lines[4].startswith("CUSTOMER")


def read(path: str | os.PathLike, **kwargs) -> Problem:
    """Read an instance file of any supported format into a :class:`Problem`.

    The format is recognised by content, and ``.json`` files by extension
    (:meth:`Problem.from_json`): ``TYPE`` ATSP / TSP goes to :func:`read_tsplib_atsp`; any
    other VRPLIB ``TYPE``, or a file without one that has a ``DIMENSION`` line (PyVRP's
    dialect), to :func:`read_vrplib`; a file with the Solomon ``VEHICLE`` / ``CUSTOMER``
    blocks to :func:`read_solomon`. Keyword arguments go to the reader (e.g. ``dimacs=False``
    for Solomon files, ``rounding="exact"`` for VRPLIB ``EUC_2D`` files).

    Raises
    ------
    FormatError
        (a ValueError) naming the file when its format is not recognised or it is malformed.
    """
    if Path(path).suffix.lower() == ".json":
        return _read_json(path, **kwargs)
    text = read_text(path)
    found = _TYPE.search(text)
    kind = found.group(1).upper() if found else None
    if kind in ("ATSP", "TSP"):
        return read_tsplib_atsp(path, **kwargs)
    if kind is not None and kind not in _OTHER_TSPLIB_TYPES:
        # Any other TYPE is a VRP of some kind: read_vrplib reads what hybridroute models
        # and names what it does not (several depots, prizes, ...).
        return read_vrplib(path, **kwargs)
    if kind is None and _looks_solomon(text):
        return read_solomon(path, **kwargs)
    if kind is None and _DIMENSION.search(text):
        return read_vrplib(path, **kwargs)  # PyVRP's dialect may leave TYPE out
    what = f"TYPE {kind}" if kind else "this content"
    raise FormatError(path, f"unrecognised instance format ({what}); supported: {_SUPPORTED}")


def _read_json(path: str | os.PathLike, **kwargs) -> Problem:
    """:meth:`Problem.from_json` with its errors as FormatErrors (the JSON line when there is one)."""
    if kwargs:
        raise TypeError(f"hybridroute JSON files take no reader options, got {sorted(kwargs)}")
    read_text(path)  # a missing or binary file: the same FormatError as the other formats
    try:
        return Problem.from_json(os.fspath(path))
    except ProblemValidationError as exc:
        cause = exc.__cause__
        if isinstance(cause, json.JSONDecodeError):
            raise FormatError(path, f"not valid JSON: {cause.msg} (column {cause.colno})", cause.lineno) from exc
        # from_json names the file inside the message; FormatError puts it in front
        raise FormatError(path, f"invalid instance data: {str(exc).replace(f'{os.fspath(path)}: ', '', 1)}") from exc


def read_solution(path: str | os.PathLike, problem: Problem) -> ReferenceSolution:
    """Read a reference solution for ``problem``: an LKH ``.tour`` or a VRPLIB ``.sol`` file.

    See :func:`read_lkh_tour` and :func:`read_vrplib_solution`.
    """
    text = read_text(path)
    if re.search(r"^\s*TOUR_SECTION", text, re.MULTILINE):
        return read_lkh_tour(path, problem)
    if re.search(r"^\s*Route\s*#", text, re.MULTILINE | re.IGNORECASE):
        return read_vrplib_solution(path, problem)
    raise FormatError(path, "unrecognised solution format; supported: LKH TOUR (TOUR_SECTION), "
                            "VRPLIB .sol ('Route #k:' lines)")
