"""Plots for comparisons (matplotlib, imported on first use; ``pip install "hybridroute[plot]"``).

All functions take an optional ``ax`` and return it, so they compose into figures; pass
``path=`` to write a PNG.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from .solution import Solution

__all__ = ["plot_anytime", "plot_gap_vs_budget", "plot_routes"]


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError('plotting needs matplotlib; run: pip install "hybridroute[plot]"') from None
    return plt


def _finish(ax, path: str | None):
    if path is not None:
        ax.figure.tight_layout()
        ax.figure.savefig(path, dpi=120)
    return ax


def _finish_log_time(ax, path: str | None, xlabel: str, ylabel: str, title: str):
    """Shared styling of the two time plots: log-time x axis, grid, legend."""
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return _finish(ax, path)


def plot_anytime(solutions: Mapping[str, Solution] | Sequence[Solution], *, ax=None, path: str | None = None,
                 title: str | None = None):
    """Best cost against time (log axis), one step line per solver.

    Parameters
    ----------
    solutions
        Solutions of one instance, as a sequence (labelled by ``solution.solver``) or a
        mapping label → Solution.
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    items = solutions.items() if isinstance(solutions, Mapping) else ((s.solver, s) for s in solutions)
    for label, sol in items:
        if not sol.history:
            continue
        t = np.array([max(h[0], 1e-3) for h in sol.history] + [max(sol.runtime, 1e-3)])
        c = np.array([h[1] for h in sol.history] + [sol.history[-1][1]])
        # a one-shot solver has a single point: draw it as a marker, not an invisible line
        ax.step(t, c, where="post", marker="o" if len(sol.history) == 1 else None, markevery=[0],
                label=f"{label} ({sol.cost:.6g})")
    return _finish_log_time(ax, path, "time (s)", "best cost", title or "Anytime curves")


def plot_gap_vs_budget(results: Any, *, ax=None, path: str | None = None, title: str | None = None):
    """Median gap (%) against time budget per solver, from :func:`hybridroute.compare` output."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    med = results.groupby(["solver", "budget_s"])["gap_pct"].median().reset_index()
    for solver, g in med.groupby("solver"):
        ax.plot(g["budget_s"], g["gap_pct"], marker="o", label=solver)
    return _finish_log_time(ax, path, "time budget (s)", "median gap to best (%)", title or "Gap vs budget")


def plot_routes(solution: Solution, *, ax=None, path: str | None = None, title: str | None = None):
    """Routes drawn on the instance's coordinates (lon on x, lat on y), one colour per route.

    Legs are straight segments between stops, not the road geometry. Each route runs from its
    vehicle type's start depot to its end depot; optional stops left out are hollow circles.
    """
    plt = _pyplot()
    problem = solution.problem
    if problem.coords is None:
        raise ValueError("plot_routes needs coords (lat, lon) on the problem")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 6))
    lat, lon = problem.coords[:, 0], problem.coords[:, 1]
    cmap = plt.get_cmap("tab20")
    nd = problem.num_depots
    types = solution.vehicle_types or (0,) * len(solution.routes)
    for r, (route, t) in enumerate(zip(solution.routes, types)):
        vt = problem.vehicle_types[t]
        path_nodes = [vt.start_depot, *route, vt.end]
        label = vt.name if vt.name and len(problem.vehicle_types) > 1 else None
        ax.plot(lon[path_nodes], lat[path_nodes], "-", lw=1.2, color=cmap(r % 20), alpha=0.9,
                label=f"route {r} ({label})" if label else None)
    served = np.setdiff1d(np.arange(nd, problem.num_nodes), solution.unserved)
    ax.scatter(lon[served], lat[served], s=12, c="k", zorder=3)
    if len(solution.unserved):
        left = list(solution.unserved)
        ax.scatter(lon[left], lat[left], s=24, facecolors="none", edgecolors="k", zorder=3, label="left out")
    ax.scatter(lon[:nd], lat[:nd], s=80, c="red", marker="s", zorder=4,
               label="depot" + ("s" if nd > 1 else "") if problem.kind.has_capacity else "start")
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_aspect(1 / np.cos(np.deg2rad(lat.mean())))
    ax.set_title(title or f"{problem.name or problem.kind.value}: {solution.solver}, cost {solution.cost:.6g}")
    ax.legend(fontsize=8, loc="best")
    return _finish(ax, path)
