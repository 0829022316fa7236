"""OSRMClient and LocalOSRM against a real osrm-routed over the Helsinki extract."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from osrm_support import extract, process_gone, require_osmium, require_osrm

import hybridroute as hr
from hybridroute.osrm import bundled_city
from hybridroute.osrm.client import OSRMClient
from hybridroute.osrm.errors import OSRMError, OSRMResponseError, OSRMSnapError, OSRMUnreachableError
from hybridroute.osrm.server import LocalOSRM, prepare_extract

pytestmark = pytest.mark.osrm

SEA = (60.1500, 24.9700)  # open water south of central Helsinki: OSRM snaps it far away


@pytest.fixture(scope="session")
def osrm_work(tmp_path_factory):
    return tmp_path_factory.mktemp("osrm-work")


@pytest.fixture(scope="session")
def helsinki(osrm_work):
    """One real osrm-routed for the whole session; the teardown checks it is gone."""
    require_osrm()
    server = LocalOSRM(extract("Helsinki.osm.pbf"), max_table_size=1000, work_dir=osrm_work).start()
    pid = server.pid
    yield server
    server.stop()
    assert not server.running
    assert process_gone(pid), f"osrm-routed (pid {pid}) survived stop()"


@pytest.fixture(scope="module")
def road_points():
    """25 real road points of central Helsinki (from the bundled city)."""
    return bundled_city("Helsinki").points[:25]


@pytest.fixture(scope="module")
def raw_points():
    """80 points sampled along the extract's roads, before any filtering (some are on islands)."""
    require_osmium()
    from hybridroute.osrm.build import sample_along

    return sample_along(extract("Helsinki.osm.pbf"), 80, seed=3)


def test_table_is_metres_seconds_float64_zero_diagonal(helsinki, road_points):
    d, t = helsinki.client().table(road_points)
    assert d.shape == t.shape == (25, 25) and d.dtype == t.dtype == np.float64
    assert np.all(np.diag(d) == 0) and np.all(np.diag(t) == 0)
    assert (d >= 0).all() and (t >= 0).all()
    # central Helsinki is ~1 × 2 km: road distances of metres to a few km, speeds of city traffic
    off = ~np.eye(25, dtype=bool)
    assert 100 < d[off].mean() < 5000
    speed_kmh = 3.6 * d[off].sum() / t[off].sum()
    assert 5 < speed_kmh < 80


def test_real_matrices_are_asymmetric(helsinki, road_points):
    d, _ = helsinki.client().table(road_points)
    assert np.abs(d - d.T).max() > 50.0  # one-way streets: tens of metres at least somewhere


def test_tiled_equals_single_request(helsinki, road_points):
    whole = helsinki.client(max_table_size=1000).raw_table(road_points)
    tiled = helsinki.client(max_table_size=10).raw_table(road_points)
    assert whole.tiles == 1 and tiled.tiles == 9 and tiled.requests == 9
    np.testing.assert_array_equal(tiled.distance, whole.distance)
    np.testing.assert_array_equal(tiled.duration, whole.duration)
    np.testing.assert_allclose(tiled.snap_m, whole.snap_m)


def test_tile_bigger_than_server_limit_is_toobig(helsinki, osrm_work, road_points):
    with LocalOSRM(extract("Helsinki.osm.pbf"), max_table_size=4, work_dir=osrm_work) as small:
        with pytest.raises(OSRMResponseError) as err:
            OSRMClient(small.url, max_table_size=5).table(road_points[:10])
        assert err.value.code == "TooBig" and err.value.status == 400
        # tiles sized to the server's limit succeed and match the big server
        d, _ = small.client().table(road_points[:10])
    np.testing.assert_array_equal(d, helsinki.client().table(road_points[:10]).distance)


def test_invalid_query_reports_osrm_code_and_message(helsinki):
    client = helsinki.client()
    with pytest.raises(OSRMResponseError) as err:
        client._get(f"{helsinki.url}/table/v1/driving/abc", {})
    assert err.value.code == "InvalidQuery" and "malformed" in err.value.message
    assert "InvalidQuery" in str(err.value)


