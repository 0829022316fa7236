"""TSPLIB asymmetric TSP files (``TYPE: ATSP``, ``EDGE_WEIGHT_FORMAT: FULL_MATRIX``)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from ..problem import Problem, ProblemKind
from ._text import FormatError, TsplibDocument, build_problem, parse_tsplib, read_text

__all__ = ["read_tsplib_atsp", "explicit_full_matrix"]

log = logging.getLogger(__name__)


def explicit_full_matrix(doc: TsplibDocument, n: int) -> np.ndarray:
    """The n×n ``EDGE_WEIGHT_SECTION`` of an ``EXPLICIT`` / ``FULL_MATRIX`` file, diagonal set to 0.

    Rows are read as one stream of numbers and reshaped, because TSPLIB files wrap long rows
    across several lines (``vrplib`` 2.2 reads such rows as ragged and fails or returns a
    wrong shape). The diagonal of these files holds a "no self loop" sentinel (9999,
    9999999, 100000000, 10000) or 0; a tour never uses it, and :class:`Problem` wants 0.
    """
    weight_type = doc.require("EDGE_WEIGHT_TYPE").upper()
    if weight_type != "EXPLICIT":
        raise FormatError(doc.path, f"EDGE_WEIGHT_TYPE {weight_type} is not supported here; "
                                    "expected EXPLICIT")
    weight_format = doc.require("EDGE_WEIGHT_FORMAT").upper()
    if weight_format != "FULL_MATRIX":
        raise FormatError(doc.path, f"EDGE_WEIGHT_FORMAT {weight_format} is not supported; "
                                    "expected FULL_MATRIX")
    values = doc.numbers("EDGE_WEIGHT")
    if values.size != n * n:
        raise FormatError(doc.path, f"EDGE_WEIGHT_SECTION holds {values.size} numbers, expected "
                                    f"DIMENSION² = {n}² = {n * n}")
    matrix = values.reshape(n, n)
    sentinels = np.unique(np.diag(matrix))
    log.debug("%s: diagonal values %s set to 0", doc.path, sentinels.tolist())
    np.fill_diagonal(matrix, 0.0)
    return matrix


def read_tsplib_atsp(path: str | os.PathLike) -> Problem:
    """Read a TSPLIB ATSP file into an ATSP :class:`Problem`.

    Parameters
    ----------
    path
        A TSPLIB file with ``TYPE: ATSP`` (or ``TSP``), ``EDGE_WEIGHT_TYPE: EXPLICIT`` and
        ``EDGE_WEIGHT_FORMAT: FULL_MATRIX``.

    Returns
    -------
    Problem
        Kind ATSP, ``distance`` = the file's matrix in the file's own abstract units (TSPLIB
        weights are not metres; they are used as given), diagonal set to 0, ``duration`` =
        None. Node ``i`` is the file's node ``i + 1``: ``ids`` = 1..n, the TSPLIB numbers
        that LKH tours use. ``name`` from ``NAME`` (else the file stem).

    Raises
    ------
    FormatError
        (a ValueError) naming the file, and the line where there is one, when the header
        lacks ``DIMENSION``, the type or format is not supported, ``EDGE_WEIGHT_SECTION`` is
        missing or does not hold exactly DIMENSION² numbers, or the weights are invalid
        (negative, not finite).
    """
    doc = parse_tsplib(path, read_text(path))
    kind = doc.require("TYPE").upper()
    if kind not in ("ATSP", "TSP"):
        raise FormatError(path, f"TYPE is {kind}, not ATSP (read CVRP/ACVRP files with read_vrplib)")
    n = doc.positive_int("DIMENSION")
    matrix = explicit_full_matrix(doc, n)
    name = doc.get("NAME") or Path(path).stem
    return build_problem(path, kind=ProblemKind.ATSP, distance=matrix, ids=np.arange(1, n + 1), name=name)
