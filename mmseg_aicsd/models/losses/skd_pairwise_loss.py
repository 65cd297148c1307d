# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""The pair-wise loss of structured knowledge distillation (SKD).

Reference: Y. Liu, K. Chen, C. Liu, Z. Qin, Z. Luo, J. Wang, "Structured
Knowledge Distillation for Semantic Segmentation", CVPR 2019 (official code
irfanICMLL/structure_knowledge_distillation).
"""
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmseg.registry import MODELS
from .utils import divide_by_abs_max, int_pair, match_logits, normalize_nonzero


def _check_pooling(
    scale: Optional[float],
    kernel_size: Optional[Union[int,
                                Sequence[int]]]) -> Optional[Tuple[int, int]]:
    """Validate the two ways of setting the node grid; returns the kernel
    size as a pair, or None in scale mode."""
    if (scale is None) == (kernel_size is None):
        raise ValueError(
            'set exactly one of scale and kernel_size, got '
            f'scale={scale!r}, kernel_size={kernel_size!r} (scale=0.5 is '
            'the default: pass scale=None with kernel_size)')
    if kernel_size is not None:
        return int_pair(kernel_size, 'kernel_size')
    if not 0 < scale <= 1:
        raise ValueError(f'scale must be in (0, 1], got {scale!r}')
    return None


def _node_similarity(feats: Tensor, kernel: Tuple[int, int],
                     detach_norm: bool) -> Tensor:
    """(B, C, H, W) -> (B, N, N) cosine similarities of the max-pooled
    nodes, N = ceil(H / k_h) * ceil(W / k_w)."""
    nodes = F.max_pool2d(feats, kernel, stride=kernel, ceil_mode=True)
    nodes = normalize_nonzero(nodes.flatten(2), 1, detach_norm)  # (B, C, N)
    return nodes.transpose(1, 2) @ nodes


def skd_pairwise_loss(student: Tensor,
                      teacher: Tensor,
                      scale: Optional[float] = 0.5,
                      kernel_size: Optional[Union[int, Sequence[int]]] = None,
                      detach_norm: bool = True) -> Tensor:
    """SKD pair-wise loss: spatial node cosine similarities, student vs
    teacher.

    Each map is max-pooled (kernel = stride, ``ceil_mode=True``) into a grid
    of N nodes; ``a_ij = f_i^T f_j / (||f_i|| ||f_j||)`` is the cosine
    similarity of the C-vectors of nodes i and j, and
    ``L = mean_{b,i,j} (a^S_bij - a^T_bij)^2``
    (= ``sum / N^2 / B`` of the official code, ``.mean()`` of CIRKD's).

    The node grid is set by one of:

    - ``scale`` (official SKD code, the default 0.5): kernel
      ``(max(1, int(scale * H)), max(1, int(scale * W)))`` of the teacher's
      (H, W), so scale 0.5 gives a coarse 2 x 2 grid of nodes when H and W
      are even (3 along an odd side longer than 1: the last window is
      partial).
    - ``kernel_size`` (CIRKD ``losses/skd.py``: 2): a fixed window, so a
      fine grid of ``ceil(H / k) * ceil(W / k)`` nodes, e.g. 32 x 64 at
      1/8 resolution of a 512 x 1024 crop. Memory: B * N^2 floats per map.

    ``detach_norm=True`` (official) divides by the node norms without
    differentiating through them, as the official ``similarity()`` does;
    False (CIRKD, ``F.normalize``) differentiates through them too. The
    official code adds 1e-8 to the norms and ``F.normalize`` bounds them
    below by 1e-12; here nonzero nodes are normalised exactly (values
    differ from the official ones by a relative 1e-8 / ||f||), and a zero
    node (e.g. a window where every channel is 0 after ReLU) has
    similarity 0 to every node and no gradient, where those epsilons give
    it gradients of order 1e8 to 1e12 (see
    :func:`.utils.normalize_nonzero`). Each sample is divided by its
    largest |entry| first (see :func:`.utils.divide_by_abs_max`), so the
    value does not depend on the maps' scale. Computed in float32 whatever
    the input dtype, also under autocast.

    This is the loss behind the "SP" baseline of the AICSD authors' code:
    their only similarity-type loss (flag ``pa_lambda``, "pairwise") is a
    verbatim copy of the official SKD pair-wise code, applied to the ASPP's
    first conv + BN output (pre-ReLU), and no Tung & Mori SP exists in any
    version of it (for that, see :func:`.sp_loss`). Node similarities are
    computed within each network, so the channel counts may differ.

    Args:
        student (Tensor): Student features, (B, C_s, H_s, W_s). Resized
            bilinearly to the teacher's (H, W) if they differ, then pooled
            like the teacher.
        teacher (Tensor): Teacher features, (B, C_t, H, W); the loss does
            not backpropagate into them.
        scale (float, optional): Pooling window as a fraction of the map,
            in (0, 1]. Defaults to 0.5 (official SKD, and the AICSD code).
        kernel_size (int | tuple[int, int], optional): Fixed pooling
            window, positive; needs ``scale=None``. Defaults to None.
        detach_norm (bool): No gradient through the node norms. Defaults
            to True (official SKD, and the AICSD code).

    Returns:
        Tensor: Scalar float32 loss (dimensionless), in [0, 4] ([0, 1] for
        non-negative features).

    Raises:
        ValueError: If both or neither of ``scale`` and ``kernel_size`` are
            set, ``scale`` is not in (0, 1], ``kernel_size`` is not
            positive, or the maps are not (B, C, H, W) with equal B, or
            their spatial sizes are empty or of different aspect ratios.
    """
    kernel = _check_pooling(scale, kernel_size)
    with torch.autocast(device_type=student.device.type, enabled=False):
        student, teacher = match_logits(
            student.float(), teacher.detach().float(), match_channels=False)
        H, W = teacher.shape[2:]
        if kernel is None:
            kernel = (max(1, int(scale * H)), max(1, int(scale * W)))
        # a window wider than the map pools all of it, as its size would
        kernel = (min(kernel[0], H), min(kernel[1], W))
        sim_s = _node_similarity(
            divide_by_abs_max(student), kernel, detach_norm)
        sim_t = _node_similarity(
            divide_by_abs_max(teacher), kernel, detach_norm)
        return (sim_s - sim_t).pow(2).mean()


@MODELS.register_module()
class SKDPairwiseLoss(nn.Module):
    """Pair-wise distillation loss of SKD (Liu et al., CVPR 2019).

    Called as ``loss(student, teacher)`` on features of any channel counts;
    see :func:`skd_pairwise_loss` for the formula and shapes. Defaults
    follow the official SKD code, which the AICSD authors' code copies
    verbatim (and calls "pairwise"; the AICSD paper's "SP" baseline is most
    likely this loss, not Tung & Mori's :class:`SPLoss`). CIRKD's
    reimplementation is ``scale=None, kernel_size=2, detach_norm=False``.

    Args:
        scale (float, optional): Pooling window as a fraction of the
            teacher map's height and width, in (0, 1]. Defaults to 0.5
            (about 2 x 2 nodes).
        kernel_size (int | tuple[int, int], optional): Fixed pooling
            window instead; needs ``scale=None``. Defaults to None.
        detach_norm (bool): No gradient through the node norms. Defaults
            to True.
        loss_weight (float): Weight of the loss. Defaults to 1.0 (the
            official default lambda_pa; its scripts use 0.5, CIRKD 10).
        loss_name (str): Name of the loss item. Defaults to
            'loss_skd_pairwise'.

    Raises:
        ValueError: If both or neither of ``scale`` and ``kernel_size`` are
            set, ``scale`` is not in (0, 1] or ``kernel_size`` is not
            positive.
    """

    def __init__(self,
                 scale: Optional[float] = 0.5,
                 kernel_size: Optional[Union[int, Sequence[int]]] = None,
                 detach_norm: bool = True,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_skd_pairwise'):
        super().__init__()
        _check_pooling(scale, kernel_size)
        self.scale = scale
        self.kernel_size = kernel_size
        self.detach_norm = detach_norm
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, student: Tensor, teacher: Tensor) -> Tensor:
        """Weighted pair-wise loss; shapes as in :func:`skd_pairwise_loss`.
        """
        return self.loss_weight * skd_pairwise_loss(
            student,
            teacher,
            scale=self.scale,
            kernel_size=self.kernel_size,
            detach_norm=self.detach_norm)

    @property
    def loss_name(self) -> str:
        """str: Name of the loss item in the dict of losses."""
        return self._loss_name
