"""Why each stop is served, late, left out or impossible: :func:`explain`.

Before solving, every customer is checked against what no route can change: its demand
against the vehicle capacity and its window against the earliest arrival from the depot.
After solving, each late or unserved customer is tried at every position of every route (the
others staying where they are) and in a route of its own; the cheapest placement that adds no
violation, or the constraints that block every placement, is its reason.

Units: times in seconds (from the problem's time origin), distances in metres, loads in demand
units, insertion costs in the objective's unit (metres, or seconds for ``objective="duration"``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .problem import Problem, ProblemKind, _shortest_from
from .solution import _REL_TOL, RouteStats, Solution, Status, _route_schedule, evaluate, parse_routes

__all__ = ["explain", "BEFORE_COLUMNS", "AFTER_COLUMNS", "BINDING_ORDER", "TIME_BOUND_MAX_NODES"]

#: Columns of the table before solving (and for a solution without routes).
BEFORE_COLUMNS = ("id", "node", "status", "binding", "reason", "demand", "earliest_arrival",
                  "latest_departure", "slack")
#: Columns of the table after solving.
AFTER_COLUMNS = ("id", "node", "status", "binding", "reason", "route", "position", "arrival", "wait",
                 "slack", "lateness", "insertion_route", "insertion_position", "insertion_cost")
#: Which constraint is named first when relaxing any one of several would let a stop in:
#: the fleet's own levers (capacity, vehicles) before the stop's window and other stops' windows.
BINDING_ORDER = ("capacity", "fleet", "window", "time")
#: The time-based bound on the number of vehicles needs all-pairs shortest travel times
#: (O(n³)); above this many nodes it is skipped (``min_vehicles_time`` is None).
TIME_BOUND_MAX_NODES = 1000

_INT_COLUMNS = ("route", "position", "insertion_route", "insertion_position")
# How many stop ids a fleet-level message lists before "...".
_MAX_LISTED = 10


def _tol(x):
    """The evaluator's slack on a window end or capacity ``x`` (see :mod:`hybridroute.solution`)."""
    return _REL_TOL * np.maximum(1.0, np.abs(x))


# -- before solving ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reach:
    """Lower bounds on when each node can be served (index 0, the depot, is not used).

    ``arrival`` is the departure from the depot plus the shortest travel time over the duration
    matrix (through other nodes too: matrices need not obey the triangle inequality), so no
    route arrives earlier. ``latest`` is the latest depot departure that can still serve the
    node on time and be back before the depot closes; ``-inf`` when none can.
    """

    depart: float
    arrival: np.ndarray
    latest: np.ndarray
    back: np.ndarray


def _reach(problem: Problem) -> _Reach | None:
    T = problem.duration
    if T is None:
        return None
    tw, svc = problem.time_windows, problem.service_time
    depart = float(tw[0, 0] + svc[0]) if tw is not None else 0.0
    out, back = _shortest_from(T, 0), _shortest_from(T.T, 0)
    if tw is None:
        latest = np.full(problem.num_nodes, np.inf)
    else:
        close = tw[0, 1]
        latest = np.minimum(tw[:, 1] - out, close - svc - back - out)
        # a vehicle that waits for the window to open returns at the same time however late it left
        latest[tw[:, 0] + svc + back - close > _tol(close)] = -np.inf
    return _Reach(depart, depart + out, latest, back)


def _check_demand(problem: Problem, reach: _Reach | None) -> dict[int, tuple[str, str]]:
    if problem.demand is None:
        return {}
    cap = problem.capacity
    over = np.flatnonzero(problem.demand[1:] > cap * (1 + _REL_TOL)) + 1
    return {int(v): ("capacity", f"capacity: demand {problem.demand[v]:g} exceeds the vehicle capacity {cap:g}")
            for v in over}


