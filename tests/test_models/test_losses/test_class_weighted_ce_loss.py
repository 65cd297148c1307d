# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""ClassWeightedCrossEntropyLoss against PyTorch's weighted cross-entropy,
on batches with ignored pixels (where mmseg 1.2.2's loss raises)."""
import pytest
import torch
import torch.nn.functional as F

from mmseg.models.losses import CrossEntropyLoss
from mmseg.registry import MODELS
from mmseg_aicsd.models.losses import (ClassWeightedCrossEntropyLoss,
                                       class_weighted_avg_factor)

WEIGHTS = [0.2595, 0.1826, 4.5640, 0.1417, 0.9051]  # SegNet's first five


def batch(seed=0, shape=(2, 5, 6, 7), ignored=0.2):
    """Logits (B, C, H, W) and labels (B, H, W) with a fraction of 255."""
    g = torch.Generator().manual_seed(seed)
    B, C, H, W = shape
    logits = torch.randn(shape, generator=g) * 3
    labels = torch.randint(0, C, (B, H, W), generator=g)
    labels[torch.rand((B, H, W), generator=g) < ignored] = 255
    return logits, labels


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_equals_torch_weighted_cross_entropy(seed):
    logits, labels = batch(seed)
    assert (labels == 255).any()
    loss = ClassWeightedCrossEntropyLoss(class_weight=WEIGHTS)
    got = loss(logits, labels, ignore_index=255)
    want = F.cross_entropy(
        logits, labels, weight=torch.tensor(WEIGHTS), ignore_index=255)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=0)


def test_gradient_equals_torch():
    logits, labels = batch(3)
    mine = logits.clone().requires_grad_()
    ref = logits.clone().requires_grad_()
    ClassWeightedCrossEntropyLoss(class_weight=WEIGHTS)(
        mine, labels, ignore_index=255).backward()
    F.cross_entropy(
        ref, labels, weight=torch.tensor(WEIGHTS),
        ignore_index=255).backward()
    torch.testing.assert_close(mine.grad, ref.grad, rtol=1e-5, atol=1e-9)


def test_mmseg_cross_entropy_with_class_weight_fails_on_ignored_pixels():
    """The error this loss exists for (docs/en/faq.md): if mmseg fixes it,
    this test says so."""
    logits, labels = batch(0)
    with pytest.raises(IndexError, match='index 255 is out of bounds'):
        CrossEntropyLoss(class_weight=WEIGHTS)(
            logits, labels, ignore_index=255)


def test_naive_weighted_mean_with_pixel_weights():
    """sum_i w[y_i] m_i CE_i / sum_i w[y_i] m_i over valid pixels, written
    out pixel by pixel."""
    logits, labels = batch(4, shape=(1, 5, 3, 4))
    pixel_weight = torch.rand(
        labels.shape, generator=torch.Generator().manual_seed(5))
    num = den = 0.0
    log_p = logits.log_softmax(1)
    for h in range(3):
        for w in range(4):
            y = int(labels[0, h, w])
            if y == 255:
                continue
            wy = WEIGHTS[y] * float(pixel_weight[0, h, w])
            num += -wy * float(log_p[0, y, h, w])
            den += wy
    loss = ClassWeightedCrossEntropyLoss(class_weight=WEIGHTS, loss_weight=2.)
    got = loss(logits, labels, weight=pixel_weight, ignore_index=255)
    assert got.item() == pytest.approx(2 * num / den, rel=1e-5)
    factor = class_weighted_avg_factor(labels, torch.tensor(WEIGHTS), 255,
                                       pixel_weight)
    assert factor.item() == pytest.approx(den, rel=1e-6)


def test_reductions_and_all_ignored():
    logits, labels = batch(6)
    loss = ClassWeightedCrossEntropyLoss(class_weight=WEIGHTS)
    none = loss(logits, labels, reduction_override='none', ignore_index=255)
    assert none.shape == labels.shape
    assert (none[labels == 255] == 0).all()
    want = F.cross_entropy(
        logits,
        labels,
        weight=torch.tensor(WEIGHTS),
        ignore_index=255,
        reduction='sum')
    torch.testing.assert_close(
        loss(logits, labels, reduction_override='sum', ignore_index=255), want)
    empty = loss(logits, torch.full_like(labels, 255), ignore_index=255)
    assert empty.item() == 0


def test_replaces_the_type_of_a_stock_loss_decode():
    """Merged over mmseg's ``dict(type='CrossEntropyLoss',
    use_sigmoid=False, loss_weight=0.4)``, as a config that sets only
    ``type`` and ``class_weight`` gets it."""
    loss = MODELS.build(
        dict(
            type='ClassWeightedCrossEntropyLoss',
            use_sigmoid=False,
            loss_weight=0.4,
            class_weight=WEIGHTS))
    assert loss.loss_name == 'loss_ce'
    logits, labels = batch(7)
    want = 0.4 * F.cross_entropy(
        logits, labels, weight=torch.tensor(WEIGHTS), ignore_index=255)
    torch.testing.assert_close(loss(logits, labels, ignore_index=255), want)


@pytest.mark.parametrize('kwargs,match', [
    (dict(class_weight=None), 'needs class_weight'),
    (dict(class_weight=[]), 'needs class_weight'),
    (dict(class_weight=[1.0, -0.5]), r'finite and >= 0'),
    (dict(class_weight=[1.0, float('nan')]), r'finite and >= 0'),
    (dict(class_weight=WEIGHTS, use_sigmoid=True), 'use_sigmoid must be'),
    (dict(class_weight=WEIGHTS, avg_non_ignore=False), 'avg_non_ignore'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ClassWeightedCrossEntropyLoss(**kwargs)


def test_class_weight_of_the_wrong_length():
    logits, labels = batch(8, shape=(1, 4, 3, 3))
    labels[labels == 255] = 0
    with pytest.raises(
            ValueError,
            match='class_weight has 5 entries but the logits have 4'):
        ClassWeightedCrossEntropyLoss(class_weight=WEIGHTS)(logits, labels)
