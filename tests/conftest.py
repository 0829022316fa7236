"""Shared fixtures: small named instances and access to ../shared data."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import hybridroute as hr

SHARED = Path(os.environ.get("HYBRIDROUTE_SHARED", Path(__file__).resolve().parents[2] / "shared"))
IN_CI = os.environ.get("CI", "").lower() == "true"


def require_shared(*parts: str) -> Path:
    """Path under ../shared, or skip (fail in CI, where the data must be present)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        msg = f"{path} is absent: this test needs the project's shared data folder (../shared)"
        if IN_CI:
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@pytest.fixture
def shared_data() -> Path:
    return require_shared("data")


def random_matrix(n: int, rng: np.random.Generator, scale: float = 1000.0) -> np.ndarray:
    """An asymmetric metre matrix from random points plus a one-way penalty."""
    pts = rng.uniform(0, scale, (n, 2))
    d = np.linalg.norm(pts[:, None] - pts[None], axis=-1)
    d = d * rng.uniform(1.0, 1.3, (n, n))
    np.fill_diagonal(d, 0.0)
    return d


@pytest.fixture
def atsp10() -> hr.Problem:
    rng = np.random.default_rng(10)
    return hr.Problem("ATSP", random_matrix(10, rng), name="atsp10")


@pytest.fixture
def acvrp12() -> hr.Problem:
    rng = np.random.default_rng(12)
    d = random_matrix(13, rng)
    demand = np.r_[0, rng.integers(1, 10, 12)]
    return hr.Problem("ACVRP", d, d / 10.0, demand=demand, capacity=20, name="acvrp12")


@pytest.fixture
def acvrptw12() -> hr.Problem:
    rng = np.random.default_rng(13)
    d = random_matrix(13, rng)
    t = d / 10.0
    demand = np.r_[0, rng.integers(1, 10, 12)]
    start = np.r_[0, rng.uniform(0, 300, 12)]
    tw = np.c_[start, start + np.r_[2000, np.full(12, 200.0)]]
    svc = np.r_[0, np.full(12, 10.0)]
    return hr.Problem("ACVRPTW", d, t, demand=demand, capacity=25, time_windows=tw,
                      service_time=svc, name="acvrptw12")
