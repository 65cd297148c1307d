# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""DIST: inter- and intra-class relations of the class probabilities.

Reference: T. Huang, S. You, F. Wang, C. Qian, C. Xu, "Knowledge
Distillation from A Stronger Teacher", NeurIPS 2022 (official code
hunto/DIST_KD, ``segmentation/``).
"""
import torch
import torch.nn as nn
from torch import Tensor

from mmseg.registry import MODELS
from .utils import finite_log_softmax, match_logits, normalize_nonzero


def _check_args(tau: float, beta: float, gamma: float) -> None:
    if not tau > 0:  # also catches NaN
        raise ValueError(f'tau must be positive, got {tau}')
    for name, value in (('beta', beta), ('gamma', gamma)):
        if not value >= 0:
            raise ValueError(f'{name} must be >= 0, got {value}')


def mean_pearson(x: Tensor, y: Tensor, dim: int) -> Tensor:
    """Mean Pearson correlation of ``x`` and ``y`` along ``dim``.

    The correlation of two vectors is the cosine of the two centred
    vectors; a vector of zero variance correlates 0 with everything (see
    :func:`.utils.normalize_nonzero`).

    Args:
        x, y (Tensor): Tensors of one shape, 2-D.
        dim (int): Dimension along which each correlation is computed;
            the mean is over the other one.

    Returns:
        Tensor: Scalar mean correlation, in [-1, 1].
    """
    x = normalize_nonzero(x - x.mean(dim, keepdim=True), dim=dim)
    y = normalize_nonzero(y - y.mean(dim, keepdim=True), dim=dim)
    return (x * y).sum(dim).mean()


def dist_loss(student: Tensor,
              teacher: Tensor,
              tau: float = 1.0,
              beta: float = 1.0,
              gamma: float = 1.0) -> Tensor:
    """DIST loss on segmentation logits, every pixel a sample.

    With ``P = softmax(Z / tau)`` over the C classes at each of the
    M = B * H * W pixels (an M x C matrix, student and teacher),
    ``L = tau^2 * (beta * L_inter + gamma * L_intra)``:
    ``L_inter = 1 - 1/M sum_m rho(P^S_m, P^T_m)``, the correlation of the
    two class distributions of each pixel (a row: the relation between
    classes), and ``L_intra = 1 - 1/C sum_c rho(P^S_:c, P^T_:c)``, the
    correlation of each class's probabilities over all pixels of the batch
    (a column: the relation between pixels), ``rho`` the Pearson
    correlation (see :func:`mean_pearson`).

    The segmentation form of the official code: softmax probabilities,
    not logits, and the intra-class term pools the pixels of all images
    of the (per-process) batch; it is not gathered across processes.
    Computed in float32 whatever the input dtype, also under autocast. A
    pixel whose distribution is uniform (or a class constant over the
    batch) has zero variance and correlates 0 (the official code adds
    1e-8 to the product of the two norms instead, which changes the value
    only where that product is not large against 1e-8). Infinite logits
    are handled as in :func:`.utils.finite_log_softmax`.

    Args:
        student (Tensor): Student logits, (B, C, H_s, W_s); resized
            bilinearly to the teacher's (H, W) if they differ.
        teacher (Tensor): Teacher logits, (B, C, H, W); the loss does not
            backpropagate into them.
        tau (float): Softmax temperature, > 0. Defaults to 1.0 (the
            official segmentation code has none, i.e. 1).
        beta (float): Weight of the inter-class term, >= 0. Defaults to
            1.0.
        gamma (float): Weight of the intra-class term, >= 0. Defaults to
            1.0.

    Returns:
        Tensor: Scalar float32 loss, in [0, 2 * tau^2 * (beta + gamma)].

    Raises:
        ValueError: If ``tau`` is not positive, ``beta`` or ``gamma`` is
            negative, the logits are not (B, C, H, W) with equal B and C,
            or their spatial sizes are empty or of different aspect
            ratios.
    """
    _check_args(tau, beta, gamma)
    with torch.autocast(device_type=student.device.type, enabled=False):
        student, teacher = match_logits(student.float(),
                                        teacher.detach().float())
        C = student.shape[1]
        # (B, C, H, W) -> (B * H * W, C) class probabilities per pixel
        p_s, p_t = (
            finite_log_softmax(z / tau,
                               dim=1).exp().movedim(1, -1).reshape(-1, C)
            for z in (student, teacher))
        inter = 1 - mean_pearson(p_s, p_t, dim=1)
        intra = 1 - mean_pearson(p_s, p_t, dim=0)
        return tau**2 * (beta * inter + gamma * intra)


@MODELS.register_module()
class DISTLoss(nn.Module):
    """DIST (Huang et al., NeurIPS 2022), its segmentation form.

    Called as ``loss(student, teacher)`` on logits; see :func:`dist_loss`
    for the formula and shapes.

    Args:
        tau (float): Softmax temperature, > 0. Defaults to 1.0.
        beta (float): Weight of the inter-class relation. Defaults to 1.0.
        gamma (float): Weight of the intra-class relation. Defaults to
            1.0.
        loss_weight (float): Weight of the loss. Defaults to 1.0 (the
            official segmentation recipe).
        loss_name (str): Name of the loss item. Defaults to 'loss_dist'.

    Raises:
        ValueError: If ``tau`` is not positive or ``beta`` or ``gamma`` is
            negative.
    """

    def __init__(self,
                 tau: float = 1.0,
                 beta: float = 1.0,
                 gamma: float = 1.0,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_dist'):
        super().__init__()
        _check_args(tau, beta, gamma)
        self.tau = tau
        self.beta = beta
        self.gamma = gamma
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, student: Tensor, teacher: Tensor) -> Tensor:
        """Weighted DIST loss; shapes as in :func:`dist_loss`."""
        return self.loss_weight * dist_loss(
            student, teacher, tau=self.tau, beta=self.beta, gamma=self.gamma)

    @property
    def loss_name(self) -> str:
        """str: Name of the loss item in the dict of losses."""
        return self._loss_name
