"""Hostile solve arguments: seeds, warm starts, evaluate's routes, unknown solvers in batches.

Each wrongly-typed argument is refused before a backend runs, with the exact exception type
and a message naming the argument (and the position inside a warm start); well-typed but
infeasible warm starts are still accepted (backends repair or ignore them).
"""

from __future__ import annotations

import numpy as np
import pytest

import hybridroute as hr
from hybridroute.solvers.base import SEED_LIMIT, as_routes, check_seed

from support import random_matrix

ALL_SOLVERS = hr.available_solvers()


@pytest.fixture
def atsp6() -> hr.Problem:
    return hr.Problem("ATSP", random_matrix(6, np.random.default_rng(6)), name="atsp6")


@pytest.fixture
def acvrp6() -> hr.Problem:
    rng = np.random.default_rng(7)
    d = random_matrix(7, rng)
    return hr.Problem("ACVRP", d, d / 10.0, demand=np.r_[0, np.ones(6)], capacity=3, name="acvrp6")


def _problem_for(name: str, atsp6: hr.Problem, acvrp6: hr.Problem) -> hr.Problem:
    cls = hr.solvers.solver_class(name)
    return acvrp6 if hr.ProblemKind.ACVRP in cls.supports else atsp6


# -- seeds ---------------------------------------------------------------------------------

BAD_SEEDS = [
    ("abc", TypeError, r"^seed must be an integer in \[0, 2\*\*32\), got str 'abc'"),
    (None, TypeError, r"^seed must be an integer .*got NoneType None"),
    (True, TypeError, r"^seed must be an integer .*got bool True"),
    (np.bool_(False), TypeError, r"^seed must be an integer"),
    ([1], TypeError, r"^seed must be an integer .*got list"),
    (1.7, TypeError, r"^seed must be a whole number in \[0, 2\*\*32\), got 1\.7"),
    (float("nan"), TypeError, r"^seed must be a whole number .*got nan"),
    (float("inf"), TypeError, r"^seed must be a whole number .*got inf"),
    (-1, ValueError, r"^seed must be in \[0, 2\*\*32\) = \[0, 4294967295\], got -1$"),
    (2**70, ValueError, rf"^seed must be in .*got {2**70}$"),
    (SEED_LIMIT, ValueError, rf"^seed must be in .*got {SEED_LIMIT}$"),
    (np.int64(-5), ValueError, r"^seed must be in .*got -5$"),
]


@pytest.mark.parametrize("seed, exc, message", BAD_SEEDS, ids=[repr(s[0]) for s in BAD_SEEDS])
def test_check_seed_refuses(seed, exc, message):
    with pytest.raises(exc, match=message):
        check_seed(seed)


@pytest.mark.parametrize("seed, expected", [(0, 0), (SEED_LIMIT - 1, SEED_LIMIT - 1), (np.int64(7), 7),
                                            (np.uint32(9), 9), (3.0, 3), (np.float32(4.0), 4)])
def test_check_seed_accepts_integers(seed, expected):
    value = check_seed(seed)
    assert value == expected and type(value) is int


@pytest.mark.parametrize("name", ALL_SOLVERS)
@pytest.mark.parametrize("seed, exc", [("abc", TypeError), (None, TypeError), (-1, ValueError),
                                       (2**70, ValueError), (1.7, TypeError), (True, TypeError)],
                         ids=["str", "None", "negative", "2**70", "1.7", "bool"])
def test_every_backend_refuses_a_bad_seed_before_solving(name, seed, exc, atsp6, acvrp6, monkeypatch):
    cls = hr.solvers.solver_class(name)
    try:
        cls.check_installed()
    except hr.SolverNotInstalledError as err:
        pytest.skip(str(err))

    def must_not_run(self, *args, **kwargs):
        raise AssertionError("the backend ran with a bad seed")

    monkeypatch.setattr(cls, "_solve", must_not_run)
    with pytest.raises(exc, match=r"^seed "):
        hr.solve(_problem_for(name, atsp6, acvrp6), name, time_limit=1, seed=seed)


@pytest.mark.parametrize("name, settings", [
    ("nearest", {}),
    ("pyvrp", {"workers": 2, "max_iterations": 30}),  # side searches use seed + 1, wrapped
    ("ortools", {}),
    ("vroom", {}),
    ("lkh", {}),
])
def test_largest_seed_solves_on_every_classical_backend(name, settings, atsp6, acvrp6):
    try:
        solver = hr.get_solver(name, **settings)
    except hr.SolverNotInstalledError as err:
        pytest.skip(str(err))
    sol = solver.solve(_problem_for(name, atsp6, acvrp6), time_limit=0.5, seed=SEED_LIMIT - 1)
    assert sol.is_feasible, sol.message
    if name == "pyvrp":
        assert [s["seed"] for s in sol.stats["searches"]] == [SEED_LIMIT - 1, 0]


