"""solve_many on a real dask.distributed LocalCluster (two worker processes)."""

import time

import pytest

import hybridroute as hr
from hybridroute.osrm import sample_instances

from batch_helpers import Exploding, random_problems

distributed = pytest.importorskip("distributed", reason="needs dask[distributed] (pip install 'hybridroute[dask]')")
psutil = pytest.importorskip("psutil")


def _alive(proc) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture(scope="module")
def dask_client():
    """A LocalCluster with two single-threaded worker processes; torn down without orphans."""
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                       dashboard_address=None, silence_logs=40)
    client = distributed.Client(cluster)
    # multiprocessing's resource tracker is a per-parent singleton that lives until this
    # process exits (it is not a worker), so it is not expected to go away.
    spawned = [p for p in me.children(recursive=True)
               if p.pid not in before and "resource_tracker" not in " ".join(p.cmdline())]
    worker_pids = set(client.run(lambda: __import__("os").getpid()).values())
    try:
        assert len(worker_pids) == 2 and worker_pids <= {p.pid for p in spawned}
        yield client
    finally:
        client.close()
        cluster.close()
        deadline = time.monotonic() + 30  # a hang guard, not a performance threshold
        while any(_alive(p) for p in spawned) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = [p.pid for p in spawned if _alive(p)]
        for p in spawned:
            if _alive(p):
                p.kill()
        assert left == [], "Dask worker / nanny processes outlived the cluster"


def _city_problems():
    return [p for kind in ("ATSP", "ACVRP", "ACVRPTW")
            for p in sample_instances("Helsinki", kind, 15, 2, seed=11)]


def test_dask_cluster_matches_serial_under_iteration_limited_stops(dask_client):
    # max_iterations stops PyVRP long before the (generous) time limit, so the same seed must
    # give the same routes whichever process runs the solve.
    problems = _city_problems()
    kw = dict(time_limit=60.0, seed=5, progress=False, max_iterations=150)
    serial = hr.solve_many(problems, "pyvrp", executor="serial", **kw)
    with distributed.get_task_stream(dask_client) as stream:
        on_dask = hr.solve_many(problems, "pyvrp", executor=dask_client, **kw)
    assert len(stream.data) == len(problems)  # the solves really ran on the cluster's workers
    assert {t["worker"] for t in stream.data} <= set(dask_client.scheduler_info()["workers"])
    assert all(s.is_feasible for s in serial)
    assert [s.problem.name for s in on_dask] == [p.name for p in problems]
    assert [s.routes for s in on_dask] == [s.routes for s in serial]
    assert [s.cost for s in on_dask] == [s.cost for s in serial]
    assert all(s.stats["iterations"] == 150 for s in on_dask)


def test_dask_cluster_isolates_bad_instance_and_raising_backend(dask_client):
    problems = random_problems(4)
    batch = [problems[0], "not a problem", problems[2].replace(name="boom"), problems[3]]
    sols = hr.solve_many(batch, Exploding(), executor=dask_client, progress=False)
    assert [s.status for s in sols] == [hr.Status.FEASIBLE, hr.Status.NO_SOLUTION,
                                        hr.Status.NO_SOLUTION, hr.Status.FEASIBLE]
    assert "expected a hybridroute.Problem" in sols[1].message
    assert "backend crashed" in sols[2].message
    assert sols[3].cost == hr.evaluate(problems[3], [list(range(1, 8))]).cost
