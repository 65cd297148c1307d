# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""DistillEncoderDecoder: frozen teacher, loss weighting, errors, state."""
import copy

import pytest
import torch
from mmengine.config import Config, ConfigDict
from mmengine.structures import PixelData

from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg_aicsd.engine.hooks import set_alw_alpha
from mmseg_aicsd.models.losses import icsd_loss, pixel_kd_loss

NUM_CLASSES = 5
PREPROCESSOR = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255)


def segmentor_cfg(channels=16, num_classes=NUM_CLASSES):
    """A small DeepLabV3+ R18-D8 (BN, no dropout: deterministic losses)."""
    norm_cfg = dict(type='BN', requires_grad=True)
    return ConfigDict(
        type='EncoderDecoder',
        data_preprocessor=copy.deepcopy(PREPROCESSOR),
        pretrained=None,
        backbone=dict(
            type='ResNetV1c',
            depth=18,
            num_stages=4,
            out_indices=(0, 1, 2, 3),
            dilations=(1, 1, 2, 4),
            strides=(1, 2, 1, 1),
            norm_cfg=norm_cfg,
            contract_dilation=True),
        decode_head=dict(
            type='DepthwiseSeparableASPPHead',
            in_channels=512,
            in_index=3,
            channels=channels,
            dilations=(1, 12, 24, 36),
            c1_in_channels=64,
            c1_channels=8,
            dropout_ratio=0.0,
            num_classes=num_classes,
            norm_cfg=norm_cfg,
            align_corners=False,
            loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
        auxiliary_head=dict(
            type='FCNHead',
            in_channels=256,
            in_index=2,
            channels=8,
            num_convs=1,
            concat_input=False,
            dropout_ratio=0.0,
            num_classes=num_classes,
            norm_cfg=norm_cfg,
            align_corners=False,
            loss_decode=dict(type='CrossEntropyLoss', loss_weight=0.4)),
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))


def distill_cfg(teacher_ckpt, **overrides):
    cfg = segmentor_cfg()
    cfg.update(
        type='DistillEncoderDecoder',
        teacher=segmentor_cfg(channels=32),
        teacher_ckpt=teacher_ckpt,
        distill_losses=dict(
            loss_icsd=dict(type='ICSDLoss', loss_weight=3.0),
            loss_kd=dict(type='PixelKDLoss', tau=2.0)),
        alw_kd_losses=('loss_kd', ))
    cfg.update(overrides)
    return cfg


def batch(seed=0, n=2, size=(64, 64)):
    g = torch.Generator().manual_seed(seed)
    inputs = torch.randint(0, 256, (n, 3, *size), generator=g).float()
    samples = []
    for _ in range(n):
        label = torch.randint(0, NUM_CLASSES, (1, *size), generator=g)
        sample = SegDataSample(gt_sem_seg=PixelData(data=label))
        sample.set_metainfo(
            dict(img_shape=size, ori_shape=size, pad_shape=size))
        samples.append(sample)
    return inputs, samples


def test_teacher_is_loaded_and_frozen(teacher_ckpt):
    model = MODELS.build(distill_cfg(teacher_ckpt))
    expected = torch.load(teacher_ckpt)['state_dict']
    for key, value in model.teacher.state_dict().items():
        torch.testing.assert_close(value, expected[key], rtol=0, atol=0)
    assert all(not p.requires_grad for p in model.teacher.parameters())
    assert all(p.requires_grad for n, p in model.named_parameters()
               if not n.startswith('teacher.'))
    model.train()
    assert model.training and model.backbone.training
    assert not any(m.training for m in model.teacher.modules())


def test_init_weights_keeps_teacher_weights(teacher_ckpt):
    model = MODELS.build(distill_cfg(teacher_ckpt))
    before = copy.deepcopy(model.teacher.state_dict())
    student_before = model.decode_head.conv_seg.weight.clone()
    model.init_weights()
    assert not torch.equal(student_before, model.decode_head.conv_seg.weight)
    for key, value in model.teacher.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_losses_and_alw_weighting(teacher_ckpt):
    model = MODELS.build(distill_cfg(teacher_ckpt))
    model.train()
    inputs, samples = batch()
    plain = model.loss(inputs, samples)
    assert set(plain) == {
        'decode.loss_ce', 'decode.acc_seg', 'aux.loss_ce', 'aux.acc_seg',
        'loss_icsd', 'loss_kd'
    }

    # the distillation terms are the losses of the two logit maps
    with torch.no_grad():
        s_logits = model.decode_head(model.extract_feat(inputs))
        t_logits = model.teacher(inputs, mode='tensor')
    assert s_logits.shape == t_logits.shape == (2, NUM_CLASSES, 16, 16)
    assert plain['loss_icsd'].item() == pytest.approx(
        3.0 * icsd_loss(s_logits, t_logits).item(), rel=1e-5)
    assert plain['loss_kd'].item() == pytest.approx(
        pixel_kd_loss(s_logits, t_logits, tau=2.0).item(), rel=1e-5)

    set_alw_alpha(model, 0.3)
    weighted = model.loss(inputs, samples)
    for key in ('decode.loss_ce', 'aux.loss_ce', 'loss_icsd'):
        assert weighted[key].item() == pytest.approx(
            0.3 * plain[key].item(), rel=1e-5), key
    assert weighted['loss_kd'].item() == pytest.approx(
        0.7 * plain['loss_kd'].item(), rel=1e-5)
    assert weighted['decode.acc_seg'].item() == pytest.approx(
        plain['decode.acc_seg'].item())
    with pytest.raises(ValueError, match=r'\[0, 1\]'):
        set_alw_alpha(model, 1.5)


