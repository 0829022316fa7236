"""Solver backends behind one interface. Backends are imported lazily by name."""

from .base import (
    Solver,
    SolveOutput,
    SolverError,
    SolverNotInstalledError,
    UnknownSolverError,
    UnsupportedProblemError,
    available_solvers,
    get_solver,
    installed_solvers,
    load_solver,
    register_solver,
    solver_class,
)

# Registry order is preference order (first installed is the default).
register_solver("pyvrp", "hybridroute.solvers.pyvrp_solver:PyVRPSolver")
register_solver("ortools", "hybridroute.solvers.ortools_solver:ORToolsSolver")
register_solver("vroom", "hybridroute.solvers.vroom_solver:VroomSolver")
register_solver("lkh", "hybridroute.solvers.lkh_solver:LKHSolver")
register_solver("nearest", "hybridroute.solvers.baselines:NearestNeighbour")
register_solver("rrnco", "hybridroute.solvers.rrnco_solver:RRNCO")
# Hybrids: the neural policy warm-starts a classical local search.
register_solver("rrnco+pyvrp", "hybridroute.solvers.hybrid:RRNCOPyVRP")
register_solver("rrnco+ortools", "hybridroute.solvers.hybrid:RRNCOORTools")
register_solver("rrnco+vroom", "hybridroute.solvers.hybrid:RRNCOVroom")

__all__ = [
    "Solver", "SolveOutput", "SolverError", "SolverNotInstalledError", "UnknownSolverError",
    "UnsupportedProblemError", "available_solvers", "get_solver", "installed_solvers",
    "load_solver", "register_solver", "solver_class",
]