def _check_window(problem: Problem, reach: _Reach | None) -> dict[int, tuple[str, str]]:
    if reach is None or problem.time_windows is None:
        return {}
    tw, svc = problem.time_windows, problem.service_time
    out: dict[int, tuple[str, str]] = {}
    late = reach.arrival - tw[:, 1]
    back = np.maximum(reach.arrival, tw[:, 0]) + svc + reach.back - tw[0, 1]
    for v in range(1, problem.num_nodes):
        if late[v] > _tol(tw[v, 1]):
            out[v] = ("window", f"window: the earliest arrival, {reach.arrival[v]:g} s, is {late[v]:g} s "
                                f"after its window ends ({tw[v, 1]:g} s)")
        elif back[v] > _tol(tw[0, 1]):
            out[v] = ("window", f"window: it returns to the depot {back[v]:g} s after it closes "
                                f"({tw[0, 1]:g} s) at the earliest")
    return out


#: Checks of what no route can change, each ``(problem, reach) -> {node: (kind, reason)}``.
#: A stop that fails one is "impossible"; new constraints (shifts, vehicle types) add checks here.
_PRESOLVE_CHECKS: tuple[Callable[[Problem, _Reach | None], dict[int, tuple[str, str]]], ...] = (
    _check_demand, _check_window)


def _impossible(problem: Problem, reach: _Reach | None) -> dict[int, tuple[str, str]]:
    found: dict[int, tuple[str, str]] = {}
    for check in _PRESOLVE_CHECKS:
        for v, why in check(problem, reach).items():
            found.setdefault(v, why)
    return found


def _all_pairs_shortest(matrix: np.ndarray) -> np.ndarray:
    """Shortest travel between every pair of nodes (Floyd–Warshall, O(n³) with numpy)."""
    best = np.array(matrix, dtype=np.float64, copy=True)
    for k in range(best.shape[0]):
        np.minimum(best, best[:, k, None] + best[None, k, :], out=best)
    return best


def _greedy_clique(adjacent: np.ndarray, seeds: int = 32) -> list[int]:
    """A large clique of a symmetric boolean graph, grown greedily by degree from a few seeds.

    Any clique is a valid lower bound where it is used; a maximum one is NP-hard to find.
    """
    degree = adjacent.sum(axis=1)
    order = np.argsort(-degree, kind="stable")
    best: list[int] = []
    for seed in order[:seeds]:
        if degree[seed] + 1 <= len(best):
            break
        clique, candidates = [int(seed)], adjacent[seed].copy()
        while candidates.any():
            v = int(order[candidates[order]][0])
            clique.append(v)
            candidates &= adjacent[v]
        if len(clique) > len(best):
            best = clique
    return best


def _time_conflicts(problem: Problem, reach: _Reach) -> list[int] | None:
    """Customers no two of which can share a route on time (a clique), or None when skipped.

    ``j`` can follow ``i`` on a route only if service at ``i`` starts no earlier than its
    earliest possible arrival (or window start), and ``i``'s service plus the shortest travel
    time to ``j`` reaches ``j`` before its window ends and still lets the vehicle back to the
    depot in time. Pairs where neither order passes cannot share a route, so the customers of
    any clique of such pairs need one vehicle each: a lower bound on the fleet.
    """
    n = problem.num_nodes
    if not problem.kind.has_time_windows or n > TIME_BOUND_MAX_NODES or n < 3:
        return None
    tw, svc = problem.time_windows, problem.service_time
    shortest = _all_pairs_shortest(problem.duration)[1:, 1:]
    begin = np.maximum(reach.arrival, tw[:, 0])[1:]
    arrive = (begin + svc[1:])[:, None] + shortest  # at j (column) right after i (row), at the earliest
    ok = arrive - tw[1:, 1][None, :] <= _tol(tw[1:, 1])[None, :]
    back = np.maximum(arrive, tw[1:, 0][None, :]) + (svc[1:] + reach.back[1:])[None, :]
    ok &= back - tw[0, 1] <= _tol(tw[0, 1])
    conflict = ~(ok | ok.T)
    np.fill_diagonal(conflict, False)
    return [v + 1 for v in _greedy_clique(conflict)]


def _listed(problem: Problem, nodes) -> str:
    labels = [repr(problem.id_of(v)) for v in nodes]
    more = f", ... ({len(labels)} in all)" if len(labels) > _MAX_LISTED else ""
    return ", ".join(labels[:_MAX_LISTED]) + more


