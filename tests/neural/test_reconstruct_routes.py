"""Re-construction of VRP routes by the policy (hybridroute.neural.reconstruct_routes)."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

import hybridroute as hr  # noqa: E402
from hybridroute.neural import reconstruct_routes as rr  # noqa: E402
from hybridroute.neural.checkpoint import save_checkpoint  # noqa: E402
from hybridroute.osrm.cities import batch_to_problems, sample_batch  # noqa: E402

from neural_helpers import synthetic_city, tiny_policy  # noqa: E402

N = 70  # customers: above MIN_CUSTOMERS, so that a round has two groups or more


@pytest.fixture(scope="module")
def city90():
    return synthetic_city(0, m=90)


@pytest.fixture(scope="module", params=["ACVRP", "ACVRPTW"])
def vrp(request, city90):
    return batch_to_problems(sample_batch(city90, request.param, N, 1, seed=4))[0]


def _singletons(problem):
    """One route per customer: feasible (every customer is servable alone), and far from good."""
    return [[c] for c in problem.customers]


def _coords(problem):
    return np.asarray(problem.coords, dtype=np.float64)


def _check_solution(problem, routes):
    assert sorted(c for r in routes for c in r) == list(problem.customers)
    sol = hr.evaluate(problem, routes)
    assert sol.is_feasible, sol.violations
    return sol.cost


@pytest.mark.parametrize("target, offset", [(10, 0), (25, 3), (200, 5), (1, 7)])
def test_groups_partition_the_routes_into_consecutive_runs_by_angle(city90, target, offset):
    problem = batch_to_problems(sample_batch(city90, "ACVRP", N, 1, seed=1))[0]
    rng = np.random.default_rng(0)
    cut = np.sort(rng.choice(np.arange(1, N), 11, replace=False))
    routes = [list(map(int, r)) for r in np.split(rng.permutation(np.arange(1, N + 1)), cut)]
    groups = rr.route_groups(routes, _coords(problem), target, offset)
    flat = [i for g in groups for i in g]
    assert sorted(flat) == list(range(len(routes)))  # every route in exactly one group
    sizes = [sum(len(routes[i]) for i in g) for g in groups]
    assert all(s >= target for s in sizes[:-1])
    if len(groups) > 1:
        assert sizes[-1] >= rr._MIN_GROUP
    # consecutive in the angular order of the routes' centroids, from position `offset`
    depot = _coords(problem)[0]
    angle = [math.atan2(*(_coords(problem)[r].mean(0) - depot)[::-1]) for r in routes]
    order = sorted(range(len(routes)), key=lambda i: (angle[i], i))
    k = offset % len(order)
    assert flat == order[k:] + order[:k]


def test_a_group_problem_prices_its_routes_as_the_whole_problem_does(vrp):
    routes = [[c] for c in range(1, 11)] + [list(range(11, 20))]
    members = [c for r in routes for c in r]
    sub = rr._group_problem(vrp, members, _coords(vrp), None)
    local = {c: k + 1 for k, c in enumerate(members)}
    for r in routes:
        whole = hr.evaluate(vrp, [r])
        part = hr.evaluate(sub, [[local[c] for c in r]])
        assert part.cost == pytest.approx(whole.cost, rel=1e-12)
        assert part.is_feasible == whole.is_feasible


@pytest.mark.parametrize("augment", [1, 3])
def test_reconstruction_only_cheapens_and_keeps_every_customer_feasible(vrp, augment):
    start = _singletons(vrp)
    before = _check_solution(vrp, start)
    routes, info = rr.reconstruct_routes(tiny_policy(vrp.kind.value, seed=2), vrp, start, coords=_coords(vrp),
                                         deadline=math.inf, seed=0, max_rounds=3, augment=augment)
    after = _check_solution(vrp, routes)
    assert info.rounds == 3 and info.stopped == "max_rounds"
    assert info.replaced > 0 and after < before  # any policy's routes beat one vehicle per customer
    assert info.gain == pytest.approx(1 - after / before, rel=1e-9)


def test_the_fleet_is_kept(city90):
    problem = batch_to_problems(sample_batch(city90, "ACVRP", N, 1, seed=4))[0]
    start = _singletons(problem)
    fleet = problem.replace(num_vehicles=len(start))
    routes, info = rr.reconstruct_routes(tiny_policy("ACVRP", seed=2), fleet, start, coords=_coords(fleet),
                                         deadline=math.inf, seed=0, max_rounds=2)
    assert len(routes) <= fleet.num_vehicles
    _check_solution(fleet, routes)
    # with no vehicle to spare, a group may not use more routes than it had
    few = hr.evaluate(problem, routes)
    tight = problem.replace(num_vehicles=len(few.routes))
    again, _ = rr.reconstruct_routes(tiny_policy("ACVRP", seed=3), tight, few.routes, coords=_coords(tight),
                                     deadline=math.inf, seed=1, max_rounds=2)
    assert len(again) <= tight.num_vehicles
    assert _check_solution(tight, again) <= few.cost + 1e-6


def test_reconstruction_is_reproducible_under_its_seed(vrp):
    policy = tiny_policy(vrp.kind.value, seed=2)
    runs = [rr.reconstruct_routes(policy, vrp, _singletons(vrp), coords=_coords(vrp), deadline=math.inf, seed=7,
                                  max_rounds=2)[0] for _ in range(2)]
    assert runs[0] == runs[1]


def test_patience_ends_a_run_without_deadline(vrp):
    policy = tiny_policy(vrp.kind.value, seed=2)
    routes, info = rr.reconstruct_routes(policy, vrp, _singletons(vrp), coords=_coords(vrp), deadline=math.inf,
                                         patience=1, max_rounds=50)
    assert info.stopped == "1 rounds without a cheaper group" and info.rounds < 50
    _check_solution(vrp, routes)


def test_a_passed_deadline_returns_the_routes_unchanged(vrp):
    start = _singletons(vrp)
    policy = tiny_policy(vrp.kind.value, seed=2)
    routes, info = rr.reconstruct_routes(policy, vrp, start, coords=_coords(vrp), deadline=time.perf_counter() - 1.0)
    assert routes == start and info.rounds == 0 and info.replaced == 0
    assert info.stopped == "next batch predicted past the deadline"
    # a round that starts just before the deadline (its groups take longer to build than the
    # time left) is stopped by the policy at its first step, and its groups are discarded
    routes, info = rr.reconstruct_routes(policy, vrp, start, coords=_coords(vrp),
                                         deadline=time.perf_counter() + 1e-4)
    assert routes == start and info.rounds == 0 and info.replaced == 0
    assert "deadline" in info.stopped


def test_small_problems_and_wrong_inputs(city90):
    small = batch_to_problems(sample_batch(city90, "ACVRP", rr.MIN_CUSTOMERS - 1, 1, seed=1))[0]
    start = _singletons(small)
    routes, info = rr.reconstruct_routes(tiny_policy("ACVRP"), small, start, coords=_coords(small),
                                         deadline=math.inf)
    assert routes == start and info.rounds == 0 and "fewer than" in info.stopped
    atsp = batch_to_problems(sample_batch(city90, "ATSP", N, 1, seed=1))[0]
    with pytest.raises(ValueError, match="ACVRP or ACVRPTW"):
        rr.reconstruct_routes(tiny_policy("ATSP"), atsp, [list(atsp.customers)], coords=_coords(atsp),
                              deadline=math.inf)


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory, vrp):
    d = tmp_path_factory.mktemp("models")
    name = f"tiny-{vrp.kind.value.lower()}.safetensors"
    return str(save_checkpoint(tiny_policy(vrp.kind.value, seed=2), d / name, {"n": N}))


def test_the_backend_reconstructs_vrp_routes_within_its_time_limit(vrp, tiny_checkpoint):
    on = hr.get_solver("rrnco", checkpoint=tiny_checkpoint)
    off = hr.get_solver("rrnco", checkpoint=tiny_checkpoint, reconstruct=False)
    on.solve(vrp, time_limit=math.inf)  # loads the checkpoint outside the budgets
    for limit in (2.0, math.inf):  # 2 s: at least one round even beside two busy jobs on two cores
        sol = on.solve(vrp, time_limit=limit, seed=0)
        assert sol.is_feasible
        assert sol.stats["reconstruct_rounds"] >= 1 and sol.stats["starts"] <= 32
        assert sol.stats["reconstruct_gain"] >= 0.0 and sol.stats["reconstruct_from"] in ("policy", "nearest")
    plain = off.solve(vrp, time_limit=math.inf, seed=0)
    assert "reconstruct_rounds" not in plain.stats
    assert plain.stats["starts"] == N and plain.stats["augment"] == 8


def test_the_backend_starts_from_the_cheaper_of_its_routes_and_nearest_neighbours(vrp, tiny_checkpoint):
    from hybridroute.solvers.baselines import nearest_neighbour_routes

    sol = hr.get_solver("rrnco", checkpoint=tiny_checkpoint).solve(vrp, time_limit=math.inf, seed=0)
    nearest = hr.evaluate(vrp, nearest_neighbour_routes(vrp))
    assert sol.is_feasible
    if nearest.is_feasible:
        assert sol.cost <= nearest.cost + 1e-6  # re-construction only cheapens whichever start it was given
    again = hr.get_solver("rrnco", checkpoint=tiny_checkpoint).solve(vrp, time_limit=math.inf, seed=0)
    assert again.routes == sol.routes  # deterministic without a time limit
