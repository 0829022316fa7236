"""Why each stop is served, late, left out or impossible: :func:`explain`.

Before solving, every stop is checked against what no route can change
(:meth:`~hybridroute.Problem.unservable`: demand above every vehicle type's capacity, a window
closed before any vehicle can arrive, a return after every shift or depot closing, a direct trip
beyond every ``max_duration`` / ``max_distance``), and the fleet against the required demand and
the stops that cannot share a route. After solving, each late, unserved or left-out stop is tried
at every position of every route, scheduled by the evaluator with that route's vehicle type (the
other stops staying where they are), and in a new route of each vehicle type; the cheapest
placement that adds no violation, or the constraints that block every placement, is its reason.
:func:`presolve_diagnosis` gives the checks before solving as a few lines, for a backend that
finds no solution.

Units: times in seconds (from the problem's time origin; shown as clock times where the output
is in clock form), distances in metres, loads in demand units, insertion costs and prizes in
the objective's unit (metres, or seconds for ``objective="duration"``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .problem import Problem, ProblemKind, _shortest_from
from .solution import _REL_TOL, RouteStats, Solution, Status, Violation, _route_schedule, evaluate, parse_routes

__all__ = ["explain", "presolve_diagnosis", "BEFORE_COLUMNS", "AFTER_COLUMNS", "BINDING_ORDER",
           "TIME_BOUND_MAX_NODES", "DIAGNOSIS_TIME_BOUND_MAX_NODES"]

#: Columns of the table before solving (and for a solution without routes).
BEFORE_COLUMNS = ("id", "node", "status", "binding", "reason", "demand", "prize", "earliest_arrival",
                  "latest_departure", "slack")
#: Columns of the table after solving.
AFTER_COLUMNS = ("id", "node", "status", "binding", "reason", "route", "vehicle_type", "position", "arrival",
                 "wait", "slack", "lateness", "prize", "insertion_route", "insertion_vehicle_type",
                 "insertion_position", "insertion_cost")
#: Which constraint is named first when relaxing any one of several would let a stop in: the
#: fleet's own levers (capacity, vehicles, the vehicle types' limits and breaks) before the
#: stop's window and other stops' windows.
BINDING_ORDER = ("capacity", "fleet", "max_distance", "max_duration", "shift", "break", "window", "time")
#: The time-based bound on the number of vehicles needs all-pairs shortest travel times
#: (O(n³)); above this many nodes it is skipped (``min_vehicles_time`` is None).
TIME_BOUND_MAX_NODES = 1000
#: The same limit for :func:`presolve_diagnosis`, which runs after every failed solve and must
#: stay cheap (about 20 ms at 300 nodes).
DIAGNOSIS_TIME_BOUND_MAX_NODES = 300

_INT_COLUMNS = ("route", "vehicle_type", "position", "insertion_route", "insertion_vehicle_type",
                "insertion_position")
# How many stop ids a fleet-level message lists before "...", and a one-line summary.
_MAX_LISTED = 10
_SUMMARY_LISTED = 3


def _tol(x):
    """The evaluator's slack on a window end or capacity ``x`` (see :mod:`hybridroute.solution`)."""
    return _REL_TOL * np.maximum(1.0, np.abs(x))


class _Times:
    """How reasons write instants: seconds, or clock readings (date-times from the problem's
    ``time_origin``) when the output is in clock form. Durations stay in seconds."""

    def __init__(self, problem: Problem, form: str):
        self.clock = form == "clock"
        self.origin = problem.time_origin

    def at(self, seconds: float) -> str:
        if not self.clock or not math.isfinite(seconds):
            return f"{seconds:g} s"
        from .frames import _clock_text

        if self.origin is None:
            return _clock_text(seconds)
        import pandas as pd

        # rounded half up to the second, as the clock columns are
        return str(pd.Timestamp(self.origin) + pd.Timedelta(seconds=math.floor(seconds + 0.5)))


def _type_label(problem: Problem, t: int) -> str:
    vt = problem.vehicle_types[t]
    return f"type {t}" + (f" ({vt.name})" if vt.name else "")


def _with_type(problem: Problem, t: int) -> str:
    """`` with type t (name)`` where the problem has several vehicle types, else nothing."""
    return f" with {_type_label(problem, t)}" if len(problem.vehicle_types) > 1 else ""


def _depot_name(problem: Problem, d: int) -> str:
    return "the depot" if problem.num_depots == 1 else f"depot {d}"


def _unit(problem: Problem) -> str:
    return "s" if problem.objective == "duration" else "metres"


# -- before solving ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Reach:
    """Lower bounds on when each node can be served, one row per vehicle type.

    ``depart[t]`` is the earliest departure of a type-``t`` route (its route window's start
    plus the start depot's service) and ``close[t]`` its latest return. ``arrival[t, v]`` adds
    the shortest travel time over the duration matrix (through other nodes too: matrices need
    not obey the triangle inequality), so no route arrives earlier; ``back[t, v]`` is the
    shortest time from ``v`` to the type's end depot; ``latest[t, v]`` the latest departure
    that can still serve ``v`` on time and be back in time, ``-inf`` when none can. The
    evaluator's late departure only ever leaves later, so these stay bounds.
    """

    depart: np.ndarray
    close: np.ndarray
    arrival: np.ndarray
    back: np.ndarray
    latest: np.ndarray


