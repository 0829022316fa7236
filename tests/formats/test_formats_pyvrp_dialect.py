"""PyVRP's VRPLIB dialect: the instance files of PyVRP's test suite (../shared/data/benchmarks/
pyvrp_dialect/) each read as a Problem, with its depots, vehicle types and optional stops, or
are refused with a FormatError naming the file and the section or feature hybridroute does not
model; the readable ones agree with PyVRP's own reader, and their .sol files evaluate as
feasible at the cost they state."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from support import SHARED, require_shared

import hybridroute as hr
from hybridroute.formats import FormatError, read, read_solution, read_vrplib
from hybridroute.formats import read_vrplib_fleet

DIALECT = SHARED / "data" / "benchmarks" / "pyvrp_dialect"
SOLOMON = SHARED / "data" / "benchmarks" / "vrptw_solomon"
ACVRP, ACVRPTW = hr.ProblemKind.ACVRP, hr.ProblemKind.ACVRPTW

# file -> (kind, nodes, depots, features, capacity, num_vehicles, first depot's window or None)
READ = {
    "E-n22-k4.txt": (ACVRP, 22, 1, set(), 6000, None, None),
    "OkSmall.txt": (ACVRPTW, 5, 1, set(), 10, 3, [0, 45000]),
    "OkSmallWaitTime.txt": (ACVRPTW, 5, 1, set(), 10, 3, [0, 45000]),
    "ServiceTimeSpecification.txt": (ACVRPTW, 5, 1, set(), 10, 3, [0, 45000]),
    "RC208.vrp": (ACVRPTW, 101, 1, set(), 1000, 25, [0, 960]),
    # its 1→5 entry is 1e16, but node 5 is reachable through node 4 (the build-time check
    # uses shortest paths, not the direct trip)
    "ReallyLargeDistance.txt": (ACVRPTW, 5, 1, set(), 10, 3, [0, 45000]),
    "OkSmallMaxDistance.txt": (ACVRP, 5, 1, {"max_distance"}, 10, 3, None),
    "OkSmallMultipleDepots.txt": (ACVRPTW, 5, 2, {"multiple_depots", "vehicle_types"}, 10, 3, [0, 45000]),
    "OkSmallPrizes.txt": (ACVRPTW, 5, 1, {"optional_stops"}, 10, 3, [0, 45000]),
    # Cordeau's multi-depot VRPTW in PyVRP's dialect: one type per depot, 10 vehicles each
    "PR11A.vrp": (ACVRPTW, 364, 4, {"multiple_depots", "vehicle_types", "max_duration"}, 200, 40, [0, 1000]),
    # capacitated profitable tour problem: every client optional, with a prize
    "p06-2-50.vrp": (ACVRP, 51, 1, {"optional_stops"}, 50, 2, None),
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
    "OkSmallMultipleLoad.txt": ["multiple load dimensions: DEMAND_SECTION has 2 values per node",
                                "CAPACITY_SECTION has 2 values per vehicle"],
    "OkSmallReleaseTimes.txt": ["RELEASE_TIME_SECTION: release times are not modelled (4 of 4 clients"],
    "OkSmallUnitDistanceCost.txt": ["VEHICLES_UNIT_DISTANCE_COST_SECTION: per-vehicle distance costs (1, 2, 3)"],
    # its heterogeneous capacities and duration limit are modelled; its client restrictions are not
    "PR01.vrp": ["TYPE SDVRPTW", "VEHICLES_ALLOWED_CLIENTS_SECTION: client restrictions per vehicle",
                 "vehicle 1 may not serve node 14"],
    "TimeWindowOpenLargerThanClose.txt": ["TIME_WINDOW_SECTION: node 2 opens at 10, after it closes at 5"],
    "UnknownEdgeWeightFmt.txt": ["EDGE_WEIGHT_FORMAT UPPER_ROW is not supported"],
    "UnknownEdgeWeightType.txt": ["EDGE_WEIGHT_TYPE EUC_3D is not supported"],
    # its capacities and fixed costs are modelled; its per-type distance costs are not
    "X115-HVRP.vrp": ["TYPE HFVRP", "VEHICLES_UNIT_DISTANCE_COST_SECTION: per-vehicle distance costs (58, 100, 147)"],
}
# .sol -> (its instance, the cost PyVRP's own reader gives it, in the Problem's units).
# OkSmall.sol states no cost: 9725 = (1544 + 1992 + 1965) + (1931 + 818 + 1475).
# OkSmallMultipleDepots.sol neither: 7748 = (1944 + 1965) [depot 1 -> 3 -> 1] +
# (1427 + 818 + 1594) [depot 2 -> 4 -> 5 -> 2].
SOLUTIONS = {
    "RC208.sol": ("RC208.vrp", 776.1),
    "OkSmall.sol": ("OkSmall.txt", 9725),
    "OkSmallMultipleDepots.sol": ("OkSmallMultipleDepots.txt", 7748),
    "C201R0.25.sol": ("C201R0.25.vrp", None),  # reloads and release times: refused (REFUSED)
    "X115-HVRP.sol": ("X115-HVRP.vrp", None),  # per-type distance costs: see test_x115_fleet_...
}


def dialect(name: str):
    return require_shared("data", "benchmarks", "pyvrp_dialect", name)


def without_section(tmp_path, name: str, section: str):
    """A copy of a dialect file without one of its sections (to read the rest of it), and
    without its TYPE line, which names the section's feature (PR01's SDVRPTW: site-dependent)."""
    text = dialect(name).read_text()
    stripped, count = re.subn(rf"^{section}\n(?:[ \t]*\d[^\n]*\n)+", "", text, flags=re.MULTILINE)
    assert count == 1, f"{section} not found in {name}"
    stripped = re.sub(r"^TYPE\s*:.*\n", "", stripped, flags=re.MULTILINE)
    path = tmp_path / name
    path.write_text(stripped)
    return path


def test_every_file_is_covered():
    folder = require_shared("data", "benchmarks", "pyvrp_dialect")
    names = {p.name for p in folder.iterdir()} - {"README.md"}
    assert names == set(READ) | set(REFUSED) | set(SOLUTIONS)
    assert not set(READ) & set(REFUSED)


@pytest.mark.parametrize("name", sorted(READ))
def test_instance_reads(name):
    kind, n, depots, features, capacity, vehicles, depot_window = READ[name]
    problem = read(dialect(name))
    assert (problem.kind, problem.num_nodes, problem.num_depots) == (kind, n, depots)
    assert problem.features == features
    assert (problem.capacity, problem.num_vehicles) == (capacity, vehicles)
    assert problem.ids.tolist() == list(range(1, n + 1))  # the depots are the first nodes in all of them
    if depot_window is None:
        assert problem.time_windows is None
        assert problem.duration is None
    else:
        assert problem.time_windows[0].tolist() == depot_window
        assert np.array_equal(problem.duration, problem.distance)
        assert problem.service_time[:depots].tolist() == [0] * depots


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


def test_multiple_depots_make_one_type_per_depot():
    problem = read(dialect("OkSmallMultipleDepots.txt"))
    assert list(problem.depots) == [0, 1] and list(problem.customers) == [2, 3, 4]
    assert problem.vehicle_types == (hr.VehicleType(count=2, capacity=10, start_depot=0),
                                     hr.VehicleType(count=1, capacity=10, start_depot=1))
    # node 2 was a customer turned into a depot: its window is its opening hours
    assert problem.time_windows[1].tolist() == [5000, 20000]
    assert problem.route_window(1) == (5000, 20000)
    assert problem.demand.tolist() == [0, 0, 5, 3, 5]
    assert read_vrplib_fleet(dialect("OkSmallMultipleDepots.txt")).type_of_vehicle == (0, 0, 1)


def test_cordeau_multi_depot_vrptw():
    problem = read(dialect("PR11A.vrp"))
    assert problem.vehicle_types == tuple(hr.VehicleType(count=10, capacity=200, start_depot=d, max_duration=450)
                                          for d in range(4))
    assert problem.time_windows[:4].tolist() == [[0, 1000]] * 4
    assert read_vrplib_fleet(dialect("PR11A.vrp")).type_of_vehicle == tuple(np.repeat(range(4), 10))


def test_prizes_make_optional_stops():
    # "2 is required": its prize is 0; the others may be left out at their prize
    small = read(dialect("OkSmallPrizes.txt"))
    assert small.required.tolist() == [True, True, False, False, False]
    assert small.prize.tolist() == [0, 0, 15, 10, 10]
    assert list(small.optional) == [2, 3, 4]
    cptp = read(dialect("p06-2-50.vrp"))
    assert not cptp.required[1:].any()
    assert cptp.prize[[1, 2, 50]].tolist() == [5, 23, 13]
    # leaving every client out costs every prize
    empty = hr.evaluate(cptp, [])
    assert empty.status is hr.Status.FEASIBLE and empty.cost == cptp.prize.sum()


def test_max_distance_without_windows():
    problem = read(dialect("OkSmallMaxDistance.txt"))
    assert problem.vehicle_types == (hr.VehicleType(count=3, capacity=10, max_distance=5000),)
    assert problem.demand.tolist() == [0] * 5  # no DEMAND_SECTION
    # 1 -> 2 -> 3 -> 4 -> 5 -> 1 drives 1544 + 1992 + 621 + 818 + 1475 = 6450 > 5000
    sol = hr.evaluate(problem, [[1, 2, 3, 4]])
    assert [v.kind for v in sol.violations] == ["max_distance"]
    # 1 -> 2 -> 1 drives 1544 + 1726 = 3270; 1 -> 3 -> 4 -> 5 -> 1 drives 1944 + 621 + 818 + 1475 = 4858
    assert hr.evaluate(problem, [[1], [2, 3, 4]]).status is hr.Status.FEASIBLE


def test_heterogeneous_fleet_with_duration_limits(tmp_path):
    # PR01 without its client restrictions: four capacities, two vehicles each
    path = without_section(tmp_path, "PR01.vrp", "VEHICLES_ALLOWED_CLIENTS_SECTION")
    problem = read(path)
    assert problem.features == {"vehicle_types", "max_duration"}
    assert problem.vehicle_types == tuple(hr.VehicleType(count=2, capacity=c, max_duration=500)
                                          for c in (100, 150, 200, 250))
    assert problem.capacity is None and problem.num_vehicles == 8
    assert read_vrplib_fleet(path).type_of_vehicle == (0, 0, 1, 1, 2, 2, 3, 3)


@pytest.mark.parametrize("name", sorted(SOLUTIONS))
def test_solution_is_feasible_at_its_cost(name):
    instance, cost = SOLUTIONS[name]
    if cost is None:  # its instance is refused (listed in REFUSED)
        with pytest.raises(FormatError):
            read(dialect(instance))
        return
    problem = read(dialect(instance))
    ref = read_solution(dialect(name), problem)
    # Route #k is the file's vehicle k (empty routes included), as PyVRP reads it.
    types = read_vrplib_fleet(dialect(instance)).type_of_vehicle[:len(ref.routes)]
    assert len(types) == len(ref.routes)
    sol = hr.evaluate(problem, ref.routes, vehicle_types=types)
    assert sol.status is hr.Status.FEASIBLE and sol.violations == ()
    assert sol.cost == pytest.approx(cost, abs=1e-6)
    assert ref.cost in (None, cost)
    assert sol.num_routes == len([r for r in ref.routes if r]) <= problem.num_vehicles


X115_UNIT_COST = (58, 100, 147)  # per type: its VEHICLES_UNIT_DISTANCE_COST_SECTION


@pytest.mark.parametrize("rounding, scale, cost, tolerance", [
    # PyVRP's cost of the .sol with round_func="round"
    ("nint", 1, 1_941_093, 0),
    # the .sol's stated Cost: PyVRP's with round_func="exact" (every value times 1000, each
    # arc rounded, so the sum differs from full precision by a few thousandths per arc)
    ("exact", 1000, 1_941_256_006, 50),
])
def test_x115_fleet_and_solution_without_distance_costs(tmp_path, rounding, scale, cost, tolerance):
    """X115-HVRP is refused for its per-type distance costs; without them it reads, and its .sol
    is feasible for the fleet it gives, at the stated cost once those costs are applied."""
    path = without_section(tmp_path, "X115-HVRP.vrp", "VEHICLES_UNIT_DISTANCE_COST_SECTION")
    problem = read_vrplib(path, rounding=rounding)
    assert problem.features == {"vehicle_types", "fixed_costs"}
    assert problem.vehicle_types == (hr.VehicleType(count=11, capacity=54, fixed_cost=14600),
                                     hr.VehicleType(count=7, capacity=131, fixed_cost=43600),
                                     hr.VehicleType(count=1, capacity=322, fixed_cost=125200))
    ref = read_solution(dialect("X115-HVRP.sol"), problem)
    assert len(ref.routes) == 19 and ref.cost == 1_941_256_006
    types = read_vrplib_fleet(path).type_of_vehicle
    sol = hr.evaluate(problem, ref.routes, vehicle_types=types)
    assert sol.status is hr.Status.FEASIBLE and sol.violations == ()
    assert sol.vehicle_types == (0,) * 6 + (1,) * 7 + (2,)  # routes 7-11 are empty
    assert sol.fixed_cost == 6 * 14600 + 7 * 43600 + 125200
    assert sol.cost == pytest.approx(sol.distance + sol.fixed_cost)
    weighted = sum(X115_UNIT_COST[r.vehicle_type] * r.distance for r in sol.route_stats)
    assert scale * (weighted + sol.fixed_cost) == pytest.approx(cost, abs=tolerance)
    # The same routes with the vehicle types in another order overload the small vehicles.
    swapped = hr.evaluate(problem, ref.routes, vehicle_types=types[::-1])
    assert "capacity" in {v.kind for v in swapped.violations}


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


# PyVRP reads RC208 with DIMACS rounding (every value times 10, truncated): its unit is 1/10.
PYVRP_ROUNDING = {"RC208.vrp": ("dimacs", 10), "PR11A.vrp": ("dimacs", 10), "PR01.vrp": ("dimacs", 10),
                  "E-n22-k4.txt": ("round", 1), "p06-2-50.vrp": ("round", 1), "X115-HVRP.vrp": ("round", 1)}
# Refused files that read once a section hybridroute does not model is taken out.
DERIVED = {"PR01.vrp": "VEHICLES_ALLOWED_CLIENTS_SECTION", "X115-HVRP.vrp": "VEHICLES_UNIT_DISTANCE_COST_SECTION"}
_PYVRP_NO_LIMIT = np.iinfo(np.int64).max


def _limit(value, scale):
    """A hybridroute limit as PyVRP stores it (None / inf: no limit)."""
    return _PYVRP_NO_LIMIT if value is None or math.isinf(value) else value * scale


@pytest.mark.parametrize("name", sorted(READ) + sorted(DERIVED))
def test_agrees_with_pyvrps_reader(name, tmp_path):
    pyvrp = pytest.importorskip("pyvrp")
    path = without_section(tmp_path, name, DERIVED[name]) if name in DERIVED else dialect(name)
    round_func, scale = PYVRP_ROUNDING.get(name, ("none", 1))
    data = pyvrp.read(path, round_func=round_func)
    problem = read(path)
    assert (problem.num_depots, problem.num_customers) == (data.num_depots, data.num_clients)
    assert np.array_equal(np.round(problem.distance * scale), data.distance_matrix(0))
    clients = data.clients()
    customers = list(problem.customers)
    assert np.array_equal(problem.demand[customers] * scale, [c.delivery[0] for c in clients])
    assert np.array_equal(problem.prize[customers] * scale, [c.prize for c in clients])
    assert problem.required[customers].tolist() == [c.required for c in clients]
    assert len(problem.vehicle_types) == data.num_vehicle_types
    for t, (ours, theirs) in enumerate(zip(problem.vehicle_types, data.vehicle_types())):
        assert (ours.count or problem.num_customers) == theirs.num_available
        assert ours.capacity * scale == theirs.capacity[0]
        assert (ours.start_depot, ours.end) == (theirs.start_depot, theirs.end_depot)
        assert _limit(ours.max_distance, scale) == theirs.max_distance
        assert _limit(ours.max_duration, scale) == theirs.shift_duration
        assert ours.fixed_cost * scale == theirs.fixed_cost
        if problem.time_windows is not None:
            early, late = problem.route_window(t)
            assert (early * scale, _limit(late, scale)) == (theirs.tw_early, theirs.tw_late)
    if problem.time_windows is not None:
        late = [_limit(w, scale) for w in problem.time_windows[customers, 1]]
        assert np.array_equal(problem.time_windows[customers, 0] * scale, [c.tw_early for c in clients])
        assert late == [c.tw_late for c in clients]
        assert np.array_equal(problem.service_time[customers] * scale, [c.service_duration for c in clients])
    sol_name = name.rsplit(".", 1)[0] + ".sol"
    if SOLUTIONS.get(sol_name, (None, None))[1] is not None:
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


def test_vehicles_are_grouped_into_types_in_order_of_appearance(tmp_path):
    # as PyVRP groups them: one type per distinct (capacity, depot, limits, fixed cost)
    sections = ("CAPACITY_SECTION\n1 10\n2 20\n3 10\n"
                "VEHICLES_FIXED_COST_SECTION\n1 7\n2 0\n3 7\n")
    text = OK_SMALL.replace("CAPACITY : 10\n", "").replace("VEHICLES : 2", "VEHICLES : 3\nVEHICLES_MAX_DURATION : 900")
    path = write(tmp_path, text.replace("DEPOT_SECTION", sections + "DEPOT_SECTION"))
    problem = read(path)
    assert problem.vehicle_types == (hr.VehicleType(count=2, capacity=10, fixed_cost=7, max_duration=900),
                                     hr.VehicleType(count=1, capacity=20, max_duration=900))
    assert problem.features == {"vehicle_types", "fixed_costs", "max_duration"}
    assert read_vrplib_fleet(path).type_of_vehicle == (0, 1, 0)
    # the fixed cost counts once per used route, in the file's distance units
    sol = hr.evaluate(problem, [[1], [2]], vehicle_types=[0, 1])
    assert sol.fixed_cost == 7 and sol.cost == (10 + 11) + (20 + 21) + 7


def test_a_duration_limit_without_windows_opens_every_window(tmp_path):
    text = OK_SMALL.replace(*NO_WINDOWS).replace("VEHICLES : 2", "VEHICLES : 2\nVEHICLES_MAX_DURATION : 50")
    problem = read(write(tmp_path, text))
    assert problem.kind is ACVRPTW and np.array_equal(problem.duration, problem.distance)
    assert problem.time_windows.tolist() == [[0, math.inf]] * 3
    assert problem.service_time.tolist() == [0, 5, 5]  # they count towards the limit, as in PyVRP
    # 0 -> 1 -> 2 -> 0 takes 10 + 5 + 12 + 5 + 21 = 53 > 50
    assert [v.kind for v in hr.evaluate(problem, [[1, 2]]).violations] == ["max_duration"]
    assert hr.evaluate(problem, [[1], [2]]).status is hr.Status.FEASIBLE  # 26 and 46


def test_a_single_depot_elsewhere_keeps_its_vehicles(tmp_path):
    text = DEPOT_TWO.replace("CAPACITY : 10", "CAPACITY : 10\nVEHICLES : 2").replace(
        "DEPOT_SECTION", "VEHICLES_DEPOT_SECTION\n1 2\n2 2\nVEHICLES_MAX_DISTANCE_SECTION\n1 50\n2 60\nDEPOT_SECTION")
    problem = read(write(tmp_path, text))
    assert problem.ids.tolist() == [2, 1, 3]
    assert problem.vehicle_types == (hr.VehicleType(count=1, capacity=10, max_distance=50),
                                     hr.VehicleType(count=1, capacity=10, max_distance=60))


NO_WINDOWS = ("TIME_WINDOW_SECTION\n1 0 1000\n2 0 500\n3 100 600\n", "")


@pytest.mark.parametrize("changes, words", [
    ([("DEPOT_SECTION", "VEHICLES_BREAK_SECTION\n1 5\n2 5\nDEPOT_SECTION")],
     ["VEHICLES_BREAK_SECTION: unknown to hybridroute's reader", "refused rather than ignored"]),
    ([("DEPOT_SECTION", "VEHICLES_DEPOT_SECTION\n1 1\n2 3\nDEPOT_SECTION")],
     ["VEHICLES_DEPOT_SECTION: vehicle 2 is based at node 3, which is not a depot (DEPOT_SECTION lists 1)"]),
    ([("DEPOT_SECTION\n1\n-1", "DEPOT_SECTION\n1\n3\n-1")],
     ["DEPOT_SECTION lists 2 depots (1 and 3): several depots must be the lowest node numbers 1..2"]),
    ([("DEPOT_SECTION\n1\n-1", "DEPOT_SECTION\n2\n1\n-1")],
     ["DEPOT_SECTION lists 2 depots (2 and 1): several depots must be the lowest node numbers 1..2, in order"]),
    ([("DEPOT_SECTION", "VEHICLES_MAX_DISTANCE_SECTION\n1 5 6\n2 5 6\nDEPOT_SECTION")],
     ["VEHICLES_MAX_DISTANCE_SECTION must hold one number per vehicle"]),
    ([("CAPACITY : 10\n", ""), ("DEPOT_SECTION", "CAPACITY_SECTION\n1 10\n2 0\nDEPOT_SECTION")],
     ["invalid instance data: CAPACITY_SECTION of vehicle 2: must be positive, got 0"]),
    ([("DEPOT_SECTION", "PRIZE_SECTION\n1 0\n2 5\nDEPOT_SECTION")],
     ["PRIZE_SECTION must hold one number per node (DIMENSION 3)"]),
    ([("CAPACITY : 10", "CAPACITY : 10\nVEHICLES_MAX_RELOADS : 2")],
     ["VEHICLES_MAX_RELOADS: several trips per vehicle (reloading at a depot) are not modelled"]),
    ([("DEPOT_SECTION", "MUTUALLY_EXCLUSIVE_GROUP_SECTION\n1 2 3\nDEPOT_SECTION")],
     ["MUTUALLY_EXCLUSIVE_GROUP_SECTION: groups of clients of which only one is served are not modelled"]),
    ([("CAPACITY : 10", "CAPACITY : 10\nDISTANCE : 50")],
     ["DISTANCE: a maximum route length (CVRPLIB's DISTANCE header; use VEHICLES_MAX_DISTANCE) (50) is not "
      "modelled"]),
    ([("DEPOT_SECTION", "RELEASE_TIME_SECTION\n1 0\n2 0\n3 7\nDEPOT_SECTION")],
     ["RELEASE_TIME_SECTION: release times are not modelled (1 of 2 clients are released after time 0)"]),
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
