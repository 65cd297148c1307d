# Copyright (c) mmseg_aicsd contributors. All rights reserved.
from typing import Tuple

import torch.nn.functional as F
from torch import Tensor


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
        ValueError: If either tensor is not 4-D, or batch size or class
            count (dims 0 and 1) differ.
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
    if student_logits.shape[2:] != teacher_logits.shape[2:]:
        student_logits = F.interpolate(
            student_logits,
            size=teacher_logits.shape[2:],
            mode='bilinear',
            align_corners=align_corners)
    return student_logits, teacher_logits
