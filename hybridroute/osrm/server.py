"""A local ``osrm-routed`` over an OSM extract, for tests, CI and building city matrices.

:class:`LocalOSRM` preprocesses an extract with the car profile and the multi-level
Dijkstra pipeline (``osrm-extract`` → ``osrm-partition`` → ``osrm-customize``), caches the
result keyed by the extract's sha256, starts ``osrm-routed`` on a free port of 127.0.0.1 and
stops it again — on ``with`` exit, on :meth:`LocalOSRM.stop`, when the object is collected
and at interpreter exit (``weakref.finalize`` registers the atexit hook); on Linux the
server also receives SIGTERM if the Python process dies without cleaning up.

The executables are looked up in this order: ``$HYBRIDROUTE_OSRM_BIN`` (a folder), ``PATH``,
the repository's ``.osrm/osrm/bin`` (filled by ``scripts/fetch_osrm.sh``), and an installed
``osrm-bindings`` package's ``osrm/bin``.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import weakref
from pathlib import Path

from .errors import OSRMError, OSRMNotFoundError
from .._files import file_sha256

__all__ = ["LocalOSRM", "find_osrm_bin", "find_profile", "prepare_extract", "osrm_version", "default_work_dir"]

logger = logging.getLogger(__name__)

TOOLS = ("osrm-extract", "osrm-partition", "osrm-customize", "osrm-routed")
_REPO_BIN = Path(__file__).resolve().parents[2] / ".osrm" / "osrm" / "bin"
_LOG_TAIL = 2000


def _has_tools(folder: Path) -> bool:
    return all(os.access(folder / t, os.X_OK) for t in TOOLS)


def _candidate_bins() -> list[tuple[str, Path]]:
    out = []
    env = os.environ.get("HYBRIDROUTE_OSRM_BIN")
    if env:
        out.append(("$HYBRIDROUTE_OSRM_BIN", Path(env)))
    which = shutil.which("osrm-routed")
    if which:
        out.append(("PATH", Path(which).resolve().parent))
    out.append(("repository .osrm/", _REPO_BIN))
    try:
        spec = importlib.util.find_spec("osrm")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin:
        out.append(("osrm-bindings package", Path(spec.origin).parent / "bin"))
    return out


def find_osrm_bin(bin_dir: str | Path | None = None) -> Path:
    """Folder holding osrm-extract, osrm-partition, osrm-customize and osrm-routed.

    Raises
    ------
    OSRMNotFoundError
        When no candidate folder holds all four executables; the message lists where it
        looked and how to fetch them.
    """
    if bin_dir is not None:
        folder = Path(bin_dir)
        if not _has_tools(folder):
            raise OSRMNotFoundError(f"{folder} does not hold the OSRM executables {', '.join(TOOLS)}")
        return folder
    tried = []
    for origin, folder in _candidate_bins():
        if _has_tools(folder):
            return folder
        tried.append(f"{folder} ({origin})")
    raise OSRMNotFoundError(
        "OSRM executables not found; looked in " + "; ".join(tried) + ". Run scripts/fetch_osrm.sh "
        "(downloads the osrm-bindings==26.10.0 wheel and unpacks its executables into .osrm/) "
        "or set HYBRIDROUTE_OSRM_BIN to a folder holding " + ", ".join(TOOLS))


def find_profile(name: str = "car", bin_dir: str | Path | None = None) -> Path:
    """Path of the Lua routing profile ``name`` (or ``name`` itself when it is a file)."""
    if Path(name).suffix == ".lua" and Path(name).is_file():
        return Path(name)
    folder = find_osrm_bin(bin_dir)
    candidates = [folder.parent / "share" / "profiles", folder.parent / "share" / "osrm" / "profiles",
                  Path("/usr/local/share/osrm/profiles"), Path("/usr/share/osrm/profiles")]
    env = os.environ.get("HYBRIDROUTE_OSRM_PROFILES")
    if env:
        candidates.insert(0, Path(env))
    for c in candidates:
        if (c / f"{name}.lua").is_file():
            return c / f"{name}.lua"
    raise OSRMNotFoundError(f"OSRM profile {name}.lua not found in " + ", ".join(map(str, candidates)))


def osrm_version(bin_dir: str | Path | None = None) -> str:
    """Version string of ``osrm-routed`` (e.g. ``"v26.10.0"``)."""
    exe = find_osrm_bin(bin_dir) / "osrm-routed"
    return subprocess.run([str(exe), "--version"], capture_output=True, text=True, check=True).stdout.strip()


def default_work_dir() -> Path:
    """Where preprocessed extracts are cached: ``$HYBRIDROUTE_OSRM_CACHE`` or ``~/.cache/hybridroute/osrm``."""
    env = os.environ.get("HYBRIDROUTE_OSRM_CACHE")
    if env:
        return Path(env)
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "hybridroute" / "osrm"


def _run(cmd: list[str], cwd: Path, what: str) -> float:
    """Run one preprocessing step; raise OSRMError with the tail of its output on failure."""
    logger.info("%s: %s", what, " ".join(Path(c).name if i == 0 else c for i, c in enumerate(cmd)))
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr)[-_LOG_TAIL:]
        raise OSRMError(f"{what} failed with exit code {proc.returncode}:\n{tail}")
    return time.perf_counter() - t0


def _stage_input(extract: Path, folder: Path) -> Path:
    """Put the extract in ``folder`` in a form osrm-extract reads (.osm, .osm.bz2, .osm.pbf)."""
    name = extract.name
    if name.endswith(".osm.gz"):
        # osrm-extract does not read gzip: decompress to plain XML
        target = folder / (name[:-3])
        with gzip.open(extract, "rb") as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        return target
    if name.endswith((".osm.pbf", ".osm", ".osm.bz2")):
        target = folder / name
        try:
            target.symlink_to(extract.resolve())
        except OSError:
            shutil.copy2(extract, target)
        return target
    raise OSRMError(f"{extract}: unsupported extract format (use .osm, .osm.gz, .osm.bz2 or .osm.pbf)")


def prepare_extract(extract: str | Path, *, work_dir: str | Path | None = None, profile: str = "car",
                    bin_dir: str | Path | None = None, threads: int = 2) -> Path:
    """Preprocess an OSM extract for MLD routing, cached by content; return the ``.osrm`` base path.

    The cache folder is ``work_dir/{stem}-{key}`` with ``key`` derived from the extract's
    sha256, the profile file's sha256 and the OSRM version, so an edited extract or profile is
    never served stale. A second call with the same extract returns at once.
    """
    extract = Path(extract)
    if not extract.is_file():
        raise FileNotFoundError(f"OSM extract {extract} does not exist")
    bins = find_osrm_bin(bin_dir)
    prof = find_profile(profile, bins)
    version = osrm_version(bins)
    key = hashlib.sha256(f"{file_sha256(extract)}|{file_sha256(prof)}|{version}".encode()).hexdigest()[:16]
    stem = extract.name.split(".")[0]
    work = Path(work_dir) if work_dir is not None else default_work_dir()
    final = work / f"{stem}-{key}"
    base = final / f"{stem}.osrm"
    if (final / "done.json").is_file():
        logger.debug("using cached OSRM data %s", final)
        return base
    work.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{stem}-", dir=work))
    try:
        staged = _stage_input(extract, tmp)
        t = {"extract": _run([str(bins / "osrm-extract"), "-p", str(prof), "-t", str(threads), str(staged)],
                             tmp, f"osrm-extract {extract.name}")}
        tmp_base = tmp / f"{stem}.osrm"
        t["partition"] = _run([str(bins / "osrm-partition"), "-t", str(threads), str(tmp_base)], tmp, "osrm-partition")
        t["customize"] = _run([str(bins / "osrm-customize"), "-t", str(threads), str(tmp_base)], tmp, "osrm-customize")
        staged.unlink()  # the decompressed copy can be large and is no longer needed
        (tmp / "done.json").write_text(json.dumps({
            "extract": str(extract), "sha256": file_sha256(extract), "profile": str(prof), "osrm": version,
            "seconds": t}, indent=1))
        try:
            tmp.rename(final)
        except OSError:
            # another process finished the same extract first: use theirs
            if not (final / "done.json").is_file():
                raise
        logger.info("preprocessed %s in %.1f s (extract %.1f, partition %.1f, customize %.1f)", extract.name,
                    sum(t.values()), t["extract"], t["partition"], t["customize"])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return base


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Ask Linux to SIGTERM the server when its parent dies, so even a killed test leaves no orphan."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _stop_process(proc: subprocess.Popen, log_file, timeout: float = 5.0) -> None:
    """terminate → wait → kill; close the log file. Safe to call twice."""
    try:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=timeout)
    finally:
        if log_file is not None and not log_file.closed:
            log_file.close()


class LocalOSRM:
    """A local ``osrm-routed`` (MLD, car profile) serving one OSM extract on 127.0.0.1.

    Parameters
    ----------
    extract
        OSM extract: ``.osm``, ``.osm.gz``, ``.osm.bz2`` or ``.osm.pbf``.
    max_table_size
        The server's ``--max-table-size``: a table request may have at most
        ``max_table_size**2`` source × destination pairs.
    port
        TCP port; a free one when None.
    threads
        Server and preprocessing threads.
    work_dir
        Cache folder for preprocessed data (default :func:`default_work_dir`).
    profile
        Routing profile name (``"car"``) or path to a ``.lua`` file.
    bin_dir
        Folder holding the executables (default: :func:`find_osrm_bin`).
    startup_timeout
        Seconds to wait for the server to answer.

    Examples
    --------
    >>> with LocalOSRM("monaco.osm.pbf") as osrm:            # doctest: +SKIP
    ...     d, t = osrm.client().table([(43.73, 7.42), (43.74, 7.43)])
    """

    def __init__(self, extract: str | Path, *, max_table_size: int = 1000, port: int | None = None,
                 threads: int = 2, work_dir: str | Path | None = None, profile: str = "car",
                 bin_dir: str | Path | None = None, startup_timeout: float = 60.0, host: str = "127.0.0.1"):
        if max_table_size < 1:
            raise ValueError(f"max_table_size must be at least 1, got {max_table_size}")
        self.extract = Path(extract)
        self.max_table_size = int(max_table_size)
        self.host = host
        self.port = port
        self.threads = int(threads)
        self.work_dir = work_dir
        self.profile = profile
        self.bin_dir = bin_dir
        self.startup_timeout = float(startup_timeout)
        self.base: Path | None = None
        self._proc: subprocess.Popen | None = None
        self._log_path: Path | None = None
        self._finalizer: weakref.finalize | None = None

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self.port is None or not self.running:
            raise OSRMError("the local OSRM server is not running: call start() or use it as a context manager")
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> "LocalOSRM":
        """Preprocess (cached) and start the server; return self once it answers."""
        if self.running:
            return self
        self.base = prepare_extract(self.extract, work_dir=self.work_dir, profile=self.profile,
                                    bin_dir=self.bin_dir, threads=self.threads)
        fixed_port = self.port is not None
        for attempt in range(3):
            port = self.port if fixed_port else _free_port(self.host)
            try:
                self._launch(port)
                return self
            except OSRMError as exc:
                # a free port can be taken between probing and binding: retry with another
                if fixed_port or "Address already in use" not in str(exc) or attempt == 2:
                    raise
                logger.info("port %d was taken, retrying", port)
        return self

    def _launch(self, port: int) -> None:
        exe = find_osrm_bin(self.bin_dir) / "osrm-routed"
        cmd = [str(exe), "--algorithm", "mld", "-i", self.host, "-p", str(port), "-t", str(self.threads),
               "--max-table-size", str(self.max_table_size), str(self.base)]
        fd, log_name = tempfile.mkstemp(prefix="osrm-routed-", suffix=".log")
        os.close(fd)
        self._log_path = Path(log_name)
        log_file = open(self._log_path, "wb")  # a file, not a pipe: a full pipe would block the server
        logger.info("starting osrm-routed for %s on %s:%d", self.extract.name, self.host, port)
        proc = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        self._proc, self.port = proc, port
        self._finalizer = weakref.finalize(self, _stop_process, proc, log_file)
        self._wait_ready()

    def _log_tail(self) -> str:
        try:
            return self._log_path.read_text(errors="replace")[-_LOG_TAIL:] if self._log_path else ""
        except OSError:
            return ""

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        probe = f"http://{self.host}:{self.port}/nearest/v1/driving/0,0"
        t0 = time.monotonic()
        while True:
            if self._proc.poll() is not None:
                code = self._proc.returncode
                tail = self._log_tail()
                self.stop()
                raise OSRMError(f"osrm-routed exited with code {code} during startup:\n{tail}")
            try:
                # any HTTP answer (even an OSRM error for this dummy query) means it is serving
                urllib.request.urlopen(probe, timeout=1.0).close()
                break
            except urllib.error.HTTPError:
                break
            except (urllib.error.URLError, ConnectionError, socket.timeout, OSError):
                pass
            if time.monotonic() > deadline:
                tail = self._log_tail()
                self.stop()
                raise OSRMError(f"osrm-routed did not answer within {self.startup_timeout:g} s:\n{tail}")
            time.sleep(0.05)
        logger.info("osrm-routed ready at %s:%d (pid %d) after %.2f s", self.host, self.port, self._proc.pid,
                    time.monotonic() - t0)

    def stop(self) -> None:
        """Stop the server (terminate, wait, kill) and remove its log. Idempotent."""
        if self._finalizer is not None:
            self._finalizer()  # runs _stop_process once, and detaches the atexit hook
            self._finalizer = None
        if self._log_path is not None:
            self._log_path.unlink(missing_ok=True)
            self._log_path = None

    def __enter__(self) -> "LocalOSRM":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"running at {self.host}:{self.port}, pid {self.pid}" if self.running else "stopped"
        return f"LocalOSRM({self.extract.name!r}, {state})"

    def client(self, **kwargs):
        """An :class:`~hybridroute.osrm.client.OSRMClient` for this server (tiles sized to its limit)."""
        from .client import OSRMClient

        kwargs.setdefault("max_table_size", self.max_table_size)
        return OSRMClient(self.url, **kwargs)
