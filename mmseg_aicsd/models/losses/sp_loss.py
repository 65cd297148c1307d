# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Similarity-preserving knowledge distillation (SP).

Reference: F. Tung, G. Mori, "Similarity-Preserving Knowledge
Distillation", ICCV 2019.
"""
import torch
import torch.nn as nn
from torch import Tensor

from mmseg.registry import MODELS
from .utils import divide_by_abs_max, normalize_nonzero


def _batch_similarity(feats: Tensor) -> Tensor:
    """(B, ...) -> (B, B) row-normalised Gram matrix of the samples."""
    q = feats.flatten(1)
    return normalize_nonzero(q @ q.t(), dim=1)


def sp_loss(student: Tensor, teacher: Tensor) -> Tensor:
    """Similarity-preserving KD loss between student and teacher maps.

    Each sample is flattened, ``Q = reshape(F, [B, C * H * W])``, the batch
    similarity ``G = Q Q^T`` (B x B) has each row L2-normalised, and
    ``L = ||G_T - G_S||_F^2 / B^2``.

    The canonical form of the paper, as RepDistiller's ``SP.py`` (copied in
    ADLab-AutoDrive/ICKD ``Cifar100/distiller_zoo/SP.py``). Only samples are
    compared with each other, so the maps' channel counts and spatial sizes
    may differ freely: nothing is resized. The AICSD repository has no
    Tung-Mori SP; the "SP" of its tables is probably SKD's pair-wise loss,
    :func:`.skd_pairwise_loss`.

    Pitfalls: with B = 1, G is the 1 x 1 matrix [1] for both networks and
    the loss is 0, so it needs at least two images per process (it does
    not gather across processes); and it compares images of one batch, so
    it depends on the per-process batch size. An all-zero sample gives a
    zero row of G, left at zero with no gradient (see
    :func:`.utils.normalize_nonzero`). The value does not depend on the
    overall scale of either map (it is computed on each map divided by its
    largest |entry|, see :func:`.utils.divide_by_abs_max`), in float32
    whatever the input dtype, also under autocast.

    Args:
        student (Tensor): Student features or logits, (B, ...) with at
            least 2 dims, e.g. (B, C_s, H_s, W_s).
        teacher (Tensor): Teacher features or logits, (B, ...), e.g.
            (B, C_t, H_t, W_t); the loss does not backpropagate into them.

    Returns:
        Tensor: Scalar float32 loss (dimensionless), in [0, 4 / B]
        ([0, 2 / B] for non-negative maps, e.g. after ReLU).

    Raises:
        ValueError: If either map has fewer than 2 dims or the batch sizes
            differ.
    """
    if student.dim() < 2 or teacher.dim() < 2:
        raise ValueError(
            'student and teacher maps must be (B, ...) tensors with at '
            f'least 2 dims, got shapes {tuple(student.shape)} and '
            f'{tuple(teacher.shape)}')
    if student.shape[0] != teacher.shape[0]:
        raise ValueError(
            'student and teacher maps must have the same batch size '
            f'(dim 0), got shapes {tuple(student.shape)} (student) and '
            f'{tuple(teacher.shape)} (teacher)')
    with torch.autocast(device_type=student.device.type, enabled=False):
        # one divisor for the whole batch: rows of G mix samples, so the
        # loss is invariant to a common scale, not to one per sample
        g_s = _batch_similarity(
            divide_by_abs_max(student.float(), per_sample=False))
        g_t = _batch_similarity(
            divide_by_abs_max(teacher.detach().float(), per_sample=False))
        return (g_t - g_s).pow(2).sum() / student.shape[0]**2


@MODELS.register_module()
class SPLoss(nn.Module):
    """Similarity-preserving KD loss (Tung & Mori, ICCV 2019).

    Called as ``loss(student, teacher)`` on features or logits of any
    channel counts and sizes; see :func:`sp_loss` for the formula, shapes
    and pitfalls (B = 1 gives 0).

    Args:
        loss_weight (float): Weight of the loss (the paper's gamma).
            Defaults to 1.0; the CIFAR recipe uses 3000.
        loss_name (str): Name of the loss item. Defaults to 'loss_sp'.
    """

    def __init__(self, loss_weight: float = 1.0, loss_name: str = 'loss_sp'):
        super().__init__()
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, student: Tensor, teacher: Tensor) -> Tensor:
        """Weighted SP loss; shapes as in :func:`sp_loss`."""
        return self.loss_weight * sp_loss(student, teacher)

    @property
    def loss_name(self) -> str:
        """str: Name of the loss item in the dict of losses."""
        return self._loss_name
