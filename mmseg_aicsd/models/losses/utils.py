# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Checks and numerics the distillation losses share."""
import math
from typing import Sequence, Tuple, Union

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
            to name the connector in their error (CWD, ICKD, I2CKD; see
            :func:`check_same_channels`). Then only the
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


def normalize_nonzero(x: Tensor,
                      dim: int,
                      detach_norm: bool = False) -> Tensor:
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


def int_pair(value: Union[int, Sequence[int]],
             name: str,
             what: str = 'a pair of them') -> Tuple[int, int]:
    """``value`` as a pair of positive ints: an int n is ``(n, n)``.

    Args:
        value (int | Sequence[int]): An int or a pair (rows, columns).
        name (str): The argument's name, for the message.
        what (str): What the pair is, for the message.

    Returns:
        tuple[int, int]: The pair.

    Raises:
        ValueError: If ``value`` is neither a positive int nor a pair of
            positive ints.
    """
    try:
        pair = (value, value) if isinstance(value, int) else tuple(value)
    except TypeError:  # neither an int nor a sequence
        pair = ()
    if (len(pair) != 2 or not all(isinstance(v, int) for v in pair)
            or min(pair) < 1):
        raise ValueError(
            f'{name} must be a positive int or {what}, got {value!r}')
    return pair


def check_same_channels(student: Tensor, teacher: Tensor, why: str) -> None:
    """Check that two (B, C, H, W) maps have the same channel count C.

    For the losses that compare channels one to one (CWD, ICKD, I2CKD):
    features of other widths need a connector before the loss.

    Args:
        student (Tensor): The student map, (B, C_s, H_s, W_s).
        teacher (Tensor): The teacher map, (B, C_t, H_t, W_t).
        why (str): What the loss compares, e.g. ``'CWD compares channel
            maps one to one'``.

    Raises:
        ValueError: If both are 4-D and C_s != C_t; the message names both
            counts and the connector.
    """
    if (student.dim() == teacher.dim() == 4
            and student.shape[1] != teacher.shape[1]):
        raise ValueError(
            f'{why}, so student and teacher need the same number of '
            f'channels; got {student.shape[1]} (student) and '
            f'{teacher.shape[1]} (teacher): map the student\'s features to '
            "the teacher's width with a connector (e.g. connector=dict("
            "type='ConvBNConnector') in the distill_losses entry, a 1x1 conv "
            '+ BN) before the loss')
