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


# A 4-node ACVRP file with the depot last, as in the Fischetti files: node 4 is the depot
# (problem index 0).
ACVRP4 = """NAME : tiny4
TYPE : ACVRP
DIMENSION : 4
EDGE_WEIGHT_TYPE : EXPLICIT
EDGE_WEIGHT_FORMAT : FULL_MATRIX
CAPACITY : 10
VEHICLES : 2
EDGE_WEIGHT_SECTION
 10000 1 2 3
 4 10000 5 6
 7 8 10000 9
 10 11 12 10000
DEMAND_SECTION
1 5
2 5
3 5
4 0
DEPOT_SECTION
4
EOF
"""


def serve_http(handler_class) -> tuple[str, object]:
    """Serve ``handler_class`` (a BaseHTTPRequestHandler) on a free port of 127.0.0.1 in a
    daemon thread; returns (its URL, a function that stops it)."""
    import threading
    from http.server import ThreadingHTTPServer

    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return f"http://127.0.0.1:{server.server_address[1]}", stop


# A 3-node Solomon file (depot and two customers).
SOLOMON3 = """TINY

VEHICLE
NUMBER     CAPACITY
  2         10

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

    0      0         0          0          0       100          0
    1      3         4          5          0        50         10
    2      1         1          5         20        60         10
"""
