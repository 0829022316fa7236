"""Training: POMO REINFORCE runs, logs, checkpoints and resumes exactly where it stopped."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hybridroute.neural.policy import ModelConfig  # noqa: E402
from hybridroute.neural.train import (CONFIG_DIR, CityPool, TrainConfig, batch_stream, load_config,  # noqa: E402
                                      pomo_loss, train)

from neural_helpers import synthetic_city  # noqa: E402


def pool_and_config(kind="ACVRP", **kw):
    pool = CityPool([synthetic_city(1, 40, "a"), synthetic_city(2, 40, "b")], synthetic_city(3, 40, "val"))
    cfg = TrainConfig(name=f"tiny-{kind.lower()}", n=6, batch_size=4, cities_per_chunk=2, instances_per_city=4,
                      model=ModelConfig(kind, embed_dim=16, num_layers=1, ff_hidden=32, num_heads=4, sample_k=5),
                      val_instances=4, val_batch=4, log_every=1, ref_seconds=0.05, raw={"run": {"name": f"tiny-{kind.lower()}"}}, **kw)
    return pool, cfg


def test_shipped_configs_parse():
    for name in ("atsp20", "acvrp20", "acvrptw20"):
        cfg = load_config(name)
        assert cfg.n == 20 and cfg.model.kind == name[:-2].upper()
        assert "Helsinki" in cfg.holdout


def test_config_rejects_unknown_keys(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text('[model]\nkind = "ATSP"\n[train]\nlearning_rate = 1.0\n')
    with pytest.raises(ValueError, match="unknown keys"):
        load_config(p)


def test_pomo_loss_uses_the_shared_baseline():
    from hybridroute.neural.policy import Rollout

    length = torch.tensor([[1.0, 3.0], [2.0, 2.0]])
    logp = torch.tensor([[-1.0, -2.0], [-1.0, -1.0]], requires_grad=True)
    loss, reward = pomo_loss(Rollout(length=length, logp=logp, starts=None, actions=None))
    loss.backward()
    # advantage: instance 0 → (+1, −1), instance 1 → (0, 0); loss = −mean(adv · logp)
    assert torch.allclose(logp.grad, torch.tensor([[-0.25, 0.25], [0.0, 0.0]]))


def test_leader_reward_adds_to_the_best_rollout_only():
    from hybridroute.neural.policy import Rollout

    length = torch.tensor([[1.0, 3.0, 5.0], [2.0, 2.0, 2.0]])
    logp = torch.tensor([[-1.0, -2.0, -1.0], [-1.0, -1.0, -1.0]], requires_grad=True)
    pomo_loss(Rollout(length=length, logp=logp, starts=None, actions=None), leader_alpha=0.5)[0].backward()
    # instance 0: mean reward −3, advantages (+2, 0, −2); the leader (length 1) gets 0.5 · 2 more.
    # instance 1: all equal, no advantage and no bonus.  grad = −adv / 6
    assert torch.allclose(logp.grad, -torch.tensor([[3.0, 0.0, -2.0], [0.0, 0.0, 0.0]]) / 6)


def test_augmented_rollouts_share_one_baseline_per_instance():
    """With ``group`` transforms per instance the baseline is the mean over all of them (rows
    0-1 are one instance's two transforms, rows 2-3 the other's), not per transform."""
    from hybridroute.neural.policy import Rollout

    length = torch.tensor([[1.0, 3.0], [5.0, 7.0], [2.0, 2.0], [2.0, 2.0]])
    logp = torch.full((4, 2), -1.0, requires_grad=True)
    loss, reward = pomo_loss(Rollout(length=length, logp=logp, starts=None, actions=None), group=2)
    assert reward.shape == (2, 4)
    loss.backward()
    # instance 0: rewards (−1, −3, −5, −7), mean −4, advantages (3, 1, −1, −3); instance 1: none
    assert torch.allclose(logp.grad, -torch.tensor([[3.0, 1.0], [-1.0, -3.0], [0.0, 0.0], [0.0, 0.0]]) / 8)
    with pytest.raises(ValueError, match="group 3"):
        pomo_loss(Rollout(length=length, logp=logp, starts=None, actions=None), group=3)


def test_a_partner_ceiling_leaves_signal_only_where_the_partner_is_beaten():
    """``ceiling`` (``[train] complement``): rollouts at or above the partner's length all cost
    the ceiling, so they are not told apart; one that beats it is rewarded against them."""
    from hybridroute.neural.policy import Rollout

    length = torch.tensor([[1.0, 5.0, 7.0], [4.0, 6.0, 8.0]])
    logp = torch.full((2, 3), -1.0, requires_grad=True)
    loss, reward = pomo_loss(Rollout(length=length, logp=logp, starts=None, actions=None),
                             ceiling=torch.tensor([3.0, 3.0]))
    loss.backward()
    # instance 0: costs (1, 3, 3), mean −7/3, advantages (4/3, −2/3, −2/3); instance 1: (3, 3, 3), none
    assert torch.allclose(reward, -torch.tensor([[1.0, 3.0, 3.0], [3.0, 3.0, 3.0]]))
    assert torch.allclose(logp.grad, -torch.tensor([[4 / 3, -2 / 3, -2 / 3], [0.0, 0.0, 0.0]]) / 6)


def test_training_to_complement_a_partner_runs_and_keeps_the_partner(tmp_path):
    """``[train] complement``: the partner (a checkpoint) is rolled out greedily beside each
    step and stays as it was; the policy trained next to it moves."""
    from hybridroute.neural.checkpoint import load_checkpoint, save_checkpoint
    from hybridroute.neural.policy import RRNCOPolicy

    pool, cfg = pool_and_config("ACVRPTW", max_steps=2)
    torch.manual_seed(0)
    partner = RRNCOPolicy(cfg.model)
    path = tmp_path / "partner.safetensors"
    save_checkpoint(partner, path, {"n": 6, "training": {"steps": 0}})
    before = {k: v.clone() for k, v in load_checkpoint(path)[0].state_dict().items()}
    pool, cfg = pool_and_config("ACVRPTW", max_steps=2, complement=str(path), complement_augment=2,
                                init_checkpoint=str(path))
    run = train(cfg, run_root=tmp_path / "runs", max_minutes=5, pool=pool, progress=False)
    st = torch.load(run / "state.pt", weights_only=True)
    assert st["step"] == 2
    assert any(not torch.equal(st["model"][k], before[k]) for k in before)
    assert all(torch.equal(load_checkpoint(path)[0].state_dict()[k], v) for k, v in before.items())
    with pytest.raises(ValueError, match="complement_augment must be between 1 and 8"):
        pool_and_config(complement=str(path), complement_augment=9)


@pytest.mark.parametrize("kind", ["ATSP", "ACVRPTW"])
def test_training_with_dihedral_augmentation_runs(tmp_path, kind):
    """``[train] augment``: each instance is rolled out under that many transforms (the batch
    stays the instances drawn: 4 a step), and training moves the weights."""
    pool, cfg = pool_and_config(kind, max_steps=2, augment=4)
    run = train(cfg, run_root=tmp_path, max_minutes=5, pool=pool, progress=False)
    st = torch.load(run / "state.pt", weights_only=True)
    assert st["step"] == 2 and st["instances"] == 8
    lines = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    assert all(np.isfinite(x["loss"]) for x in lines if x["type"] == "train")


def test_config_rejects_an_augmentation_beyond_the_eight_transforms(tmp_path):
    p = tmp_path / "aug.toml"
    p.write_text('[model]\nkind = "ACVRP"\n[train]\naugment = 9\n')
    with pytest.raises(ValueError, match="augment must be between 1 and 8"):
        load_config(p)
    with pytest.raises(ValueError, match="augment must be between 1 and 8"):
        pool_and_config(augment=0)


def test_data_stream_is_a_function_of_the_step():
    pool, cfg = pool_and_config()
    a = [b for _, b in zip(range(5), batch_stream(pool, cfg, 0))]
    b = [b for _, b in zip(range(2), batch_stream(pool, cfg, 3))]
    assert a[3][0] == b[0][0]
    assert (a[3][1].index == b[0][1].index).all() and (a[4][1].demand == b[1][1].demand).all()


@pytest.mark.parametrize("kind", ["ATSP", "ACVRPTW"])
def test_training_runs_logs_and_resumes(tmp_path, kind):
    pool, cfg = pool_and_config(kind, max_steps=3)
    run = train(cfg, run_root=tmp_path, max_minutes=5, pool=pool, progress=False)
    st = torch.load(run / "state.pt", weights_only=True)
    assert st["step"] == 3 and st["instances"] == 12
    lines = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines if x["type"] == "train"] == [1, 2, 3]
    assert sum(x["type"] == "val" for x in lines) == 2
    assert json.loads((run / "validation.json").read_text())["count"] == 4
    assert (run / "train.log").read_text()
    cfg.max_steps = 5
    train(cfg, run_root=tmp_path, max_minutes=5, pool=pool, progress=False)
    st2 = torch.load(run / "state.pt", weights_only=True)
    assert st2["step"] == 5 and st2["instances"] == 20
    assert any(not torch.equal(st["model"][k], st2["model"][k]) for k in st["model"])


def test_resume_refuses_a_different_architecture(tmp_path):
    pool, cfg = pool_and_config("ATSP", max_steps=1)
    train(cfg, run_root=tmp_path, max_minutes=5, pool=pool, progress=False)
    pool, cfg2 = pool_and_config("ATSP", max_steps=2)
    cfg2.model = ModelConfig("ATSP", embed_dim=8, num_layers=1, ff_hidden=16, num_heads=4, sample_k=5)
    with pytest.raises(ValueError, match="use a new run name"):
        train(cfg2, run_root=tmp_path, max_minutes=5, pool=pool, progress=False)


def test_mixed_sizes_scale_the_batch():
    pool, cfg = pool_and_config(sizes=(4, 6, 8))
    seen = {}
    for _, (step, batch) in zip(range(40), batch_stream(pool, cfg, 0)):
        m = batch.index.shape[1] - 1
        seen[m] = len(batch)
    assert set(seen) <= {4, 6, 8} and len(seen) >= 2
    for size, count in seen.items():
        assert count == max(1, round(cfg.batch_size * cfg.n / size))


def test_init_checkpoint_starts_from_shipped_weights(tmp_path):
    from hybridroute.neural.checkpoint import save_checkpoint

    from neural_helpers import tiny_policy

    src = tiny_policy("ATSP", seed=9)
    path = save_checkpoint(src, tmp_path / "m" / "start.safetensors", {"n": 6})
    pool, cfg = pool_and_config("ATSP", max_steps=0, init_checkpoint=str(path))
    cfg.model = src.config
    run = train(cfg, run_root=tmp_path / "runs", max_minutes=1, pool=pool, progress=False)
    st = torch.load(run / "state.pt", weights_only=True)
    for k, v in src.state_dict().items():
        assert torch.equal(st["model"][k], v), k


def test_a_repository_relative_init_checkpoint_resolves_from_any_directory(tmp_path, monkeypatch):
    from hybridroute.neural.train import REPO_ROOT, init_checkpoint_path

    monkeypatch.chdir(tmp_path)
    rel = "hybridroute/neural/configs/atsp20.toml"  # any committed file
    assert init_checkpoint_path(rel) == REPO_ROOT / rel
    assert init_checkpoint_path("rrnco-atsp20") == "rrnco-atsp20"  # a name is left to the checkpoint search


FINE_TUNING_CONFIGS = sorted(p.stem for p in CONFIG_DIR.glob("*.toml") if "init_checkpoint" in p.read_text())

# The checkpoint each fine-tuning config starts from, by the first 12 hex digits of its sha256.
# The ACVRPTW runs that built the shipped policy start from the imitation export kept beside
# the shipped run (the shipped file was then replaced by the fine-tuned export).
FINE_TUNING_BASES = {
    "acvrptw-imit-rl50": "c56f372bf257", "acvrptw-imit-rl": "c56f372bf257",
    "acvrptw-imit-rl2050": "b8712fc222a7", "acvrptw-rl50-l6": "c0c3c72d6815", "acvrptw-rl50-l6b": "c0c3c72d6815",
    "acvrptw-rl50-l6f": "c0c3c72d6815", "acvrptw-leader2": "b8712fc222a7", "acvrptw-leader8": "b8712fc222a7",
    "acvrptw-leader2-mixed": "b8712fc222a7", "acvrptw-sym8": "b8712fc222a7",
    "acvrptw-window": "002b3b107c68", "acvrptw-window-mixed": "002b3b107c68",
    "acvrptw-tf50-rl": "e55e2ed48f5d", "acvrptw-complement2": "b8712fc222a7", "acvrptw-complement5": "b8712fc222a7",
    "acvrp-imit-rl50": "d5238edaed85", "atsp-mixed50": "b53068274c9f",
}


@pytest.mark.parametrize("name", FINE_TUNING_CONFIGS)
def test_every_fine_tuning_config_starts_from_its_recorded_base(name):
    """A committed config with ``init_checkpoint`` can be run again: its base is in the
    repository (or a shipped name), is the checkpoint recorded for it (verified by its card's
    sha256), and has the config's model."""
    from hybridroute.neural.checkpoint import load_checkpoint
    from hybridroute.neural.train import init_checkpoint_path

    cfg = load_config(name)
    model, card = load_checkpoint(init_checkpoint_path(cfg.init_checkpoint))
    assert card["sha256"].startswith(FINE_TUNING_BASES[name])
    assert model.config == cfg.model


def test_a_terminated_run_saves_its_state_and_returns(tmp_path, monkeypatch, caplog):
    """SIGTERM (a session's end, a batch system's limit) stops the run between steps with its
    state saved and validated, instead of losing the steps since the last checkpoint."""
    import os
    import signal

    import hybridroute.neural.train as train_module

    stream = train_module.batch_stream

    def terminated_before_step_3(pool, cfg, start):
        for step, batch in stream(pool, cfg, start):
            if step == 3:
                os.kill(os.getpid(), signal.SIGTERM)
            yield step, batch

    monkeypatch.setattr(train_module, "batch_stream", terminated_before_step_3)
    pool, cfg = pool_and_config()
    before = signal.getsignal(signal.SIGTERM)
    with caplog.at_level("INFO", logger="hybridroute.neural.train"):
        run = train(cfg, run_root=tmp_path / "runs", max_minutes=5, pool=pool, progress=False)
    assert "stopping after this step" in caplog.text
    assert torch.load(run / "state.pt", weights_only=True)["step"] == 3
    last = json.loads((run / "log.jsonl").read_text().splitlines()[-1])
    assert last["type"] == "val" and last["step"] == 3
    assert signal.getsignal(signal.SIGTERM) is before