def _reach(problem: Problem) -> _Reach | None:
    T = problem.duration
    if T is None:
        return None
    n = problem.num_nodes
    tw, svc = problem.time_windows, problem.service_time
    opens = tw[:, 0] if tw is not None else np.zeros(n)
    due = tw[:, 1] if tw is not None else np.full(n, np.inf)
    service = svc if svc is not None else np.zeros(n)
    out_from: dict[int, np.ndarray] = {}
    back_to: dict[int, np.ndarray] = {}
    rows = []
    for t, vt in enumerate(problem.vehicle_types):
        s, e = vt.start_depot, vt.end
        if s not in out_from:
            out_from[s] = _shortest_from(T, s)
        if e not in back_to:
            back_to[e] = _shortest_from(T.T, e)
        out, back = out_from[s], back_to[e]
        begin, close = problem.route_window(t)
        depart = begin + float(service[s])
        latest = np.minimum(due - out, close - service - back - out)
        # a vehicle that waits for the window to open returns at the same time however late it left
        latest[opens + service + back - close > _tol(close)] = -np.inf
        rows.append((depart, close, depart + out, back, latest))
    depart, close, arrival, back, latest = zip(*rows)
    return _Reach(np.array(depart), np.array(close), np.vstack(arrival), np.vstack(back), np.vstack(latest))


# Problem.unservable's fields, as explain's binding constraints.
_UNSERVABLE_FIELDS = {"demand": "capacity", "time_windows": "window"}


def _impossible(problem: Problem) -> dict[int, tuple[str, str]]:
    """``{node: (binding, reason)}`` for the stops :meth:`Problem.unservable` finds no vehicle
    type can serve alone; ``binding`` names each constraint the reason cites, ``"+"``-joined in
    :data:`BINDING_ORDER` (types may fail on different ones)."""
    out: dict[int, tuple[str, str]] = {}
    by_type = problem.unservable_by_type()
    for v, (_, why) in problem.unservable().items():
        cited = {_UNSERVABLE_FIELDS.get(fld, fld) for fld, _ in by_type[v].values()}
        out[int(v)] = ("+".join(k for k in BINDING_ORDER if k in cited), why)
    return out


def _impossible_reason(problem: Problem, why: str) -> str:
    return why if len(problem.vehicle_types) == 1 else f"no vehicle type can serve it: {why}"


def _required_customers(problem: Problem) -> np.ndarray:
    req = np.array(problem.required, dtype=bool)
    req[:problem.num_depots] = False
    return np.flatnonzero(req)


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


def _time_bound_applies(problem: Problem, max_nodes: int) -> bool:
    return problem.kind.has_time_windows and problem.num_nodes <= max_nodes


def _time_conflicts(problem: Problem, reach: _Reach, required: np.ndarray) -> list[int] | None:
    """Required stops no two of which can share a route on time (a clique), or None when skipped.

    For a route of type t, ``j`` can follow ``i`` only if service at ``i`` starts no earlier
    than its earliest possible arrival (or window start), and ``i``'s service plus the shortest
    travel time to ``j`` reaches ``j`` before its window ends and still lets the vehicle back to
    its end depot in time. Pairs where neither order passes for any type cannot share a route,
    so the stops of any clique of such pairs need one vehicle each: a lower bound on the fleet.
    Optional stops are left out: no vehicle is needed for them.
    """
    if len(required) < 2:
        return None
    tw, svc = problem.time_windows, problem.service_time
    c = required
    shortest = _all_pairs_shortest(problem.duration)[np.ix_(c, c)]
    opens, due, service = tw[c, 0], tw[c, 1], svc[c]
    share = np.zeros((len(c), len(c)), dtype=bool)
    for t in range(len(problem.vehicle_types)):
        begin = np.maximum(reach.arrival[t, c], opens)
        arrive = (begin + service)[:, None] + shortest  # at j (column) right after i (row), at the earliest
        ok = arrive - due[None, :] <= _tol(due)[None, :]
        back = np.maximum(arrive, opens[None, :]) + (service + reach.back[t, c])[None, :]
        close = reach.close[t]
        ok &= back - close <= _tol(close)
        share |= ok | ok.T
    conflict = ~share
    np.fill_diagonal(conflict, False)
    return [int(c[v]) for v in _greedy_clique(conflict)]


def _listed(problem: Problem, nodes) -> str:
    labels = [repr(problem.id_of(v)) for v in nodes]
    more = f", ... ({len(labels)} in all)" if len(labels) > _MAX_LISTED else ""
    return ", ".join(labels[:_MAX_LISTED]) + more


def _vehicles_for(total: float, problem: Problem) -> tuple[int | None, list[tuple[int, float]]]:
    """The fewest vehicles whose capacities add up to ``total``, the largest capacities first
    (no packing needs fewer), as ``(count, [(vehicles, capacity), ...])``; count None when the
    whole fleet cannot carry ``total``."""
    slack = 1e-9 * max(1.0, abs(total))
    remaining, k, used = float(total), 0, []
    for vt in sorted(problem.vehicle_types, key=lambda v: -float(v.capacity)):
        if remaining <= slack:
            break
        cap = float(vt.capacity)
        want = math.ceil(remaining / cap - 1e-9)
        take = want if vt.count is None else min(vt.count, want)
        if take:
            used.append((take, cap))
            k += take
            remaining -= take * cap
    if remaining > slack:
        return None, used
    return max(1, k), used


def _heavy_stops(problem: Problem, required: np.ndarray) -> list[int]:
    """Required stops no two of which fit one vehicle together, even of the largest capacity:
    each needs a vehicle of its own. Taken heaviest first, each must not fit with the lightest
    taken so far, so the walk stops at the first that fits."""
    cap = max(float(vt.capacity) for vt in problem.vehicle_types)
    demand = problem.demand[required].astype(np.float64)
    taken: list[int] = []
    for i in np.argsort(-demand, kind="stable"):
        if taken and demand[i] + demand[taken[-1]] <= cap * (1 + _REL_TOL):
            break
        taken.append(int(i))
    return [int(required[i]) for i in taken] if len(taken) >= 2 else []


