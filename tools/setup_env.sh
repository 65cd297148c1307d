#!/usr/bin/env bash
# Install mmseg_aicsd and the OpenMMLab stack it runs on into the current Python.
#
# What is already installed and compatible is kept: an existing torch, or an mmcv
# 2.0.0rc4-2.1.x with compiled ops, is never replaced. On a fresh machine this
# installs torch 2.13.0 (CPU), builds mmcv 2.1.0 with its ops from source (about
# 19 minutes on 2 cores; pip caches the wheel, so later runs take seconds), then
# mmsegmentation 1.2.2, mmengine, ftfy, regex and the plugin with its test,
# benchmark and analysis extras (pytest, hypothesis, the linters flake8, isort
# and yapf, matplotlib, pandas,
# tabulate).
set -euo pipefail

PYTHON=${PYTHON:-python}
cd "$(dirname "${BASH_SOURCE[0]}")/.."
pip_install() { "$PYTHON" -m pip install --quiet "$@"; }

if ! "$PYTHON" -c 'import torch' 2>/dev/null; then
    echo '[setup_env] installing torch 2.13.0'
    pip_install 'torch==2.13.0'
fi

# mmseg 1.x needs mmcv's compiled ops (mmcv-lite fails at `import mmseg.models`).
mmcv_ok() {
    "$PYTHON" - <<'PY' 2>/dev/null
from packaging.version import Version
import mmcv
from mmcv.ops import nms  # noqa: F401  (fails without the compiled ops)
assert Version('2.0.0rc4') <= Version(mmcv.__version__) < Version('2.2.0')
PY
}
if ! mmcv_ok; then
    echo '[setup_env] building mmcv 2.1.0 with ops (about 19 min on 2 cores; pip caches the wheel)'
    # mmcv's setup.py imports pkg_resources (gone from setuptools >= 81); torch 2.13
    # needs setuptools >= 77. No build isolation: build against the torch above,
    # not a fresh CUDA torch pulled into an isolated build environment.
    pip_install 'setuptools>=77,<81' wheel ninja packaging
    MMCV_WITH_OPS=1 pip_install --no-build-isolation 'mmcv==2.1.0'
fi

echo '[setup_env] installing mmsegmentation, mmengine and mmseg_aicsd[tests,benchmarks,analysis]'
pip_install 'mmsegmentation==1.2.2' -e '.[tests,benchmarks,analysis]'
"$PYTHON" -c 'import mmseg_aicsd, mmseg.models; print("[setup_env] ok:", mmseg_aicsd.__version__)'
