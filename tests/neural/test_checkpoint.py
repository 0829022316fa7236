"""Shipped checkpoints: safetensors + card round trip, strict loading with clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")
from safetensors.torch import load_file, save_file  # noqa: E402

from hybridroute.neural.checkpoint import (CheckpointError, export_run, load_checkpoint,  # noqa: E402
                                           save_checkpoint, sha256_file)
from hybridroute.osrm.cities import sample_batch  # noqa: E402
from hybridroute.neural.env import instances_from_batch  # noqa: E402

from neural_helpers import tiny_policy  # noqa: E402


@pytest.fixture
def saved(tmp_path):
    model = tiny_policy("ACVRP", seed=3)
    path = save_checkpoint(model, tmp_path / "tiny-acvrp.safetensors", {"n": 8, "training": {"steps": 0}})
    return model, path


def _rewrite(path, tensors):
    """Replace the weights and re-sign the card, so only the strict load can object."""
    save_file(tensors, str(path))
    card_path = path.with_suffix(".json")
    card = json.loads(card_path.read_text())
    card["sha256"] = sha256_file(path)
    card_path.write_text(json.dumps(card))


def test_round_trip_gives_the_same_model(saved, city):
    model, path = saved
    loaded, card = load_checkpoint(path)
    assert card["kind"] == "ACVRP" and card["n"] == 8 and card["architecture"] == "rrnco-v1"
    assert card["sha256"] == sha256_file(path)
    assert path.with_suffix(".md").exists()
    for k, v in model.state_dict().items():
        assert torch.equal(v, loaded.state_dict()[k]), k
    inst = instances_from_batch(sample_batch(city, "ACVRP", 8, 2, seed=0))
    with torch.no_grad():
        a = model(inst, decode="greedy", generator=torch.Generator().manual_seed(0))
        b = loaded(inst, decode="greedy", generator=torch.Generator().manual_seed(0))
    assert torch.equal(a.actions, b.actions)


def test_load_by_name_from_the_models_folder(saved, monkeypatch):
    _, path = saved
    monkeypatch.setenv("HYBRIDROUTE_MODELS", str(path.parent))
    loaded, card = load_checkpoint("tiny-acvrp")
    assert card["name"] == "tiny-acvrp"


def test_missing_key_is_an_error(saved):
    _, path = saved
    tensors = load_file(str(path))
    tensors.pop("decoder.alpha")
    _rewrite(path, tensors)
    with pytest.raises(CheckpointError, match=r"(?s)tiny-acvrp\.safetensors.*Missing key.*decoder\.alpha"):
        load_checkpoint(path)


def test_unexpected_key_is_an_error(saved):
    _, path = saved
    tensors = load_file(str(path))
    tensors["decoder.gamma"] = torch.ones(1)
    _rewrite(path, tensors)
    with pytest.raises(CheckpointError, match="Unexpected key"):
        load_checkpoint(path)


def test_wrong_shape_is_an_error(saved):
    _, path = saved
    tensors = load_file(str(path))
    tensors["decoder.project_nodes.weight"] = torch.zeros(3, 3)
    _rewrite(path, tensors)
    with pytest.raises(CheckpointError, match="size mismatch"):
        load_checkpoint(path)


def test_bad_sha256_is_an_error(saved):
    _, path = saved
    card_path = path.with_suffix(".json")
    card = json.loads(card_path.read_text())
    card["sha256"] = "0" * 64
    card_path.write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match=r"tiny-acvrp\.safetensors: sha256"):
        load_checkpoint(path)


def test_corrupt_file_is_an_error(saved):
    _, path = saved
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"tiny-acvrp\.safetensors: sha256"):
        load_checkpoint(path)
    _rewrite_card_only(path)
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        load_checkpoint(path)


def _rewrite_card_only(path):
    card_path = path.with_suffix(".json")
    card = json.loads(card_path.read_text())
    card["sha256"] = sha256_file(path)
    card_path.write_text(json.dumps(card))


def test_card_selects_the_class_and_config(saved):
    _, path = saved
    card_path = path.with_suffix(".json")
    card = json.loads(card_path.read_text())
    card["architecture"] = "matnet"
    card_path.write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match="unknown architecture 'matnet'"):
        load_checkpoint(path)
    card["architecture"] = "rrnco-v1"
    card["model_config"]["kind"] = "ATSP"  # a card that lies about the model
    card_path.write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match="do not match"):
        load_checkpoint(path)


def test_missing_card_or_file(saved, tmp_path):
    _, path = saved
    path.with_suffix(".json").unlink()
    with pytest.raises(CheckpointError, match="model card tiny-acvrp.json is missing"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match=r"no checkpoint '.*nope': not a file"):
        load_checkpoint(tmp_path / "nope")


def test_export_writes_a_loadable_checkpoint_from_a_run(tmp_path):
    from hybridroute.neural.train import train

    from test_train import pool_and_config

    pool, cfg = pool_and_config()
    run = train(cfg, run_root=tmp_path / "runs", max_minutes=0.0, pool=pool, progress=False)
    def bench(ref):
        return {"count": 4, "kind": "ACVRP", "n": 8, "city": "Krems", "seed": 1, "reference": f"best of {ref}",
                "methods": {"rrnco-x1": {"gap_pct": 7.5, "feasible": 1.0, "seconds_per_instance": 0.01},
                            ref: {"gap_pct": 0.0, "feasible": 1.0, "seconds_per_instance": 1.0}}}

    path = export_run(run, "exported", tmp_path / "models", benchmark=[bench("pyvrp-1s"), bench("pyvrp-10s")])
    model, card = load_checkpoint(path)
    assert card["training"]["steps"] == 0
    assert card["validation"]["curve"][0]["step"] == 0
    assert "OpenStreetMap" in card["attribution"]
    assert [b["reference"] for b in card["benchmarks"]] == ["best of pyvrp-1s", "best of pyvrp-10s"]
    text = path.with_suffix(".md").read_text()
    assert text.index("gap to the best of pyvrp-1s") < text.index("gap to the best of pyvrp-10s")
    assert "| rrnco-x1 | 7.50 | 1.00 | 0.010 |" in text
    assert "from every start, no augmentation." in text


def test_the_card_says_when_its_validation_took_the_best_of_several_transforms(tmp_path):
    model = tiny_policy("ACVRP")
    card = {"n": 8, "validation": {"city": "Krems", "count": 4, "method": "PyVRP 10 s", "augment": 8,
                                   "curve": [{"step": 0, "instances": 0, "gap_pct": 3.0}]}}
    text = save_checkpoint(model, tmp_path / "x8.safetensors", card).with_suffix(".md").read_text()
    assert "from every start, best of 8 dihedral transforms." in text and "no augmentation" not in text


def test_saving_the_same_weights_gives_the_same_sha256(tmp_path):
    model = tiny_policy("ATSP", seed=2)
    shas = {sha256_file(save_checkpoint(model, tmp_path / f"m{i}.safetensors", {"n": 5})) for i in range(3)}
    assert len(shas) == 1


def test_export_of_a_fine_tuning_run_records_its_base_and_extra_fields(tmp_path):
    from hybridroute.neural.train import train

    from test_train import pool_and_config

    base_model = tiny_policy("ATSP", seed=9)
    base = save_checkpoint(base_model, tmp_path / "m" / "base.safetensors",
                           {"n": 50, "training": {"method": "imitation of lkh", "steps": 77, "instances": 1232,
                                                 "sizes": [20, 50], "trained_seconds": 3600.0}})
    pool, cfg = pool_and_config("ATSP", max_steps=0, init_checkpoint=str(base))
    cfg.model = base_model.config
    cfg.raw = {"run": {"name": cfg.name}, "data": {"n": 6}, "train": {"init_checkpoint": str(base)}}
    run = train(cfg, run_root=tmp_path / "runs", max_minutes=1, pool=pool, progress=False)

    path = export_run(run, "tuned", tmp_path / "out", extra={"warm_start_max_n": 200})
    _, card = load_checkpoint(path)
    assert card["fine_tuned_from"]["name"] == "base"
    assert card["fine_tuned_from"]["sha256"] == sha256_file(base)
    assert card["fine_tuned_from"]["training"]["steps"] == 77
    # trained at n = 6 from a base trained up to n = 50: the policy has seen n = 50
    assert card["fine_tuned_from"]["n"] == 50 and card["n"] == 50
    assert card["warm_start_max_n"] == 200
    text = path.with_suffix(".md").read_text()
    assert "Fine-tuned from `base`" in text and "77 steps" in text
    assert "mixed n = 20, 50, then fine-tuned at n = 6" in text

    with pytest.raises(ValueError, match=r"extra card fields \['sha256', 'training'\]"):
        export_run(run, "bad", tmp_path / "out", extra={"training": {}, "sha256": "0" * 64})
    assert not (tmp_path / "out" / "bad.safetensors").exists()


SHIPPED_CARDS = sorted((Path(__file__).resolve().parents[2] / "models").glob("rrnco-*.json"))


@pytest.mark.parametrize("card_path", SHIPPED_CARDS, ids=lambda p: p.stem)
def test_a_shipped_cards_n_is_its_largest_training_size_base_included(card_path):
    """The backend warns only past ``n``; a policy fine-tuned at n = 50 from a base trained up
    to n = 500 must not warn at n = 100."""
    card = json.loads(card_path.read_text())
    sizes = list(card["training"].get("sizes") or [])
    base = card.get("fine_tuned_from")
    if base:
        sizes += (base.get("training") or {}).get("sizes") or []
        assert base.get("n") == max((base.get("training") or {}).get("sizes") or [base.get("n")])
    assert card["n"] == max(sizes or [card["n"]])
