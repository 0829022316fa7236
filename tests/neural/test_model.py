"""Model parts: folded adaptive bias = unfolded, parameter counts, distance sampling."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from hybridroute.osrm.cities import sample_batch  # noqa: E402
from hybridroute.neural.encoder import (NeuralAdaptiveBias, TimeAwareAdaptiveBias,  # noqa: E402
                                        pair_angles, sample_distance_features)
from hybridroute.neural.env import instances_from_batch  # noqa: E402
from hybridroute.neural.policy import ModelConfig, RRNCOPolicy, count_parameters  # noqa: E402

from neural_helpers import tiny_policy  # noqa: E402


def _pairs(B=3, m=9, seed=0):
    g = torch.Generator().manual_seed(seed)
    dist = torch.rand(B, m, m, generator=g, dtype=torch.float64)
    dur = torch.rand(B, m, m, generator=g, dtype=torch.float64)
    angle = pair_angles(torch.rand(B, m, 2, generator=g, dtype=torch.float64))
    return dist, angle, dur


def _randomise(module, seed):
    # default init leaves biases small; random values exercise every folded term
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) * 0.5)


@pytest.mark.parametrize("cls", [NeuralAdaptiveBias, TimeAwareAdaptiveBias])
def test_folded_bias_equals_unfolded(cls):
    torch.manual_seed(0)
    nab = cls(32).double()
    _randomise(nab, 1)
    dist, angle, dur = _pairs()
    a = nab(dist, angle, dur, folded=True)
    b = nab(dist, angle, dur, folded=False)
    assert a.shape == (3, 9, 9)
    assert (a - b).abs().max().item() < 1e-9


def test_a_narrow_time_window_gate_folds_exactly_too():
    torch.manual_seed(0)
    nab = TimeAwareAdaptiveBias(32, gate_hidden=8).double()
    _randomise(nab, 2)
    assert nab.gate1.out_features == 8 and nab.gate2.in_features == 8
    dist, angle, dur = _pairs()
    a = nab(dist, angle, dur, folded=True)
    b = nab(dist, angle, dur, folded=False)
    assert (a - b).abs().max().item() < 1e-9


@pytest.mark.parametrize("cls", [NeuralAdaptiveBias, TimeAwareAdaptiveBias])
def test_folded_bias_equals_unfolded_in_float32_with_gradients(cls):
    torch.manual_seed(0)
    nab = cls(64)
    dist, angle, dur = (t.float() for t in _pairs(2, 12, 3))
    a = nab(dist, angle, dur, folded=True)
    b = nab(dist, angle, dur, folded=False)
    assert (a - b).abs().max().item() < 1e-5
    ga = torch.autograd.grad(a.sum(), list(nab.parameters()), allow_unused=True)
    gb = torch.autograd.grad(b.sum(), list(nab.parameters()), allow_unused=True)
    for x, y in zip(ga, gb):
        torch.testing.assert_close(x, y, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls", [NeuralAdaptiveBias, TimeAwareAdaptiveBias])
@pytest.mark.parametrize("folded", [True, False])
@pytest.mark.parametrize("grad", [True, False])
def test_shared_distance_terms_equal_the_repeated_matrices(cls, folded, grad):
    # copies = 4: each instance's distance and duration given once for 4 angle matrices
    torch.manual_seed(0)
    nab = cls(32).double()
    _randomise(nab, 3)
    dist, _, dur = _pairs(2, 9, 4)
    angle = pair_angles(torch.rand(8, 9, 2, generator=torch.Generator().manual_seed(5), dtype=torch.float64))
    with torch.set_grad_enabled(grad):
        shared = nab(dist, angle, dur, folded=folded, copies=4)
        full = nab(dist.repeat_interleave(4, 0), angle, dur.repeat_interleave(4, 0), folded=folded)
    assert shared.shape == (8, 9, 9)
    assert (shared - full).abs().max().item() < 1e-9


@pytest.mark.parametrize("cls", [NeuralAdaptiveBias, TimeAwareAdaptiveBias])
def test_the_bias_without_autograd_equals_the_bias_with_it(cls):
    # without autograd the folded bias updates its large tensors in place
    nab = cls(32).double()
    _randomise(nab, 4)
    dist, angle, dur = _pairs(2, 11, 6)
    with torch.no_grad():
        a = nab(dist, angle, dur)
    b = nab(dist, angle, dur)
    assert b.requires_grad and torch.equal(a, b.detach())


def test_copies_that_do_not_match_the_batch_are_refused():
    nab = TimeAwareAdaptiveBias(16)
    dist, angle, dur = (t.float() for t in _pairs(2, 6))
    with pytest.raises(ValueError, match="copies"):
        nab(dist, angle, dur, copies=2)
    with pytest.raises(ValueError, match="copies"):
        NeuralAdaptiveBias(16)(dist[:1], angle, None, copies=0)


@pytest.mark.parametrize("kind", ["ATSP", "ACVRP", "ACVRPTW"])
def test_an_encoder_given_copies_equals_one_that_encodes_each_copy(city, kind):
    from hybridroute.neural.inference import dihedral

    policy = tiny_policy(kind)
    inst = instances_from_batch(sample_batch(city, kind, 9, 2, seed=1))
    aug, coords = inst.repeat(8), dihedral(inst.coords.float(), 8)
    with torch.no_grad():
        one = policy.encoder(aug, coords, torch.Generator().manual_seed(0), copies=8)
        each = policy.encoder(aug, coords, torch.Generator().manual_seed(0))
    for a, b in zip(one, each):
        torch.testing.assert_close(a, b)
    with pytest.raises(ValueError, match="copies must divide"):
        policy.encoder(aug, coords, copies=3)


@pytest.mark.parametrize("kind", ["ATSP", "ACVRP", "ACVRPTW"])
def test_whole_policy_same_with_folded_and_unfolded_bias(city, kind):
    policy = tiny_policy(kind)
    inst = instances_from_batch(sample_batch(city, kind, 8, 2, seed=0))
    outs = []
    for folded in (True, False):
        policy.folded_bias = folded
        with torch.no_grad():
            outs.append(policy(inst, decode="greedy", generator=torch.Generator().manual_seed(0)))
    torch.testing.assert_close(outs[0].length, outs[1].length)
    assert torch.equal(outs[0].actions, outs[1].actions)


@pytest.mark.parametrize("kind", ["ATSP", "ACVRP", "ACVRPTW"])
def test_greedy_without_log_probabilities_makes_the_same_rollouts(city, kind):
    policy = tiny_policy(kind)
    inst = instances_from_batch(sample_batch(city, kind, 10, 3, seed=2))
    with torch.no_grad():
        full = policy(inst, decode="greedy", generator=torch.Generator().manual_seed(0))
        fast = policy(inst, decode="greedy", generator=torch.Generator().manual_seed(0), logp=False)
    assert torch.equal(full.actions, fast.actions)
    torch.testing.assert_close(full.length, fast.length)
    assert torch.isnan(fast.logp).all() and torch.isfinite(full.logp).all()
    with pytest.raises(ValueError, match="greedy"):
        policy(inst, decode="sampling", logp=False)


# d=128, L=6. The published counts are ATSP 3,379,495, ACVRP 3,495,335, ACVRPTW 4,290,252;
# ours omit parameters the published code defines but never uses: in the decoder
# project_fixed_context and pointer.project_out (2 × 16,384; no graph context, glimpse =
# heads + query), and for VRPs DistanceExpert.row/col_combine_embed (2 × 32,896).
PUBLISHED_SIZE = {"ATSP": 3_346_471, "ACVRP": 3_397_031, "ACVRPTW": 4_192_332}


@pytest.mark.parametrize("kind", ["ATSP", "ACVRP", "ACVRPTW"])
def test_parameter_count_of_the_published_size(kind):
    n = count_parameters(RRNCOPolicy(ModelConfig(kind, embed_dim=128, num_layers=6)))
    print(f"{kind} d=128 L=6: {n:,} parameters")
    assert n == PUBLISHED_SIZE[kind]


def test_parameter_count_scales_with_layers():
    one = count_parameters(RRNCOPolicy(ModelConfig("ATSP", embed_dim=64, num_layers=1, ff_hidden=256)))
    three = count_parameters(RRNCOPolicy(ModelConfig("ATSP", embed_dim=64, num_layers=3, ff_hidden=256)))
    # one AAFM layer at d=64, ff 256: two blocks of 5 norms, alpha, NAB, Q/K/V, proj, combine, FFN
    d, f = 64, 256
    nab = 2 * (2 * d + d * d + d) + (2 * d + 1) + (d + 1)
    block = 5 * 2 * d + 1 + nab + 5 * (d * d + d) + (d * f + f) + (f * d + d)
    assert three - one == 2 * (2 * block)


def test_distance_sampling_is_sorted_reproducible_and_avoids_self():
    g = torch.Generator().manual_seed(0)
    dist = torch.rand(2, 40, 40, generator=g)
    dist.diagonal(dim1=1, dim2=2).zero_()
    r1, c1 = sample_distance_features(dist, 25, torch.Generator().manual_seed(5))
    r2, c2 = sample_distance_features(dist, 25, torch.Generator().manual_seed(5))
    r3, _ = sample_distance_features(dist, 25, torch.Generator().manual_seed(6))
    assert torch.equal(r1, r2) and torch.equal(c1, c2)
    assert not torch.equal(r1, r3)
    assert r1.shape == c1.shape == (2, 40, 25)
    assert (r1.diff(dim=-1) >= 0).all() and (c1.diff(dim=-1) >= 0).all()
    assert (r1 > 0).all()  # the zero diagonal is (almost surely) never drawn


def test_distance_sampling_prefers_near_nodes():
    m = 60
    dist = torch.full((1, m, m), 1.0)
    dist[0, :, :5] = 1e-4  # five very near nodes for everyone: weight 1e4 each vs 1
    dist.diagonal(dim1=1, dim2=2).zero_()
    rows, _ = sample_distance_features(dist, 10, torch.Generator().manual_seed(0))
    near = (rows[0, 10:] < 0.5).sum(-1)  # nodes 10.. are not among the five
    assert (near == 5).float().mean() > 0.95


def test_distance_sampling_on_instances_smaller_than_k():
    dist = torch.rand(1, 6, 6)
    dist.diagonal(dim1=1, dim2=2).zero_()
    rows, cols = sample_distance_features(dist, 25, torch.Generator().manual_seed(0))
    assert rows.shape == (1, 6, 25)
    # draws beyond m − 1 repeat existing columns; every value is a real off-diagonal entry
    for i in range(6):
        allowed = set(torch.cat([dist[0, i, :i], dist[0, i, i + 1:]]).tolist())
        assert set(rows[0, i].tolist()) <= allowed


def test_a_sample_pool_draws_among_each_nodes_nearest_only():
    g = torch.Generator().manual_seed(0)
    dist = torch.rand(2, 80, 80, generator=g)
    dist.diagonal(dim1=1, dim2=2).zero_()
    rows, cols = sample_distance_features(dist, 25, torch.Generator().manual_seed(1), pool=30)
    assert rows.shape == cols.shape == (2, 80, 25)
    off = dist + torch.diag_embed(torch.full((2, 80), float("inf")))
    edge = off.topk(30, dim=-1, largest=False).values[..., -1:]  # each row's 30th nearest
    assert (rows <= edge).all()
    assert (rows.max(-1).values > off.topk(25, dim=-1, largest=False).values[..., -1]).any()  # not just the 25 nearest
    # the columns are the same nodes' distances towards the row's node
    for i in (0, 41):
        pool_nodes = off[0, i].topk(30, largest=False).indices
        assert set(cols[0, i].tolist()) <= set(dist[0, pool_nodes, i].tolist())
    # a pool smaller than k draws with replacement within it, as small instances do
    few, _ = sample_distance_features(dist, 25, torch.Generator().manual_seed(1), pool=10)
    assert (few <= off.topk(10, dim=-1, largest=False).values[..., -1:]).all()


def test_a_pool_as_large_as_the_instance_changes_nothing():
    dist = torch.rand(1, 50, 50, generator=torch.Generator().manual_seed(3))
    dist.diagonal(dim1=1, dim2=2).zero_()
    plain = sample_distance_features(dist, 25, torch.Generator().manual_seed(2))
    for pool in (49, 200):
        pooled = sample_distance_features(dist, 25, torch.Generator().manual_seed(2), pool=pool)
        assert all(torch.equal(a, b) for a, b in zip(plain, pooled))
    with pytest.raises(ValueError, match="sample_pool"):
        ModelConfig("ACVRP", sample_pool=0)


def test_config_rejects_unknown_keys_and_kinds():
    with pytest.raises(ValueError, match="unknown model config keys"):
        ModelConfig.from_dict({"kind": "ATSP", "embed_dims": 64})
    with pytest.raises(ValueError, match="kind"):
        ModelConfig("TSP")


@pytest.mark.parametrize("kind", ["ATSP", "ACVRP", "ACVRPTW"])
def test_the_decoders_query_is_the_projected_context(city, kind):
    """The decoder projects each node's share of the context once per rollout batch and gathers
    it per step; the query must equal projecting the published context vector, with gradients."""
    from hybridroute.neural.env import RoutingEnv
    from hybridroute.neural.decoder import _NO_DISTANCE_LIMIT

    policy = tiny_policy(kind)
    _randomise(policy.decoder, 3)
    inst = instances_from_batch(sample_batch(city, kind, 8, 2, seed=1))
    rows, cols = policy.encoder(policy.model_view(inst), generator=torch.Generator().manual_seed(0))
    rows = rows.detach().requires_grad_(True)
    cache = policy.decoder.precompute(rows, cols, policy.model_view(inst))
    env = RoutingEnv(inst)
    state = env.reset(env.default_starts())
    state = env.step(state, env.action_mask(state).float().argmax(-1))  # one move: state off the start
    idx = state.current[..., None].expand(-1, -1, rows.shape[-1])
    cur = rows.gather(1, idx)
    if kind == "ATSP":
        context = torch.cat([rows.gather(1, state.first[..., None].expand_as(idx)), cur], -1)
    else:
        feats = [1.0 - state.used]
        if kind == "ACVRPTW":
            feats += [state.time, torch.zeros_like(state.time), torch.full_like(state.time, _NO_DISTANCE_LIMIT)]
        context = torch.cat([cur, torch.stack(feats, -1).to(cur.dtype)], -1)
    expected = policy.decoder.project_context(context)
    query = policy.decoder._query(cache, state)
    torch.testing.assert_close(query, expected)
    g_query, = torch.autograd.grad(query.sum(), rows)
    g_expected, = torch.autograd.grad(expected.sum(), rows)
    torch.testing.assert_close(g_query, g_expected)