def _fleet_bounds(problem: Problem, reach: _Reach | None, max_nodes: int = TIME_BOUND_MAX_NODES) -> dict[str, Any]:
    """Fleet-level facts: the required demand against the fleet's capacity and lower bounds on
    the number of vehicles (``reach`` None skips the time-based one)."""
    types = problem.vehicle_types
    nv = problem.num_vehicles
    facts: dict[str, Any] = dict(total_demand=None, capacity=problem.capacity, num_vehicles=nv,
                                 fleet_capacity=None, min_vehicles_capacity=None, min_vehicles_time=None,
                                 capacity_conflicts=[], time_conflicts=[], min_vehicles=1, fleet_sufficient=True)
    if problem.kind is ProblemKind.ATSP:
        facts["fleet"] = "fleet: ATSP, one tour over all nodes"
        return facts
    required = _required_customers(problem)
    total = problem.demand[required].sum().item()
    what = "total demand" if len(required) == problem.num_customers else "total required demand"
    if nv is not None:
        facts["fleet_capacity"] = sum(vt.count * vt.capacity for vt in types)
    by_capacity, used = _vehicles_for(total, problem)
    if by_capacity is None:
        why = [f"{what} {total:g} exceeds the fleet's capacity {facts['fleet_capacity']:g}"]
    elif len(types) == 1:
        why = [f"{what} {total:g} over capacity {types[0].capacity:g} needs at least {by_capacity}"]
    else:
        fill = " + ".join(f"{k} × {cap:g}" for k, cap in used) or "none"
        why = [f"{what} {total:g} needs at least {by_capacity} (largest capacities first: {fill})"]
    heavy = _heavy_stops(problem, required)
    if heavy:
        facts["capacity_conflicts"] = [problem.id_of(v) for v in heavy]
        why.append(f"{len(heavy)} stops ({_listed(problem, heavy)}) pairwise do not fit one vehicle together, "
                   f"so at least {len(heavy)}")
        if by_capacity is not None:
            by_capacity = max(by_capacity, len(heavy))
    facts.update(total_demand=total, min_vehicles_capacity=by_capacity)
    clique = (_time_conflicts(problem, reach, required)
              if reach is not None and _time_bound_applies(problem, max_nodes) else None)
    if clique is not None:
        facts["min_vehicles_time"] = len(clique)
        if len(clique) >= 2:
            facts["time_conflicts"] = [problem.id_of(v) for v in clique]
            why.append(f"{len(clique)} stops ({_listed(problem, clique)}) pairwise cannot share a route "
                       f"on time, so at least {len(clique)}")
    facts["min_vehicles"] = need = max(by_capacity or 1, facts["min_vehicles_time"] or 1)
    if len(types) == 1:
        limit = f"num_vehicles = {'unlimited' if nv is None else nv}"
    else:
        limit = f"the fleet has {'unlimited' if nv is None else nv} vehicles in {len(types)} types"
    if by_capacity is None:
        facts["fleet_sufficient"] = False
        facts["fleet"] = "fleet: the vehicles cannot carry the required demand: " + "; ".join(why)
    elif nv is not None and need > nv:
        facts["fleet_sufficient"] = False
        facts["fleet"] = f"fleet: at least {need} vehicles are needed but {limit}: " + "; ".join(why)
    else:
        facts["fleet"] = f"fleet: at least {need} vehicle(s) needed ({'; '.join(why)}); {limit}"
    return facts


def _best_type(problem: Problem, reach: _Reach, v: int) -> int:
    """The vehicle type that can leave latest, relative to its earliest departure, to serve
    ``v`` (among the types whose capacity fits its demand, when some do)."""
    slack = reach.latest[:, v] - reach.depart
    if problem.demand is not None:
        fits = np.array([problem.demand[v] <= vt.capacity for vt in problem.vehicle_types])
        if fits.any():
            slack = np.where(fits, slack, -np.inf)
    return int(np.argmax(slack))


def _prize(problem: Problem, v: int) -> float:
    return np.nan if problem.required[v] else float(problem.prize[v])


def _before_table(problem: Problem, times: _Times):
    import pandas as pd

    reach = _reach(problem)
    impossible = _impossible(problem)
    customers = np.arange(problem.num_depots, problem.num_nodes)
    rows = {c: [] for c in BEFORE_COLUMNS if c not in ("id", "node")}
    for v in customers:
        kind, why = impossible.get(int(v), (None, None))
        earliest = latest = slack = np.nan
        if reach is not None:
            t = _best_type(problem, reach, v)
            earliest, latest = reach.arrival[:, v].min(), reach.latest[t, v]
            slack = latest - reach.depart[t]
        if why is None:
            why = "servable"
            if reach is not None and np.isfinite(latest):
                depot = _depot_name(problem, problem.vehicle_types[t].start_depot)
                why = (f"servable{_with_type(problem, t)}: leaves {depot} by {times.at(latest)} at the latest "
                       f"({slack:g} s after its earliest departure)")
        else:
            why = _impossible_reason(problem, why)
        rows["status"].append("servable" if kind is None else "impossible")
        rows["binding"].append(kind)
        rows["reason"].append(why)
        rows["demand"].append(np.nan if problem.demand is None else float(problem.demand[v]))
        rows["prize"].append(_prize(problem, v))
        rows["earliest_arrival"].append(earliest)
        rows["latest_departure"].append(latest)
        rows["slack"].append(slack)
    frame = pd.DataFrame({"id": _ids(problem), "node": customers, **rows}, columns=list(BEFORE_COLUMNS))
    for c in ("demand", "prize", "earliest_arrival", "latest_departure", "slack"):
        frame[c] = frame[c].astype(np.float64)
    frame = _with_text_columns(frame)
    if times.clock:
        from .frames import _clock_columns

        frame = _clock_columns(frame, problem, ("earliest_arrival", "latest_departure"), ("slack",))
    facts = _fleet_bounds(problem, reach)
    _add_presolve_facts(problem, impossible, facts)
    return frame, facts


def _add_presolve_facts(problem: Problem, impossible: dict[int, tuple[str, str]], facts: dict[str, Any]) -> None:
    facts["impossible"] = [problem.id_of(v) for v in sorted(impossible)]
    facts["reason"] = _overall_reason(problem, impossible, facts)
    facts["diagnosis"] = _diagnosis(problem, impossible, facts)[0]


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

    ids = problem.ids[problem.num_depots:]
    return pd.Series(ids, dtype=object) if ids.dtype.kind == "O" else pd.Series(ids.tolist())


