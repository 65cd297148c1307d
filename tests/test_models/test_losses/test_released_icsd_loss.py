# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""ReleasedCodeICSDLoss against a literal loop transcription of the
released code's ICS term and a hand-worked 2-class case."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmseg.registry import MODELS
from mmseg_aicsd.models.losses import (ICSDLoss, ReleasedCodeICSDLoss,
                                       released_ics, released_icsd_loss)


def loop_ics(logits, softmax_over='h'):
    """The released ``lo_loss`` matrix, one pair of classes at a time:
    ``M[i, j] = M[j, i] = KLDivLoss('batchmean')(P_i, P_j)`` for i <= j,
    P a softmax over H (or over H * W), float64."""
    B, C, H, W = logits.shape
    z = logits.double()
    if softmax_over == 'h':
        p = torch.softmax(z, dim=2)
    else:
        p = torch.softmax(z.reshape(B, C, -1), dim=2).reshape(B, C, H, W)
    m = torch.zeros(C, C, dtype=torch.float64)
    for i in range(C):
        for j in range(i, C):
            # kl_div(input, target) = sum target * (log target - input) / B
            m[i, j] = F.kl_div(p[:, i], p[:, j], reduction='batchmean')
            m[j, i] = m[i, j]
    return m


def loop_loss(student, teacher, softmax_over='h'):
    m_s, m_t = loop_ics(student, softmax_over), loop_ics(teacher, softmax_over)
    m_s = m_s / m_s.norm(dim=1, keepdim=True)
    m_t = m_t / m_t.norm(dim=1, keepdim=True)
    return ((m_s - m_t)**2).mean() / student.shape[0]


SHAPES = [(1, 2, 3, 4), (2, 3, 4, 5), (4, 11, 6, 8), (1, 19, 3, 7),
          (3, 21, 5, 2)]


@pytest.mark.parametrize('shape', SHAPES)
@pytest.mark.parametrize('softmax_over', ['h', 'hw'])
def test_matches_loop_transcription(shape, softmax_over):
    torch.manual_seed(0)
    student, teacher = torch.randn(shape) * 2, torch.randn(shape) * 2
    m = released_ics(student, softmax_over)
    assert m.dtype == torch.float32 and m.shape == shape[1:2] * 2
    torch.testing.assert_close(
        m.double(), loop_ics(student, softmax_over), rtol=1e-5, atol=1e-6)
    loss = released_icsd_loss(student, teacher, softmax_over)
    expected = loop_loss(student, teacher, softmax_over)
    assert expected > 0
    assert abs(loss.item() - expected.item()) <= 1e-5 * expected.item()


def test_hand_worked_two_classes():
    # B = 1, C = 2, H = 2, W = 1. Softmax over H: class 0 of the student is
    # (1/2, 1/2), class 1 is (3/4, 1/4); the teacher's classes are both
    # (1/2, 1/2).
    student = torch.tensor([[[[0.0], [0.0]], [[math.log(3)], [0.0]]]])
    teacher = torch.zeros(1, 2, 2, 1)
    e0 = 2 * 0.5 * math.log(0.5)  # sum P_0 log P_0
    e1 = 0.75 * math.log(0.75) + 0.25 * math.log(0.25)
    # M[i, j] = E[max(i, j)] - sum P_i P_j
    m_s = [[e0 - 0.5, e1 - 0.5], [e1 - 0.5, e1 - 0.625]]
    m_t = [[e0 - 0.5] * 2] * 2
    torch.testing.assert_close(
        released_ics(student), torch.tensor(m_s), rtol=1e-6, atol=1e-7)
    # every row of the teacher's matrix normalises to (1, 1) / -sqrt(2)
    expected = 0.0
    for row in m_s:
        norm = math.hypot(*row)
        expected += sum((x / norm + 1 / math.sqrt(2))**2 for x in row)
    expected /= 4  # mean over the 2 x 2 entries, B = 1
    assert m_t[0][0] < 0
    loss = released_icsd_loss(student, teacher)
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    assert expected == pytest.approx(0.00161, abs=1e-5)  # by hand


