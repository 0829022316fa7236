"""Helpers for the OSRM tests.

No conftest here: pytest swaps ``sys.modules["conftest"]`` each time it loads a nested
conftest.py, so ``from conftest import ...`` depends on collection order. For the same reason
the root tests/conftest.py is loaded here by path, under a name of its own.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest


def _root_conftest():
    name = "_hybridroute_tests_root_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parents[1] / "conftest.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


IN_CI = _root_conftest().IN_CI
require_shared = _root_conftest().require_shared

from hybridroute.osrm.errors import OSRMNotFoundError


def require_osrm() -> Path:
    """Folder of the OSRM executables, or skip (fail when CI=true)."""
    from hybridroute.osrm.server import find_osrm_bin, find_profile

    try:
        folder = find_osrm_bin()
        find_profile("car", folder)
        return folder
    except OSRMNotFoundError as exc:
        msg = str(exc)
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)


def require_osmium() -> None:
    try:
        import osmium  # noqa: F401
    except ImportError:
        msg = "pyosmium is not installed (pip install osmium): needed to build cities"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)


def extract(name: str) -> Path:
    return require_shared("data", "osm", name)


def process_gone(pid: int) -> bool:
    """True when no live process has this pid (a zombie counts as gone: it no longer runs)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] == "Z"
    except FileNotFoundError:
        return True
    except OSError:  # pragma: no cover - non-Linux
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False