def _fleet_bounds(problem: Problem, reach: _Reach | None) -> dict[str, Any]:
    """Fleet-level facts: total demand against the fleet's capacity and lower bounds on vehicles."""
    nv = problem.num_vehicles
    facts: dict[str, Any] = dict(total_demand=None, capacity=problem.capacity, num_vehicles=nv,
                                 fleet_capacity=None, min_vehicles_capacity=None, min_vehicles_time=None,
                                 time_conflicts=[], min_vehicles=1)
    if problem.kind is ProblemKind.ATSP:
        facts["fleet"] = "fleet: ATSP, one tour over all nodes"
        return facts
    total = problem.demand.sum().item()
    cap = problem.capacity
    by_capacity = max(1, math.ceil(total / cap - 1e-9))
    facts.update(total_demand=total, min_vehicles_capacity=by_capacity,
                 fleet_capacity=None if nv is None else nv * cap)
    why = [f"total demand {total:g} over capacity {cap:g} needs at least {by_capacity}"]
    clique = _time_conflicts(problem, reach) if reach is not None else None
    if clique is not None:
        facts["min_vehicles_time"] = len(clique)
        if len(clique) >= 2:
            facts["time_conflicts"] = [problem.id_of(v) for v in clique]
            why.append(f"{len(clique)} stops ({_listed(problem, clique)}) pairwise cannot share a route "
                       f"on time, so at least {len(clique)}")
    facts["min_vehicles"] = need = max(by_capacity, facts["min_vehicles_time"] or 1)
    if nv is not None and need > nv:
        facts["fleet"] = f"fleet: at least {need} vehicles are needed but num_vehicles = {nv}: " + "; ".join(why)
    else:
        allowed = "unlimited" if nv is None else str(nv)
        facts["fleet"] = f"fleet: at least {need} vehicle(s) needed ({'; '.join(why)}); num_vehicles = {allowed}"
    return facts


def _before_table(problem: Problem):
    import pandas as pd

    reach = _reach(problem)
    impossible = _impossible(problem, reach)
    customers = np.arange(1, problem.num_nodes)
    rows = {c: [] for c in BEFORE_COLUMNS if c not in ("id", "node")}
    for v in customers:
        kind, why = impossible.get(int(v), (None, None))
        if reach is not None:
            earliest, latest = reach.arrival[v], reach.latest[v]
            slack = latest - reach.depart
        else:
            earliest = latest = slack = np.nan
        if why is None:
            why = ("servable" if reach is None or not np.isfinite(latest) else
                   f"servable: leaves the depot by {latest:g} s at the latest ({slack:g} s after it opens)")
        rows["status"].append("servable" if kind is None else "impossible")
        rows["binding"].append(kind)
        rows["reason"].append(why)
        rows["demand"].append(np.nan if problem.demand is None else float(problem.demand[v]))
        rows["earliest_arrival"].append(earliest)
        rows["latest_departure"].append(latest)
        rows["slack"].append(slack)
    frame = _with_text_columns(pd.DataFrame({"id": _ids(problem), "node": customers, **rows},
                                            columns=list(BEFORE_COLUMNS)))
    facts = _fleet_bounds(problem, reach)
    facts["impossible"] = [problem.id_of(v) for v in sorted(impossible)]
    facts["reason"] = _overall_reason(problem, impossible, facts)
    return frame, facts


def _overall_reason(problem: Problem, impossible: dict, facts: dict[str, Any]) -> str:
    if impossible:
        return f"impossible stops: {_listed(problem, sorted(impossible))}; {facts['fleet']}"
    return facts["fleet"]


def _with_text_columns(frame):
    """``status``, ``binding`` and ``reason`` as object columns, a missing binding as None."""
    import pandas as pd

    for c in ("status", "binding", "reason"):
        values = [None if v is None or v != v else v for v in frame[c].tolist()]
        frame[c] = pd.Series(values, dtype=object, index=frame.index)  # an ndarray would become str, None NaN
    return frame


def _ids(problem: Problem):
    import pandas as pd

    ids = problem.ids[1:]
    return pd.Series(ids, dtype=object) if ids.dtype.kind == "O" else pd.Series(ids.tolist())


