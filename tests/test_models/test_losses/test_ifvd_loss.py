# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""IFVD against naive float64 loops over pixels and classes, hand-worked
values, gradients, void handling and bad inputs."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmseg.registry import MODELS
from mmseg_aicsd.models.losses import IFVDLoss, ifvd_loss

IGNORE = 255


def randn(shape, seed, scale=2.0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=gen) * scale


def rand_labels(shape, num_classes, seed, void=0.2):
    gen = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, num_classes, shape, generator=gen)
    labels[torch.rand(shape, generator=gen) < void] = IGNORE
    return labels


def cosine(a, b):
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(x * x for x in b))
    if na == 0 or nb == 0:
        return 0.0
    return sum(x * y for x, y in zip(a, b)) / (na * nb)


def ifv_map(feats, labels):
    """{(b, h, w): cos(feature, centre of its class in image b)}."""
    feats = feats.double()
    B, C, H, W = feats.shape
    out = {}
    for b in range(B):
        sums, counts = {}, {}
        for h in range(H):
            for w in range(W):
                k = int(labels[b, h, w])
                if k == IGNORE:
                    continue
                vec = [feats[b, c, h, w].item() for c in range(C)]
                sums[k] = [x + y for x, y in zip(sums.get(k, [0.0] * C), vec)]
                counts[k] = counts.get(k, 0) + 1
        for h in range(H):
            for w in range(W):
                k = int(labels[b, h, w])
                if k == IGNORE:
                    continue
                centre = [x / counts[k] for x in sums[k]]
                vec = [feats[b, c, h, w].item() for c in range(C)]
                out[b, h, w] = cosine(vec, centre)
    return out


def naive_ifvd(student, teacher, labels, count_void=False):
    if student.shape[2:] != teacher.shape[2:]:
        student = F.interpolate(
            student.double(),
            size=teacher.shape[2:],
            mode='bilinear',
            align_corners=False)
    m_s, m_t = ifv_map(student, labels), ifv_map(teacher, labels)
    if not m_t:
        return 0.0
    total = sum((m_s[p] - m_t[p])**2 for p in m_t)
    return total / (labels.numel() if count_void else len(m_t))


@pytest.mark.parametrize('count_void', [False, True])
@pytest.mark.parametrize(
    's_shape,t_shape',
    [
        ((2, 3, 6, 5), (2, 3, 6, 5)),
        ((3, 2, 8, 10), (3, 5, 4, 5)),  # other width, twice the size
    ])
def test_ifvd_matches_loops(count_void, s_shape, t_shape):
    student, teacher = randn(s_shape, 0), randn(t_shape, 1)
    labels = rand_labels((t_shape[0], ) + t_shape[2:], 4, 2)
    loss = ifvd_loss(student, teacher, labels, count_void=count_void)
    expected = naive_ifvd(student, teacher, labels, count_void)
    assert expected > 0
    assert loss.dtype == torch.float32
    assert loss.item() == pytest.approx(expected, rel=1e-5, abs=1e-7)


def test_ifvd_hand_worked():
    """One image, two pixels of class 0 with 2-D features e1 and e2: the
    centre is (0.5, 0.5), both cosines 1/sqrt(2). A teacher with equal
    features has cosines 1, so the loss is (1 - 1/sqrt(2))^2. The void
    pixel counts only with count_void (3 pixels)."""
    labels = torch.tensor([[[0, 0, 255]]])
    student = torch.tensor([[[[1., 0., 7.]], [[0., 1., -3.]]]])
    teacher = torch.tensor([[[[1., 1., 0.]], [[2., 2., 5.]]]])
    expected = (1 - 1 / math.sqrt(2))**2
    assert ifvd_loss(student, teacher,
                     labels).item() == pytest.approx(expected)
    assert ifvd_loss(
        student, teacher, labels,
        count_void=True).item() == pytest.approx(2 * expected / 3)
    assert ifvd_loss(teacher, teacher, labels).item() == 0
    # cosines do not depend on the scale of either map
    assert ifvd_loss(student * 1e6, teacher * 1e-6,
                     labels).item() == pytest.approx(expected)


def test_ifvd_gradient_to_student_only():
    student = randn((2, 3, 4, 4), 3).requires_grad_()
    teacher = randn((2, 6, 4, 4), 4).requires_grad_()
    labels = rand_labels((2, 4, 4), 3, 5)
    loss = IFVDLoss(loss_weight=20.0)(student, teacher, labels)
    loss.backward()
    assert teacher.grad is None
    assert torch.isfinite(student.grad).all() and student.grad.abs().sum() > 0
    assert loss.item() == pytest.approx(
        20 * naive_ifvd(student.detach(), teacher.detach(), labels), rel=1e-5)


