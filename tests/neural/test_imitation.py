"""Imitation training: labels reproducible from (city, n, seed), teacher forcing scores the
label's moves, training on labels lowers their NLL, and a run resumes where it stopped."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("elkai")

import hybridroute as hr  # noqa: E402
from hybridroute.neural import imitation  # noqa: E402
from hybridroute.neural.env import instances_from_batch  # noqa: E402
from hybridroute.neural.policy import ModelConfig, RRNCOPolicy, local_scale  # noqa: E402
from hybridroute.osrm.cities import bundled_city, sample_batch  # noqa: E402

BUNDLED = Path(hr.__file__).resolve().parent / "data" / "cities"


@pytest.fixture
def cfg(tmp_path) -> imitation.ImitationConfig:
    """A tiny ATSP run over the bundled Monaco city, validated on the bundled Helsinki."""
    cities = tmp_path / "cities"
    cities.mkdir()
    for name in ("Monaco", "Helsinki"):
        shutil.copy(BUNDLED / f"{name}_data.npz", cities / f"{name}_data.npz")
    model = ModelConfig(kind="ATSP", embed_dim=16, num_layers=1, ff_hidden=32, num_heads=2, sample_k=5,
                        attention="aft", dist_scale="knn")
    return imitation.ImitationConfig(name="tiny", model=model, sizes=(8, 12), label_count=4, label_chunks=2,
                                     cities_dir=str(cities), runs_root=str(tmp_path / "runs"),
                                     batch_size=4, rotations=3, lr=3e-3, val_sizes=(10,), val_count=2,
                                     log_every=5, val_minutes=1e9, checkpoint_minutes=1e9)


def test_the_schedule_cycles_cities_then_sizes():
    got = [imitation.label_schedule(["A", "B"], (20, 50), 7, c)[:2] for c in range(5)]
    assert got == [("A", 20), ("B", 20), ("A", 50), ("B", 50), ("A", 20)]


def test_sizes_added_later_leave_the_earlier_chunks_where_they_were():
    base = [imitation.label_schedule(["A", "B"], (20, 50), 7, c) for c in range(6)]
    later = {4: (500,), 8: (100, 200)}
    got = [imitation.label_schedule(["A", "B"], (20, 50), 7, c, later) for c in range(12)]
    assert got[:4] == base[:4]
    assert [g[:2] for g in got[4:]] == [("A", 500), ("B", 500), ("A", 500), ("B", 500),
                                        ("A", 100), ("B", 100), ("A", 200), ("B", 200)]
    assert len({g[2] for g in got}) == 12  # every chunk keeps its own seed
    assert imitation.label_schedule(["A"], (20,), 7, 0, {0: (30,)})[1] == 30


def test_a_config_reads_sizes_added_later(tmp_path):
    cfg = imitation.load_config("acvrptw-imit")  # n = 20-200, then 500 and 100 from chunk 88, 50 and 100 from 132, ...
    assert cfg.sizes == (20, 50, 100, 200)
    later = {88: (500, 100), 132: (50, 100), 198: (50, 100, 50, 200)}
    assert cfg.sizes_from_chunk == later
    assert cfg.all_sizes == (20, 50, 100, 200, 500)
    # the run folder's copy of the config reads back the same
    copy = tmp_path / "copy.toml"
    copy.write_text(imitation._toml(cfg.source))
    assert imitation.load_config(copy).sizes_from_chunk == later


def test_labels_are_tours_and_reproducible_from_city_n_and_seed():
    city = bundled_city("Monaco")
    a = imitation.make_labels(city, "ATSP", 12, 3, seed=5)
    b = imitation.make_labels(city, "ATSP", 12, 3, seed=5)
    np.testing.assert_array_equal(a["tours"], b["tours"])
    assert a["tours"].dtype == np.int16
    for tour in a["tours"]:
        assert tour[0] == 0 and sorted(tour.tolist()) == list(range(12))


def test_teacher_forcing_scores_every_free_move_of_the_label():
    city = bundled_city("Monaco")
    labels = imitation.make_labels(city, "ATSP", 10, 2, seed=1)
    inst = instances_from_batch(sample_batch(city, "ATSP", 10, 2, seed=1))
    policy = RRNCOPolicy(ModelConfig(kind="ATSP", embed_dim=16, num_layers=1, ff_hidden=32, num_heads=2,
                                     sample_k=5, attention="aft", dist_scale="knn"))
    seq = torch.as_tensor(labels["tours"].astype(np.int64))[:, None, :]
    logp, counted = imitation.teacher_forced_logp(policy, inst, seq[..., 0], seq[..., 1:])
    assert logp.shape == (2, 1, 9) and torch.isfinite(logp).all()
    # the last move of an ATSP tour is forced (one node left): it does not count
    assert counted[..., :-1].all() and not counted[..., -1].any()
    assert (logp[counted] < 0).all()


@pytest.mark.parametrize("kind", ["ATSP", "ACVRP", "ACVRPTW"])
def test_teacher_forcing_gives_the_log_probabilities_of_a_step_by_step_decode(kind):
    """All decisions are scored in one decoder call; they must equal what the decoding loop
    computes move by move along the same sequence."""
    city = bundled_city("Monaco")
    inst = instances_from_batch(sample_batch(city, kind, 12, 2, seed=3), dtype=torch.float32)
    policy = RRNCOPolicy(ModelConfig(kind=kind, embed_dim=16, num_layers=1, ff_hidden=32, num_heads=2,
                                     sample_k=5, attention="aft", dist_scale="knn"))
    starts = torch.tensor([[0, 3, 7], [1, 5, 11]]) if kind == "ATSP" else torch.tensor([[1, 4, 9], [2, 6, 10]])
    rollout = policy(inst, starts, decode="greedy", generator=torch.Generator().manual_seed(0))
    logp, counted = imitation.teacher_forced_logp(policy, inst, starts, rollout.actions,
                                                  generator=torch.Generator().manual_seed(0))
    assert logp.shape == rollout.actions.shape and counted.any()
    torch.testing.assert_close(logp.sum(-1), rollout.logp, rtol=1e-5, atol=1e-5)


def test_training_lowers_the_labels_nll_and_resumes(cfg):
    assert imitation.write_labels(cfg, max_minutes=1) == 2
    # bounded by steps, not minutes: the same curve on a loaded machine as on an idle one
    rdir = imitation.train(cfg, max_minutes=60, until_step=60)
    log = [r for r in map(__import__("json").loads, (rdir / "log.jsonl").read_text().splitlines()) if "nll" in r]
    assert [r["step"] for r in log] == list(range(5, 61, 5))
    # a label's per-move NLL depends on n, so compare records of the same size
    for n in {r["n"] for r in log}:
        same = [r["nll"] for r in log if r["n"] == n]
        assert len(same) >= 2 and same[-1] < same[0], (n, same)
    assert torch.load(rdir / "state.pt", weights_only=True)["step"] == 60
    imitation.train(cfg, max_minutes=60, until_step=65)  # resumes: five more steps, then stops
    assert torch.load(rdir / "state.pt", weights_only=True)["step"] == 65
    assert (rdir / "validation.json").exists()


def test_batch_nodes_shrinks_the_batch_of_large_instances_only(cfg):
    assert imitation.step_batch_size(cfg, 12, 4) == 4
    capped = dataclasses.replace(cfg, batch_size=16, batch_nodes=3216)
    assert imitation.step_batch_size(capped, 201, 32) == 16
    assert imitation.step_batch_size(capped, 501, 32) == 6
    assert imitation.step_batch_size(capped, 5000, 32) == 1
    assert imitation.step_batch_size(capped, 101, 3) == 3


def test_a_run_counts_the_instances_it_saw(cfg):
    capped = dataclasses.replace(cfg, batch_nodes=20)  # one 12-node or two 8-node instances a step
    imitation.write_labels(capped, max_minutes=1)
    rdir = imitation.train(capped, max_minutes=60, until_step=10)
    state = torch.load(rdir / "state.pt", weights_only=True)
    assert state["step"] == 10 and state["step"] <= state["instances"] <= 2 * state["step"]
    card = __import__("json").loads(imitation.export(capped, rdir / "tiny.safetensors").with_suffix(".json")
                                    .read_text())
    assert card["training"]["instances"] == state["instances"]


def test_the_local_scale_is_the_same_at_every_size_for_the_same_density():
    """Max-normalised distances shrink as 1/sqrt(n); the k-NN scale follows them, so distances
    the model sees keep their size (issue: the decoder stopped acting locally at n = 100)."""
    city = bundled_city("Helsinki")
    seen = []
    for n in (20, 150):
        inst = instances_from_batch(sample_batch(city, "ATSP", n, 8, seed=0))
        d = inst.dist / local_scale(inst.dist)[:, None, None]
        nearest = (d + torch.eye(n) * 1e9).min(-1).values.mean()
        seen.append(float(nearest))
    assert 0.5 < seen[1] / seen[0] < 2.0


def test_aft_attention_keeps_the_neighbour_signal_at_larger_m():
    """One strongly preferred neighbour per row: after normalisation the paper's weights give
    it about 1/m (it fades with m), AFT-full's keep it near 1 at every m."""
    from hybridroute.neural.encoder import attention_factor

    for m in (20, 200):
        a = torch.zeros(1, m, m)
        a[..., 0] = 8.0  # every node prefers node 0
        weights = {mode: attention_factor(a, -1, mode) for mode in ("rrnco", "aft")}
        top = {mode: float((w[..., 0] / w.sum(-1)).mean()) for mode, w in weights.items()}
        assert top["aft"] > 0.9
        assert top["rrnco"] < 3.0 / m


