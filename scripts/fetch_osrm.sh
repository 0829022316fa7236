#!/usr/bin/env bash
# Fetch the real OSRM executables (osrm-extract/partition/customize/routed, v26.10) into
# ./.osrm/ at the repository root and print the folder that holds them.
#
# They ship inside the PyPI wheel osrm-bindings==26.10.0 (cp312-abi3, manylinux_2_28_x86_64),
# which cannot be pip-installed on Python 3.11, so this script downloads the wheel for
# Python 3.12 and unzips it. The executables are statically linked against everything but glibc/libstdc++,
# so no LD_LIBRARY_PATH is needed. Idempotent: a second run only prints the path.
#
# Usage:  scripts/fetch_osrm.sh            # prints e.g. /repo/.osrm/osrm/bin
#         export HYBRIDROUTE_OSRM_BIN="$(scripts/fetch_osrm.sh)"
set -euo pipefail

VERSION="${OSRM_BINDINGS_VERSION:-26.10.0}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${HYBRIDROUTE_OSRM_HOME:-$ROOT/.osrm}"
BIN="$DEST/osrm/bin"
PY="${PYTHON:-python3}"

if [[ -x "$BIN/osrm-routed" ]] && "$BIN/osrm-routed" --version 2>/dev/null | grep -q "v${VERSION}"; then
    echo "$BIN"
    exit 0
fi

mkdir -p "$DEST/wheel"
"$PY" -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
    --platform manylinux_2_28_x86_64 "osrm-bindings==${VERSION}" -d "$DEST/wheel" >&2
WHEEL="$(ls "$DEST"/wheel/osrm_bindings-"${VERSION}"-*.whl | head -n 1)"
rm -rf "$DEST/osrm"
# zipfile (stdlib) rather than unzip, which CI images may lack
"$PY" - "$WHEEL" "$DEST" <<'PYEOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    z.extractall(sys.argv[2], [m for m in z.namelist() if m.startswith("osrm/bin/") or m.startswith("osrm/share/")])
PYEOF
chmod +x "$BIN"/osrm-*
"$BIN/osrm-routed" --version >&2
echo "$BIN"