def test_unreachable_pairs_raise_by_default_and_drop_on_request(helsinki, raw_points):
    client = helsinki.client()
    raw = client.raw_table(raw_points)
    missing = np.isnan(raw.distance)
    assert missing.any(), "this sample is expected to hit a disconnected piece of the network"
    with pytest.raises(OSRMUnreachableError) as err:
        client.table(raw_points)
    assert len(err.value.pairs) == missing.sum()
    res = client.table(raw_points, on_unreachable="drop")
    assert set(res.kept) | set(res.dropped) == set(range(len(raw_points)))
    assert not set(res.kept) & set(res.dropped)
    assert all(res.dropped_reason[int(i)] == "unreachable" for i in res.dropped)
    assert np.isfinite(res.distance).all() and np.isfinite(res.duration).all()
    np.testing.assert_array_equal(res.distance, raw.distance[np.ix_(res.kept, res.kept)])
    # greedy drops the minority: far fewer points than the pairs that were missing
    assert 0 < len(res.dropped) < len(raw_points) / 2


def test_snap_distance_is_reported_and_far_points_flagged_dropped_or_refused(helsinki, road_points, caplog):
    pts = np.vstack([road_points[:6], SEA])
    client = helsinki.client()
    with caplog.at_level(logging.WARNING, logger="hybridroute.osrm.client"):
        # the sea point snaps onto a piece of road the others may not reach: drop that, if so
        res = client.table(pts, max_snap_m=5.0, on_snap="flag", on_unreachable="drop")
    assert res.snap_m[6] > 100 and (res.snap_m[:6] < 5).all()
    assert res.flagged.tolist() == [6] and "snapped farther" in caplog.text
    assert res.kept[:6].tolist() == list(range(6))
    assert np.isfinite(res.snapped).all() and abs(res.snapped[6, 0] - SEA[0]) > 1e-4
    dropped = client.table(pts, max_snap_m=5.0, on_snap="drop")
    assert dropped.kept.tolist() == list(range(6)) and dropped.dropped_reason == {6: "snap"}
    with pytest.raises(OSRMSnapError) as err:
        client.table(pts, max_snap_m=5.0, on_snap="raise")
    assert err.value.indices.tolist() == [6]


def test_far_snap_is_refused_by_default(helsinki, road_points):
    """The default limit (1 km) refuses the sea point (snapped ~1.8 km) and keeps road points."""
    pts = np.vstack([road_points[:6], SEA])
    with pytest.raises(OSRMSnapError, match=r"max_snap_m=1000 m .*point 6: \d+ m") as err:
        helsinki.client().table(pts)
    assert err.value.indices.tolist() == [6] and err.value.snap_m[0] > 1000
    assert helsinki.client().table(road_points).snap_m.max() < 1000


def test_cache_resumes_without_http_requests(helsinki, road_points, tmp_path):
    client = helsinki.client(max_table_size=10, cache_dir=tmp_path)
    first = client.raw_table(road_points)
    assert first.requests == 9 and len(list(tmp_path.glob("*.npz"))) == 9
    again = helsinki.client(max_table_size=10, cache_dir=tmp_path).raw_table(road_points)
    assert again.requests == 0
    np.testing.assert_array_equal(again.distance, first.distance)
    # an interrupted build: one tile missing -> exactly that tile is fetched again
    sorted(tmp_path.glob("*.npz"))[0].unlink()
    assert helsinki.client(max_table_size=10, cache_dir=tmp_path).raw_table(road_points).requests == 1


def test_cache_is_keyed_by_server_url(helsinki, road_points, tmp_path):
    helsinki.client(cache_dir=tmp_path).raw_table(road_points[:5])
    other = OSRMClient("http://127.0.0.1:9", cache_dir=tmp_path, retries=0)
    with pytest.raises(OSRMError, match="not reachable"):
        other.raw_table(road_points[:5])  # a different server never gets another server's tiles