# -- after solving -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Fit:
    """How one stop fits into one existing route (``route`` set) or a route of its own (None).

    ``capacity_excess`` is in demand units (0: it fits); ``time_excess`` the smallest lateness
    in seconds the placement adds, over all positions (0: some position keeps every window),
    reached at ``time_position``; ``position`` and ``cost`` the cheapest position that keeps
    every window and its added cost in the objective's unit (None and ``inf`` when none does).
    """

    route: int | None
    load: float
    capacity_excess: float
    time_excess: float
    time_position: int
    position: int | None
    cost: float
    fleet_ok: bool = True
    alone_late_at_depot: bool = False

    @property
    def time_ok(self) -> bool:
        return self.position is not None

    @property
    def feasible(self) -> bool:
        return self.time_ok and self.capacity_excess == 0 and self.fleet_ok


def _allowed_delay(problem: Problem, st: RouteStats) -> np.ndarray:
    """How much later each visit (and, last, the return to the depot) may arrive without a stop
    becoming later than both its window end and its current arrival (forward time slack).

    A later arrival at visit i is absorbed by its waiting time before it reaches visit i+1, so
    ``allowed[i] = min(own margin of i, wait[i] + allowed[i + 1])``; margins include the
    evaluator's tolerance so that "allowed" means "the evaluator reports nothing new".
    """
    tw = problem.time_windows
    k = len(st.nodes)
    if tw is None:
        return np.full(k + 1, np.inf)
    allowed = np.empty(k + 1)
    close = tw[0, 1]
    allowed[k] = max(close - st.end_time, 0.0) + _tol(close)
    for i in range(k - 1, -1, -1):
        end = tw[st.nodes[i], 1]
        allowed[i] = min(max(end - st.arrival[i], 0.0) + _tol(end), st.wait[i] + allowed[i + 1])
    return allowed


def _capacity_excess(problem: Problem, load: float, j: int) -> float:
    """Demand units by which adding stop ``j`` to ``load`` exceeds the capacity (0: it fits, or
    the load does not grow, as for a zero demand on a route already over capacity)."""
    if problem.demand is None:
        return 0.0
    new = load + problem.demand[j]
    if new <= problem.capacity * (1 + _REL_TOL) or new <= load:
        return 0.0
    return float(new - problem.capacity)


def _fit_route(problem: Problem, j: int, r: int, st: RouteStats) -> _Fit:
    """Every insertion position of stop ``j`` into route ``r`` (scheduled as ``st``, without j)."""
    nodes = st.nodes
    prev = np.array((0,) + nodes)
    nxt = np.array(nodes + (0,))
    T = problem.duration
    positions = len(nodes) + 1
    if T is None:
        ok, excess = np.ones(positions, dtype=bool), np.zeros(positions)
    else:
        tw, svc = problem.time_windows, problem.service_time
        svc0, svc_j = (0.0, 0.0) if svc is None else (svc[0], svc[j])
        arrive = np.r_[st.start_time + svc0, st.departure] + T[prev, j]
        if tw is None:
            late, begin = np.zeros(positions), arrive
        else:
            late, begin = arrive - tw[j, 1], np.maximum(arrive, tw[j, 0])
        on_time = late <= _tol(tw[j, 1]) if tw is not None else np.ones(positions, dtype=bool)
        # how much later the visit after j (or the return) arrives than it does now
        shift = begin + svc_j + T[j, nxt] - np.r_[st.arrival, st.end_time]
        push = shift - _allowed_delay(problem, st)
        ok = on_time & (push <= 0)
        excess = np.maximum(np.where(on_time, 0.0, late), np.maximum(push, 0.0))
    cap_excess = _capacity_excess(problem, st.load, j)
    position, cost = None, math.inf
    if ok.any():
        if problem.objective == "duration":
            costs = _end_shift(problem, st, shift)  # the start stays: the duration grows by the end's shift
        else:
            D = problem.distance
            costs = D[prev, j] + D[j, nxt] - D[prev, nxt]
        costs = np.where(ok, costs, np.inf)
        position = int(np.argmin(costs))
        cost = float(costs[position])
    return _Fit(route=r, load=st.load, capacity_excess=cap_excess, time_excess=float(excess.min()),
                time_position=int(np.argmin(excess)), position=position, cost=cost)


