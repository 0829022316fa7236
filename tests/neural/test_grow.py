"""Growing a trained policy: appended AAFM layers start as the identity, then train."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

from hybridroute.neural.checkpoint import grow_checkpoint, load_checkpoint  # noqa: E402
from hybridroute.neural.env import instances_from_batch  # noqa: E402
from hybridroute.neural.grow import add_window_term, grow_layers  # noqa: E402
from hybridroute.neural.train import TrainConfig, parameter_groups  # noqa: E402
from hybridroute.osrm.cities import sample_batch  # noqa: E402

from neural_helpers import tiny_policy  # noqa: E402


def _signed_norms(policy, seed: int = 0):
    """Instance-norm affines drawn with both signs (a fresh policy's are all ones and zeros,
    which would hide a sign or bias error in the identity)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in policy.named_parameters():
            if ".norm_" in name:
                tensor.copy_(torch.randn(tensor.shape, generator=gen))
    return policy


@pytest.mark.parametrize("kind", ["ATSP", "ACVRP", "ACVRPTW"])
def test_grown_policy_encodes_and_decodes_as_before(city, kind):
    policy = _signed_norms(tiny_policy(kind, seed=1))
    grown = grow_layers(policy, policy.config.num_layers + 2)
    assert len(grown.encoder.layers) == policy.config.num_layers + 2
    inst = instances_from_batch(sample_batch(city, kind, 9, 3, seed=4))
    with torch.no_grad():
        before = policy.encoder(inst, generator=torch.Generator().manual_seed(0))
        after = grown.encoder(inst, generator=torch.Generator().manual_seed(0))
        for a, b in zip(before, after):
            torch.testing.assert_close(a, b, atol=2e-3, rtol=2e-3)
        old = policy(inst, decode="greedy", generator=torch.Generator().manual_seed(0))
        new = grown(inst, decode="greedy", generator=torch.Generator().manual_seed(0))
    assert torch.equal(old.actions, new.actions)
    torch.testing.assert_close(old.logp, new.logp, atol=1e-3, rtol=1e-3)


def test_grown_layers_can_learn(city):
    """The zeroed branches still get gradients, so the new layers are not stuck at the identity."""
    grown = grow_layers(tiny_policy("ACVRP", seed=2), 3).train()
    inst = instances_from_batch(sample_batch(city, "ACVRP", 8, 2, seed=0))
    out = grown(inst, decode="sampling", generator=torch.Generator().manual_seed(0))
    (out.length.detach() * out.logp).mean().backward()
    last = grown.encoder.layers[-1].row
    assert last.norm_m.weight.grad.abs().sum() > 0
    assert last.ff2.weight.grad.abs().sum() > 0


def test_grow_refuses_a_depth_not_larger(city):
    policy = tiny_policy("ATSP")
    with pytest.raises(ValueError, match="larger than the policy's"):
        grow_layers(policy, policy.config.num_layers)


def test_grown_checkpoint_records_its_base_and_loads(tmp_path):
    out = grow_checkpoint("rrnco-acvrptw-imit", 4, tmp_path / "grown.safetensors")
    grown, card = load_checkpoint(out)
    _, base = load_checkpoint("rrnco-acvrptw-imit")
    assert grown.config.num_layers == 4 and card["n"] == base["n"]
    assert card["grown_from"]["sha256"] == base["sha256"] and card["grown_from"]["num_layers"] == 3
    assert json.loads(out.with_suffix(".json").read_text())["sha256"] == card["sha256"]


def test_new_layers_get_their_own_learning_rate():
    policy = grow_layers(tiny_policy("ACVRP"), 3)
    depth = policy.config.num_layers
    cfg = TrainConfig(name="t", model=policy.config, lr=1e-5, new_layers_from=1, new_layers_lr=1e-3)
    rest, new = parameter_groups(policy, cfg)
    assert new["lr"] == 1e-3 and "lr" not in rest
    assert {id(p) for p in new["params"]} == {id(p) for layer in policy.encoder.layers[1:] for p in layer.parameters()}
    assert len(rest["params"]) + len(new["params"]) == len(list(policy.parameters()))
    one = parameter_groups(policy, TrainConfig(name="t", model=policy.config))
    assert len(one) == 1 and len(one[0]["params"]) == len(list(policy.parameters()))
    with pytest.raises(ValueError, match="new_layers_from must be between"):
        parameter_groups(policy, TrainConfig(name="t", model=policy.config, new_layers_from=depth,
                                             new_layers_lr=1e-3))


