"""Side processes for backends that run independent searches at once (OR-Tools' portfolio,
PyVRP's seeds).

A search started from Python holds the GIL for its whole run (OR-Tools' ``SolveWithParameters``
does), so concurrent searches need processes. Each side search is a fresh
``python -m hybridroute.solvers._parallel MODULE:FUNCTION`` process: unlike multiprocessing's
spawn and forkserver methods it never re-imports the caller's ``__main__`` (so scripts
without an ``if __name__ == "__main__":`` guard keep working), and unlike fork it inherits no
threads. It is started before the caller builds its own model and imports the backend
meanwhile (about 0.3-0.6 s); the task follows through its stdin, and the result comes back
through its stdout (length-prefixed pickles: both ends are this package, run by this interpreter).
Before its result a call may send progress (:func:`report_progress`, e.g. each better solution),
so that a caller that must kill it at a deadline keeps the latest (:meth:`SideProcess.progress`).

``workers="auto"`` uses side processes only from a top-level process with spare cores.
Inside a worker process (:func:`hybridroute.solve_many`'s pool, a Dask worker, any
``multiprocessing`` child) it stays in-process, because those already run one solve per core.
"""

from __future__ import annotations

import importlib
import logging
import math
import multiprocessing
import os
import pickle
import subprocess
import sys
import struct
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from ._backend import usable_cores

__all__ = ["check_workers", "resolve_workers", "SideProcess", "SideProcessError",
           "start_side_processes", "call_before", "report_progress", "SIDE_GRACE_S", "SIDE_LATE_S",
           "side_grace"]

logger = logging.getLogger(__name__)


_HEADER = struct.Struct("<Q")  # byte length of each pickled message
# In a side process: the stream its messages go to (None in any other process).
_MESSAGES = None

#: Seconds a side search may overrun its deadline before its result is given up (model
#: building is not covered by the backends' own time limits).
SIDE_GRACE_S = 10.0
#: Seconds a side search may overrun its deadline when the calling process already holds a
#: solution of its own: the side result is then a second opinion, and waiting for it longer
#: would break the time-limit contract. On a loaded machine a side process can still be
#: importing its backend at the deadline (OR-Tools' ATSP portfolio at n = 10, 1 s: the side
#: search answered at 2.9-3.4 s while both cores ran other jobs).
SIDE_LATE_S = 0.2


def side_grace(have_own: bool) -> float:
    """Seconds to wait past a side search's deadline: :data:`SIDE_LATE_S` when the caller
    already has a solution of its own, else :data:`SIDE_GRACE_S`."""
    return SIDE_LATE_S if have_own else SIDE_GRACE_S


class SideProcessError(RuntimeError):
    """A side process crashed, overran its deadline or sent no result."""


def check_workers(workers: int | str) -> int | str:
    """Validate a ``workers`` setting: ``"auto"`` or a positive int."""
    if workers == "auto":
        return workers
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f'workers must be "auto" or an int >= 1, got {workers!r}')
    return workers


def resolve_workers(workers: int | str, searches: int) -> int:
    """How many searches to run at once: never more than there are searches.

    ``"auto"``: one per usable core, but 1 inside a multiprocessing child (see the module
    notes); an int is taken as given (capped by ``searches``).
    """
    if workers == "auto":
        if multiprocessing.parent_process() is not None:
            return 1
        workers = usable_cores()
    return max(1, min(int(workers), searches))


