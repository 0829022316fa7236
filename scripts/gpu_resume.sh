#!/usr/bin/env bash
# Continue a committed imitation run on a lent GPU machine for a few minutes and bring its
# resume state back. Prepare here, then run through the device tool:
#
#   python -m hybridroute.neural.imitation pack --config atsp-imit     # data/pack, ~40 MB
#   device run, carry ["data/pack"]:  scripts/gpu_resume.sh atsp-imit 8
#   then copy the returned state.pt, log.jsonl (and average.pt, where the config averages) into
#   models/training/<config>/ and commit.
#
# A POMO REINFORCE run (python -m hybridroute.neural.train) goes the same way with TRAINER=pomo:
# the pack of the imitation config of the same kind holds its cities, and the run's committed
# validation.json its references (a bare GPU machine has no PyVRP to compute them), e.g.
#
#   python -m hybridroute.neural.imitation pack --config acvrptw-imit
#   device run, carry ["data/pack"]:  TRAINER=pomo scripts/gpu_resume.sh acvrptw-rl50-l6 8
#
# An ACVRPTW pack (distances and durations) is about 74 MB, above the 64 MiB a device call
# carries: split it in two folders and carry one per call (what a call carries stays on the
# warm machine), the first call doing nothing, the second running this script, which merges
# data/pack_a and data/pack_b into data/pack:
#
#   mkdir data/pack_a data/pack_b && ls data/pack/*_data.npz | head -12 | xargs mv -t data/pack_a \
#       && mv data/pack/* data/pack_b/ && rmdir data/pack
#   device run, carry ["data/pack_a"]: true
#   device run, carry ["data/pack_b"]: TRAINER=pomo scripts/gpu_resume.sh acvrptw-rl50-l6 8
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
if [ ! -d data/pack ] && [ -d data/pack_a ] && [ -d data/pack_b ]; then
    mkdir -p data/pack && cp -l data/pack_a/* data/pack_b/* data/pack/  # a pack carried in two halves
fi
if [ "$device" = cuda ]; then
    "$python" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.cuda.get_device_name())"
fi
if [ "${TRAINER:-imitation}" = pomo ]; then
    test -f "models/training/$cfg/validation.json" || { echo "models/training/$cfg/validation.json missing: commit the run's references first" >&2; exit 2; }
    "$python" -m hybridroute.neural.train --config "$cfg" --run-root models/training --max-minutes "$minutes" \
        --cities-dir data/pack --device "$device" --threads "${THREADS:-8}" 2>&1 | tee "${OUT:-/tmp}/train.log"
else
    "$python" -m hybridroute.neural.imitation train --config "$cfg" --max-minutes "$minutes" \
        --cities-dir data/pack --device "$device" --threads "${THREADS:-8}" 2>&1 | tee "${OUT:-/tmp}/train.log"
fi
cp "models/training/$cfg/state.pt" "models/training/$cfg/log.jsonl" "${OUT:-/tmp}/"
if [ -f "models/training/$cfg/average.pt" ]; then cp "models/training/$cfg/average.pt" "${OUT:-/tmp}/"; fi
