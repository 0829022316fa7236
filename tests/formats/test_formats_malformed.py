"""Small hand-written files: dispatch, id mapping, LKH depot copies, and malformed input."""

from __future__ import annotations

import pytest

import hybridroute as hr
from support import ACVRP4, SOLOMON3
from hybridroute.formats import (
    FormatError, ReferenceSolution, read, read_lkh_tour, read_solomon, read_solution,
    read_tsplib_atsp, read_vrplib, read_vrplib_solution, reverse_routes,
)

# Rows of 3 wrapped as 4 + 4 + 1 tokens, as TSPLIB files wrap long rows.
ATSP3 = """NAME: tiny
TYPE: ATSP
DIMENSION: 3
EDGE_WEIGHT_TYPE: EXPLICIT
EDGE_WEIGHT_FORMAT: FULL_MATRIX
EDGE_WEIGHT_SECTION
 9999 1 2 3
 9999 4 5 6
 9999
EOF
"""


# EUC_2D with the depot first (CVRPLIB set X layout): a 3-4-5 triangle; 2.5 rounds up to 3,
# sqrt(16.25) = 4.03 to 4.
CVRP3 = """NAME : tiny3
TYPE : CVRP
DIMENSION : 3
EDGE_WEIGHT_TYPE : EUC_2D
CAPACITY : 10
NODE_COORD_SECTION
1 0 0
2 3 4
3 2.5 0
DEMAND_SECTION
1 0
2 4
3 5
DEPOT_SECTION
1
-1
EOF
"""



def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


def assert_format_error(excinfo, path, *words):
    err = excinfo.value
    assert isinstance(err, ValueError)
    assert str(path) in str(err)
    for word in words:
        assert word in str(err), f"{word!r} not in {str(err)!r}"


# -- well-formed small files ----------------------------------------------------------------


def test_atsp_wrapped_rows_and_sentinel(tmp_path):
    path = write(tmp_path, "tiny.atsp", ATSP3)
    problem = read(path)
    assert problem.kind is hr.ProblemKind.ATSP and problem.name == "tiny"
    assert problem.distance.tolist() == [[0, 1, 2], [3, 0, 4], [5, 6, 0]]
    assert hr.evaluate(problem, [[1, 2]]).cost == 1 + 4 + 5
    assert hr.evaluate(problem, [[2, 1]]).cost == 2 + 6 + 3


def test_acvrp_depot_last_and_id_mapping(tmp_path):
    problem = read(write(tmp_path, "tiny4.vrp", ACVRP4))
    assert problem.ids.tolist() == [4, 1, 2, 3]
    assert problem.distance.tolist() == [[0, 10, 11, 12], [3, 0, 1, 2], [6, 4, 0, 5], [9, 7, 8, 0]]
    assert problem.demand.tolist() == [0, 5, 5, 5] and problem.num_vehicles == 2
    # .sol numbers customers 1..n-1 in file order: 3 is file node 3 (problem index 3).
    sol = read_solution(write(tmp_path, "tiny4.sol", "Route #1: 3 1\nRoute #2: 2\nCost 27\n"), problem)
    assert sol.routes == ((3, 1), (2,)) and sol.cost == 27
    assert hr.evaluate(problem, sol.routes).cost == 12 + 7 + 3 + 11 + 6


def test_lkh_tour_with_depot_copy(tmp_path):
    problem = read(write(tmp_path, "tiny4.vrp", ACVRP4))
    # DIMENSION = n + K - 1 = 5; node 5 is the depot's copy; the cycle wraps from 2 to 1.
    tour = ("NAME : t\nCOMMENT : Cost = 0_32\nTYPE : TOUR\nDIMENSION : 5\nTOUR_SECTION\n"
            "1\n4\n3\n5\n2\n-1\nEOF\n")
    ref = read_lkh_tour(write(tmp_path, "tiny4.32.tour", tour), problem)
    assert ref.cost == 32
    assert ref.routes == ((3,), (2, 1))  # file ids: [3], then [2, 1]
    assert hr.evaluate(problem, ref.routes).cost == (12 + 9) + (11 + 4 + 3)
    assert ref.reversed().routes == ((1, 2), (3,))
    assert isinstance(ref.reversed(), ReferenceSolution)


def test_lkh_tour_for_atsp(tmp_path):
    problem = read(write(tmp_path, "tiny.atsp", ATSP3))
    tour = ("NAME : tiny.tour\nCOMMENT : Length = 12\nTYPE : TOUR\nDIMENSION : 3\n"
            "TOUR_SECTION\n3 1 2 -1\nEOF\n")
    ref = read_solution(write(tmp_path, "tiny.tour", tour), problem)
    assert ref.routes == ((1, 2),) and ref.cost == 12
    assert hr.evaluate(problem, ref.routes).cost == 10  # the comment's claim is not trusted


