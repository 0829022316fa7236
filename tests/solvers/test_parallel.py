"""Side processes (hybridroute.solvers._parallel): results, failures, deadlines, cleanup."""

from __future__ import annotations

import multiprocessing
import os
import sys
import time

import pytest

from hybridroute.solvers._backend import usable_cores
from hybridroute.solvers._parallel import SideProcess, SideProcessError, check_workers, resolve_workers


def _children() -> set[int]:
    """PIDs of this process's live children (Linux /proc)."""
    out: set[int] = set()
    for task in os.listdir(f"/proc/{os.getpid()}/task"):
        with open(f"/proc/{os.getpid()}/task/{task}/children") as f:
            out.update(int(p) for p in f.read().split())
    return out


linux_only = pytest.mark.skipif(not os.path.exists("/proc/self/task"),
                                reason="child process listing reads Linux /proc")


def test_a_side_process_returns_the_call_value():
    with SideProcess("json:dumps") as side:
        side.send(obj={"a": [1, 2]}, sort_keys=True)
        assert side.result(time.monotonic() + 60) == '{"a": [1, 2]}'


def test_an_exception_in_the_side_process_is_reported():
    with SideProcess("json:dumps") as side:
        side.send(no_such_argument=1)
        with pytest.raises(SideProcessError, match="raised TypeError"):
            side.result(time.monotonic() + 60)


def test_a_crashed_side_process_is_reported_with_its_exit_code():
    with SideProcess("os:abort") as side:
        side.send()
        with pytest.raises(SideProcessError, match="exit code"):
            side.result(time.monotonic() + 60)


@linux_only
def test_a_side_process_past_its_deadline_is_killed():
    before = _children()
    side = SideProcess("multiprocessing.connection:wait")
    side.send(object_list=[], timeout=120)  # blocks for two minutes
    t0 = time.monotonic()
    with pytest.raises(SideProcessError, match="overran its deadline"):
        side.result(time.monotonic() + 3.0)
    assert time.monotonic() - t0 < 60  # far below the two minutes it would block
    assert _children() <= before


def test_an_unknown_target_is_reported():
    with SideProcess("hybridroute:no_such_function") as side:
        side.send()
        with pytest.raises(SideProcessError, match="AttributeError"):
            side.result(time.monotonic() + 60)


@pytest.mark.parametrize("workers", [0, -1, 1.5, "all", True])
def test_bad_workers_are_refused(workers):
    with pytest.raises(ValueError, match="workers must be"):
        check_workers(workers)


def test_resolve_workers_caps_by_searches_and_cores(monkeypatch):
    assert resolve_workers(4, 2) == 2
    assert resolve_workers(1, 2) == 1
    assert resolve_workers("auto", 2) == min(2, usable_cores())


def test_auto_stays_in_process_inside_a_worker_process(monkeypatch):
    monkeypatch.setattr(multiprocessing, "parent_process", lambda: object())
    assert resolve_workers("auto", 2) == 1
    assert resolve_workers(2, 2) == 2  # an explicit number is obeyed


def test_a_script_without_a_main_guard_can_use_side_processes(tmp_path):
    """Side processes never re-import the caller's __main__ (spawn and forkserver would)."""
    import subprocess

    script = tmp_path / "unguarded.py"
    script.write_text("import time\nfrom hybridroute.solvers._parallel import SideProcess\n"
                      "side = SideProcess('json:dumps')\nside.send(obj=[3])\n"
                      "print('RESULT', side.result(time.monotonic() + 60))\nside.close()\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("RESULT [3]") == 1


def test_progress_sent_before_a_kill_is_kept(tmp_path, monkeypatch):
    """A call reports progress (e.g. each better solution); killed at its deadline, the caller
    still has the latest value. A call that ends returns its value after its progress."""
    (tmp_path / "progress_target.py").write_text(
        "import time\nfrom hybridroute.solvers._parallel import report_progress\n\n"
        "def run(values, block):\n    for v in values:\n        report_progress(v)\n"
        "    time.sleep(block)\n    return 'done'\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(tmp_path), os.environ.get("PYTHONPATH")) if p))
    with SideProcess("progress_target:run") as side:
        side.send(values=[1, {"routes": [[1, 2]]}, 3], block=120)
        t0 = time.monotonic()
        assert not side.finished(time.monotonic() + 3.0)
        assert side.progress() == 3 and time.monotonic() - t0 < 60
    with SideProcess("progress_target:run") as side:
        side.send(values=["a"], block=0)
        assert side.result(time.monotonic() + 60) == "done" and side.progress() == "a"
