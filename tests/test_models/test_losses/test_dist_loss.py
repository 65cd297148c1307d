# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""DIST against naive float64 loops (Pearson correlations of every pixel's
and every class's probabilities), hand-worked values, gradients and bad
inputs."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmseg.registry import MODELS
from mmseg_aicsd.models.losses import DISTLoss, dist_loss


def randn(shape, seed, scale=2.0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(shape, generator=gen) * scale


def pearson(x, y):
    mx, my = sum(x) / len(x), sum(y) / len(y)
    dx, dy = [a - mx for a in x], [b - my for b in y]
    nx = math.sqrt(sum(a * a for a in dx))
    ny = math.sqrt(sum(b * b for b in dy))
    if nx == 0 or ny == 0:
        return 0.0
    return sum(a * b for a, b in zip(dx, dy)) / (nx * ny)


def probabilities(logits, tau):
    """[[p(class c) for c] for every pixel (b, h, w)], by loops."""
    logits = logits.double()
    B, C, H, W = logits.shape
    rows = []
    for b in range(B):
        for h in range(H):
            for w in range(W):
                z = [logits[b, c, h, w].item() / tau for c in range(C)]
                top = max(z)
                e = [math.exp(v - top) for v in z]
                rows.append([v / sum(e) for v in e])
    return rows


def naive_dist(student, teacher, tau=1.0, beta=1.0, gamma=1.0):
    if student.shape[2:] != teacher.shape[2:]:
        student = F.interpolate(
            student.double(),
            size=teacher.shape[2:],
            mode='bilinear',
            align_corners=False)
    p_s, p_t = probabilities(student, tau), probabilities(teacher, tau)
    C = len(p_s[0])
    inter = 1 - sum(pearson(a, b) for a, b in zip(p_s, p_t)) / len(p_s)
    intra = 1 - sum(
        pearson([r[c] for r in p_s], [r[c] for r in p_t])
        for c in range(C)) / C
    return tau**2 * (beta * inter + gamma * intra)


CASES = [
    dict(),
    dict(tau=4.0),
    dict(beta=2.0, gamma=0.5),
    dict(beta=0.0),
    dict(gamma=0.0),
]


@pytest.mark.parametrize('kwargs', CASES, ids=str)
@pytest.mark.parametrize(
    's_shape,t_shape',
    [
        ((2, 5, 4, 3), (2, 5, 4, 3)),
        ((3, 4, 8, 10), (3, 4, 4, 5)),  # student at twice the size
    ])
def test_dist_matches_loops(kwargs, s_shape, t_shape):
    student, teacher = randn(s_shape, 0), randn(t_shape, 1)
    loss = dist_loss(student, teacher, **kwargs)
    expected = naive_dist(student, teacher, **kwargs)
    assert expected > 0
    assert loss.dtype == torch.float32 and loss.dim() == 0
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_dist_hand_worked():
    """Equal logits: both correlations 1, loss 0. Teacher logits of
    opposite sign for two classes: each pixel's probabilities are
    (p, 1 - p) and (1 - p, p), correlation -1, and every class column of
    the teacher is 1 minus the student's, correlation -1 too: the loss is
    2 + 2 = 4 (its maximum with beta = gamma = 1)."""
    student = randn((2, 2, 3, 3), 2)
    assert dist_loss(student, student).item() == pytest.approx(0, abs=1e-6)
    flipped = student.flip(1)
    assert dist_loss(student, flipped).item() == pytest.approx(4, rel=1e-5)
    # a uniform student (constant logits): every pixel has zero variance
    # (inter = 1), every class column is constant (intra = 1)
    assert dist_loss(torch.zeros(2, 3, 2, 2), randn(
        (2, 3, 2, 2), 3)).item() == pytest.approx(2)


def test_dist_gradient_to_student_only():
    student = randn((2, 4, 3, 3), 4).requires_grad_()
    teacher = randn((2, 4, 3, 3), 5).requires_grad_()
    loss = DISTLoss(loss_weight=2.0, beta=1.0, gamma=2.0)(student, teacher)
    loss.backward()
    assert teacher.grad is None
    assert torch.isfinite(student.grad).all() and student.grad.abs().sum() > 0
    assert loss.item() == pytest.approx(
        2 * naive_dist(student.detach(), teacher.detach(), gamma=2.0),
        rel=1e-5)


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_dist_low_precision_inputs_give_float32(dtype):
    student, teacher = randn((2, 6, 5, 5), 6), randn((2, 6, 5, 5), 7)
    low = dist_loss(student.to(dtype), teacher.to(dtype))
    assert low.dtype == torch.float32
    assert low.item() == pytest.approx(
        naive_dist(student.to(dtype).float(),
                   teacher.to(dtype).float()),
        rel=1e-5)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        auto = dist_loss(student, teacher)
    assert auto.dtype == torch.float32
    assert auto.item() == pytest.approx(naive_dist(student, teacher), rel=1e-5)


def test_dist_infinite_logits_finite():
    student = randn((1, 4, 3, 3), 8)
    student[:, 0] = -float('inf')  # a masked class
    teacher = randn((1, 4, 3, 3), 9)
    teacher[..., 0, :] = -float('inf')  # a masked region: uniform there
    s = student.requires_grad_()
    loss = dist_loss(s, teacher)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(s.grad).all()


@pytest.mark.parametrize(
    'dtype', [torch.float32, torch.float16, torch.bfloat16], ids=str)
@pytest.mark.parametrize('scale', [1e-3, 1.0, 30.0, 1e4])
@pytest.mark.parametrize('tau', [1.0, 4.0])
def test_dist_finite_for_extreme_logits(dtype, scale, tau):
    """Logit scales 1e-3 to 1e4 (one-hot-like softmaxes at the top):
    finite float32 values in [0, 4 tau^2] and finite gradients."""
    student = (randn((2, 7, 6, 6), 10) * scale).to(dtype).requires_grad_()
    teacher = (randn((2, 7, 6, 6), 11) * scale).to(dtype)
    loss = dist_loss(student, teacher, tau=tau)
    (grad, ) = torch.autograd.grad(loss, student)
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    assert 0 <= loss.item() <= 4 * tau**2 + 1e-4
    assert grad.dtype == dtype and torch.isfinite(grad).all()


def test_dist_bad_inputs():
    with pytest.raises(ValueError, match='number of classes'):
        dist_loss(torch.zeros(1, 3, 4, 4), torch.zeros(1, 4, 4, 4))
    with pytest.raises(ValueError, match=r'\(B, C, H, W\)'):
        dist_loss(torch.zeros(3, 4, 4), torch.zeros(1, 3, 4, 4))
    with pytest.raises(ValueError, match='aspect ratios'):
        dist_loss(torch.zeros(1, 3, 4, 16), torch.zeros(1, 3, 4, 4))
    for kwargs, match in [(dict(tau=0), 'tau'), (dict(beta=-1), 'beta'),
                          (dict(gamma=float('nan')), 'gamma')]:
        with pytest.raises(ValueError, match=match):
            DISTLoss(**kwargs)
        with pytest.raises(ValueError, match=match):
            dist_loss(
                torch.zeros(1, 3, 2, 2), torch.zeros(1, 3, 2, 2), **kwargs)


def test_dist_registered_and_built_from_config():
    loss = MODELS.build(dict(type='DISTLoss', tau=2.0, loss_weight=3.0))
    assert (loss.loss_name, loss.tau, loss.beta, loss.gamma,
            loss.loss_weight) == ('loss_dist', 2.0, 1.0, 1.0, 3.0)
