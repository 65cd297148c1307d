# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Property-based tests of the distillation losses on extreme inputs.

Shapes: C from 1 to 150 classes, H * W from 1 to 99,856 pixels; logit
scales from 1e-3 to 1e4; random, constant, -inf-masked and very negative
maps; float32, float16 and bfloat16 inputs.
"""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mmseg_aicsd.models.losses import (icsd_loss, inter_class_similarity,
                                       pixel_kd_loss)
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
