"""PyVRP's VRPLIB dialect: the instance files of PyVRP's test suite (../shared/data/benchmarks/
pyvrp_dialect/) each read as a Problem, or are refused with a FormatError naming the file and
the section or feature hybridroute does not model; the readable ones agree with PyVRP's own
reader, and their .sol files evaluate as feasible at the cost they state."""

from __future__ import annotations

import numpy as np
import pytest
from support import SHARED, require_shared

import hybridroute as hr
from hybridroute.formats import FormatError, read, read_solution, read_vrplib

DIALECT = SHARED / "data" / "benchmarks" / "pyvrp_dialect"
SOLOMON = SHARED / "data" / "benchmarks" / "vrptw_solomon"
ACVRP, ACVRPTW = hr.ProblemKind.ACVRP, hr.ProblemKind.ACVRPTW

# file -> (kind, nodes, capacity, num_vehicles, depot window or None)
READ = {
    "E-n22-k4.txt": (ACVRP, 22, 6000, None, None),
    "OkSmall.txt": (ACVRPTW, 5, 10, 3, [0, 45000]),
    "OkSmallWaitTime.txt": (ACVRPTW, 5, 10, 3, [0, 45000]),
    "ServiceTimeSpecification.txt": (ACVRPTW, 5, 10, 3, [0, 45000]),
    "RC208.vrp": (ACVRPTW, 101, 1000, 25, [0, 960]),
    # its 1→5 entry is 1e16, but node 5 is reachable through node 4 (the build-time check
    # uses shortest paths, not the direct trip)
    "ReallyLargeDistance.txt": (ACVRPTW, 5, 10, 3, [0, 45000]),
}
# file -> words its FormatError must hold (the section or feature, as the file spells it)
REFUSED = {
    "C201R0.25.vrp": ["TYPE MTVRPTW", "RELEASE_TIME_SECTION: release times are not modelled",
                      "VEHICLES_RELOAD_DEPOT_SECTION: several trips per vehicle"],
    "DepotNotOne.txt": ["missing EDGE_WEIGHT_SECTION"],
    "DepotsNotLowerIndices.txt": ["DEPOT_SECTION lists 5 depots (1, 2, 3, 8, 5)", "node 8 is outside 1..5"],
    "EdgeWeightsNoExplicit.txt": ["EDGE_WEIGHT_TYPE FLFL is not supported"],
    "MissingVehicleData.txt": ["VEHICLES_DEPOT_SECTION has 1 row, but VEHICLES is 3"],
    "OkSmallAllowedClients.txt": ["VEHICLES_ALLOWED_CLIENTS_SECTION: client restrictions per vehicle",
                                  "vehicle 3 may not serve node 5"],
    "OkSmallMaxDistance.txt": ["VEHICLES_MAX_DISTANCE: a maximum distance per route (5000) is not modelled"],
    "OkSmallMultipleDepots.txt": ["2 depots (DEPOT_SECTION lists 1 and 2): multiple depots are not modelled"],
    "OkSmallMultipleLoad.txt": ["multiple load dimensions: DEMAND_SECTION has 2 values per node",
                                "CAPACITY_SECTION has 2 values per vehicle"],
    "OkSmallPrizes.txt": ["PRIZE_SECTION: optional stops with prizes are not modelled (3 of 4 clients"],
    "OkSmallReleaseTimes.txt": ["RELEASE_TIME_SECTION: release times are not modelled (4 of 4 clients"],
    "OkSmallUnitDistanceCost.txt": ["VEHICLES_UNIT_DISTANCE_COST_SECTION: per-vehicle distance costs (1, 2, 3)"],
    "PR01.vrp": ["TYPE SDVRPTW", "heterogeneous fleet: CAPACITY_SECTION has 4 capacities (100, 150, 200, 250)",
                 "VEHICLES_MAX_DURATION_SECTION", "VEHICLES_ALLOWED_CLIENTS_SECTION"],
    "PR11A.vrp": ["TYPE MDVRPTW", "4 depots (DEPOT_SECTION lists 1, 2, 3, 4)",
                  "VEHICLES_MAX_DURATION: a maximum duration per route (450)"],
    "TimeWindowOpenLargerThanClose.txt": ["TIME_WINDOW_SECTION: node 2 opens at 10, after it closes at 5"],
    "UnknownEdgeWeightFmt.txt": ["EDGE_WEIGHT_FORMAT UPPER_ROW is not supported"],
    "UnknownEdgeWeightType.txt": ["EDGE_WEIGHT_TYPE EUC_3D is not supported"],
    "X115-HVRP.vrp": ["TYPE HFVRP", "heterogeneous fleet: CAPACITY_SECTION has 3 capacities (54, 131, 322)",
                      "VEHICLES_FIXED_COST_SECTION: fixed vehicle costs (14600, 43600, 125200)",
                      "VEHICLES_UNIT_DISTANCE_COST_SECTION: per-vehicle distance costs (58, 100, 147)"],
    "p06-2-50.vrp": ["TYPE CPTP", "PRIZE_SECTION: optional stops with prizes are not modelled (50 of 50 clients"],
}
# .sol -> (its instance, the distance PyVRP's own reader gives it, in the Problem's units).
# OkSmall.sol states no cost: 9725 = (1544 + 1992 + 1965) + (1931 + 818 + 1475).
SOLUTIONS = {
    "RC208.sol": ("RC208.vrp", 776.1),
    "OkSmall.sol": ("OkSmall.txt", 9725),
    "C201R0.25.sol": ("C201R0.25.vrp", None),
    "OkSmallMultipleDepots.sol": ("OkSmallMultipleDepots.txt", None),
    "X115-HVRP.sol": ("X115-HVRP.vrp", None),
}