# -- a solve that found nothing --------------------------------------------------------------


def presolve_diagnosis(problem: Problem, *, time_bound_max_nodes: int = DIAGNOSIS_TIME_BOUND_MAX_NODES,
                       ) -> tuple[list[str], str]:
    """Why ``problem`` may have no solution, from the checks that need no routes.

    The stops no vehicle type can serve alone (:meth:`Problem.unservable`) and the fleet
    bounds of :func:`explain` (the required demand against the fleet's capacity, the vehicles
    needed with the largest capacities first, stops that pairwise do not fit one vehicle, and
    stops that pairwise cannot share a route on time, up to ``time_bound_max_nodes`` nodes).
    No insertion search: it costs a few shortest path computations, so every failed solve
    can run it (see :meth:`hybridroute.solvers.Solver.solve`).

    Returns
    -------
    reasons : list of str
        One line per unservable stop (required first), then the fleet bounds in words.
    summary : str
        One line: the causes found (required stops no type can serve, a fleet too small), or
        that the checks find none; unservable optional stops are mentioned as such, since
        they only have to be left out.
    """
    impossible = _impossible(problem)
    reach = _reach(problem) if _time_bound_applies(problem, time_bound_max_nodes) else None
    facts = _fleet_bounds(problem, reach, time_bound_max_nodes)
    return _diagnosis(problem, impossible, facts)


def _diagnosis(problem: Problem, impossible: dict[int, tuple[str, str]],
               facts: dict[str, Any]) -> tuple[list[str], str]:
    required = [v for v in sorted(impossible) if problem.required[v]]
    optional = [v for v in sorted(impossible) if not problem.required[v]]
    reasons = [f"stop {problem.id_of(v)!r} cannot be served by any vehicle type: {impossible[v][1]}"
               for v in required]
    reasons += [f"optional stop {problem.id_of(v)!r} cannot be served by any vehicle type (it can only be "
                f"left out): {impossible[v][1]}" for v in optional]
    reasons.append(facts["fleet"])
    causes = []
    if required:
        causes.append(_stops_line(problem, required, impossible, "stop"))
    if not facts["fleet_sufficient"]:
        causes.append(facts["fleet"])
    if causes:
        summary = "; ".join(causes)
    else:
        summary = (f"the checks before solving find no cause ({'no required stop' if optional else 'no stop'} "
                   f"is unservable; {facts['fleet']})")
    if optional:
        summary += (f"; {_stops_line(problem, optional, impossible, 'optional stop')} "
                    f"({'it' if len(optional) == 1 else 'they'} can only be left out)")
    return reasons, summary


def _stops_line(problem: Problem, nodes: list[int], impossible: dict[int, tuple[str, str]], what: str) -> str:
    listed = ", ".join(f"{problem.id_of(v)} ({impossible[v][1]})" for v in nodes[:_SUMMARY_LISTED])
    more = ", ..." if len(nodes) > _SUMMARY_LISTED else ""
    return f"{len(nodes)} {what}{'' if len(nodes) == 1 else 's'} cannot be served by any vehicle type: {listed}{more}"


def _no_solution_reason(problem: Problem, sol: Solution, facts: dict[str, Any]) -> str:
    """Why a backend returned no routes, as far as the bounds before solving tell."""
    required = [label for label in facts["impossible"] if problem.required[problem.index_of(label)]]
    if required or not facts["fleet_sufficient"]:
        return facts["reason"]
    said = f": {sol.message}" if sol.message else ""
    none = "no required stop" if facts["impossible"] else "no stop"
    return (f"{none} is impossible and the fleet bounds allow a solution ({facts['fleet']}); "
            f"{sol.solver or 'the solver'} returned no routes{said}")


# -- after solving -------------------------------------------------------------------------

# The constraint a violation of the evaluator stands for when a stop joins an existing route,
# and when it has a route of its own (where lateness can only be the stop's own window or the
# way back, so it is "window").
_ROUTE_KINDS = {"capacity": "capacity", "time_window": "time", "depot_time_window": "time", "shift": "shift",
                "max_duration": "max_duration", "max_distance": "max_distance", "break": "break"}
_ALONE_KINDS = {**_ROUTE_KINDS, "time_window": "window", "depot_time_window": "window"}


@dataclass(frozen=True)
class _Try:
    """Stop j at ``position`` of route ``route``, or in a new route of ``vehicle_type``
    (``route`` None), scheduled by the evaluator.

    ``blocks`` maps each constraint of :data:`BINDING_ORDER` the placement breaks, beyond what
    the route without j already broke, to by how much: for capacity the load's excess over the
    capacity (demand units); for time, windows, shifts, max_duration and breaks the seconds
    added; for max_distance the metres added; for the fleet the vehicles missing. ``raw`` holds
    the same by the evaluator's violation kind. ``cost`` is what the placement adds to the
    objective (travel, and the fixed cost of a new route); ``load`` the route's load without j.
    """

    route: int | None
    vehicle_type: int
    position: int
    blocks: dict[str, float]
    raw: dict[str, float]
    cost: float
    load: float


def _schedule(problem: Problem, nodes: tuple[int, ...], t: int) -> tuple[RouteStats, dict[tuple[str, Any], float]]:
    """The evaluator's schedule of ``nodes`` on a route of type ``t`` and its violations'
    amounts by ``(kind, node)`` (the node only for time windows; breaks summed)."""
    violations: list[Violation] = []
    st = _route_schedule(problem, -1, nodes, t, violations)
    amounts: dict[tuple[str, Any], float] = {}
    for v in violations:
        key = (v.kind, v.node if v.kind == "time_window" else None)
        amounts[key] = amounts.get(key, 0.0) + v.amount
    return st, amounts