def test_divided_by_batch_size():
    # the same image twice: the same pooled, normalised matrix, so the
    # value halves with the extra division by B
    torch.manual_seed(1)
    s, t = torch.randn(1, 5, 6, 7), torch.randn(1, 5, 6, 7)
    one = released_icsd_loss(s, t)
    two = released_icsd_loss(s.repeat(2, 1, 1, 1), t.repeat(2, 1, 1, 1))
    torch.testing.assert_close(two, one / 2)


def test_not_eq4():
    # Eq. 4 and the released term are different quantities
    torch.manual_seed(2)
    s, t = torch.randn(2, 4, 5, 6), torch.randn(2, 4, 5, 6)
    assert abs(
        released_icsd_loss(s, t).item() -
        ICSDLoss(normalize=True)(s, t).item()) > 1e-3


def test_upsample_size_matches_manual_upsampling():
    torch.manual_seed(3)
    s, t = torch.randn(2, 3, 4, 5), torch.randn(2, 3, 8, 10)
    loss = ReleasedCodeICSDLoss(upsample_size=(16, 20))(s, t)
    up = [
        F.interpolate(
            x.double(), (16, 20), mode='bilinear', align_corners=True)
        for x in (s, t)
    ]
    # a loss of 1.6e-6 from unit rows that agree to 1e-3: float32 keeps
    # about 5 digits of it
    assert loss.item() == pytest.approx(loop_loss(*up).item(), rel=5e-5)
    # without: the student is resized to the teacher's 8 x 10
    s8 = F.interpolate(s, (8, 10), mode='bilinear', align_corners=False)
    assert ReleasedCodeICSDLoss()(s, t).item() == pytest.approx(
        loop_loss(s8, t).item(), rel=1e-5)


def test_gradient_matches_loop_and_teacher_detached():
    torch.manual_seed(4)
    s = (torch.randn(2, 4, 5, 3) * 2).requires_grad_()
    t = (torch.randn(2, 4, 5, 3) * 2).requires_grad_()
    released_icsd_loss(s, t).backward()
    s64 = s.detach().double().requires_grad_()
    loop_loss(s64, t.detach()).backward()
    torch.testing.assert_close(s.grad.double(), s64.grad, rtol=1e-4, atol=1e-9)
    assert t.grad is None


def test_registered_weight_and_name():
    loss = MODELS.build(
        dict(
            type='ReleasedCodeICSDLoss',
            loss_weight=38000.0,
            loss_name='loss_ics'))
    assert loss.loss_name == 'loss_ics'
    torch.manual_seed(5)
    s, t = torch.randn(4, 11, 6, 8), torch.randn(4, 11, 6, 8)
    torch.testing.assert_close(loss(s, t), 38000.0 * released_icsd_loss(s, t))


def test_finite_for_masked_regions_and_float32_under_autocast():
    torch.manual_seed(6)
    s = torch.randn(1, 3, 4, 4, dtype=torch.bfloat16)
    t = torch.randn(1, 3, 4, 4)
    t[:, 1, :2] = -math.inf  # a masked region
    s[:, 2] = -math.inf  # a class masked everywhere
    with torch.autocast('cpu', dtype=torch.bfloat16):
        loss = released_icsd_loss(s.requires_grad_(), t)
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    loss.backward()
    assert torch.isfinite(s.grad).all()


@pytest.mark.parametrize('kwargs, match', [
    (dict(softmax_over='w'), 'softmax_over'),
    (dict(upsample_size=(512, )), 'upsample_size'),
    (dict(upsample_size=(512, 0)), 'upsample_size'),
    (dict(upsample_size=(512.0, 512)), 'upsample_size'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ReleasedCodeICSDLoss(**kwargs)


def test_bad_shapes():
    with pytest.raises(ValueError, match='number of classes'):
        released_icsd_loss(torch.randn(1, 3, 4, 4), torch.randn(1, 4, 4, 4))
    with pytest.raises(ValueError, match='must be a'):
        released_ics(torch.randn(3, 4, 4))
