"""'hybridroute solve/explain --osm EXTRACT': a local osrm-routed started for the run and stopped after it.

Needs the OSRM executables and the Monaco extract of ../shared (skipped without them, failed
when CI=true, like the other OSRM tests).
"""

from __future__ import annotations

import pandas as pd
import pytest
from osrm_support import extract, process_gone, require_osrm

from hybridroute.cli import main
from hybridroute.osrm import server as osrm_server

pytestmark = pytest.mark.osrm

# Road points in Monaco (the depot at the railway station).
STOPS = pd.DataFrame({
    "id": ["station", "casino", "port", "fontvieille", "palace", "larvotto"],
    "lat": [43.7387, 43.7396, 43.7347, 43.7281, 43.7314, 43.7446],
    "lon": [7.4214, 7.4281, 7.4206, 7.4147, 7.4198, 7.4352],
    "demand": [0, 2, 3, 1, 2, 2],
    "is_depot": [True, False, False, False, False, False],
})


@pytest.fixture(scope="module")
def osrm_cache(tmp_path_factory):
    """One preprocessing of the extract for the module's tests."""
    return tmp_path_factory.mktemp("osrm-cache")


@pytest.fixture
def monaco(tmp_path, monkeypatch, osrm_cache):
    """The extract, the stops and vehicles CSVs; records every LocalOSRM the CLI starts."""
    require_osrm()
    pbf = extract("monaco.osm.pbf")
    monkeypatch.setenv("HYBRIDROUTE_OSRM_CACHE", str(osrm_cache))
    STOPS.to_csv(tmp_path / "stops.csv", index=False)
    pd.DataFrame({"name": ["van"], "count": [2], "capacity": [6]}).to_csv(tmp_path / "vehicles.csv", index=False)
    started = []
    start = osrm_server.LocalOSRM.start

    def recording_start(self):
        out = start(self)
        started.append((self, self.pid))
        return out

    monkeypatch.setattr(osrm_server.LocalOSRM, "start", recording_start)
    return tmp_path, pbf, started


def _assert_stopped(started) -> None:
    assert len(started) == 1, "the CLI should start exactly one local server"
    server, pid = started[0]
    assert pid is not None and not server.running
    assert process_gone(pid), f"osrm-routed (pid {pid}) survived the command"


def test_solve_with_osm_extract(monaco, capsys):
    path, pbf, started = monaco
    out = path / "routes.csv"
    rc = main(["solve", str(path / "stops.csv"), "--osm", str(pbf), "--vehicles", str(path / "vehicles.csv"),
               "--solver", "nearest", "-o", str(out)])
    assert rc == 0, capsys.readouterr().err
    _assert_stopped(started)
    routes = pd.read_csv(out)
    assert sorted(routes.loc[routes["stop"] == "visit", "id"]) == sorted(STOPS["id"][1:])
    assert set(routes["vehicle_type"]) == {"van"}
    # road distances: positive legs of metres to a few km inside Monaco
    legs = routes["leg_distance"].dropna()
    assert (legs > 0).all() and legs.max() < 10_000


def test_server_stops_when_the_run_fails(monaco, capsys):
    path, pbf, started = monaco
    # the demand exceeds the capacity: the Problem is refused after the matrices are read
    STOPS.assign(demand=[0, 2, 3, 1, 2, 9]).to_csv(path / "stops.csv", index=False)
    rc = main(["explain", str(path / "stops.csv"), "--osm", str(pbf), "--vehicles", str(path / "vehicles.csv")])
    err = capsys.readouterr().err
    assert rc == 2 and "demand" in err and "larvotto" in err, err
    _assert_stopped(started)