def dialect(name: str):
    return require_shared("data", "benchmarks", "pyvrp_dialect", name)


def test_every_file_is_covered():
    folder = require_shared("data", "benchmarks", "pyvrp_dialect")
    names = {p.name for p in folder.iterdir()} - {"README.md"}
    assert names == set(READ) | set(REFUSED) | set(SOLUTIONS)
    assert not set(READ) & set(REFUSED)


@pytest.mark.parametrize("name", sorted(READ))
def test_instance_reads(name):
    kind, n, capacity, vehicles, depot_window = READ[name]
    problem = read(dialect(name))
    assert (problem.kind, problem.num_nodes, problem.capacity, problem.num_vehicles) == (kind, n, capacity, vehicles)
    assert problem.ids.tolist() == list(range(1, n + 1))  # node 1 is the depot in all of them
    if depot_window is None:
        assert problem.time_windows is None and problem.duration is None
    else:
        assert problem.time_windows[0].tolist() == depot_window
        assert np.array_equal(problem.duration, problem.distance)
        assert problem.service_time[0] == 0


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_instance_is_refused_naming_the_feature(name):
    path = dialect(name)
    with pytest.raises(FormatError) as excinfo:
        read(path)
    message = str(excinfo.value)
    assert message.startswith(f"{path}: "), message
    assert "unrecognised instance format" not in message
    for words in REFUSED[name]:
        assert words in message, f"{words!r} not in {message!r}"


def test_small_instances_keep_the_file_data():
    ok = read(dialect("OkSmall.txt"))
    assert ok.distance[0].tolist() == [0, 1544, 1944, 1931, 1476]
    assert ok.distance[1, 0] == 1726  # asymmetric, as given
    assert ok.time_windows[1].tolist() == [15600, 22500]
    assert ok.service_time.tolist() == [0, 360, 360, 420, 360]
    assert ok.demand.tolist() == [0, 5, 5, 3, 5]
    # One SERVICE_TIME value for every client, and no DEMAND_SECTION: demands 0, as in PyVRP.
    uniform = read(dialect("ServiceTimeSpecification.txt"))
    assert uniform.service_time.tolist() == [0, 360, 360, 360, 360]
    assert uniform.demand.tolist() == [0, 0, 0, 0, 0]
    e22 = read(dialect("E-n22-k4.txt"))
    assert e22.distance[0, 1] == 49  # (145, 215) to (151, 264): 49.37 -> nint