def test_a_pack_holds_the_cities_compactly_and_loads_as_cities(cfg, tmp_path):
    from hybridroute.osrm.cities import load_city

    out = imitation.write_pack(cfg, tmp_path / "pack")
    for name in ("Monaco", "Helsinki"):
        full = load_city(Path(cfg.cities_dir) / f"{name}_data.npz")
        packed = load_city(out / f"{name}_data.npz")
        np.testing.assert_allclose(packed.distance, full.distance, rtol=1e-3, atol=1e-3)
        np.testing.assert_array_equal(packed.duration, packed.distance)  # ATSP never reads durations
    assert imitation.training_city_names(dataclasses.replace(cfg, cities_dir=str(out))) == ["Monaco"]


def test_an_exported_run_loads_as_a_checkpoint_and_solves(cfg, tmp_path):
    from hybridroute.neural.checkpoint import load_checkpoint

    imitation.write_labels(cfg, max_minutes=1)
    imitation.train(cfg, max_minutes=60, until_step=5)
    path = imitation.export(cfg, tmp_path / "rrnco-tiny.safetensors")
    policy, card = load_checkpoint(path)
    assert card["model_config"]["attention"] == "aft" and card["training"]["steps"] >= 1
    assert "trained at mixed n = 8, 12 " in path.with_suffix(".md").read_text()
    problem = hr.osrm.sample_instances("Helsinki", "ATSP", 15, 1, seed=3)[0]
    sol = hr.get_solver("rrnco", checkpoint=str(path)).solve(problem, time_limit=60)
    assert sol.is_feasible and sol.stats["checkpoint"] == "rrnco-tiny"


