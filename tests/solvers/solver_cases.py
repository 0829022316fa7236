"""Small instances with a known optimum, shared by the backend tests of tests/solvers/."""

from __future__ import annotations

import numpy as np

import hybridroute as hr

CHEAP, DEAR = 1.5, 100.0


def chain_atsp(n: int = 9) -> hr.Problem:
    """ATSP whose only cheap arcs form the tour 0→1→…→n-1→0: optimum [[1..n-1]], cost n×1.5.

    An off-by-one between a backend's indices and hybridroute's nodes cannot find it.
    """
    d = np.full((n, n), DEAR)
    for i in range(n):
        d[i, (i + 1) % n] = CHEAP
    np.fill_diagonal(d, 0.0)
    return hr.Problem("ATSP", d, name=f"chain{n}")


def two_chains_acvrp(with_windows: bool = False) -> hr.Problem:
    """Two cheap chains 0→1→2→3→0 and 0→4→5→6→0; capacity 3 forces exactly those routes.

    Optimum: routes {(1, 2, 3), (4, 5, 6)}, distance 8 × 1.5 = 12. With windows, service
    times and a depot service time are added that the optimum meets (with waiting).
    """
    n = 7
    d = np.full((n, n), DEAR)
    for a, b in [(0, 1), (1, 2), (2, 3), (3, 0), (0, 4), (4, 5), (5, 6), (6, 0)]:
        d[a, b] = CHEAP
    np.fill_diagonal(d, 0.0)
    t = d * 2.0
    demand = np.r_[0, np.ones(n - 1, dtype=int)]
    if not with_windows:
        return hr.Problem("ACVRP", d, t, demand=demand, capacity=3, name="two-chains")
    tw = np.array([[0, 1000], [0, 300], [10, 300], [30, 400], [0, 300], [20, 300], [0, 400]], float)
    svc = np.r_[2.0, np.full(n - 1, 5.0)]
    return hr.Problem("ACVRPTW", d, t, demand=demand, capacity=3, time_windows=tw,
                      service_time=svc, name="two-chains-tw")


def canonical(routes) -> set:
    return {tuple(r) for r in routes}