def _end_shift(problem: Problem, st: RouteStats, shift: np.ndarray) -> np.ndarray:
    """How much later route ``st`` returns to the depot when its visit k arrives ``shift[k]``
    later (``k = len(nodes)``: the return itself), for every k at once.

    A visit's service start moves by ``max(s - wait, window start - service start)``: a delay
    is absorbed by waiting, an advance stops at the window's start.
    """
    s = np.array(shift, dtype=np.float64)
    tw = problem.time_windows
    for i, v in enumerate(st.nodes):
        floor = tw[v, 0] - (st.arrival[i] + st.wait[i]) if tw is not None else -np.inf
        s[:i + 1] = np.maximum(s[:i + 1] - st.wait[i], floor)
    return s


def _fit_alone(problem: Problem, j: int, routes_in_use: int) -> _Fit:
    """Stop ``j`` in a route of its own, scheduled by the evaluator."""
    violations: list = []
    st = _route_schedule(problem, -1, (j,), 0, violations)
    late = {v.kind: v.amount for v in violations}
    time_excess = max(late.get("time_window", 0.0), late.get("depot_time_window", 0.0))
    nv = problem.num_vehicles
    time_ok = time_excess == 0.0
    return _Fit(route=None, load=0.0, capacity_excess=_capacity_excess(problem, 0.0, j),
                time_excess=time_excess, time_position=0, position=0 if time_ok else None,
                cost=(st.duration if problem.objective == "duration" else st.distance) if time_ok else math.inf,
                fleet_ok=nv is None or routes_in_use + 1 <= nv,
                alone_late_at_depot="time_window" not in late and "depot_time_window" in late)


def _diagnose(problem: Problem, j: int, fits: list[_Fit], alone: _Fit, routes_in_use: int) -> dict[str, Any]:
    """The binding reason for stop ``j`` from its fits into every route and into one of its own."""
    feasible = [f for f in fits + [alone] if f.feasible]
    if feasible:
        best = min(feasible, key=lambda f: f.cost)  # ties: the first route, a route of its own last
        unit = "s" if problem.objective == "duration" else "metres"
        where = "a route of its own" if best.route is None else f"route {best.route}, position {best.position}"
        return dict(binding="sequence", insertion_route=best.route, insertion_position=best.position,
                    insertion_cost=best.cost,
                    reason=f"the solver's sequence: a feasible insertion exists at {best.cost:+g} {unit} "
                           f"({where})")
    parts = _blocking_parts(problem, j, fits, alone, routes_in_use)
    singly = [k for k in BINDING_ORDER if k in parts and parts[k][0]]
    others = [k for k in BINDING_ORDER if k in parts and not parts[k][0]]
    binding = singly[0] if singly else "+".join(others)
    return dict(binding=binding, reason="; ".join(parts[k][1] for k in singly + others))


