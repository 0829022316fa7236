"""Road-network matrices: OSRM client and local server, RRNCO-format city datasets.

The client, server and builder load on first attribute access, so ``hybridroute.osrm.cities``
(used by training) does not import ``requests``.
"""

from importlib import import_module

from .cities import City, InstanceBatch, bundled_cities, bundled_city, load_city, sample_batch, sample_instances, save_city
from .errors import (OSMExtractError, OSRMConnectionError, OSRMError, OSRMInvalidTableError, OSRMNotFoundError,
                     OSRMResponseError, OSRMSnapError, OSRMTimeoutError, OSRMUnreachableError)

_LAZY = {"OSRMClient": "client", "TableResult": "client", "LocalOSRM": "server", "find_osrm_bin": "server",
         "build_city": "build", "problem_from_osrm": "frames"}

__all__ = ["City", "InstanceBatch", "bundled_cities", "bundled_city", "load_city", "sample_batch",
           "sample_instances", "save_city", "OSRMError", "OSRMNotFoundError", "OSRMConnectionError",
           "OSRMTimeoutError", "OSRMResponseError", "OSRMInvalidTableError", "OSRMUnreachableError", "OSRMSnapError",
           "OSMExtractError", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
