# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""predict_with_logits (behind visualize_ics and compare_masks) records the
logits a segmentor's forward computes, a cascade's last stage included."""
import mmcv
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from tiny_segmentors import deeplabv3plus, ocrnet

from mmseg.registry import MODELS
from mmseg_aicsd.analysis import predict_with_logits

TEST_PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(96, 64), keep_ratio=False),
    dict(type='PackSegInputs')
]


@pytest.mark.parametrize('build', [deeplabv3plus, ocrnet])
def test_logits_are_the_forwards(build, tmp_path):
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(build()).eval()
    model.cfg = Config(dict(test_pipeline=TEST_PIPELINE))
    img = tmp_path / 'x.png'
    rng = np.random.default_rng(0)
    mmcv.imwrite(rng.integers(0, 256, (64, 96, 3), dtype=np.uint8), str(img))
    logits, result = predict_with_logits(model, str(img))
    # the network's own output on the same preprocessed image
    data = model.data_preprocessor(
        dict(
            inputs=[torch.from_numpy(mmcv.imread(str(img))).permute(2, 0, 1)]),
        False)
    with torch.no_grad():
        expected = model(data['inputs'], mode='tensor')
    assert logits.shape == expected.shape and logits.shape[1] == 5
    torch.testing.assert_close(logits, expected, rtol=1e-5, atol=1e-5)
    assert result.pred_sem_seg.data.shape == (1, 64, 96)