class SideProcess:
    """One function call in a fresh interpreter; start it early, send the arguments later.

    Parameters
    ----------
    target
        ``"package.module:function"``; the module is imported as soon as the process starts.

    Use as a context manager: leaving the block kills the process if it is still running.
    """

    def __init__(self, target: str):
        self.target = target
        self._closed = False
        self._stderr = tempfile.TemporaryFile()
        package_root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        self._proc = subprocess.Popen([sys.executable, "-m", __name__, target],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=self._stderr, env=env)
        self._payload: tuple | None = None
        self._progress: Any = None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def send(self, **kwargs: Any) -> None:
        """Hand over the call's keyword arguments (once)."""
        try:
            self._proc.stdin.write(pickle.dumps(kwargs, protocol=pickle.HIGHEST_PROTOCOL))
            self._proc.stdin.close()
            self._proc.stdin = None  # communicate() must not touch the closed pipe
        except (BrokenPipeError, OSError) as exc:
            raise SideProcessError(f"side process for {self.target} exited early: "
                                   f"{self._stderr_tail() or exc}") from None

    def result(self, deadline: float) -> Any:
        """The call's return value; waits until ``deadline`` (a ``time.monotonic()`` reading).

        The value is read as soon as the child writes it (it may still be exiting).

        Raises
        ------
        SideProcessError
            When the process crashed, raised, or is still running at the deadline (it is
            then killed).
        """
        if not self.finished(deadline):
            self.close()
            raise SideProcessError(f"side process for {self.target} overran its deadline; killed")
        if self._payload is None:
            code = self._proc.wait(timeout=5.0)
            raise SideProcessError(f"side process for {self.target} failed (exit code {code}): "
                                   f"{self._stderr_tail()}")
        ok, value = self._payload
        if not ok:
            raise SideProcessError(f"side process for {self.target} raised {value}")
        return value

    def finished(self, deadline: float) -> bool:
        """Whether the call has answered (or the process ended) by ``deadline`` (a
        ``time.monotonic()`` reading); waits until then, and never kills."""
        # an unlimited deadline (time_limit=math.inf) waits for the child to finish
        wait = None if math.isinf(deadline) else max(deadline - time.monotonic(), 0.0)
        self._reader.join(timeout=wait)
        return not self._reader.is_alive()

    def progress(self) -> Any:
        """The latest value the call sent with :func:`report_progress` (None: none yet); still
        there after the process was killed at its deadline."""
        return self._progress

    def _read(self) -> None:
        """Reader thread: length-prefixed pickles from the child's stdout, progress first, then
        the result."""
        stream = self._proc.stdout
        try:
            while True:
                header = stream.read(_HEADER.size)
                if len(header) != _HEADER.size:
                    return
                (size,) = _HEADER.unpack(header)
                body = stream.read(size)
                if len(body) != size:
                    return
                tag, *message = pickle.loads(body)
                if tag == "progress":
                    self._progress = message[0]
                else:
                    self._payload = tuple(message)
                    return
        except (OSError, ValueError, pickle.UnpicklingError, EOFError):  # closed under us by close()
            pass

    def close(self) -> None:
        """Kill the process if it still runs and release its pipes (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._reader.join(timeout=5.0)
        for stream in (self._proc.stdin, self._proc.stdout):
            if stream is not None:
                stream.close()
        self._stderr.close()

    def __enter__(self) -> "SideProcess":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def _stderr_tail(self, limit: int = 500) -> str:
        try:
            self._stderr.seek(0)
            text = self._stderr.read().decode(errors="replace").strip()
        except (OSError, ValueError):
            return ""
        return text[-limit:]


def call_before(target: str, until: float, **kwargs: Any) -> Any:
    """``target(**kwargs)`` in a side process that is killed at ``until`` (a
    ``time.monotonic()`` reading): for native code that cannot be interrupted otherwise.

    Raises
    ------
    SideProcessError
        When the call failed, raised, or was still running at the deadline.
    """
    with SideProcess(target) as process:
        process.send(**kwargs)
        return process.result(until)


def start_side_processes(target: str, count: int) -> list[SideProcess]:
    """Up to ``count`` side processes for ``target``; fewer (logged) when the OS refuses one,
    so that the caller runs fewer searches at once instead of failing."""
    side: list[SideProcess] = []
    try:
        for _ in range(count):
            side.append(SideProcess(target))
    except OSError as exc:
        logger.warning("cannot start a side process for %s (%s); %d of %d started",
                       target, exc, len(side), count)
    return side


def report_progress(value: Any) -> None:
    """In a side process: send ``value`` to the caller as the call's latest progress
    (:meth:`SideProcess.progress`); elsewhere nothing."""
    if _MESSAGES is not None:
        _write(_MESSAGES, ("progress", value))


def _write(stream, message: tuple) -> None:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(body)) + body)
    stream.flush()


def _main(target: str) -> int:
    """Child side: import ``target``, read its keyword arguments, write (ok, value)."""
    result_stream = sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not corrupt the pickled messages
    # run as ``python -m``, this is ``__main__``: the target reports through the package's module
    package_module = importlib.import_module(__spec__.name) if __spec__ is not None else sys.modules[__name__]
    package_module._MESSAGES = result_stream
    module_name, _, function_name = target.partition(":")
    function = getattr(importlib.import_module(module_name), function_name)
    kwargs = pickle.loads(sys.stdin.buffer.read())
    try:
        payload = (True, function(**kwargs))
    except Exception as exc:  # noqa: BLE001 -- reported to the parent, which decides
        payload = (False, f"{type(exc).__name__}: {exc}")
    _write(result_stream, ("result", *payload))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1]))
