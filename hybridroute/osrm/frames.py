"""Stops DataFrame → Problem with matrices from an OSRM server (``Problem.from_osrm``)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from .errors import OSRMSnapError, OSRMUnreachableError

__all__ = ["problem_from_osrm"]

logger = logging.getLogger(__name__)


def _as_client(client):
    from .client import OSRMClient
    from .server import LocalOSRM

    if isinstance(client, OSRMClient):
        return client
    if isinstance(client, LocalOSRM):
        return client.client()
    if isinstance(client, str):
        return OSRMClient(client)
    raise TypeError(f"client must be an OSRMClient, a LocalOSRM or a server URL, got {type(client).__name__}")


def problem_from_osrm(stops, client, *, on_unreachable: str = "raise", max_snap_m: float | None = None,
                      on_snap: str = "flag", return_table: bool = False, progress: bool = False,
                      **kwargs: Any):
    """Build a Problem from a stops DataFrame, querying distance and duration from OSRM.

    Parameters
    ----------
    stops
        Stops frame (contract in :mod:`hybridroute.frames`) with ``lat`` and ``lon`` columns.
    client
        An :class:`~hybridroute.osrm.client.OSRMClient`, a running
        :class:`~hybridroute.osrm.server.LocalOSRM`, or a server URL.
    on_unreachable
        ``"raise"`` (default; the error names the stop ids) or ``"drop"``: stops with
        unreachable pairs are left out of the Problem and logged. The depot is never dropped:
        stops it cannot reach (or be reached from) go instead.
    max_snap_m, on_snap
        Snap-distance check (metres) and what to do beyond it: ``"flag"`` (log), ``"drop"``
        or ``"raise"``; see :meth:`OSRMClient.table`.
    return_table
        Also return the :class:`~hybridroute.osrm.client.TableResult` (snap distances,
        dropped rows — indices are row positions of ``stops``).
    progress
        tqdm bar over the table tiles.
    **kwargs
        Passed to :func:`hybridroute.frames.problem_from_dataframe` (``kind``, ``capacity``,
        ``num_vehicles``, ``objective``, ``name``, ``depot``).

    Returns
    -------
    Problem, or (Problem, TableResult) with ``return_table=True``.
    """
    from ..frames import _depot_row, _read_coords, _read_ids, problem_from_dataframe
    from ..problem import ProblemValidationError

    ids = _read_ids(stops)
    coords = _read_coords(stops, ids)
    if coords is None:
        raise ProblemValidationError("lat", "querying OSRM needs 'lat' and 'lon' columns (degrees)")
    depot_row = _depot_row(stops, ids, kwargs.get("depot"))
    osrm = _as_client(client)
    try:
        table = osrm.table(coords, on_unreachable=on_unreachable, max_snap_m=max_snap_m, on_snap=on_snap,
                           protect=[depot_row], progress=progress)
    except OSRMUnreachableError as exc:
        # re-raise with the caller's stop ids instead of row positions
        raise OSRMUnreachableError(exc.pairs, len(ids), labels=_plain(ids)) from None
    except OSRMSnapError as exc:
        raise OSRMSnapError(exc.indices, exc.snap_m, exc.max_snap_m, labels=_plain(ids)) from None
    if len(table.dropped):
        logger.warning("dropped %d stops: %s", len(table.dropped), ", ".join(
            f"{ids[i]!r} ({table.dropped_reason[int(i)]})" for i in table.dropped[:10]))
        stops = stops.iloc[table.kept]
    problem = problem_from_dataframe(stops, distance=table.distance, duration=table.duration, **kwargs)
    return (problem, table) if return_table else problem


def _plain(ids: np.ndarray) -> list:
    return ids.tolist()
