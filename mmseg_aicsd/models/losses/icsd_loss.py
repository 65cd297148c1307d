# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Inter-class similarity distillation (ICSD), AICSD Eq. 2-4.

Reference: A. M. Mansourian, R. Ahmadi, S. Kasaei, "AICSD: Adaptive
Inter-Class Similarity Distillation for Semantic Segmentation",
arXiv 2308.04243.
"""
import math
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import once_differentiable

from mmseg.registry import MODELS
from .utils import LOG_PROB_FLOOR, match_logits


def _spatial_log_softmax(
        logits: Tensor,
        tau: float) -> Tuple[Tensor, Optional[Tensor], Optional[Tensor]]:
    """:func:`.utils.finite_log_softmax` over the N positions of
    ``logits / tau``, in float32 and in place (call it without autograd).

    Returns:
        tuple: The (B, C, N) log-probabilities, and where the two clamps of
        ``finite_log_softmax`` cut the gradient: a mask of the
        log-probabilities clamped at ``LOG_PROB_FLOOR`` and one of the
        infinite logits; each None where empty (the usual case, which then
        costs no memory for them).
    """
    flat = logits.flatten(2).float() / tau
    finfo = torch.finfo(flat.dtype)
    non_finite = None
    low, high = torch.aminmax(flat)
    if low < finfo.min or high > finfo.max:  # +-inf, e.g. masked regions
        non_finite = torch.isinf(flat)
        flat.clamp_(finfo.min, finfo.max)
    log_p = F.log_softmax(flat, dim=-1)
    del flat
    floored = None
    # L >= min - max - log N: skip the pass over L unless the spread is wide
    spread = (high - low).item() + math.log(log_p.shape[-1])
    if spread >= -LOG_PROB_FLOOR and log_p.amin() < LOG_PROB_FLOOR:
        floored = log_p < LOG_PROB_FLOOR
        log_p.clamp_min_(LOG_PROB_FLOOR)
    return log_p, floored, non_finite


class _InterClassSimilarity(torch.autograd.Function):
    """ICS with a hand-written backward, to keep memory at its floor.

    Autograd through ``P @ L^T`` would keep ``L``, ``P`` and several
    products of (B, C, N) alive between forward and backward (about 7x the
    logits at peak). Here nothing but the input is kept: the backward
    recomputes ``L`` and works in place, so forward and backward each peak
    at two (B, C, N) float32 tensors, the gradient included.
    """

    @staticmethod
    def forward(ctx, logits: Tensor, tau: float) -> Tensor:
        log_p = _spatial_log_softmax(logits, tau)[0]
        cross = torch.bmm(log_p.exp(), log_p.transpose(1, 2))
        del log_p
        ctx.save_for_backward(logits)
        ctx.tau = tau
        # ICS[i, j] = sum_n P_i L_i - sum_n P_i L_j = cross[i, i] - cross[i, j]
        return cross.diagonal(dim1=1, dim2=2).unsqueeze(-1) - cross

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_ics: Tensor):
        logits, = ctx.saved_tensors
        tau = ctx.tau
        with torch.autocast(device_type=logits.device.type, enabled=False):
            grad_ics = grad_ics.float()
            # gradient w.r.t. cross = P @ L^T
            grad_cross = -grad_ics
            grad_cross.diagonal(dim1=1, dim2=2).add_(grad_ics.sum(-1))
            log_p, floored, non_finite = _spatial_log_softmax(logits, tau)
            # w.r.t. L, through both factors (P = exp(L)):
            # (grad_cross @ L) * P + grad_cross^T @ P
            grad = torch.bmm(grad_cross, log_p)
            p = log_p.exp_()  # L is not needed any more
            grad.mul_(p).baddbmm_(grad_cross.transpose(1, 2), p)
            if floored is not None:  # clamp_min passes no gradient there
                grad.masked_fill_(floored, 0)
            # through the log-softmax over N: g - P * sum_n g
            grad.sub_(p.mul_(grad.sum(-1, keepdim=True)))
            if non_finite is not None:  # nor does the clamp of +-inf
                grad.masked_fill_(non_finite, 0)
            if tau != 1:
                grad.div_(tau)
        return grad.view(logits.shape).to(logits.dtype), None


def inter_class_similarity(logits: Tensor, tau: float = 1.0) -> Tensor:
    """Inter-class similarity (ICS) matrices of a batch of logits.

    Each class map is turned into a distribution over the N = H * W pixel
    positions (Eq. 2), ``G_i = softmax_n(Z_i / tau)``, and every ordered
    pair of classes is compared with the KL divergence (Eq. 3),
    ``ICS[i, j] = KL(G_i || G_j) = sum_n G_i[n] (log G_i[n] - log G_j[n])``.

    The C x C x N tensor of all pairwise terms is never formed: with
    ``L = log G`` and ``P = G``, ``ICS = diag(P @ L^T)[:, :, None] - P @ L^T``
    (the diagonal is ``sum_n P_i L_i``). Forward and backward each need at
    most two float32 (B, C, N) tensors beyond the input, the gradient
    included (see ``docs/benchmarks.md``). The computation runs in float32
    whatever the input dtype, also under autocast: a float16 spatial softmax
    overflows at the N of real logit maps (10^4 to 10^5). Infinite logits
    (regions masked with -inf) give finite values: see
    :func:`~mmseg_aicsd.models.losses.utils.finite_log_softmax`.

    Args:
        logits (Tensor): Logits, shape (B, C, H, W), any floating dtype.
        tau (float): Softmax temperature, > 0. Defaults to 1.0.

    Returns:
        Tensor: ICS matrices, shape (B, C, C), float32, in nats. Asymmetric,
        non-negative up to rounding, with a zero diagonal.

    Raises:
        ValueError: If ``logits`` is not 4-D or ``tau`` is not positive.
    """
    if logits.dim() != 4:
        raise ValueError('logits must be a (B, C, H, W) tensor, got shape '
                         f'{tuple(logits.shape)}')
    if not tau > 0:  # also catches NaN
        raise ValueError(f'tau must be positive, got {tau}')
    with torch.autocast(device_type=logits.device.type, enabled=False):
        return _InterClassSimilarity.apply(logits, float(tau))


def icsd_loss(student_logits: Tensor,
              teacher_logits: Tensor,
              tau: float = 1.0,
              normalize: bool = False) -> Tensor:
    """ICSD loss (Eq. 4) between student and teacher logits.

    ``mean_b (1 / C^2) || ICS^T_b - ICS^S_b ||_F^2``, the teacher side
    detached.

    Args:
        student_logits (Tensor): Student logits, shape (B, C, H_s, W_s).
            Resized bilinearly to the teacher's (H, W) if they differ.
        teacher_logits (Tensor): Teacher logits, shape (B, C, H, W).
        tau (float): Temperature of the spatial softmax. Defaults to 1.0.
        normalize (bool): L2-normalise each row of both per-image ICS
            matrices before the difference (not part of Eq. 4). This is not
            the released code's term, which normalises the rows of a
            different, pooled matrix: that is
            :class:`.ReleasedCodeICSDLoss`. Defaults to False.

    Returns:
        Tensor: Scalar float32 loss, in squared nats.

    Raises:
        ValueError: If the shapes are not (B, C, H, W) with equal B and C.
    """
    student_logits, teacher_logits = match_logits(student_logits,
                                                  teacher_logits)
    ics_s = inter_class_similarity(student_logits, tau)
    ics_t = inter_class_similarity(teacher_logits.detach(), tau)
    if normalize:
        ics_s = F.normalize(ics_s, p=2, dim=-1)
        ics_t = F.normalize(ics_t, p=2, dim=-1)
    return (ics_t - ics_s).pow(2).mean(dim=(1, 2)).mean()


@MODELS.register_module()
class ICSDLoss(nn.Module):
    """Inter-class similarity distillation loss, AICSD Eq. 4.

    Called as ``loss(student_logits, teacher_logits)``; see
    :func:`icsd_loss` for shapes. The paper's lambda = 9500 was tuned for
    the released code's different quantity (:class:`.ReleasedCodeICSDLoss`)
    and does not carry over: set
    ``loss_weight`` by calibration (see the configs and the README).

    Args:
        tau (float): Temperature of the spatial softmax (Eq. 2).
            Defaults to 1.0.
        normalize (bool): Row-wise L2 normalisation of the per-image ICS
            matrices (Eq. 3 KLs). Not the released code's term (see
            :class:`.ReleasedCodeICSDLoss`). Defaults to False (Eq. 4 as
            printed).
        loss_weight (float): Weight of the loss (lambda). Defaults to 1.0.
        loss_name (str): Name of the loss item; mmengine sums items whose
            name contains ``'loss'``. Defaults to 'loss_icsd'.
    """

    def __init__(self,
                 tau: float = 1.0,
                 normalize: bool = False,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_icsd'):
        super().__init__()
        if not tau > 0:  # also catches NaN
            raise ValueError(f'tau must be positive, got {tau}')
        self.tau = tau
        self.normalize = normalize
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, student_logits: Tensor,
                teacher_logits: Tensor) -> Tensor:
        """Weighted ICSD loss; shapes as in :func:`icsd_loss`."""
        return self.loss_weight * icsd_loss(
            student_logits,
            teacher_logits,
            tau=self.tau,
            normalize=self.normalize)

    @property
    def loss_name(self) -> str:
        """str: Name of the loss item in the dict of losses."""
        return self._loss_name
