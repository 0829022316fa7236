"""Hostile checkpoints: NaN / inf weights are refused at load, naming the file and the tensor.

The card of each tampered file is re-signed (its sha256 updated), as a corrupt training run
would export it, so the finiteness check itself is what refuses the weights; before it, such
a model failed much later as "decoding did not finish".
"""

from __future__ import annotations

import json
import math
import re

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")
from safetensors.torch import load_file, save_file  # noqa: E402

from hybridroute.neural.checkpoint import CheckpointError, load_checkpoint, save_checkpoint, sha256_file  # noqa: E402


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def saved(tmp_path):
    from hybridroute.neural.policy import ModelConfig, RRNCOPolicy

    torch.manual_seed(0)
    model = RRNCOPolicy(ModelConfig("ATSP", embed_dim=16, num_layers=1, ff_hidden=32, num_heads=4, sample_k=5))
    return save_checkpoint(model, tmp_path / "tiny-atsp.safetensors", {"n": 8, "training": {"steps": 0}})


def tamper(path, name: str, value: float, index=0) -> None:
    """Put ``value`` into one entry of tensor ``name`` and re-sign the card."""
    tensors = load_file(str(path))
    flat = tensors[name].reshape(-1).clone()
    flat[index] = value
    tensors[name] = flat.reshape(tensors[name].shape)
    save_file(tensors, str(path))
    card_path = path.with_suffix(".json")
    card = json.loads(card_path.read_text())
    card["sha256"] = sha256_file(path)
    card_path.write_text(json.dumps(card))


def float_tensors(path) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in load_file(str(path)).items() if v.is_floating_point()}


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
def test_non_finite_weight_is_refused_naming_file_and_tensor(saved, value):
    name, shape = next((k, s) for k, s in float_tensors(saved).items() if len(s) == 2)
    tamper(saved, name, value, index=shape[1] + 1)  # row 1, column 1
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(saved)
    text = str(info.value)
    assert text.startswith(f"{saved}: tensor {name!r} holds 1 non-finite values (NaN or inf; first at index (1, 1): ")
    assert str(value) in text


def test_every_tensor_is_checked(saved):
    names = list(float_tensors(saved))
    assert len(names) > 5
    for name in (names[0], names[len(names) // 2], names[-1]):
        tamper(saved, name, math.nan)
        with pytest.raises(CheckpointError, match=rf"tensor {name!r} holds"):
            load_checkpoint(saved)
        tamper(saved, name, 0.0)
    load_checkpoint(saved)  # repaired: loads again


def test_a_scalar_or_vector_tensor_with_nan_is_named(saved):
    name, shape = next((k, s) for k, s in float_tensors(saved).items() if len(s) <= 1)
    tamper(saved, name, math.nan)
    where = "()" if not shape else "(0,)"
    with pytest.raises(CheckpointError, match=rf"tensor {name!r} holds 1 non-finite values .*index {re.escape(where)}"):
        load_checkpoint(saved)


def test_many_bad_values_are_counted(saved):
    name = next(k for k, s in float_tensors(saved).items() if len(s) == 2)
    tensors = load_file(str(saved))
    tensors[name] = torch.full_like(tensors[name], math.nan)
    save_file(tensors, str(saved))
    card = json.loads(saved.with_suffix(".json").read_text())
    card["sha256"] = sha256_file(saved)
    saved.with_suffix(".json").write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match=rf"holds {tensors[name].numel()} non-finite values"):
        load_checkpoint(saved)


def test_tampered_but_unsigned_file_still_fails_the_sha_check_first(saved):
    tensors = load_file(str(saved))
    name = next(iter(float_tensors(saved)))
    tensors[name] = torch.full_like(tensors[name], math.nan)
    save_file(tensors, str(saved))
    with pytest.raises(CheckpointError, match=r"tiny-atsp\.safetensors: sha256 .* does not match its card"):
        load_checkpoint(saved)


def test_shipped_checkpoints_are_finite():
    from hybridroute.neural.checkpoint import DEFAULT_CHECKPOINTS

    for name in DEFAULT_CHECKPOINTS.values():
        model, card = load_checkpoint(name)
        assert all(torch.isfinite(p).all() for p in model.parameters()), name

