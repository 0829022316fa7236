"""Fixtures for the neural tests (each test module skips itself without torch / safetensors)."""

from __future__ import annotations

import importlib.util
import os

import pytest

# The test machine is shared: spinning OpenMP workers slow every test down badly under
# contention, and one thread is plenty for the tiny models used here.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    if importlib.util.find_spec("torch") is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def city():
    from neural_helpers import synthetic_city

    return synthetic_city(0)