def test_integral_float_seed_equals_the_int_seed(acvrp6):
    a = hr.solve(acvrp6, "nearest", seed=3)
    b = hr.solve(acvrp6, "nearest", seed=3.0)
    c = hr.solve(acvrp6, "nearest", seed=np.int64(3))
    assert a.routes == b.routes == c.routes


def test_batch_entry_points_check_seeds_up_front(atsp6):
    with pytest.raises(TypeError, match=r"^seed must be a whole number .*1\.7"):
        hr.solve_many([atsp6], "nearest", seed=1.7, progress=False)
    with pytest.raises(ValueError, match=r"^seeds\[1\] must be in .*got -1"):
        hr.compare([atsp6], ["nearest"], seeds=[0, -1], progress=False)
    with pytest.raises(TypeError, match=r"^seeds\[0\] must be an integer .*got str 'abc'"):
        hr.compare([atsp6], ["nearest"], seeds="abc", progress=False)
    with pytest.raises(TypeError, match=r"^seeds\[2\] must be a whole number .*2\.5"):
        hr.compare([atsp6], ["nearest"], seeds=np.array([0.0, 1.0, 2.5]), progress=False)


# -- warm starts ---------------------------------------------------------------------------

BAD_STARTS = [
    ([1, 2, 3], r"^initial\[0\] = 1 is a node index, not a route: initial must be a list of routes, "
                r"each a list of node indices"),
    ([["a", "b"]], r"^initial\[0\]\[0\] = 'a' is not a node index \(an integer\)$"),
    ([[1.5, 2]], r"^initial\[0\]\[0\] = 1\.5 is not a node index \(an integer\)$"),
    ([[1, 2], [3, 4.25]], r"^initial\[1\]\[1\] = 4\.25 is not a node index"),
    ([[1, None]], r"^initial\[0\]\[1\] = None is not a node index"),
    ([[1, True]], r"^initial\[0\]\[1\] = True is not a node index"),
    ([[1, float("nan")]], r"^initial\[0\]\[1\] = nan is not a node index"),
    ([["1"]], r"^initial\[0\]\[0\] = '1' is not a node index"),
    (["123"], r"^initial\[0\] = '123' is not a route"),
    ([{1, 2}], r"^initial\[0\] = \{1, 2\} is not a route"),
    ([[1], 5], r"^initial\[1\] = 5 is a node index, not a route"),
    ("1,2,3", r"^initial must be a list of routes.*got str '1,2,3'"),
    (7, r"^initial must be a list of routes.*got int 7"),
    ({0: [1, 2]}, r"^initial must be a list of routes.*got dict"),
    (np.array([[1.5, 2.0]]), r"^initial\[0\]\[0\] = (np\.float64\()?1\.5\)? is not a node index"),
]


@pytest.mark.parametrize("start, message", BAD_STARTS, ids=[repr(s[0])[:24] for s in BAD_STARTS])
def test_wrongly_typed_warm_start_is_a_type_error(start, message):
    with pytest.raises(TypeError, match=message):
        as_routes(start)


@pytest.mark.parametrize("name", ["nearest", "pyvrp", "ortools", "vroom"])
def test_backends_refuse_a_wrongly_typed_start_before_solving(name, acvrp6, monkeypatch):
    cls = hr.solvers.solver_class(name)
    try:
        cls.check_installed()
    except hr.SolverNotInstalledError as err:
        pytest.skip(str(err))
    monkeypatch.setattr(cls, "_solve", lambda self, *a, **k: pytest.fail("the backend ran"))
    with pytest.raises(TypeError, match=r"^initial\[0\]\[0\] = 1\.5 is not a node index"):
        hr.solve(acvrp6, name, time_limit=1, initial=[[1.5, 2]])
    with pytest.raises(TypeError, match=r"^initial\[0\] = 1 is a node index, not a route"):
        hr.solve(acvrp6, name, time_limit=1, initial=[1, 2, 3])


