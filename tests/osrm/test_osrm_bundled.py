"""The small real-city datasets shipped with the package."""

from __future__ import annotations

import numpy as np
import pytest

import hybridroute as hr
from hybridroute.osrm import bundled_cities, bundled_city, sample_instances


def test_bundled_cities_listed():
    assert {"Helsinki", "Monaco"} <= set(bundled_cities())


@pytest.mark.parametrize("name", ["Helsinki", "monaco"])
def test_bundled_city_is_complete_and_attributed(name):
    city = bundled_city(name)
    assert city.size == 200 and city.distance.shape == (200, 200)
    assert np.isfinite(city.distance).all() and (city.distance >= 0).all()
    assert (np.diag(city.duration) == 0).all()
    assert "OpenStreetMap" in city.meta["attribution"] and "ODbL" in city.meta["attribution"]
    assert city.meta["asymmetry"] > 0


def test_bundled_city_instances_for_all_kinds():
    for kind in ("ATSP", "ACVRP", "ACVRPTW"):
        (problem,) = sample_instances("Helsinki", kind, 50, 1, seed=2)
        assert problem.kind is hr.ProblemKind.parse(kind)


def test_unknown_bundled_city_lists_the_known_ones():
    with pytest.raises(ValueError, match="Helsinki"):
        bundled_city("Atlantis")
