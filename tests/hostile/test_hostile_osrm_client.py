"""Hostile OSRM answers from a fake server on 127.0.0.1, and the default snapping limit.

Every answer that is not a trustworthy table (negative or non-finite entries, ragged or
non-numeric rows, an empty or non-JSON 200 body, malformed waypoints) is an
:class:`~hybridroute.osrm.errors.OSRMInvalidTableError` naming the matrix, the source and
destination input indices and the server URL; a point snapped farther than 1 km is refused by
default, naming the point and its snap distance.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("requests")

import hybridroute as hr  # noqa: E402
from hybridroute.osrm.client import DEFAULT_MAX_SNAP_M, OSRMClient  # noqa: E402
from hybridroute.osrm.errors import (OSRMInvalidTableError, OSRMResponseError, OSRMSnapError,  # noqa: E402
                                     OSRMUnreachableError)
from support import serve_http  # noqa: E402

LAT0, STEP = 60.0, 0.001  # point k lies at latitude LAT0 + k * STEP: the fake recovers k


def index_of(lat: float) -> int:
    return int(round((lat - LAT0) / STEP))


def points(n: int) -> np.ndarray:
    return np.c_[LAT0 + STEP * np.arange(n), np.full(n, 24.9)]


def road(a: int, b: int) -> float:
    """Deterministic asymmetric fake road distance between points a and b, metres."""
    return 0.0 if a == b else 100.0 * abs(a - b) + (7.0 if a < b else 0.0)


class FakeOSRM:
    """Answers table requests; ``mutate(body, src, dst)`` plants faults by input index."""

    def __init__(self):
        self.calls = 0
        self.snap_m: dict[int, float] = {}
        self.mutate = None
        self.raw: str | None = None  # a body sent as is (with HTTP 200)

    def answer(self, path: str) -> str:
        self.calls += 1
        if self.raw is not None:
            return self.raw
        url = urlsplit(path)
        coords = [tuple(map(float, c.split(","))) for c in url.path.split("/")[-1].split(";")]
        idx = [index_of(lat) for _, lat in coords]
        q = parse_qs(url.query)
        src = [idx[int(i)] for i in q["sources"][0].split(";")] if "sources" in q else idx
        dst = [idx[int(i)] for i in q["destinations"][0].split(";")] if "destinations" in q else idx

        def wp(k):
            return {"location": [24.9, LAT0 + STEP * k], "distance": self.snap_m.get(k, 0.0)}

        body = {"code": "Ok", "distances": [[road(a, b) for b in dst] for a in src],
                "durations": [[road(a, b) / 10.0 for b in dst] for a in src],
                "sources": [wp(k) for k in src], "destinations": [wp(k) for k in dst]}
        if self.mutate is not None:
            body = self.mutate(body, src, dst)
        return body if isinstance(body, str) else json.dumps(body, allow_nan=True)


@pytest.fixture
def fake():
    state = FakeOSRM()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            data = state.answer(self.path).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    state.url, stop = serve_http(Handler)
    yield state
    stop()


def client(fake, **kw) -> OSRMClient:
    return OSRMClient(fake.url, retries=0, **kw)


def plant(key: str, at: tuple[int, int], value):
    """A mutate hook setting ``body[key]`` at input indices ``at`` (when that tile holds them)."""
    def mutate(body, src, dst):
        if at[0] in src and at[1] in dst:
            body[key][src.index(at[0])][dst.index(at[1])] = value
        return body
    return mutate


def raw_with(key: str, at: tuple[int, int], token: str, n: int) -> str:
    """The JSON text of a correct n-point answer with one entry replaced by a raw token."""
    body = json.loads(FakeOSRM().answer(f"/table/v1/driving/{';'.join(f'24.9,{LAT0 + STEP * k}' for k in range(n))}"))
    body[key][at[0]][at[1]] = "@@"
    return json.dumps(body).replace('"@@"', token)


def assert_names(err: OSRMInvalidTableError, fake, matrix, index, *words):
    text = str(err)
    assert err.matrix == matrix and err.index == index and err.code == "InvalidResponse", text
    assert fake.url in text and "HTTP 200" in text, text
    if isinstance(index, tuple):
        assert f"source {index[0]}, destination {index[1]}" in text, text
    for word in words:
        assert word in text, f"{word!r} not in {text!r}"


# -- negative entries ------------------------------------------------------------------------


@pytest.mark.parametrize("key,value", [("distances", -2500.0), ("durations", -30.0), ("distances", -10.5),
                                       ("distances", -1e308)])
def test_negative_entries_are_refused(fake, key, value):
    fake.mutate = plant(key, (0, 2), value)
    with pytest.raises(OSRMInvalidTableError) as info:
        client(fake).table(points(4))
    assert_names(info.value, fake, key, (0, 2), f"{key} entry", f"is {value!r}", "negative")
    assert info.value.value == value


def test_rounding_noise_is_still_clipped(fake, caplog):
    fake.mutate = plant("distances", (1, 0), -1.5)  # seen from real OSRM (Andorra)
    with caplog.at_level(logging.DEBUG, logger="hybridroute.osrm.client"):
        res = client(fake).table(points(3))
    assert res.distance[1, 0] == 0.0 and res.n_negative == 1


def test_bad_entry_in_a_later_tile_is_named_by_input_index(fake):
    fake.mutate = plant("distances", (3, 4), -800.0)
    with pytest.raises(OSRMInvalidTableError) as info:
        client(fake, max_table_size=2).raw_table(points(5))
    assert_names(info.value, fake, "distances", (3, 4), "is -800.0")


# -- non-finite and non-numeric entries ------------------------------------------------------


@pytest.mark.parametrize("token", ["Infinity", "-Infinity", "NaN", "1e400", "-1e400",
                                   "1" + "0" * 400])
@pytest.mark.parametrize("key", ["distances", "durations"])
def test_non_finite_entries_are_refused(fake, key, token):
    fake.raw = raw_with(key, (2, 1), token, 3)
    with pytest.raises(OSRMInvalidTableError) as info:
        client(fake).table(points(3))
    assert_names(info.value, fake, key, (2, 1), "not a finite number")


@pytest.mark.parametrize("value,why", [("12", "not a number (str)"), (True, "not a number (bool)"),
                                       ([1, 2], "not a number (list)"), ({"v": 1}, "not a number (dict)")],
                         ids=["string", "bool", "list", "object"])
def test_non_numeric_entries_are_refused(fake, value, why):
    fake.mutate = plant("durations", (1, 2), value)
    with pytest.raises(OSRMInvalidTableError) as info:
        client(fake).table(points(3))
    assert_names(info.value, fake, "durations", (1, 2), why)


def test_null_entries_are_still_unreachable_not_invalid(fake):
    fake.mutate = plant("distances", (0, 1), None)
    with pytest.raises(OSRMUnreachableError, match=r"1 of 6 pairs have no route"):
        client(fake).table(points(3))


@pytest.mark.parametrize("mutate,matrix,index,word", [
    (lambda b, s, d: {**b, "distances": [row[:-1] if i == 1 else row for i, row in enumerate(b["distances"])]},
     "distances", 1, "ragged: the row of source 1 is a list of 2, expected 3 entries"),
    (lambda b, s, d: {**b, "durations": [5 if i == 2 else row for i, row in enumerate(b["durations"])]},
     "durations", 2, "ragged: the row of source 2 is int '5'"),
    (lambda b, s, d: {**b, "distances": b["distances"][:2]}, "distances", None, "must be a list of 3 rows"),
    (lambda b, s, d: {**b, "durations": "lots"}, "durations", None, "must be a list of 3 rows"),
    (lambda b, s, d: {k: v for k, v in b.items() if k != "durations"}, "durations", None, "has no 'durations'"),
], ids=["short-row", "scalar-row", "missing-row", "string-matrix", "no-durations"])
def test_ragged_or_missing_matrices_are_refused(fake, mutate, matrix, index, word):
    fake.mutate = mutate
    with pytest.raises(OSRMInvalidTableError) as info:
        client(fake).table(points(3))
    assert_names(info.value, fake, matrix, index, word)


# -- bodies that are not a table -------------------------------------------------------------


@pytest.mark.parametrize("body,word", [
    ("", "an empty body"),
    ("   \n", "an empty body"),
    ("<html>gateway</html>", "a body that is not a JSON object ('<html>gateway</html>')"),
    ('{"code": "Ok", "distances": [[0, 1', "a body that is not a JSON object"),
    ("[1, 2, 3]", "a body that is not a JSON object ('[1, 2, 3]')"),
    ('"Ok"', "a body that is not a JSON object"),
])
def test_unusable_200_bodies_are_refused_naming_the_server(fake, body, word):
    fake.raw = body
    with pytest.raises(OSRMInvalidTableError) as info:
        client(fake).table(points(3))
    assert_names(info.value, fake, None, None, "HTTP 200 with " + word, "sources 0..2 × destinations 0..2")
    assert isinstance(info.value, OSRMResponseError) and info.value.status == 200


# -- waypoints (snap data) -------------------------------------------------------------------


@pytest.mark.parametrize("mutate,matrix,index,word", [
    (lambda b, s, d: {k: v for k, v in b.items() if k != "sources"}, "sources", None, "must list 3 waypoints"),
    (lambda b, s, d: {**b, "destinations": b["destinations"][:1]}, "destinations", None, "must list 3 waypoints"),
    (lambda b, s, d: {**b, "sources": [{**w, "distance": -5.0} if i == 1 else w
                                       for i, w in enumerate(b["sources"])]}, "sources", 1, "snap distance -5.0"),
    (lambda b, s, d: {**b, "sources": [{**w, "distance": "far"} if i == 2 else w
                                       for i, w in enumerate(b["sources"])]}, "sources", 2, "snap distance 'far'"),
    (lambda b, s, d: {**b, "sources": [{"location": w["location"]} if i == 0 else w
                                       for i, w in enumerate(b["sources"])]}, "sources", 0, "snap distance None"),
    (lambda b, s, d: {**b, "destinations": [{**w, "location": [24.9]} if i == 2 else w
                                            for i, w in enumerate(b["destinations"])]},
     "destinations", 2, "location [24.9]"),
    (lambda b, s, d: {**b, "destinations": [None] + b["destinations"][1:]}, "destinations", 0, "snap distance None"),
], ids=["no-sources", "short-destinations", "negative-snap", "string-snap", "missing-snap", "bad-location",
        "null-waypoint"])
def test_malformed_waypoints_are_refused(fake, mutate, matrix, index, word):
    fake.mutate = mutate
    with pytest.raises(OSRMInvalidTableError) as info:
        client(fake).table(points(3))
    assert_names(info.value, fake, matrix, index, word)


def test_infinite_snap_distance_is_refused(fake):
    body = json.loads(FakeOSRM().answer("/table/v1/driving/24.9,60.0;24.9,60.001"))
    body["sources"][1]["distance"] = "@@"
    fake.raw = json.dumps(body).replace('"@@"', "Infinity")
    with pytest.raises(OSRMInvalidTableError) as info:
        client(fake).table(points(2))
    assert_names(info.value, fake, "sources", 1, "snap distance Infinity")


# -- a bad answer is never cached --------------------------------------------------------------


def test_a_refused_tile_is_not_cached(fake, tmp_path):
    fake.mutate = plant("distances", (0, 1), -2500.0)
    with pytest.raises(OSRMInvalidTableError):
        client(fake, cache_dir=tmp_path).table(points(3))
    assert not list(tmp_path.glob("*.npz"))
    fake.mutate = None
    res = client(fake, cache_dir=tmp_path).table(points(3))
    assert res.distance[0, 1] == road(0, 1) and res.requests == 1


# -- snapping: a safe default limit ------------------------------------------------------------


def test_default_limit_is_1000_m(fake):
    assert DEFAULT_MAX_SNAP_M == 1000.0
    fake.snap_m = {2: 170_000.0}
    with pytest.raises(OSRMSnapError, match=r"max_snap_m=1000 m .*\(point 2: 170000 m\)") as info:
        client(fake).table(points(4))
    assert info.value.indices.tolist() == [2] and info.value.snap_m.tolist() == [170_000.0]


@pytest.mark.parametrize("snap,refused", [(999.9, False), (1000.0, False), (1000.5, True), (5e6, True)])
def test_default_limit_boundary(fake, snap, refused):
    fake.snap_m = {1: snap}
    if refused:
        with pytest.raises(OSRMSnapError, match=rf"point 1: {snap:.0f} m"):
            client(fake).table(points(3))
    else:
        assert client(fake).table(points(3)).snap_m[1] == snap


def test_far_points_can_be_flagged_dropped_or_unchecked_on_request(fake, caplog):
    fake.snap_m = {1: 170_000.0, 3: 2500.0}
    with caplog.at_level(logging.WARNING, logger="hybridroute.osrm.client"):
        flagged = client(fake).table(points(5), on_snap="flag")
    assert flagged.flagged.tolist() == [1, 3] and "snapped farther than 1000 m" in caplog.text
    dropped = client(fake).table(points(5), on_snap="drop")
    assert dropped.kept.tolist() == [0, 2, 4] and dropped.dropped_reason == {1: "snap", 3: "snap"}
    assert client(fake).table(points(5), max_snap_m=None).kept.tolist() == [0, 1, 2, 3, 4]
    assert client(fake).table(points(5), max_snap_m=3000.0, on_snap="drop").kept.tolist() == [0, 2, 3, 4]


@pytest.mark.parametrize("bad", [float("nan"), -1.0, "1000", True])
def test_bad_snap_limits_are_refused(fake, bad):
    with pytest.raises(ValueError, match=r"^max_snap_m must be a distance ≥ 0 in metres or None, got"):
        client(fake).table(points(3), max_snap_m=bad)


def test_problem_from_osrm_refuses_a_far_stop_by_id_and_reads_variant_columns(fake):
    fake.snap_m = {2: 170_000.0}
    pts = points(4)
    stops = pd.DataFrame({"id": ["depot", "a", "far", "c"], "Lat": pts[:, 0], "LON": pts[:, 1]})
    with pytest.raises(OSRMSnapError, match=r"id 'far': 170000 m"):
        hr.Problem.from_osrm(stops, client(fake))
    fake.snap_m = {}
    problem = hr.Problem.from_osrm(stops, client(fake))
    assert problem.kind is hr.ProblemKind.ATSP and problem.distance[0, 1] == road(0, 1)
    np.testing.assert_allclose(problem.coords, pts)
