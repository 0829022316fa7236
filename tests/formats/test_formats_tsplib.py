"""TSPLIB ATSP reader on the 19 TSPLIB ATSP files (br17 optimum re-derived by Held–Karp)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from support import SHARED, require_shared

import hybridroute as hr
from hybridroute.formats import read, read_tsplib_atsp

ATSP = SHARED / "data" / "benchmarks" / "atsp"
ATSP_FILES = sorted(p.name for p in ATSP.glob("*.atsp"))


def expected_nodes(name: str) -> int:
    """n from the TSPLIB name: ftvNN has NN+1 nodes; kro124p has 100 (a historical misnomer)."""
    if name == "kro124p":
        return 100
    digits = int(re.search(r"\d+", name).group())
    return digits + 1 if name.startswith("ftv") else digits


def held_karp(d: np.ndarray) -> tuple[float, list[int]]:
    """Exact ATSP by Held–Karp DP, vectorised over all subsets of one size at a time.

    ``best[S, j]`` = cheapest path from node 0 through the customer set S ending at j (bit j-1
    of S is node j). Returns the optimal tour length and the tour (nodes 1..n-1 in order).
    """
    m = len(d) - 1
    full = 1 << m
    cust = d[1:, 1:]
    best = np.full((full, m), np.inf)
    parent = np.full((full, m), -1, dtype=np.int8)
    bits = np.arange(m)
    best[1 << bits, bits] = d[0, 1:]
    masks = np.arange(full)
    size = np.zeros(full, dtype=np.int64)
    for b in bits:
        size += (masks >> b) & 1
    for k in range(2, m + 1):
        layer = masks[size == k]
        for j in bits:
            sets = layer[(layer >> j) & 1 == 1]
            cand = best[sets ^ (1 << j)] + cust[:, j]  # via i: best[S - j, i] + d[i, j]
            arg = cand.argmin(axis=1)
            best[sets, j] = cand[np.arange(len(sets)), arg]
            parent[sets, j] = arg
    closing = best[full - 1] + d[1:, 0]
    j = int(closing.argmin())
    length = float(closing[j])
    tour, s = [], full - 1
    while s:
        tour.append(j + 1)
        s, j = s ^ (1 << j), int(parent[s, j])
    return length, tour[::-1]


def test_all_atsp_files_present():
    require_shared("data", "benchmarks", "atsp")
    assert len(ATSP_FILES) == 19


@pytest.mark.parametrize("filename", ATSP_FILES)
def test_atsp_file_parses(filename):
    problem = read_tsplib_atsp(require_shared("data", "benchmarks", "atsp", filename))
    name = filename.removesuffix(".atsp")
    n = expected_nodes(name)
    assert problem.kind is hr.ProblemKind.ATSP
    assert problem.name == name
    assert problem.num_nodes == n
    assert problem.duration is None
    assert np.array_equal(problem.ids, np.arange(1, n + 1))
    assert np.all(np.diag(problem.distance) == 0)
    assert not np.array_equal(problem.distance, problem.distance.T), "ATSP matrix must be asymmetric"
    # No sentinel left anywhere: every TSPLIB ATSP weight is far below 9999 off the diagonal.
    assert problem.distance.max() < 9999


def test_wrapped_rows_land_in_the_right_cells():
    # br17 rows have 17 entries written as 16 + 1 on two lines.
    problem = read_tsplib_atsp(require_shared("data", "benchmarks", "atsp", "br17.atsp"))
    d = problem.distance
    assert d[0, :4].tolist() == [0, 3, 5, 48]
    assert d[0, 16] == 5  # the wrapped 17th entry of row 0
    assert d[1, :4].tolist() == [3, 0, 3, 48]
    assert d[3, 4] == 0 and d[3, 2] == 74 and d[2, 3] == 72  # asymmetric pair


def test_ftv33_sentinel_and_last_row():
    problem = read(require_shared("data", "benchmarks", "atsp", "ftv33.atsp"))
    d = problem.distance
    assert d[0, 0] == 0  # was 100000000 in the file
    assert d[0, 1:6].tolist() == [26, 82, 65, 100, 147]
    assert d[33, 30:34].tolist() == [27, 243, 143, 0]


def test_br17_optimum_by_exact_search():
    problem = read_tsplib_atsp(require_shared("data", "benchmarks", "atsp", "br17.atsp"))
    length, tour = held_karp(problem.distance)
    solution = hr.evaluate(problem, [tour])
    assert solution.is_feasible, solution.violations
    assert sorted(tour) == list(range(1, 17))
    assert solution.cost == length == 39
    optima = json.loads((SHARED / "data" / "benchmarks" / "optima.json").read_text())
    assert optima["br17"]["optimal_or_bks"] == 39


def test_held_karp_matches_brute_force_on_a_small_matrix():
    # Guards the DP itself: 7 nodes, all 720 tours enumerated.
    from itertools import permutations

    rng = np.random.default_rng(5)
    d = rng.integers(1, 100, (7, 7)).astype(float)
    np.fill_diagonal(d, 0)
    brute = min(d[0, p[0]] + sum(d[a, b] for a, b in zip(p, p[1:])) + d[p[-1], 0]
                for p in permutations(range(1, 7)))
    length, tour = held_karp(d)
    assert length == brute
    assert hr.evaluate(hr.Problem("ATSP", d), [tour]).cost == brute
