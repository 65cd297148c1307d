# Copyright (c) mmseg_aicsd contributors. All rights reserved.
import math
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

# exp(-1e4) is 0 in every float format, and finite logits only get there
# with a spread of 1e4 / tau; the floor keeps KL finite where a region is
# masked with -inf (0 * log 0 terms and log-ratios against a zero).
LOG_PROB_FLOOR = -1e4


def finite_log_softmax(logits: Tensor, dim: int) -> Tensor:
    """``log_softmax`` that stays finite for infinite logits.

    +-inf logits are clamped to the dtype's largest finite values first (a
    map masked with -inf everywhere becomes uniform instead of NaN), and
    the log-probabilities are clamped at :data:`LOG_PROB_FLOOR`, so every
    KL built from them is finite. NaN stays NaN, to be reported.

    Args:
        logits (Tensor): Logits of any shape, floating dtype.
        dim (int): Dimension of the softmax.

    Returns:
        Tensor: Log-probabilities in [LOG_PROB_FLOOR, 0], the shape and
        dtype of ``logits``.
    """
    finfo = torch.finfo(logits.dtype)
    logits = logits.clamp(finfo.min, finfo.max)
    return F.log_softmax(logits, dim=dim).clamp_min(LOG_PROB_FLOOR)


def match_logits(student_logits: Tensor,
                 teacher_logits: Tensor,
                 align_corners: bool = False,
                 match_channels: bool = True) -> Tuple[Tensor, Tensor]:
    """Check a student/teacher pair of maps and bring them to one size.

    Every distillation loss calls this on its two inputs; the segmentor
    does not resize them.

    Args:
        student_logits (Tensor): Student logits or features, shape
            (B, C_s, H_s, W_s).
        teacher_logits (Tensor): Teacher logits or features, shape
            (B, C_t, H_t, W_t).
        align_corners (bool): ``align_corners`` of the bilinear resize.
        match_channels (bool): Require C_s == C_t, as the logit losses do.
            False for the losses that also take features: those whose
            value does not depend on the channel count (attention
            transfer, SKD pair-wise), and those that check it themselves
            to name the connector in their error (CWD, ICKD). Then only the
            batch sizes must be equal, and error messages say "maps"
            rather than "logits". Defaults to True.

    Returns:
        tuple[Tensor, Tensor]: The student map, bilinearly resized to
        (H_t, W_t) if its spatial size differs, and the teacher map.

    Raises:
        ValueError: If either tensor is not 4-D, the batch sizes differ,
            the class counts (dim 1) differ and ``match_channels`` is True,
            a spatial size is 0, or the two maps have different aspect
            ratios (beyond the one-pixel rounding of different output
            strides): resizing would misalign them.
    """
    what = 'logits' if match_channels else 'maps'
    if student_logits.dim() != 4 or teacher_logits.dim() != 4:
        raise ValueError(
            f'student and teacher {what} must be (B, C, H, W) tensors, got '
            f'shapes {tuple(student_logits.shape)} and '
            f'{tuple(teacher_logits.shape)}')
    if match_channels and student_logits.shape[:2] != teacher_logits.shape[:2]:
        raise ValueError(
            'student and teacher logits must have the same batch size and '
            'number of classes (dims 0 and 1), got shapes '
            f'{tuple(student_logits.shape)} (student) and '
            f'{tuple(teacher_logits.shape)} (teacher)')
    if student_logits.shape[0] != teacher_logits.shape[0]:
        raise ValueError(
            f'student and teacher {what} must have the same batch size '
            f'(dim 0), got shapes {tuple(student_logits.shape)} (student) '
            f'and {tuple(teacher_logits.shape)} (teacher)')
    (hs, ws), (ht, wt) = student_logits.shape[2:], teacher_logits.shape[2:]
    if 0 in (hs, ws, ht, wt) or abs(hs * wt - ht * ws) > hs + ws + ht + wt:
        raise ValueError(
            f'student and teacher {what} cannot be resized to one another: '
            f'spatial sizes {(hs, ws)} (student) and {(ht, wt)} (teacher) '
            'are empty or of different aspect ratios. Both must come from '
            'the same input crop.')
    if (hs, ws) != (ht, wt):
        student_logits = F.interpolate(
            student_logits,
            size=teacher_logits.shape[2:],
            mode='bilinear',
            align_corners=align_corners)
    return student_logits, teacher_logits


def divide_by_abs_max(x: Tensor, per_sample: bool = True) -> Tensor:
    """``x`` divided by its largest absolute value, without gradient
    through the divisor.

    For losses whose value does not change when their input is multiplied
    by a positive constant (attention transfer, similarity-preserving, SKD
    pair-wise, ICKD: each ends in an L2 normalisation). Dividing first
    changes neither their value nor their gradient (the gradient of a
    scale-invariant loss at ``x / s`` is ``s`` times the one at ``x``, and
    the chain rule through the constant ``1 / s`` divides it back), but
    keeps the powers and products they form within float32 range:
    ``x^2`` overflows above about 1.8e19 (bfloat16 maps reach 3e38) and
    underflows below about 1e-19.

    Args:
        x (Tensor): Input of shape (B, ...), floating dtype.
        per_sample (bool): One divisor per sample (dim 0), for losses
            invariant to the scale of each sample; else one for the whole
            tensor. Defaults to True.

    Returns:
        Tensor: ``x / max|x|``, same shape and dtype; maxima of 0 are
        replaced by 1 (an all-zero sample stays zero). Non-finite input
        gives non-finite output: it is not hidden.
    """
    magnitude = x.detach().abs()
    if per_sample:
        scale = magnitude.flatten(1).amax(dim=1)
        scale = scale.view((-1, ) + (1, ) * (x.dim() - 1))
    else:
        scale = magnitude.amax()
    return x / torch.where(scale > 0, scale, torch.ones_like(scale))


def normalize_nonzero(x: Tensor, dim: int, detach_norm: bool = False
                      ) -> Tensor:
    """L2 normalisation along ``dim`` that leaves zero vectors at zero,
    with zero gradient.

    ``F.normalize`` divides by ``max(||x||, 1e-12)``: a zero vector stays
    zero, but the gradient through it is multiplied by 1e12. Zero vectors
    occur: a row of a Gram matrix for an all-zero sample (SP) or a channel
    that is zero in a cell (ICKD, dead ReLU units), a pooled node that is
    zero in every channel (SKD); they would pass gradients of order 1e12
    to the features. Here a zero vector has no direction: it stays 0
    (similarity 0 to everything) and passes no gradient. Nonzero vectors
    are normalised exactly, without an epsilon; dividing the inputs by
    their largest |entry| first (see :func:`divide_by_abs_max`) keeps the
    norms clear of underflow.

    Args:
        x (Tensor): Input, floating dtype.
        dim (int): Dimension to normalise along.
        detach_norm (bool): Divide by the norm without differentiating
            through it (the official SKD code's choice). Defaults to False.

    Returns:
        Tensor: ``x / ||x||`` along ``dim``; 0 where ``||x|| = 0``, NaN
        where the vector holds a NaN.
    """
    norm = torch.linalg.vector_norm(x, dim=dim, keepdim=True)
    if detach_norm:
        norm = norm.detach()
    # x / inf = 0, and its gradient 1 / inf = 0, where the norm is 0; a NaN
    # norm stays NaN, for the non-finite check to report
    return x / torch.where(norm == 0, torch.full_like(norm, math.inf), norm)
