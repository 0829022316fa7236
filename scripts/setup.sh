#!/usr/bin/env bash
# Create ./.venv (Python 3.11) and install hybridroute with every backend.
#   scripts/setup.sh         library + all backends (torch pinned to the local CPU wheel)
#   scripts/setup.sh --dev   the same plus test tools and a real OSRM (for the OSRM tests)
# Idempotent: re-running only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip
# torch==2.13.0 is the CPU wheel on these machines; an unpinned torch pulls a multi-GB CUDA build.
extras="all"
[ "${1:-}" = "--dev" ] && extras="dev"
python -m pip install -q "torch==2.13.0" -e ".[${extras}]"
if [ "${1:-}" = "--dev" ] && [ -x scripts/fetch_osrm.sh ]; then
  scripts/fetch_osrm.sh >/dev/null
fi
echo "hybridroute is installed in $(pwd)/.venv ($(python -c 'import hybridroute; print(hybridroute.__version__)'))" >&2
