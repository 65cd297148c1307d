#!/usr/bin/env bash
# Run a command on a GPU machine whose Python has torch with CUDA but no
# OpenMMLab stack and no package index: the wheels in $WHEELS (mmengine,
# mmsegmentation, mmcv-lite and their small dependencies, fetched elsewhere
# with `pip download`) go to /tmp/site, and mmcv.ops, which mmcv-lite cannot
# load, is replaced by mmcv_ops_stub.py. Usage, from the repository root:
#   WHEELS=.whl bash .dev_scripts/gpu_check/run.sh bash .dev_scripts/gpu_check/checks.sh
set -uo pipefail
HERE=$(dirname "${BASH_SOURCE[0]}")
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
    --upgrade --target /tmp/site "${WHEELS:-.whl}"/*.whl || exit 1
cp "$HERE/mmcv_ops_stub.py" /tmp/site/mmcv/ops/__init__.py
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
python3 -c 'import torch, numpy; print(torch.__version__, torch.version.cuda, numpy.__version__)'
python3 -c 'import mmseg_aicsd, mmseg.models; print("import ok")' || exit 1
"$@"
