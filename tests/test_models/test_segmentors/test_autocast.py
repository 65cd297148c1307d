# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""DistillEncoderDecoder under autocast (the path AMP takes on a GPU, here
on the CPU in bfloat16) and the bfloat16-teacher warning."""
import math
import warnings

import pytest
import torch
from test_distill_encoder_decoder import batch, distill_cfg

from mmseg.registry import MODELS
from mmseg_aicsd.engine.hooks import set_alw_alpha
from mmseg_aicsd.models.distillers import frozen_teacher

LOSSES = ('decode.loss_ce', 'aux.loss_ce', 'loss_icsd', 'loss_kd')


def test_whole_loss_under_cpu_autocast(teacher_ckpt):
    model = MODELS.build(distill_cfg(teacher_ckpt))
    model.train()
    set_alw_alpha(model, 0.5)
    inputs, samples = batch()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    full = model.loss(inputs, samples)
    model.load_state_dict(state)  # the BN running stats as before
    dtypes = []
    model.decode_head.conv_seg.register_forward_hook(
        lambda m, i, out: dtypes.append(out.dtype))
    with torch.autocast('cpu', dtype=torch.bfloat16):
        low = model.loss(inputs, samples)
    assert dtypes == [torch.bfloat16]  # the student's logits: low precision
    for key in LOSSES:
        assert low[key].dtype == torch.float32, key
        assert math.isfinite(low[key].item()), key
        # measured: at most 0.9% apart (KD), bfloat16's 8-bit mantissa
        assert low[key].item() == pytest.approx(
            full[key].item(),
            rel=0.03), (key, low[key].item(), full[key].item())
    assert full['loss_icsd'].item() > 0 and full['loss_kd'].item() > 0


@pytest.mark.parametrize('teacher_dtype, ran_in', [(None, torch.bfloat16),
                                                   ('float32', torch.float32)])
def test_teacher_precision_under_autocast(teacher_ckpt, teacher_dtype, ran_in):
    # None follows the student's autocast (what AmpOptimWrapper sets up);
    # 'float32' keeps the teacher in float32 inside it
    model = MODELS.build(
        distill_cfg(teacher_ckpt, teacher_dtype=teacher_dtype))
    model.train()
    runs = []
    model.teacher.decode_head.conv_seg.register_forward_hook(
        lambda m, i, out: runs.append(out.dtype))
    inputs, _ = batch()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        teacher_logits = model.distill_forward(inputs)[2]
    assert runs == [ran_in]
    assert teacher_logits.dtype == torch.float32
    if teacher_dtype == 'float32':
        with torch.no_grad():
            full = model.teacher(inputs, mode='tensor')
        torch.testing.assert_close(teacher_logits, full, rtol=0, atol=0)


@pytest.fixture
def native_bfloat16(monkeypatch):
    """Set what :func:`cpu_has_native_bfloat16` reports; the warning's
    once-per-process cache is cleared before and after."""

    def set_native(value):
        monkeypatch.setattr(frozen_teacher, 'cpu_has_native_bfloat16',
                            lambda: value)
        frozen_teacher.warn_slow_cpu_bfloat16.cache_clear()

    yield set_native
    frozen_teacher.warn_slow_cpu_bfloat16.cache_clear()


@pytest.mark.parametrize('native', [False, True])
def test_bfloat16_teacher_warns_once_without_native_bfloat16(
        teacher_ckpt, native_bfloat16, native):
    native_bfloat16(native)
    model = MODELS.build(distill_cfg(teacher_ckpt, teacher_dtype='bfloat16'))
    model.train()
    inputs, samples = batch()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        model.loss(inputs, samples)
        model.loss(inputs, samples)
    slow = [w for w in caught if 'without native bfloat16' in str(w.message)]
    assert len(slow) == (0 if native else 1)
    if slow:
        assert 'model.teacher_dtype=None' in str(slow[0].message)


def test_float32_teacher_never_warns(teacher_ckpt, native_bfloat16):
    native_bfloat16(False)
    model = MODELS.build(distill_cfg(teacher_ckpt))
    model.train()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        model.loss(*batch())
    assert not [w for w in caught if 'bfloat16' in str(w.message)]
