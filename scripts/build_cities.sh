#!/usr/bin/env bash
# Rebuild the training/evaluation city matrices (RRNCO format) from the shared OSM extracts.
#
#   scripts/build_cities.sh [OUT_DIR] [POINTS]        (defaults: data/cities, 1000)
#
# Needs the OSRM executables (scripts/fetch_osrm.sh fetches them) and pyosmium.
# Helsinki is held out from training: splits.json lists it under "test".
# Data © OpenStreetMap contributors (ODbL).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/data/cities}"
POINTS="${2:-1000}"
OSM="${HYBRIDROUTE_SHARED:-$ROOT/../shared}/data/osm"
PY="${PYTHON:-python}"
export HYBRIDROUTE_OSRM_BIN="${HYBRIDROUTE_OSRM_BIN:-$("$ROOT/scripts/fetch_osrm.sh")}"

# Every extract in the shared folder trains, except Helsinki (held out for validation).
TEST=(Helsinki.osm.pbf)
TRAIN=()
for path in "$OSM"/*.osm.pbf "$OSM"/*.osm.gz; do
    name="$(basename "$path")"
    [ "$name" = "${TEST[0]}" ] || TRAIN+=("$name")
done
mkdir -p "$OUT"
for f in "${TRAIN[@]}" "${TEST[@]}"; do
    stem="${f%%.osm.*}"
    if compgen -G "$OUT/*_data.npz" >/dev/null && ls "$OUT" | grep -qi "^${stem}_data.npz$"; then
        continue  # built already (re-running resumes)
    fi
    "$PY" -m hybridroute.osrm.build "$OSM/$f" -o "$OUT" --points "$POINTS" --seed 0
done
"$PY" - "$OUT" <<'PYEOF'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
test = ["Helsinki"]
train = sorted(p.name[: -len("_data.npz")] for p in out.glob("*_data.npz") if p.name[: -len("_data.npz")] not in test)
(out / "splits.json").write_text(json.dumps({"train": train, "test": test,
    "attribution": "© OpenStreetMap contributors (ODbL)"}, indent=1) + "\n")
print(f"wrote {out / 'splits.json'}: train={train} test={test}")
PYEOF
