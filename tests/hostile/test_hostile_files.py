"""Hostile files: duplicate visits in reference solutions, bad Solomon tokens, malformed
problem JSON, corrupt OSM extracts. Each error names the file and where in it.
"""

from __future__ import annotations

import bz2
import gzip
import json
from pathlib import Path

import numpy as np
import pytest

import hybridroute as hr
from hybridroute.formats import FormatError, read, read_lkh_tour, read_solomon, read_solution, read_vrplib_solution

from support import ACVRP4, IN_CI, SHARED, SOLOMON3


ATSP3 = """NAME: tiny
TYPE: ATSP
DIMENSION: 3
EDGE_WEIGHT_TYPE: EXPLICIT
EDGE_WEIGHT_FORMAT: FULL_MATRIX
EDGE_WEIGHT_SECTION
 9999 1 2
 3 9999 4
 5 6 9999
EOF
"""

# 1-based line numbers of SOLOMON3's rows
VEHICLE_LINE, DEPOT_LINE, CUSTOMER1_LINE, CUSTOMER2_LINE = 5, 10, 11, 12


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def raises_format_error(fn, path, line, *words) -> FormatError:
    with pytest.raises(FormatError) as info:
        fn()
    err = info.value
    assert isinstance(err, ValueError)
    assert err.line == line, str(err)
    prefix = f"{path}, line {line}: " if line is not None else f"{path}: "
    assert str(err).startswith(prefix), str(err)
    for word in words:
        assert word in str(err), f"{word!r} not in {str(err)!r}"
    return err


@pytest.fixture
def acvrp4(tmp_path):
    return read(write(tmp_path, "tiny4.vrp", ACVRP4))


@pytest.fixture
def atsp3(tmp_path):
    return read(write(tmp_path, "tiny.atsp", ATSP3))


# -- .sol: duplicate visits ------------------------------------------------------------------


@pytest.mark.parametrize("text,line,words", [
    ("Route #1: 3 1\nRoute #2: 2 3\nCost 27\n", 2,
     ["customer 3 is visited twice: Route #2 position 2, and Route #1 position 1 on line 1"]),
    ("Route #1: 1 1 2 3\n", 1, ["customer 1 is visited twice: Route #1 position 2, and Route #1 position 1"]),
    ("Route #1: 1 2\nCost 20\n\nRoute #2: 3\nRoute #3: 2\n", 5,
     ["customer 2 is visited twice: Route #3 position 1, and Route #1 position 2 on line 1"]),
    ("Route #1: 3 2 1 3\n", 1, ["customer 3 is visited twice: Route #1 position 4"]),
], ids=["across-routes", "adjacent", "later-line", "closing-the-cycle"])
def test_sol_duplicate_visits_are_refused(tmp_path, acvrp4, text, line, words):
    path = write(tmp_path, "dup.sol", text)
    raises_format_error(lambda: read_vrplib_solution(path, acvrp4), path, line, *words)
    raises_format_error(lambda: read_solution(path, acvrp4), path, line, *words)


def test_sol_huge_entry_is_not_an_integer_error(tmp_path, acvrp4):
    path = write(tmp_path, "big.sol", "Route #1: 1 99999999999999999999999\n")
    raises_format_error(lambda: read_vrplib_solution(path, acvrp4), path, 1, "route entries must be integers")


def test_sol_each_customer_once_still_reads(tmp_path, acvrp4):
    ref = read_vrplib_solution(write(tmp_path, "ok.sol", "Route #1: 3 1\nRoute #2: 2\nCost 27\n"), acvrp4)
    assert ref.routes == ((3, 1), (2,)) and ref.cost == 27  # the file's claim
    assert hr.evaluate(acvrp4, ref.routes).cost == 12 + 7 + 3 + 11 + 6


# -- LKH .tour: duplicate visits -------------------------------------------------------------


def tour(dimension: int | None, body: str) -> str:
    dim = f"DIMENSION : {dimension}\n" if dimension else ""
    return f"NAME : t\nTYPE : TOUR\n{dim}TOUR_SECTION\n{body}-1\nEOF\n"


@pytest.mark.parametrize("problem,text,line,words", [
    ("acvrp4", tour(5, "1\n4\n\n3\n1\n2\n"), 9, ["node 1 is listed twice in TOUR_SECTION: entries 1 (line 5) "
                                                   "and 4 (line 9)"]),
    ("acvrp4", tour(5, "1 4 5\n5 2\n"), 6, ["node 5 is listed twice", "entries 3 (line 5) and 4 (line 6)"]),
    ("acvrp4", tour(5, "4 1 3 4 2\n"), 5, ["node 4 is listed twice", "entries 1 (line 5) and 4 (line 5)"]),
    ("atsp3", tour(None, "3 1 3\n"), 4, ["node 3 is listed twice", "entries 1 (line 4) and 3 (line 4)"]),
    ("atsp3", tour(None, "3 1 2 3\n"), 4, ["node 3 is listed twice", "entries 1 (line 4) and 4 (line 4)"]),
], ids=["customer", "depot-copy", "depot", "atsp", "atsp-closed-cycle"])
def test_tour_duplicate_visits_are_refused(tmp_path, request, problem, text, line, words):
    problem = request.getfixturevalue(problem)
    path = write(tmp_path, "dup.tour", text)
    raises_format_error(lambda: read_lkh_tour(path, problem), path, line, *words)
    raises_format_error(lambda: read_solution(path, problem), path, line, *words)


