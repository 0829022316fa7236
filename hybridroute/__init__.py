"""hybridroute: asymmetric road-network routing with classical and neural solvers.

Importing this package never imports torch, ortools or pyvrp; backends load on first use.
The subpackages (``hr.osrm``, ``hr.formats``, ``hr.neural``, ``hr.presets``, ``hr.plotting``,
``hr.testing``, ``hr.frames``) are imported on first attribute access, so
``hr.osrm.OSRMClient(...)`` works after a plain ``import hybridroute as hr``.
"""

import importlib as _importlib

from .problem import Problem, ProblemKind, ProblemValidationError
from .fleet import Break, VehicleType
from .solution import RouteStats, Solution, Status, Violation, evaluate
from .solve import solve
from .explain import explain
from .solvers import (
    Solver,
    SolverError,
    SolverNotInstalledError,
    UnknownSolverError,
    UnsupportedProblemError,
    available_solvers,
    get_solver,
    installed_solvers,
    load_solver,
    register_solver,
)

__version__ = "0.1.0"

__all__ = [
    "Problem", "ProblemKind", "ProblemValidationError", "VehicleType", "Break", "RouteStats", "Solution", "Status",
    "Violation", "evaluate", "explain", "solve", "Solver", "SolverError", "SolverNotInstalledError",
    "UnknownSolverError", "UnsupportedProblemError", "available_solvers", "get_solver",
    "installed_solvers", "load_solver", "register_solver", "__version__",
]

from .batch import compare, problems_from_dataframe, read_problems, solutions_to_dataframe, solve_many  # noqa: E402

__all__ += ["compare", "solve_many", "solutions_to_dataframe", "problems_from_dataframe", "read_problems"]

#: Submodules reachable as attributes, imported on first access (they pull in pandas,
#: requests, matplotlib or torch only where they need them).
_LAZY_SUBMODULES = frozenset({"osrm", "formats", "neural", "presets", "plotting", "testing", "frames"})


def __getattr__(name: str):
    if name in _LAZY_SUBMODULES:
        return _importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _LAZY_SUBMODULES)
