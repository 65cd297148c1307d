# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""ICSD and pixel-wise KD against naive loops and hand-worked cases."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmseg.registry import MODELS
from mmseg_aicsd.models.losses import (ICSDLoss, PixelKDLoss, icsd_loss,
                                       inter_class_similarity, pixel_kd_loss)

SHAPES = [(1, 1, 1, 1), (2, 3, 4, 5), (2, 11, 6, 8), (1, 19, 3, 7),
          (3, 2, 1, 9)]


def naive_ics(logits, tau=1.0):
    """Eq. 2-3 with explicit loops over images and class pairs, float64."""
    B, C = logits.shape[:2]
    z = logits.double().reshape(B, C, -1) / tau
    ics = torch.zeros(B, C, C, dtype=torch.float64)
    for b in range(B):
        for i in range(C):
            for j in range(C):
                p_i = torch.exp(z[b, i]) / torch.exp(z[b, i]).sum()
                p_j = torch.exp(z[b, j]) / torch.exp(z[b, j]).sum()
                ics[b, i, j] = (p_i * (p_i.log() - p_j.log())).sum()
    return ics


def naive_icsd(student, teacher, tau=1.0, normalize=False):
    """Eq. 4: mean over images of ||ICS_T - ICS_S||_F^2 / C^2."""
    ics_s, ics_t = naive_ics(student, tau), naive_ics(teacher, tau)
    if normalize:
        ics_s = ics_s / ics_s.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        ics_t = ics_t / ics_t.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    B, C = student.shape[:2]
    return sum(((ics_t[b] - ics_s[b])**2).sum() / C**2 for b in range(B)) / B


def naive_kd(student, teacher, tau=1.0):
    """Eq. 1 with an explicit loop over pixels, float64."""
    B, C, H, W = student.shape
    total = 0.0
    for b in range(B):
        for h in range(H):
            for w in range(W):
                p_t = torch.softmax(teacher[b, :, h, w].double() / tau, 0)
                p_s = torch.softmax(student[b, :, h, w].double() / tau, 0)
                total += (p_t * (p_t.log() - p_s.log())).sum().item()
    return tau**2 * total / (B * H * W)


@pytest.mark.parametrize('shape', SHAPES)
@pytest.mark.parametrize('tau', [1.0, 2.5])
def test_ics_matches_naive_loops(shape, tau):
    torch.manual_seed(0)
    logits = torch.randn(shape) * 3
    ics = inter_class_similarity(logits, tau)
    assert ics.shape == (shape[0], shape[1], shape[1])
    assert ics.dtype == torch.float32
    torch.testing.assert_close(
        ics.double(), naive_ics(logits, tau), rtol=1e-4, atol=1e-5)


def test_ics_hand_worked():
    # class 0 over 2 pixels: softmax([0, ln 3]) = [1/4, 3/4]; class 1 uniform
    logits = torch.tensor([[0.0, math.log(3.0)], [0.0, 0.0]]).view(1, 2, 1, 2)
    kl_01 = 0.25 * math.log(0.5) + 0.75 * math.log(1.5)  # 0.130812
    kl_10 = 0.5 * math.log(2.0) + 0.5 * math.log(2.0 / 3.0)  # 0.143841
    expected = torch.tensor([[[0.0, kl_01], [kl_10, 0.0]]])
    torch.testing.assert_close(
        inter_class_similarity(logits), expected, rtol=1e-6, atol=1e-7)
    # student uniform everywhere -> ICS_S = 0 -> loss = (kl01^2+kl10^2)/C^2
    loss = icsd_loss(torch.zeros_like(logits), logits)
    assert loss.item() == pytest.approx((kl_01**2 + kl_10**2) / 4, rel=1e-5)


@pytest.mark.parametrize('shape', SHAPES)
@pytest.mark.parametrize('normalize', [False, True])
def test_icsd_loss_matches_naive(shape, normalize):
    torch.manual_seed(1)
    student, teacher = torch.randn(shape) * 2, torch.randn(shape) * 2
    loss = icsd_loss(student, teacher, tau=1.5, normalize=normalize)
    expected = naive_icsd(student, teacher, tau=1.5, normalize=normalize)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-4, abs=1e-7)


