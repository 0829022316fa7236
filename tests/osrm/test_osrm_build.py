"""City building end to end with a real osrm-routed, and the road-sampling rules."""

from __future__ import annotations

import json
import logging
import time

import numpy as np
import pytest
from osrm_support import extract, require_osmium, require_osrm

import hybridroute as hr
from hybridroute.osrm.build import (ATTRIBUTION, CAR_HIGHWAYS, _is_car_road, _Sampler, build_city, build_city_main,
                                    matrix_stats, read_road_network, sample_along)
from hybridroute.osrm.cities import load_city, sample_instances

logger = logging.getLogger(__name__)


@pytest.fixture(scope="module")
def krems_city(tmp_path_factory):
    require_osrm()
    require_osmium()
    out = tmp_path_factory.mktemp("cities")
    t0 = time.perf_counter()
    city = build_city(extract("krems.osm.gz"), n_points=100, seed=1, out=out,
                      work_dir=tmp_path_factory.mktemp("osrm-work"))
    logger.warning("build_city(krems.osm.gz, 100 points) took %.1f s", time.perf_counter() - t0)
    return city, out


@pytest.mark.osrm
def test_build_city_writes_a_complete_city_with_stats(krems_city):
    city, out = krems_city
    path = out / "Krems_data.npz"
    loaded = load_city(path)
    assert loaded.name == "Krems" and loaded.size == 100
    assert np.isfinite(loaded.distance).all() and np.isfinite(loaded.duration).all()
    with np.load(path) as z:
        assert z["distance"].dtype == np.float32 and z["duration"].dtype == np.float32
    np.testing.assert_allclose(loaded.distance, city.distance, rtol=1e-6)
    meta = loaded.meta
    assert meta["attribution"] == ATTRIBUTION and "OpenStreetMap" in meta["attribution"]
    assert meta["source"] == "krems.osm.gz" and len(meta["source_sha256"]) == 64
    assert meta["n_points"] == 100 and not meta["short"] and meta["osrm"].startswith("v")
    for key in ("dropped_snap", "dropped_unreachable", "null_fraction", "asymmetry", "triangle_violations",
                "build_seconds", "candidates"):
        assert key in meta
    assert meta["candidates"] >= 100 + meta["dropped_snap"] + meta["dropped_unreachable"]
    stats = json.loads((out / "Krems_stats.json").read_text(encoding="utf-8"))
    assert stats["asymmetry"] == meta["asymmetry"]
    # km and minutes: Krems is a small town, so kilometres (not metres) and a city speed
    off = ~np.eye(100, dtype=bool)
    assert 0.1 < loaded.distance[off].mean() < 10
    assert 5 < 60 * loaded.distance[off].sum() / loaded.duration[off].sum() < 90
    assert meta["asymmetry"] > 0.0


@pytest.mark.osrm
def test_built_points_lie_in_the_sampling_box(krems_city):
    city, _ = krems_city
    lat0 = np.deg2rad(city.points[:, 0].mean())
    span_km = np.ptp(city.points, axis=0) * 111.2 * np.array([1.0, np.cos(lat0)])
    assert (span_km <= 3.0 + 0.05).all()


@pytest.mark.osrm
@pytest.mark.parametrize("kind", ["ATSP", "ACVRP", "ACVRPTW"])
def test_sampled_instances_from_a_built_city_are_valid(krems_city, kind):
    city, out = krems_city
    problems = sample_instances(out / "Krems_data.npz", kind, 20, 3, seed=0)
    assert len(problems) == 3
    for p in problems:
        assert p.kind is hr.ProblemKind.parse(kind)
        assert hr.solve(p, "nearest").routes


@pytest.mark.osrm
def test_cli_builds_a_city(tmp_path):
    require_osrm()
    require_osmium()
    target = tmp_path / "Tiny_data.npz"
    assert build_city_main([str(extract("Helsinki.osm.pbf")), "-o", str(target), "--points", "30",
                            "--name", "Tiny", "--work-dir", str(tmp_path / "w"), "-q"]) == 0
    city = load_city(target)
    assert city.name == "Tiny" and city.size == 30


def test_car_road_filter():
    assert _is_car_road({"highway": "residential"}, CAR_HIGHWAYS)
    assert _is_car_road({"highway": "primary", "oneway": "yes"}, CAR_HIGHWAYS)
    for tags in ({"highway": "motorway"}, {"highway": "motorway_link"}, {"highway": "footway"},
                 {"highway": "residential", "bridge": "yes"}, {"highway": "residential", "tunnel": "yes"},
                 {"highway": "residential", "access": "private"}, {"highway": "residential", "layer": "-1"},
                 {"highway": "residential", "motor_vehicle": "no"}, {"highway": "residential", "area": "yes"}):
        assert not _is_car_road(tags, CAR_HIGHWAYS), tags
    assert _is_car_road({"highway": "residential", "bridge": "no"}, frozenset({"residential"}))


def test_sampling_along_roads_is_reproducible_and_avoids_water():
    require_osmium()
    net = read_road_network(extract("Helsinki.osm.pbf"))
    assert len(net.water) > 0  # Helsinki's shore is in the extract
    a = sample_along(extract("Helsinki.osm.pbf"), 200, seed=5)
    b = sample_along(extract("Helsinki.osm.pbf"), 200, seed=5)
    np.testing.assert_array_equal(a, b)
    sampler = _Sampler(net, 3.0, 50.0)
    assert not sampler.near_water(a).any()
    # every point lies on a road segment: distance to the nearest segment is ~0
    seg_a, seg_b = sampler.a, sampler.b
    ab = seg_b - seg_a
    t = np.clip(((a[:, None] - seg_a[None]) * ab[None]).sum(-1) / np.maximum((ab ** 2).sum(-1), 1e-18), 0, 1)
    gap = np.linalg.norm(seg_a[None] + t[..., None] * ab[None] - a[:, None], axis=-1).min(axis=1)
    assert gap.max() < 1e-9


def test_matrix_stats():
    d = np.array([[0, 1, 10], [1, 0, 1], [10, 1, 0]], dtype=float)
    s = matrix_stats(d, d, triples=5000)
    assert s["asymmetry"] == 0.0 and s["triangle_violations"] > 0
    d2 = np.array([[0, 2, 2], [1, 0, 2], [2, 2, 0]], dtype=float)
    assert matrix_stats(d2, d2)["asymmetry"] == pytest.approx(2 / 11, abs=1e-5)
