# Copyright (c) mmseg_aicsd contributors. All rights reserved.
import os
import os.path as osp

import pytest
from mmseg.utils import register_all_modules

import mmseg_aicsd  # noqa: F401  (registers the plugin's modules)

# build from the mmseg registries, as a runner with default_scope='mmseg'
register_all_modules(init_default_scope=True)

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
