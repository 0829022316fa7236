"""The ``hybridroute`` command.

Examples
--------
::

    hybridroute solvers
    hybridroute solve stops.csv --matrix distance.csv --capacity 50 --solver pyvrp -t 5 -o routes.csv
    hybridroute solve stops.csv --osrm http://127.0.0.1:5000 --preset pyvrp/fast -o routes.csv
    hybridroute solve stops.csv --osm monaco.osm.pbf --vehicles vehicles.csv -o routes.csv
    hybridroute solve problem.json --solver pyvrp -o solution.json
    hybridroute schema --what problem -o problem.schema.json
    hybridroute solve stops.csv --matrix d.csv --duration-matrix t.csv --capacity 50 \
        --time-origin "2026-12-03 00:00" --times clock -o routes.csv
    hybridroute explain stops.csv --matrix d.csv --duration-matrix t.csv --capacity 50 --routes routes.csv
    hybridroute compare --city Helsinki --kind ACVRP -n 50 --count 5 --solvers nearest,pyvrp -t 1,5
    hybridroute build-city extract.osm.pbf -o City_data.npz --points 1000
    hybridroute train --config atsp20

Every failure is one line on stderr (``hybridroute: error: ...``) and exit status 2; ``-v``
logs progress, ``--debug`` adds debug logging and the traceback of a failure.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import sys
import time
import traceback
import warnings
from pathlib import Path
from typing import Iterator, Sequence

__all__ = ["main"]

logger = logging.getLogger("hybridroute.cli")

#: Subcommands handed to another module's ``main`` with the rest of the command line.
_DELEGATED = {
    "build-city": ("hybridroute.osrm.build", "build an RRNCO-format city dataset from an OSM extract"),
    "train": ("hybridroute.neural.train", "train the RRNCO neural policy"),
}


class CLIError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors on one line, like every other failure."""

    def error(self, message: str):
        self.exit(2, f"hybridroute: error: {message} (see: {self.prog} --help)\n")


