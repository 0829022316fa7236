"""The ``hybridroute`` command.

Examples
--------
::

    hybridroute solvers
    hybridroute solve stops.csv --matrix distance.csv --capacity 50 --solver pyvrp -t 5 -o routes.csv
    hybridroute solve stops.csv --osrm http://127.0.0.1:5000 --preset pyvrp/fast -o routes.csv
    hybridroute compare --city Helsinki --kind ACVRP -n 50 --count 5 --solvers nearest,pyvrp -t 1,5
    hybridroute build-city extract.osm.pbf -o City_data.npz --points 1000
    hybridroute train --config atsp20
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Sequence

__all__ = ["main"]


class CLIError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


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


def _read_matrix(path: str, ids_dtype):
    """An id-indexed square matrix CSV (first column and header are the stop ids)."""
    import pandas as pd

    m = _read_csv(path, "matrix", index_col=0)
    try:
        m.columns = pd.Index(m.columns).astype(ids_dtype)
        m.index = pd.Index(m.index).astype(ids_dtype)
    except (TypeError, ValueError) as exc:
        raise CLIError(f"matrix {path}: header ids do not match the stop ids' type ({exc})") from None
    return m


def _problem_from_args(args):
    from .problem import Problem

    stops = _read_csv(args.stops, "stops")
    if "id" not in stops.columns:
        raise CLIError(f"stops {args.stops}: missing column 'id' (columns: {', '.join(map(str, stops.columns))})")
    kwargs = dict(kind=args.kind, capacity=args.capacity, num_vehicles=args.vehicles, objective=args.objective)
    if args.osrm:
        from .osrm.client import OSRMClient

        return Problem.from_osrm(stops, OSRMClient(args.osrm), **kwargs)
    if not args.matrix:
        raise CLIError("give the travel matrices with --matrix (and --duration-matrix) or --osrm URL")
    dist = _read_matrix(args.matrix, stops["id"].dtype)
    dur = _read_matrix(args.duration_matrix, stops["id"].dtype) if args.duration_matrix else None
    return Problem.from_dataframe(stops, distance=dist, duration=dur, **kwargs)


def _cmd_solve(args) -> int:
    from .solve import solve

    problem = _problem_from_args(args)
    if args.preset and args.solver:
        raise CLIError("give --solver or --preset, not both")
    if args.preset:
        sol = solve(problem, preset=args.preset, time_limit=args.time_limit, seed=args.seed)
    else:
        sol = solve(problem, args.solver, time_limit=args.time_limit, seed=args.seed)
    print(sol)
    if args.output:
        sol.to_dataframe().to_csv(args.output, index=False)
        print(f"routes written to {args.output}")
    if args.summary:
        sol.routes_summary().to_csv(args.summary, index=False)
    return 0 if sol.is_feasible else 1


def _cmd_compare(args) -> int:
    import pandas as pd

    from .batch import compare
    from .osrm.cities import sample_instances

    problems = []
    for kind in args.kind.split(","):
        problems += sample_instances(args.city, kind.strip(), args.n, args.count, seed=args.seed)
    solvers = [s.strip() for s in args.solvers.split(",") if s.strip()]
    df = compare(problems, solvers, time_limits=args.time_limits, seeds=args.seeds)
    table = (df.groupby(["kind", "solver", "budget_s"])
               .agg(mean_cost=("cost", "mean"), mean_gap_pct=("gap_pct", "mean"),
                    feasible=("feasible", "mean"), mean_runtime_s=("runtime_s", "mean"))
               .reset_index())
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    if args.output:
        df.to_csv(args.output, index=False)
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


def _delegate(module: str, what: str):
    def run(args) -> int:
        import importlib

        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            raise CLIError(f"{what}: unavailable ({exc})") from None
        return int(mod.main(args.rest) or 0)

    return run


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hybridroute",
        description="Solve asymmetric road-network routing problems (ATSP, ACVRP, ACVRPTW) with "
                    "classical and neural backends behind one interface.",
        epilog="Run 'hybridroute COMMAND --help' for each command's options.")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress (INFO level)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    s = sub.add_parser("solve", help="solve one instance from a stops CSV",
                       description="Solve one instance. STOPS.csv has columns id, lat, lon and optionally "
                                   "demand, tw_start, tw_end, service_time (seconds), is_depot (else the "
                                   "first row is the depot). Matrices are CSVs indexed by id on both axes.")
    s.add_argument("stops", metavar="STOPS.csv")
    s.add_argument("--matrix", help="distance matrix CSV (metres), id-indexed")
    s.add_argument("--duration-matrix", help="duration matrix CSV (seconds), id-indexed")
    s.add_argument("--osrm", metavar="URL", help="fetch the matrices from an OSRM server instead")
    s.add_argument("--kind", choices=["ATSP", "ACVRP", "ACVRPTW"], help="default: inferred from the columns")
    s.add_argument("--capacity", type=float, help="vehicle capacity (demand units)")
    s.add_argument("--vehicles", type=int, help="maximum number of routes (default: unlimited)")
    s.add_argument("--objective", choices=["distance", "duration"], default="distance")
    s.add_argument("--solver", help="backend name (see 'hybridroute solvers'); default: best installed")
    s.add_argument("--preset", help="named preset, e.g. pyvrp/fast")
    s.add_argument("-t", "--time-limit", type=float, help="seconds")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("-o", "--output", help="write one row per stop to this CSV")
    s.add_argument("--summary", help="write one row per route to this CSV")
    s.set_defaults(func=_cmd_solve)

    c = sub.add_parser("compare", help="compare solvers on instances sampled from a city",
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

    sv = sub.add_parser("solvers", help="list solvers (* = installed) and presets")
    sv.set_defaults(func=_cmd_solvers)

    for name, module, what in (("build-city", "hybridroute.osrm.build", "build an RRNCO-format city dataset from an OSM extract"),
                               ("train", "hybridroute.neural.train", "train the RRNCO neural policy")):
        d = sub.add_parser(name, help=f"{what} (see: hybridroute {name} --help)", add_help=False)
        d.add_argument("rest", nargs=argparse.REMAINDER)
        d.set_defaults(func=_delegate(module, what))
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except (CLIError, ValueError, KeyError, FileNotFoundError, ImportError) as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"hybridroute: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
