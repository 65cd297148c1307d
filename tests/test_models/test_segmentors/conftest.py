# Copyright (c) mmseg_aicsd contributors. All rights reserved.
import pytest
import torch
from test_distill_encoder_decoder import segmentor_cfg

from mmseg.registry import MODELS


@pytest.fixture(scope='module')
def teacher_ckpt(tmp_path_factory):
    """A teacher checkpoint saved the way mmengine saves one."""
    torch.manual_seed(0)
    teacher = MODELS.build(segmentor_cfg(channels=32))
    path = tmp_path_factory.mktemp('teacher') / 'teacher.pth'
    torch.save(dict(meta=dict(iter=1), state_dict=teacher.state_dict()), path)
    return str(path)
