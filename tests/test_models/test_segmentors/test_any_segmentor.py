# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Teachers and students of other mmseg architectures: SegFormer (MiT)
-> DeepLabV3+, PSPNet -> PSPNet, OCRNet (a ``CascadeEncoderDecoder``) as
student and as teacher; logit losses across output strides, feature losses
across channel counts and spatial sizes."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.structures import PixelData
from tiny_segmentors import (NUM_CLASSES, deeplabv3plus, ocrnet, pspnet,
                             save_checkpoint, segformer)

from mmseg.models.segmentors import CascadeEncoderDecoder
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg_aicsd.models.losses import cwd_loss, pixel_kd_loss
from mmseg_aicsd.models.segmentors import (DistillCascadeEncoderDecoder,
                                           DistillEncoderDecoder)
from mmseg_aicsd.utils import student_model_config

SIZE = (64, 96)  # not square: a transposed resize would fail
LOGIT_LOSSES = dict(
    loss_kd=dict(type='PixelKDLoss', tau=2.0),
    loss_cwd=dict(type='CWDLoss', tau=4.0, loss_weight=3.0))


def batch(seed=0, n=2):
    g = torch.Generator().manual_seed(seed)
    inputs = torch.randint(0, 256, (n, 3, *SIZE), generator=g).float()
    samples = []
    for _ in range(n):
        label = torch.randint(0, NUM_CLASSES, (1, *SIZE), generator=g)
        sample = SegDataSample(gt_sem_seg=PixelData(data=label))
        sample.set_metainfo(
            dict(img_shape=SIZE, ori_shape=SIZE, pad_shape=SIZE))
        samples.append(sample)
    return inputs, samples


def distill(student, teacher, ckpt, distill_losses=LOGIT_LOSSES):
    """A distillation segmentor of ``student``'s type (``Distill`` +
    its type) with ``teacher`` loaded from ``ckpt``."""
    cfg = copy.deepcopy(student)
    cfg.update(
        type='Distill' + cfg.type,
        teacher=teacher,
        teacher_ckpt=ckpt,
        distill_losses=copy.deepcopy(distill_losses))
    return MODELS.build(cfg)


@pytest.fixture(scope='module')
def ckpts(tmp_path_factory):
    """A stand-in teacher checkpoint of each architecture."""
    root = tmp_path_factory.mktemp('teachers')
    return {
        name: save_checkpoint(cfg, root / f'{name}.pth', seed=1)
        for name, cfg in dict(
            segformer=segformer(),
            pspnet=pspnet(channels=16),
            ocrnet=ocrnet(),
            deeplabv3plus=deeplabv3plus(channels=16)).items()
    }


def logits(model, inputs):
    """(student, teacher) logits of a no-grad train-mode forward."""
    with torch.no_grad():
        return model.distill_forward(inputs)[1:]


def check_logit_losses(model, inputs, samples, student_shape, teacher_shape):
    """The distillation items are the losses of the student's logits
    resized bilinearly to the teacher's."""
    model.train()
    losses = model.loss(inputs, samples)
    s, t = logits(model, inputs)
    assert tuple(s.shape) == (2, NUM_CLASSES, *student_shape)
    assert tuple(t.shape) == (2, NUM_CLASSES, *teacher_shape)
    resized = F.interpolate(s, size=t.shape[2:], mode='bilinear')
    assert losses['loss_kd'].item() == pytest.approx(
        pixel_kd_loss(resized, t, tau=2.0).item(), rel=1e-5)
    assert losses['loss_cwd'].item() == pytest.approx(
        3.0 * cwd_loss(resized, t, tau=4.0).item(), rel=1e-5)
    assert losses['loss_kd'].item() > 0 and losses['loss_cwd'].item() > 0
    return losses


def train_two_steps(model):
    """Two SGD steps of ``train_step``; returns the student's parameters
    before and after, and the teacher's."""
    model.data_preprocessor.size = SIZE
    model.train()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    before = copy.deepcopy(model.state_dict())
    teacher = copy.deepcopy(model.teacher.state_dict())
    for seed in (0, 1):
        inputs, samples = batch(seed)
        log_vars = model.train_step(
            dict(inputs=list(inputs), data_samples=samples), optim)
        assert torch.isfinite(log_vars['loss'])
    changed = [
        k for k, v in model.state_dict().items()
        if v.is_floating_point() and not torch.equal(v, before[k])
    ]
    assert any(k.startswith('backbone.') for k in changed)
    assert any(k.startswith('decode_head.') for k in changed)
    for key, value in model.teacher.state_dict().items():
        assert torch.equal(value, teacher[key]), key


