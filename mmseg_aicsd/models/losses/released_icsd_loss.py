# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""The ICS term of the AICSD authors' released code (``lo_loss``).

A. M. Mansourian, R. Ahmadi, S. Kasaei, "AICSD: Adaptive Inter-Class
Similarity Distillation for Semantic Segmentation", arXiv 2308.04243; the
code released with it (github AmirMansurian/AICSD). It is not the paper's
Eq. 2-4 (:class:`.ICSDLoss`): see ``docs/en/paper_vs_released_code.md``.
"""
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmseg.registry import MODELS
from .utils import finite_log_softmax, match_logits

SOFTMAX_OVER = ('h', 'hw')


def _check_args(softmax_over: str, upsample_size) -> Optional[Tuple[int, int]]:
    if softmax_over not in SOFTMAX_OVER:
        raise ValueError(f'softmax_over must be one of {SOFTMAX_OVER}, got '
                         f'{softmax_over!r}')
    if upsample_size is None:
        return None
    size = tuple(upsample_size)
    if len(size) != 2 or not all(
            isinstance(s, int) and not isinstance(s, bool) and s > 0
            for s in size):
        raise ValueError('upsample_size must be None or two positive ints '
                         f'(H, W), the input crop; got {upsample_size!r}')
    return size


def released_ics(logits: Tensor, softmax_over: str = 'h') -> Tensor:
    """The released code's ICS matrix of a batch of logits.

    With ``P = softmax(Z)`` over H alone (per image, class and column; or
    over the H * W positions with ``softmax_over='hw'``), for classes
    i <= j::

        M[i, j] = M[j, i] = sum_{b,h,w} P_j (log P_j - P_i) / B

    This is ``KLDivLoss(reduction='batchmean')(P_i, P_j)``, which the
    released code calls with probabilities where ``kl_div`` expects
    log-probabilities: it is **not** a KL divergence. It is one matrix for
    the whole batch, symmetric, with a non-zero diagonal, and dominated by
    the entropy term of class ``max(i, j)``. Vectorised as
    ``M = E[max(i, j)] - P P^T / B`` with ``E_j = sum P_j log P_j / B``;
    float32 whatever the input dtype, also under autocast; finite for
    infinite logits (see :func:`.utils.finite_log_softmax`).

    Args:
        logits (Tensor): Logits, shape (B, C, H, W), any floating dtype.
        softmax_over (str): ``'h'`` (the released main branch) or ``'hw'``
            (its earlier commits and a co-author's branch). Defaults to
            ``'h'``.

    Returns:
        Tensor: The (C, C) matrix, float32, in nats (plus a probability
        product term).

    Raises:
        ValueError: If ``logits`` is not 4-D or ``softmax_over`` is
            unknown.
    """
    _check_args(softmax_over, None)
    if logits.dim() != 4:
        raise ValueError('logits must be a (B, C, H, W) tensor, got shape '
                         f'{tuple(logits.shape)}')
    B, C = logits.shape[:2]
    with torch.autocast(device_type=logits.device.type, enabled=False):
        z = logits.float()
        if softmax_over == 'h':
            log_p = finite_log_softmax(z, dim=2).flatten(2)
        else:
            log_p = finite_log_softmax(z.flatten(2), dim=2)
        p = log_p.exp()
        # E_j = sum_{b,n} P_j log P_j / B; P = 0 only where log P is at
        # the finite floor, so the products stay 0, never NaN
        entropy = (p * log_p).sum(dim=(0, 2)) / B
        cross = torch.bmm(p, p.transpose(1, 2)).sum(0) / B
        idx = torch.arange(C, device=logits.device)
        later = torch.maximum(idx[:, None], idx[None, :])
        return entropy[later] - cross


def released_icsd_loss(
        student_logits: Tensor,
        teacher_logits: Tensor,
        softmax_over: str = 'h',
        upsample_size: Optional[Sequence[int]] = None) -> Tensor:
    """The released code's ICS loss (``lo_loss``) per unit weight.

    ``mean_{i,j} (N(M^S) - N(M^T))[i, j]^2 / B``, with ``M`` from
    :func:`released_ics`, ``N`` the L2 normalisation of each row, the
    mean over the C x C entries, then one more division by the batch
    size B (as the released code divides every loss but KD by B). The
    teacher side is detached.

    Args:
        student_logits (Tensor): Student logits, shape (B, C, H_s, W_s).
            Without ``upsample_size``, resized bilinearly to the teacher's
            (H, W) if they differ.
        teacher_logits (Tensor): Teacher logits, shape (B, C, H, W).
        softmax_over (str): ``'h'`` or ``'hw'``, see :func:`released_ics`.
            Defaults to ``'h'``.
        upsample_size (Sequence[int], optional): (H, W) to upsample each
            of the two logits to first (bilinear, ``align_corners=True``),
            as the released code does to the input crop. Defaults to None
            (the teacher's logit size).

    Returns:
        Tensor: Scalar float32 loss (dimensionless: the rows are unit
        vectors).

    Raises:
        ValueError: If the shapes are not (B, C, H, W) with equal B and C,
            or an argument is invalid.
    """
    size = _check_args(softmax_over, upsample_size)
    with torch.autocast(device_type=student_logits.device.type, enabled=False):
        student_logits = student_logits.float()
        teacher_logits = teacher_logits.detach().float()
        if size is not None and student_logits.dim() == 4 \
                and teacher_logits.dim() == 4:
            # each straight to the crop, as the released code does
            student_logits = F.interpolate(
                student_logits, size, mode='bilinear', align_corners=True)
            teacher_logits = F.interpolate(
                teacher_logits, size, mode='bilinear', align_corners=True)
        student_logits, teacher_logits = match_logits(student_logits,
                                                      teacher_logits)
        m_s = F.normalize(released_ics(student_logits, softmax_over), dim=1)
        m_t = F.normalize(released_ics(teacher_logits, softmax_over), dim=1)
        return (m_s - m_t).pow(2).mean() / student_logits.shape[0]


@MODELS.register_module()
class ReleasedCodeICSDLoss(nn.Module):
    """The ICS loss the AICSD authors' released code computes.

    Called as ``loss(student_logits, teacher_logits)``; see
    :func:`released_icsd_loss`. It differs from the paper's Eq. 2-4
    (:class:`.ICSDLoss`): a softmax over H only, a pooled batch matrix
    that is not a KL, rows L2-normalised, an extra division by B. The
    released code's weight is ``lo_lambda = 9500`` with its CE divided by
    B; with mmseg's CE at weight 1 the same ratio to CE is
    ``loss_weight = 9500 * B`` (B the per-process batch).

    Args:
        softmax_over (str): ``'h'`` (released main branch) or ``'hw'``.
            Defaults to ``'h'``.
        upsample_size (Sequence[int], optional): (H, W) of the input crop
            to upsample both logits to (bilinear, ``align_corners=True``),
            as the released code does. Defaults to None.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        loss_name (str): Name of the loss item. Defaults to 'loss_icsd'.

    Raises:
        ValueError: If ``softmax_over`` or ``upsample_size`` is invalid.
    """

    def __init__(self,
                 softmax_over: str = 'h',
                 upsample_size: Optional[Sequence[int]] = None,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_icsd'):
        super().__init__()
        self.upsample_size = _check_args(softmax_over, upsample_size)
        self.softmax_over = softmax_over
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, student_logits: Tensor,
                teacher_logits: Tensor) -> Tensor:
        """Weighted loss; shapes as in :func:`released_icsd_loss`."""
        return self.loss_weight * released_icsd_loss(
            student_logits, teacher_logits, self.softmax_over,
            self.upsample_size)

    @property
    def loss_name(self) -> str:
        """str: Name of the loss item in the dict of losses."""
        return self._loss_name
