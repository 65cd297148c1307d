# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Errors of a new user's distillation config that name the file or the
setting, what is wrong and what to do; the files given are left as they
were."""
import re

import pytest
import torch
from test_distill_encoder_decoder import batch, distill_cfg, segmentor_cfg

from mmseg.registry import MODELS


def test_teacher_ckpt_is_a_directory(tmp_path, teacher_ckpt):
    work_dir = tmp_path / 'teacher_run'
    work_dir.mkdir()
    (work_dir / 'iter_2.pth').write_bytes(open(teacher_ckpt, 'rb').read())
    before = (work_dir / 'iter_2.pth').read_bytes()
    with pytest.raises(
            IsADirectoryError,
            match=re.escape(
                f"teacher_ckpt '{work_dir}' is a directory; set "
                'model.teacher_ckpt to a checkpoint file in it, e.g. '
                f"'{work_dir / 'iter_2.pth'}' (its newest).")):
        MODELS.build(distill_cfg(str(work_dir)))
    assert (work_dir / 'iter_2.pth').read_bytes() == before


@pytest.mark.parametrize('content', ['truncated', 'text', 'list'])
def test_teacher_ckpt_not_a_checkpoint(tmp_path, teacher_ckpt, content):
    path = tmp_path / 'teacher.pth'
    if content == 'truncated':  # a write killed halfway
        data = open(teacher_ckpt, 'rb').read()
        path.write_bytes(data[:len(data) // 2])
    elif content == 'text':
        path.write_text('model = dict(type="EncoderDecoder")\n')
    else:
        torch.save([1, 2], path)
    before = path.read_bytes()
    if content == 'list':
        match = (f"teacher_ckpt '{path}' holds a list, not a checkpoint "
                 r'\(a dict with a state_dict, or a state dict\)\. Set '
                 'model.teacher_ckpt')
    else:
        match = (f"(?s)^teacher_ckpt '{path}' cannot be read as a checkpoint "
                 r'\(\w+: .*\)\. Is it truncated \(a run killed while '
                 r'writing it: take the one before\), or not a \.pth file\? '
                 'Set model.teacher_ckpt to a complete checkpoint')
    with pytest.raises(RuntimeError, match=match):
        MODELS.build(distill_cfg(str(path)))
    assert path.read_bytes() == before


def test_teacher_of_another_architecture_summarised(tmp_path):
    path = tmp_path / 'student.pth'
    torch.save(MODELS.build(segmentor_cfg()).state_dict(), path)
    with pytest.raises(RuntimeError) as info:
        MODELS.build(distill_cfg(str(path)))
    message = str(info.value)
    # the channels-16 head in a channels-32 teacher: one summary line,
    # three examples, not one line per weight
    n = int(
        re.search(r'size mismatch in (\d+) of its \d+ weights',
                  message).group(1))
    assert n > 3
    assert message.count(' in the checkpoint, ') == 3
    assert '\n' not in message
    assert message.startswith(f"teacher_ckpt '{path}' does not fit the "
                              'teacher config: size mismatch in ')
    assert message.endswith('Is it a checkpoint of the teacher architecture?')
    assert 'decode_head.' in message


def test_loss_weight_not_a_number(teacher_ckpt):
    cfg = distill_cfg(
        teacher_ckpt,
        distill_losses=dict(
            loss_kd=dict(type='PixelKDLoss', loss_weight='one')))
    with pytest.raises(
            TypeError,
            match=re.escape(
                "distill_losses['loss_kd'].loss_weight must be a number, "
                "got 'one' (str); e.g. loss_weight=1.0")):
        MODELS.build(cfg)


def test_label_beyond_the_class_count(teacher_ckpt):
    model = MODELS.build(distill_cfg(teacher_ckpt))
    inputs, samples = batch()
    samples[1].gt_sem_seg.data[0, 3, 3] = 20
    samples[1].gt_sem_seg.data[0, 0, :] = 255  # ignored: fine
    samples[1].set_metainfo(dict(seg_map_path='data/trainannot/0001.png'))
    with pytest.raises(
            ValueError,
            match=re.escape(
                "label value 20 in 'data/trainannot/0001.png' is neither one "
                'of the 5 classes (0-4) nor ignore_index 255: the label maps '
                'are of another label set.')):
        model.loss(inputs, samples)
    samples[1].gt_sem_seg.data[0, 3, 3] = 4
    assert torch.isfinite(model.loss(inputs, samples)['loss_kd'])