def test_ifvd_all_void_gives_zero():
    student = randn((2, 3, 3, 3), 6).requires_grad_()
    loss = ifvd_loss(student, randn((2, 3, 3, 3), 7),
                     torch.full((2, 3, 3), IGNORE))
    loss.backward()
    assert loss.item() == 0 and loss.dtype == torch.float32
    assert (student.grad == 0).all()


def test_ifvd_zero_features_finite():
    student = torch.zeros(1, 3, 4, 4, requires_grad=True)
    labels = rand_labels((1, 4, 4), 3, 8, void=0)
    loss = ifvd_loss(student, randn((1, 3, 4, 4), 9), labels)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(student.grad).all()
    # every student cosine is 0
    assert loss.item() == pytest.approx(
        naive_ifvd(student.detach(), randn((1, 3, 4, 4), 9), labels), rel=1e-5)


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_ifvd_low_precision_close_to_float32(dtype):
    student, teacher = randn((2, 8, 6, 6), 10), randn((2, 8, 6, 6), 11)
    labels = rand_labels((2, 6, 6), 4, 12)
    ref = ifvd_loss(student, teacher, labels).item()
    low = ifvd_loss(student.to(dtype), teacher.to(dtype), labels)
    assert low.dtype == torch.float32
    assert low.item() == pytest.approx(ref, rel=0.05, abs=1e-3)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        auto = ifvd_loss(student, teacher, labels)
    assert auto.dtype == torch.float32
    assert auto.item() == pytest.approx(ref, rel=1e-5)


@pytest.mark.parametrize(
    'dtype', [torch.float32, torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize('scale', [1e-20, 1.0, 1e20])
@pytest.mark.parametrize('pattern', ['random', 'relu', 'zeros'])
def test_ifvd_finite_and_scale_free_for_extreme_maps(dtype, scale, pattern):
    """Maps from 1e-20 to 1e20 (1e-2 to 1e3 in float16), ReLU-sparse and
    zero: finite float32 values and gradients, and in float32 the value at
    scale 1."""
    if dtype == torch.float16:
        scale = {1e-20: 1e-2, 1e20: 1e3}.get(scale, scale)
    labels = rand_labels((2, 5, 5), 4, 15)

    def make(seed, s):
        x = randn((2, 6, 5, 5), seed) * s
        x = x.clamp_min(0) if pattern == 'relu' else (
            x * 0 if pattern == 'zeros' else x)
        return x.to(dtype)

    student = make(16, scale).requires_grad_()
    loss = ifvd_loss(student, make(17, scale), labels)
    (grad, ) = torch.autograd.grad(loss, student)
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    assert grad.dtype == dtype and torch.isfinite(grad).all()
    if dtype == torch.float32:
        at_one = ifvd_loss(make(16, 1.0), make(17, 1.0), labels)
        assert loss.item() == pytest.approx(at_one.item(), rel=1e-4)


def test_ifvd_bad_inputs():
    feats = torch.zeros(1, 3, 4, 4)
    with pytest.raises(ValueError, match='labels must be'):
        ifvd_loss(feats, feats, torch.zeros(1, 8, 8, dtype=torch.long))
    with pytest.raises(ValueError, match='>= 0 or ignore_index'):
        ifvd_loss(feats, feats, torch.full((1, 4, 4), -1))
    with pytest.raises(ValueError, match='batch size'):
        ifvd_loss(
            torch.zeros(2, 3, 4, 4), feats,
            torch.zeros(1, 4, 4, dtype=torch.long))
    with pytest.raises(ValueError, match='aspect ratios'):
        ifvd_loss(
            torch.zeros(1, 3, 4, 16), feats,
            torch.zeros(1, 4, 4, dtype=torch.long))


def test_ifvd_nan_propagates():
    maps = randn((2, 3, 4, 4), 13)
    bad = maps.clone()
    bad[1, 0, 0, 0] = float('nan')
    labels = rand_labels((2, 4, 4), 3, 14, void=0)
    assert torch.isnan(ifvd_loss(maps, bad, labels))


def test_ifvd_registered_and_built_from_config():
    loss = MODELS.build(
        dict(type='IFVDLoss', count_void=True, loss_weight=20.0))
    assert (loss.loss_name, loss.count_void, loss.loss_weight) == ('loss_ifvd',
                                                                   True, 20.0)
