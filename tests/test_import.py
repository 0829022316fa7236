"""Import hygiene and the solver registry's public face."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import hybridroute as hr


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_import_does_not_load_heavy_backends():
    res = _run("import hybridroute, sys; "
               "heavy = {'torch', 'ortools', 'pyvrp'} & set(sys.modules); "
               "assert not heavy, heavy")
    assert res.returncode == 0, res.stderr


def test_import_does_not_load_pandas():
    """pandas is loaded by hybridroute.frames on first DataFrame use, not at import."""
    res = _run("import hybridroute, sys; assert 'pandas' not in sys.modules; "
               "import numpy as np; p = hybridroute.Problem('ATSP', 1 - np.eye(3)); "
               "assert 'pandas' not in sys.modules; p.to_dataframe(); assert 'pandas' in sys.modules")
    assert res.returncode == 0, res.stderr


def test_nearest_is_installed():
    assert "nearest" in hr.installed_solvers()
    assert "nearest" in hr.available_solvers()
    assert hr.installed_solvers() == [s for s in hr.available_solvers() if s in hr.installed_solvers()]


def test_unknown_solver_lists_known_names():
    with pytest.raises(hr.UnknownSolverError) as info:
        hr.get_solver("no-such-solver")
    msg = str(info.value)
    assert "no-such-solver" in msg
    for name in hr.available_solvers():
        assert name in msg
    p = hr.Problem("ATSP", 1 - np.eye(3))
    with pytest.raises(ValueError, match="known solvers: .*nearest"):
        hr.solve(p, "no-such-solver")


def test_public_names_exist():
    for name in hr.__all__:
        assert hasattr(hr, name), name


def test_subpackages_are_attributes_after_a_plain_import():
    """``hr.osrm.OSRMClient(...)`` (as in the README) works without ``import hybridroute.osrm``."""
    res = _run("import sys, hybridroute as hr; "
               "assert hr.osrm.OSRMClient.__name__ == 'OSRMClient'; "
               "assert hr.osrm.LocalOSRM.__name__ == 'LocalOSRM'; "
               "assert callable(hr.formats.read) and callable(hr.presets.load_preset); "
               "assert hr.neural.__name__ == 'hybridroute.neural'; "
               "assert callable(hr.testing.check_solver); "
               "heavy = {'torch', 'ortools', 'pyvrp'} & set(sys.modules); "
               "assert not heavy, heavy; "
               "assert {'osrm', 'formats', 'neural'} <= set(dir(hr))")
    assert res.returncode == 0, res.stderr


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="module 'hybridroute' has no attribute 'no_such_module'"):
        hr.no_such_module  # noqa: B018
