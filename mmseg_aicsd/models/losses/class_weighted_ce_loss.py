# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Cross-entropy with class weights and ignored pixels."""
from typing import Optional, Sequence, Union

import torch
from torch import Tensor

from mmseg.models.losses import CrossEntropyLoss
from mmseg.registry import MODELS


def class_weighted_avg_factor(labels: Tensor,
                              class_weight: Tensor,
                              ignore_index: int = 255,
                              weight: Optional[Tensor] = None) -> Tensor:
    """Normaliser of the class-weighted mean cross-entropy.

    ``sum_i w[y_i] * m_i`` over the pixels i whose label is not
    ``ignore_index``, with ``m_i`` the per-pixel weight (1 without one):
    the denominator of ``F.cross_entropy(weight=w, ignore_index=...)``'s
    ``'mean'``.

    Args:
        labels (Tensor): Labels, shape (B, H, W), integer dtype.
        class_weight (Tensor): Weight per class, shape (C,).
        ignore_index (int): Label of the pixels left out. Defaults to 255.
        weight (Tensor, optional): Per-pixel weight, shape (B, H, W).

    Returns:
        Tensor: Scalar, in the units of ``class_weight``.
    """
    valid = labels != ignore_index
    # ignored pixels index class 0, then count 0: no index out of range
    per_pixel = class_weight[torch.where(valid, labels, 0)] * valid
    if weight is not None:
        per_pixel = per_pixel * weight.float()
    return per_pixel.sum()


@MODELS.register_module()
class ClassWeightedCrossEntropyLoss(CrossEntropyLoss):
    """Softmax cross-entropy with a weight per class, averaged as PyTorch's
    ``F.cross_entropy(weight=class_weight, ignore_index=ignore_index)``.

    ``sum_i w[y_i] * CE_i / sum_i w[y_i]`` over the pixels i not labelled
    ``ignore_index``: the weighted mean of SegNet's median-frequency class
    balancing (Badrinarayanan et al., SegNet, TPAMI 2017, Sec. 3.3; Eigen
    and Fergus, ICCV 2015). mmseg 1.2.2's ``CrossEntropyLoss`` with
    ``class_weight`` raises ``IndexError: index 255 is out of bounds`` on
    any batch with ignored pixels (its normaliser indexes the weights with
    the raw labels); this class computes the normaliser over the valid
    pixels and otherwise is that loss (same call, same ``loss_name``), so
    it replaces it in ``loss_decode``.

    Args:
        class_weight (list[float] | str): Weight of each of the C classes,
            in the dataset's class order, or a ``.npy`` / ``.pkl`` file of
            them (as mmseg's ``CrossEntropyLoss``). Compute them with
            ``tools/analysis_tools/class_weights.py``.
        reduction (str): ``'mean'`` (the weighted mean above), ``'sum'``
            or ``'none'`` (per-pixel ``w[y_i] * CE_i``, 0 where ignored).
            Defaults to 'mean'.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        loss_name (str): Name of the loss item. Defaults to 'loss_ce'.
        use_sigmoid (bool): Accepted so that the type of a stock
            ``loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False)``
            can be replaced alone; must be False.
        avg_non_ignore (bool): Accepted for the same reason; must be True
            (the mean is over the valid pixels).

    Raises:
        ValueError: If ``class_weight`` is missing or empty, has a
            negative or non-finite entry, or (at call) its length is not
            the C of the logits; if ``use_sigmoid`` is True or
            ``avg_non_ignore`` False.
    """

    def __init__(self,
                 class_weight: Union[Sequence[float], str],
                 reduction: str = 'mean',
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_ce',
                 use_sigmoid: bool = False,
                 avg_non_ignore: bool = True):
        if use_sigmoid or not avg_non_ignore:
            raise ValueError(
                'ClassWeightedCrossEntropyLoss is the softmax cross-entropy '
                'averaged over the valid pixels: use_sigmoid must be False '
                f'and avg_non_ignore True, got use_sigmoid={use_sigmoid}, '
                f'avg_non_ignore={avg_non_ignore}')
        # avg_non_ignore=True also silences mmseg's warning on its default
        super().__init__(
            reduction=reduction,
            class_weight=class_weight,
            loss_weight=loss_weight,
            loss_name=loss_name,
            avg_non_ignore=True)
        weights = self.class_weight
        if weights is None or len(weights) == 0:
            raise ValueError(
                'ClassWeightedCrossEntropyLoss needs class_weight, one '
                'weight per class (tools/analysis_tools/class_weights.py '
                'computes them); use CrossEntropyLoss for no weights')
        weights = torch.as_tensor(weights, dtype=torch.float64)
        if not (torch.isfinite(weights).all() and (weights >= 0).all()):
            raise ValueError('class_weight must be finite and >= 0, got '
                             f'{[float(w) for w in weights]}')

    def forward(self,
                cls_score: Tensor,
                label: Tensor,
                weight: Optional[Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None,
                ignore_index: int = 255,
                **kwargs) -> Tensor:
        """Weighted loss.

        Args:
            cls_score (Tensor): Logits, shape (B, C, H, W).
            label (Tensor): Labels, shape (B, H, W), in 0..C-1 or
                ``ignore_index``.
            weight (Tensor, optional): Per-pixel weight (B, H, W), e.g. an
                OHEM sampler's.
            avg_factor (float, optional): Normaliser of ``'mean'``;
                default: :func:`class_weighted_avg_factor`.
            reduction_override (str, optional): ``'none'``, ``'mean'`` or
                ``'sum'`` for this call.
            ignore_index (int): Label of the pixels left out. Defaults to
                255.

        Returns:
            Tensor: Scalar (or per pixel with ``'none'``).

        Raises:
            ValueError: If ``class_weight`` does not have C entries.
        """
        num_classes = cls_score.shape[1]
        if len(self.class_weight) != num_classes:
            raise ValueError(
                f'class_weight has {len(self.class_weight)} entries but the '
                f'logits have {num_classes} classes: give one weight per '
                'class, in the dataset\'s class order')
        reduction = reduction_override or self.reduction
        if avg_factor is None and reduction == 'mean':
            avg_factor = class_weighted_avg_factor(
                label, cls_score.new_tensor(self.class_weight), ignore_index,
                weight)
        return super().forward(
            cls_score,
            label,
            weight=weight,
            avg_factor=avg_factor,
            reduction_override=reduction_override,
            ignore_index=ignore_index,
            **kwargs)