def test_vrp_labels_in_any_route_order_replay_to_the_label_cost():
    """Route order carries no meaning: every reordering the trainer draws is the same solution,
    and teacher forcing follows it to the end (finite log-probabilities, the label's length)."""
    pytest.importorskip("pyvrp")
    city = bundled_city("Monaco")
    labels = imitation.make_labels(city, "ACVRP", 12, 2, seed=4)
    batch = sample_batch(city, "ACVRP", 12, 2, seed=4)
    inst = instances_from_batch(batch, dtype=torch.float64)
    seqs = imitation._rotations(labels["tours"], 3, np.random.default_rng(0), hr.ProblemKind.ACVRP)
    policy = RRNCOPolicy(ModelConfig(kind="ACVRP", embed_dim=16, num_layers=1, ff_hidden=32, num_heads=2,
                                     sample_k=5, attention="aft", dist_scale="knn"))
    seq = torch.as_tensor(seqs)
    logp, counted = imitation.teacher_forced_logp(policy, inst, seq[..., 0], seq[..., 1:])
    assert torch.isfinite(logp).all() and counted.any()
    from hybridroute.neural.env import RoutingEnv

    state = RoutingEnv(inst).rollout(seq[..., 0], seq[..., 1:].clamp_min(0))
    assert state.done.all()
    km = state.length * inst.dist_scale[:, None] * 1000.0  # city batches are in km
    np.testing.assert_allclose(km.numpy(), np.repeat(labels["costs"][:, None], 3, 1), rtol=1e-6)