@pytest.mark.parametrize("start, expected", [
    ([[1, 2], [3]], [[1, 2], [3]]),
    (((1, 2), (3,)), [[1, 2], [3]]),
    (np.array([[1, 2, 3]]), [[1, 2, 3]]),
    ([np.array([3, 1], dtype=np.int32), np.array([2.0])], [[3, 1], [2]]),
    ([[np.int64(4), 1.0]], [[4, 1]]),
    ([[1, 2], []], [[1, 2], []]),
    # well-typed but infeasible: out of range, repeated, the depot, negative -> accepted as is
    ([[1, 1, 99, 0, -2]], [[1, 1, 99, 0, -2]]),
])
def test_well_typed_starts_are_accepted(start, expected):
    routes = as_routes(start)
    assert routes == expected
    assert all(type(v) is int for r in routes for v in r)


def test_solution_is_accepted_as_a_warm_start(acvrp6):
    sol = hr.solve(acvrp6, "nearest")
    assert as_routes(sol) == [list(r) for r in sol.routes]
    assert as_routes(None) is None


def test_infeasible_well_typed_start_still_solves(acvrp6):
    sol = hr.solve(acvrp6, "nearest", initial=[[1, 1, 99, 0, -2]])
    assert sol.is_feasible


# -- evaluate(routes=...) -------------------------------------------------------------------

BAD_ROUTES = [
    (None, r"^routes must be a list of routes, each a list of node indices without the depot.*got None$"),
    (5, r"^routes must be a list of routes.*got int 5$"),
    ("abc", r"^routes must be a list of routes.*got str 'abc'$"),
    ({1, 2}, r"^routes must be a list of routes.*got set"),
    ([1, 2, 3], r"^routes\[0\] = 1 is a node index, not a route"),
    ([["a"]], r"^routes\[0\]\[0\] = 'a' is not a node index"),
    ([[1, 2], [3, None]], r"^routes\[1\]\[1\] = None is not a node index"),
    ([[1.5]], r"^routes\[0\]\[0\] = 1\.5 is not a node index"),
    ([[True]], r"^routes\[0\]\[0\] = True is not a node index"),
]


@pytest.mark.parametrize("routes, message", BAD_ROUTES, ids=[repr(r[0])[:24] for r in BAD_ROUTES])
def test_evaluate_refuses_wrongly_typed_routes(routes, message, atsp6):
    with pytest.raises(TypeError, match=message):
        hr.evaluate(atsp6, routes)


def test_evaluate_refuses_a_solution_with_a_hint(atsp6):
    sol = hr.solve(atsp6, "nearest")
    with pytest.raises(TypeError, match=r"^routes must be .*got a Solution \(pass its \.routes\)"):
        hr.evaluate(atsp6, sol)


def test_evaluate_accepts_integer_arrays_and_integral_floats(atsp6):
    ref = hr.evaluate(atsp6, [[1, 2, 3, 4, 5]])
    for routes in (np.array([[1, 2, 3, 4, 5]]), [[1.0, 2.0, 3, 4, 5]], [np.arange(1, 6, dtype=np.uint8)]):
        sol = hr.evaluate(atsp6, routes)
        assert sol.routes == ref.routes and sol.cost == ref.cost


def test_evaluate_reports_infeasible_well_typed_routes(atsp6):
    sol = hr.evaluate(atsp6, [[1, 1, 99]])
    assert sol.status is hr.Status.INFEASIBLE
    assert {v.kind for v in sol.violations} >= {"unknown_node", "duplicate_visit"}


# -- unknown solvers in batches --------------------------------------------------------------

def test_compare_refuses_an_unknown_solver_before_solving(atsp6, monkeypatch):
    import hybridroute.batch as batch

    monkeypatch.setattr(batch, "_run_tasks", lambda *a, **k: pytest.fail("compare solved something"))
    with pytest.raises(hr.UnknownSolverError, match=r"unknown solver 'nosuch'; known solvers: .*nearest"):
        hr.compare([atsp6], ["nearest", "nosuch"], progress=False)
    with pytest.raises(hr.UnknownSolverError, match=r"unknown solver 'nosuch'"):
        hr.compare([atsp6], {"label": "nosuch"}, progress=False)
    with pytest.raises(TypeError, match=r"^solvers\['x'\] must be a solver name or a Solver, got int 3"):
        hr.compare([atsp6], {"x": 3}, progress=False)


def test_solve_many_refuses_an_unknown_solver_before_solving(atsp6, monkeypatch):
    import hybridroute.batch as batch

    monkeypatch.setattr(batch, "_run_tasks", lambda *a, **k: pytest.fail("solve_many solved something"))
    with pytest.raises(hr.UnknownSolverError, match=r"unknown solver 'nosuch'; known solvers: .*nearest"):
        hr.solve_many([atsp6], "nosuch", progress=False)
    with pytest.raises(TypeError, match=r"^solver must be a solver name or a Solver, got NoneType"):
        hr.solve_many([atsp6], None, progress=False)