def _blocking_parts(problem: Problem, j: int, fits: list[_Fit], alone: _Fit,
                    routes_in_use: int) -> dict[str, tuple[bool, str]]:
    """``{kind: (relaxing it alone would let the stop in, text)}`` for each constraint that blocks.

    Only called when no placement is feasible, so "every route where it would be on time" and
    "every route with room" are the routes that the other constraint leaves.
    """
    timed = problem.time_windows is not None
    parts: dict[str, tuple[bool, str]] = {}
    capped = [f for f in fits if f.capacity_excess > 0]
    if capped:
        single = [f for f in capped if f.time_ok]
        pool = single or capped
        f = min(pool, key=lambda f: f.capacity_excess)
        where = ("every route where it would be on time" if single and timed else
                 "every route" if len(pool) == len(fits) else f"{len(pool)} of {len(fits)} routes")
        parts["capacity"] = (bool(single), f"capacity: {where} would exceed capacity by at least "
                             f"{f.capacity_excess:g} (route {f.route}: load {f.load:g} + demand "
                             f"{problem.demand[j]:g} > capacity {problem.capacity:g})")
    elif alone.capacity_excess > 0:
        parts["capacity"] = (False, f"capacity: demand {problem.demand[j]:g} exceeds capacity "
                                    f"{problem.capacity:g} even alone")
    if not alone.fleet_ok:
        on_time = " would be on time but" if alone.time_ok and timed else ""
        in_use = f"{routes_in_use} route{'' if routes_in_use == 1 else 's'} in use"
        parts["fleet"] = (alone.time_ok and alone.capacity_excess == 0,
                          f"fleet: a route of its own{on_time} would exceed num_vehicles = "
                          f"{problem.num_vehicles} ({in_use})")
    if not alone.time_ok:
        text = (f"window: even alone it returns to the depot {alone.time_excess:g} s after it closes"
                if alone.alone_late_at_depot else
                f"window: arrives {alone.time_excess:g} s after its end even alone")
        parts["window"] = (alone.fleet_ok and alone.capacity_excess == 0, text)
    late = [f for f in fits if not f.time_ok]
    if late:
        single = [f for f in late if f.capacity_excess == 0]
        pool = single or late
        f = min(pool, key=lambda f: f.time_excess)
        where = ("in every route with room" if single else
                 "in every route" if len(pool) == len(fits) else f"in {len(pool)} of {len(fits)} routes")
        parts["time"] = (bool(single), f"time: {where} it or a later stop would be late by at least "
                         f"{f.time_excess:g} s (route {f.route}, position {f.time_position})")
    return parts


def _check_solution(problem: Problem, solution: Any) -> Solution:
    if isinstance(solution, Solution):
        if solution.problem is not problem and solution.problem != problem:
            raise ValueError("solution: it was computed for another problem "
                             f"({solution.problem!r}, not {problem!r})")
        if solution.status is Status.NO_SOLUTION:
            return solution
        routes = solution.routes
    else:
        routes = parse_routes(solution, "solution")
    evaluated = evaluate(problem, routes)
    broken = [v.message for v in evaluated.violations
              if v.kind in ("unknown_node", "depot_in_route", "duplicate_visit")]
    if broken:
        raise ValueError("solution: its routes must visit distinct customers of the problem: " + "; ".join(broken))
    if isinstance(solution, Solution):
        return evaluated.with_info(solver=solution.solver, runtime=solution.runtime, message=solution.message)
    return evaluated


def _visit_row(problem: Problem, sol: Solution, r: int, k: int, route_notes: dict[int, str]) -> dict[str, Any]:
    """The row of a customer visited at position ``k`` of route ``r``."""
    st = sol.route_stats[r]
    v = st.nodes[k]
    row: dict[str, Any] = dict(status="served", binding=None, route=r, position=k)
    tw = problem.time_windows
    if problem.duration is not None:
        row.update(arrival=float(st.arrival[k]), wait=float(st.wait[k]))
    if tw is None:
        row["reason"] = f"served: route {r}, position {k}" + route_notes.get(r, "")
        return row
    slack = float(tw[v, 1] - st.arrival[k])
    late = -slack > _tol(tw[v, 1])
    row.update(slack=slack, lateness=max(0.0, -slack) if late else 0.0)
    if late:
        row["status"] = "late"
        return row
    waits = f", waits {st.wait[k]:g} s" if st.wait[k] > 0 else ""
    ends = "its window has no end" if math.isinf(tw[v, 1]) else f"{slack:g} s before its window ends"
    row["reason"] = (f"on time: route {r}, position {k}, arrives at {st.arrival[k]:g} s{waits}, {ends}"
                     + route_notes.get(r, ""))
    return row


def _route_notes(sol: Solution) -> dict[int, str]:
    """Route-level violations (capacity, return after the depot closes), for their stops' reasons."""
    notes: dict[int, str] = {}
    for v in sol.violations:
        if v.kind in ("capacity", "depot_time_window") and v.route is not None:
            notes[v.route] = notes.get(v.route, "") + f"; but {v.message}"
    return notes


