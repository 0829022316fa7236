"""Where the shipped data lives: solver presets (solvers/) and trained checkpoints (models/).

In a source checkout they are the top-level folders ``solvers/`` and ``models/``; in an
installed wheel they are the data-only packages ``hybridroute._presets`` and
``hybridroute._models`` (mapped from those folders in pyproject.toml).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

__all__ = ["presets_dir", "models_dir"]

_ROOT = Path(__file__).resolve().parent.parent


def _data_dir(checkout_name: str, package: str) -> Path:
    local = _ROOT / checkout_name
    if local.is_dir() and (_ROOT / "pyproject.toml").is_file():
        return local
    spec = importlib.util.find_spec(package)
    if spec is not None and spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0])
    raise FileNotFoundError(f"cannot find hybridroute's {checkout_name}/ data (package {package} is missing)")


def presets_dir() -> Path:
    """Folder of the named solver presets (``<backend>/<name>.toml``)."""
    return _data_dir("solvers", "hybridroute._presets")


def models_dir() -> Path:
    """Folder of the shipped RRNCO checkpoints (``*.safetensors`` + model cards)."""
    return _data_dir("models", "hybridroute._models")
