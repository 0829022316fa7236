"""Benchmark file readers: TSPLIB ATSP, VRPLIB CVRP/ACVRP/VRPTW (with PyVRP's VRPLIB dialect),
Solomon VRPTW, and their reference solutions (VRPLIB ``.sol``, LKH ``.tour``).

Every reader returns a validated :class:`hybridroute.Problem` in the file's own abstract
units (benchmark distances are not metres), with node 0 the depot / tour start and ``ids``
mapping back to the file's node numbers. Malformed files raise :class:`FormatError`, a
ValueError that names the file (and line, where there is one). The JSON round trip lives on
:class:`~hybridroute.Problem` itself (``to_json`` / ``from_json``); :func:`read` accepts
``.json`` files too.
"""

from ._text import FormatError
from .dispatch import read, read_solution
from .solomon import read_solomon, solomon_distance
from .solutions import ReferenceSolution, read_lkh_tour, read_vrplib_solution, reverse_routes
from .tsplib import read_tsplib_atsp
from .vrplib_format import euc_2d, read_vrplib, read_vrplib_fleet

__all__ = [
    "FormatError", "ReferenceSolution", "euc_2d", "read", "read_lkh_tour", "read_solomon",
    "read_solution", "read_tsplib_atsp", "read_vrplib", "read_vrplib_fleet", "read_vrplib_solution", "reverse_routes",
    "solomon_distance",
]
