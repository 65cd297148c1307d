# Copyright (c) mmseg_aicsd contributors. All rights reserved.
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
                 align_corners: bool = False) -> Tuple[Tensor, Tensor]:
    """Check a student/teacher logit pair and bring them to one size.

    Args:
        student_logits (Tensor): Student logits, shape (B, C, H_s, W_s).
        teacher_logits (Tensor): Teacher logits, shape (B, C, H_t, W_t).
        align_corners (bool): ``align_corners`` of the bilinear resize.

    Returns:
        tuple[Tensor, Tensor]: The student logits, bilinearly resized to
        (H_t, W_t) if their spatial size differs, and the teacher logits.

    Raises:
        ValueError: If either tensor is not 4-D, batch size or class count
            (dims 0 and 1) differ, a spatial size is 0, or the two maps
            have different aspect ratios (beyond the one-pixel rounding of
            different output strides): resizing would misalign them.
    """
    if student_logits.dim() != 4 or teacher_logits.dim() != 4:
        raise ValueError(
            'student and teacher logits must be (B, C, H, W) tensors, got '
            f'shapes {tuple(student_logits.shape)} and '
            f'{tuple(teacher_logits.shape)}')
    if student_logits.shape[:2] != teacher_logits.shape[:2]:
        raise ValueError(
            'student and teacher logits must have the same batch size and '
            'number of classes (dims 0 and 1), got shapes '
            f'{tuple(student_logits.shape)} (student) and '
            f'{tuple(teacher_logits.shape)} (teacher)')
    (hs, ws), (ht, wt) = student_logits.shape[2:], teacher_logits.shape[2:]
    if 0 in (hs, ws, ht, wt) or abs(hs * wt - ht * ws) > hs + ws + ht + wt:
        raise ValueError(
            'student and teacher logits cannot be resized to one another: '
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
