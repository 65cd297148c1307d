# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Property-based tests of the distillation losses on extreme inputs.

Shapes: C from 1 to 150 classes, H * W from 1 to 99,856 pixels; logit
scales from 1e-3 to 1e4; random, constant, -inf-masked and very negative
maps; float32, float16 and bfloat16 inputs. The feature losses (AT, SP,
SKD pair-wise, ICKD) on maps up to 3 x 32 x 80 x 80, scales from 1e-30 to
1e30, with zero, ReLU-sparse, constant and one-hot maps.
"""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mmseg_aicsd.models.losses import (at_loss, cwd_loss, ickd_loss, icsd_loss,
                                       inter_class_similarity, pixel_kd_loss,
                                       skd_pairwise_loss, sp_loss)
from mmseg_aicsd.models.losses.utils import LOG_PROB_FLOOR

DTYPES = (torch.float32, torch.float16, torch.bfloat16)
PATTERNS = ('random', 'constant', 'neg_inf_region', 'very_negative_region',
            'neg_inf_class')


@st.composite
def logit_pairs(draw, max_side=316):
    """(student, teacher, tau) with shape (B, C, H, W) and a map pattern."""
    C = draw(st.integers(1, 150))
    H = draw(st.integers(1, max_side))
    W = draw(st.integers(1, max_side))
    B = draw(st.integers(1, 2)) if C * H * W < 10**5 else 1
    scale = draw(st.sampled_from((1e-3, 1.0, 30.0, 1e2, 1e3, 1e4)))
    pattern = draw(st.sampled_from(PATTERNS))
    dtype = draw(st.sampled_from(DTYPES))
    tau = draw(st.sampled_from((0.5, 1.0, 4.0)))
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))

    def one_map():
        x = torch.randn(B, C, H, W, generator=gen) * scale
        if pattern == 'constant':
            x = torch.full_like(x, scale)
        elif pattern == 'neg_inf_region':  # e.g. masked padding
            x[..., :(H + 1) // 2, :] = -float('inf')
        elif pattern == 'very_negative_region':
            x[..., :, :(W + 1) // 2] = -1e4 * scale
        elif pattern == 'neg_inf_class':  # a whole class map masked
            x[:, 0] = -float('inf')
        return x.to(dtype)

    return one_map(), one_map(), tau


def loss_and_grad(loss_fn, student, teacher, **kwargs):
    student = student.detach().clone().requires_grad_()
    loss = loss_fn(student, teacher, **kwargs)
    loss.backward()
    return loss, student.grad


LOSSES = [
    pytest.param(icsd_loss, {}, id='icsd'),
    pytest.param(icsd_loss, dict(normalize=True), id='icsd-normalize'),
    pytest.param(pixel_kd_loss, {}, id='kd'),
]


@pytest.mark.parametrize('loss_fn,kwargs', LOSSES)
@settings(max_examples=40, deadline=None)
@given(pair=logit_pairs())
def test_loss_finite_nonnegative_with_finite_gradient(loss_fn, kwargs, pair):
    student, teacher, tau = pair
    loss, grad = loss_and_grad(loss_fn, student, teacher, tau=tau, **kwargs)
    assert loss.dtype == torch.float32 and loss.dim() == 0
    assert torch.isfinite(loss), loss
    assert loss >= 0, loss
    assert grad.dtype == student.dtype
    assert torch.isfinite(grad).all()


@pytest.mark.parametrize('loss_fn,kwargs', LOSSES)
@settings(max_examples=40, deadline=None)
@given(pair=logit_pairs())
def test_loss_zero_when_student_equals_teacher(loss_fn, kwargs, pair):
    logits, _, tau = pair
    loss, grad = loss_and_grad(loss_fn, logits, logits, tau=tau, **kwargs)
    assert loss == 0, loss
    assert torch.isfinite(grad).all()


@settings(max_examples=40, deadline=None)
@given(pair=logit_pairs())
def test_ics_finite_with_zero_diagonal(pair):
    logits, _, tau = pair
    ics = inter_class_similarity(logits, tau)
    assert ics.dtype == torch.float32
    assert ics.shape == logits.shape[:2] + logits.shape[1:2]
    assert torch.isfinite(ics).all()
    # KL(G_i || G_i) = 0 up to float32 rounding of sums of at most
    # |LOG_PROB_FLOOR| nats
    diag = ics.diagonal(dim1=1, dim2=2)
    assert diag.abs().max() <= 1e-5 * -LOG_PROB_FLOOR


def test_masked_region_matches_dropping_it():
    """A -inf region has zero probability: the ICS equals the ICS of the
    unmasked pixels alone (a hand-checkable consequence of Eq. 2-3)."""
    torch.manual_seed(0)
    logits = torch.randn(2, 4, 6, 5) * 3
    masked = torch.cat([logits, torch.full((2, 4, 3, 5), -float('inf'))], 2)
    torch.testing.assert_close(
        inter_class_similarity(masked), inter_class_similarity(logits))
    torch.testing.assert_close(
        pixel_kd_loss(masked[:, :, :6], masked[:, :, :6]), torch.tensor(0.))


def test_all_masked_class_map_is_uniform():
    """A class map that is -inf everywhere counts as uniform over pixels."""
    logits = torch.randn(1, 3, 4, 4)
    masked, uniform = logits.clone(), logits.clone()
    masked[:, 1] = -float('inf')
    uniform[:, 1] = 0.0
    torch.testing.assert_close(
        inter_class_similarity(masked), inter_class_similarity(uniform))


def test_nan_propagates():
    """NaN logits are not hidden: the loss is NaN, for the training loop's
    non-finite check to report it."""
    logits = torch.randn(1, 3, 4, 4)
    bad = logits.clone()
    bad[0, 0, 0, 0] = float('nan')
    assert torch.isnan(icsd_loss(logits, bad))
    assert torch.isnan(pixel_kd_loss(logits, bad))


# ------------------------------------- CWD, and pixel KD with a void mask

KD_REDUCTIONS = ('mean', 'elementwise_mean', 'batchmean', 'sum')


@st.composite
def masked_kd_cases(draw):
    """(student, teacher, tau, labels, reduction); labels with none, some
    or all pixels void (255)."""
    student, teacher, tau = draw(logit_pairs(max_side=96))
    B, _, H, W = teacher.shape
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    labels = torch.randint(0, 4, (B, H, W), generator=gen)
    void = draw(st.sampled_from(('none', 'some', 'all')))
    if void == 'some':
        labels[labels == 0] = 255
    elif void == 'all':
        labels.fill_(255)
    return student, teacher, tau, labels, draw(st.sampled_from(KD_REDUCTIONS))


@settings(max_examples=25, deadline=None)
@given(case=masked_kd_cases())
def test_kd_with_void_mask_finite_with_finite_gradient(case):
    student, teacher, tau, labels, reduction = case
    kwargs = dict(
        tau=tau, labels=labels, ignore_index=255, reduction=reduction)
    loss, grad = loss_and_grad(pixel_kd_loss, student, teacher, **kwargs)
    assert loss.dtype == torch.float32 and loss.dim() == 0
    assert torch.isfinite(loss) and loss >= 0, loss
    assert grad.dtype == student.dtype
    assert torch.isfinite(grad).all()
    if (labels == 255).all():
        assert loss == 0 and (grad == 0).all()
    loss, grad = loss_and_grad(pixel_kd_loss, teacher, teacher, **kwargs)
    assert loss == 0, loss
    assert torch.isfinite(grad).all()


@settings(max_examples=25, deadline=None)
@given(pair=logit_pairs(max_side=96))
def test_cwd_finite_nonnegative_with_finite_gradient(pair):
    student, teacher, tau = pair
    loss, grad = loss_and_grad(cwd_loss, student, teacher, tau=tau)
    assert loss.dtype == torch.float32 and loss.dim() == 0
    assert torch.isfinite(loss) and loss >= 0, loss
    assert grad.dtype == student.dtype
    assert torch.isfinite(grad).all()
    loss, grad = loss_and_grad(cwd_loss, teacher, teacher, tau=tau)
    assert loss == 0, loss
    assert torch.isfinite(grad).all()


# ------------------------------------------------ AT, SP, SKD, ICKD

FEATURE_PATTERNS = ('random', 'relu', 'constant', 'zeros', 'one_hot')


@st.composite
def feature_pairs(draw, same_channels):
    """(student, teacher): teacher (B, C_t, H, W), student at the same or
    twice the resolution, its own width unless ``same_channels``."""
    B = draw(st.integers(1, 3))
    c_t = draw(st.integers(1, 32))
    c_s = c_t if same_channels else draw(st.integers(1, 32))
    H, W = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    stride = draw(st.sampled_from((1, 2)))
    dtype = draw(st.sampled_from(DTYPES))
    # float16 gradients scale as 1 / |F| and overflow for tiny maps
    scales = (1e-2, 1.0, 1e2,
              1e4) if dtype == torch.float16 else (1e-30, 1e-6, 1.0, 1e6, 1e30)
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))

    def one_map(shape):
        scale = draw(st.sampled_from(scales))
        pattern = draw(st.sampled_from(FEATURE_PATTERNS))
        x = torch.randn(shape, generator=gen) * scale
        if pattern == 'relu':
            x = x.clamp_min(0)
        elif pattern == 'constant':
            x = torch.full(shape, scale)
        elif pattern == 'zeros':
            x = torch.zeros(shape)
        elif pattern == 'one_hot':  # one nonzero entry per sample
            x = torch.zeros(shape)
            x.view(shape[0], -1)[:, 0] = scale
        finfo = torch.finfo(dtype)
        return x.clamp(-finfo.max, finfo.max).to(dtype)

    return (one_map((B, c_s, H * stride, W * stride)), one_map((B, c_t, H, W)))


FEATURE_LOSSES = [
    pytest.param(at_loss, {}, False, id='at'),
    pytest.param(at_loss, dict(p=1.0), False, id='at-p1'),
    pytest.param(sp_loss, {}, False, id='sp'),
    pytest.param(skd_pairwise_loss, {}, False, id='skd-official'),
    pytest.param(
        skd_pairwise_loss,
        dict(scale=None, kernel_size=2, detach_norm=False),
        False,
        id='skd-cirkd'),
    pytest.param(ickd_loss, {}, True, id='ickd'),
    pytest.param(ickd_loss, dict(grid=(2, 3)), True, id='ickd-grid'),
]


@pytest.mark.parametrize('loss_fn,kwargs,same_channels', FEATURE_LOSSES)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_feature_loss_finite_with_finite_gradient(loss_fn, kwargs,
                                                  same_channels, data):
    student, teacher = data.draw(feature_pairs(same_channels))
    if 'grid' in kwargs:  # at most one cell per position
        kwargs = dict(
            grid=tuple(
                min(cells, side)
                for cells, side in zip(kwargs['grid'], teacher.shape[2:])))
    loss, grad = loss_and_grad(loss_fn, student, teacher, **kwargs)
    assert loss.dtype == torch.float32 and loss.dim() == 0
    assert torch.isfinite(loss) and loss >= 0, loss
    assert grad.dtype == student.dtype
    assert torch.isfinite(grad).all()
    loss, grad = loss_and_grad(loss_fn, teacher, teacher, **kwargs)
    assert loss.item() == pytest.approx(0, abs=1e-6)
    assert torch.isfinite(grad).all()


@pytest.mark.parametrize(
    'loss_fn', [cwd_loss, at_loss, sp_loss, skd_pairwise_loss, ickd_loss])
def test_nan_propagates_in_new_losses(loss_fn):
    """NaN maps give a NaN loss, for the non-finite check to report."""
    maps = torch.randn(2, 3, 4, 4)
    bad = maps.clone()
    bad[1, 0, 0, 0] = float('nan')
    assert torch.isnan(loss_fn(maps, bad))
    assert torch.isnan(loss_fn(bad, maps))


def test_kd_nan_in_void_pixels_is_ignored_elsewhere_reported():
    logits = torch.randn(1, 3, 2, 2)
    bad = logits.clone()
    bad[0, :, 0, 0] = float('nan')
    labels = torch.tensor([[[255, 1], [1, 1]]])
    assert torch.isfinite(
        pixel_kd_loss(logits, bad, labels=labels, ignore_index=255))
    labels[0, 0, 0] = 1
    assert torch.isnan(
        pixel_kd_loss(logits, bad, labels=labels, ignore_index=255))