def test_rc208_is_the_solomon_instance():
    vrplib_form = read(dialect("RC208.vrp"))
    solomon_form = read(require_shared("data", "benchmarks", "vrptw_solomon", "RC208.txt"))
    for field in ("distance", "duration", "time_windows", "service_time", "demand"):
        assert np.array_equal(getattr(vrplib_form, field), getattr(solomon_form, field)), field
    assert (vrplib_form.capacity, vrplib_form.num_vehicles) == (solomon_form.capacity, solomon_form.num_vehicles)


@pytest.mark.parametrize("name", sorted(SOLUTIONS))
def test_solution_is_feasible_at_its_cost(name):
    instance, cost = SOLUTIONS[name]
    if cost is None:  # its instance is refused (listed in REFUSED)
        with pytest.raises(FormatError):
            read(dialect(instance))
        return
    problem = read(dialect(instance))
    ref = read_solution(dialect(name), problem)
    sol = hr.evaluate(problem, ref.routes)
    assert sol.status is hr.Status.FEASIBLE and sol.violations == ()
    assert sol.cost == pytest.approx(cost, abs=1e-6)
    assert ref.cost in (None, cost)
    assert sol.num_routes == len(ref.routes) <= problem.num_vehicles


# PyVRP reads RC208 with DIMACS rounding (every value times 10, truncated): its unit is 1/10.
PYVRP_ROUNDING = {"RC208.vrp": ("dimacs", 10), "E-n22-k4.txt": ("round", 1)}


@pytest.mark.parametrize("name", sorted(READ))
def test_agrees_with_pyvrps_reader(name):
    pyvrp = pytest.importorskip("pyvrp")
    round_func, scale = PYVRP_ROUNDING.get(name, ("none", 1))
    data = pyvrp.read(dialect(name), round_func=round_func)
    problem = read(dialect(name))
    assert np.array_equal(np.round(problem.distance * scale), data.distance_matrix(0))
    clients = data.clients()
    assert np.array_equal(problem.demand[1:] * scale, [c.delivery[0] for c in clients])
    (vehicle_type,) = data.vehicle_types()
    assert problem.capacity * scale == vehicle_type.capacity[0]
    assert (problem.num_vehicles or problem.num_customers) == vehicle_type.num_available
    if problem.time_windows is not None:
        assert np.array_equal(problem.time_windows[1:] * scale, [[c.tw_early, c.tw_late] for c in clients])
        assert np.array_equal(problem.service_time[1:] * scale, [c.service_duration for c in clients])
        assert problem.time_windows[0].tolist() == [vehicle_type.tw_early / scale, vehicle_type.tw_late / scale]
    sol_name = name.rsplit(".", 1)[0] + ".sol"
    if sol_name in SOLUTIONS:
        sol = pyvrp.read_solution(dialect(sol_name), data)
        assert sol.is_feasible()
        assert sol.distance() == round(SOLUTIONS[sol_name][1] * scale)


def test_rounding_option():
    path = dialect("RC208.vrp")
    dimacs, exact, nint = (read_vrplib(path, rounding=r) for r in ("dimacs", "exact", "nint"))
    assert np.all(dimacs.distance <= exact.distance) and np.any(dimacs.distance < exact.distance)
    assert np.all(np.abs(nint.distance - exact.distance) <= 0.5)
    with pytest.raises(ValueError, match="rounding must be one of"):
        read_vrplib(path, rounding="round")


# -- small files written here: sections that restate the model are accepted -----------------

OK_SMALL = """NAME : TEST
DIMENSION : 3
EDGE_WEIGHT_TYPE : EXPLICIT
EDGE_WEIGHT_FORMAT : FULL_MATRIX
CAPACITY : 10
VEHICLES : 2
EDGE_WEIGHT_SECTION
0 10 20
11 0 12
21 13 0
DEMAND_SECTION
1 0
2 5
3 4
TIME_WINDOW_SECTION
1 0 1000
2 0 500
3 100 600
SERVICE_TIME_SECTION
1 0
2 5
3 5
DEPOT_SECTION
1
-1
EOF
"""
NEUTRAL_SECTIONS = """PRIZE_SECTION
1 0
2 0
3 0
RELEASE_TIME_SECTION
1 0
2 0
3 0
VEHICLES_DEPOT_SECTION
1 1
2 1
VEHICLES_UNIT_DISTANCE_COST_SECTION
1 1
2 1
VEHICLES_FIXED_COST_SECTION
1 0
2 0
VEHICLES_ALLOWED_CLIENTS_SECTION
1 2 3
2 3 2
"""