def test_solomon_small(tmp_path):
    path = write(tmp_path, "tiny.txt", SOLOMON3)
    problem = read(path)
    assert problem.kind is hr.ProblemKind.ACVRPTW
    assert problem.distance[0, 1] == 5.0 and problem.distance[0, 2] == 1.4
    assert read(path, dimacs=False).distance[0, 2] == pytest.approx(2**0.5)
    assert problem.num_vehicles == 2 and problem.capacity == 10


def test_reverse_routes():
    assert reverse_routes([[1, 2, 3], [4, 5]]) == ((5, 4), (3, 2, 1))
    assert reverse_routes(reverse_routes([[1, 2], [3]])) == ((1, 2), (3,))


def test_json_round_trip_through_read(tmp_path, acvrptw12):
    path = tmp_path / "p.json"
    acvrptw12.to_json(str(path))
    assert read(path) == acvrptw12


# -- malformed files ------------------------------------------------------------------------


def test_missing_edge_weight_section(tmp_path):
    path = write(tmp_path, "bad.atsp", ATSP3.replace("EDGE_WEIGHT_SECTION\n", ""))
    with pytest.raises(FormatError) as excinfo:
        read_tsplib_atsp(path)
    # Without the section line the numbers are stray lines outside any section.
    assert_format_error(excinfo, path, "line 6", "neither 'KEY : value' nor inside a section")
    path = write(tmp_path, "bad2.atsp", ATSP3.split("EDGE_WEIGHT_SECTION")[0])
    with pytest.raises(FormatError) as excinfo:
        read_tsplib_atsp(path)
    assert_format_error(excinfo, path, "missing EDGE_WEIGHT_SECTION")


@pytest.mark.parametrize("body, count", [
    (" 9999 1 2 3\n 9999 4 5 6\n", 8),
    (" 9999 1 2 3\n 9999 4 5 6\n 9999 7\n", 10),
])
def test_wrong_token_count(tmp_path, body, count):
    path = write(tmp_path, "bad.atsp", ATSP3.split("SECTION\n")[0] + "SECTION\n" + body)
    with pytest.raises(FormatError) as excinfo:
        read_tsplib_atsp(path)
    assert_format_error(excinfo, path, f"holds {count} numbers", "DIMENSION² = 3² = 9")


def test_non_numeric_weight_names_the_line(tmp_path):
    path = write(tmp_path, "bad.atsp", ATSP3.replace(" 9999 4 5 6", " 9999 4 x 6"))
    with pytest.raises(FormatError) as excinfo:
        read_tsplib_atsp(path)
    assert_format_error(excinfo, path, "line 8", "'x'")
    assert excinfo.value.line == 8


@pytest.mark.parametrize("change, words", [
    (("DIMENSION: 3\n", ""), ["no DIMENSION line"]),
    (("DIMENSION: 3", "DIMENSION: three"), ["DIMENSION must be an integer"]),
    (("FULL_MATRIX", "LOWER_DIAG_ROW"), ["EDGE_WEIGHT_FORMAT LOWER_DIAG_ROW is not supported"]),
    (("TYPE: ATSP", "TYPE: CVRP"), ["TYPE is CVRP", "read_vrplib"]),
    ((" 9999 4 5 6", " 9999 4 -5 6"), ["invalid instance data", "distance at index (2, 0)"]),
])
def test_bad_atsp_header_or_data(tmp_path, change, words):
    path = write(tmp_path, "bad.atsp", ATSP3.replace(*change))
    with pytest.raises(FormatError) as excinfo:
        read_tsplib_atsp(path)
    assert_format_error(excinfo, path, *words)


def test_invalid_data_keeps_the_validation_error(tmp_path):
    path = write(tmp_path, "bad.atsp", ATSP3.replace(" 9999 4 5 6", " 9999 4 -5 6"))
    with pytest.raises(FormatError) as excinfo:
        read_tsplib_atsp(path)
    assert isinstance(excinfo.value.__cause__, hr.ProblemValidationError)
    assert excinfo.value.__cause__.field == "distance"


