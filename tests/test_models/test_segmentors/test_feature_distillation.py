# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Feature distillation in DistillEncoderDecoder: named-module capture,
connectors, labels handed to losses, teacher precision."""
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import ConfigDict
from run_utils import run
from test_distill_encoder_decoder import (NUM_CLASSES, batch, distill_cfg,
                                          segmentor_cfg)

from mmseg.registry import MODELS
from mmseg_aicsd.models.utils import ModuleOutputRecorder, resize_labels

FEATURE = 'decode_head.sep_bottleneck'  # student 16, teacher 32 channels


@MODELS.register_module()
class SpyLoss(nn.Module):
    """Records what it is called with; loss = mean of the student map."""

    def __init__(self, loss_name='loss_spy', loss_weight=1.0):
        super().__init__()
        self.loss_name = loss_name
        self.calls = []

    def forward(self, student, teacher):
        self.calls.append((student, teacher))
        return student.float().mean()


@MODELS.register_module()
class LabelSpyLoss(SpyLoss):
    """A SpyLoss that asks for labels."""

    def forward(self, student, teacher, labels):
        self.calls.append((student, teacher, labels))
        return student.float().mean()


def losses_cfg(teacher_ckpt, **distill_losses):
    """distill_cfg with these distillation losses only."""
    cfg = distill_cfg(teacher_ckpt, alw_kd_losses=())
    cfg.distill_losses = ConfigDict(distill_losses)
    return cfg


def feature_model(teacher_ckpt, **entry):
    return MODELS.build(
        losses_cfg(teacher_ckpt, loss_spy=dict(type='SpyLoss', **entry)))


def count_calls(module):
    calls = []
    module.register_forward_hook(lambda *args: calls.append(1))
    return calls


def test_named_features_are_the_modules_outputs(teacher_ckpt):
    model = feature_model(
        teacher_ckpt,
        student_feature='backbone.layer4',
        teacher_feature='backbone.layer3')
    model.train()
    student_runs, teacher_runs = (count_calls(model.backbone),
                                  count_calls(model.teacher.backbone))
    inputs, samples = batch()
    model.loss(inputs, samples)
    # one student and one teacher forward, nothing run twice
    assert len(student_runs) == 1 and len(teacher_runs) == 1
    (student, teacher), = model.distill_losses['loss_spy'].calls
    assert student.requires_grad and not teacher.requires_grad
    # independently: the backbones' stage outputs on the same batch
    model.eval()  # same BN statistics as the teacher's; dropout is 0
    with torch.no_grad():
        expected_t = model.teacher.extract_feat(inputs)[2]
    torch.testing.assert_close(teacher, expected_t, rtol=0, atol=0)
    model.train()
    expected_s = model.extract_feat(inputs)[3]  # train-mode BN as above
    torch.testing.assert_close(student, expected_s)
    assert student.shape[1] == 512 and teacher.shape[1] == 256


def test_teacher_feature_defaults_to_the_student_name(teacher_ckpt):
    model = feature_model(teacher_ckpt, student_feature=FEATURE)
    model.train()
    model.loss(*batch())
    (student, teacher), = model.distill_losses['loss_spy'].calls
    assert student.shape[1] == 16 and teacher.shape[1] == 32


def test_logits_are_the_default(teacher_ckpt):
    model = feature_model(teacher_ckpt)
    model.train()
    inputs, samples = batch()
    model.loss(inputs, samples)
    (student, teacher), = model.distill_losses['loss_spy'].calls
    with torch.no_grad():
        torch.testing.assert_close(
            teacher, model.teacher(inputs, mode='tensor'), rtol=0, atol=0)
    assert student.shape == teacher.shape == (2, NUM_CLASSES, 16, 16)


def test_nothing_is_recorded_outside_training(teacher_ckpt):
    model = feature_model(teacher_ckpt, student_feature=FEATURE)
    model.eval()
    inputs, _ = batch()
    with torch.no_grad():
        model(inputs, mode='tensor')
        model.teacher(inputs, mode='tensor')
    assert model.distill_loss_set.student_recorder.outputs == {}
    assert model.distill_loss_set.teacher_recorder.outputs == {}


def test_unknown_module_lists_close_names(teacher_ckpt):
    with pytest.raises(KeyError) as err:
        feature_model(teacher_ckpt, student_feature='backbone.layer5')
    assert "the student has no module named 'backbone.layer5'" in \
        err.value.args[0]
    assert "'backbone.layer4'" in err.value.args[0]
    with pytest.raises(
            KeyError,
            match="the teacher has no module named "
            "'decode_head.bottleneck2'.*'decode_head.bottleneck'"):
        feature_model(
            teacher_ckpt,
            student_feature=FEATURE,
            teacher_feature='decode_head.bottleneck2')
    # the teacher inside the segmentor is not a student module
    with pytest.raises(
            KeyError,
            match="student has no module named "
            "'teacher.backbone.layer4'"):
        feature_model(teacher_ckpt, student_feature='teacher.backbone.layer4')


def test_module_that_did_not_run(teacher_ckpt):
    # the teacher runs in 'tensor' mode: its auxiliary head does not run
    model = feature_model(
        teacher_ckpt,
        student_feature=FEATURE,
        teacher_feature='auxiliary_head.conv_seg')
    model.train()
    with pytest.raises(
            RuntimeError,
            match="the teacher module "
            "'auxiliary_head.conv_seg' did not run"):
        model.loss(*batch())


def test_module_with_a_tuple_output(teacher_ckpt):
    model = feature_model(
        teacher_ckpt,
        student_feature='backbone',
        teacher_feature='backbone.layer4')
    model.train()
    with pytest.raises(
            TypeError,
            match="the student module 'backbone' "
            'outputs a tuple, not a tensor'):
        model.loss(*batch())


def connector_model(teacher_ckpt, connector=None, **loss):
    return MODELS.build(
        losses_cfg(
            teacher_ckpt,
            loss_feat=dict(
                type='PixelKDLoss',
                student_feature=FEATURE,
                connector=connector or dict(type='ConvBNConnector'),
                **loss)))


def test_connector_channels_are_read_from_the_models(teacher_ckpt):
    model = connector_model(teacher_ckpt)
    connector = model.distill_connectors['loss_feat']
    assert (connector.in_channels, connector.out_channels) == (16, 32)
    assert connector.conv.conv.weight.shape == (32, 16, 1, 1)
    assert model.training  # the probe forward left the mode as it was
    # explicit channels are kept and need no probe
    model = connector_model(
        teacher_ckpt,
        dict(
            type='ConvBNConnector',
            in_channels=16,
            out_channels=32,
            act_cfg=dict(type='ReLU')))
    assert isinstance(model.distill_connectors['loss_feat'].conv.activate,
                      nn.ReLU)


def test_connector_output_is_what_the_loss_gets(teacher_ckpt):
    model = connector_model(teacher_ckpt)
    model.train()
    inputs, samples = batch()
    losses = model.loss(inputs, samples)
    # independently: the recorded student feature through the connector
    student = model.distill_loss_set.student_recorder.get(FEATURE)
    teacher = model.distill_loss_set.teacher_recorder.get(FEATURE)
    mapped = model.distill_connectors['loss_feat'](student)
    assert mapped.shape == teacher.shape == (2, 32, 16, 16)
    expected = (
        F.softmax(teacher, 1) *
        (F.log_softmax(teacher, 1) - F.log_softmax(mapped, 1))).sum(1).mean()
    torch.testing.assert_close(losses['loss_feat'], expected)
    losses['loss_feat'].backward()
    connector = model.distill_connectors['loss_feat']
    assert connector.conv.conv.weight.grad.abs().sum() > 0
    assert model.decode_head.sep_bottleneck[0].depthwise_conv.conv.weight \
        .grad is not None
    assert all(p.grad is None for p in model.teacher.parameters())


def test_connector_that_cannot_map_the_shapes(teacher_ckpt):
    model = connector_model(
        teacher_ckpt,
        dict(type='ConvBNConnector', in_channels=8, out_channels=32))
    model.train()
    with pytest.raises(
            ValueError,
            match=r"distill_losses\['loss_feat'\]: "
            'the connector cannot map the student map '
            "'decode_head.sep_bottleneck' of shape "
            r'\(2, 16, 16, 16\)'):
        model.loss(*batch())
    with pytest.raises(
            KeyError, match=r"distill_losses\['loss_feat'\] "
            'connector'):
        connector_model(teacher_ckpt, dict(type='NoSuchConnector'))


def test_connectors_are_saved_restored_and_stripped(teacher_ckpt, tmp_path):
    model = connector_model(teacher_ckpt)
    model.train()
    losses = model.loss(*batch())
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    with torch.no_grad():
        for p in model.distill_connectors.parameters():
            p.add_(torch.randn_like(p))
    state = model.state_dict()
    keys = [k for k in state if k.startswith('distill_connectors.')]
    assert 'distill_connectors.loss_feat.conv.conv.weight' in keys
    assert 'distill_connectors.loss_feat.conv.bn.running_mean' in keys
    assert not any(k.startswith('teacher.') for k in state)

    # a resumed model gets the connectors back exactly
    other = connector_model(teacher_ckpt)
    result = other.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    for key in keys:
        assert torch.equal(other.state_dict()[key], state[key]), key

    # the converter writes the student alone: the stock student loads it
    src, dst = tmp_path / 'iter_2.pth', tmp_path / 'student.pth'
    torch.save(dict(meta=dict(iter=2), state_dict=state, optimizer={}), src)
    out = run('tools/model_converters/distill_to_student.py', str(src),
              str(dst)).stdout
    assert f'dropped {len(keys)} connector/teacher keys' in out
    saved = torch.load(dst)
    assert saved['meta'] == dict(
        iter=2) and set(saved) == {'meta', 'state_dict'}
    student = MODELS.build(segmentor_cfg())
    student.load_state_dict(saved['state_dict'], strict=True)
    for key, value in student.state_dict().items():
        assert torch.equal(value, state[key]), key


def test_labels_at_the_teacher_map_size(teacher_ckpt):
    model = MODELS.build(
        losses_cfg(
            teacher_ckpt,
            loss_spy=dict(type='LabelSpyLoss', student_feature=FEATURE),
            loss_logits=dict(type='LabelSpyLoss')))
    model.train()
    inputs, samples = batch(size=(64, 64))
    samples[0].gt_sem_seg.data[:, :8] = 255  # a void band
    model.loss(inputs, samples)
    (_, teacher, labels), = model.distill_losses['loss_spy'].calls
    assert labels.shape == (2, 16, 16) and labels.dtype == torch.int64
    # nearest neighbour by hand: output pixel i reads input pixel 4 * i
    gt = torch.stack([s.gt_sem_seg.data[0] for s in samples])
    torch.testing.assert_close(labels, gt[:, ::4, ::4], rtol=0, atol=0)
    assert (labels[0, :2] == 255).all() and (labels[0, 2:] != 255).all()
    # resize_labels on another size and on the same size
    assert torch.equal(resize_labels(samples, (64, 64)), gt)
    assert torch.equal(resize_labels(samples, (32, 16)), gt[:, ::2, ::4])


def test_recorder_keeps_the_last_call():
    layer = nn.Linear(2, 2)
    model = nn.Sequential()
    model.add_module('layer', layer)
    recorder = ModuleOutputRecorder(model, ['layer'])
    x, y = torch.ones(1, 2), torch.zeros(1, 2)
    with recorder.recording():
        layer(x)
        out = layer(y)
    assert torch.equal(recorder.get('layer'), out)
    with recorder.recording():
        pass
    with pytest.raises(RuntimeError, match="'layer' did not run"):
        recorder.get('layer')


@pytest.mark.parametrize('dtype', ['bfloat16', 'float16'])
def test_teacher_precision(teacher_ckpt, dtype):
    model = MODELS.build(distill_cfg(teacher_ckpt, teacher_dtype=dtype))
    model.train()
    inputs, samples = batch()
    runs = []
    model.teacher.decode_head.conv_seg.register_forward_hook(
        lambda m, i, out: runs.append(out.dtype))
    losses = model.loss(inputs, samples)
    assert runs == [getattr(torch, dtype)]  # the teacher ran under autocast
    assert all(p.dtype == torch.float32 for p in model.teacher.parameters())
    assert losses['loss_kd'].dtype == torch.float32
    with torch.no_grad():
        full = model.teacher(inputs, mode='tensor')
        low = model.distill_forward(inputs)[2]
    assert low.dtype == torch.float32
    # low precision moves the logits by about its rounding, not more
    torch.testing.assert_close(low, full, rtol=0.05, atol=0.05)


def test_unknown_teacher_dtype(teacher_ckpt):
    with pytest.raises(
            ValueError,
            match="teacher_dtype must be one of "
            r"\['float32', 'bfloat16', 'float16'\] or None, got "
            "'int8'"):
        MODELS.build(distill_cfg(teacher_ckpt, teacher_dtype='int8'))


def test_alw_kd_losses_default(teacher_ckpt):
    model = MODELS.build(distill_cfg(teacher_ckpt, alw_kd_losses=None))
    assert model.alw_kd_losses == ('loss_kd', )
    cfg = losses_cfg(teacher_ckpt, loss_icsd=dict(type='ICSDLoss'))
    cfg.pop('alw_kd_losses')
    assert MODELS.build(cfg).alw_kd_losses == ()


def test_class_relation_losses_on_recorded_features(teacher_ckpt):
    """I2CKD (through a connector) and IDD (16- vs 32-channel features, no
    connector) get the recorded features and the resized labels; their
    values equal the functional losses on those, and they train the
    student and the connector."""
    from mmseg_aicsd.models.losses import i2ckd_loss, idd_loss
    model = MODELS.build(
        losses_cfg(
            teacher_ckpt,
            loss_i2ckd=dict(
                type='I2CKDLoss',
                loss_weight=2.0,
                student_feature=FEATURE,
                connector=dict(type='ConvBNConnector')),
            loss_idd=dict(type='IDDLoss', student_feature=FEATURE),
            loss_spy=dict(type='LabelSpyLoss', student_feature=FEATURE)))
    model.train()
    inputs, samples = batch(size=(64, 64))
    losses = model.loss(inputs, samples)
    (student, teacher, labels), = model.distill_losses['loss_spy'].calls
    assert len(labels.unique()) >= 2  # the losses are not trivially 0
    mapped = model.distill_connectors['loss_i2ckd'](student)
    assert losses['loss_i2ckd'].item() == pytest.approx(
        2 * i2ckd_loss(mapped, teacher, labels).item(), rel=1e-4)
    assert losses['loss_idd'].item() == pytest.approx(
        idd_loss(student, teacher, labels).item(), rel=1e-4)
    assert losses['loss_i2ckd'] > 0 and losses['loss_idd'] > 0
    (losses['loss_i2ckd'] + losses['loss_idd']).backward()
    connector = model.distill_connectors['loss_i2ckd']
    assert all(p.grad is not None for p in connector.parameters())
    assert model.decode_head.sep_bottleneck[0].depthwise_conv.conv.weight \
        .grad.abs().sum() > 0
    assert all(p.grad is None for p in model.teacher.parameters())
