"""The fleet model: vehicle types, depots, optional stops, shifts, limits, costs, breaks.

Validation names the field and the index; the evaluator is the one truth for every feature.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import hybridroute as hr
from hybridroute import Break, VehicleType
from hybridroute._enumerate import optimum_by_enumeration
from hybridroute.fleet import FEATURES
from hybridroute.testing import fleet_optimum, fleet_problems


def _line(n: int) -> np.ndarray:
    """Nodes on a line 100 m apart, going back costs 1.5x."""
    x = np.arange(n) * 100.0
    d = np.abs(x[:, None] - x[None])
    return np.where(x[:, None] > x[None], d * 1.5, d)


@pytest.fixture
def line5():
    d = _line(5)
    return d, d / 10.0  # 10 m/s


# -- VehicleType and Break -------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, field", [
    ({"count": 0}, "count"), ({"count": 1.5}, "count"), ({"count": True}, "count"),
    ({"capacity": -1}, "capacity"), ({"capacity": "10"}, "capacity"), ({"capacity": math.nan}, "capacity"),
    ({"start_depot": -1}, "start_depot"), ({"end_depot": 1.0}, "end_depot"),
    ({"shift": (100, 50)}, "shift"), ({"shift": 5}, "shift"), ({"shift": (0, math.nan)}, "shift"),
    ({"max_duration": 0}, "max_duration"), ({"max_distance": -5}, "max_distance"),
    ({"fixed_cost": -1}, "fixed_cost"),
    ({"breaks": [(10, 5, 1)]}, "latest"), ({"breaks": [(1, 2)]}, "breaks"), ({"breaks": "lunch"}, "breaks"),
])
def test_vehicle_type_refuses_bad_fields_by_name(kwargs, field):
    with pytest.raises(ValueError, match=f"^{field}:"):
        VehicleType(**kwargs)


def test_vehicle_type_normalises_its_fields():
    vt = VehicleType(count=2.0, capacity=10, shift=(0, math.inf), breaks=[(300, 400, 30), Break(100, 200, 15)])
    assert vt.count == 2 and isinstance(vt.count, int)
    assert vt.shift == (0.0, math.inf) and vt.end == 0
    assert [b.earliest for b in vt.breaks] == [100.0, 300.0]  # sorted by earliest start
    assert vt.features == {"shifts", "breaks"}
    assert VehicleType(count=3, capacity=5).is_shorthand and not vt.is_shorthand


def test_vehicle_type_from_a_dict_names_unknown_keys():
    assert VehicleType.coerce({"count": 2, "capacity": 4}) == VehicleType(count=2, capacity=4)
    with pytest.raises(ValueError, match="capacty"):
        VehicleType.coerce({"capacty": 4})


# -- Problem validation ------------------------------------------------------------------------

def test_shorthand_is_one_vehicle_type_and_equal_to_it(line5):
    d, t = line5
    short = hr.Problem("ACVRP", d, t, demand=[0, 1, 1, 1, 1], capacity=3, num_vehicles=2)
    full = hr.Problem("ACVRP", d, t, demand=[0, 1, 1, 1, 1], vehicle_types=[VehicleType(count=2, capacity=3)])
    assert short.vehicle_types == (VehicleType(count=2, capacity=3),)
    assert short == full and short.features == frozenset()
    assert full.capacity == 3 and full.num_vehicles == 2
    assert short.to_dict() == full.to_dict() and "vehicle_types" not in short.to_dict()


def test_fleet_fields_round_trip_through_json(line5):
    d, t = line5
    p = hr.Problem("ACVRPTW", d, t, demand=[0, 0, 1, 2, 3], num_depots=2,
                   time_windows=[[0, 1000]] * 5, required=[1, 1, 1, 0, 1], prize=[0, 0, 0, 55.5, 0],
                   vehicle_types=[VehicleType(count=1, capacity=4, end_depot=1, shift=(10, 900), name="van",
                                              breaks=[(100, 200, 30)], max_duration=800, fixed_cost=5),
                                  VehicleType(count=None, capacity=9, start_depot=1, max_distance=5000)])
    assert hr.Problem.from_json(p.to_json()) == p
    assert p.features == {"multiple_depots", "vehicle_types", "optional_stops", "shifts", "max_duration",
                          "max_distance", "fixed_costs", "breaks"}
    assert set(p.features) <= set(FEATURES)
    assert list(p.customers) == [2, 3, 4] and list(p.depots) == [0, 1] and p.num_customers == 3
    assert p.capacity is None and p.num_vehicles is None
    assert p.prize.tolist() == [0, 0, 0, 55.5, 0] and p.optional.tolist() == [3]


@pytest.mark.parametrize("kwargs, field, index", [
    ({"vehicle_types": [VehicleType(capacity=5), VehicleType(capacity=5, start_depot=2)]}, "vehicle_types", 1),
    ({"vehicle_types": [VehicleType()]}, "vehicle_types", 0),  # no capacity for ACVRP
    ({"vehicle_types": [{"count": 1, "capacity": -3}]}, "vehicle_types", 0),
    ({"vehicle_types": [VehicleType(capacity=5, name="a"), VehicleType(capacity=5, name="a")]}, "vehicle_types", 1),
    ({"vehicle_types": []}, "vehicle_types", None),
    ({"vehicle_types": [VehicleType(capacity=5)], "capacity": 5}, "capacity", None),
    ({"num_depots": 0}, "num_depots", None),
    ({"num_depots": 5}, "num_depots", None),
    ({"required": [True, False, True, True, True]}, "required", 1),  # node 1 is a depot here
    ({"required": [1, 1, 2, 1, 1]}, "required", 2),
    ({"prize": [0, 0, -1, 0, 0]}, "prize", 2),
])
def test_problem_refuses_bad_fleet_fields_with_field_and_index(line5, kwargs, field, index):
    d, t = line5
    base = {"demand": [0, 0, 1, 1, 1], "num_depots": 2}
    if "vehicle_types" not in kwargs:
        base["capacity"] = 5
    with pytest.raises(hr.ProblemValidationError) as err:
        hr.Problem("ACVRP", d, t, **{**base, **kwargs})
    assert err.value.field == field and err.value.index == index


def test_fleet_fields_are_refused_for_atsp(line5):
    d, _ = line5
    for kwargs in ({"num_depots": 2}, {"required": [True] * 5}, {"vehicle_types": [VehicleType()]}):
        with pytest.raises(hr.ProblemValidationError, match="ATSP"):
            hr.Problem("ATSP", d, **kwargs)


def test_time_features_need_a_duration_matrix(line5):
    d, _ = line5
    with pytest.raises(hr.ProblemValidationError, match="shift: needs a duration matrix") as err:
        hr.Problem("ACVRP", d, demand=[0, 1, 1, 1, 1], vehicle_types=[VehicleType(capacity=5, shift=(0, 10))])
    assert err.value.index == 0


def test_required_stop_heavier_than_every_type_is_refused_optional_one_accepted(line5):
    d, t = line5
    types = [VehicleType(capacity=3), VehicleType(capacity=5, name="truck")]
    with pytest.raises(hr.ProblemValidationError, match="exceeds every vehicle type's capacity") as err:
        hr.Problem("ACVRP", d, t, demand=[0, 1, 9, 1, 1], vehicle_types=types)
    assert (err.value.field, err.value.index) == ("demand", 2)
    p = hr.Problem("ACVRP", d, t, demand=[0, 1, 9, 1, 1], vehicle_types=types, required=[1, 1, 0, 1, 1])
    assert p.unservable() == {2: ("demand", "type 0: demand 9 exceeds the capacity 3; "
                                            "type 1 (truck): demand 9 exceeds the capacity 5")}


def test_a_stop_one_type_can_serve_is_accepted(line5):
    d, t = line5
    # the van's shift ends at 50 s: stop 4 (40 s out, 60 s back) needs the truck
    p = hr.Problem("ACVRP", d, t, demand=[0, 1, 1, 1, 1],
                   vehicle_types=[VehicleType(capacity=5, shift=(0, 50), name="van"), VehicleType(capacity=5)])
    assert 4 not in p.unservable()
    with pytest.raises(hr.ProblemValidationError, match="after the shift ends at 50 s") as err:
        hr.Problem("ACVRP", d, t, demand=[0, 1, 1, 1, 1], vehicle_types=[VehicleType(capacity=5, shift=(0, 50))])
    assert (err.value.field, err.value.index) == ("shift", 3)


@pytest.mark.parametrize("limit, field, match", [
    ({"max_duration": 30}, "max_duration", "above max_duration 30 s"),
    ({"max_distance": 300}, "max_distance", "above max_distance 300 m"),
])
def test_stop_beyond_every_route_limit_is_refused(line5, limit, field, match):
    d, t = line5
    with pytest.raises(hr.ProblemValidationError, match=match) as err:
        hr.Problem("ACVRP", d, t, demand=[0, 1, 1, 1, 1], vehicle_types=[VehicleType(capacity=5, **limit)])
    assert err.value.field == field and err.value.index == 2


def test_fleet_too_small_for_the_required_demand(line5):
    d, t = line5
    types = [VehicleType(count=1, capacity=2), VehicleType(count=1, capacity=1)]
    with pytest.raises(hr.ProblemValidationError, match="total capacity 3 cannot carry the required demand 4"):
        hr.Problem("ACVRP", d, t, demand=[0, 1, 1, 1, 1], vehicle_types=types)
    # leaving stops optional makes it a valid problem
    hr.Problem("ACVRP", d, t, demand=[0, 1, 1, 1, 1], vehicle_types=types, required=[1, 1, 1, 1, 0])


def test_shift_outside_the_depot_hours_is_refused(line5):
    d, t = line5
    with pytest.raises(hr.ProblemValidationError, match="do not overlap") as err:
        hr.Problem("ACVRPTW", d, t, demand=[0, 1, 1, 1, 1], time_windows=[[0, 100]] * 5,
                   vehicle_types=[VehicleType(capacity=5), VehicleType(capacity=5, shift=(200, 300))])
    assert (err.value.field, err.value.index) == ("vehicle_types", 1)


# -- the evaluator -----------------------------------------------------------------------------

def test_routes_need_their_types_when_there_are_several(line5):
    d, t = line5
    p = hr.Problem("ACVRP", d, t, demand=[0, 1, 1, 1, 1],
                   vehicle_types=[VehicleType(capacity=2), VehicleType(capacity=4)])
    with pytest.raises(ValueError, match="give the type"):
        hr.evaluate(p, [[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="2 types for 3 routes"):
        hr.evaluate(p, [[1, 2], [3, 4], []], vehicle_types=[0, 1])
    with pytest.raises(TypeError, match=r"vehicle_types\[1\]"):
        hr.evaluate(p, [[1, 2], [3, 4]], vehicle_types=[0, "big"])
    sol = hr.evaluate(p, [[1, 2], [], [3, 4]], vehicle_types=[1, 0, 0])
    assert sol.is_feasible and sol.vehicle_types == (1, 0)  # the empty route's type goes with it
    bad = hr.evaluate(p, [[1, 2, 3], [4]], vehicle_types=[0, 7])
    assert {v.kind for v in bad.violations} == {"vehicle_type"}  # not scheduled: its type is unknown


def test_capacity_and_count_are_per_type(line5):
    d, t = line5
    p = hr.Problem("ACVRP", d, t, demand=[0, 1, 1, 1, 1],
                   vehicle_types=[VehicleType(count=1, capacity=1), VehicleType(count=2, capacity=3)])
    sol = hr.evaluate(p, [[1, 2], [3], [4]], vehicle_types=[0, 0, 1])
    kinds = sorted(v.kind for v in sol.violations)
    assert kinds == ["capacity", "too_many_routes"]
    assert "type 0" in next(v.message for v in sol.violations if v.kind == "too_many_routes")


def test_two_depots_start_and_end_where_the_type_says():
    d = _line(5)
    p = hr.Problem("ACVRP", d, d / 10, demand=[0, 0, 1, 1, 1], num_depots=2,
                   vehicle_types=[VehicleType(capacity=5, start_depot=0, end_depot=1)])
    sol = hr.evaluate(p, [[2, 3, 4]])
    st = sol.route_stats[0]
    assert (st.start_depot, st.end_depot) == (0, 1)
    # 0 -> 2 (200) -> 3 (100) -> 4 (100) -> 1 (300 back, x1.5 = 450)
    assert sol.distance == pytest.approx(200 + 100 + 100 + 450)
    assert "depot 1" in hr.evaluate(p, [[1, 2, 3, 4]]).violations[0].message


def test_optional_stops_cost_their_prize_when_left_out(line5):
    d, t = line5
    p = hr.Problem("ACVRP", d, t, demand=[0, 1, 1, 1, 1], capacity=5,
                   required=[1, 1, 1, 0, 0], prize=[0, 0, 0, 70, 1000])
    sol = hr.evaluate(p, [[1, 2, 4]])
    assert sol.is_feasible and sol.unserved == (3,)
    assert sol.unserved_prize == 70 and sol.cost == pytest.approx(sol.distance + 70)
    missing = hr.evaluate(p, [[1, 3, 4]])
    assert [v.kind for v in missing.violations] == ["missing_visit"] and missing.violations[0].node == 2


def test_fixed_cost_per_used_vehicle(line5):
    d, t = line5
    p = hr.Problem("ACVRP", d, t, demand=[0, 1, 1, 1, 1],
                   vehicle_types=[VehicleType(count=2, capacity=4, fixed_cost=250)])
    one, two = hr.evaluate(p, [[1, 2, 3, 4]]), hr.evaluate(p, [[1, 2], [], [3, 4]])
    assert one.fixed_cost == 250 and two.fixed_cost == 500
    assert two.cost == pytest.approx(two.distance + 500)


def test_shift_max_duration_and_max_distance_violations(line5):
    d, t = line5
    p = hr.Problem("ACVRP", d, t, demand=[0, 1, 1, 1, 1],
                   vehicle_types=[VehicleType(capacity=5, shift=(100, 205)), VehicleType(capacity=5, max_duration=105),
                                  VehicleType(capacity=5, max_distance=1000)])
    # every stop alone fits (stop 4: 100 s, 1000 m); 0 -> 2 -> 1 -> 4 -> 3 -> 0 zigzags:
    # 20 + 15 + 30 + 15 + 45 = 125 s, 1250 m
    for t_index, kind, amount in ((0, "shift", 20.0), (1, "max_duration", 20.0), (2, "max_distance", 250.0)):
        sol = hr.evaluate(p, [[2, 1, 4, 3]], vehicle_types=[t_index])
        (v,) = sol.violations
        assert (v.kind, v.amount) == (kind, pytest.approx(amount))
        assert hr.evaluate(p, [[1, 2, 3, 4]], vehicle_types=[t_index]).is_feasible
    st = hr.evaluate(p, [[2, 1, 4, 3]], vehicle_types=[0]).route_stats[0]
    assert st.start_time == 100.0 and st.end_time == 225.0  # the shift starts at 100 s


def test_late_departure_never_serves_a_stop_later(line5):
    d, t = line5
    windows = [[0, 1000], [50, 60], [0, 1000], [200, 300], [0, 1000]]
    p = hr.Problem("ACVRPTW", d, t, demand=[0, 1, 1, 1, 1], capacity=5, time_windows=windows)
    early = hr.Problem("ACVRPTW", d, t, demand=[0, 1, 1, 1, 1], capacity=5,
                       time_windows=[[0, 1000]] + [[0, 1000]] * 4)
    sol = hr.evaluate(p, [[1, 2, 3, 4]])
    st = sol.route_stats[0]
    # leaves at 40 instead of 0 (first stop, 10 s away, opens at 50), still waits at stop 3
    # (arrives at 70, opens at 200)
    assert st.start_time == 40.0 and st.wait.tolist() == [0.0, 0.0, 130.0, 0.0]
    service_start = st.arrival + st.wait
    assert service_start.tolist() == [50.0, 60.0, 200.0, 210.0]
    assert st.duration == pytest.approx(st.end_time - 40.0)
    assert hr.evaluate(early, [[1, 2, 3, 4]]).route_stats[0].start_time == 0.0


def test_a_break_goes_where_it_makes_the_route_least_late(line5):
    d, t = line5
    # stop 2's window ends at 25 s: taking the 30 s break before it would make it late
    windows = [[0, 1000], [0, 1000], [0, 25], [0, 1000], [0, 1000]]
    vt = VehicleType(capacity=5, breaks=[(5, 100, 30)])
    p = hr.Problem("ACVRPTW", d, t, demand=[0, 1, 1, 1, 1], time_windows=windows, vehicle_types=[vt])
    st = hr.evaluate(p, [[1, 2, 3, 4]]).route_stats[0]
    assert st.breaks == ((2, 20.0, 30.0),)  # after stop 2 (the second visit), at 20 s
    assert hr.evaluate(p, [[1, 2, 3, 4]]).is_feasible
    assert st.duration == pytest.approx(40 + 30 + 60)


def test_a_break_fills_the_wait_before_the_first_stop_only_when_no_other_gap_serves():
    d = np.array([[0, 10, 20], [10, 0, 10], [20, 10, 0]], dtype=float)
    vt = VehicleType(count=1, capacity=5, breaks=[(0.0, 500.0, 30.0)])
    p = hr.Problem("ACVRPTW", d, d, demand=[0, 1, 1], time_windows=[[0, 1000], [100, 1000], [300, 1000]],
                   service_time=[0, 5, 5], vehicle_types=[vt])
    # the wait at stop 2 (opens at 300 s) holds the break as well as the wait at stop 1 would:
    # the route still leaves at 90 s, to reach stop 1 as it opens
    st = hr.evaluate(p, [[1, 2]]).route_stats[0]
    assert st.start_time == 90.0 and st.end_time == 325.0
    assert st.breaks == ((1, 105.0, 30.0),)
    # with no wait later on, the break goes before the first stop, and the route leaves at 0
    tight = p.replace(time_windows=[[0, 1000], [100, 1000], [0, 1000]])
    st = hr.evaluate(tight, [[1, 2]]).route_stats[0]
    assert st.breaks == ((0, 0.0, 30.0),) and st.start_time == 0.0 and st.end_time == 140.0


def test_a_break_is_needed_only_while_the_route_is_under_way(line5):
    d, t = line5
    p = hr.Problem("ACVRP", d, t, demand=[0, 1, 1, 1, 1],
                   vehicle_types=[VehicleType(capacity=5, breaks=[(500, 600, 30)])])
    st = hr.evaluate(p, [[1, 2]]).route_stats[0]  # back at 50 s: long before the break window
    assert st.breaks == () and st.duration == pytest.approx(50.0)


def test_a_break_that_cannot_start_in_time_is_a_violation(line5):
    d, t = line5
    windows = [[0, 1000], [0, 1000], [0, 1000], [0, 1000], [0, 1000]]
    p = hr.Problem("ACVRPTW", d, t, demand=[0, 1, 1, 1, 1], time_windows=windows, service_time=[0, 50, 50, 50, 50],
                   vehicle_types=[VehicleType(count=2, capacity=5, breaks=[(0, 5, 10)])])
    sol = hr.evaluate(p, [[1, 2], [3, 4]])
    assert sol.is_feasible and sol.route_stats[0].breaks[0][0] == 0  # at the depot, before leaving
    p2 = p.replace(service_time=[30, 50, 50, 50, 50])  # the depot's own service ends at 30 s
    (v, _) = hr.evaluate(p2, [[1, 2], [3, 4]]).violations
    assert v.kind == "break" and v.amount == pytest.approx(25.0)


# -- the conformance instances --------------------------------------------------------------------

@pytest.mark.parametrize("feature", FEATURES)
def test_each_fleet_instance_uses_exactly_its_feature_and_it_binds(feature):
    problem = fleet_problems()[feature]
    assert problem.features == {feature}
    best = fleet_optimum(feature)
    assert math.isfinite(best)
    relaxed = _without(problem, feature)
    free = optimum_by_enumeration(relaxed)
    # the feature changes the answer: dropping it changes the optimum or makes it infeasible
    assert free is None or not hr.evaluate(problem, free.routes, vehicle_types=_types_for(problem, free)).is_feasible \
        or abs(free.cost - best) > 1e-6


def _without(problem: hr.Problem, feature: str) -> hr.Problem:
    import dataclasses

    if feature == "optional_stops":
        return problem.replace(required=None, prize=None)
    if feature == "multiple_depots":
        return problem.replace(vehicle_types=[dataclasses.replace(vt, end_depot=None) for vt in problem.vehicle_types])
    if feature == "vehicle_types":
        vt = problem.vehicle_types[0]
        return problem.replace(vehicle_types=[dataclasses.replace(vt, count=3)])
    field = {"shifts": "shift", "fixed_costs": "fixed_cost", "breaks": "breaks"}.get(feature, feature)
    default = {"fixed_cost": 0.0, "breaks": ()}.get(field)
    return problem.replace(vehicle_types=[dataclasses.replace(vt, **{field: default}) for vt in problem.vehicle_types])


def _types_for(problem: hr.Problem, sol: hr.Solution) -> list[int]:
    return [min(t, len(problem.vehicle_types) - 1) for t in sol.vehicle_types]


def test_enumeration_refuses_large_problems():
    d = _line(9)
    p = hr.Problem("ACVRP", d, demand=[0] + [1] * 8, capacity=8)
    with pytest.raises(ValueError, match="at most 6 stops"):
        optimum_by_enumeration(p)
