"""Plots render to PNG files (matplotlib Agg)."""

import numpy as np
import pytest

import hybridroute as hr

pytest.importorskip("matplotlib")
from hybridroute.plotting import plot_anytime, plot_gap_vs_budget, plot_routes  # noqa: E402


def _problem():
    rng = np.random.default_rng(4)
    coords = np.c_[60.17 + rng.uniform(0, 0.02, 12), 24.94 + rng.uniform(0, 0.03, 12)]
    d = np.abs(coords[:, None] - coords[None]).sum(-1) * 1e5
    return hr.Problem("ACVRP", d, coords=coords, demand=np.r_[0, np.ones(11, int)], capacity=4, name="p")


def test_plots_write_png(tmp_path):
    p = _problem()
    sols = [hr.solve(p, "nearest"), hr.solve(p, "nearest", starts=5)]
    for i, sol in enumerate(sols):
        assert sol.history, "every feasible solve records at least its final point"
    plot_anytime({"a": sols[0], "b": sols[1]}, path=tmp_path / "anytime.png")
    plot_routes(sols[0], path=tmp_path / "routes.png")
    df = hr.compare([p], ["nearest"], time_limits=[0.5, 1], progress=False)
    plot_gap_vs_budget(df, path=tmp_path / "gap.png")
    for name in ("anytime.png", "routes.png", "gap.png"):
        data = (tmp_path / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000


def test_plot_routes_needs_coords():
    d = np.ones((3, 3)) - np.eye(3)
    with pytest.raises(ValueError, match="coords"):
        plot_routes(hr.solve(hr.Problem("ATSP", d), "nearest"))
