"""evaluate() against an independent reference, each violation kind, and the nearest baseline."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hybridroute as hr
from strategies import problems, routes_for

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TOL = 1e-9  # the evaluator's documented relative tolerance for windows and capacity


# -- an independent reference evaluator: plain Python floats, one loop --------------------


def reference(problem: hr.Problem, routes):
    """(violation kinds -> count, distance, duration, loads per route) computed from scratch."""
    n = problem.num_nodes
    D = problem.distance.tolist()
    T = None if problem.duration is None else problem.duration.tolist()
    tw = None if problem.time_windows is None else problem.time_windows.tolist()
    svc = None if problem.service_time is None else problem.service_time.tolist()
    dem = None if problem.demand is None else problem.demand.tolist()
    kinds: dict[str, int] = {}

    def flag(kind):
        kinds[kind] = kinds.get(kind, 0) + 1

    routes = [list(r) for r in routes if len(r) > 0]
    seen = set()
    for route in routes:
        for v in route:
            if v == 0:
                flag("depot_in_route")
            elif v < 0 or v >= n:
                flag("unknown_node")
            elif v in seen:
                flag("duplicate_visit")
            else:
                seen.add(v)
    for v in range(1, n):
        if v not in seen:
            flag("missing_visit")
    if problem.kind is hr.ProblemKind.ATSP and len(routes) > 1:
        flag("route_count")
    elif problem.num_vehicles is not None and len(routes) > problem.num_vehicles:
        flag("too_many_routes")
    if any(not 0 < v < n for route in routes for v in route):
        return kinds, math.inf, (None if T is None else math.inf), None

    total_d, total_t, loads = 0.0, 0.0, []
    for route in routes:
        start = tw[0][0] if tw else 0.0
        t = start + (svc[0] if svc else 0.0)
        prev, dist, load = 0, 0.0, 0
        for pos, v in enumerate(route):
            dist += D[prev][v]
            if T is not None:
                arrive = t + T[prev][v]
                begin = arrive
                if tw:
                    if arrive - tw[v][1] > TOL * max(1.0, abs(tw[v][1])):
                        flag("time_window")
                    begin = max(arrive, tw[v][0])
                if pos == 0:  # late departure: no waiting at the first stop
                    start += begin - arrive
                t = begin + (svc[v] if svc else 0.0)
            if dem is not None:
                load += dem[v]
            prev = v
        dist += D[prev][0]
        if T is not None:
            t += T[prev][0]
            if tw and t - tw[0][1] > TOL * max(1.0, abs(tw[0][1])):
                flag("depot_time_window")
            total_t += t - start
        if dem is not None and load > problem.capacity * (1 + TOL):
            flag("capacity")
        total_d += dist
        loads.append(load)
    return kinds, total_d, (None if T is None else total_t), loads


def violation_counts(sol: hr.Solution) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in sol.violations:
        out[v.kind] = out.get(v.kind, 0) + 1
    return out


@SETTINGS
@given(data=st.data(), problem=problems())
def test_evaluate_matches_reference(data, problem):
    routes = data.draw(routes_for(problem))
    sol = hr.evaluate(problem, routes)
    kinds, dist, dur, loads = reference(problem, routes)
    assert violation_counts(sol) == kinds
    assert sol.status is (hr.Status.INFEASIBLE if kinds else hr.Status.FEASIBLE)
    assert sol.distance == pytest.approx(dist, rel=1e-12, abs=1e-9)
    if dur is None:
        assert sol.duration is None
    else:
        assert sol.duration == pytest.approx(dur, rel=1e-12, abs=1e-9)
    assert sol.cost == (sol.duration if problem.objective == "duration" else sol.distance)
    if loads is not None and problem.demand is not None:
        assert [s.load for s in sol.route_stats] == pytest.approx(loads)
    assert sol.routes == tuple(tuple(r) for r in routes if r)


@SETTINGS
@given(data=st.data(), problem=problems())
def test_valid_partitions_agree_and_schedule_is_consistent(data, problem):
    """Unbroken partitions: the per-route schedule adds up to the totals."""
    routes = data.draw(routes_for(problem, broken=False))
    sol = hr.evaluate(problem, routes)
    kinds, dist, dur, _ = reference(problem, routes)
    assert violation_counts(sol) == kinds
    assert sum(s.distance for s in sol.route_stats) == pytest.approx(dist, rel=1e-12, abs=1e-9)
    for s in sol.route_stats:
        legs = np.r_[s.leg_distance, s.return_distance]
        assert legs.sum() == pytest.approx(s.distance, rel=1e-12, abs=1e-9)
        if problem.duration is not None:
            assert s.end_time - s.start_time == pytest.approx(s.duration, rel=1e-12, abs=1e-9)
            assert (s.wait >= 0).all()
            assert (s.departure >= s.arrival).all()
    if dur is not None:
        assert sol.duration == pytest.approx(dur, rel=1e-12, abs=1e-9)


# -- each violation kind, by hand ---------------------------------------------------------


def _line(n: int) -> np.ndarray:
    """Nodes on a line 100 m apart, one-way penalty 1.5x going back."""
    x = np.arange(n) * 100.0
    d = np.abs(x[:, None] - x[None])
    return np.where(x[:, None] > x[None], d * 1.5, d)


@pytest.fixture
def vrp() -> hr.Problem:
    d = _line(5)
    return hr.Problem("ACVRP", d, d / 10, demand=[0, 3, 3, 3, 3], capacity=6, num_vehicles=3)


@pytest.fixture
def vrptw() -> hr.Problem:
    d = _line(4)
    tw = [[0, 100], [0, 20], [0, 30], [50, 60]]
    return hr.Problem("ACVRPTW", d, d / 10, demand=[0, 1, 1, 1], capacity=10, time_windows=tw,
                      service_time=[0, 5, 5, 5])


def _only(sol: hr.Solution, kind: str) -> list[hr.Violation]:
    assert sol.status is hr.Status.INFEASIBLE
    assert {v.kind for v in sol.violations} == {kind}, sol.violations
    return list(sol.violations)


def test_feasible_routes(vrp):
    sol = hr.evaluate(vrp, [[1, 2], [3, 4]])
    assert sol.is_feasible and sol.violations == ()
    # 0->1->2->0: 100 + 100 + 300; 0->3->4->0: 300 + 100 + 600
    assert sol.distance == pytest.approx(1500.0)
    assert sol.duration == pytest.approx(150.0)
    assert [s.load for s in sol.route_stats] == [6, 6]


def test_missing_visit(vrp):
    (v,) = _only(hr.evaluate(vrp, [[1, 2], [3]]), "missing_visit")
    assert v.node == 4 and "4" in v.message


def test_duplicate_visit(vrp):
    (v,) = _only(hr.evaluate(vrp, [[1, 2], [3, 4], [2]]), "duplicate_visit")
    assert (v.node, v.route) == (2, 2)


@pytest.mark.parametrize("bad", [5, 99, -1])
def test_unknown_node(vrp, bad):
    sol = hr.evaluate(vrp, [[1, 2], [3, 4, bad]])
    (v,) = _only(sol, "unknown_node")
    assert v.node == bad and v.route == 1
    assert sol.distance == math.inf and sol.cost == math.inf


def test_depot_in_route(vrp):
    (v,) = _only(hr.evaluate(vrp, [[1, 0, 2], [3, 4]]), "depot_in_route")
    assert (v.route, v.node) == (0, 0)


def test_capacity(vrp):
    (v,) = _only(hr.evaluate(vrp, [[1, 2, 3], [4]]), "capacity")
    assert v.route == 0 and v.amount == pytest.approx(3.0)


def test_too_many_routes(vrp):
    (v,) = _only(hr.evaluate(vrp, [[1], [2], [3], [4]]), "too_many_routes")
    assert v.amount == 1.0


def test_empty_routes_are_unused_vehicles(vrp):
    sol = hr.evaluate(vrp, [[], [1, 2], [], [3, 4], []])
    assert sol.is_feasible and sol.routes == ((1, 2), (3, 4))


def test_time_window_lateness(vrptw):
    # 0->2 arrives 20, serves to 25; 2->1 takes 15 (backwards), arrives 40 > 20: 20 s late.
    sol = hr.evaluate(vrptw, [[2, 1], [3]])
    (v,) = _only(sol, "time_window")
    assert (v.route, v.node) == (0, 1) and v.amount == pytest.approx(20.0)


def test_route_leaves_late_instead_of_waiting_at_its_first_stop(vrptw):
    sol = hr.evaluate(vrptw, [[1, 2], [3]])
    assert sol.is_feasible
    s = sol.route_stats[1]
    # 0->3 takes 30 s and 3 opens at 50: leave at 20 instead of 0, arrive at 50, serve to 55,
    # back (45 s) at 100. The service start is the same as leaving at 0 and waiting.
    assert s.start_time == pytest.approx(20.0)
    assert s.arrival[0] == pytest.approx(50.0) and s.wait[0] == pytest.approx(0.0)
    assert s.end_time == pytest.approx(100.0) and s.duration == pytest.approx(80.0)


def test_waiting_after_the_first_stop_counts_in_duration():
    d = _line(3)
    # 0->1 10 s, 1->2 10 s; 2 opens at 100: the route waits there (late departure cannot
    # remove it without serving 1 later).
    p = hr.Problem("ACVRPTW", d, d / 10, demand=[0, 1, 1], capacity=5,
                   time_windows=[[0, 500], [0, 10], [100, 200]])
    s = hr.evaluate(p, [[1, 2]]).route_stats[0]
    assert s.start_time == pytest.approx(0.0) and s.wait.tolist() == pytest.approx([0.0, 80.0])
    assert s.duration == pytest.approx(s.end_time) and s.end_time == pytest.approx(130.0)  # back: 30 s


def test_late_depot_return():
    # Each customer fits a direct trip (back at 35 s and 60 s) but the tour 1, 2 is back at 70 s.
    d = _line(3)
    p = hr.Problem("ACVRPTW", d, d / 10, demand=[0, 1, 1], capacity=5,
                   time_windows=[[0, 60], [0, 100], [0, 100]], service_time=[0, 10, 10])
    assert hr.evaluate(p, [[1], [2]]).is_feasible
    (v,) = _only(hr.evaluate(p, [[1, 2]]), "depot_time_window")
    assert (v.route, v.node) == (0, 0) and v.amount == pytest.approx(10.0)


def test_atsp_two_routes():
    p = hr.Problem("ATSP", _line(4))
    (v,) = _only(hr.evaluate(p, [[1, 2], [3]]), "route_count")
    assert "one tour" in v.message
    sol = hr.evaluate(p, [[1, 2, 3]])
    assert sol.is_feasible and sol.distance == pytest.approx(300 + 450)
    assert sol.duration is None


def test_non_integer_node_is_a_type_error(vrp):
    with pytest.raises(TypeError, match=r"routes\[0\]\[1\]"):
        hr.evaluate(vrp, [[1, 2.5]])


def test_solution_dict_round_trip(vrptw):
    sol = hr.evaluate(vrptw, [[1, 2], [3]]).with_info(solver="x", runtime=1.5, history=[(0.1, 5.0)])
    back = hr.Solution.from_dict(vrptw, sol.to_dict())
    assert back.routes == sol.routes and back.cost == sol.cost and back.solver == "x"
    assert back.history == ((0.1, 5.0),)


def test_with_info_cannot_change_costs(vrp):
    sol = hr.evaluate(vrp, [[1, 2], [3, 4]])
    with pytest.raises(TypeError, match="evaluate"):
        sol.with_info(cost=0.0)
    bad = hr.evaluate(vrp, [[1, 2, 3], [4]])
    with pytest.raises(ValueError, match="OPTIMAL"):
        bad.with_info(status=hr.Status.OPTIMAL)


def test_no_solution(vrp):
    sol = hr.Solution.no_solution(vrp, "x", "timed out")
    assert sol.status is hr.Status.NO_SOLUTION and not sol.is_feasible
    assert sol.cost == math.inf and sol.routes == ()


# -- the nearest-neighbour baseline --------------------------------------------------------


@pytest.mark.parametrize("fixture", ["atsp10", "acvrp12", "acvrptw12"])
def test_nearest_feasible_on_fixtures(request, fixture):
    problem = request.getfixturevalue(fixture)
    sol = hr.solve(problem, "nearest")
    assert sol.is_feasible, sol
    assert sol.solver == "nearest"
    assert sorted(v for r in sol.routes for v in r) == list(problem.customers)
    assert sol.cost == hr.evaluate(problem, sol.routes).cost


@SETTINGS
@given(problem=problems(vehicles=False))
def test_nearest_feasible_on_random_problems(problem):
    sol = hr.solve(problem, "nearest")
    assert sol.is_feasible, (problem, sol)
    if problem.kind is hr.ProblemKind.ATSP:
        assert sol.num_routes == 1


@settings(max_examples=50, deadline=None)
@given(problem=problems(vehicles=False), starts=st.integers(2, 5), seed=st.integers(0, 100))
def test_nearest_multistart_never_worse(problem, starts, seed):
    one = hr.solve(problem, "nearest")
    many = hr.solve(problem, "nearest", starts=starts, seed=seed)
    assert many.is_feasible
    assert many.cost <= one.cost
