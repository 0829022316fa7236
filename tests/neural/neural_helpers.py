"""Helpers for the neural tests: synthetic road-like cities and tiny policies (fast on 2 cores)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

from hybridroute.osrm.cities import City  # noqa: E402


def synthetic_city(seed: int = 0, m: int = 60, name: str = "synth") -> City:
    """Random points near Helsinki with an asymmetric 'road' matrix (km, minutes)."""
    rng = np.random.default_rng(seed)
    pts = np.c_[60.17 + rng.uniform(0, 0.03, m), 24.94 + rng.uniform(0, 0.05, m)]
    xy = np.c_[pts[:, 1] * 55.6, pts[:, 0] * 111.2]
    dist = np.linalg.norm(xy[:, None] - xy[None], axis=-1) * rng.uniform(1.1, 1.5, (m, m))
    np.fill_diagonal(dist, 0.0)
    dur = dist / rng.uniform(0.3, 0.6, (m, m))
    np.fill_diagonal(dur, 0.0)
    return City(name, pts, dist, dur)


def tiny_config(kind: str):
    from hybridroute.neural.policy import ModelConfig

    return ModelConfig(kind, embed_dim=16, num_layers=1, ff_hidden=32, num_heads=4, sample_k=5)


def tiny_policy(kind: str, seed: int = 0):
    from hybridroute.neural.policy import RRNCOPolicy

    torch.manual_seed(seed)
    return RRNCOPolicy(tiny_config(kind)).eval()