def test_segformer_teacher_deeplabv3plus_student(ckpts):
    model = distill(deeplabv3plus(), segformer(), ckpts['segformer'])
    expected = torch.load(ckpts['segformer'])['state_dict']
    for key, value in model.teacher.state_dict().items():
        assert torch.equal(value, expected[key]), key
    assert type(model.teacher.backbone).__name__ == 'MixVisionTransformer'
    # both at stride 4
    check_logit_losses(model, *batch(), (16, 24), (16, 24))
    train_two_steps(model)


def test_pspnet_teacher_pspnet_student(ckpts):
    model = distill(pspnet(), pspnet(channels=16), ckpts['pspnet'])
    assert model.teacher.decode_head.channels == 16
    check_logit_losses(model, *batch(), (8, 12), (8, 12))
    train_two_steps(model)


def test_logit_losses_across_output_strides(ckpts):
    """A stride-8 PSPNet student of a stride-4 SegFormer teacher."""
    model = distill(pspnet(), segformer(), ckpts['segformer'])
    check_logit_losses(model, *batch(), (8, 12), (16, 24))


def test_ocrnet_student(ckpts, tmp_path):
    model = distill(ocrnet(), deeplabv3plus(16), ckpts['deeplabv3plus'])
    assert isinstance(model, DistillCascadeEncoderDecoder)
    assert isinstance(model, DistillEncoderDecoder)
    assert isinstance(model.decode_head, torch.nn.ModuleList)
    inputs, samples = batch()
    losses = check_logit_losses(model, inputs, samples, (8, 12), (16, 24))
    assert set(losses) == {
        'decode_0.loss_ce', 'decode_0.acc_seg', 'decode_1.loss_ce',
        'decode_1.acc_seg', 'loss_kd', 'loss_cwd'
    }

    # the stages' losses are the stock CascadeEncoderDecoder's, whose
    # config student_model_config gives; the state loads into it strictly
    cfg = Config(dict(model=model_cfg_of(model)))
    student_cfg = student_model_config(cfg)
    assert student_cfg.type == 'CascadeEncoderDecoder'
    assert student_cfg.num_stages == 2
    student = MODELS.build(student_cfg)
    student.load_state_dict(model.state_dict(), strict=True)
    student.train()
    stock = student.loss(inputs, copy.deepcopy(samples))
    for key in ('decode_0.loss_ce', 'decode_1.loss_ce', 'decode_1.acc_seg'):
        assert losses[key].item() == pytest.approx(
            stock[key].item(), rel=1e-5), key

    train_two_steps(model)
    student.load_state_dict(model.state_dict(), strict=True)
    model.eval()
    student.eval()
    inputs, samples = batch(seed=2)
    torch.testing.assert_close(
        model.predict(inputs, copy.deepcopy(samples))[0].seg_logits.data,
        student.predict(inputs, copy.deepcopy(samples))[0].seg_logits.data)
    torch.testing.assert_close(
        model(inputs, mode='tensor'), student(inputs, mode='tensor'))


def model_cfg_of(model):
    """The config the model was built from, as ``distill`` wrote it."""
    cfg = ocrnet()
    cfg.update(
        type='DistillCascadeEncoderDecoder',
        teacher=deeplabv3plus(16),
        teacher_ckpt=model.teacher_ckpt,
        distill_losses=LOGIT_LOSSES)
    return cfg