def _limit(problem: Problem, t: int, kind: str, node: Any) -> float:
    """The limit a violation's amount is measured against, for the evaluator's tolerance."""
    vt = problem.vehicle_types[t]
    if kind == "time_window":
        return float(problem.time_windows[node, 1])
    if kind == "depot_time_window":
        return float(problem.time_windows[vt.end, 1])
    if kind == "shift":
        return float(vt.shift[1])
    if kind in ("max_duration", "max_distance", "capacity"):
        return float(getattr(vt, kind))
    return max((b.latest for b in vt.breaks if math.isfinite(b.latest)), default=1.0)


def _added(problem: Problem, t: int, base: dict, new: dict, kinds: dict[str, str]):
    """``(blocks, raw)`` of a placement: what ``new`` violates beyond ``base`` (see :class:`_Try`)."""
    blocks: dict[str, float] = {}
    raw: dict[str, float] = {}
    for (kind, node), amount in new.items():
        grew = amount - base.get((kind, node), 0.0)
        if grew <= _REL_TOL * max(1.0, abs(_limit(problem, t, kind, node))):
            continue
        # over the capacity the excess is the load's, as the evaluator reports it; else what j adds
        value = amount if kind == "capacity" else grew
        raw[kind] = max(raw.get(kind, 0.0), value)
        blocks[kinds[kind]] = max(blocks.get(kinds[kind], 0.0), value)
    return blocks, raw


def _travel(problem: Problem, st: RouteStats) -> float:
    return st.duration if problem.objective == "duration" else st.distance


class _Insertions:
    """Every placement of one stop at a time into a solution's routes (each taken without that
    stop) and into a new route of each vehicle type; each route's own schedule is computed once."""

    def __init__(self, problem: Problem, sol: Solution):
        self.problem, self.sol = problem, sol
        self._bases: dict[int, tuple[RouteStats, dict]] = {}

    def _base(self, r: int, st: RouteStats) -> tuple[RouteStats, dict]:
        if r not in self._bases:
            self._bases[r] = _schedule(self.problem, st.nodes, st.vehicle_type)
        return self._bases[r]

    def tries(self, j: int, at: tuple[int, int] | None) -> tuple[list[_Try], list[int]]:
        """The placements of stop ``j`` (at route and position ``at``, or unrouted) and the
        routes in use per vehicle type once ``j`` is taken out."""
        problem = self.problem
        used = [0] * len(problem.vehicle_types)
        out: list[_Try] = []
        for r, st in enumerate(self.sol.route_stats):
            nodes, t = st.nodes, st.vehicle_type
            if at is not None and at[0] == r:
                nodes = nodes[:at[1]] + nodes[at[1] + 1:]
                if not nodes:
                    continue  # j was alone: taking it out frees the vehicle
                base = _schedule(problem, nodes, t)
            else:
                base = self._base(r, st)
            used[t] += 1
            base_travel = _travel(problem, base[0])
            for k in range(len(nodes) + 1):
                new, amounts = _schedule(problem, nodes[:k] + (j,) + nodes[k:], t)
                blocks, raw = _added(problem, t, base[1], amounts, _ROUTE_KINDS)
                out.append(_Try(r, t, k, blocks, raw, _travel(problem, new) - base_travel, base[0].load))
        for t, vt in enumerate(problem.vehicle_types):
            new, amounts = _schedule(problem, (j,), t)
            blocks, raw = _added(problem, t, {}, amounts, _ALONE_KINDS)
            if vt.count is not None and used[t] + 1 > vt.count:
                blocks["fleet"] = float(used[t] + 1 - vt.count)
            out.append(_Try(None, t, 0, blocks, raw, _travel(problem, new) + vt.fixed_cost, 0.0))
        return out, used


def _placement(problem: Problem, x: _Try) -> str:
    if x.route is None:
        return "a route of its own" + _with_type(problem, x.vehicle_type)
    return f"route {x.route}, position {x.position}"


def _explain_stop(problem: Problem, j: int, tries: list[_Try], used: list[int], times: _Times,
                  left_out: bool) -> dict[str, Any]:
    """The binding reason of a late, unserved or left-out stop ``j`` from all its placements."""
    feasible = [x for x in tries if not x.blocks]
    unit = _unit(problem)
    if feasible:
        best = min(feasible, key=lambda x: x.cost)  # ties: the first route and position, new routes last
        out = dict(binding="sequence", insertion_route=best.route, insertion_vehicle_type=best.vehicle_type,
                   insertion_position=best.position, insertion_cost=best.cost)
        where = f"{best.cost:+g} {unit} ({_placement(problem, best)})"
        if not left_out:
            out["reason"] = f"the solver's sequence: a feasible insertion exists at {where}"
            return out
        prize = float(problem.prize[j])
        if prize > best.cost + _REL_TOL * max(1.0, abs(prize), abs(best.cost)):
            out["reason"] = (f"left out, but its cheapest feasible insertion, {where}, costs less than its prize "
                             f"{prize:g}: serving it would have been {prize - best.cost:g} {unit} cheaper")
        elif prize < best.cost - _REL_TOL * max(1.0, abs(prize), abs(best.cost)):
            out.update(binding="prize", reason=f"left out: its prize {prize:g} is below its cheapest feasible "
                                               f"insertion, {where}: leaving it out was the cheaper choice")
        else:
            out.update(binding="prize", reason=f"left out: its prize {prize:g} equals its cheapest feasible "
                                               f"insertion, {where}: either choice costs the same")
        return out
    parts = _blocking_parts(problem, j, tries, used, times)
    singly = [k for k in BINDING_ORDER if any(set(x.blocks) == {k} for x in tries)]
    others = [k for k in BINDING_ORDER if k in parts and k not in singly]
    binding = singly[0] if singly else "+".join(others)
    reason = "; ".join(parts[k] for k in singly + others)
    if left_out:
        reason = f"left out (prize {float(problem.prize[j]):g}): no placement is feasible; {reason}"
    return dict(binding=binding, reason=reason)