# -- Solomon: bad tokens named by line and column --------------------------------------------


def solomon_with(line: int, column: int, token: str) -> str:
    lines = SOLOMON3.splitlines()
    parts = lines[line - 1].split()
    parts[column] = token
    lines[line - 1] = "    " + "  ".join(parts)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("token", ["9l2", "abc", "2.5", "1e5", "nan", "inf", "0x10", "--3", "1,5", "１２"])
@pytest.mark.parametrize("line,column,name", [
    (CUSTOMER1_LINE, 5, "DUE DATE"), (CUSTOMER2_LINE, 1, "XCOORD."), (DEPOT_LINE, 3, "DEMAND"),
    (CUSTOMER2_LINE, 6, "SERVICE TIME"), (CUSTOMER1_LINE, 4, "READY TIME"),
])
def test_solomon_bad_token_names_line_and_column(tmp_path, token, line, column, name):
    path = write(tmp_path, "bad.txt", solomon_with(line, column, token))
    words = [f"CUSTOMER column {name}: {token!r} is not an integer"]
    raises_format_error(lambda: read_solomon(path), path, line, *words)
    raises_format_error(lambda: read(path), path, line, *words)


@pytest.mark.parametrize("column,name", [(0, "NUMBER"), (1, "CAPACITY")])
def test_solomon_bad_vehicle_value_names_line_and_column(tmp_path, column, name):
    path = write(tmp_path, "bad.txt", solomon_with(VEHICLE_LINE, column, "2.5"))
    raises_format_error(lambda: read_solomon(path), path, VEHICLE_LINE, f"VEHICLE column {name}: '2.5'")


def test_solomon_overflowing_and_missing_values(tmp_path):
    path = write(tmp_path, "big.txt", solomon_with(CUSTOMER2_LINE, 3, "9" * 25))
    raises_format_error(lambda: read_solomon(path), path, CUSTOMER2_LINE, f"DEMAND: {'9' * 25} is too large")
    short = SOLOMON3.replace("    2      1         1          5         20        60         10",
                             "    2      1         1          5         20        60")
    path = write(tmp_path, "short.txt", short)
    raises_format_error(lambda: read_solomon(path), path, CUSTOMER2_LINE, "the CUSTOMER row has 6 values, expected 7")


def test_solomon_negative_integer_is_still_a_data_error(tmp_path):
    path = write(tmp_path, "neg.txt", solomon_with(CUSTOMER1_LINE, 5, "-3"))
    raises_format_error(lambda: read_solomon(path), path, None, "time_windows at index (1, 1): value -3.0 is negative")


# -- problem JSON ----------------------------------------------------------------------------


@pytest.fixture
def problem_json():
    p = hr.Problem("ACVRP", [[0, 5, 6], [5, 0, 7], [6, 7, 0]], demand=[0, 1, 2], capacity=3, name="j")
    return p, json.dumps(p.to_dict(), indent=1)


@pytest.mark.parametrize("edit,line", [
    (lambda t: t[:-40], None),
    (lambda t: t.replace('"kind": "ACVRP",', '"kind": "ACVRP",,'), 3),
    (lambda t: t.replace('"name": "j"', '"name": j'), None),
    (lambda t: "", 1),
    (lambda t: "{", 1),
], ids=["truncated", "double-comma", "bare-word", "empty", "open-brace"])
def test_malformed_json_names_file_line_and_column(tmp_path, problem_json, edit, line):
    text = edit(problem_json[1])
    path = write(tmp_path, "p.json", text)
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        expected = exc
    line = expected.lineno if line is None else line
    assert expected.lineno == line
    with pytest.raises(hr.ProblemValidationError) as info:
        hr.Problem.from_json(str(path))
    err = info.value
    assert err.field == "json" and isinstance(err.__cause__, json.JSONDecodeError)
    assert str(err).startswith(f"json: {path}, line {line}, column {expected.colno}: not valid JSON ({expected.msg})")
    raises_format_error(lambda: read(path), path, line, f"not valid JSON: {expected.msg} (column {expected.colno})")


def test_malformed_json_text_is_named_as_text(problem_json):
    with pytest.raises(hr.ProblemValidationError, match=r"^json: JSON text, line 1, column 10: not valid JSON"):
        hr.Problem.from_json('{"kind": ')
    with pytest.raises(hr.ProblemValidationError, match=r"^json: JSON text: expected a JSON object .* got a list"):
        hr.Problem.from_json("[1, 2]")


