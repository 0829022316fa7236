"""Test helpers shared across folders (import as ``from support import ...``).

Not in conftest.py: pytest swaps ``sys.modules["conftest"]`` whenever it loads a nested
conftest, so ``from support import ...`` would depend on collection order.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

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


def random_matrix(n: int, rng: np.random.Generator, scale: float = 1000.0) -> np.ndarray:
    """An asymmetric metre matrix from random points plus a one-way penalty."""
    pts = rng.uniform(0, scale, (n, 2))
    d = np.linalg.norm(pts[:, None] - pts[None], axis=-1)
    d = d * rng.uniform(1.0, 1.3, (n, n))
    np.fill_diagonal(d, 0.0)
    return d