def test_ocrnet_teacher(ckpts, tmp_path):
    model = distill(pspnet(), ocrnet(), ckpts['ocrnet'])
    assert isinstance(model.teacher, CascadeEncoderDecoder)
    inputs, samples = batch()
    # the teacher's logits are its last stage's, the OCR head's
    stock = MODELS.build(ocrnet())
    stock.load_state_dict(torch.load(ckpts['ocrnet'])['state_dict'])
    stock.eval()
    with torch.no_grad():
        expected = stock(inputs, mode='tensor')
    torch.testing.assert_close(logits(model, inputs)[1], expected)
    check_logit_losses(model, inputs, samples, (8, 12), (8, 12))
    train_two_steps(model)

    # strict: a checkpoint without the OCR head does not load
    state = torch.load(ckpts['ocrnet'])['state_dict']
    path = tmp_path / 'no_ocr_head.pth'
    torch.save(
        {
            k: v
            for k, v in state.items() if not k.startswith('decode_head.1.')
        }, path)
    with pytest.raises(RuntimeError, match=r'missing keys .*decode_head\.1\.'):
        distill(pspnet(), ocrnet(), str(path))


def test_ocrnet_student_and_teacher_on_ocr_features(ckpts):
    """A module inside a cascade stage (``decode_head.1.bottleneck``)."""
    losses = dict(
        loss_cwd_feat=dict(
            type='CWDLoss',
            tau=1.0,
            student_feature='decode_head.1.bottleneck',
            connector=dict(type='ConvBNConnector')))
    model = distill(ocrnet(), ocrnet(), ckpts['ocrnet'], losses)
    assert model.distill_connectors['loss_cwd_feat'].in_channels == 8
    model.train()
    value = model.loss(*batch())['loss_cwd_feat']
    assert value.item() > 0
    value.backward()
    assert model.distill_connectors['loss_cwd_feat'].conv.conv.weight.grad \
        .abs().sum() > 0


def test_feature_losses_across_channels_and_sizes(ckpts):
    """DeepLabV3+ layer4 (64 channels, stride 8) against SegFormer head
    maps of 16 channels: its projection of the last MiT stage (stride 32)
    and its fused map (stride 4). The connector maps the channels, the
    loss resizes the student's mapped map to the teacher's size."""
    losses = dict(
        loss_cwd_down=dict(
            type='CWDLoss',
            tau=1.0,
            student_feature='backbone.layer4',
            teacher_feature='decode_head.convs.3',
            connector=dict(type='ConvBNConnector')),
        loss_cwd_up=dict(
            type='CWDLoss',
            tau=1.0,
            student_feature='backbone.layer4',
            teacher_feature='decode_head.fusion_conv',
            connector=dict(type='ConvBNConnector')))
    model = distill(deeplabv3plus(), segformer(), ckpts['segformer'], losses)
    connectors = model.distill_connectors
    for name in losses:
        assert (connectors[name].in_channels,
                connectors[name].out_channels) == (64, 16)
    model.train()
    got = model.loss(*batch())
    # the recorders keep the maps of that forward
    s = model.distill_loss_set.student_recorder.get('backbone.layer4')
    teacher = model.distill_loss_set.teacher_recorder
    assert tuple(s.shape) == (2, 64, 8, 12)
    for name, t_name, t_size in (('loss_cwd_down', 'decode_head.convs.3',
                                  (2, 3)), ('loss_cwd_up',
                                            'decode_head.fusion_conv', (16,
                                                                        24))):
        t = teacher.get(t_name)
        assert tuple(t.shape) == (2, 16, *t_size)
        with torch.no_grad():  # train-mode BN: the batch's statistics again
            mapped = F.interpolate(
                connectors[name](s), size=t_size, mode='bilinear')
        assert got[name].item() == pytest.approx(
            cwd_loss(mapped, t).item(), rel=1e-5), name
        assert got[name].item() > 0
    train_two_steps(model)


def test_cascade_heads_need_the_cascade_segmentor(ckpts):
    cfg = ocrnet()
    cfg.type = 'EncoderDecoder'  # the one-head type, with a list of heads
    with pytest.raises(ValueError, match='DistillCascadeEncoderDecoder'):
        distill(cfg, pspnet(), ckpts['pspnet'])
    cfg = ocrnet()
    cfg.num_stages = 3
    with pytest.raises(
            ValueError,
            match=r'num_stages=3 needs decode_head as a list '
            r'.*got 2 head'):
        distill(cfg, pspnet(), ckpts['pspnet'])
    cfg = ocrnet()
    cfg.decode_head = cfg.decode_head[0]
    with pytest.raises(ValueError, match='got one head config'):
        distill(cfg, pspnet(), ckpts['pspnet'])
