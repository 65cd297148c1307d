# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Attention transfer (AT), "AD" in the AICSD paper's tables.

Reference: S. Zagoruyko, N. Komodakis, "Paying More Attention to Attention:
Improving the Performance of Convolutional Neural Networks via Attention
Transfer", ICLR 2017.
"""
import torch
import torch.nn as nn
from torch import Tensor

from mmseg.registry import MODELS
from .utils import divide_by_abs_max, match_logits, normalize_nonzero


def _check_p(p: float) -> None:
    if not p >= 1:  # also catches NaN
        raise ValueError(
            f'p must be >= 1 (|F|^p has an infinite slope at 0 below that, '
            f'which gives NaN gradients on ReLU features), got {p}')


def _attention(feats: Tensor, p: float) -> Tensor:
    """(B, C, H, W) -> (B, H * W) L2-normalised attention maps."""
    return normalize_nonzero(feats.abs().pow(p).mean(dim=1).flatten(1), dim=1)


def at_loss(student: Tensor, teacher: Tensor, p: float = 2.0) -> Tensor:
    """Attention transfer loss between student and teacher maps.

    The attention map of a (C, H, W) map F is the L2-normalised vector of
    its channel mean ``a(F) = v / ||v||_2``, ``v_i = mean_c |F_c,i|^p``
    over the N = H * W positions i, and
    ``L = mean_{b,i} (a(F^S_b)_i - a(F^T_b)_i)^2``.

    This is the canonical form: the official attention-transfer code, as
    CIRKD ``losses/at.py`` and mmrazor ``ATLoss`` (both p = 2, where
    ``|F|^2 = F^2``). The absolute value, as in the paper's definition,
    makes other p valid on features with negative entries (pre-ReLU). Not
    the AICSD authors' 2022 variant, which normalises each column of the
    (H, W) map separately. The channel count drops out, so student and
    teacher may have different widths; no connector is needed.

    Each ``a`` is a non-negative unit vector, so per sample the squared
    differences sum to at most 2 and the loss lies in [0, 2 / N]: it falls
    as 1/N with the map size, hence the large weights (CIRKD: 1e4 on
    1/8-resolution features, together with KD; the official CIFAR code:
    beta / 2 = 500 per layer). An all-zero map has ``a = 0``. The value
    does not depend on the scale of either map: it is computed on each
    sample divided by its largest |entry| (see
    :func:`.utils.divide_by_abs_max`), in float32 whatever the input dtype,
    also under autocast.

    Args:
        student (Tensor): Student features or logits, (B, C_s, H_s, W_s).
            Resized bilinearly to the teacher's (H, W) if they differ.
        teacher (Tensor): Teacher features or logits, (B, C_t, H, W); the
            loss does not backpropagate into them.
        p (float): Exponent of the attention map, >= 1. Defaults to 2.0.

    Returns:
        Tensor: Scalar float32 loss (dimensionless), in [0, 2 / N].

    Raises:
        ValueError: If ``p`` < 1, or the maps are not (B, C, H, W) with
            equal B, or their spatial sizes are empty or of different
            aspect ratios.
    """
    _check_p(p)
    with torch.autocast(device_type=student.device.type, enabled=False):
        student, teacher = match_logits(
            student.float(), teacher.detach().float(), match_channels=False)
        a_s = _attention(divide_by_abs_max(student), p)
        a_t = _attention(divide_by_abs_max(teacher), p)
        return (a_s - a_t).pow(2).mean()


@MODELS.register_module()
class ATLoss(nn.Module):
    """Attention transfer loss (Zagoruyko & Komodakis, ICLR 2017).

    Called as ``loss(student, teacher)`` on features or logits of any
    channel counts; see :func:`at_loss` for the formula and shapes. The
    doc's recommended feature is the head's penultimate one
    (``decode_head.bottleneck`` in mmseg's ASPP/PSP heads).

    Args:
        p (float): Exponent of the attention map ``mean_c |F_c|^p``, >= 1.
            Defaults to 2.0 (the paper's and every codebase's choice).
        loss_weight (float): Weight of the loss. Defaults to 1.0 (mmrazor's
            default; CIRKD trains with 1e4, see :func:`at_loss`).
        loss_name (str): Name of the loss item. Defaults to 'loss_at'.

    Raises:
        ValueError: If ``p`` < 1.
    """

    def __init__(self,
                 p: float = 2.0,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_at'):
        super().__init__()
        _check_p(p)
        self.p = p
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, student: Tensor, teacher: Tensor) -> Tensor:
        """Weighted AT loss; shapes as in :func:`at_loss`."""
        return self.loss_weight * at_loss(student, teacher, p=self.p)

    @property
    def loss_name(self) -> str:
        """str: Name of the loss item in the dict of losses."""
        return self._loss_name