def test_preprocessing_is_cached_by_content(osrm_work):
    require_osrm()
    src = extract("Helsinki.osm.pbf")
    a = prepare_extract(src, work_dir=osrm_work)
    b = prepare_extract(src, work_dir=osrm_work)
    assert a == b and (a.parent / "done.json").is_file()


def test_server_stops_on_context_exit_and_exception(osrm_work):
    require_osrm()
    with pytest.raises(RuntimeError, match="boom"):
        with LocalOSRM(extract("Helsinki.osm.pbf"), work_dir=osrm_work) as server:
            pid = server.pid
            assert server.running and not process_gone(pid)
            raise RuntimeError("boom")
    assert process_gone(pid)
    with pytest.raises(OSRMError, match="not running"):
        server.url


def test_server_is_stopped_when_collected(osrm_work):
    require_osrm()
    import gc

    server = LocalOSRM(extract("Helsinki.osm.pbf"), work_dir=osrm_work).start()
    pid = server.pid
    del server
    gc.collect()
    assert process_gone(pid)


def test_startup_failure_reports_the_tool_output(tmp_path):
    require_osrm()
    bad = tmp_path / "broken.osm.pbf"
    bad.write_bytes(b"this is not a PBF file")
    with pytest.raises(OSRMError, match="osrm-extract .*failed") as err:
        LocalOSRM(bad, work_dir=tmp_path / "work").start()
    assert "broken" in str(err.value) or "error" in str(err.value).lower()


def test_problem_from_osrm_builds_a_problem_in_row_order(helsinki, road_points):
    stops = pd.DataFrame({"id": [f"s{i}" for i in range(8)], "lat": road_points[:8, 0],
                          "lon": road_points[:8, 1], "demand": [0] + [1] * 7})
    problem = hr.Problem.from_osrm(stops, helsinki.client(), capacity=4)
    assert problem.kind is hr.ProblemKind.ACVRP and list(problem.ids) == list(stops["id"])
    d, t = helsinki.client().table(road_points[:8])
    np.testing.assert_array_equal(problem.distance, d)
    np.testing.assert_array_equal(problem.duration, t)
    assert hr.solve(problem, "nearest").status.name in ("FEASIBLE", "OPTIMAL")


def test_problem_from_osrm_drops_unreachable_stops_but_never_the_depot(helsinki, road_points):
    pts = np.vstack([road_points[:5], SEA])
    stops = pd.DataFrame({"id": list("abcdef"), "lat": pts[:, 0], "lon": pts[:, 1]})
    with pytest.raises(OSRMSnapError, match="'f'"):
        hr.Problem.from_osrm(stops, helsinki, max_snap_m=5.0, on_snap="raise")
    problem, table = hr.Problem.from_osrm(stops, helsinki.url, max_snap_m=5.0, on_snap="drop",
                                          return_table=True)
    assert list(problem.ids) == list("abcde") and table.dropped.tolist() == [5]
    # the depot (row 0 here) far away: it is refused, never silently dropped
    far_depot = pd.DataFrame({"id": list("fabcde"), "lat": pts[[5, 0, 1, 2, 3, 4], 0],
                              "lon": pts[[5, 0, 1, 2, 3, 4], 1]})
    with pytest.raises(OSRMSnapError, match="'f'"):
        hr.Problem.from_osrm(far_depot, helsinki, max_snap_m=5.0, on_snap="drop")


def test_problem_from_osrm_names_unreachable_stops_by_id(helsinki, raw_points):
    stops = pd.DataFrame({"id": [f"p{i}" for i in range(len(raw_points))], "lat": raw_points[:, 0],
                          "lon": raw_points[:, 1]})
    with pytest.raises(OSRMUnreachableError, match="'p"):
        hr.Problem.from_osrm(stops, helsinki)
    problem, table = hr.Problem.from_osrm(stops, helsinki, on_unreachable="drop", return_table=True)
    assert problem.num_nodes == len(table.kept) and problem.ids[0] == "p0" and 0 in table.kept
    assert np.isfinite(problem.distance).all() and len(table.dropped) > 0
