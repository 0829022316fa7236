"""Helpers for the OSRM tests (a module of its own name: see tests/support.py for why)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from support import IN_CI, require_shared  # noqa: F401

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
