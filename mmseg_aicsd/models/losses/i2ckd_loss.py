# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""I2CKD: a triplet loss between student and teacher class prototypes.

Reference: A. Karine, T. Napoleon, M. Jridi, "I2CKD: Intra- and Inter-Class
Knowledge Distillation for Semantic Segmentation", arXiv 2403.18490
(Neurocomputing 649, 2025). There is no public code, and the full text was
not available to us: this is a reconstruction. What the abstract states:
prototypes of intermediate feature maps, a triplet loss between teacher
and student prototypes that minimises intra-class and maximises
inter-class variance. What second-hand descriptions add: prototypes are
masked means under the ground truth. Everything else (anchor, positive
and negatives, distance, margin, normalisation, reduction, layer, weight)
is our choice and a parameter; see ``configs/i2ckd/README.md``.
"""
import torch
import torch.nn as nn
from torch import Tensor

from mmseg.registry import MODELS
from .class_centres import (DISTANCES, centre_distances, check_labels,
                            class_centres, zero_loss)
from .utils import (check_same_channels, divide_by_abs_max, match_logits,
                    normalize_nonzero)

NEGATIVES = ('all', 'hardest')


def _check_args(margin: float, distance: str, negatives: str,
                scope: str) -> None:
    if not margin >= 0:  # also catches NaN
        raise ValueError(f'margin must be >= 0, got {margin}')
    if distance not in DISTANCES:
        raise ValueError(f'distance must be one of {DISTANCES}, '
                         f'got {distance!r}')
    if negatives not in NEGATIVES:
        raise ValueError(f'negatives must be one of {NEGATIVES}, '
                         f'got {negatives!r}')
    if scope not in ('image', 'batch'):
        raise ValueError(f"scope must be 'image' or 'batch', got {scope!r}")


def i2ckd_loss(student: Tensor,
               teacher: Tensor,
               labels: Tensor,
               margin: float = 1.0,
               distance: str = 'euclidean',
               normalize: bool = True,
               negatives: str = 'all',
               ignore_index: int = 255,
               scope: str = 'image') -> Tensor:
    """Triplet loss between student and teacher class prototypes.

    With prototypes ``s_k`` (student) and ``t_k`` (teacher) of the classes
    present in an image (masked means under the ground truth, see
    :func:`.class_centres.class_centres`), each present class c is an
    anchor ``s_c`` with positive ``t_c`` (same class, teacher) and
    negatives ``t_k``, k != c present:
    ``l(c, k) = max(0, d(s_c, t_c) - d(s_c, t_k) + margin)``.
    'all' negatives: the mean of ``l`` over every (image, c, k) triplet;
    'hardest': per anchor only the nearest negative, mean over anchors.
    Pulling ``s_c`` to ``t_c`` is the "intra-class", pushing it from the
    other classes' teacher prototypes the "inter-class" part of I2CKD's
    abstract; this assignment (FaceNet's triplet, the standard form) is
    our reading, not the paper's printed equation. The teacher side gets
    no gradient.

    An image with fewer than two present classes forms no triplet; with no
    triplet in the batch the loss is 0 (never NaN), with zero gradients.
    Computed in float32 whatever the input dtype, also under autocast;
    where the loss does not depend on the feature scale (``normalize`` or
    'cosine'), on the maps divided by their largest |entry| (see
    :func:`.utils.divide_by_abs_max`), so that features from 1e-20 to 1e20
    give the same value.

    Args:
        student (Tensor): Student features (through a connector if the
            widths differ), (B, C, H_s, W_s); resized bilinearly to the
            teacher's (H, W) if they differ.
        teacher (Tensor): Teacher features, (B, C, H, W).
        labels (Tensor): Ground truth at the teacher's size, (B, H, W),
            int64, ``ignore_index`` for void.
        margin (float): Triplet margin, >= 0, in units of ``distance``.
            Defaults to 1.0 (``torch.nn.TripletMarginLoss``'s default).
        distance (str): 'euclidean', 'squared_euclidean' or 'cosine'.
            Defaults to 'euclidean'.
        normalize (bool): L2-normalise the prototypes first, so that the
            margin does not depend on the feature scale (euclidean
            distances then lie in [0, 2]). Defaults to True.
        negatives (str): 'all' or 'hardest'. Defaults to 'all'.
        ignore_index (int): Label of void pixels. Defaults to 255.
        scope (str): Prototypes per 'image' or over the whole 'batch'.
            Defaults to 'image'.

    Returns:
        Tensor: Scalar float32 loss, in units of ``distance``, >= 0.

    Raises:
        ValueError: If an argument is out of range, the maps are not
            (B, C, H, W) with equal B and equal C (the message names the
            connector), or ``labels`` is not (B, H, W) at the teacher's
            size.
    """
    _check_args(margin, distance, negatives, scope)
    check_same_channels(
        student, teacher,
        'I2CKD compares student and teacher prototypes in one feature space')
    with torch.autocast(device_type=student.device.type, enabled=False):
        student, teacher = match_logits(
            student.float(), teacher.detach().float(), match_channels=False)
        check_labels(teacher, labels)
        if normalize or distance == 'cosine':
            # scale-invariant: keep sums of squares within float32 range
            per_sample = scope == 'image'
            student = divide_by_abs_max(student, per_sample)
            teacher = divide_by_abs_max(teacher, per_sample)
        s, present = class_centres(student, labels, ignore_index, scope)
        t, _ = class_centres(teacher, labels, ignore_index, scope)
        if normalize:
            s, t = normalize_nonzero(s, dim=-1), normalize_nonzero(t, dim=-1)
        d = centre_distances(s, t, distance)  # (B', K, K): d(s_c, t_k)
        d_pos = d.diagonal(dim1=1, dim2=2)[..., None]
        K = d.shape[1]
        is_negative = (
            present[:, :, None] & present[:, None]
            & ~torch.eye(K, dtype=torch.bool, device=d.device))
        if not bool(is_negative.any()):
            return zero_loss(student)
        if negatives == 'hardest':
            # one triplet per anchor: its nearest negative
            anchors = is_negative.any(dim=2)
            d_neg = d.masked_fill(~is_negative, float('inf')).amin(dim=2)
            return (d_pos[..., 0] - d_neg +
                    margin)[anchors].clamp_min(0).mean()
        return (d_pos - d + margin)[is_negative].clamp_min(0).mean()


@MODELS.register_module()
class I2CKDLoss(nn.Module):
    """I2CKD triplet loss on class prototypes (Karine et al., arXiv
    2403.18490), a reconstruction: see the module docstring.

    Called by :class:`~mmseg_aicsd.models.segmentors.DistillEncoderDecoder`
    as ``loss(student, teacher, labels=...)`` on a pair of named feature
    maps (the heads' pre-classifier features by default in the configs,
    ``decode_head.sep_bottleneck`` for DeepLabV3+; the student's through a
    ``ConvBNConnector`` to the teacher's width), with the ground truth
    resized (nearest) to the teacher map; see :func:`i2ckd_loss` for the
    formula and shapes.

    Args:
        margin (float): Triplet margin, >= 0. Defaults to 1.0.
        distance (str): 'euclidean', 'squared_euclidean' or 'cosine'.
            Defaults to 'euclidean'.
        normalize (bool): L2-normalise prototypes. Defaults to True.
        negatives (str): 'all' or 'hardest'. Defaults to 'all'.
        ignore_index (int): Label of void pixels. Defaults to 255.
        scope (str): Prototypes per 'image' or 'batch'. Defaults to
            'image'.
        loss_weight (float): Weight of the loss (the paper's is unknown).
            Defaults to 1.0.
        loss_name (str): Name of the loss item. Defaults to 'loss_i2ckd'.

    Raises:
        ValueError: If an argument is out of range.
    """

    def __init__(self,
                 margin: float = 1.0,
                 distance: str = 'euclidean',
                 normalize: bool = True,
                 negatives: str = 'all',
                 ignore_index: int = 255,
                 scope: str = 'image',
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_i2ckd'):
        super().__init__()
        _check_args(margin, distance, negatives, scope)
        self.margin = margin
        self.distance = distance
        self.normalize = normalize
        self.negatives = negatives
        self.ignore_index = ignore_index
        self.scope = scope
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, student: Tensor, teacher: Tensor,
                labels: Tensor) -> Tensor:
        """Weighted I2CKD loss; shapes as in :func:`i2ckd_loss`."""
        return self.loss_weight * i2ckd_loss(
            student,
            teacher,
            labels,
            margin=self.margin,
            distance=self.distance,
            normalize=self.normalize,
            negatives=self.negatives,
            ignore_index=self.ignore_index,
            scope=self.scope)

    @property
    def loss_name(self) -> str:
        """str: Name of the loss item in the dict of losses."""
        return self._loss_name
