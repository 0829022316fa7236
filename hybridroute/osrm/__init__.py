"""Road-network matrices: OSRM client and local server, RRNCO-format city datasets."""

from .cities import City, InstanceBatch, bundled_cities, bundled_city, load_city, sample_batch, sample_instances, save_city

__all__ = ["City", "InstanceBatch", "bundled_cities", "bundled_city", "load_city", "sample_batch",
           "sample_instances", "save_city"]