def write(tmp_path, text: str):
    path = tmp_path / "small.txt"
    path.write_text(text)
    return path


def test_neutral_sections_and_a_uniform_capacity_section_read_as_the_plain_file(tmp_path):
    plain = read(write(tmp_path, OK_SMALL))
    text = OK_SMALL.replace("CAPACITY : 10\n", "").replace("DEPOT_SECTION", NEUTRAL_SECTIONS + "CAPACITY_SECTION\n"
                                                           "1 10\n2 10\nDEPOT_SECTION")
    assert read(write(tmp_path, text)) == plain
    assert plain.kind is ACVRPTW and plain.num_vehicles == 2


NO_WINDOWS = ("TIME_WINDOW_SECTION\n1 0 1000\n2 0 500\n3 100 600\n", "")


@pytest.mark.parametrize("changes, words", [
    ([("DEPOT_SECTION", "VEHICLES_BREAK_SECTION\n1 5\n2 5\nDEPOT_SECTION")],
     ["VEHICLES_BREAK_SECTION: unknown to hybridroute's reader", "refused rather than ignored"]),
    ([("DEPOT_SECTION", "VEHICLES_DEPOT_SECTION\n1 1\n2 3\nDEPOT_SECTION")],
     ["VEHICLES_DEPOT_SECTION: vehicles based at nodes 1, 3"]),
    ([("NAME : TEST", "NAME : TEST\nTYPE : SOMEVRP")], ["TYPE SOMEVRP is not a problem type hybridroute reads"]),
    ([("NAME : TEST", "NAME : TEST\nTYPE : CVRPTW"), NO_WINDOWS], ["TYPE CVRPTW needs a TIME_WINDOW_SECTION"]),
    ([("NAME : TEST", "NAME : TEST\nTYPE : CVRP"), ("DEMAND_SECTION\n1 0\n2 5\n3 4\n", ""), NO_WINDOWS],
     ["missing DEMAND_SECTION"]),
])
def test_small_refusals(tmp_path, changes, words):
    text = OK_SMALL
    for change in changes:
        assert change[0] in text
        text = text.replace(*change)
    path = write(tmp_path, text)
    with pytest.raises(FormatError) as excinfo:
        read(path)
    message = str(excinfo.value)
    assert message.startswith(f"{path}: ")
    for w in words:
        assert w in message, message


DEPOT_TWO = """NAME : TEST
DIMENSION : 3
EDGE_WEIGHT_TYPE : EXPLICIT
EDGE_WEIGHT_FORMAT : FULL_MATRIX
CAPACITY : 10
EDGE_WEIGHT_SECTION
0 10 20
11 0 12
21 13 0
DEMAND_SECTION
1 5
2 0
3 4
TIME_WINDOW_SECTION
1 0 500
2 0 1000
3 100 600
DEPOT_SECTION
2
-1
EOF
"""


def test_depot_position(tmp_path):
    # No DEPOT_SECTION: node 1 is the depot, as in PyVRP.
    no_section = read(write(tmp_path, OK_SMALL.replace("DEPOT_SECTION\n1\n-1\n", "")))
    assert no_section == read(write(tmp_path, OK_SMALL))
    # A single depot elsewhere is moved to index 0, as for the Fischetti files.
    moved = read(write(tmp_path, DEPOT_TWO))
    assert moved.ids.tolist() == [2, 1, 3]
    assert moved.distance.tolist() == [[0, 11, 12], [10, 0, 20], [13, 21, 0]]
    assert moved.time_windows.tolist() == [[0, 1000], [0, 500], [100, 600]]
    assert moved.demand.tolist() == [0, 5, 4] and moved.service_time.tolist() == [0, 0, 0]
