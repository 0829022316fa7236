"""Named presets: shipped files load; malformed ones name the file and the key."""

import numpy as np
import pytest

import hybridroute as hr
from hybridroute.presets import PresetError, list_presets, load_preset


def test_every_shipped_preset_loads_and_builds_its_solver():
    names = list_presets()
    assert "nearest/fast" in names
    for name in names:
        preset = load_preset(name)
        assert preset.name == name and preset.backend
        if preset.backend in hr.installed_solvers():
            assert preset.make_solver().name == hr.get_solver(preset.backend).name


def test_solve_with_preset(atsp10):
    sol = hr.solve(atsp10, preset="nearest/multistart")
    assert sol.is_feasible and sol.stats["starts"] > 1
    with pytest.raises(TypeError):
        hr.solve(atsp10, "nearest", preset="nearest/fast")


@pytest.mark.parametrize("text, key", [
    ('backend = "nearest"\ncolour = 1\n', "colour"),
    ('backend = "nope"\n', "backend"),
    ('time_limit = 1.0\n', "backend"),
    ('backend = "nearest"\ntime_limit = "fast"\n', "time_limit"),
    ('backend = "nearest"\ntime_limit = -1\n', "time_limit"),
    ('backend = "nearest"\n[settings]\nstarts_count = 3\n', "settings.starts_count"),
    ('backend = "nearest"\nsettings = 3\n', "settings"),
    ('backend = = "x"\n', "TOML"),
])
def test_malformed_preset_names_file_and_key(tmp_path, text, key):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(PresetError) as err:
        load_preset(path)
    assert str(path) in str(err.value) and key in str(err.value)


def test_unknown_preset_lists_known():
    with pytest.raises(PresetError, match="nearest/fast"):
        load_preset("no/such")


def test_default_solver_supports_the_kind(atsp10, acvrp12, monkeypatch):
    import importlib

    solve_mod = importlib.import_module("hybridroute.solve")  # the module, not the re-exported function

    monkeypatch.setattr(solve_mod, "installed_solvers", lambda: ["lkh", "nearest"])
    assert solve_mod.default_solver(atsp10) == "lkh"
    assert solve_mod.default_solver(acvrp12) == "nearest"
    monkeypatch.setattr(solve_mod, "installed_solvers", lambda: ["lkh"])
    with pytest.raises(hr.SolverNotInstalledError, match="ACVRP"):
        solve_mod.default_solver(acvrp12)