def test_a_terminated_run_saves_its_state_and_returns(cfg, monkeypatch, caplog):
    import os
    import signal

    imitation.write_labels(cfg, max_minutes=1)
    step_data = imitation._step_data

    def terminated_at_step_3(store, c, step):
        if step == 3:
            os.kill(os.getpid(), signal.SIGTERM)  # as a session's end or a batch system would
        return step_data(store, c, step)

    monkeypatch.setattr(imitation, "_step_data", terminated_at_step_3)
    before = signal.getsignal(signal.SIGTERM)
    with caplog.at_level("INFO", logger="hybridroute.neural.imitation"):
        rdir = imitation.train(cfg, max_minutes=1)
    assert "stopping after this step" in caplog.text
    assert torch.load(rdir / "state.pt", weights_only=True)["step"] == 4  # the step under way finished
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_run_keeps_its_best_validation_and_exports_it(cfg, monkeypatch):
    import json

    imitation.write_labels(cfg, max_minutes=1)
    gaps = iter([5.0, 3.0, 4.0])  # the second validation is the best
    monkeypatch.setattr(imitation, "validate", lambda *a, **k: {"gap_n10_pct": next(gaps)})
    rdir = imitation.train(cfg, max_minutes=60, until_step=3)  # validates once, at its end
    first = torch.load(rdir / imitation.BEST_FILE, weights_only=True)["validation"]["step"]
    rdir = imitation.train(cfg, max_minutes=60, until_step=6)
    best = torch.load(rdir / imitation.BEST_FILE, weights_only=True)
    assert best["score"] == 3.0 and best["validation"]["step"] > first
    imitation.train(cfg, max_minutes=60, until_step=9)  # worse: the best stays
    kept = torch.load(rdir / imitation.BEST_FILE, weights_only=True)
    assert kept["validation"]["step"] == best["validation"]["step"]
    last = torch.load(rdir / "state.pt", weights_only=True)
    assert last["step"] > kept["validation"]["step"]
    card = json.loads(imitation.export(cfg, rdir / "best.safetensors", best=True).with_suffix(".json").read_text())
    assert card["training"]["steps"] == kept["validation"]["step"]
    assert [c["gap_pct"] for c in card["validation"]["curve"]] == [5.0, 3.0]
    from hybridroute.neural.checkpoint import load_checkpoint
    policy, _ = load_checkpoint(rdir / "best.safetensors")
    assert all(torch.equal(v, kept["model"][k]) for k, v in policy.state_dict().items())


def test_label_workers_share_the_schedule_and_write_the_same_files(cfg, tmp_path):
    cfg = dataclasses.replace(cfg, label_chunks=3)
    names = imitation.training_city_names(cfg)
    expected = {imitation.label_path(cfg, *imitation.chunk_spec(cfg, names, c)) for c in range(3)}
    assert imitation.write_labels_parallel(cfg, max_minutes=2, workers=2) == 3
    written = set(imitation.run_dir(cfg).glob("labels/**/*.npz"))
    assert written == expected
    # the same chunks from one worker: identical tours (a chunk depends on city, n and seed only)
    single = dataclasses.replace(cfg, runs_root=str(tmp_path / "single"))
    assert imitation.write_labels(single, max_minutes=2) == 3
    for c in range(3):
        spec = imitation.chunk_spec(cfg, names, c)
        with np.load(imitation.label_path(cfg, *spec)) as a, np.load(imitation.label_path(single, *spec)) as b:
            np.testing.assert_array_equal(a["tours"], b["tours"])
    # a second pass has nothing left to write
    assert imitation.write_labels_parallel(cfg, max_minutes=2, workers=2) == 0


def test_a_shard_outside_the_workers_is_refused(cfg):
    with pytest.raises(ValueError, match="shard: index 2"):
        imitation.write_labels(cfg, max_minutes=1, shard=(2, 2))


def test_the_learning_rate_schedule_is_a_function_of_the_step(tmp_path):
    cfg = imitation.load_config("acvrp-imit")
    cfg = dataclasses.replace(cfg, lr=2e-4, lr_from_step={100: 1e-4, 50: 1.5e-4})
    assert [cfg.lr_at(s) for s in (0, 49, 50, 99, 100, 10**6)] == [2e-4, 2e-4, 1.5e-4, 1.5e-4, 1e-4, 1e-4]
    # read from TOML, and written back by the run folder's copy of the config
    path = tmp_path / "schedule.toml"
    shipped = [line for line in (imitation.CONFIG_DIR / "acvrp-imit.toml").read_text().splitlines()
               if not line.startswith("lr_from_step")]
    path.write_text("\n".join(shipped).replace("lr = 2e-4", "lr = 2e-4\nlr_from_step = { 9000 = 1e-4 }", 1))
    read = imitation.load_config(path)
    assert read.lr_from_step == {9000: 1e-4} and read.lr_at(9000) == 1e-4
    copy = tmp_path / "copy.toml"
    copy.write_text(imitation._toml(read.source))
    assert imitation.load_config(copy).lr_from_step == {9000: 1e-4}


