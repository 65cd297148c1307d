# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Inter-channel correlation knowledge distillation (ICKD).

Reference: L. Liu, Q. Huang, S. Lin, H. Xie, B. Wang, X. Chang, X. Liang,
"Exploring Inter-Channel Correlation for Diversity-preserved Knowledge
Distillation", ICCV 2021 (official code ADLab-AutoDrive/ICKD).
"""
import math
from typing import Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from mmseg.registry import MODELS
from .utils import (check_same_channels, divide_by_abs_max, int_pair,
                    match_logits, normalize_nonzero)

GRID_PAIR = 'a pair (rows, columns) of them'  # for the grid's error
Grid = Union[int, Sequence[int]]  # cells per side, or (rows, columns)


def _cell_index(length: int, cells: int, device: torch.device) -> Tensor:
    """(cells, ceil(length / cells)) indices of the positions of each cell,
    as :func:`torch.tensor_split` splits ``length`` (the first
    ``length % cells`` cells are one longer); padded with ``length``."""
    base, extra = divmod(length, cells)
    i = torch.arange(cells, device=device)
    start = i * base + i.clamp(max=extra)
    size = base + (i < extra).long()
    j = torch.arange(math.ceil(length / cells), device=device)
    index = start[:, None] + j
    return torch.where(j < size[:, None], index, length)


def _grid_cells(feats: Tensor, grid: Tuple[int, int]) -> Tensor:
    """(B, C, H, W) -> (B, m * n, C, P): the positions of each cell of an
    m x n grid, zero-padded to the largest cell's P positions (zeros add
    nothing to a Gram matrix)."""
    B, C, H, W = feats.shape
    m, n = grid
    if H % m == 0 and W % n == 0:
        cells = feats.reshape(B, C, m, H // m, n, W // n)
    else:
        rows = _cell_index(H, m, feats.device)
        cols = _cell_index(W, n, feats.device)
        padded = F.pad(feats, (0, 1, 0, 1))  # index H / W: a zero
        cells = padded[:, :, rows[:, :, None, None], cols[None, None]]
    return cells.permute(0, 2, 4, 1, 3, 5).reshape(B, m * n, C, -1)


def _channel_correlation(feats: Tensor, grid: Tuple[int, int]) -> Tensor:
    """(B, C, H, W) -> (B, m * n, C, C) row-normalised Gram matrices."""
    cells = _grid_cells(feats, grid)
    return normalize_nonzero(cells @ cells.transpose(-1, -2), dim=-1)


def ickd_loss(student: Tensor, teacher: Tensor, grid: Grid = (1, 1)) -> Tensor:
    """Inter-channel correlation KD loss between student and teacher maps.

    With ``F`` a (C, H * W) map, ``G = F F^T`` (C x C) is L2-normalised
    row by row (``normalize(G, dim=2)`` on the (B, C, C) batch) and
    ``L = sum_{b,i,j} (G^S_bij - G^T_bij)^2 / (C * B)``: the official ICKD
    code (``Cifar100/distiller_zoo/ICKD.py``), without its student
    embedding (1x1 conv + BN to the teacher's width), which the segmentor
    applies before the loss as a connector.

    ``grid=(m, n)`` is the paper's grid-level variant for segmentation: the
    (H, W) map is split into m x n cells (rows and columns split as
    :func:`torch.tensor_split` does, cell sizes differing by at most one),
    G is computed per cell as above, and the loss is averaged over the
    cells: ``sum_{b,cell,i,j} (...)^2 / (C * B * m * n)``. This is our
    reading of the paper: no grid training code is public (the official
    repository releases segmentation evaluation only), so the per-cell
    normalisation and weighting cannot be checked against code. The paper
    reports 4 x 4 and 32 x 32 as its best VOC grids. Memory: B * m * n *
    C^2 floats per map (1 GiB per image for C = 512 and a 32 x 32 grid).

    Works on features (after a connector) or on logits (C = number of
    classes, no connector: the AICSD authors' ICKD baseline, which they
    apply to full-resolution logits). A channel that is zero in a cell
    (a dead ReLU unit) gives a zero row of G, left at zero with no gradient
    instead of ``F.normalize``'s (see :func:`.utils.normalize_nonzero`).
    The value does not depend on the scale of either map (each sample is
    divided by its largest |entry|, see :func:`.utils.divide_by_abs_max`);
    computed in float32 whatever the input dtype, also under autocast.

    Args:
        student (Tensor): Student features or logits, (B, C, H_s, W_s).
            Resized bilinearly to the teacher's (H, W) if they differ.
        teacher (Tensor): Teacher features or logits, (B, C, H, W); the
            loss does not backpropagate into them.
        grid (int | tuple[int, int]): Cells along H and W; an int is used
            for both. Defaults to (1, 1), the whole map (official code).

    Returns:
        Tensor: Scalar float32 loss (dimensionless), in [0, 4]
        ([0, 2] for non-negative maps).

    Raises:
        ValueError: If ``grid`` is not positive, the maps are not
            (B, C, H, W) with equal B, the channel counts differ (the
            message names both), the spatial sizes are empty or of
            different aspect ratios, or the grid has more cells along a
            side than the teacher map has positions.
    """
    grid = int_pair(grid, 'grid', GRID_PAIR)
    check_same_channels(student, teacher,
                        'ICKD compares channel correlations one to one')
    with torch.autocast(device_type=student.device.type, enabled=False):
        student, teacher = match_logits(
            student.float(), teacher.detach().float(), match_channels=False)
        H, W = teacher.shape[2:]
        if grid[0] > H or grid[1] > W:
            raise ValueError(
                f'grid {grid} has more cells than the {H}x{W} teacher map '
                'has positions along a side: use a coarser grid')
        g_s = _channel_correlation(divide_by_abs_max(student), grid)
        g_t = _channel_correlation(divide_by_abs_max(teacher), grid)
        B, cells, C = g_s.shape[:3]
        return (g_s - g_t).pow(2).sum() / (C * B * cells)


@MODELS.register_module()
class ICKDLoss(nn.Module):
    """Inter-channel correlation KD loss (Liu et al., ICCV 2021).

    Called as ``loss(student, teacher)`` on maps of equal channel counts
    (logits, or features after a student connector); see
    :func:`ickd_loss` for the formula, the grid and the shapes.

    Args:
        grid (int | tuple[int, int]): Cells (rows, columns) of the
            grid-level variant. Defaults to (1, 1), the official code's
            whole-map correlation.
        loss_weight (float): Weight of the loss. Defaults to 1.0; the
            official CIFAR scripts use 2.5 or 4.
        loss_name (str): Name of the loss item. Defaults to 'loss_ickd'.

    Raises:
        ValueError: If ``grid`` is not a positive int or pair of them.
    """

    def __init__(self,
                 grid: Union[int, Sequence[int]] = (1, 1),
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_ickd'):
        super().__init__()
        self.grid = int_pair(grid, 'grid', GRID_PAIR)
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, student: Tensor, teacher: Tensor) -> Tensor:
        """Weighted ICKD loss; shapes as in :func:`ickd_loss`."""
        return self.loss_weight * ickd_loss(student, teacher, grid=self.grid)

    @property
    def loss_name(self) -> str:
        """str: Name of the loss item in the dict of losses."""
        return self._loss_name
