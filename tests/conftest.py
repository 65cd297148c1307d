# Copyright (c) mmseg_aicsd contributors. All rights reserved.
import os
import os.path as osp

import pytest
import torch
from mmseg.utils import register_all_modules

import mmseg_aicsd  # noqa: F401  (registers the plugin's modules)

# build from the mmseg registries, as a runner with default_scope='mmseg'
register_all_modules(init_default_scope=True)

# Under pytest-xdist (`-n N`), N workers share the cores: each worker, and
# the tools/train.py subprocesses it starts, gets cores // N intra-op
# threads. N processes of torch's default (all cores) each would
# oversubscribe the CPU and run every test several times slower.
if os.environ.get('PYTEST_XDIST_WORKER_COUNT'):
    _cores = (len(os.sched_getaffinity(0)) if hasattr(
        os, 'sched_getaffinity') else os.cpu_count())  # Linux: cores allowed
    _threads = str(max(
        1, _cores // int(os.environ['PYTEST_XDIST_WORKER_COUNT'])))
    for _var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
        os.environ[_var] = _threads
    torch.set_num_threads(int(_threads))

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
# Real CamVid: $CAMVID_ROOT, else ../shared/data/camvid beside the repo.
CAMVID_ROOT = os.environ.get(
    'CAMVID_ROOT', osp.join(REPO_ROOT, '..', 'shared', 'data', 'camvid'))


@pytest.fixture(scope='session')
def camvid_root():
    """Path of the real CamVid data (SegNet layout); skips if absent."""
    if not osp.isdir(osp.join(CAMVID_ROOT, 'trainannot')):
        pytest.skip(f'CamVid not found at {CAMVID_ROOT} (set CAMVID_ROOT)')
    return CAMVID_ROOT


def pytest_collection_modifyitems(items):
    """Mark ``real_data`` every test that uses the real CamVid images."""
    for item in items:
        if 'camvid_root' in getattr(item, 'fixturenames', ()):
            item.add_marker(pytest.mark.real_data)
