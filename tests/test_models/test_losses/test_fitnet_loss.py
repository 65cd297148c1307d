# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""FitNet against a naive float64 loop over the elements, hand-worked
values, gradients and bad inputs."""
import pytest
import torch
import torch.nn.functional as F

from mmseg.registry import MODELS
from mmseg_aicsd.models.losses import FitNetLoss, fitnet_loss


def randn(shape, seed, scale=2.0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=gen) * scale


def naive_fitnet(student, teacher):
    if student.shape[2:] != teacher.shape[2:]:
        student = F.interpolate(
            student.double(),
            size=teacher.shape[2:],
            mode='bilinear',
            align_corners=False)
    B, C, H, W = teacher.shape
    total = 0.0
    for b in range(B):
        for c in range(C):
            for h in range(H):
                for w in range(W):
                    d = student[b, c, h, w].item() - teacher[b, c, h, w].item()
                    total += d * d
    return total / (B * C * H * W)


@pytest.mark.parametrize(
    's_shape,t_shape',
    [
        ((2, 3, 5, 4), (2, 3, 5, 4)),
        ((3, 4, 8, 10), (3, 4, 4, 5)),  # student at twice the size
    ])
def test_fitnet_matches_loops(s_shape, t_shape):
    student, teacher = randn(s_shape, 0), randn(t_shape, 1)
    loss = fitnet_loss(student, teacher)
    expected = naive_fitnet(student, teacher)
    assert expected > 0
    assert loss.dtype == torch.float32 and loss.dim() == 0
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_fitnet_hand_worked():
    ones = torch.ones(2, 3, 4, 4)
    assert fitnet_loss(ones, ones).item() == 0
    assert fitnet_loss(torch.zeros(2, 3, 4, 4), ones).item() == 1
    assert fitnet_loss(torch.zeros(2, 3, 4, 4), 3 * ones).item() == 9
    # one element of 16 off by 4: 16 / 16
    student = ones.clone()
    student[0, 0, 0, 0] = 5
    assert fitnet_loss(student[:1, :1], ones[:1, :1]).item() == 1


def test_fitnet_gradient_to_student_only():
    student = randn((2, 3, 4, 4), 2).requires_grad_()
    teacher = randn((2, 3, 4, 4), 3).requires_grad_()
    loss = FitNetLoss(loss_weight=0.5)(student, teacher)
    loss.backward()
    assert teacher.grad is None
    expected = 0.5 * 2 * (student - teacher).detach() / student.numel()
    torch.testing.assert_close(student.grad, expected)
    assert loss.item() == pytest.approx(
        0.5 * naive_fitnet(student.detach(), teacher.detach()), rel=1e-5)


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_fitnet_low_precision_inputs_give_float32(dtype):
    student, teacher = randn((2, 4, 6, 6), 4), randn((2, 4, 6, 6), 5)
    low = fitnet_loss(student.to(dtype), teacher.to(dtype))
    assert low.dtype == torch.float32
    assert low.item() == pytest.approx(
        naive_fitnet(student.to(dtype).float(),
                     teacher.to(dtype).float()),
        rel=1e-5)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        auto = fitnet_loss(student, teacher)
    assert auto.dtype == torch.float32
    assert auto.item() == pytest.approx(
        naive_fitnet(student, teacher), rel=1e-5)


def test_fitnet_needs_a_connector_for_other_widths():
    with pytest.raises(ValueError, match='connector'):
        fitnet_loss(torch.zeros(1, 2, 4, 4), torch.zeros(1, 3, 4, 4))


@pytest.mark.parametrize('s_shape,t_shape,match', [
    ((2, 3, 4), (2, 3, 4, 4), r'\(B, C, H, W\)'),
    ((2, 3, 4, 4), (1, 3, 4, 4), 'batch size'),
    ((2, 3, 4, 16), (2, 3, 4, 4), 'aspect ratios'),
    ((2, 3, 0, 4), (2, 3, 4, 4), 'empty'),
])
def test_fitnet_bad_shapes(s_shape, t_shape, match):
    with pytest.raises(ValueError, match=match):
        fitnet_loss(torch.zeros(s_shape), torch.zeros(t_shape))


def test_fitnet_nan_propagates():
    teacher = torch.zeros(1, 2, 3, 3)
    teacher[0, 0, 0, 0] = float('nan')
    assert torch.isnan(fitnet_loss(torch.zeros(1, 2, 3, 3), teacher))


def test_fitnet_registered_and_built_from_config():
    loss = MODELS.build(dict(type='FitNetLoss', loss_weight=2.0))
    assert (loss.loss_name, loss.loss_weight) == ('loss_fitnet', 2.0)
    ones = torch.ones(1, 2, 2, 2)
    assert loss(ones * 0, ones).item() == 2.0