def test_a_pool_that_grew_keeps_the_earlier_steps_on_the_earlier_chunks(cfg):
    imitation.write_labels(cfg, max_minutes=1)
    grown = dataclasses.replace(cfg, chunks_until_step={6: 1})
    assert [grown.chunks_at(s) for s in (0, 5, 6, 100)] == [1, 1, 2, 2]
    store, whole = imitation._LabelStore(grown), imitation._LabelStore(cfg)
    files = store.files_cached()
    seen: list = []
    get = store.get
    store.get = lambda path: (seen.append(path), get(path))[1]
    for s in range(6):
        imitation._step_data(store, grown, s)
    assert set(seen) == {files[0]}  # steps before 6 drew only from the pool they had
    later = [imitation._step_data(store, grown, s) for s in range(6, 30)]
    assert set(seen) == set(files)
    # from step 6 on the steps are those of a run that had the whole pool from the start
    for s, (_, seqs, form, _) in enumerate(later, start=6):
        _, whole_seqs, whole_form, _ = imitation._step_data(whole, cfg, s)
        np.testing.assert_array_equal(seqs, whole_seqs)
        assert form == whole_form
    with pytest.raises(ValueError, match="chunks_until_step"):
        dataclasses.replace(cfg, chunks_until_step={6: 3})
    # the shipped configs record when their pools grew
    assert imitation.load_config("acvrp-imit").chunks_at(5485) == 88
    assert imitation.load_config("atsp-imit").chunks_at(7963) == 440


def test_a_resumed_run_takes_the_configs_learning_rate_not_the_saved_one(cfg):
    imitation.write_labels(cfg, max_minutes=1)
    rdir = imitation.train(dataclasses.replace(cfg, lr=1e-3), max_minutes=60, until_step=10)
    resumed_at = torch.load(rdir / "state.pt", weights_only=True)["step"]
    later = dataclasses.replace(cfg, lr=1e-3, lr_from_step={resumed_at: 1e-5}, weight_decay=0.5)
    imitation.train(later, max_minutes=60, until_step=20)
    group = torch.load(rdir / "state.pt", weights_only=True)["optimizer"]["param_groups"][0]
    assert group["lr"] == 1e-5 and group["weight_decay"] == 0.5
    logged = [r for r in map(__import__("json").loads, (rdir / "log.jsonl").read_text().splitlines()) if "lr" in r]
    assert {r["lr"] for r in logged if r["step"] <= resumed_at} == {1e-3}
    assert {r["lr"] for r in logged if r["step"] > resumed_at + cfg.log_every} == {1e-5}