def _after_table(problem: Problem, sol: Solution):
    import pandas as pd

    reach = _reach(problem)
    impossible = _impossible(problem, reach)
    notes = _route_notes(sol)
    where = {v: (r, k) for r, route in enumerate(sol.routes) for k, v in enumerate(route)}
    rows = []
    for j in range(1, problem.num_nodes):
        row: dict[str, Any] = dict(status="unserved")
        if j in where:
            row = _visit_row(problem, sol, *where[j], notes)
        if row["status"] == "unserved" and j in impossible:
            row.update(status="impossible", binding=impossible[j][0], reason=impossible[j][1])
        elif row["status"] != "served":
            row.update(_explain_stop(problem, sol, j, where.get(j)))
        rows.append(row)
    frame = pd.DataFrame(rows, columns=[c for c in AFTER_COLUMNS if c not in ("id", "node")])
    frame.insert(0, "node", np.arange(1, problem.num_nodes))
    frame.insert(0, "id", _ids(problem))
    for c in _INT_COLUMNS:
        frame[c] = frame[c].astype("Int64")
    for c in ("arrival", "wait", "slack", "lateness", "insertion_cost"):
        frame[c] = frame[c].astype(np.float64)
    frame = _with_text_columns(frame)
    facts = _fleet_bounds(problem, reach)
    facts["impossible"] = [problem.id_of(v) for v in sorted(impossible)]
    facts["reason"] = _overall_reason(problem, impossible, facts)
    facts["route_violations"] = [v.message for v in sol.violations
                                 if v.kind in ("capacity", "depot_time_window", "too_many_routes", "route_count")]
    facts["counts"] = {k: int(c) for k, c in frame["status"].value_counts().items()}
    return frame, facts


def _explain_stop(problem: Problem, sol: Solution, j: int, at: tuple[int, int] | None) -> dict[str, Any]:
    """Try stop ``j`` in every route (without it) and in a route of its own."""
    fits = []
    in_use = 0
    for r, st in enumerate(sol.route_stats):
        if at is not None and at[0] == r:
            nodes = st.nodes[:at[1]] + st.nodes[at[1] + 1:]
            if not nodes:
                continue  # j was alone: taking it out frees the vehicle
            st = _route_schedule(problem, r, nodes, st.vehicle_type, [])
        in_use += 1
        fits.append(_fit_route(problem, j, r, st))
    return _diagnose(problem, j, fits, _fit_alone(problem, j, in_use), in_use)


# -- public --------------------------------------------------------------------------------