def test_gradients_reach_the_student_only(teacher_ckpt):
    model = MODELS.build(distill_cfg(teacher_ckpt))
    model.train()
    losses = model.loss(*batch())
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    grads = [
        p.grad for n, p in model.named_parameters()
        if not n.startswith('teacher.')
    ]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


def test_teacher_bn_statistics_do_not_move(teacher_ckpt):
    model = MODELS.build(distill_cfg(teacher_ckpt))
    model.train()
    bn = model.teacher.backbone.stem[1]
    assert isinstance(bn, torch.nn.BatchNorm2d)
    mean = bn.running_mean.clone()
    model.loss(*batch())
    assert torch.equal(mean, bn.running_mean)


def test_state_dict_holds_the_student_only(teacher_ckpt, tmp_path):
    model = MODELS.build(distill_cfg(teacher_ckpt))
    model.train()
    model.loss(*batch())  # move BN statistics away from init
    state = model.state_dict()
    assert state and not any('teacher' in k for k in state)

    # it loads strictly into the stock student and predicts the same
    student = MODELS.build(segmentor_cfg())
    student.load_state_dict(state, strict=True)
    model.eval()
    student.eval()
    inputs, samples = batch(seed=1)
    torch.testing.assert_close(
        model.predict(inputs, copy.deepcopy(samples))[0].seg_logits.data,
        student.predict(inputs, copy.deepcopy(samples))[0].seg_logits.data)

    # and back into a distillation model, whose teacher keeps its weights
    other = MODELS.build(distill_cfg(teacher_ckpt))
    teacher_before = copy.deepcopy(other.teacher.state_dict())
    result = other.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    for key, value in other.teacher.state_dict().items():
        assert torch.equal(value, teacher_before[key])


def test_teacher_config_from_file(teacher_ckpt, tmp_path):
    path = tmp_path / 'teacher_config.py'
    Config(dict(model=segmentor_cfg(channels=32))).dump(str(path))
    model = MODELS.build(distill_cfg(teacher_ckpt, teacher=str(path)))
    assert model.teacher.decode_head.channels == 32


def test_mismatched_classes(teacher_ckpt):
    cfg = distill_cfg(teacher_ckpt, teacher=segmentor_cfg(32, num_classes=7))
    with pytest.raises(
            ValueError, match='teacher predicts 7 classes and '
            'the student 5'):
        MODELS.build(cfg)


def test_missing_teacher_checkpoint(tmp_path):
    with pytest.raises(FileNotFoundError, match='teacher_ckpt'):
        MODELS.build(distill_cfg(str(tmp_path / 'nope.pth')))


def test_teacher_checkpoint_of_another_architecture(tmp_path):
    path = tmp_path / 'student.pth'
    torch.save(MODELS.build(segmentor_cfg()).state_dict(), path)
    with pytest.raises(RuntimeError, match='does not fit the teacher'):
        MODELS.build(distill_cfg(str(path)))
    # another decode head: its weights are missing, the FCN's unexpected
    other = segmentor_cfg(channels=32)
    other['decode_head'] = dict(
        other['auxiliary_head'],
        in_channels=512,
        channels=32,
        in_index=3,
        loss_decode=dict(type='CrossEntropyLoss'))
    path = tmp_path / 'fcn.pth'
    torch.save(MODELS.build(other).state_dict(), path)
    with pytest.raises(
            RuntimeError,
            match=r'\d+ missing keys .*decode_head'
            r'.*\d+ unexpected keys .*decode_head'):
        MODELS.build(distill_cfg(str(path)))


def test_teacher_checkpoint_without_auxiliary_head(tmp_path):
    """Weights the teacher's forward does not use may be absent."""
    torch.manual_seed(1)
    no_aux = MODELS.build(
        dict(segmentor_cfg(channels=32), auxiliary_head=None))
    path = tmp_path / 'no_aux.pth'
    torch.save(no_aux.state_dict(), path)
    model = MODELS.build(distill_cfg(str(path)))
    for key, value in no_aux.state_dict().items():
        torch.testing.assert_close(model.teacher.state_dict()[key], value)


def test_teacher_with_other_normalisation(teacher_ckpt):
    teacher = segmentor_cfg(channels=32)
    teacher['data_preprocessor']['std'] = [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match='std'):
        MODELS.build(distill_cfg(teacher_ckpt, teacher=teacher))


