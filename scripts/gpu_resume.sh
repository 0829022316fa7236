#!/usr/bin/env bash
# Continue a committed imitation run on a lent GPU machine for a few minutes and bring its
# resume state back. Prepare here, then run through the device tool:
#
#   python -m hybridroute.neural.imitation pack --config atsp-imit     # data/pack, ~40 MB
#   device run, carry ["data/pack"]:  scripts/gpu_resume.sh atsp-imit 8
#   then copy the returned state.pt, log.jsonl (and average.pt, where the config averages) into
#   models/training/<config>/ and commit.
#
# The GPU machine is bare: it has Python and torch with CUDA; the project runs from the
# working tree (PYTHONPATH), and the pure-Python dependencies it lacks travel as wheels in
# .whl/ (see the device tool's notes) when present. DEVICE=cpu rehearses the same steps on a
# machine without a GPU (e.g. `DEVICE=cpu OUT=/tmp/rehearsal scripts/gpu_resume.sh atsp-imit 1`
# in a scratch clone).
set -euo pipefail
cfg="${1:-atsp-imit}"
minutes="${2:-8}"
device="${DEVICE:-cuda}"
python="${PYTHON:-python3}"
cd "$(dirname "$0")/.."
if [ -d .whl ]; then
    "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
    export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
if [ "$device" = cuda ]; then
    "$python" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.cuda.get_device_name())"
fi
"$python" -m hybridroute.neural.imitation train --config "$cfg" --max-minutes "$minutes" \
    --cities-dir data/pack --device "$device" --threads "${THREADS:-8}" 2>&1 | tee "${OUT:-/tmp}/train.log"
cp "models/training/$cfg/state.pt" "models/training/$cfg/log.jsonl" "${OUT:-/tmp}/"
if [ -f "models/training/$cfg/average.pt" ]; then cp "models/training/$cfg/average.pt" "${OUT:-/tmp}/"; fi