def test_a_policy_given_the_window_term_decodes_as_before(city):
    policy = tiny_policy("ACVRPTW", seed=3)
    grown = add_window_term(policy, 8)
    assert grown.config.window_hidden == 8 and grown.decoder.window_term is not None
    inst = instances_from_batch(sample_batch(city, "ACVRPTW", 12, 3, seed=5))
    with torch.no_grad():
        old = policy(inst, decode="greedy", generator=torch.Generator().manual_seed(0))
        new = grown(inst, decode="greedy", generator=torch.Generator().manual_seed(0))
    assert torch.equal(old.actions, new.actions)
    torch.testing.assert_close(old.logp, new.logp)


def test_the_window_term_learns_and_changes_the_scores(city):
    """From zero, one gradient step on the output layer makes the term (and the scores) move."""
    grown = add_window_term(tiny_policy("ACVRPTW", seed=3), 8).train()
    inst = instances_from_batch(sample_batch(city, "ACVRPTW", 10, 2, seed=1))
    out = grown(inst, decode="sampling", generator=torch.Generator().manual_seed(0))
    (out.length.detach() * out.logp).mean().backward()
    term = grown.decoder.window_term
    assert term.out.weight.grad.abs().sum() > 0
    with torch.no_grad():
        term.out.weight.add_(1.0)
        after = grown(inst, decode="sampling", generator=torch.Generator().manual_seed(0))
    assert not torch.allclose(after.logp, out.logp.detach())


def test_adding_the_window_term_is_reproducible_and_leaves_the_random_state_alone():
    policy = tiny_policy("ACVRPTW", seed=3)
    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    a = add_window_term(policy, 8, seed=5)
    assert torch.equal(torch.rand(3), before)
    b = add_window_term(policy, 8, seed=5)
    assert torch.equal(a.decoder.window_term.hidden.weight, b.decoder.window_term.hidden.weight)


def test_the_window_term_is_refused_outside_acvrptw_and_twice():
    with pytest.raises(ValueError, match="window_hidden is for ACVRPTW"):
        add_window_term(tiny_policy("ACVRP"), 8)
    with pytest.raises(ValueError, match="already has a window term"):
        add_window_term(add_window_term(tiny_policy("ACVRPTW"), 8), 8)


def test_a_checkpoint_grown_with_the_window_term_is_the_same_policy(tmp_path, city):
    out = grow_checkpoint("rrnco-acvrptw-imit", None, tmp_path / "window.safetensors", window_hidden=16)
    grown, card = load_checkpoint(out)
    base, _ = load_checkpoint("rrnco-acvrptw-imit")
    assert grown.config.window_hidden == 16 and "window term" in card["growth"]
    inst = instances_from_batch(sample_batch(city, "ACVRPTW", 15, 2, seed=2))
    with torch.no_grad():
        a = base(inst, decode="greedy", generator=torch.Generator().manual_seed(0))
        b = grown(inst, decode="greedy", generator=torch.Generator().manual_seed(0))
    assert torch.equal(a.actions, b.actions)
    with pytest.raises(ValueError, match="needs num_layers, window_hidden or both"):
        grow_checkpoint("rrnco-acvrptw-imit", None, tmp_path / "none.safetensors")


def test_new_params_get_the_new_learning_rate():
    policy = add_window_term(tiny_policy("ACVRPTW"), 8)
    cfg = TrainConfig(name="t", model=policy.config, lr=1e-5, new_params=("decoder.window_term",), new_layers_lr=1e-3)
    rest, new = parameter_groups(policy, cfg)
    assert {id(p) for p in new["params"]} == {id(p) for p in policy.decoder.window_term.parameters()}
    assert new["lr"] == 1e-3 and len(rest["params"]) + len(new["params"]) == len(list(policy.parameters()))
    with pytest.raises(ValueError, match="no parameter of the policy is named"):
        parameter_groups(policy, TrainConfig(name="t", model=policy.config, new_params=("decoder.nothing",),
                                             new_layers_lr=1e-3))