@pytest.mark.parametrize('shape', SHAPES)
@pytest.mark.parametrize('tau', [1.0, 4.0])
def test_pixel_kd_matches_naive(shape, tau):
    torch.manual_seed(2)
    student, teacher = torch.randn(shape) * 2, torch.randn(shape) * 2
    loss = pixel_kd_loss(student, teacher, tau=tau)
    assert loss.dtype == torch.float32
    assert loss.item() == pytest.approx(
        naive_kd(student, teacher, tau), rel=1e-4, abs=1e-7)


def test_pixel_kd_hand_worked():
    # teacher softmax([0, ln 3]) = [1/4, 3/4], student uniform, 1 pixel:
    # KL = 1/4 ln(1/2) + 3/4 ln(3/2); with tau = 2 the logits are halved
    teacher = torch.tensor([0.0, math.log(3.0)]).view(1, 2, 1, 1)
    student = torch.zeros_like(teacher)
    kl = 0.25 * math.log(0.5) + 0.75 * math.log(1.5)
    assert pixel_kd_loss(student, teacher).item() == pytest.approx(
        kl, rel=1e-6)
    p = torch.softmax(torch.tensor([0.0, math.log(3.0) / 2]), 0).double()
    kl_tau2 = (p * (p.log() - math.log(0.5))).sum().item()
    assert pixel_kd_loss(
        student, teacher, tau=2.0).item() == pytest.approx(
            4 * kl_tau2, rel=1e-6)


@pytest.mark.parametrize('loss_fn', [icsd_loss, pixel_kd_loss])
def test_zero_when_student_equals_teacher(loss_fn):
    torch.manual_seed(3)
    logits = torch.randn(2, 7, 9, 11) * 5
    assert loss_fn(logits, logits.clone()).item() == pytest.approx(
        0.0, abs=1e-6)


@pytest.mark.parametrize('loss_cls', [ICSDLoss, PixelKDLoss])
def test_gradients_reach_student_only(loss_cls):
    torch.manual_seed(4)
    student = torch.randn(2, 5, 6, 7, requires_grad=True)
    teacher = torch.randn(2, 5, 6, 7, requires_grad=True)
    loss_cls()(student, teacher).backward()
    assert teacher.grad is None
    assert student.grad is not None
    assert torch.isfinite(student.grad).all()
    assert student.grad.abs().sum() > 0


@pytest.mark.parametrize('tau', [1.0, 0.5, 2.5])
def test_icsd_gradient_matches_float64_autograd(tau):
    """The hand-written backward of inter_class_similarity against float64
    autograd through the naive loops."""
    torch.manual_seed(5)
    student = torch.randn(2, 4, 5, 6) * 3
    teacher = torch.randn(2, 4, 5, 6)
    s32 = student.clone().requires_grad_()
    icsd_loss(s32, teacher, tau=tau).backward()
    s64 = student.double().requires_grad_()
    naive_icsd(s64, teacher.double(), tau=tau).backward()
    torch.testing.assert_close(
        s32.grad.double(), s64.grad, rtol=1e-3, atol=1e-7)


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
@pytest.mark.parametrize('loss_fn', [icsd_loss, pixel_kd_loss])
def test_low_precision_inputs(dtype, loss_fn):
    # N = 64 * 128 = 8192 and logits up to ~40: exp() overflows float16, so
    # a spatial softmax computed in float16 would give inf / nan
    torch.manual_seed(6)
    student = (torch.randn(2, 6, 64, 128) * 10).to(dtype)
    teacher = (torch.randn(2, 6, 64, 128) * 10).to(dtype)
    student.requires_grad_()
    loss = loss_fn(student, teacher)
    assert loss.dtype == torch.float32
    assert torch.isfinite(loss)
    reference = loss_fn(student.detach().float(), teacher.float())
    assert loss.item() == pytest.approx(reference.item(), rel=1e-5)
    loss.backward()
    assert student.grad.dtype == dtype
    assert torch.isfinite(student.grad.float()).all()


