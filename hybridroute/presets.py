"""Named solver presets: TOML files in the top-level ``solvers/`` folder.

A preset ``<backend>/<name>.toml`` (e.g. ``pyvrp/fast``) reads::

    description = "PyVRP, 1 s"   # optional
    backend = "pyvrp"            # a registry name
    time_limit = 1.0             # seconds, optional
    [settings]                   # constructor settings of the backend, optional
    ...

``solve(problem, preset="pyvrp/fast")`` and the CLI's ``--preset`` use them. The keys are
checked by :class:`hybridroute.schema.PresetModel` (pydantic, imported when a preset is read).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .resources import presets_dir
from .solvers.base import Solver, UnknownSolverError, solver_class

__all__ = ["Preset", "PresetError", "load_preset", "list_presets"]

class PresetError(ValueError):
    """A preset file is missing or malformed; the message names the file and the key."""


@dataclass(frozen=True)
class Preset:
    """A named backend configuration."""

    name: str
    backend: str
    time_limit: float | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    path: Path | None = None

    def make_solver(self) -> Solver:
        from .solvers.base import get_solver

        try:
            return get_solver(self.backend, **self.settings)
        except TypeError as exc:
            raise PresetError(f"{self.path}: [settings] rejected by backend {self.backend!r}: {exc}") from None


def list_presets() -> list[str]:
    """All shipped preset names (``backend/name``), sorted."""
    root = presets_dir()
    return sorted(str(p.relative_to(root).with_suffix("")) for p in root.rglob("*.toml"))


def _resolve(name: str | Path) -> Path:
    path = Path(name)
    if path.suffix == ".toml" and path.is_file():
        return path
    candidate = presets_dir() / f"{name}.toml"
    if candidate.is_file():
        return candidate
    raise PresetError(f"unknown preset {str(name)!r}; shipped presets: {', '.join(list_presets())}")


def load_preset(name: str | Path) -> Preset:
    """Load and validate a preset by name (``"pyvrp/fast"``) or by path to a TOML file."""
    path = _resolve(name)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PresetError(f"{path}: not valid TOML ({exc})") from None
    model = _validate(path, data)
    try:
        cls = solver_class(model.backend)
    except UnknownSolverError as exc:
        raise PresetError(f"{path}: key 'backend': {exc}") from None
    except ImportError as exc:
        raise PresetError(f"{path}: key 'backend': cannot import {model.backend!r} ({exc})") from None
    limit = model.time_limit
    settings = model.settings
    _check_settings(path, cls, settings)
    root = presets_dir()
    label = str(path.relative_to(root).with_suffix("")) if path.is_relative_to(root) else path.stem
    return Preset(name=label, backend=model.backend, time_limit=None if limit is None else float(limit),
                  settings=settings, description=model.description, path=path)


def _validate(path: Path, data: dict[str, Any]):
    """The file's keys checked by :class:`hybridroute.schema.PresetModel`; the first error
    as a PresetError naming the file and the key."""
    from pydantic import ValidationError

    from .schema import PresetModel  # pydantic, loaded only when a preset is read

    try:
        return PresetModel.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        key = ".".join(str(part) for part in err["loc"])
        if err["type"] == "extra_forbidden":
            raise PresetError(f"{path}: unknown key {key!r} (allowed: {', '.join(PresetModel.model_fields)})") from None
        if err["type"] == "missing":
            raise PresetError(f"{path}: missing key {key!r}") from None
        if key == "time_limit" and err["type"] == "greater_than":
            raise PresetError(f"{path}: key 'time_limit' must be positive seconds, got {err['input']}") from None
        raise PresetError(f"{path}: key {key!r} has the wrong type or value ({type(err['input']).__name__}: "
                          f"{err['msg']})") from None


def _check_settings(path: Path, cls: type[Solver], settings: dict[str, Any]) -> None:
    import inspect

    params = inspect.signature(cls.__init__).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
    for key in settings:
        if key not in params or key == "self":
            allowed = ", ".join(k for k in params if k != "self") or "none"
            raise PresetError(f"{path}: key 'settings.{key}' is not a setting of {cls.name!r} (allowed: {allowed})")
