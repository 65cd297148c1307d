# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""tools/analysis_tools/print_distill_modules.py: the dry run lists the
student's and the teacher's modules with their output shapes."""
import pytest
from mmengine.config import Config
from tiny_segmentors import deeplabv3plus, ocrnet, segformer

from tools.analysis_tools import print_distill_modules as TOOL


def write_config(tmp_path, student, teacher, **extra):
    """A distillation config of tiny stand-ins; ``teacher_ckpt`` does not
    exist (the dry run does not read it)."""
    model = dict(
        student,
        type='Distill' + student.type,
        teacher=teacher,
        teacher_ckpt=str(tmp_path / 'no_such_teacher.pth'),
        distill_losses=dict(loss_kd=dict(type='PixelKDLoss')))
    model['data_preprocessor']['size'] = (64, 96)
    path = tmp_path / 'distill.py'
    Config(dict(model=model, **extra)).dump(str(path))
    return str(path)


def test_segformer_teacher_deeplabv3plus_student(tmp_path, capsys):
    config = write_config(tmp_path, deeplabv3plus(), segformer())
    TOOL.main([config])
    out = capsys.readouterr().out
    assert 'random weights, no checkpoint loaded' in out
    assert 'one input of shape (1, 3, 64, 96)' in out
    student, teacher = out.split('\nteacher ')
    assert 'student (EncoderDecoder): logits (1, 5, 16, 24)' in student
    assert 'MixVisionTransformer' not in student
    rows = {line.split()[0]: line for line in student.splitlines()[2:]}
    assert rows['backbone.layer4'].split()[1:] == [
        'ResLayer', '(1,', '64,', '8,', '12)'
    ]
    assert rows['decode_head.conv_seg'].endswith('(1, 5, 16, 24)')
    assert rows['backbone'].endswith('(not a map)')  # a tuple of stages
    # a decode head's own forward is called directly: no hook, not listed
    assert 'decode_head' not in rows
    assert teacher.startswith('(EncoderDecoder): logits (1, 5, 16, 24)')
    rows = {line.split()[0]: line for line in teacher.splitlines()[2:]}
    assert rows['decode_head.fusion_conv'].endswith('(1, 16, 16, 24)')
    assert rows['decode_head.convs.3'].endswith('(1, 16, 2, 3)')
    # MiT's stages are ModuleLists (not run); their norms output tokens
    assert 'backbone.layers.3' not in rows
    assert rows['backbone.layers.3.2'].split()[1] == 'LayerNorm'
    assert rows['backbone.layers.3.2'].endswith('(1, 6, 64)  (not a map)')


def test_cascade_student_max_depth_and_size(tmp_path, capsys):
    config = write_config(tmp_path, ocrnet(), deeplabv3plus())
    TOOL.main([config, '--max-depth', '2', '--size', '32', '64'])
    out = capsys.readouterr().out
    assert 'one input of shape (1, 3, 32, 64)' in out
    assert 'student (CascadeEncoderDecoder): logits (1, 5, 4, 8)' in out
    student = out.split('\nteacher ')[0]
    rows = {line.split()[0]: line for line in student.splitlines()[3:]}
    # the stages' forwards are called directly, their modules hooked
    assert 'decode_head.1' not in rows
    assert rows['decode_head.0.conv_seg'].endswith('(1, 5, 4, 8)')
    assert rows['decode_head.1.bottleneck'].endswith('(1, 8, 4, 8)')
    assert rows['backbone.layer4'].endswith('(1, 64, 4, 8)')
    assert 'backbone.layer4.0' in rows
    assert 'backbone.layer4.0.conv1' not in rows  # three dots
    assert all(name.count('.') <= 2 for name in rows)


def test_not_a_distillation_config(tmp_path):
    path = tmp_path / 'plain.py'
    Config(dict(model=deeplabv3plus())).dump(str(path))
    with pytest.raises(SystemExit, match='not a distillation segmentor'):
        TOOL.main([str(path)])
    config = write_config(tmp_path, deeplabv3plus(), segformer())
    cfg = Config.fromfile(config)
    del cfg.model.data_preprocessor['size']
    cfg.dump(config)
    with pytest.raises(SystemExit, match='no crop size.*--size H W'):
        TOOL.main([config])