def explain(problem: Problem, solution: Solution | Any = None):
    """Why each customer is served, late, left out or impossible: one row per customer.

    Parameters
    ----------
    problem
        The instance.
    solution
        None to explain before solving; a :class:`~hybridroute.Solution` of ``problem``; or
        routes (lists of node indices without the depot), evaluated with
        :func:`~hybridroute.evaluate`. A Solution with status NO_SOLUTION gets the table from
        before solving, with the reason in ``attrs``.

    Returns
    -------
    pandas.DataFrame
        One row per customer, in node order. Before solving (and for NO_SOLUTION), columns
        :data:`BEFORE_COLUMNS`:

        - ``id`` (the caller's label), ``node`` (index in the Problem);
        - ``status``: ``"servable"``, or ``"impossible"`` when no vehicle can ever serve it
          (demand above the capacity, window closed before the earliest arrival, no way back
          before the depot closes), with ``binding`` (``"capacity"`` or ``"window"``) and
          ``reason``;
        - ``demand``; ``earliest_arrival`` (s): the depot's opening plus the shortest travel
          time over the duration matrix, a lower bound since the path may pass other stops;
          ``latest_departure`` (s): the latest depot departure that still serves it on time
          and returns before the depot closes; ``slack`` (s): that minus the depot's opening
          (NaN without a duration matrix; ``inf`` without windows).

        After solving, columns :data:`AFTER_COLUMNS`:

        - ``status``: ``"served"`` (on time), ``"late"`` (arrives after its window ends),
          ``"unserved"`` (in no route) or ``"impossible"`` (unserved and impossible as above);
        - ``route``, ``position`` (0-based, as in ``solution.routes``), ``arrival``, ``wait``,
          ``slack`` (window end minus arrival; negative when late) and ``lateness``, in s;
        - for a late or unserved stop, ``binding`` and ``reason``: the stop is tried at every
          position of every route (the other stops staying where they are; its own route taken
          without it) and in a route of its own. A placement is feasible when the stop is on
          time and nothing else becomes late, later than it already was, or over capacity,
          and, for a route of its own, ``num_vehicles`` is not exceeded. ``binding`` is
          ``"sequence"`` when one exists ("the solver's sequence: a feasible insertion exists
          at +Δ metres (route r, position k)", the cheapest, with ``insertion_route`` (missing
          for a route of its own), ``insertion_position`` and ``insertion_cost`` in the
          objective's unit). Otherwise it is the first of :data:`BINDING_ORDER` whose
          relaxation alone would let the stop in: ``"capacity"`` (every route where it would
          be on time lacks room), ``"fleet"`` (a route of its own would exceed
          ``num_vehicles``), ``"window"`` (it arrives after its window ends even alone, or
          returns after the depot closes), ``"time"`` (every route with room makes it or a
          later stop late); when no single relaxation suffices, the blocking kinds joined by
          ``"+"``. ``reason`` lists every blocking constraint with its amount (demand units
          or seconds) and where it is smallest. Each stop is diagnosed on its own.

        ``attrs`` holds fleet-level facts: ``total_demand``, ``capacity``, ``num_vehicles``,
        ``fleet_capacity`` (``num_vehicles × capacity``, None when unlimited),
        ``min_vehicles_capacity`` (``ceil(total demand / capacity)``), ``min_vehicles_time``
        (ACVRPTW: the size of a set of stops no two of which can share a route on time, given
        as ``time_conflicts``; None for other kinds or above :data:`TIME_BOUND_MAX_NODES`
        nodes), ``min_vehicles`` (the larger bound), ``fleet`` (those bounds in words),
        ``impossible`` (ids) and ``reason`` (the fleet-level reason; for NO_SOLUTION, why no
        solution was found when the bounds tell, else that they do not). After solving also
        ``solution_status``, ``route_violations`` (messages of route-level violations) and
        ``counts`` (rows per status).

    Raises
    ------
    TypeError
        ``problem`` is not a Problem, or ``solution`` is neither a Solution nor routes.
    ValueError
        The solution belongs to another problem, or its routes visit unknown nodes, the
        depot or a customer twice.

    Examples
    --------
    >>> import numpy as np, hybridroute as hr
    >>> t = np.array([[0, 100, 100], [100, 0, 50], [100, 50, 0]])
    >>> p = hr.Problem("ACVRPTW", t, t, demand=[0, 1, 1], capacity=5,
    ...                time_windows=[[0, 1000], [0, 1000], [0, 120]])
    >>> why = hr.explain(p, [[1, 2]])
    >>> b = why.loc[1]
    >>> str(b["status"]), float(b["lateness"]), str(b["binding"]), float(b["insertion_cost"])
    ('late', 30.0, 'sequence', 50.0)
    >>> b["reason"]
    "the solver's sequence: a feasible insertion exists at +50 metres (route 0, position 0)"
    """
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be a hybridroute.Problem, got {type(problem).__name__}")
    if solution is None:
        frame, facts = _before_table(problem)
        facts["solution_status"] = None
    else:
        sol = _check_solution(problem, solution)
        if sol.status is Status.NO_SOLUTION:
            frame, facts = _before_table(problem)
            facts["reason"] = _no_solution_reason(sol, facts)
            facts["message"] = sol.message
        else:
            frame, facts = _after_table(problem, sol)
        facts["solution_status"] = sol.status.value
        facts["solver"] = sol.solver
    frame.attrs.update(facts)
    return frame


def _no_solution_reason(sol: Solution, facts: dict[str, Any]) -> str:
    """Why a backend returned no routes, as far as the bounds before solving tell."""
    nv = facts["num_vehicles"]
    if facts["impossible"] or (nv is not None and facts["min_vehicles"] > nv):
        return facts["reason"]
    said = f": {sol.message}" if sol.message else ""
    return (f"no stop is impossible and the fleet bounds allow a solution ({facts['fleet']}); "
            f"{sol.solver or 'the solver'} returned no routes{said}")
