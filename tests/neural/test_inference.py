"""Inference and the "rrnco" backend: feasible, reproducible, any size, batched."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

import hybridroute as hr  # noqa: E402
from hybridroute.neural.checkpoint import DEFAULT_CHECKPOINTS, find_checkpoint, save_checkpoint  # noqa: E402
from hybridroute.neural.inference import dihedral, solve_problems  # noqa: E402
from hybridroute.osrm.cities import batch_to_problems, sample_batch  # noqa: E402

from neural_helpers import tiny_policy  # noqa: E402

KINDS = ["ATSP", "ACVRP", "ACVRPTW"]


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    return {k: save_checkpoint(tiny_policy(k, seed=1), d / f"tiny-{k.lower()}.safetensors", {"n": 8})
            for k in KINDS}


def test_dihedral_transforms_are_the_eight_isometries_of_the_unit_square():
    xy = torch.rand(2, 7, 2, generator=torch.Generator().manual_seed(0))
    out = dihedral(xy, 8).view(2, 8, 7, 2)
    d0 = torch.cdist(xy, xy)
    for a in range(8):
        torch.testing.assert_close(torch.cdist(out[:, a], out[:, a]), d0)
        assert out[:, a].min() >= 0 and out[:, a].max() <= 1
    flat = out[0].reshape(8, -1)
    assert len({tuple(r.tolist()) for r in flat}) == 8
    torch.testing.assert_close(out[:, 0], xy)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", [5, 8, 12])
def test_rrnco_backend_returns_feasible_solutions(city, checkpoints, kind, n):
    problems = batch_to_problems(sample_batch(city, kind, n, 2, seed=n))
    solver = hr.get_solver("rrnco", checkpoint=str(checkpoints[kind]), augment=2)
    for p in problems:
        sol = solver.solve(p, seed=0)
        assert sol.is_feasible, sol.violations
        assert sol.solver == "rrnco" and sol.stats["checkpoint"] == f"tiny-{kind.lower()}"


def test_sizes_beyond_the_training_sizes_are_flagged_and_warned_once(city, checkpoints, monkeypatch, caplog):
    from hybridroute.solvers import rrnco_solver

    monkeypatch.setattr(rrnco_solver, "_WARNED_SIZES", set())
    solver = hr.get_solver("rrnco", checkpoint=str(checkpoints["ACVRP"]), augment=1)
    within, *beyond = batch_to_problems(sample_batch(city, "ACVRP", 8, 1, seed=3)) + \
        batch_to_problems(sample_batch(city, "ACVRP", 11, 3, seed=3))  # the tiny checkpoint: n = 8
    with caplog.at_level("WARNING", logger="hybridroute.solvers.rrnco_solver"):
        sol = solver.solve(within)
        assert sol.stats["trained_n"] == 8 and "beyond_trained_n" not in sol.stats
        assert not caplog.records
        sols = [solver.solve(beyond[0]), *solver.solve_batch(beyond[1:])]
    assert all(s.stats["trained_n"] == 8 and s.stats["beyond_trained_n"] for s in sols)
    # one warning for the size, naming the checkpoint, its training sizes and the problem's n
    assert len(caplog.records) == 1
    assert "tiny-acvrp was trained on n <= 8" in caplog.text and "n = 11" in caplog.text


@pytest.mark.parametrize("kind", KINDS)
def test_solve_batch_is_feasible_and_reproducible(city, checkpoints, kind):
    problems = batch_to_problems(sample_batch(city, kind, 7, 3, seed=1)) + \
        batch_to_problems(sample_batch(city, kind, 9, 2, seed=2))
    solver = hr.get_solver("rrnco", checkpoint=str(checkpoints[kind]), augment=8, batch_size=2)
    a = solver.solve_batch(problems, seed=4)
    b = solver.solve_batch(problems, seed=4)
    assert [s.routes for s in a] == [s.routes for s in b]
    assert all(s.is_feasible for s in a)
    for s, p in zip(a, problems):
        assert s.problem is p
        assert s.cost == pytest.approx(s.stats["policy_length"] / 1.0, rel=1e-9)


def test_seed_drives_the_distance_sampling(city, checkpoints):
    problems = batch_to_problems(sample_batch(city, "ATSP", 12, 4, seed=3))
    policy = tiny_policy("ATSP", seed=1)
    runs = {s: [x.routes for x in solve_problems(problems, policy, augment=1, seed=s, device="cpu")]
            for s in (0, 0, 1, 2, 3)}
    again = [x.routes for x in solve_problems(problems, policy, augment=1, seed=0, device="cpu")]
    assert again == runs[0]
    assert any(runs[s] != runs[0] for s in (1, 2, 3))


def test_problems_without_coordinates_use_the_fallback(city, checkpoints):
    p = batch_to_problems(sample_batch(city, "ACVRP", 8, 1, seed=0))[0]
    bare = hr.Problem("ACVRP", p.distance, p.duration, demand=p.demand, capacity=p.capacity)
    for fallback in ("mds", "zeros"):
        sol = hr.get_solver("rrnco", checkpoint=str(checkpoints["ACVRP"]), coords_fallback=fallback,
                            augment=1).solve(bare)
        assert sol.is_feasible


def test_wrong_kind_checkpoint_is_refused(city, checkpoints):
    p = batch_to_problems(sample_batch(city, "ACVRP", 6, 1, seed=0))[0]
    with pytest.raises(hr.UnsupportedProblemError, match="is for ATSP"):
        hr.get_solver("rrnco", checkpoint=str(checkpoints["ATSP"])).solve(p)


def test_settings_are_checked():
    with pytest.raises(ValueError, match="augment"):
        hr.get_solver("rrnco", augment=9)
    with pytest.raises(ValueError, match="coords_fallback"):
        hr.get_solver("rrnco", coords_fallback="none")


def _shipped(kind):
    try:
        return find_checkpoint(DEFAULT_CHECKPOINTS[hr.ProblemKind(kind)])
    except Exception:
        return None


@pytest.mark.parametrize("kind", KINDS)
def test_shipped_checkpoint_beats_a_random_model(kind):
    from hybridroute.neural.checkpoint import load_checkpoint
    from hybridroute.neural.policy import RRNCOPolicy
    from hybridroute.osrm.cities import bundled_city

    path = _shipped(kind)
    if path is None:
        pytest.skip(f"no shipped {kind} checkpoint yet")
    trained, card = load_checkpoint(path)
    torch.manual_seed(0)
    untrained = RRNCOPolicy(trained.config).eval()
    n = min(card["n"], 100)  # mixed-size runs record their largest size; the bundled city has 200 points
    problems = batch_to_problems(sample_batch(bundled_city("Helsinki"), kind, n, 6, seed=123))
    cost = {name: np.mean([s.cost for s in solve_problems(problems, pol, augment=1, seed=0, device="cpu")])
            for name, pol in (("trained", trained), ("random", untrained))}
    assert cost["trained"] < 0.97 * cost["random"], cost


@pytest.mark.parametrize("kind", KINDS)
def test_default_checkpoint_is_the_shipped_one(city, kind):
    if _shipped(kind) is None:
        pytest.skip(f"no shipped {kind} checkpoint yet")
    p = batch_to_problems(sample_batch(city, kind, 25, 1, seed=0))[0]
    sol = hr.solve(p, "rrnco", augment=1)
    assert sol.is_feasible
    assert sol.stats["checkpoint"] == DEFAULT_CHECKPOINTS[hr.ProblemKind(kind)]


def test_small_problems_get_the_checkpoint_measured_better_there():
    from hybridroute.neural.checkpoint import SMALL_CHECKPOINTS, default_checkpoint, default_checkpoints

    kind = hr.ProblemKind.ACVRPTW
    name, largest = SMALL_CHECKPOINTS[kind]
    assert default_checkpoint(kind, largest) == name
    assert default_checkpoint(kind, largest + 1) == default_checkpoint(kind) == DEFAULT_CHECKPOINTS[kind]
    assert default_checkpoints(kind) == [DEFAULT_CHECKPOINTS[kind], name]
    for other in (hr.ProblemKind.ATSP, hr.ProblemKind.ACVRP):
        assert default_checkpoint(other, 5) == DEFAULT_CHECKPOINTS[other]
        assert default_checkpoints(other) == [DEFAULT_CHECKPOINTS[other]]
    for name in default_checkpoints(kind):
        assert find_checkpoint(name).is_file()


def test_a_batch_of_mixed_sizes_is_decoded_by_each_size_s_checkpoint(city):
    """solve_batch groups problems by checkpoint; each result equals the problem solved alone
    (no time limit: the same seed gives the same routes)."""
    from hybridroute.neural.checkpoint import default_checkpoint

    problems = [batch_to_problems(sample_batch(city, "ACVRPTW", n, 1, seed=n))[0] for n in (12, 25, 15)]
    solver = hr.get_solver("rrnco", augment=2)
    batch = solver.solve_batch(problems, seed=0)
    for p, sol in zip(problems, batch):
        alone = solver.solve(p, seed=0, time_limit=math.inf)
        assert sol.stats["checkpoint"] == alone.stats["checkpoint"] == default_checkpoint(p.kind, p.size)
        assert sol.routes == alone.routes and sol.is_feasible
    assert [s.stats["checkpoint"] for s in batch] == ["rrnco-acvrptw20", "rrnco-acvrptw-imit", "rrnco-acvrptw20"]
    named = hr.get_solver("rrnco", checkpoint="rrnco-acvrptw-imit", augment=2).solve(problems[0], seed=0)
    assert named.stats["checkpoint"] == "rrnco-acvrptw-imit"  # a named checkpoint serves every size


def test_the_shipped_acvrp_card_draws_distance_features_from_a_pool():
    """Set for inference beyond n = 200 (docs/neural.md, "Distance features beyond the
    training sizes"); the other kinds draw among all nodes, as they were trained."""
    from hybridroute.neural.checkpoint import default_checkpoint, load_checkpoint

    pools = {}
    for kind in KINDS:
        if _shipped(kind) is None:
            pytest.skip(f"no shipped {kind} checkpoint yet")
        policy, _ = load_checkpoint(default_checkpoint(hr.ProblemKind(kind)))
        pools[kind] = policy.encoder.init.pool
    assert pools == {"ATSP": None, "ACVRP": 200, "ACVRPTW": None}


def test_hand_built_problems_without_coords_and_open_windows(checkpoints, atsp10, acvrp12, acvrptw12):
    import numpy as np

    tw = np.array(acvrptw12.time_windows, dtype=float)
    tw[1:4, 1] = np.inf  # customers without a closing time
    svc = np.array(acvrptw12.service_time, dtype=float)
    svc[0] = 30.0  # depot service before leaving
    open_tw = acvrptw12.replace(time_windows=tw, service_time=svc)
    for p in (atsp10, acvrp12, acvrptw12, open_tw):
        sol = hr.get_solver("rrnco", checkpoint=str(checkpoints[p.kind.value]), augment=4).solve(p, seed=1)
        assert sol.is_feasible, (p.name, sol.violations)


@pytest.mark.parametrize("seed", [8, 10, 16])
def test_a_tight_fleet_is_kept_by_construction(seed):
    """num_vehicles at the capacity lower bound: without the limit the default policy opens one
    or two routes more on these instances (chosen for that: most n = 50 instances it solves
    with the fewest routes); with it, the routes fit the fleet and stay feasible."""
    import math

    import hybridroute as hr
    from hybridroute.osrm import sample_instances

    p = sample_instances("Helsinki", "ACVRP", 50, 1, seed=seed)[0]
    need = math.ceil(p.demand.sum() / p.capacity)
    free = hr.solve(p, "rrnco", time_limit=math.inf)
    limited = hr.solve(p.replace(num_vehicles=need), "rrnco", time_limit=math.inf)
    assert free.num_routes > need
    assert limited.is_feasible and limited.num_routes <= need


@pytest.mark.parametrize("kind", KINDS)
def test_a_batch_decoded_in_several_passes_equals_one_pass(city, checkpoints, kind, monkeypatch):
    from hybridroute.neural import inference
    from hybridroute.neural.checkpoint import load_checkpoint
    from hybridroute.neural.env import instances_from_problems

    policy, _ = load_checkpoint(checkpoints[kind], device="cpu")
    inst = instances_from_problems(batch_to_problems(sample_batch(city, kind, 9, 5, seed=2)), device="cpu",
                                   dtype=torch.float64)
    results = []
    for pairs in (1 << 30, 2 * 4 * 10 * 10):  # one pass; passes of 2 instances (2, 2, 1)
        monkeypatch.setattr(inference, "CPU_PAIRS_PER_PASS", pairs)
        results.append(inference.best_rollouts(policy, inst, augment=4, starts=3,
                                               generator=torch.Generator().manual_seed(0)))
    assert inference.pass_size(5, 4, 10, torch.device("cpu")) == 2
    one, split = results
    torch.testing.assert_close(one.length, split.length)
    assert torch.equal(one.starts, split.starts) and one.rollouts == split.rollouts == 12


def test_pass_size_bounds_the_pairs_on_the_cpu_only():
    from hybridroute.neural.inference import CPU_PAIRS_PER_PASS, pass_size

    cpu = torch.device("cpu")
    assert pass_size(32, 8, 101, cpu) == CPU_PAIRS_PER_PASS // (8 * 101 * 101)
    assert pass_size(32, 1, 21, cpu) == 32          # never more than the batch
    assert pass_size(32, 8, 1001, cpu) == 1         # never fewer than one instance
    assert pass_size(32, 8, 101, torch.device("meta")) == 32
