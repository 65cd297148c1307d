# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Pixel-wise knowledge distillation (Hinton et al.), AICSD Eq. 1."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmseg.registry import MODELS
from .utils import finite_log_softmax, match_logits

REDUCTIONS = ('mean', 'elementwise_mean', 'batchmean', 'sum')


def _check_args(tau: float, reduction: str) -> None:
    if not tau > 0:  # also catches NaN
        raise ValueError(f'tau must be positive, got {tau}')
    if reduction not in REDUCTIONS:
        raise ValueError(
            f'reduction must be one of {REDUCTIONS}, got {reduction!r}')


def pixel_kd_loss(student_logits: Tensor,
                  teacher_logits: Tensor,
                  tau: float = 1.0,
                  labels: Optional[Tensor] = None,
                  ignore_index: Optional[int] = None,
                  reduction: str = 'mean') -> Tensor:
    """Pixel-wise KD loss (Eq. 1).

    ``tau^2 * mean_{b,h,w} KL(softmax(Z^T / tau) || softmax(Z^S / tau))``
    with the KL summed over the C classes; the tau^2 factor (Hinton's
    convention) keeps the gradient size independent of tau. Computed in
    float32 from log-probabilities on both sides (``log_target=True``), so
    it is exact and zero when student equals teacher, and finite for
    infinite logits (see :func:`.utils.finite_log_softmax`).

    With ``labels`` and ``ignore_index`` given, the pixels labelled
    ``ignore_index`` (void) take no part: only the V valid pixels are
    summed and counted. With no valid pixel the loss is 0 (and so is its
    gradient), never NaN.

    ``reduction`` sets what the sum S of the per-pixel KLs (over the valid
    pixels, times tau^2) is divided by:

    - ``'mean'`` (default): by V, the number of valid pixels (B * H * W
      without a mask). Eq. 1, and CIRKD's ``CriterionKD``. Nats per pixel.
    - ``'elementwise_mean'``: by V * C. This is ``torch.nn.KLDivLoss()``
      with its default ``reduction='mean'``, which the released AICSD code
      uses (with tau = 1 and no tau^2 there, so equal at tau = 1): its
      value is the ``'mean'`` one divided by C. Nats per logit.
    - ``'batchmean'``: by B. mmrazor's ``KLDivergence`` default. A pitfall
      for segmentation: on (B, C, H, W) logits it sums over the H * W
      pixels, so the loss is H * W times the per-pixel mean (thousands of
      times at 1/8 resolution) and grows with the crop size. Offered to
      reproduce mmrazor runs.
    - ``'sum'``: S itself.

    Args:
        student_logits (Tensor): Student logits, shape (B, C, H_s, W_s).
            Resized bilinearly to the teacher's (H, W) if they differ.
        teacher_logits (Tensor): Teacher logits, shape (B, C, H, W); the
            loss does not backpropagate into them.
        tau (float): Softmax temperature, > 0. Defaults to 1.0.
        labels (Tensor, optional): Ground-truth labels at the teacher's
            size, shape (B, H, W), integer dtype. Needed with
            ``ignore_index``, unused without. Defaults to None.
        ignore_index (int, optional): Label of the pixels to leave out
            (mmseg's datasets use 255). Defaults to None (every pixel
            counts).
        reduction (str): ``'mean'``, ``'elementwise_mean'``,
            ``'batchmean'`` or ``'sum'``, see above. Defaults to 'mean'.

    Returns:
        Tensor: Scalar float32 loss, in nats per pixel for ``'mean'``.

    Raises:
        ValueError: If ``tau`` is not positive, ``reduction`` is unknown,
            the shapes are not (B, C, H, W) with equal B and C, or
            ``ignore_index`` is given and ``labels`` is missing or not
            (B, H, W) at the teacher's size.
    """
    _check_args(tau, reduction)
    if ignore_index is not None and labels is None:
        raise ValueError(
            f'ignore_index={ignore_index} needs the labels (B, H, W) at the '
            'teacher logits\' size: pass labels=, or ignore_index=None to '
            'count every pixel')
    with torch.autocast(device_type=student_logits.device.type, enabled=False):
        # float32 first, so that a resize is not rounded to float16
        student_logits, teacher_logits = match_logits(
            student_logits.float(),
            teacher_logits.detach().float())
        valid = None
        if ignore_index is not None:
            B, _, H, W = teacher_logits.shape
            if labels.shape != (B, H, W):
                raise ValueError(
                    f'labels must be (B, H, W) = {(B, H, W)}, the teacher '
                    'logits\' batch and spatial size, got shape '
                    f'{tuple(labels.shape)}')
            valid = labels != ignore_index
        log_p_s = finite_log_softmax(student_logits / tau, dim=1)
        log_p_t = finite_log_softmax(teacher_logits / tau, dim=1)
        kl = F.kl_div(log_p_s, log_p_t, reduction='none', log_target=True)
        kl = kl.sum(dim=1)  # (B, H, W), nats per pixel
        if valid is None:
            if reduction == 'mean':
                return kl.mean() * tau**2
            count = kl.numel()
        else:
            # where, not a product: 0 * inf would be NaN
            kl = torch.where(valid, kl, kl.new_zeros(()))
            # a tensor, not int(): no device sync; all ignored gives 0 / 1
            count = valid.sum().clamp_min(1)
        total = kl.sum() * tau**2
        if reduction == 'mean':
            return total / count
        if reduction == 'elementwise_mean':
            return total / (count * log_p_s.shape[1])
        if reduction == 'batchmean':
            return total / log_p_s.shape[0]
        return total