@pytest.mark.parametrize("change,field,index,words", [
    (lambda d: [1, 2], "json", None, ["expected a JSON object of the problem's fields, got a list"]),
    (lambda d: "ACVRP", "json", None, ["got a str"]),
    (lambda d: {**d, "penalty": 3}, "penalty", None, ["unknown key 'penalty'; known keys:"]),
    (lambda d: {k: v for k, v in d.items() if k != "distance"}, "distance", None, ["the JSON object has no"]),
    (lambda d: {**d, "distance": [[0, True, 6], [5, 0, 7], [6, 7, 0]]}, "distance", (0, 1), ["got True (bool)"]),
    (lambda d: {**d, "distance": [[0, 5, 6], [5, 0], [6, 7, 0]]}, "distance", 1, ["is ragged"]),
    (lambda d: {**d, "demand": [0, 1, 9]}, "demand", 2, ["exceeds the vehicle capacity"]),
    (lambda d: {**d, "ids_dtype": "garbage"}, "json", None, ["data type 'garbage' not understood"]),
], ids=["list", "string", "unknown-key", "missing-key", "bool-entry", "ragged", "bad-demand", "bad-dtype"])
def test_invalid_json_content_names_file_field_and_index(tmp_path, problem_json, change, field, index, words):
    path = write(tmp_path, "p.json", json.dumps(change(problem_json[0].to_dict())))
    with pytest.raises(hr.ProblemValidationError) as info:
        hr.Problem.from_json(path)  # a Path is accepted as well as a str
    err = info.value
    assert err.field == field and err.index == index, str(err)
    where = f" at index {index}" if index is not None else ""
    assert str(err).startswith(f"{field}{where}: {path}: "), str(err)
    for word in words:
        assert word in str(err)
    raises_format_error(lambda: read(path), path, None, "invalid instance data", *words)


def test_json_file_that_is_not_text_or_missing(tmp_path, problem_json):
    path = tmp_path / "bin.json"
    path.write_bytes(b"\xff\xfe\x00{")
    with pytest.raises(hr.ProblemValidationError, match=rf"^json: {path}: not a text file"):
        hr.Problem.from_json(path)
    raises_format_error(lambda: read(path), path, None, "not a text file")
    with pytest.raises(FileNotFoundError):
        hr.Problem.from_json(tmp_path / "missing.json")
    raises_format_error(lambda: read(tmp_path / "missing.json"), tmp_path / "missing.json", None, "no such file")


def test_json_round_trip_still_works(tmp_path, problem_json):
    p, text = problem_json
    path = write(tmp_path, "p.json", text)
    assert hr.Problem.from_json(path) == p == hr.Problem.from_json(text) == read(path)


# -- corrupt OSM extracts --------------------------------------------------------------------


def require_osmium():
    try:
        import osmium  # noqa: F401
    except ImportError:
        if IN_CI:
            pytest.fail("pyosmium is not installed: needed to read OSM extracts")
        pytest.skip("pyosmium is not installed (pip install osmium)")


def truncated_real_extract(tmp_path: Path) -> Path:
    src = SHARED / "data" / "osm" / "monaco.osm.pbf"
    if not src.is_file():
        if IN_CI:
            pytest.fail(f"{src} is absent")
        pytest.skip(f"{src} is absent: needs the shared OSM extracts")
    path = tmp_path / "monaco-cut.osm.pbf"
    path.write_bytes(src.read_bytes()[:5000])
    return path


CORRUPT = {
    "garbage.osm.pbf": lambda p: p.write_bytes(b"this is not a PBF file"),
    "empty.osm.pbf": lambda p: p.write_bytes(b""),
    "random.osm.pbf": lambda p: p.write_bytes(np.random.default_rng(0).bytes(4096)),
    "broken.osm": lambda p: p.write_text("<osm><node id="),
    "broken.osm.gz": lambda p: p.write_bytes(gzip.compress(b"<osm version='0.6'><way id='1'>")),
    "notgzip.osm.gz": lambda p: p.write_bytes(b"garbage"),
    "broken.osm.bz2": lambda p: p.write_bytes(bz2.compress(b"{}")),
    "extract.txt": lambda p: p.write_text("hello"),
}


@pytest.mark.parametrize("name", list(CORRUPT) + ["truncated"])
def test_corrupt_extract_is_an_error_naming_the_file(tmp_path, name):
    require_osmium()
    from hybridroute.osrm.build import build_city, read_road_network
    from hybridroute.osrm.errors import OSMExtractError, OSRMError

    if name == "truncated":
        path = truncated_real_extract(tmp_path)
    else:
        path = tmp_path / name
        CORRUPT[name](path)
    for call in (lambda: read_road_network(path), lambda: build_city(path, 10)):
        with pytest.raises(OSMExtractError) as info:
            call()
        err = info.value
        assert isinstance(err, OSRMError) and err.path == str(path)
        assert str(err).startswith(f"{path}: cannot read this OSM extract ("), str(err)


def test_missing_extract_is_file_not_found(tmp_path):
    require_osmium()
    from hybridroute.osrm.build import build_city

    with pytest.raises(FileNotFoundError, match=f"OSM extract {tmp_path / 'nope.osm.pbf'} does not exist"):
        build_city(tmp_path / "nope.osm.pbf", 10)
