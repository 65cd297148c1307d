# Copyright (c) mmseg_aicsd contributors. All rights reserved.
import os

import pytest
import torch

import mmseg_aicsd  # noqa: F401  (registers the plugin's modules)
from mmseg.utils import register_all_modules

# build from the mmseg registries, as a runner with default_scope='mmseg'
register_all_modules(init_default_scope=True)

# Under pytest-xdist (`-n N`), N workers share the cores: each worker, and
# the tools/train.py subprocesses it starts, gets cores // N intra-op
# threads. N processes of torch's default (all cores) each would
# oversubscribe the CPU and run every test several times slower.
if os.environ.get('PYTEST_XDIST_WORKER_COUNT'):
    _cores = (len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity')
              else os.cpu_count())  # Linux: cores allowed
    _threads = str(
        max(1, _cores // int(os.environ['PYTEST_XDIST_WORKER_COUNT'])))
    for _var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
        os.environ[_var] = _threads
    torch.set_num_threads(int(_threads))

from run_utils import camvid_root  # noqa: F401,E402  (a fixture)
from run_utils import group_modules, mark_real_data_tests  # noqa: E402


# before pytest-xdist reads the groups
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    mark_real_data_tests(items)
    group_modules(items)
