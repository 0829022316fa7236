"""Re-construction of ATSP tours by the policy (hybridroute.neural.reconstruct)."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

import hybridroute as hr  # noqa: E402
from hybridroute.neural import reconstruct as rc  # noqa: E402
from hybridroute.neural.checkpoint import save_checkpoint  # noqa: E402
from hybridroute.neural.env import instances_from_problems  # noqa: E402
from hybridroute.osrm.cities import batch_to_problems, sample_batch  # noqa: E402

from neural_helpers import tiny_policy  # noqa: E402


@pytest.fixture(scope="module")
def atsp40(city):
    return batch_to_problems(sample_batch(city, "ATSP", 40, 1, seed=5))[0]


@pytest.fixture(scope="module")
def inst40(atsp40):
    return instances_from_problems([atsp40])


def _length(problem, tour):
    return float(sum(problem.distance[a, b] for a, b in zip(tour, tour[1:] + tour[:1])))


def _bad_tour(n, seed=0):
    return [int(v) for v in np.random.default_rng(seed).permutation(n)]


@pytest.mark.parametrize("n, length", [(10, 3), (40, 7), (41, 40), (500, 100), (500, 61), (25, 30), (499, 165)])
def test_segments_are_disjoint_of_one_length_and_leave_at_most_one_node_between(n, length):
    bounds = rc.segment_bounds(n, length)
    assert bounds[0][0] == 0 and bounds[-1][1] <= n
    assert all(b0 <= a1 <= b0 + 1 for (_, b0), (a1, _) in zip(bounds, bounds[1:]))
    assert n - bounds[-1][1] <= 1  # the gap before the first segment, around the wrap
    inner = {b - a - 1 for a, b in bounds}
    assert len(inner) == 1  # one batch per round
    if len(bounds) > 1:
        assert min(inner) >= length
    inner_positions = [p for a, b in bounds for p in range(a + 1, b)]
    ends = {a for a, _ in bounds} | {b % n for _, b in bounds}
    assert len(set(inner_positions)) == len(inner_positions)  # no node in two segments
    assert not ends & set(inner_positions)  # a fixed end is no other segment's inner node
    assert n - len(set(inner_positions) | ends) <= len(bounds)  # at most one node left out per segment


def test_a_segment_instance_prices_every_tour_as_the_path_between_its_fixed_ends(atsp40, inst40):
    tour = _bad_tour(40, seed=3)
    a, b = 5, 17
    ends = torch.tensor([[tour[a], tour[b]]])
    inner = torch.tensor([tour[a + 1:b]])
    sub = rc._segment_instances(inst40, ends, inner)
    assert sub.num_nodes == b - a
    rng = np.random.default_rng(0)
    for _ in range(5):
        order = [int(v) + 1 for v in rng.permutation(b - a - 1)]  # a tour 0 → order → 0 of the segment
        cycle = [0, *order, 0]
        sub_len = float(sum(sub.dist[0, i, j] for i, j in zip(cycle, cycle[1:]))) * float(sub.dist_scale[0])
        path = [tour[a], *[tour[a + k] for k in order], tour[b]]
        real = float(sum(atsp40.distance[i, j] for i, j in zip(path, path[1:])))
        # the instance holds D / max D; scaled back it is the path's length in metres
        assert sub_len * float(inst40.dist_scale[0]) == pytest.approx(real, rel=1e-9)


def test_reconstruction_only_shortens_and_keeps_every_node(atsp40, inst40):
    policy = tiny_policy("ATSP", seed=2)
    start = _bad_tour(40)
    tour, info = rc.reconstruct_tour(policy, inst40, start, deadline=math.inf, seed=0, max_rounds=6)
    assert sorted(tour) == list(range(40))
    assert info.rounds == 6 and info.stopped == "max_rounds"
    assert info.replaced > 0  # a random tour is far from what even an untrained policy makes
    assert _length(atsp40, tour) < _length(atsp40, start)
    assert info.gain == pytest.approx(1 - _length(atsp40, tour) / _length(atsp40, start), rel=1e-9)


def test_reconstruction_is_reproducible_under_its_seed(inst40):
    policy = tiny_policy("ATSP", seed=2)
    runs = [rc.reconstruct_tour(policy, inst40, _bad_tour(40), deadline=math.inf, seed=s, max_rounds=4)[0]
            for s in (7, 7, 8)]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_patience_ends_a_run_without_deadline(inst40):
    policy = tiny_policy("ATSP", seed=2)
    tour, info = rc.reconstruct_tour(policy, inst40, _bad_tour(40), deadline=math.inf, patience=2)
    assert info.stopped == "2 rounds without a shorter segment"
    again, info2 = rc.reconstruct_tour(policy, inst40, tour, deadline=math.inf, patience=2, seed=1)
    assert info2.rounds >= 2


def _record_rounds(monkeypatch) -> list[tuple[int, int]]:
    """Each round's (starts, shortest segment's inner nodes), as the run calls ``_round``."""
    seen = []
    real = rc._round

    def spy(policy, inst, tour, bounds, starts, *rest):
        seen.append((starts, min(b - a - 1 for a, b in bounds)))
        return real(policy, inst, tour, bounds, starts, *rest)

    monkeypatch.setattr(rc, "_round", spy)
    return seen


def test_with_a_deadline_patience_switches_to_the_second_neighbourhood(atsp40, inst40, monkeypatch):
    policy = tiny_policy("ATSP", seed=2)
    stuck, info = rc.reconstruct_tour(policy, inst40, _bad_tour(40), deadline=math.inf, patience=2)
    assert info.escaped_after is None
    seen = _record_rounds(monkeypatch)
    tour, info = rc.reconstruct_tour(policy, inst40, stuck, deadline=time.perf_counter() + 600, patience=1,
                                     max_rounds=5, seed=3)
    assert info.stopped == "max_rounds" and info.escaped_after is not None and info.escaped_after < 5
    assert info.as_stats()["reconstruct_escaped_after"] == info.escaped_after
    # rounds after the switch use the second neighbourhood's starts and segment range
    lo, hi = rc._length_range(rc.ESCAPE_SEGMENT_NODES, 40)
    assert all(starts == rc.ESCAPE_STARTS and lo <= inner for starts, inner in seen[info.escaped_after:])
    assert all(starts == rc.RECONSTRUCT_STARTS for starts, _ in seen[:info.escaped_after])
    assert sorted(tour) == list(range(40)) and _length(atsp40, tour) <= _length(atsp40, stuck) + 1e-6


def test_long_tours_start_in_the_second_neighbourhood(atsp40, inst40, monkeypatch):
    first, second = rc.neighbourhoods(rc.LONG_TOUR_NODES - 1)
    assert first == rc.Neighbourhood(rc.SEGMENT_NODES, rc.RECONSTRUCT_STARTS)
    assert second == rc.Neighbourhood(rc.ESCAPE_SEGMENT_NODES, rc.ESCAPE_STARTS) != first
    assert rc.neighbourhoods(rc.LONG_TOUR_NODES) == (second, second)
    # a 40-node tour counted as long: every round, from the first, re-decodes the second's segments
    monkeypatch.setattr(rc, "LONG_TOUR_NODES", 40)
    seen = _record_rounds(monkeypatch)
    start = _bad_tour(40)
    tour, info = rc.reconstruct_tour(tiny_policy("ATSP", seed=2), inst40, start,
                                     deadline=time.perf_counter() + 600, max_rounds=4, seed=3)
    lo, _ = rc._length_range(rc.ESCAPE_SEGMENT_NODES, 40)
    assert len(seen) == info.rounds == 4
    assert all(starts == rc.ESCAPE_STARTS and inner >= lo for starts, inner in seen)
    assert sorted(tour) == list(range(40)) and _length(atsp40, tour) <= _length(atsp40, start) + 1e-6


def test_a_long_tour_drops_the_patience_rule_without_reporting_a_switch(atsp40, inst40, monkeypatch):
    monkeypatch.setattr(rc, "LONG_TOUR_NODES", 40)  # both neighbourhoods are the second
    policy = tiny_policy("ATSP", seed=2)
    stuck, _ = rc.reconstruct_tour(policy, inst40, _bad_tour(40), deadline=math.inf, patience=2)
    replaced = []
    real = rc._round

    def spy(*args):
        out = real(*args)
        replaced.append(out[0])
        return out

    monkeypatch.setattr(rc, "_round", spy)
    tour, info = rc.reconstruct_tour(policy, inst40, stuck, deadline=time.perf_counter() + 600, patience=1,
                                     max_rounds=5, seed=3)
    assert 0 in replaced[:-1]  # an idle round came before the last: the patience rule was reached
    assert info.rounds == 5 and info.stopped == "max_rounds"
    assert info.escaped_after is None and info.as_stats()["reconstruct_escaped_after"] is None
    assert sorted(tour) == list(range(40)) and _length(atsp40, tour) <= _length(atsp40, stuck) + 1e-6


def test_a_passed_deadline_returns_the_tour_unchanged(inst40):
    policy = tiny_policy("ATSP", seed=2)
    start = _bad_tour(40)
    tour, info = rc.reconstruct_tour(policy, inst40, start, deadline=time.perf_counter() - 1.0, seed=0)
    assert tour == start and info.rounds == 0
    assert "deadline" in info.stopped


def test_short_tours_and_wrong_inputs(city, inst40):
    policy = tiny_policy("ATSP", seed=2)
    small = instances_from_problems(batch_to_problems(sample_batch(city, "ATSP", 8, 1, seed=1)))
    tour, info = rc.reconstruct_tour(policy, small, list(range(8)), deadline=math.inf)
    assert tour == list(range(8)) and info.stopped.startswith("tour shorter than")
    with pytest.raises(ValueError, match="each of the 40 nodes once"):
        rc.reconstruct_tour(policy, inst40, list(range(39)) + [0], deadline=math.inf)
    vrp = instances_from_problems(batch_to_problems(sample_batch(city, "ACVRP", 8, 1, seed=1)))
    with pytest.raises(ValueError, match="one ATSP instance"):
        rc.reconstruct_tour(tiny_policy("ACVRP"), vrp, list(range(8)), deadline=math.inf)


@pytest.fixture(scope="module")
def tiny_atsp_checkpoint(tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    return str(save_checkpoint(tiny_policy("ATSP", seed=2), d / "tiny-atsp.safetensors", {"n": 40}))


def test_the_backend_reconstructs_atsp_tours_within_its_time_limit(atsp40, tiny_atsp_checkpoint):
    on = hr.get_solver("rrnco", checkpoint=tiny_atsp_checkpoint)
    off = hr.get_solver("rrnco", checkpoint=tiny_atsp_checkpoint, reconstruct=False)
    on.solve(atsp40, time_limit=math.inf)  # loads the checkpoint outside the budgets
    for limit in (1.0, math.inf):  # 1 s: at least one round even on a busy shared core
        sol = on.solve(atsp40, time_limit=limit, seed=0)
        assert sol.is_feasible
        assert sol.stats["reconstruct_rounds"] >= 1 and sol.stats["starts"] <= rc.RECONSTRUCT_STARTS
        assert sol.stats["reconstruct_gain"] >= 0.0
    plain = off.solve(atsp40, time_limit=math.inf, seed=0)
    assert "reconstruct_rounds" not in plain.stats
    assert plain.stats["starts"] == 40 and plain.stats["augment"] == 8


def test_reconstruct_is_deterministic_without_a_time_limit(atsp40, tiny_atsp_checkpoint):
    solver = hr.get_solver("rrnco", checkpoint=tiny_atsp_checkpoint)
    a, b = (solver.solve(atsp40, time_limit=math.inf, seed=3) for _ in range(2))
    assert a.routes == b.routes


def test_a_round_running_at_the_deadline_is_discarded(inst40, monkeypatch):
    # a clock that lets every round start, so that the policy itself meets the deadline
    monkeypatch.setattr(rc._RoundClock, "predict", lambda self, units: -math.inf)
    policy = tiny_policy("ATSP", seed=2)
    start = _bad_tour(40)
    tour, info = rc.reconstruct_tour(policy, inst40, start, deadline=time.perf_counter() - 1.0, seed=0)
    assert tour == start and info.rounds == 0 and info.replaced == 0
    assert info.stopped == "deadline reached during a round"


def test_the_backend_starts_from_the_shorter_of_its_tour_and_nearest_neighbours(atsp40, tiny_atsp_checkpoint):
    from hybridroute.solvers.baselines import nearest_neighbour_routes

    sol = hr.get_solver("rrnco", checkpoint=tiny_atsp_checkpoint).solve(atsp40, time_limit=math.inf, seed=0)
    nearest = hr.evaluate(atsp40, nearest_neighbour_routes(atsp40)).cost
    assert sol.stats["reconstruct_from"] in ("policy", "nearest")
    assert sol.cost <= nearest  # re-construction only shortens whichever start it was given
    # an untrained policy's tour loses to nearest neighbour's, which is then the start
    assert sol.stats["reconstruct_from"] == "nearest"