def test_a_run_averages_its_weights_from_a_step_on_across_resumes_and_exports_the_mean(cfg, monkeypatch):
    import json

    from hybridroute.neural.checkpoint import load_checkpoint

    # a "gap" that reads the weights, to tell which weights each validation saw
    first = lambda policy: float(next(iter(policy.state_dict().values())).double().sum())  # noqa: E731
    monkeypatch.setattr(imitation, "validate", lambda policy, *a, **k: {"gap_n10_pct": first(policy)})
    imitation.write_labels(cfg, max_minutes=1)
    plain = imitation.train(cfg, max_minutes=60, until_step=2)
    assert "average" not in torch.load(plain / "state.pt", weights_only=True)
    assert not (plain / imitation.AVERAGE_FILE).exists()
    with pytest.raises(ValueError, match="average_from_step"):
        imitation.export(cfg, plain / "avg.safetensors", average=True)

    averaged = dataclasses.replace(cfg, average_from_step=4, average_every=2)
    seen = []
    for until in (4, 5, 6, 8):  # steps 4, 6 and 8 are taken; 5 is not; each call resumes the last
        rdir = imitation.train(averaged, max_minutes=60, until_step=until)
        state = torch.load(rdir / "state.pt", weights_only=True)
        if until % 2 == 0:
            seen.append(state["model"])
    # the mean lives beside the resume state, not in it (each committed file stays small)
    assert "average" not in state
    state = {**state, **torch.load(rdir / imitation.AVERAGE_FILE, weights_only=True)}
    assert state["average_count"] == 3 and state["step"] == 8
    for k, v in state["average"].items():
        mean = sum(s[k].double() for s in seen) / 3
        torch.testing.assert_close(v.double(), mean, rtol=1e-6, atol=1e-7)
    out = imitation.export(averaged, rdir / "avg.safetensors", average=True)
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["training"]["weight_average"] == {"from_step": 4, "every": 2, "states": 3}
    # every call validates at its end; the mean's gap is logged beside the weights' from step 4 on
    assert [c["step"] for c in card["validation"]["average_curve"]] == [4, 5, 6, 8]
    assert [c["step"] for c in card["validation"]["curve"]] == [2, 4, 5, 6, 8]
    name = next(iter(state["average"]))
    assert card["validation"]["curve"][-1]["gap_pct"] == pytest.approx(float(state["model"][name].double().sum()))
    assert card["validation"]["average_curve"][-1]["gap_pct"] == pytest.approx(
        float(state["average"][name].double().sum()), rel=1e-5)
    policy, _ = load_checkpoint(out)
    assert all(torch.equal(v, state["average"][k]) for k, v in policy.state_dict().items())
    with pytest.raises(ValueError, match="not both"):
        imitation.export(averaged, rdir / "x.safetensors", average=True, best=True)


def test_weight_averaging_takes_every_nth_step_from_its_first():
    policy = RRNCOPolicy(ModelConfig(kind="ATSP", embed_dim=8, num_layers=1, ff_hidden=16, num_heads=2,
                                     sample_k=3, attention="aft", dist_scale="knn"))
    average = imitation.WeightAverage(from_step=10, every=5)
    for step in range(1, 21):
        average.update(policy, step)
    assert average.count == 3  # steps 10, 15, 20
    assert average.mean is not None and imitation.WeightAverage(None, 5).mean is None


def test_a_mean_saved_inside_the_state_or_at_another_step_is_kept(cfg, tmp_path, caplog):
    # states saved before the mean had a file of its own kept it inside state.pt
    policy = RRNCOPolicy(cfg.model)
    mean = {k: v + 1.0 for k, v in policy.state_dict().items()}
    average = imitation.WeightAverage(from_step=4, every=2)
    average.load(tmp_path / imitation.AVERAGE_FILE, {"step": 6, "average": mean, "average_count": 2})
    assert average.count == 2 and all(torch.equal(average.mean[k].float(), v) for k, v in mean.items())
    # a mean saved at another step than the state is kept, with a warning naming both steps
    average.save(tmp_path / imitation.AVERAGE_FILE, step=6)
    again = imitation.WeightAverage(from_step=4, every=2)
    with caplog.at_level("WARNING"):
        again.load(tmp_path / imitation.AVERAGE_FILE, {"step": 8})
    assert again.count == 2 and "from step 6, the resume state from step 8" in caplog.text
    with pytest.raises(ValueError, match="average_every"):
        dataclasses.replace(imitation.load_config("acvrp-imit"), average_every=0)


def test_moving_the_first_averaged_step_starts_a_new_mean(cfg, tmp_path, caplog):
    policy = RRNCOPolicy(cfg.model)
    average = imitation.WeightAverage(from_step=4, every=2)
    for step in (4, 6):
        average.update(policy, step)
    path = tmp_path / imitation.AVERAGE_FILE
    average.save(path, step=6)
    same = imitation.WeightAverage(from_step=4, every=2)
    same.load(path, {"step": 6})
    assert same.count == 2
    moved = imitation.WeightAverage(from_step=8, every=2)
    with caplog.at_level("INFO"):
        moved.load(path, {"step": 6})
    assert moved.mean is None and moved.count == 0 and "starts over" in caplog.text
    moved.update(policy, 8)
    assert moved.count == 1
    # a file from before the key was saved: a mean saved before the new first step is set aside,
    # one saved after it is kept
    legacy = torch.load(path, weights_only=True)
    del legacy["from_step"]
    torch.save(legacy, path)
    for from_step, kept in ((8, 0), (2, 2)):
        again = imitation.WeightAverage(from_step=from_step, every=2)
        again.load(path, {"step": 6})
        assert again.count == kept
