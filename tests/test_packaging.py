"""The wheel ships the presets (solvers/) and checkpoints (models/), and finds them installed."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    res = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    return next(out.glob("hybridroute-*.whl"))


def test_wheel_ships_presets_models_and_cities(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for preset in (ROOT / "solvers").rglob("*.toml"):
        assert f"hybridroute/_presets/{preset.relative_to(ROOT / 'solvers').as_posix()}" in names
    for model in (ROOT / "models").glob("*.safetensors"):
        assert f"hybridroute/_models/{model.name}" in names
        assert f"hybridroute/_models/{model.stem}.json" in names
    assert "hybridroute/data/cities/Helsinki_data.npz" in names


def test_installed_wheel_finds_its_data(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True)
    code = ("import hybridroute, hybridroute.resources as r, hybridroute.presets as p;"
            "assert hybridroute.__file__.startswith(sys.argv[1]), hybridroute.__file__;"
            "assert str(r.presets_dir()).startswith(sys.argv[1]) and 'pyvrp/fast' in p.list_presets();"
            "assert any(r.models_dir().glob('*.safetensors'))")
    res = subprocess.run([sys.executable, "-c", "import sys;" + code, str(target)], capture_output=True, text=True,
                         cwd=tmp_path, env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"})
    assert res.returncode == 0, res.stderr[-2000:]
