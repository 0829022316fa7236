"""Warm-started hybrids: both stages recorded, never worse than the first stage, one budget."""

import pytest

import hybridroute as hr
from hybridroute.solvers.base import SolveOutput, Solver
from hybridroute.solvers.hybrid import Hybrid


class WorseImprover(Solver):
    """An 'improver' that accepts a start and returns one route per customer (always worse)."""

    name = "worse"
    accepts_initial = True

    def _solve(self, problem, *, time_limit, seed, initial):
        return SolveOutput(routes=[[v] for v in problem.customers], stats={"initial_accepted": True})


@pytest.mark.parametrize("then", ["pyvrp", "ortools"])
@pytest.mark.parametrize("fixture", ["atsp10", "acvrp12", "acvrptw12"])
def test_hybrid_records_both_stages(request, fixture, then):
    pytest.importorskip(then)
    problem = request.getfixturevalue(fixture)
    sol = Hybrid(first="nearest", then=then, split=0.2).solve(problem, time_limit=1.0, seed=0)
    assert sol.is_feasible and sol.solver == f"nearest+{then}"
    st = sol.stats
    assert st["first_solver"] == "nearest" and st["then_solver"] == then
    assert st["initial_accepted"] is True
    assert sol.cost <= st["first_cost"] + 1e-9
    assert sol.cost == pytest.approx(min(st["first_cost"], st["then_cost"]))
    # one anytime curve across both stages, ending at the final cost
    times = [t for t, _ in sol.history]
    assert times == sorted(times) and sol.history[-1][1] == pytest.approx(sol.cost)
    assert sol.history[0][1] == pytest.approx(st["first_cost"])
    assert sol.runtime < 1.0 * 1.5 + 1.0  # the budget is for both stages together


def test_hybrid_keeps_the_first_stage_when_the_improver_is_worse(acvrp12):
    sol = Hybrid(first="nearest", then=WorseImprover()).solve(acvrp12, time_limit=0.5)
    nearest = hr.solve(acvrp12, "nearest")
    assert sol.routes == nearest.routes and sol.stats["kept_first_stage"] is True


def test_hybrid_validates_its_stages():
    with pytest.raises(ValueError, match="does not accept a warm start"):
        Hybrid(first="nearest", then="nearest")
    with pytest.raises(ValueError, match="split"):
        Hybrid(first="nearest", then="pyvrp", split=1.5)
    with pytest.raises(hr.UnknownSolverError):
        Hybrid(first="nope", then="pyvrp")


def test_registered_hybrid_names():
    from hybridroute.solvers import solver_class

    for name in ("rrnco+pyvrp", "rrnco+ortools", "rrnco+vroom"):
        cls = solver_class(name)
        assert cls.name == name and "torch" in cls.requires and cls.extra.startswith("neural,")


def test_rrnco_fits_its_augmentations_to_the_budget(acvrp12):
    pytest.importorskip("torch")
    tiny = hr.solve(acvrp12, "rrnco", time_limit=1e-3)
    assert tiny.is_feasible and tiny.stats["augment"] == 1  # one pass always runs
    roomy = hr.solve(acvrp12, "rrnco", time_limit=60)
    assert roomy.stats["augment"] == 8 and roomy.cost <= tiny.cost + 1e-9
    assert [c for _, c in roomy.history] == sorted((c for _, c in roomy.history), reverse=True)