def _blocking_parts(problem: Problem, j: int, tries: list[_Try], used: list[int], times: _Times) -> dict[str, str]:
    """``{kind: text}`` for each constraint that blocks some placement of ``j``, with its amount
    and where it is smallest. Only called when no placement is feasible, so "every route where
    it would be on time" and "every route with room" are the routes the other constraint leaves.
    """
    by_route: dict[int, list[_Try]] = {}
    for x in tries:
        if x.route is not None:
            by_route.setdefault(x.route, []).append(x)
    alone = [x for x in tries if x.route is None]
    parts: dict[str, str] = {}
    for kind in BINDING_ORDER:
        texts = []
        if kind == "capacity":
            texts = _capacity_texts(problem, j, by_route, alone)
        elif kind == "fleet":
            texts = _fleet_texts(problem, alone, used)
        else:
            if kind != "window":
                texts.extend(_route_texts(problem, kind, by_route, times))
            if kind != "time":
                texts.extend(_alone_texts(problem, kind, alone, times))
        if texts:
            # one "kind: " prefix for the kind's texts (into routes, then alone)
            parts[kind] = "; ".join(texts[:1] + [t.removeprefix(f"{kind}: ") for t in texts[1:]])
    return parts


def _single(x: _Try, kind: str) -> bool:
    return set(x.blocks) == {kind}


def _capacity_texts(problem: Problem, j: int, by_route: dict[int, list[_Try]], alone: list[_Try]) -> list[str]:
    demand = problem.demand[j] if problem.demand is not None else 0
    capped = [r for r, xs in by_route.items() if "capacity" in xs[0].blocks]  # the same at every position
    if capped:
        single = [r for r in capped if any(_single(x, "capacity") for x in by_route[r])]
        pool = single or capped
        r = min(pool, key=lambda r: by_route[r][0].blocks["capacity"])
        x = by_route[r][0]
        where = ("every route where it would be on time" if single and problem.time_windows is not None else
                 "every route" if len(pool) == len(by_route) else f"{len(pool)} of {len(by_route)} routes")
        cap = problem.vehicle_types[x.vehicle_type].capacity
        return [f"capacity: {where} would exceed capacity by at least {x.blocks['capacity']:g} (route {r}: load "
                f"{x.load:g} + demand {demand:g} > capacity {cap:g})"]
    over = [x for x in alone if "capacity" in x.blocks]
    if not over:
        return []
    if len(problem.vehicle_types) == 1:
        return [f"capacity: demand {demand:g} exceeds capacity {problem.vehicle_types[0].capacity:g} even alone"]
    which = ", ".join(f"{_type_label(problem, x.vehicle_type)}: {problem.vehicle_types[x.vehicle_type].capacity:g}"
                      for x in over)
    return [f"capacity: demand {demand:g} exceeds the capacity of {which} even alone"]


def _fleet_texts(problem: Problem, alone: list[_Try], used: list[int]) -> list[str]:
    full = [x for x in alone if "fleet" in x.blocks]
    if not full:
        return []
    x = ([y for y in full if _single(y, "fleet")] or full)[0]
    on_time = " would be on time but" if _single(x, "fleet") and problem.time_windows is not None else ""
    t = x.vehicle_type
    count = problem.vehicle_types[t].count
    if len(problem.vehicle_types) == 1:
        return [f"fleet: a route of its own{on_time} would exceed num_vehicles = {count} "
                f"({used[t]} route{'' if used[t] == 1 else 's'} in use)"]
    text = (f"fleet: a route of its own with {_type_label(problem, t)}{on_time} would exceed its {count} "
            f"vehicle{'' if count == 1 else 's'} ({used[t]} in use)")
    others = [_type_label(problem, y.vehicle_type) for y in full if y is not x]
    return [text + (f"; no vehicle left of {', '.join(others)} either" if others else "")]


def _route_texts(problem: Problem, kind: str, by_route: dict[int, list[_Try]], times: _Times) -> list[str]:
    """The text for ``kind`` blocking insertions into existing routes, at its smallest amount."""
    hit = [r for r, xs in by_route.items() if any(kind in x.blocks for x in xs)]
    if not hit:
        return []
    blocked = [r for r in hit if all(kind in x.blocks for x in by_route[r])]
    room = [r for r, xs in by_route.items() if "capacity" not in xs[0].blocks]
    if blocked:
        pool = [r for r in blocked if r in room] or blocked
        where = ("in every route with room" if room and set(room) <= set(blocked) else
                 "in every route" if len(blocked) == len(by_route) else f"in {len(blocked)} of {len(by_route)} routes")
    else:
        pool, where = hit, "at some positions of some routes"
    x = min((x for r in pool for x in by_route[r] if kind in x.blocks), key=lambda x: x.blocks[kind])
    a, vt = x.blocks[kind], problem.vehicle_types[x.vehicle_type]
    at = f"(route {x.route}, position {x.position})"
    if kind == "time":
        return [f"time: {where} it or a later stop would be late by at least {a:g} s {at}"]
    if kind == "shift":
        return [f"shift: {where} the route would return at least {a:g} s after its shift ends "
                f"({times.at(vt.shift[1])}) {at}"]
    if kind == "max_duration":
        return [f"max_duration: {where} the route would take at least {a:g} s over max_duration "
                f"{vt.max_duration:g} s {at}"]
    if kind == "max_distance":
        return [f"max_distance: {where} the route would drive at least {a:g} m over max_distance "
                f"{vt.max_distance:g} m {at}"]
    return [f"break: {where} a break would start at least {a:g} s after its latest start {at}"]


