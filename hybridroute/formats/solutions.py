"""Reference solution files: VRPLIB / CVRPLIB ``.sol`` and LKH ``.tour``.

Both readers return routes as the Problem's node indices without the depot (the convention
of :func:`hybridroute.evaluate`) plus the cost the file states, so a test can check that
``evaluate(problem, ref.routes).cost == ref.cost``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..problem import Problem
from ._text import FormatError, parse_tsplib, read_text

__all__ = ["ReferenceSolution", "read_vrplib_solution", "read_lkh_tour", "reverse_routes"]

_ROUTE = re.compile(r"^\s*Route\s*#\s*(\d+)\s*:(.*)$", re.IGNORECASE)
_COST = re.compile(r"^\s*Cost\s*:?\s+(\S+)\s*$", re.IGNORECASE)
# LKH-3 writes "Cost = <penalty>_<cost>" for VRPs and "Length = <cost>" for TSPs.
_LKH_COST = re.compile(r"\b(?:Cost|Length)\s*=\s*(?:(\d+)_)?(-?\d+(?:\.\d+)?)")


def reverse_routes(routes: Sequence[Sequence[int]]) -> tuple[tuple[int, ...], ...]:
    """The same routes driven backwards: each route reversed, and their order reversed.

    For an asymmetric problem this changes the cost. It is the solution a cyclic LKH tour
    describes when read in the opposite direction.
    """
    return tuple(tuple(reversed(tuple(r))) for r in reversed(tuple(routes)))


@dataclass(frozen=True)
class ReferenceSolution:
    """Routes read from a reference solution file.

    Attributes
    ----------
    routes
        Node indices of the Problem given to the reader, per route, without the depot.
    cost
        The cost the file states (``Cost`` line, or LKH's ``Cost =`` / ``Length =`` comment),
        or None when it states none. It is the file's claim, not recomputed: compare it with
        ``hybridroute.evaluate(problem, routes).cost``.
    path
        The file it came from.
    """

    routes: tuple[tuple[int, ...], ...]
    cost: float | None
    path: str

    def reversed(self) -> "ReferenceSolution":
        """The same tour read in the opposite direction (see :func:`reverse_routes`)."""
        return ReferenceSolution(reverse_routes(self.routes), self.cost, self.path)


def _number(text: str) -> float:
    value = float(text)
    return float(int(value)) if value.is_integer() else value


def _customers_in_file_order(problem: Problem) -> np.ndarray:
    """Problem indices of the customers sorted by their ids, i.e. in the instance file's order.

    The readers keep the file's node numbers as ``ids``, and file order is ascending node
    number; problems with unsortable ids keep their index order.
    """
    ids = problem.ids[1:]
    try:
        return 1 + np.argsort(ids, kind="stable")
    except TypeError:
        return np.arange(1, problem.num_nodes)


def read_vrplib_solution(path: str | os.PathLike, problem: Problem) -> ReferenceSolution:
    """Read a VRPLIB / CVRPLIB ``.sol`` file (``Route #k: 3 1 2`` lines, a ``Cost N`` line).

    Parameters
    ----------
    path
        The solution file.
    problem
        The instance it solves, as read by :func:`read_vrplib` or :func:`read_solomon`.

    Returns
    -------
    ReferenceSolution
        Routes as Problem indices. In ``.sol`` files the depot is 0 and customer ``k`` is the
        ``k``-th non-depot node of the instance file (X: file node ``k + 1``; Solomon:
        customer number ``k``); it is mapped through ``problem.ids`` so that a Problem whose
        depot was moved to index 0 is still matched node for node.

    Raises
    ------
    FormatError
        (a ValueError) naming the file and line: a route entry that is not an integer or is
        outside 1..n-1, a customer listed twice (with both places), a malformed cost, or a
        file without any route.
    """
    customers = _customers_in_file_order(problem)
    routes: list[tuple[int, ...]] = []
    cost: float | None = None
    seen: dict[int, tuple[int, str, int]] = {}  # customer -> (line, route label, position)
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        route = _ROUTE.match(line)
        if route:
            try:
                nums = np.array(route.group(2).split(), dtype=np.int64)
            except (ValueError, OverflowError):
                raise FormatError(path, f"route entries must be integers: {line.strip()!r}", number) from None
            bad = (nums < 1) | (nums > len(customers))
            if bad.any():
                raise FormatError(path, f"customer {nums[bad][0]} is outside 1..{len(customers)} "
                                        f"(the problem has {problem.num_nodes} nodes)", number)
            for pos, v in enumerate(nums.tolist(), start=1):
                if v in seen:
                    first_line, first_route, first_pos = seen[v]
                    raise FormatError(path, f"customer {v} is visited twice: Route #{route.group(1)} position "
                                            f"{pos}, and Route #{first_route} position {first_pos} on line "
                                            f"{first_line}", number)
                seen[v] = (number, route.group(1), pos)
            routes.append(tuple(int(v) for v in customers[nums - 1]))
            continue
        stated = _COST.match(line)
        if stated:
            try:
                cost = _number(stated.group(1))
            except ValueError:
                raise FormatError(path, f"cost {stated.group(1)!r} is not a number", number) from None
    if not routes:
        raise FormatError(path, "no 'Route #k:' lines: not a VRPLIB solution file")
    return ReferenceSolution(tuple(routes), cost, str(path))


def _lkh_cost(comments: list[str]) -> float | None:
    for text in comments:
        found = _LKH_COST.search(text)
        if found:
            return _number(found.group(2))
    return None


def _token_lines(text: str, doc, section: str) -> list[int]:
    """The 1-based file line of every token of a section, in order."""
    first, lines = doc.sections[section]
    raw = text.splitlines()
    out: list[int] = []
    number = first
    for line in lines:  # the section's lines in file order; only blank lines lie between them
        while raw[number - 1].strip() != line:
            number += 1
        out += [number] * len(line.split())
        number += 1
    return out


def _check_tour_unique(path: str | os.PathLike, text: str, doc, tour: np.ndarray) -> None:
    """Each node number (depot copies included) appears once in an LKH tour."""
    first: dict[int, int] = {}
    for pos, label in enumerate(tour.tolist()):
        if label in first:
            lines = _token_lines(text, doc, "TOUR")
            raise FormatError(path, f"node {label} is listed twice in TOUR_SECTION: entries {first[label] + 1} "
                                    f"(line {lines[first[label]]}) and {pos + 1} (line {lines[pos]})", lines[pos])
        first[label] = pos


def read_lkh_tour(path: str | os.PathLike, problem: Problem) -> ReferenceSolution:
    """Read an LKH ``TOUR`` file for an ATSP or ACVRP problem.

    Parameters
    ----------
    path
        The tour file: ``TOUR_SECTION`` lists the file's node numbers once each and ends
        with -1. For a VRP, LKH-3 turns the depot into one node per vehicle: the depot itself
        plus copies numbered beyond the instance's n; each stretch between two depot visits
        is a route (the tour is a cycle, so the stretch after the last depot visit continues
        at the top). For an ATSP the tour is one route started after node 0.
    problem
        The instance, as read by :func:`read_tsplib_atsp` or :func:`read_vrplib` (whose
        ``ids`` are the file's node numbers).

    Returns
    -------
    ReferenceSolution
        Routes in the direction the file lists them; empty stretches (two depot visits in a
        row, an unused vehicle) are dropped. For an asymmetric problem the opposite
        direction has another cost: :meth:`ReferenceSolution.reversed` gives it (three of
        LKH-3's Fischetti tours, A048-10f, A048-16f and A056-05f, reach their stated cost
        only reversed).

    Raises
    ------
    FormatError
        (a ValueError) naming the file: missing ``TOUR_SECTION``, non-integer entries, a
        node number listed twice (naming both positions and lines), a node number the
        problem does not have, or a tour length that disagrees with ``DIMENSION``.
    """
    text = read_text(path)
    doc = parse_tsplib(path, text)
    values = doc.numbers("TOUR")
    if values.size == 0 or not np.all(values == np.round(values)):
        raise FormatError(path, "TOUR_SECTION must list integer node numbers")
    tour = values.astype(np.int64)
    end = np.flatnonzero(tour == -1)
    tour = tour[: end[0]] if end.size else tour
    if "DIMENSION" in doc.header and doc.positive_int("DIMENSION") != len(tour):
        raise FormatError(path, f"TOUR_SECTION lists {len(tour)} nodes but DIMENSION is "
                                f"{doc.header['DIMENSION']}")
    _check_tour_unique(path, text, doc, tour)
    index_of = {label: i for i, label in enumerate(problem.ids.tolist())}
    n = problem.num_nodes
    is_depot = np.zeros(len(tour), dtype=bool)
    nodes = np.empty(len(tour), dtype=np.int64)
    for pos, label in enumerate(tour.tolist()):
        if n < label <= len(tour) and problem.kind.has_capacity:
            is_depot[pos] = True  # an LKH depot copy: numbered n+1..n+K-1 = the tour's length
            continue
        if label not in index_of:
            has_copies = problem.kind.has_capacity and len(tour) > n
            copies = f" or a depot copy ({n + 1}..{len(tour)})" if has_copies else ""
            raise FormatError(path, f"tour entry {pos + 1} is node {label}, which the problem does not "
                                    f"have: expected one of its ids{copies}")
        nodes[pos] = index_of[label]
        is_depot[pos] = nodes[pos] == problem.depot
    if not is_depot.any():
        raise FormatError(path, f"the tour never visits the depot (node {problem.ids[problem.depot]})")
    # Rotate the cycle so it starts at a depot visit, then cut at every depot visit.
    start = int(np.argmax(is_depot))
    order = np.r_[start:len(tour), 0:start]
    routes: list[tuple[int, ...]] = []
    for pos in order:
        if is_depot[pos]:
            routes.append(())
        else:
            routes[-1] += (int(nodes[pos]),)
    return ReferenceSolution(tuple(r for r in routes if r), _lkh_cost(doc.comments), str(path))