def _floats(text: str) -> list[float]:
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def _ints(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None


def _read_csv(path: str, what: str, **kwargs):
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise CLIError(f"{what} file not found: {path}")
    try:
        return pd.read_csv(p, **kwargs)
    except Exception as exc:  # pandas raises many parser error types
        raise CLIError(f"cannot read {what} {path}: {exc}") from None


def _read_matrix(path: str, ids_dtype, what: str = "distance"):
    """An id-indexed square matrix CSV (first column and header are the stop ids)."""
    import pandas as pd

    m = _read_csv(path, "matrix", index_col=0)
    numbers = m.apply(pd.to_numeric, errors="coerce")
    bad = numbers.isna() & m.notna()
    if bad.to_numpy().any():
        i, j = (int(k[0]) for k in bad.to_numpy().nonzero())
        raise CLIError(f"{what} matrix {path}: entry from id {m.index[i]} to id {m.columns[j]} "
                       f"is {m.iat[i, j]!r}, not a number")
    try:
        m.columns = pd.Index(m.columns).astype(ids_dtype)
        m.index = pd.Index(m.index).astype(ids_dtype)
    except (TypeError, ValueError) as exc:
        raise CLIError(f"matrix {path}: header ids do not match the stop ids' type ({exc})") from None
    return m


def _check_writable(path: str | None, option: str) -> None:
    """Refuse an output path that cannot be written, before any solving starts."""
    if not path:
        return
    p = Path(path)
    folder = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise CLIError(f"{option} {path} is a folder; give a file name")
    if not folder.is_dir():
        raise CLIError(f"{option} {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise CLIError(f"{option} {path}: not writable")


def _check_solver(name: str) -> None:
    """Refuse an unknown or uninstalled solver before reading matrices or solving."""
    from .solvers import solver_class

    solver_class(name).check_installed()


def _write_csv(frame, path: str, option: str) -> None:
    try:
        frame.to_csv(path, index=False)
    except OSError as exc:
        raise CLIError(f"cannot write {option} {path}: {exc.strerror or exc}") from None


def _problem_from_args(args):
    from .problem import ProblemValidationError

    if args.stops.lower().endswith(".json"):
        return _problem_from_json(args)
    try:
        return _build_problem(args)
    except ProblemValidationError as exc:
        fleet = exc.field.startswith("vehicles.")
        source = f"vehicles {args.vehicles}" if fleet else f"stops {args.stops}"
        if "no time_origin was given" in str(exc):  # the library's advice, in command-line terms
            raise CLIError(f"{source}: {exc} (on the command line: --time-origin)") from None
        if fleet and isinstance(exc.index, int):
            raise CLIError(f"{source}, line {exc.index + 2}: {exc}") from None  # line 1 is the header
        raise


# Instance options a JSON problem file gives itself: (dest, option, default).
_JSON_GIVES = (("matrix", "--matrix", None), ("duration_matrix", "--duration-matrix", None), ("osrm", "--osrm", None),
               ("kind", "--kind", None), ("capacity", "--capacity", None), ("vehicles", "--vehicles", None),
               ("objective", "--objective", "distance"), ("time_origin", "--time-origin", None), ("osm", "--osm", None))


def _problem_from_json(args):
    """A problem JSON file (``hybridroute schema`` prints its JSON Schema): it describes the
    whole instance, so the options that build one from a CSV are refused."""
    from .schema import read_problem_json

    for dest, option, default in _JSON_GIVES:
        if getattr(args, dest, default) != default:
            raise CLIError(f"{option}: {args.stops} is a JSON problem, which gives this itself "
                           f"(see: hybridroute schema --what problem)")
    if not Path(args.stops).is_file():
        raise CLIError(f"problem file not found: {args.stops}")
    logger.info("reading the JSON problem %s", args.stops)
    return read_problem_json(args.stops)


def _write_solution_json(sol, path: str, times: str) -> None:
    from .schema import SolutionModel

    try:
        SolutionModel.from_solution(sol, time_format=times).to_json(path)
    except OSError as exc:
        raise CLIError(f"cannot write -o/--output {path}: {exc.strerror or exc}") from None


def _vehicles_arg(text: str | None):
    """``--vehicles``: a whole number is the number of routes, anything else a vehicles CSV.

    Returns ``(num_vehicles, vehicles frame)``, one of them None.
    """
    if text is None:
        return None, None
    try:
        return int(text.strip()), None
    except ValueError:
        pass
    if re.fullmatch(r"[+-]?\d*\.?\d+(e[+-]?\d+)?", text.strip(), re.IGNORECASE):
        raise CLIError(f"--vehicles {text}: give a whole number of routes or a vehicles CSV file")
    return None, _read_csv(text, "vehicles")


def _build_problem(args):
    from .problem import Problem

    sources = [opt for opt, value in (("--matrix", args.matrix), ("--osrm", args.osrm),
                                      ("--osm", getattr(args, "osm", None))) if value]
    if len(sources) > 1:
        raise CLIError(f"give the travel matrices from one source: {' or '.join(sources)}, not several")
    stops = _read_csv(args.stops, "stops")
    if "id" not in stops.columns:
        raise CLIError(f"stops {args.stops}: missing column 'id' (columns: {', '.join(map(str, stops.columns))})")
    count, fleet = _vehicles_arg(args.vehicles)
    kwargs = dict(kind=args.kind, capacity=args.capacity, num_vehicles=count, objective=args.objective)
    if fleet is not None:
        if args.capacity is not None:
            raise CLIError(f"--capacity with --vehicles {args.vehicles}: the vehicles CSV gives each type's "
                           f"capacity; drop --capacity")
        kwargs["vehicles"] = fleet
    if getattr(args, "time_origin", None) is not None:  # a subcommand without the option has none
        from .problem import _check_time_origin

        kwargs["time_origin"] = _check_time_origin(args.time_origin)  # refused before any matrix is read
    if getattr(args, "osm", None):
        return _problem_from_extract(args.osm, stops, kwargs)
    if args.osrm:
        from .osrm.client import OSRMClient

        return Problem.from_osrm(stops, OSRMClient(args.osrm), **kwargs)
    if not args.matrix:
        raise CLIError("give the travel matrices with --matrix (and --duration-matrix), --osrm URL or "
                       "--osm EXTRACT.osm.pbf")
    dist = _read_matrix(args.matrix, stops["id"].dtype)
    dur = (_read_matrix(args.duration_matrix, stops["id"].dtype, "duration") if args.duration_matrix
           else None)
    return Problem.from_dataframe(stops, distance=dist, duration=dur, **kwargs)


def _problem_from_extract(extract: str, stops, kwargs: dict):
    """The Problem with matrices from a local osrm-routed over ``extract``, started for this run.

    The server is stopped as soon as the matrices are read, also when reading them fails.
    """
    from .osrm.server import LocalOSRM
    from .problem import Problem

    if not Path(extract).is_file():
        raise CLIError(f"--osm {extract}: OSM extract not found")
    logger.info("starting a local OSRM server over %s (preprocessed once, then cached)", extract)
    with LocalOSRM(extract) as server:
        return Problem.from_osrm(stops, server, **kwargs)


def _ready_solver(args, problem):
    """The solver the arguments name (a preset, a backend, or the default for the problem),
    warmed up for the problem's kind, and its time limit (None: the backend's default).

    A command-line solve is the first solve of its process: without the warm-up, the neural
    stage would spend its share of the limit loading torch and its checkpoint (about 2 s) and
    hand a hybrid's improver nothing. The warm-up (imports, checkpoints, a hybrid's first-pass
    calibration) runs before the clock starts, so the limit is solving time."""
    from .solve import resolve_solver

    solver, limit = resolve_solver(problem, args.solver, time_limit=args.time_limit, preset=args.preset)
    t0 = time.perf_counter()
    solver.warm_up([problem.kind])
    logger.info("%s ready in %.2f s (before the time limit starts)", solver.name, time.perf_counter() - t0)
    return solver, limit


def _cmd_solve(args) -> int:
    from .solve import solve
    from .solvers.base import check_seed

    if args.preset and args.solver:
        raise CLIError("give --solver or --preset, not both")
    check_seed(args.seed, "--seed")
    if args.preset:
        from .presets import load_preset

        load_preset(args.preset)
    elif args.solver:
        _check_solver(args.solver)
    _check_writable(args.output, "-o/--output")
    _check_writable(args.summary, "--summary")
    logger.info("reading %s", args.stops)
    problem = _problem_from_args(args)
    logger.info("problem: %s, %d nodes; solving with %s (time limit %s, seed %d)", problem.kind.value,
                problem.num_nodes, args.preset or args.solver or "the default solver",
                "default" if args.time_limit is None else f"{args.time_limit:g} s", args.seed)
    solver, limit = _ready_solver(args, problem)
    t0 = time.perf_counter()
    sol = solve(problem, solver, time_limit=limit, seed=args.seed)
    logger.info("solved by %s in %.2f s: %s", sol.solver, time.perf_counter() - t0, sol.status.value)
    print(sol)
    if args.output and args.output.lower().endswith(".json"):
        _write_solution_json(sol, args.output, args.times)
        print(f"solution written to {args.output}")
    elif args.output:
        _write_csv(sol.to_dataframe(times=args.times), args.output, "-o/--output")
        print(f"routes written to {args.output}")
    if args.summary:
        _write_csv(sol.routes_summary(times=args.times), args.summary, "--summary")
    return 0 if sol.is_feasible else 1


def _cmd_explain(args) -> int:
    from .explain import explain

    _check_writable(args.output, "-o/--output")
    problem = _problem_from_args(args)
    solution = None
    if args.routes is not None:
        from .solution import evaluate

        routes, types = _routes_from_csv(args.routes, problem)
        solution = routes if types is None else evaluate(problem, routes, vehicle_types=types)
    table = explain(problem, solution)
    _print_table(table)
    print(table.attrs["reason"])
    if args.output:
        _write_csv(table, args.output, "-o/--output")
        print(f"table written to {args.output}")
    return 0


def _routes_from_csv(path: str, problem) -> tuple[list[list[int]], list[int] | None]:
    """Routes from a CSV as ``hybridroute solve -o`` writes it: columns ``route`` and ``id``
    (or ``node``), rows in visiting order (by ``sequence`` where present); rows whose ``stop``
    is not ``"visit"`` (breaks, unserved stops; without that column, rows at a depot) are
    skipped. Also each route's vehicle type index, from a ``vehicle_type`` column (a type's
    name or index) when there is one, else None."""
    import pandas as pd

    frame = _read_csv(path, "routes")
    key = "id" if "id" in frame.columns else "node"
    if "route" not in frame.columns or key not in frame.columns:
        raise CLIError(f"routes {path}: needs columns 'route' and 'id' (as 'hybridroute solve -o' writes "
                       f"them); columns: {', '.join(map(str, frame.columns))}")
    if "stop" in frame.columns:  # before the route check: unserved rows have no route
        frame = frame[frame["stop"] == "visit"]
    route_no = pd.to_numeric(frame["route"], errors="coerce")
    bad = route_no.isna() | (route_no != route_no.round())
    if bad.any():
        i = int(bad.to_numpy().argmax())
        raise CLIError(f"routes {path}, line {frame.index[i] + 2}: route {frame['route'].iloc[i]!r} is not a "
                       f"route number")
    frame = frame.assign(route=route_no.astype("int64"))
    if "sequence" in frame.columns:
        frame = frame.sort_values(["route", "sequence"], kind="stable")
    nodes = {problem.id_of(v): v for v in range(problem.num_nodes)} if key == "id" else {
        v: v for v in range(problem.num_nodes)}
    as_text = {str(label): v for label, v in nodes.items()}  # ids CSV readers typed differently
    routes: dict[int, list[int]] = {}
    types: dict[int, int] = {}
    has_types = "vehicle_type" in frame.columns
    for line, r, label in zip(frame.index, frame["route"], frame[key]):
        node = nodes.get(label, as_text.get(str(label)))
        if node is None:
            raise CLIError(f"routes {path}, line {line + 2}: {key} {label!r} is not a stop of the problem")
        if node >= problem.num_depots or "stop" in frame.columns:  # without 'stop', depot rows mark route ends
            routes.setdefault(int(r), []).append(node)
            if has_types:
                t = _vehicle_type_index(frame.at[line, "vehicle_type"], problem, path, line)
                if types.setdefault(int(r), t) != t:
                    raise CLIError(f"routes {path}, line {line + 2}: route {r} changes its vehicle type to "
                                   f"{frame.at[line, 'vehicle_type']!r}; a route has one type")
    order = sorted(routes)
    return [routes[r] for r in order], ([types[r] for r in order] if has_types else None)


def _vehicle_type_index(label, problem, path: str, line: int) -> int:
    """A routes CSV's ``vehicle_type`` cell (a type's name, or its index) as a type index."""
    names = {vt.name: t for t, vt in enumerate(problem.vehicle_types) if vt.name is not None}
    text = str(label).strip()
    if text in names:
        return names[text]
    try:
        t = int(float(text))
    except (ValueError, OverflowError):  # not a number, NaN, inf
        t = -1
    if 0 <= t < len(problem.vehicle_types) and float(text).is_integer():
        return t
    known = ", ".join(repr(vt.name) if vt.name is not None else str(t) for t, vt in enumerate(problem.vehicle_types))
    raise CLIError(f"routes {path}, line {line + 2}: vehicle_type {label!r} is not a vehicle type of the problem "
                   f"(types: {known})")


def _print_table(table) -> None:
    """One line per stop, the reason last and left-aligned."""
    columns = [c for c in table.columns if c != "reason"] + ["reason"]
    width = max([len("reason")] + [len(str(v)) for v in table["reason"]])
    print(table[columns].to_string(index=False, float_format=lambda x: f"{x:.10g}",
                                   formatters={"reason": lambda v: str(v).ljust(width)}))


def _cmd_compare(args) -> int:
    import pandas as pd

    from .batch import compare
    from .osrm.cities import sample_instances
    from .solvers.base import check_seed

    solvers = [s.strip() for s in args.solvers.split(",") if s.strip()]
    if not solvers:
        raise CLIError("--solvers: give at least one solver name")
    for name in solvers:
        _check_solver(name)
    check_seed(args.seed, "--seed")
    for k, seed in enumerate(args.seeds):
        check_seed(seed, f"--seeds[{k}]")
    _check_writable(args.output, "-o/--output")
    problems = []
    for kind in args.kind.split(","):
        logger.info("sampling %d %s instances of n = %d from %s", args.count, kind.strip(), args.n, args.city)
        problems += sample_instances(args.city, kind.strip(), args.n, args.count, seed=args.seed)
    logger.info("comparing %s on %d instances, budgets %s s, seeds %s", ", ".join(solvers), len(problems),
                ",".join(f"{t:g}" for t in args.time_limits), ",".join(map(str, args.seeds)))
    df = compare(problems, solvers, time_limits=args.time_limits, seeds=args.seeds, progress=args.verbose)
    table = (df.groupby(["kind", "solver", "budget_s"])
               .agg(mean_cost=("cost", "mean"), mean_gap_pct=("gap_pct", "mean"),
                    feasible=("feasible", "mean"), mean_runtime_s=("runtime_s", "mean"))
               .reset_index())
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    if args.output:
        _write_csv(df, args.output, "-o/--output")
        print(f"results written to {args.output}")
    return 0


def _cmd_solvers(args) -> int:
    from .presets import list_presets
    from .solvers import available_solvers, installed_solvers, solver_class

    installed = set(installed_solvers())
    for name in available_solvers():
        try:
            cls = solver_class(name)
            kinds = ",".join(sorted(k.value for k in cls.supports))
            hint = "" if name in installed else f'  (pip install "hybridroute[{cls.extra}]")'
        except ImportError as exc:
            kinds, hint = "?", f"  ({exc})"
        print(f"{'*' if name in installed else ' '} {name:<16} {kinds}{hint}")
    print("presets: " + ", ".join(list_presets()))
    return 0


def _cmd_schema(args) -> int:
    import json

    from .schema import json_schema

    _check_writable(args.output, "-o/--output")
    schemas = json_schema()
    text = json.dumps(schemas if args.what is None else schemas[args.what], indent=2, ensure_ascii=False)
    if not args.output:
        print(text)
        return 0
    try:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise CLIError(f"cannot write -o/--output {args.output}: {exc.strerror or exc}") from None
    print(f"schema written to {args.output}")
    return 0


def _delegate(module: str, what: str):
    def run(args) -> int:
        import importlib

        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            raise CLIError(f"{what}: unavailable ({exc})") from None
        return int(mod.main(args.rest) or 0)

    return run


def _add_problem_options(p: argparse.ArgumentParser) -> None:
    """The options that describe one instance (read by ``_problem_from_args``)."""
    p.add_argument("stops", metavar="STOPS.csv",
                   help="stops CSV, or a problem .json file (format: hybridroute schema --what problem)")
    p.add_argument("--matrix", help="distance matrix CSV (metres), id-indexed")
    p.add_argument("--duration-matrix", help="duration matrix CSV (seconds), id-indexed")
    p.add_argument("--osrm", metavar="URL", help="fetch the matrices from an OSRM server instead")
    p.add_argument("--osm", metavar="EXTRACT.osm.pbf",
                   help="fetch the matrices from a local OSRM server started over this OSM extract for the run "
                        "(car profile; preprocessed once and cached in $HYBRIDROUTE_OSRM_CACHE or "
                        "~/.cache/hybridroute/osrm; needs the osrm executables, e.g. the osrm-bindings wheel)")
    p.add_argument("--kind", choices=["ATSP", "ACVRP", "ACVRPTW"], help="default: inferred from the columns")
    p.add_argument("--capacity", type=float, help="vehicle capacity (demand units), for one vehicle type")
    p.add_argument("--vehicles", metavar="N|VEHICLES.csv",
                   help="maximum number of routes (default: unlimited), or a vehicles CSV with one row per "
                        "vehicle type: name, count, capacity, start_depot, end_depot (depot ids), shift_start, "
                        "shift_end, max_duration, max_distance, fixed_cost, break_start, break_end, "
                        "break_duration (times as in STOPS.csv); replaces --capacity")
    p.add_argument("--objective", choices=["distance", "duration"], default="distance")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="hybridroute",
        description="Solve asymmetric road-network routing problems (ATSP, ACVRP, ACVRPTW) with "
                    "classical and neural backends behind one interface.",
        epilog="Run 'hybridroute COMMAND --help' for each command's options.")
    _add_common(p)
    common = _add_common(argparse.ArgumentParser(add_help=False), suppress=True)
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    s = sub.add_parser("solve", help="solve one instance from a stops CSV", parents=[common],
                       description="Solve one instance. STOPS.csv has columns id, lat, lon and optionally "
                                   "demand, tw_start, tw_end, service_time (seconds or clock times "
                                   "'HH:MM[:SS]'; date-times with --time-origin), is_depot (True on each "
                                   "depot; else the first row is the depot), required (yes/no) and prize "
                                   "for optional stops. Matrices are CSVs indexed by id on both axes. The "
                                   "routes CSV (-o) has start, visit, break and end rows per route, then "
                                   "the unserved optional stops.")
    _add_problem_options(s)
    s.add_argument("--solver", help="backend name (see 'hybridroute solvers'); default: best installed")
    s.add_argument("--preset", help="named preset, e.g. pyvrp/fast")
    s.add_argument("-t", "--time-limit", type=float, help="seconds")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("-o", "--output", help="write one row per stop to this CSV, or the solution to this .json file "
                                          "(format: hybridroute schema --what solution)")
    s.add_argument("--summary", help="write one row per route to this CSV")
    s.add_argument("--time-origin", metavar="DATETIME",
                   help="the date-time that time 0 stands for, e.g. '2026-12-03 00:00' (needed for "
                        "date-times in STOPS.csv; with --times clock the outputs show date-times)")
    s.add_argument("--times", choices=["seconds", "clock", "input"], default="seconds",
                   help="times in the output CSVs: seconds (default), clock ('HH:MM:SS', or date-times "
                        "with --time-origin) or input (as STOPS.csv gives them)")
    s.set_defaults(func=_cmd_solve)

    e = sub.add_parser("explain", help="why each stop is served, late, unserved or impossible", parents=[common],
                       description="One line per stop: before solving, whether any vehicle can serve it "
                                   "and by when it must leave the depot; with --routes (a CSV written by "
                                   "'hybridroute solve -o'), whether it is served on time and, for a late or "
                                   "unserved stop, the constraint that binds (capacity, fleet, window, time) "
                                   "or the cheapest feasible insertion. Then the fleet-level reason. Times in "
                                   "seconds, distances in metres.")
    _add_problem_options(e)
    e.add_argument("--time-origin", metavar="DATETIME",
                   help="the date-time that time 0 stands for (needed for date-times in STOPS.csv)")
    e.add_argument("--routes", metavar="ROUTES.csv",
                   help="routes to explain, as written by 'hybridroute solve -o'")
    e.add_argument("-o", "--output", help="write the table to this CSV")
    e.set_defaults(func=_cmd_explain)

    c = sub.add_parser("compare", help="compare solvers on instances sampled from a city", parents=[common],
                       description="Sample instances from a city (bundled name or a *_data.npz file) and run "
                                   "every solver at every budget; prints a table and writes a tidy CSV.")
    c.add_argument("--city", default="Helsinki", help="bundled city name or city .npz file")
    c.add_argument("--kind", default="ACVRP", help="comma-separated kinds, e.g. ATSP,ACVRP")
    c.add_argument("-n", type=int, default=50, help="customers per instance")
    c.add_argument("--count", type=int, default=5, help="instances per kind")
    c.add_argument("--solvers", default="nearest", help="comma-separated names")
    c.add_argument("-t", "--time-limits", type=_floats, default=[1.0], help="comma-separated seconds")
    c.add_argument("--seeds", type=_ints, default=[0], help="comma-separated seeds")
    c.add_argument("--seed", type=int, default=0, help="sampling seed")
    c.add_argument("-o", "--output", help="CSV of all runs")
    c.set_defaults(func=_cmd_compare)

    sv = sub.add_parser("solvers", help="list solvers (* = installed) and presets", parents=[common])
    sv.set_defaults(func=_cmd_solvers)

    sc = sub.add_parser("schema", help="print the JSON Schema of problem and solution files", parents=[common],
                        description="Print the JSON Schema of the problem files 'hybridroute solve' reads and "
                                    "of the solution files it writes with -o FILE.json (both, or one with "
                                    "--what).")
    sc.add_argument("--what", choices=["problem", "solution"], help="one schema (default: both, as "
                                                                    "{\"problem\": ..., \"solution\": ...})")
    sc.add_argument("-o", "--output", help="write the schema to this file instead of printing it")
    sc.set_defaults(func=_cmd_schema)

    for name, (module, what) in _DELEGATED.items():
        # the module's own parser reads every argument (--help included): see main()
        d = sub.add_parser(name, help=f"{what} (see: hybridroute {name} --help)", add_help=False)
        d.set_defaults(func=_delegate(module, what), rest=[])
    return p


def _add_common(parser: argparse.ArgumentParser, suppress: bool = False) -> argparse.ArgumentParser:
    """``-v`` and ``--debug``, accepted before or after the command name.

    On a subcommand the defaults are suppressed so that ``hybridroute -v solve ...`` is not
    reset by the subcommand's own default.
    """
    default = argparse.SUPPRESS if suppress else False
    parser.add_argument("-v", "--verbose", action="store_true", default=default,
                        help="log progress (INFO level) and show progress bars")
    parser.add_argument("--debug", action="store_true", default=default,
                        help="log at DEBUG level and print the traceback of a failure")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit status.

    0 on success, 1 when ``solve`` found no feasible solution, 2 on any error (one line on
    stderr), 130 when interrupted.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    args, unknown = parser.parse_known_args(argv)
    if args.command in _DELEGATED:
        # everything after the command name goes to the module's own parser
        args.rest = argv[argv.index(args.command) + 1:]
    elif unknown:
        print(f"hybridroute: error: unrecognized arguments: {' '.join(unknown)} "
              f"(see: hybridroute {args.command} --help)", file=sys.stderr)
        return 2
    with _logging(args.verbose, args.debug):
        try:
            return args.func(args)
        except KeyboardInterrupt:
            print("hybridroute: interrupted", file=sys.stderr)
            return 130
        except Exception as exc:  # noqa: BLE001 - every failure is reported as one line
            if args.debug:
                traceback.print_exc(file=sys.stderr)
            print(f"hybridroute: error: {_one_line(exc)}", file=sys.stderr)
            return 2


#: Exception types whose message is written for users; others also get a --debug hint.
_USER_ERRORS = (CLIError, ValueError, LookupError, OSError, ImportError, TypeError)


def _one_line(exc: BaseException) -> str:
    """The exception's message on one line (a KeyError's key without repr quotes)."""
    text = exc.args[0] if isinstance(exc, KeyError) and exc.args and isinstance(exc.args[0], str) else str(exc)
    msg = " ".join(line.strip() for line in text.splitlines() if line.strip()) or type(exc).__name__
    from .osrm.errors import OSRMError
    from .solvers.base import SolverError

    if not isinstance(exc, (*_USER_ERRORS, OSRMError, SolverError)):
        msg = f"{type(exc).__name__}: {msg} (run with --debug for the traceback)"
    return msg


@contextlib.contextmanager
def _logging(verbose: bool, debug: bool) -> Iterator[None]:
    """Log to stderr at INFO (-v) or DEBUG (--debug); warnings as one line each.

    urllib3 logs every connection retry as a WARNING with the full URL; those lines are
    noise next to the one-line error hybridroute reports, so they show only with --debug.
    The levels set here are restored on exit (``main`` may be called from Python).
    """
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    saved = {name: logging.getLogger(name).level for name in ("hybridroute", "urllib3")}
    logging.getLogger("hybridroute").setLevel(level)
    if not debug:
        logging.getLogger("urllib3").setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            if not debug:
                warnings.showwarning = _show_warning
            yield
    finally:
        for name, lvl in saved.items():
            logging.getLogger(name).setLevel(lvl)


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    text = " ".join(str(message).split())
    print(f"hybridroute: warning: {text}", file=sys.stderr if file is None else file)


if __name__ == "__main__":
    sys.exit(main())
