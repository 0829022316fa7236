"""OSRMClient error paths and tiling against a fake OSRM HTTP server (no executables needed)."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from hybridroute.osrm.client import OSRMClient, drop_unreachable
from hybridroute.osrm.errors import (OSRMConnectionError, OSRMResponseError, OSRMTimeoutError,
                                     OSRMUnreachableError)
from support import serve_http  # noqa: E402


def fake_distance(a, b):
    """Deterministic asymmetric 'road distance' in metres between (lat, lon) points."""
    return 111_000 * (abs(a[0] - b[0]) + abs(a[1] - b[1])) + (7.0 if a[0] < b[0] else 0.0)


class FakeOSRM:
    """A table service computing fake_distance; ``script`` overrides answers per request."""

    def __init__(self):
        self.calls: list[str] = []
        self.script: list[tuple[int, object, float]] = []  # (status, body, delay) consumed in order
        self.null_lat = 89.0  # points at or beyond this latitude are unreachable from/to all others
        self.negative = None  # (i, j, value) to plant in the next answer
        self.max_pairs = None  # sources × destinations limit, as osrm-routed --max-table-size²

    def answer(self, path: str) -> tuple[int, object, float]:
        if self.script:
            return self.script.pop(0)
        url = urlsplit(path)
        coords = [tuple(map(float, c.split(","))) for c in url.path.split("/")[-1].split(";")]
        pts = [(lat, lon) for lon, lat in coords]
        q = parse_qs(url.query)
        src = [int(i) for i in q["sources"][0].split(";")] if "sources" in q else list(range(len(pts)))
        dst = [int(i) for i in q["destinations"][0].split(";")] if "destinations" in q else list(range(len(pts)))
        if self.max_pairs is not None and len(src) * len(dst) > self.max_pairs:
            return 400, {"code": "TooBig", "message": "Too many table coordinates"}, 0.0

        def entry(i, j, scale):
            if i != j and (pts[i][0] >= self.null_lat) != (pts[j][0] >= self.null_lat):
                return None
            return round(fake_distance(pts[i], pts[j]) * scale, 1)

        dist = [[entry(i, j, 1.0) for j in dst] for i in src]
        dur = [[entry(i, j, 0.1) for j in dst] for i in src]
        if self.negative is not None:
            i, j, v = self.negative
            dist[i][j] = v
            self.negative = None
        wp = lambda i: {"location": [pts[i][1], pts[i][0]], "distance": 100.0 * (pts[i][0] >= self.null_lat)}  # noqa: E731
        return 200, {"code": "Ok", "distances": dist, "durations": dur, "sources": [wp(i) for i in src],
                     "destinations": [wp(j) for j in dst]}, 0.0


@pytest.fixture
def fake():
    state = FakeOSRM()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            state.calls.append(self.path)
            status, body, delay = state.answer(self.path)
            time.sleep(delay)
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        def log_message(self, *args):
            pass

    state.url, stop = serve_http(Handler)
    yield state
    stop()


def points(n, seed=0):
    rng = np.random.default_rng(seed)
    # 6 decimals: what the client sends (0.1 m), so the fake's answer is exactly predictable
    return np.round(np.c_[rng.uniform(60.15, 60.18, n), rng.uniform(24.93, 24.96, n)], 6)


def expected(pts):
    return np.array([[0.0 if i == j else round(fake_distance(a, b), 1) for j, b in enumerate(pts)]
                     for i, a in enumerate(pts)])


def test_coordinates_are_sent_lon_lat_and_matrix_is_exact(fake):
    pts = points(5)
    d, t = OSRMClient(fake.url).table(pts)
    np.testing.assert_allclose(d, expected(pts))
    np.testing.assert_allclose(t, np.round(expected(pts) * 0.1, 1))
    path = urlsplit(fake.calls[0]).path
    first = path.split("/")[-1].split(";")[0]
    assert [float(x) for x in first.split(",")] == pytest.approx([pts[0, 1], pts[0, 0]], abs=1e-6)
    assert "annotations=distance%2Cduration" in fake.calls[0] or "annotations=distance,duration" in fake.calls[0]


@pytest.mark.parametrize("n,limit", [(25, 10), (23, 7), (7, 7), (1, 3), (6, 1)])
def test_tiles_respect_the_limit_and_reassemble_exactly(fake, n, limit):
    fake.max_pairs = limit * limit
    pts = points(n, seed=n)
    res = OSRMClient(fake.url, max_table_size=limit).raw_table(pts)
    tiles = (-(-n // limit)) ** 2
    assert res.tiles == tiles and len(fake.calls) == tiles
    np.testing.assert_allclose(res.distance, expected(pts))


def test_oversized_tile_gives_toobig_with_the_servers_message(fake):
    fake.max_pairs = 9
    with pytest.raises(OSRMResponseError) as err:
        OSRMClient(fake.url, max_table_size=4).table(points(8))
    assert err.value.code == "TooBig" and "Too many table coordinates" in str(err.value)


@pytest.mark.parametrize("code", ["InvalidQuery", "NoTable", "InvalidOptions", "NoSegment"])
def test_osrm_error_codes_surface_with_message(fake, code):
    fake.script = [(400, {"code": code, "message": f"the {code} message"}, 0.0)]
    with pytest.raises(OSRMResponseError) as err:
        OSRMClient(fake.url, retries=0).table(points(3))
    assert err.value.code == code and err.value.message == f"the {code} message" and err.value.status == 400
    assert code in str(err.value) and fake.url in str(err.value)


def test_non_json_error_body(fake):
    fake.script = [(404, "<html>not here</html>", 0.0)]
    with pytest.raises(OSRMResponseError, match="HTTP404"):
        OSRMClient(fake.url, retries=0).table(points(3))


def test_5xx_is_retried_then_succeeds(fake):
    fake.script = [(503, {"code": "Busy", "message": "try later"}, 0.0), (502, "bad gateway", 0.0)]
    d, _ = OSRMClient(fake.url, retries=3, backoff_factor=0.0).table(points(4))
    assert len(fake.calls) == 3
    np.testing.assert_allclose(d, expected(points(4)))


def test_persistent_5xx_raises_after_retries(fake):
    fake.script = [(500, {"code": "InternalError", "message": "boom"}, 0.0)] * 3
    with pytest.raises(OSRMResponseError) as err:
        OSRMClient(fake.url, retries=2, backoff_factor=0.0).table(points(4))
    assert len(fake.calls) == 3 and err.value.status == 500 and err.value.code == "InternalError"


def test_4xx_is_not_retried(fake):
    fake.script = [(400, {"code": "InvalidQuery", "message": "bad"}, 0.0)]
    with pytest.raises(OSRMResponseError):
        OSRMClient(fake.url, retries=3, backoff_factor=0.0).table(points(4))
    assert len(fake.calls) == 1


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_server_down_is_a_clear_connection_error():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(OSRMConnectionError, match="not reachable") as err:
        OSRMClient(url, retries=1, backoff_factor=0.0).table(points(3))
    assert url in str(err.value)
    assert isinstance(err.value, ConnectionError)


@pytest.mark.parametrize("retries", [0, 1])
def test_timeout_is_a_clear_timeout_error(fake, retries):
    fake.script = [(200, {"code": "Ok"}, 1.0)] * (retries + 1)
    with pytest.raises(OSRMTimeoutError, match="did not answer within 0.2 s"):
        OSRMClient(fake.url, timeout=0.2, retries=retries, backoff_factor=0.0).table(points(3))
    assert len(fake.calls) == retries + 1


def test_nulls_raise_listing_pairs(fake):
    pts = points(6)
    pts[[2, 4]] = [[89.5, 24.9], [89.6, 24.9]]
    with pytest.raises(OSRMUnreachableError) as err:
        OSRMClient(fake.url).table(pts)
    pairs = {tuple(p) for p in err.value.pairs.tolist()}
    assert (0, 2) in pairs and (2, 0) in pairs and (2, 4) not in pairs and len(pairs) == 16
    assert "16 of 30 pairs" in str(err.value) and "and 11 more" in str(err.value)


def test_nulls_dropped_on_request(fake):
    pts = points(6)
    pts[[2, 4]] = [[89.5, 24.9], [89.6, 24.9]]
    res = OSRMClient(fake.url).table(pts, on_unreachable="drop")
    assert res.kept.tolist() == [0, 1, 3, 5] and res.dropped.tolist() == [2, 4]
    assert res.dropped_reason == {2: "unreachable", 4: "unreachable"}
    assert res.null_fraction == pytest.approx(16 / 30)
    np.testing.assert_allclose(res.distance, expected(pts[[0, 1, 3, 5]]))


def test_depot_is_protected_from_dropping(fake):
    pts = points(4)
    pts[0] = [89.5, 24.9]  # the depot alone on its island: everyone else must go
    res = OSRMClient(fake.url).table(pts, on_unreachable="drop", protect=[0])
    assert res.kept.tolist() == [0]
    unprotected = OSRMClient(fake.url).table(pts, on_unreachable="drop")
    assert unprotected.dropped.tolist() == [0]


def test_snap_distances_exposed(fake):
    pts = points(4)
    pts[3] = [89.5, 24.9]
    res = OSRMClient(fake.url).raw_table(pts)
    np.testing.assert_allclose(res.snap_m, [0, 0, 0, 100])
    np.testing.assert_allclose(res.snapped, pts)


def test_tiny_negatives_clipped_and_diagonal_zero(fake, caplog):
    fake.negative = (0, 1, -0.4)
    with caplog.at_level(logging.DEBUG, logger="hybridroute.osrm.client"):
        res = OSRMClient(fake.url).raw_table(points(3))
    assert res.distance[0, 1] == 0.0 and res.n_negative == 1 and "clipped 1 negative" in caplog.text
    assert (np.diag(res.distance) == 0).all()


def test_cache_serves_tiles_without_requests(fake, tmp_path):
    pts = points(12)
    a = OSRMClient(fake.url, max_table_size=5, cache_dir=tmp_path).raw_table(pts)
    assert a.requests == 9 and len(fake.calls) == 9
    b = OSRMClient(fake.url, max_table_size=5, cache_dir=tmp_path).raw_table(pts)
    assert b.requests == 0 and len(fake.calls) == 9
    np.testing.assert_array_equal(a.distance, b.distance)
    (sorted(tmp_path.glob("*.npz"))[0]).write_bytes(b"corrupt")  # a crash mid-write elsewhere
    c = OSRMClient(fake.url, max_table_size=5, cache_dir=tmp_path).raw_table(pts)
    assert c.requests == 1
    np.testing.assert_array_equal(a.distance, c.distance)


@pytest.mark.parametrize("bad,match", [
    ([[1.0, 2.0, 3.0]], "n×2"),
    ([[91.0, 2.0]], r"coords\[0\] latitude"),
    ([[1.0, 2.0], [1.0, 200.0]], r"coords\[1\] longitude"),
    ([[1.0, np.nan]], r"coords\[0\] is not finite"),
])
def test_bad_coordinates_name_the_index(bad, match):
    with pytest.raises(ValueError, match=match):
        OSRMClient("http://127.0.0.1:9").table(bad)


def test_bad_options_rejected():
    with pytest.raises(ValueError, match="on_unreachable"):
        OSRMClient("http://127.0.0.1:9").table(points(2), on_unreachable="ignore")
    with pytest.raises(ValueError, match="max_table_size"):
        OSRMClient("http://127.0.0.1:9", max_table_size=0)


def test_drop_unreachable_is_greedy_worst_first():
    missing = np.zeros((5, 5), dtype=bool)
    missing[0, 1:] = missing[1:, 0] = True  # point 0 reaches nobody
    missing[2, 3] = True  # and one single missing pair
    gone = drop_unreachable(missing)
    assert gone[0] == 0 and len(gone) == 2 and gone[1] in (2, 3)
    with pytest.raises(OSRMUnreachableError):
        drop_unreachable(missing, protect=[2, 3])