def _alone_texts(problem: Problem, kind: str, alone: list[_Try], times: _Times) -> list[str]:
    """The text for ``kind`` blocking a route of its own, for the type where it is smallest."""
    hit = [x for x in alone if kind in x.blocks]
    if not hit:
        return []
    x = min([y for y in hit if _single(y, kind)] or hit, key=lambda y: y.blocks[kind])
    a, t = x.blocks[kind], x.vehicle_type
    vt, which = problem.vehicle_types[t], _with_type(problem, t)
    if kind == "window":
        if "time_window" not in x.raw:
            return [f"window: even alone{which} it returns to {_depot_name(problem, vt.end)} {a:g} s after it closes"]
        return [f"window: arrives {a:g} s after its end even alone{which}"]
    if kind == "shift":
        return [f"shift: even alone{which} it returns {a:g} s after the shift ends ({times.at(vt.shift[1])})"]
    if kind == "max_duration":
        return [f"max_duration: even alone{which} the route takes {a:g} s over max_duration {vt.max_duration:g} s"]
    if kind == "max_distance":
        return [f"max_distance: even alone{which} the route drives {a:g} m over max_distance {vt.max_distance:g} m"]
    return [f"break: even alone{which} a break starts {a:g} s after its latest start"]


def _check_solution(problem: Problem, solution: Any) -> Solution:
    if isinstance(solution, Solution):
        if solution.problem is not problem and solution.problem != problem:
            raise ValueError("solution: it was computed for another problem "
                             f"({solution.problem!r}, not {problem!r})")
        if solution.status is Status.NO_SOLUTION:
            return solution
        routes, types = solution.routes, list(solution.vehicle_types)
    else:
        routes, types = parse_routes(solution, "solution"), None
        if len(problem.vehicle_types) > 1:
            raise ValueError(f"solution: the problem has {len(problem.vehicle_types)} vehicle types, so plain routes "
                             f"do not say which vehicle drives each; pass a Solution, e.g. "
                             f"hr.evaluate(problem, routes, vehicle_types=[...])")
    evaluated = evaluate(problem, routes, vehicle_types=types)
    broken = [v.message for v in evaluated.violations
              if v.kind in ("unknown_node", "depot_in_route", "duplicate_visit", "vehicle_type")]
    if broken:
        raise ValueError("solution: its routes must visit distinct customers of the problem with known vehicle "
                         "types: " + "; ".join(broken))
    if isinstance(solution, Solution):
        return evaluated.with_info(solver=solution.solver, runtime=solution.runtime, message=solution.message)
    return evaluated


def _visit_row(problem: Problem, sol: Solution, r: int, k: int, route_notes: dict[int, str],
               times: _Times) -> dict[str, Any]:
    """The row of a customer visited at position ``k`` of route ``r``."""
    st = sol.route_stats[r]
    v = st.nodes[k]
    row: dict[str, Any] = dict(status="served", binding=None, route=r, vehicle_type=st.vehicle_type, position=k)
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
    row["reason"] = (f"on time: route {r}, position {k}, arrives at {times.at(st.arrival[k])}{waits}, {ends}"
                     + route_notes.get(r, ""))
    return row


# Violations of a whole route (or of the fleet), named in the reasons of its stops and in ``attrs``.
_ROUTE_LEVEL = ("capacity", "depot_time_window", "shift", "max_duration", "max_distance", "break")
_FLEET_LEVEL = ("too_many_routes", "route_count")


def _route_notes(sol: Solution) -> dict[int, str]:
    """Route-level violations (capacity, late return, limits, breaks), for their stops' reasons."""
    notes: dict[int, str] = {}
    for v in sol.violations:
        if v.kind in _ROUTE_LEVEL and v.route is not None:
            notes[v.route] = notes.get(v.route, "") + f"; but {v.message}"
    return notes


def _after_table(problem: Problem, sol: Solution, times: _Times):
    import pandas as pd

    impossible = _impossible(problem)
    notes = _route_notes(sol)
    where = {v: (r, k) for r, route in enumerate(sol.routes) for k, v in enumerate(route)}
    insertions = _Insertions(problem, sol)
    rows = []
    for j in problem.customers:
        if j in where:
            row = _visit_row(problem, sol, *where[j], notes, times)
        elif j in impossible:
            binding, why = impossible[j]
            row = dict(status="impossible", binding=binding, reason=_impossible_reason(problem, why))
        else:
            row = dict(status="unserved" if problem.required[j] else "left out")
        if row["status"] in ("late", "unserved", "left out"):
            tries, used = insertions.tries(j, where.get(j))
            row.update(_explain_stop(problem, j, tries, used, times, left_out=row["status"] == "left out"))
        row["prize"] = _prize(problem, j)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=[c for c in AFTER_COLUMNS if c not in ("id", "node")])
    frame.insert(0, "node", np.arange(problem.num_depots, problem.num_nodes))
    frame.insert(0, "id", _ids(problem))
    for c in _INT_COLUMNS:
        frame[c] = frame[c].astype("Int64")
    for c in ("arrival", "wait", "slack", "lateness", "prize", "insertion_cost"):
        frame[c] = frame[c].astype(np.float64)
    frame = _with_text_columns(frame)
    if times.clock:
        from .frames import _clock_columns

        frame = _clock_columns(frame, problem, ("arrival",), ("wait", "slack", "lateness"))
    reach = _reach(problem)
    facts = _fleet_bounds(problem, reach)
    _add_presolve_facts(problem, impossible, facts)
    facts["route_violations"] = [v.message for v in sol.violations if v.kind in _ROUTE_LEVEL + _FLEET_LEVEL]
    facts["counts"] = {k: int(c) for k, c in frame["status"].value_counts().items()}
    return frame, facts


# -- public --------------------------------------------------------------------------------


