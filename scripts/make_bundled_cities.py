"""Make the small bundled cities (hybridroute/data/cities/) from built 1000-point cities.

    python scripts/make_bundled_cities.py [CITY_DIR] [POINTS]     (defaults: data/cities, 200)

Takes the first POINTS points of each built city (its points are in random sampling order, so
this is a uniform subset) and slices the matrices. Data © OpenStreetMap contributors (ODbL).
"""

from __future__ import annotations

import sys
from pathlib import Path

from hybridroute.osrm.build import matrix_stats, write_city
from hybridroute.osrm.cities import City, load_city

BUNDLED = ("Helsinki", "Monaco")
ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    src = Path(argv[0]) if argv else ROOT / "data" / "cities"
    k = int(argv[1]) if len(argv) > 1 else 200
    dest = ROOT / "hybridroute" / "data" / "cities"
    for name in BUNDLED:
        city = load_city(src / f"{name}_data.npz")
        meta = {key: v for key, v in city.meta.items() if key not in ("name", "n_requested", "short")}
        meta.update(n_points=k, subset_of=f"{name}_data.npz ({city.size} points, first {k})")
        dist, dur = city.distance[:k, :k], city.duration[:k, :k]
        meta.update(matrix_stats(dist, dur))  # the subset's own statistics, not the parent's
        small = City(name, city.points[:k], dist, dur, meta)
        print(write_city(small, dest))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
