"""The batched environment agrees with hybridroute.evaluate and follows the RRNCO rules."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hybridroute import evaluate
from hybridroute.osrm.cities import batch_to_problems, sample_batch
from hybridroute.neural.env import (RoutingEnv, actions_to_routes, instances_from_batch,
                                    instances_from_problems, mds_coords)

from neural_helpers import tiny_policy

KINDS = ["ATSP", "ACVRP", "ACVRPTW"]


@pytest.mark.parametrize("kind", KINDS)
def test_env_cost_and_feasibility_match_evaluator(city, kind):
    batch = sample_batch(city, kind, 10, 3, seed=7)
    inst = instances_from_batch(batch, dtype=torch.float64)
    policy = tiny_policy(kind)
    with torch.no_grad():
        out = policy(inst, decode="sampling", generator=torch.Generator().manual_seed(1))
    problems = batch_to_problems(batch)
    checked = 0
    for b, problem in enumerate(problems):
        for p in range(out.starts.shape[1]):
            routes = actions_to_routes(inst.kind, int(out.starts[b, p]), out.actions[b, p].tolist())
            sol = evaluate(problem, routes)
            assert sol.is_feasible, sol.violations
            env_metres = float(out.length[b, p] * inst.dist_scale[b]) * 1000.0
            assert sol.distance == pytest.approx(env_metres, rel=1e-9, abs=1e-6)
            checked += 1
    assert checked == 3 * out.starts.shape[1]


def _random_feasible_rollout(env, starts, rng):
    state = env.reset(starts)
    actions = []
    for _ in range(env.max_steps()):
        if bool(state.done.all()):
            break
        mask = env.action_mask(state)
        assert mask.any(-1).all(), "a rollout has no allowed move"
        scores = torch.rand(mask.shape, generator=rng).masked_fill(~mask, -1.0)
        a = scores.argmax(-1)
        actions.append(a)
        state = env.step(state, a)
    return state, torch.stack(actions, -1)


@pytest.mark.parametrize("kind", ["ACVRP", "ACVRPTW"])
def test_vrp_rules_hold_on_random_rollouts(city, kind):
    batch = sample_batch(city, kind, 12, 4, seed=3)
    inst = instances_from_batch(batch, dtype=torch.float64)
    env = RoutingEnv(inst)
    starts = env.default_starts()
    state, actions = _random_feasible_rollout(env, starts, torch.Generator().manual_seed(0))
    assert state.done.all()
    problems = batch_to_problems(batch)
    for b in range(len(batch)):
        for p in range(starts.shape[1]):
            seq = [int(starts[b, p])] + actions[b, p].tolist()
            end = max(i for i, v in enumerate(seq) if v != 0)
            body = seq[: end + 2]
            # no two depot visits in a row while customers remain
            assert all(not (x == 0 and y == 0) for x, y in zip(body, body[1:]))
            sol = evaluate(problems[b], actions_to_routes(inst.kind, seq[0], seq[1:]))
            assert sol.is_feasible, sol.violations
            assert sol.distance == pytest.approx(float(state.length[b, p] * inst.dist_scale[b]) * 1000, rel=1e-9)


@pytest.mark.parametrize("kind", ["ACVRP", "ACVRPTW"])
def test_an_unlimited_fleet_masks_as_no_fleet_and_served_tracks_the_customers(city, kind):
    import dataclasses
    batch = sample_batch(city, kind, 12, 3, seed=5)
    inst = instances_from_batch(batch, dtype=torch.float64)
    unlimited = dataclasses.replace(inst, max_routes=torch.full((len(batch),), float("inf"), dtype=torch.float64))
    plain, fleet = RoutingEnv(inst), RoutingEnv(unlimited)
    assert not fleet.fleet_binds   # the packing bound cannot close the depot: it is skipped ...
    fleet.fleet_binds = True       # ... and applying it anyway changes nothing
    rng = torch.Generator().manual_seed(2)
    state = plain.reset(plain.default_starts())
    steps = 0
    while not bool(state.done.all()):
        mask = plain.action_mask(state)
        assert torch.equal(mask, fleet.action_mask(state))
        assert torch.equal(state.served, state.visited[..., 1:].all(-1))
        state = plain.step(state, torch.rand(mask.shape, generator=rng).masked_fill(~mask, -1.0).argmax(-1))
        steps += 1
    assert steps > 12 and state.served.all()
    one_finite = dataclasses.replace(unlimited, max_routes=torch.tensor([float("inf"), 2.0, float("inf")],
                                                                        dtype=torch.float64))
    assert RoutingEnv(one_finite).fleet_binds


def test_atsp_tour_closes_on_its_first_node(city):
    batch = sample_batch(city, "ATSP", 6, 1, seed=0)
    inst = instances_from_batch(batch, dtype=torch.float64)
    env = RoutingEnv(inst)
    starts = torch.tensor([[3]])
    actions = torch.tensor([[[0, 5, 1, 4, 2]]])
    state = env.rollout(starts, actions)
    d = inst.dist[0]
    tour = [3, 0, 5, 1, 4, 2, 3]
    expected = sum(float(d[a, b]) for a, b in zip(tour, tour[1:]))
    assert bool(state.done.all())
    assert float(state.length[0, 0]) == pytest.approx(expected)
    assert actions_to_routes(inst.kind, 3, [0, 5, 1, 4, 2]) == [[5, 1, 4, 2, 3]]


def test_time_window_mask_uses_the_strict_rules(city):
    """The mask, checked node by node against the rules as written, at every state of random
    rollouts (waits, late arrivals and windows that leave no time to return included)."""
    batch = sample_batch(city, "ACVRPTW", 8, 2, seed=5)
    inst = instances_from_batch(batch, dtype=torch.float64)
    T, tw, s = inst.dur, inst.tw, inst.service
    # a horizon that binds: a median customer can no longer be served at its window's end
    # and reached home in time
    tw[:, 0, 1] = (tw[:, 1:, 1] + s[:, 1:] + T[:, 1:, 0]).median(1).values
    env = RoutingEnv(inst)
    state = env.reset(env.default_starts())
    rng, checked = torch.Generator().manual_seed(1), 0
    while not bool(state.done.all()):
        mask = env.action_mask(state)
        for b in range(2):
            for p in range(mask.shape[1]):
                i, t = int(state.current[b, p]), float(state.time[b, p])
                ok = []
                for j in range(1, inst.num_nodes):
                    arrive = t + float(T[b, i, j])
                    ok.append(not bool(state.visited[b, p, j]) and arrive < float(tw[b, j, 1])
                              and max(arrive, float(tw[b, j, 0])) + float(s[b, j]) + float(T[b, j, 0])
                              < float(tw[b, 0, 1])
                              and float(state.used[b, p] + inst.demand[b, j]) <= 1 + 1e-6)
                if i == 0 and not any(ok):
                    continue  # at the depot with nothing feasible: any unvisited customer is allowed
                assert mask[b, p, 1:].tolist() == ok, (b, p)
                checked += 1
        scores = torch.rand(mask.shape, generator=rng).masked_fill(~mask, -1.0)
        state = env.step(state, scores.argmax(-1))
    assert checked > 100


@pytest.mark.parametrize("kind", KINDS)
def test_problem_and_batch_normalisation_agree(city, kind):
    batch = sample_batch(city, kind, 7, 2, seed=11)
    a = instances_from_batch(batch, dtype=torch.float64)
    b = instances_from_problems(batch_to_problems(batch), dtype=torch.float64)
    for name in ("dist", "dur", "coords", "demand", "tw", "service"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None), name
        if x is not None:
            torch.testing.assert_close(x, y, rtol=1e-9, atol=1e-9, msg=name)


def test_problems_of_mixed_sizes_are_refused(city):
    p1 = batch_to_problems(sample_batch(city, "ATSP", 5, 1, seed=0))
    p2 = batch_to_problems(sample_batch(city, "ATSP", 6, 1, seed=0))
    with pytest.raises(ValueError, match="one kind and size"):
        instances_from_problems(p1 + p2)


def test_mds_coords_recover_a_planar_layout():
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 1, (12, 2))
    d = np.linalg.norm(xy[:, None] - xy[None], axis=-1)
    rec = mds_coords(d)
    d2 = np.linalg.norm(rec[:, None] - rec[None], axis=-1)
    np.testing.assert_allclose(d2, d, atol=1e-8)


def test_rollouts_that_keep_the_fleet_are_chosen_before_shorter_ones_that_do_not(city):
    from hybridroute.neural.env import fleet_key

    problem = batch_to_problems(sample_batch(city, "ACVRP", 6, 1, seed=3))[0].replace(num_vehicles=2)
    inst = instances_from_problems([problem], dtype=torch.float64)
    starts = torch.tensor([[1, 1, 1]])
    # three rollouts after start 1: one route, two routes, three routes (the last, shortest,
    # is over the two-vehicle fleet); depot padding at the end adds no route
    actions = torch.tensor([[[2, 3, 4, 5, 6, 0, 0],
                             [2, 3, 0, 4, 5, 6, 0],
                             [2, 0, 3, 4, 0, 5, 6]]])
    length = torch.tensor([[30.0, 20.0, 10.0]], dtype=torch.float64)
    key = fleet_key(inst, length, starts, actions)
    assert int(key.argmin()) == 1
    assert torch.equal(key[0, :2], length[0, :2])  # within the fleet: the length itself
    unlimited = instances_from_problems([problem.replace(num_vehicles=None)], dtype=torch.float64)
    assert int(fleet_key(unlimited, length, starts, actions).argmin()) == 2


def test_normalise_coords_takes_arrays_and_tensors_alike():
    from hybridroute.neural.env import normalise_coords

    xy = np.array([[[2.0, 5.0], [4.0, 5.0], [3.0, 5.0]], [[0.0, -1.0], [1.0, 1.0], [0.5, 0.0]]])
    out = normalise_coords(xy)
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out[0], [[0.0, 0.0], [1.0, 0.0], [0.5, 0.0]])  # a constant axis → 0
    np.testing.assert_allclose(out[1], [[0.0, 0.0], [1.0, 1.0], [0.5, 0.5]])
    t = normalise_coords(torch.as_tensor(xy))
    assert isinstance(t, torch.Tensor)
    np.testing.assert_allclose(t.numpy(), out)
