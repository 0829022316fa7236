"""Hypothesis strategies for valid problems and (possibly broken) routes, shared by the tests."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import hybridroute as hr

KINDS = ("ATSP", "ACVRP", "ACVRPTW")

# Travel values: mostly floats with arbitrary fractions, some round integers, some zeros
# (OSRM returns 0 s between near-identical points).
_travel = st.one_of(
    st.floats(0.0, 5000.0, allow_nan=False, allow_infinity=False),
    st.integers(0, 5000).map(float),
    st.just(0.0),
)
_slack = st.one_of(st.just(0.0), st.floats(0.0, 300.0), st.floats(0.0, 5000.0))


def matrices(n: int):
    """An asymmetric n×n matrix with a zero diagonal."""
    return hnp.arrays(np.float64, (n, n), elements=_travel).map(_zero_diagonal)


def _zero_diagonal(m: np.ndarray) -> np.ndarray:
    m = m.copy()
    np.fill_diagonal(m, 0.0)
    return m


def id_labels(n: int, id_kind: str):
    if id_kind == "default":
        return st.none()
    if id_kind == "int":
        return st.lists(st.integers(-10**6, 10**6), min_size=n, max_size=n, unique=True)
    return st.lists(st.text("abcxyzé-_ 0123456789", min_size=1, max_size=6), min_size=n, max_size=n,
                    unique=True)


@st.composite
def time_windows(draw, n: int, duration: np.ndarray):
    """Windows and service times under which every customer is reachable on a direct trip.

    Built with the same arithmetic as Problem's reachability check, so the tight cases (zero
    slack) sit exactly on the boundary and still validate.
    """
    depot_start = draw(st.floats(0.0, 1000.0))
    svc = np.array([draw(st.one_of(st.just(0.0), st.floats(0.0, 100.0))) for _ in range(n)])
    tw = np.zeros((n, 2))
    tw[0, 0] = depot_start
    arrive = (depot_start + svc[0]) + duration[0, 1:]
    for i in range(1, n):
        tw[i, 0] = draw(st.floats(0.0, 3000.0))
        slack = draw(st.one_of(_slack, st.just(math.inf)))
        tw[i, 1] = max(tw[i, 0], arrive[i - 1]) + slack
    back = np.maximum(arrive, tw[1:, 0]) + svc[1:] + duration[1:, 0]
    tw[0, 1] = draw(st.one_of(_slack, st.just(math.inf))) + float(back.max())
    return tw, svc


@st.composite
def problems(draw, kinds=KINDS, min_n: int = 2, max_n: int = 9, id_kinds=("default", "int", "str"),
             coords=None, vehicles: bool = True):
    """A valid random Problem of one of ``kinds`` with ``min_n``..``max_n`` nodes.

    ``vehicles=False`` keeps ``num_vehicles`` None (unlimited fleet).
    """
    kind = hr.ProblemKind(draw(st.sampled_from(kinds)))
    n = draw(st.integers(min_n, max_n))
    dist = draw(matrices(n))
    needs_duration = kind.has_time_windows or draw(st.booleans())
    dur = draw(matrices(n)) if needs_duration else None
    ids = draw(id_labels(n, draw(st.sampled_from(id_kinds))))
    with_coords = draw(st.booleans()) if coords is None else coords
    xy = None
    if with_coords:
        lat = draw(hnp.arrays(np.float64, n, elements=st.floats(-90.0, 90.0)))
        lon = draw(hnp.arrays(np.float64, n, elements=st.floats(-180.0, 180.0)))
        xy = np.column_stack([lat, lon])
    kw = {}
    if kind.has_capacity:
        capacity = draw(st.integers(1, 40))
        if draw(st.booleans()):
            demand = np.array([0] + [draw(st.integers(0, capacity)) for _ in range(n - 1)], dtype=np.int64)
        else:
            demand = np.array([0.0] + [draw(st.floats(0.0, float(capacity))) for _ in range(n - 1)])
        num_vehicles = None
        if vehicles and draw(st.booleans()):
            needed = max(1, math.ceil(float(demand.sum()) / capacity - 1e-9))
            num_vehicles = draw(st.integers(needed, needed + 3))
        kw.update(demand=demand, capacity=capacity, num_vehicles=num_vehicles)
    if kind.has_time_windows:
        kw["time_windows"], kw["service_time"] = draw(time_windows(n, dur))
    objective = draw(st.sampled_from(["distance", "duration"])) if dur is not None else "distance"
    name = draw(st.one_of(st.none(), st.text(max_size=8)))
    return hr.Problem(kind, dist, dur, coords=xy, ids=ids, objective=objective, name=name, **kw)


@st.composite
def partitions(draw, n: int, one_route: bool = False):
    """A random split of customers 1..n-1 into routes (one route when ``one_route``)."""
    perm = draw(st.permutations(list(range(1, n))))
    if one_route or len(perm) < 2:
        return [list(perm)]
    cuts = draw(st.lists(st.booleans(), min_size=len(perm) - 1, max_size=len(perm) - 1))
    routes, cur = [], [perm[0]]
    for v, cut in zip(perm[1:], cuts):
        if cut:
            routes.append(cur)
            cur = []
        cur.append(v)
    routes.append(cur)
    return routes


@st.composite
def routes_for(draw, problem: hr.Problem, broken: bool = True):
    """Routes for ``problem``: a partition, sometimes with duplicates, drops, unknown nodes,
    the depot, empty routes or (for ATSP) several routes."""
    n = problem.num_nodes
    atsp = problem.kind is hr.ProblemKind.ATSP
    routes = draw(partitions(n, one_route=atsp and not (broken and draw(st.booleans()))))
    if not broken:
        return routes
    ops = draw(st.lists(st.sampled_from(["dup", "drop", "unknown", "depot", "empty", "none"]), max_size=3))
    for op in ops:
        r = draw(st.integers(0, len(routes) - 1))
        if op == "dup":
            routes[r].insert(draw(st.integers(0, len(routes[r]))), draw(st.integers(1, n - 1)))
        elif op == "drop" and routes[r]:
            routes[r].pop(draw(st.integers(0, len(routes[r]) - 1)))
        elif op == "unknown":
            routes[r].insert(draw(st.integers(0, len(routes[r]))), draw(st.sampled_from([n, n + 7, -1])))
        elif op == "depot":
            routes[r].insert(draw(st.integers(0, len(routes[r]))), 0)
        elif op == "empty":
            routes.insert(r, [])
    return routes
