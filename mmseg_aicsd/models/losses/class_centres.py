# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Class centres (prototypes) of feature maps under ground-truth labels,
and distances between them: the shared core of I2CKD and IDD."""
from typing import Tuple

import torch
from torch import Tensor

from .utils import normalize_nonzero

DISTANCES = ('euclidean', 'squared_euclidean', 'cosine')


def check_labels(feats: Tensor, labels: Tensor) -> None:
    """Raise a ValueError unless ``labels`` is (B, H, W) for (B, C, H, W)
    ``feats``: the segmentor resizes labels to the teacher map's size."""
    if feats.dim() != 4 or labels.shape != feats.shape[:1] + feats.shape[2:]:
        raise ValueError(
            'labels must be (B, H, W) at the size of the (B, C, H, W) '
            f'feature map; got labels {tuple(labels.shape)} for a map of '
            f'shape {tuple(feats.shape)}')


def class_centres(feats: Tensor,
                  labels: Tensor,
                  ignore_index: int = 255,
                  scope: str = 'image') -> Tuple[Tensor, Tensor]:
    """Mean feature vector of each class under the ground-truth labels.

    ``v_bk = sum_i [y_bi = k] F_bi / sum_i [y_bi = k]`` over the positions
    i of image b: masked average pooling, as the prototypes of I2CKD
    (Karine et al., arXiv 2403.18490, as described second-hand) and the
    class centres of IFVD / IDD (Zhang et al., IJCAI 2022). Pixels labelled
    ``ignore_index`` take no part. A class with no pixel has a zero centre
    and ``present`` False.

    Args:
        feats (Tensor): Features, (B, C, H, W), floating dtype.
        labels (Tensor): Ground truth at the features' size, (B, H, W),
            integer: class indices >= 0 or ``ignore_index``. K is the
            largest class index in the batch plus one (the classes above
            it are absent anyway).
        ignore_index (int): Label of void pixels. Defaults to 255.
        scope (str): 'image' (one set of centres per image) or 'batch'
            (pixels of the whole batch pooled: B becomes 1). Defaults to
            'image'.

    Returns:
        tuple[Tensor, Tensor]: Centres (B', K, C) in the dtype of
        ``feats`` and ``present`` (B', K) bool, with B' = B for 'image'
        and 1 for 'batch'.

    Raises:
        ValueError: If the shapes do not match, ``scope`` is unknown, or a
            label other than ``ignore_index`` is negative.
    """
    check_labels(feats, labels)
    if scope not in ('image', 'batch'):
        raise ValueError(f"scope must be 'image' or 'batch', got {scope!r}")
    B, C = feats.shape[:2]
    feats, labels = feats.flatten(2), labels.flatten(1)  # (B, C, N), (B, N)
    if scope == 'batch':
        feats = feats.transpose(0, 1).reshape(1, C, -1)
        labels = labels.reshape(1, -1)
    valid = labels != ignore_index
    if bool((labels[valid] < 0).any()):
        raise ValueError(
            f'labels must be class indices >= 0 or ignore_index='
            f'{ignore_index}; got values {labels[valid].unique().tolist()}')
    num_classes = int(labels[valid].max()) + 1 if bool(valid.any()) else 0
    onehot = torch.zeros(
        labels.shape[0],
        num_classes + 1,
        labels.shape[1],
        dtype=feats.dtype,
        device=feats.device)
    # void pixels go to an extra row that is dropped
    onehot.scatter_(1, torch.where(valid, labels, num_classes)[:, None], 1)
    onehot = onehot[:, :num_classes]
    counts = onehot.sum(dim=2)  # (B', K)
    sums = torch.bmm(onehot, feats.transpose(1, 2))  # (B', K, C)
    present = counts > 0
    centres = sums / torch.where(present, counts, 1)[..., None]
    return centres, present


def safe_sqrt(x: Tensor) -> Tensor:
    """``sqrt`` of a non-negative tensor, with gradient 0 instead of inf
    at 0 (coinciding centres); NaN stays NaN."""
    zero = x == 0
    return torch.where(zero, 0, torch.where(zero, 1, x).sqrt())


def centre_distances(a: Tensor,
                     b: Tensor,
                     distance: str = 'euclidean') -> Tensor:
    """Distances between every row of ``a`` and every row of ``b``.

    Args:
        a (Tensor): (B, K, C) centres.
        b (Tensor): (B, M, C) centres.
        distance (str): 'euclidean' (``||a - b||_2``), 'squared_euclidean'
            or 'cosine' (``1 - cos(a, b)``, 0 to 2; a zero vector has
            similarity 0 to everything). Defaults to 'euclidean'.

    Returns:
        Tensor: (B, K, M) distances, in units of the features (squared for
        'squared_euclidean', none for 'cosine').

    Raises:
        ValueError: If ``distance`` is unknown.
    """
    if distance == 'cosine':
        a, b = normalize_nonzero(a, dim=-1), normalize_nonzero(b, dim=-1)
        return 1 - a @ b.transpose(1, 2)
    if distance not in DISTANCES:
        raise ValueError(f'distance must be one of {DISTANCES}, '
                         f'got {distance!r}')
    # explicit differences: exact zeros on the diagonal, unlike the
    # |a|^2 + |b|^2 - 2ab expansion
    squared = (a[:, :, None] - b[:, None]).pow(2).sum(dim=-1)
    return squared if distance == 'squared_euclidean' else safe_sqrt(squared)


def zero_loss(*tensors: Tensor) -> Tensor:
    """A float32 zero connected to the graph of ``tensors``, so that
    parameters behind them get a (zero) gradient: DDP expects one."""
    return sum((t.float().sum() * 0 for t in tensors),
               torch.zeros((), device=tensors[0].device))


__all__ = [
    'class_centres', 'centre_distances', 'check_labels', 'safe_sqrt',
    'zero_loss', 'DISTANCES'
]
