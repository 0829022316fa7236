"""hybridroute: asymmetric road-network routing with classical and neural solvers.

Importing this package never imports torch, ortools or pyvrp; backends load on first use.
"""

from .problem import Problem, ProblemKind, ProblemValidationError
from .solution import RouteStats, Solution, Status, Violation, evaluate
from .solve import solve
from .solvers import (
    Solver,
    SolverError,
    SolverNotInstalledError,
    UnknownSolverError,
    UnsupportedProblemError,
    available_solvers,
    get_solver,
    installed_solvers,
    register_solver,
)

__version__ = "0.1.0"

__all__ = [
    "Problem", "ProblemKind", "ProblemValidationError", "RouteStats", "Solution", "Status",
    "Violation", "evaluate", "solve", "Solver", "SolverError", "SolverNotInstalledError",
    "UnknownSolverError", "UnsupportedProblemError", "available_solvers", "get_solver",
    "installed_solvers", "register_solver", "__version__",
]

from .batch import compare, problems_from_dataframe, read_problems, solutions_to_dataframe, solve_many  # noqa: E402

__all__ += ["compare", "solve_many", "solutions_to_dataframe", "problems_from_dataframe", "read_problems"]
