"""Stops DataFrame → Problem with matrices from an OSRM server (``Problem.from_osrm``)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from .client import DEFAULT_MAX_SNAP_M
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


def problem_from_osrm(stops, client, *, on_unreachable: str = "raise", max_snap_m: float | None = DEFAULT_MAX_SNAP_M,
                      on_snap: str = "raise", return_table: bool = False, progress: bool = False,
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
        unreachable pairs are left out of the Problem and logged. Depots are never dropped:
        stops they cannot reach (or be reached from) go instead.
    max_snap_m, on_snap
        Snap-distance check (metres; default 1000 m, None: no check) and what to do beyond it:
        ``"raise"`` (default; the error names the stop ids and snap distances), ``"flag"``
        (log) or ``"drop"``; see :meth:`OSRMClient.table`.
    return_table
        Also return the :class:`~hybridroute.osrm.client.TableResult` (snap distances,
        dropped rows — indices are row positions of ``stops``).
    progress
        tqdm bar over the table tiles.
    **kwargs
        Passed to :func:`hybridroute.frames.problem_from_dataframe` (``vehicles``, ``kind``,
        ``capacity``, ``num_vehicles``, ``objective``, ``name``, ``depot``, ``time_origin``).

    Returns
    -------
    Problem, or (Problem, TableResult) with ``return_table=True``.
    """
    from ..frames import (STOP_COLUMNS, _depot_rows, _infer_kind, _read_coords, _read_ids, _resolve_columns,
                          _warn_unknown_columns, problem_from_dataframe)
    from ..problem import ProblemValidationError

    import pandas as pd

    if not isinstance(stops, pd.DataFrame):
        raise TypeError(f"stops must be a pandas DataFrame, got {type(stops).__name__}")
    stops, unknown = _resolve_columns(stops)  # ``Lat``/``LON`` are read as lat/lon, as in from_dataframe
    kind = kwargs.get("kind")
    _warn_unknown_columns(unknown, STOP_COLUMNS, _infer_kind(stops) if kind is None else None)
    ids = _read_ids(stops)
    coords = _read_coords(stops, ids)
    if coords is None:
        raise ProblemValidationError("lat", "querying OSRM needs 'lat' and 'lon' columns (degrees)")
    depot_rows = _depot_rows(stops, ids, kwargs.get("depot"))
    osrm = _as_client(client)
    try:
        table = osrm.table(coords, on_unreachable=on_unreachable, max_snap_m=max_snap_m, on_snap=on_snap,
                           protect=depot_rows, progress=progress)
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
