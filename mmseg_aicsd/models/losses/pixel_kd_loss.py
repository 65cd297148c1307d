# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Pixel-wise knowledge distillation (Hinton et al.), AICSD Eq. 1."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmseg.registry import MODELS
from .utils import finite_log_softmax, match_logits


def pixel_kd_loss(student_logits: Tensor,
                  teacher_logits: Tensor,
                  tau: float = 1.0) -> Tensor:
    """Pixel-wise KD loss (Eq. 1).

    ``tau^2 * mean_{b,h,w} KL(softmax(Z^T / tau) || softmax(Z^S / tau))``
    with the KL summed over the C classes; the tau^2 factor (Hinton's
    convention) keeps the gradient size independent of tau. Computed in
    float32 from log-probabilities on both sides (``log_target=True``), so
    it is exact and zero when student equals teacher, and finite for
    infinite logits (see :func:`.utils.finite_log_softmax`). The released
    AICSD code's ``KLDivLoss(reduction='mean')`` divides by C as well, so
    its value is this one divided by C.

    Args:
        student_logits (Tensor): Student logits, shape (B, C, H_s, W_s).
            Resized bilinearly to the teacher's (H, W) if they differ.
        teacher_logits (Tensor): Teacher logits, shape (B, C, H, W); the
            loss does not backpropagate into them.
        tau (float): Softmax temperature, > 0. Defaults to 1.0.

    Returns:
        Tensor: Scalar float32 loss, in nats per pixel.

    Raises:
        ValueError: If ``tau`` is not positive or the shapes are not
            (B, C, H, W) with equal B and C.
    """
    if tau <= 0:
        raise ValueError(f'tau must be positive, got {tau}')
    student_logits, teacher_logits = match_logits(student_logits,
                                                  teacher_logits)
    with torch.autocast(device_type=student_logits.device.type,
                        enabled=False):
        log_p_s = finite_log_softmax(student_logits.float() / tau, dim=1)
        log_p_t = finite_log_softmax(
            teacher_logits.detach().float() / tau, dim=1)
        kl = F.kl_div(log_p_s, log_p_t, reduction='none', log_target=True)
        return kl.sum(dim=1).mean() * tau**2


@MODELS.register_module()
class PixelKDLoss(nn.Module):
    """Pixel-wise KD loss of AICSD, Eq. 1 (Hinton's KD at every pixel).

    Called as ``loss(student_logits, teacher_logits)``; see
    :func:`pixel_kd_loss` for shapes. Not built on mmseg 1.2.2's
    ``KLDivLoss``, which feeds probabilities where ``F.kl_div`` expects
    log-probabilities and so does not compute a KL divergence.

    Args:
        tau (float): Softmax temperature. Defaults to 1.0.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        loss_name (str): Name of the loss item. Defaults to 'loss_kd'.
    """

    def __init__(self,
                 tau: float = 1.0,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_kd'):
        super().__init__()
        if tau <= 0:
            raise ValueError(f'tau must be positive, got {tau}')
        self.tau = tau
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, student_logits: Tensor,
                teacher_logits: Tensor) -> Tensor:
        """Weighted KD loss; shapes as in :func:`pixel_kd_loss`."""
        return self.loss_weight * pixel_kd_loss(
            student_logits, teacher_logits, tau=self.tau)

    @property
    def loss_name(self) -> str:
        """str: Name of the loss item in the dict of losses."""
        return self._loss_name