def test_bad_distill_loss_names(teacher_ckpt):
    with pytest.raises(ValueError, match='alw_kd_losses'):
        MODELS.build(distill_cfg(teacher_ckpt, alw_kd_losses=('loss_x', )))
    with pytest.raises(ValueError, match='must contain "loss"'):
        MODELS.build(
            distill_cfg(
                teacher_ckpt,
                distill_losses=dict(kd=dict(type='PixelKDLoss'))))
    with pytest.raises(
            KeyError, match=r"distill_losses\['loss_x'\]: .*NoSuchLoss"):
        MODELS.build(
            distill_cfg(
                teacher_ckpt,
                distill_losses=dict(loss_x=dict(type='NoSuchLoss'))))


def test_predict_and_tensor_use_the_student(teacher_ckpt):
    model = MODELS.build(distill_cfg(teacher_ckpt)).eval()
    inputs, _ = batch()
    out = model(inputs, mode='tensor')
    with torch.no_grad():
        expected = model.decode_head(model.extract_feat(inputs))
    torch.testing.assert_close(out, expected)
    assert isinstance(model, EncoderDecoder)


def nan_teacher_model(teacher_ckpt, **overrides):
    """A model whose teacher outputs NaN logits (NaN classifier bias)."""
    model = MODELS.build(distill_cfg(teacher_ckpt, **overrides))
    model.teacher.decode_head.conv_seg.bias.data.fill_(float('nan'))
    model.data_preprocessor.size = (64, 64)  # train_step pads to a size
    model.train()
    return model


def sgd(model):
    from mmengine.optim import OptimWrapper
    return OptimWrapper(
        torch.optim.SGD(
            model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4))


def test_nonfinite_loss_stops_naming_loss_and_iteration(teacher_ckpt):
    from mmengine.logging import MessageHub
    model = nan_teacher_model(teacher_ckpt)
    optim_wrapper = sgd(model)
    inputs, samples = batch()
    before = copy.deepcopy(model.state_dict())
    MessageHub.get_current_instance().update_info('iter', 6)  # 0-based
    with pytest.raises(
            FloatingPointError,
            match=r'non-finite loss at iteration 7: '
            r'loss_icsd=nan, loss_kd=nan\..*skip_nonfinite_loss'):
        model.train_step(
            dict(inputs=list(inputs), data_samples=samples), optim_wrapper)
    for key, value in model.named_parameters():  # no step was taken
        if not key.startswith('teacher.'):
            assert torch.equal(value, before[key]), key


def test_nonfinite_loss_skips_the_step_if_configured(teacher_ckpt):
    model = nan_teacher_model(teacher_ckpt, skip_nonfinite_loss=True)
    optim_wrapper = sgd(model)
    data = dict(inputs=list(batch()[0]), data_samples=batch()[1])
    # a finite step first, so that the optimizer has momentum to keep
    model.teacher.decode_head.conv_seg.bias.data.zero_()
    model.train_step(data, optim_wrapper)
    params = copy.deepcopy(model.state_dict())
    momentum = copy.deepcopy(optim_wrapper.optimizer.state_dict())
    model.teacher.decode_head.conv_seg.bias.data.fill_(float('nan'))
    log_vars = model.train_step(data, optim_wrapper)
    assert torch.isnan(log_vars['loss_kd'])  # logged as it was
    assert torch.isfinite(log_vars['decode.loss_ce'])
    # parameters, BN statistics and optimizer state unchanged
    for key, value in model.state_dict().items():
        assert torch.equal(value, params[key]), key
    state = optim_wrapper.optimizer.state_dict()['state']
    for idx, entry in momentum['state'].items():
        assert torch.equal(state[idx]['momentum_buffer'],
                           entry['momentum_buffer'])


def test_skipped_step_keeps_a_memory_allocated_in_it(teacher_ckpt):
    """CIRKDMemoryLoss allocates its memory (buffers) in its first forward:
    a skipped first step restores the BatchNorm statistics and keeps the
    new memory, instead of failing on buffers of another shape."""
    model = nan_teacher_model(
        teacher_ckpt,
        skip_nonfinite_loss=True,
        distill_losses=dict(
            loss_kd=dict(type='PixelKDLoss'),
            loss_cirkd_memory=dict(
                type='CIRKDMemoryLoss',
                pixel_memory_size=8,
                region_memory_size=4)))
    optim_wrapper = sgd(model)
    data = dict(inputs=list(batch()[0]), data_samples=batch()[1])
    params = copy.deepcopy(model.state_dict())
    memory = model.distill_losses.loss_cirkd_memory
    assert memory.pixel_memory.numel() == 0
    log_vars = model.train_step(data, optim_wrapper)
    assert torch.isnan(log_vars['loss_kd'])
    assert memory.pixel_memory.shape == (NUM_CLASSES, 8, NUM_CLASSES)
    for key, value in model.state_dict().items():
        assert torch.equal(value, params[key]), key


def test_samples_without_labels(teacher_ckpt):
    model = MODELS.build(distill_cfg(teacher_ckpt))
    inputs, samples = batch()
    del samples[1].gt_sem_seg
    samples[1].set_metainfo(dict(img_path='data/train/0001.png'))
    with pytest.raises(
            ValueError,
            match=r"1 training images have no labels"
            r".*'data/train/0001.png'.*LoadAnnotations"):
        model.loss(inputs, samples)