@pytest.mark.parametrize("change, words", [
    (("DEPOT_SECTION\n4\n", "DEPOT_SECTION\n4\n1\n"), ["2 depots"]),
    (("DEMAND_SECTION\n1 5\n2 5\n3 5\n4 0\n", ""), ["missing DEMAND_SECTION"]),
    ((" 7 8 10000 9\n", " 7 8\n 10000 9\n"), ["not a readable VRPLIB file"]),
    (("4 0\n", "4 3\n"), ["invalid instance data", "depot's demand must be 0"]),
    (("1 5\n", "1 50\n"), ["demand at index 1", "exceeds the vehicle capacity"]),
    (("TYPE : ACVRP", "TYPE : ATSP"), ["TYPE is ATSP", "read_tsplib_atsp"]),
])
def test_bad_vrplib(tmp_path, change, words):
    path = write(tmp_path, "bad.vrp", ACVRP4.replace(*change))
    with pytest.raises(FormatError) as excinfo:
        read_vrplib(path)
    assert_format_error(excinfo, path, *words)


def test_euc_2d_cvrp_and_unsupported_distance_type(tmp_path):
    problem = read(write(tmp_path, "tiny.vrp", CVRP3))
    assert problem.ids.tolist() == [1, 2, 3]
    assert problem.distance.tolist() == [[0, 5, 3], [5, 0, 4], [3, 4, 0]]
    assert problem.num_vehicles is None and problem.capacity == 10
    path = write(tmp_path, "geo.vrp", CVRP3.replace("EUC_2D", "GEO"))
    with pytest.raises(FormatError) as excinfo:
        read_vrplib(path)
    assert_format_error(excinfo, path, "EDGE_WEIGHT_TYPE GEO is not supported")


def test_bad_solomon(tmp_path):
    path = write(tmp_path, "bad.txt", SOLOMON3.replace("CUSTOMER", "CLIENTS"))
    with pytest.raises(FormatError) as excinfo:
        read_solomon(path)
    assert_format_error(excinfo, path, "not a Solomon VRPTW file")
    # A customer whose window closes before a vehicle can get there.
    path = write(tmp_path, "late.txt", SOLOMON3.replace("0        50", "0         2"))
    with pytest.raises(FormatError) as excinfo:
        read_solomon(path)
    assert_format_error(excinfo, path, "time_windows at index 1", "unreachable")


@pytest.mark.parametrize("text, words", [
    ("Route #1: 1 4\nCost 3\n", ["line 1", "customer 4 is outside 1..3"]),
    ("Route #1: 1 two\n", ["line 1", "must be integers"]),
    ("Cost 3\n", ["no 'Route #k:' lines"]),
    ("Route #1: 1 2 3\nCost abc\n", ["line 2", "'abc' is not a number"]),
])
def test_bad_sol(tmp_path, text, words):
    problem = read(write(tmp_path, "tiny4.vrp", ACVRP4))
    path = write(tmp_path, "bad.sol", text)
    with pytest.raises(FormatError) as excinfo:
        read_vrplib_solution(path, problem)
    assert_format_error(excinfo, path, *words)


@pytest.mark.parametrize("section, words", [
    ("DIMENSION : 5\nTOUR_SECTION\n1 4 3 9 2 -1\n", ["node 9", "does not have"]),
    ("DIMENSION : 6\nTOUR_SECTION\n1 4 3 5 2 -1\n", ["lists 5 nodes but DIMENSION is 6"]),
    ("DIMENSION : 5\n", ["missing TOUR_SECTION"]),
    ("TOUR_SECTION\n1 2.5 3 -1\n", ["integer node numbers"]),
])
def test_bad_tour(tmp_path, section, words):
    problem = read(write(tmp_path, "tiny4.vrp", ACVRP4))
    path = write(tmp_path, "bad.tour", "NAME : t\nTYPE : TOUR\n" + section + "EOF\n")
    with pytest.raises(FormatError) as excinfo:
        read_lkh_tour(path, problem)
    assert_format_error(excinfo, path, *words)


def test_read_rejects_unknown_formats(tmp_path):
    path = write(tmp_path, "x.dat", "hello\nworld\n")
    with pytest.raises(FormatError) as excinfo:
        read(path)
    assert_format_error(excinfo, path, "unrecognised instance format", "supported")
    path = write(tmp_path, "hcp.tsp", "NAME: g\nTYPE: HCP\nDIMENSION: 3\n")
    with pytest.raises(FormatError) as excinfo:
        read(path)
    assert_format_error(excinfo, path, "TYPE HCP")
    with pytest.raises(FormatError) as excinfo:
        read(tmp_path / "missing.vrp")
    assert_format_error(excinfo, tmp_path / "missing.vrp", "no such file")
    problem = read(write(tmp_path, "tiny.atsp", ATSP3))
    with pytest.raises(FormatError, match="unrecognised solution format"):
        read_solution(write(tmp_path, "s.txt", "nothing here\n"), problem)
