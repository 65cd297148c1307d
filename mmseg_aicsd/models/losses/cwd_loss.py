# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Channel-wise knowledge distillation (CWD).

Reference: C. Shu, Y. Liu, J. Gao, Z. Yan, C. Shen, "Channel-wise Knowledge
Distillation for Dense Prediction", ICCV 2021 (official code
irfanICMLL/TorchDistiller, ``SemSeg-distill``).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmseg.registry import MODELS
from .utils import check_same_channels, finite_log_softmax, match_logits


def _check_tau(tau: float) -> None:
    if not tau > 0:  # also catches NaN
        raise ValueError(f'tau must be positive, got {tau}')


def cwd_loss(student: Tensor, teacher: Tensor, tau: float = 1.0) -> Tensor:
    """Channel-wise distillation loss between student and teacher maps.

    Each channel map becomes a distribution over its N = H * W positions,
    ``phi(y_c) = softmax_i(y_c,i / tau)``, and
    ``L = tau^2 / (B * C) * sum_{b,c} KL(phi(y^T_bc) || phi(y^S_bc))``
    with ``KL(p || q) = sum_i p_i (log p_i - log q_i)``.

    The canonical form: the official ``CriterionCWD`` (``norm_type=
    'channel'``, ``divergence='kl'``), CIRKD ``losses/cwd.py`` and mmrazor
    ``ChannelWiseDivergence`` compute the same value. This loss has no
    connector (CIRKD's has a 1x1 conv inside): for features of different
    widths the segmentor applies one (1x1 conv, + BN in the official code)
    first. Unlike mmrazor's, it resizes the student map bilinearly to the
    teacher's size where they differ.

    Computed in float32 from log-probabilities on both sides, whatever the
    input dtype and also under autocast (a float16 spatial softmax
    overflows at real N), so it is zero when student equals teacher, and
    finite for infinite logits: a -inf region has zero probability, a map
    that is -inf everywhere counts as uniform (see
    :func:`.utils.finite_log_softmax`). NaN input gives a NaN loss. Each
    channel's KL is clamped at 0: for near-equal maps float32 rounding of
    the log-normaliser (about 1e-6 at real N) can leave it slightly below.

    Args:
        student (Tensor): Student logits or features, (B, C, H_s, W_s).
            Resized bilinearly to the teacher's (H, W) if they differ.
        teacher (Tensor): Teacher logits or features, (B, C, H, W); the
            loss does not backpropagate into them.
        tau (float): Temperature of the spatial softmax, > 0. Defaults to
            1.0 (mmrazor's mmseg config, with weight 5); the official and
            CIRKD recipes use 4 with weight 3 on logits.

    Returns:
        Tensor: Scalar float32 loss, in nats per channel map (times tau^2).

    Raises:
        ValueError: If ``tau`` is not positive, the maps are not
            (B, C, H, W) with equal B, the channel counts differ (the
            message names both), or the spatial sizes are empty or of
            different aspect ratios.
    """
    _check_tau(tau)
    check_same_channels(student, teacher,
                        'CWD compares channel maps one to one')
    with torch.autocast(device_type=student.device.type, enabled=False):
        student, teacher = match_logits(
            student.float(), teacher.detach().float(), match_channels=False)
        log_p_s = finite_log_softmax(student.flatten(2) / tau, dim=-1)
        log_p_t = finite_log_softmax(teacher.flatten(2) / tau, dim=-1)
        # KL(p_t || p_s) per (b, c): a sum over H*W positions, where float32
        # rounding of near-equal maps can leave about -1e-6; a KL is >= 0.
        kl = F.kl_div(
            log_p_s, log_p_t, reduction='none',
            log_target=True).sum(-1).clamp_min(0)
        B, C = log_p_s.shape[:2]
        return kl.sum() * tau**2 / (B * C)


@MODELS.register_module()
class CWDLoss(nn.Module):
    """Channel-wise distillation loss (Shu et al., ICCV 2021).

    Called as ``loss(student, teacher)`` on logits, or on features of equal
    width (after a student connector); see :func:`cwd_loss` for the
    formula and shapes.

    Args:
        tau (float): Temperature of the spatial softmax, > 0. Defaults to
            1.0; the official recipe on logits is tau = 4, loss_weight = 3.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        loss_name (str): Name of the loss item. Defaults to 'loss_cwd'.

    Raises:
        ValueError: If ``tau`` is not positive.
    """

    def __init__(self,
                 tau: float = 1.0,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_cwd'):
        super().__init__()
        _check_tau(tau)
        self.tau = tau
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, student: Tensor, teacher: Tensor) -> Tensor:
        """Weighted CWD loss; shapes as in :func:`cwd_loss`."""
        return self.loss_weight * cwd_loss(student, teacher, tau=self.tau)

    @property
    def loss_name(self) -> str:
        """str: Name of the loss item in the dict of losses."""
        return self._loss_name