def explain(problem: Problem, solution: Solution | Any = None, *, times: str = "input"):
    """Why each stop is served, late, left out or impossible: one row per stop.

    Parameters
    ----------
    problem
        The instance.
    solution
        None to explain before solving; a :class:`~hybridroute.Solution` of ``problem``; or
        routes (lists of node indices without the depots), evaluated with
        :func:`~hybridroute.evaluate` (one vehicle type only: with several, pass a Solution,
        which says each route's type). A Solution with status NO_SOLUTION gets the table from
        before solving, with the reason in ``attrs``.
    times
        How time columns and times in reasons are written: ``"seconds"``, ``"clock"``
        (``"HH:MM:SS"``, or date-times from ``problem.time_origin``; durations such as
        ``wait`` as ``"HH:MM:SS"``) or ``"input"`` (default: clock where the problem's
        ``time_format`` is ``"clock"``), as in :meth:`Solution.to_dataframe`.

    Returns
    -------
    pandas.DataFrame
        One row per stop (the depots excluded), in node order. Before solving (and for
        NO_SOLUTION), columns :data:`BEFORE_COLUMNS`:

        - ``id`` (the caller's label), ``node`` (index in the Problem);
        - ``status``: ``"servable"``, or ``"impossible"`` when no vehicle type can ever serve
          it (:meth:`Problem.unservable`: demand above every capacity, window closed before
          the earliest arrival, no way back before the shift ends or the depot closes, a
          direct trip over every ``max_duration`` / ``max_distance``), with ``binding`` (the
          constraints its reason cites, among :data:`BINDING_ORDER`, ``"+"``-joined) and
          ``reason``;
        - ``demand``, ``prize`` (optional stops; NaN for required ones);
          ``earliest_arrival`` (s): the earliest departure of any vehicle type plus the
          shortest travel time over the duration matrix, a lower bound since the path may
          pass other stops; ``latest_departure`` (s): the latest departure from its start
          depot that still serves it on time and returns in time, and ``slack`` (s): that
          minus the earliest departure, both for the vehicle type that leaves the most slack
          among those whose capacity fits (NaN without a duration matrix; ``inf`` without
          windows or shifts).

        After solving, columns :data:`AFTER_COLUMNS`:

        - ``status``: ``"served"`` (on time), ``"late"`` (arrives after its window ends),
          ``"left out"`` (an optional stop in ``solution.unserved``), ``"unserved"`` (a
          required stop in no route) or ``"impossible"`` (in no route and impossible as
          above);
        - ``route``, ``vehicle_type``, ``position`` (0-based, as in ``solution.routes``),
          ``arrival``, ``wait``, ``slack`` (window end minus arrival; negative when late) and
          ``lateness``, in s, as the evaluator schedules them (a route leaves late so as not
          to wait at its first stop); ``prize`` as above;
        - for a late, unserved or left-out stop, ``binding`` and ``reason``: the stop is tried
          at every position of every route (the other stops staying where they are; its own
          route taken without it), scheduled by the evaluator with the route's vehicle type,
          and in a new route of each vehicle type. A placement is feasible when it adds no
          violation: the stop is on time and nothing else becomes late, later than it
          already was, over the type's capacity, ``shift``, ``max_duration``,
          ``max_distance`` or break windows, and, for a new route, the type has a vehicle
          left. ``binding`` is ``"sequence"`` when one exists ("the solver's sequence: a
          feasible insertion exists at +Δ metres (route r, position k)", the cheapest, with
          ``insertion_route`` (missing for a new route), ``insertion_vehicle_type``,
          ``insertion_position`` and ``insertion_cost`` in the objective's unit, a new
          route's fixed cost included). For a left-out stop the cheapest insertion is weighed
          against its prize: ``binding`` is ``"prize"`` when leaving it out was no dearer,
          ``"sequence"`` when serving it would have been cheaper. Otherwise ``binding`` is the
          first of :data:`BINDING_ORDER` whose relaxation alone would let the stop in:
          ``"capacity"`` (every route where it would fit otherwise lacks room),
          ``"fleet"`` (a new route would exceed its type's count), ``"max_distance"``,
          ``"max_duration"``, ``"shift"``, ``"break"`` (the route's type's limits),
          ``"window"`` (it arrives after its window ends even alone, or returns after the
          depot closes), ``"time"`` (it or a later stop becomes late); when no single
          relaxation suffices, the blocking kinds joined by ``"+"``. ``reason`` lists every
          blocking constraint with its amount (demand units, seconds or metres) and where it
          is smallest. Each stop is diagnosed on its own.

        ``attrs`` holds fleet-level facts: ``total_demand`` (of the required stops),
        ``capacity`` (None when the types differ), ``num_vehicles`` (None when unlimited),
        ``fleet_capacity`` (the sum of count × capacity, None when unlimited),
        ``min_vehicles_capacity`` (the fewest vehicles, largest capacities first, whose
        capacities cover the required demand, or the number of required stops no two of
        which fit one vehicle together, given as ``capacity_conflicts``, if larger; None when
        the whole fleet cannot carry the demand),
        ``min_vehicles_time`` (ACVRPTW: the size of a set of required stops no two of which
        can share a route on time with any type, given as ``time_conflicts``; None for
        other kinds or above :data:`TIME_BOUND_MAX_NODES` nodes), ``min_vehicles`` (the
        larger bound), ``fleet_sufficient`` (False when the bounds prove the fleet too small),
        ``fleet`` (those bounds in words), ``impossible`` (ids), ``diagnosis`` (as
        :func:`presolve_diagnosis` gives it) and ``reason`` (the fleet-level reason; for
        NO_SOLUTION, why no solution was found when the bounds tell, else that they do not).
        After solving also ``solution_status``, ``route_violations`` (messages of route- and
        fleet-level violations) and ``counts`` (rows per status).

    Raises
    ------
    TypeError
        ``problem`` is not a Problem, or ``solution`` is neither a Solution nor routes.
    ValueError
        The solution belongs to another problem, or its routes visit unknown nodes, a depot
        or a customer twice, or have unknown vehicle types; plain routes for a problem with
        several vehicle types; an unknown ``times``.

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
    from .frames import _output_form

    form = _Times(problem, _output_form(problem, times))
    if solution is None:
        frame, facts = _before_table(problem, form)
        facts["solution_status"] = None
    else:
        sol = _check_solution(problem, solution)
        if sol.status is Status.NO_SOLUTION:
            frame, facts = _before_table(problem, form)
            facts["reason"] = _no_solution_reason(problem, sol, facts)
            facts["message"] = sol.message
        else:
            frame, facts = _after_table(problem, sol, form)
        facts["solution_status"] = sol.status.value
        facts["solver"] = sol.solver
    frame.attrs.update(facts)
    return frame
