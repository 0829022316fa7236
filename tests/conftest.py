"""Shared fixtures: small named instances and access to ../shared data."""

from __future__ import annotations

import numpy as np
import pytest

import hybridroute as hr

from support import IN_CI, SHARED, random_matrix, require_shared  # noqa: F401


@pytest.fixture
def shared_data() -> Path:
    return require_shared("data")


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