def test_ics_float32_under_autocast():
    torch.manual_seed(7)
    logits = torch.randn(2, 5, 16, 16) * 8
    with torch.autocast('cpu', dtype=torch.bfloat16):
        ics = inter_class_similarity(logits)
    assert ics.dtype == torch.float32
    torch.testing.assert_close(ics, inter_class_similarity(logits))


@pytest.mark.parametrize('loss_fn', [icsd_loss, pixel_kd_loss])
def test_student_resized_to_teacher(loss_fn):
    torch.manual_seed(8)
    student = torch.randn(2, 4, 10, 12)
    teacher = torch.randn(2, 4, 5, 6)
    resized = F.interpolate(
        student, size=(5, 6), mode='bilinear', align_corners=False)
    assert loss_fn(student, teacher).item() == pytest.approx(
        loss_fn(resized, teacher).item(), rel=1e-6)


@pytest.mark.parametrize('loss_fn', [icsd_loss, pixel_kd_loss])
def test_shape_errors(loss_fn):
    with pytest.raises(ValueError, match='number of classes'):
        loss_fn(torch.randn(2, 4, 5, 5), torch.randn(2, 5, 5, 5))
    with pytest.raises(ValueError, match=r'\(B, C, H, W\)'):
        loss_fn(torch.randn(4, 5, 5), torch.randn(4, 5, 5))
    # another aspect ratio: not the same crop
    with pytest.raises(ValueError, match=r'cannot be resized.*\(64, 128\)'):
        loss_fn(torch.randn(1, 3, 64, 128), torch.randn(1, 3, 128, 128))
    with pytest.raises(ValueError, match='cannot be resized'):
        loss_fn(torch.randn(1, 3, 0, 8), torch.randn(1, 3, 4, 8))


@pytest.mark.parametrize('loss_fn', [icsd_loss, pixel_kd_loss])
def test_output_stride_rounding_is_resized(loss_fn):
    """180x240 crop: stride-4 student logits 45x60, stride-8 teacher 23x30
    (ceil); the one-pixel rounding is accepted and resized."""
    torch.manual_seed(0)
    student, teacher = torch.randn(2, 4, 45, 60), torch.randn(2, 4, 23, 30)
    resized = F.interpolate(student, (23, 30), mode='bilinear')
    torch.testing.assert_close(
        loss_fn(student, teacher), loss_fn(resized, teacher))


def test_bad_tau():
    with pytest.raises(ValueError, match='tau'):
        inter_class_similarity(torch.randn(1, 2, 3, 3), tau=0)
    with pytest.raises(ValueError, match='tau'):
        ICSDLoss(tau=-1)
    with pytest.raises(ValueError, match='tau'):
        PixelKDLoss(tau=0)


def test_registered_modules_apply_loss_weight():
    torch.manual_seed(9)
    student, teacher = torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4)
    icsd = MODELS.build(dict(type='ICSDLoss', loss_weight=2.5))
    kd = MODELS.build(dict(type='PixelKDLoss', tau=2.0, loss_weight=0.5))
    assert icsd.loss_name == 'loss_icsd' and kd.loss_name == 'loss_kd'
    assert icsd(student, teacher).item() == pytest.approx(
        2.5 * icsd_loss(student, teacher).item(), rel=1e-6)
    assert kd(student, teacher).item() == pytest.approx(
        0.5 * pixel_kd_loss(student, teacher, tau=2.0).item(), rel=1e-6)


@pytest.mark.parametrize('tau', [0.0, -1.0, float('nan')])
def test_icsd_tau_must_be_positive(tau):
    # NaN fails every comparison: `tau <= 0` would let it through
    with pytest.raises(ValueError, match='tau must be positive'):
        ICSDLoss(tau=tau)
    with pytest.raises(ValueError, match='tau must be positive'):
        inter_class_similarity(torch.zeros(1, 2, 3, 3), tau)