@MODELS.register_module()
class PixelKDLoss(nn.Module):
    """Pixel-wise KD loss of AICSD, Eq. 1 (Hinton's KD at every pixel).

    Called as ``loss(student_logits, teacher_logits, labels=None)``; see
    :func:`pixel_kd_loss` for shapes, the ignore mask and the reductions.
    ``DistillEncoderDecoder`` passes ``labels`` (the ground truth resized
    nearest-neighbour to the teacher logits' size) because ``forward`` has
    a parameter of that name; they are only used when ``ignore_index`` is
    set, and then required. Not built on mmseg 1.2.2's ``KLDivLoss``, which
    feeds probabilities where ``F.kl_div`` expects log-probabilities and so
    does not compute a KL divergence.

    Args:
        tau (float): Softmax temperature, > 0. Defaults to 1.0.
        ignore_index (int, optional): Label of pixels to leave out of the
            loss, e.g. 255. Defaults to None: every pixel counts (Eq. 1,
            CIRKD and the AICSD code do not mask void pixels).
        reduction (str): ``'mean'`` (Eq. 1, per pixel),
            ``'elementwise_mean'`` (also divided by C, as the AICSD code's
            ``nn.KLDivLoss()``), ``'batchmean'`` (mmrazor's default: sums
            over pixels) or ``'sum'``. Defaults to 'mean'.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        loss_name (str): Name of the loss item. Defaults to 'loss_kd'.

    Raises:
        ValueError: If ``tau`` is not positive or ``reduction`` is unknown.
    """

    def __init__(self,
                 tau: float = 1.0,
                 ignore_index: Optional[int] = None,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_kd'):
        super().__init__()
        _check_args(tau, reduction)
        self.tau = tau
        self.ignore_index = ignore_index
        self.reduction = reduction
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self,
                student_logits: Tensor,
                teacher_logits: Tensor,
                labels: Optional[Tensor] = None) -> Tensor:
        """Weighted KD loss; shapes as in :func:`pixel_kd_loss`."""
        return self.loss_weight * pixel_kd_loss(
            student_logits,
            teacher_logits,
            tau=self.tau,
            labels=labels,
            ignore_index=self.ignore_index,
            reduction=self.reduction)

    @property
    def loss_name(self) -> str:
        """str: Name of the loss item in the dict of losses."""
        return self._loss_name
