# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""IFVD: intra-class feature variation distillation.

Reference: Y. Wang, W. Zhou, T. Jiang, X. Bai, Y. Xu, "Intra-class Feature
Variation Distillation for Semantic Segmentation", ECCV 2020.
"""
import torch
import torch.nn as nn
from torch import Tensor

from mmseg.registry import MODELS
from .class_centres import check_labels, class_centres, zero_loss
from .utils import divide_by_abs_max, match_logits, normalize_nonzero


def _centre_similarity(feats: Tensor, labels: Tensor,
                       ignore_index: int) -> Tensor:
    """(B, C, H, W) features -> (B, H * W) cosine similarity of each pixel
    to the centre of its class in its image (0 at void pixels)."""
    centres, _ = class_centres(feats, labels, ignore_index, 'image')
    if centres.shape[1] == 0:  # no labelled pixel in the batch
        return feats.new_zeros(feats.shape[0], feats[0, 0].numel())
    pixels = normalize_nonzero(feats.flatten(2), dim=1).transpose(1, 2)
    centres = normalize_nonzero(centres, dim=-1)  # (B, K, C)
    labels = labels.flatten(1)
    valid = labels != ignore_index
    index = torch.where(valid, labels,
                        0)[..., None].expand(-1, -1, centres.shape[-1])
    own_centre = centres.gather(1, index)  # (B, N, C)
    return (pixels * own_centre).sum(-1) * valid


def ifvd_loss(student: Tensor,
              teacher: Tensor,
              labels: Tensor,
              ignore_index: int = 255,
              count_void: bool = False) -> Tensor:
    """Intra-class feature variation distillation loss.

    Each pixel i of image b with label k has the intra-class feature
    variation ``M_bi = cos(F_bi, v_bk)``, the cosine similarity of its
    feature to the centre of its class, ``v_bk`` the mean feature of the
    image's pixels labelled k (see :func:`.class_centres.class_centres`);
    ``L = 1 / |P| * sum_{(b,i) in P} (M^S_bi - M^T_bi)^2``, the mean
    squared difference of the two IFV maps over the labelled pixels P. The
    similarities are scalars per pixel, so student and teacher may differ
    in width: no connector is needed.

    ``count_void=True`` divides by all B * H * W pixels instead, void
    pixels adding 0: the value of CIRKD's ``CriterionIFV``, which shrinks
    with the void fraction. An all-void batch gives 0 (never NaN), with zero
    gradients. Computed in float32 whatever the input dtype, also under
    autocast, on each sample divided by its largest |entry| (see
    :func:`.utils.divide_by_abs_max`; cosines do not depend on the
    scale). A zero feature or centre has similarity 0.

    Args:
        student (Tensor): Student features, (B, C_s, H_s, W_s); resized
            bilinearly to the teacher's (H, W) if they differ.
        teacher (Tensor): Teacher features, (B, C_t, H, W); the loss does
            not backpropagate into them.
        labels (Tensor): Ground truth at the teacher's size, (B, H, W),
            int64, ``ignore_index`` for void.
        ignore_index (int): Label of void pixels. Defaults to 255.
        count_void (bool): Average over all pixels, void ones included.
            Defaults to False.

    Returns:
        Tensor: Scalar float32 loss (dimensionless), in [0, 4].

    Raises:
        ValueError: If the maps are not (B, C, H, W) with equal B, their
            spatial sizes are empty or of different aspect ratios, or
            ``labels`` is not (B, H, W) at the teacher's size or holds a
            negative class.
    """
    with torch.autocast(device_type=student.device.type, enabled=False):
        student, teacher = match_logits(
            student.float(), teacher.detach().float(), match_channels=False)
        check_labels(teacher, labels)
        valid = labels != ignore_index
        if not bool(valid.any()):
            return zero_loss(student)
        m_s = _centre_similarity(
            divide_by_abs_max(student), labels, ignore_index)
        m_t = _centre_similarity(
            divide_by_abs_max(teacher), labels, ignore_index)
        count = valid.numel() if count_void else valid.sum()
        return (m_s - m_t).pow(2).sum() / count


@MODELS.register_module()
class IFVDLoss(nn.Module):
    """Intra-class feature variation distillation (Wang et al., ECCV 2020).

    Called by :class:`~mmseg_aicsd.models.segmentors.DistillEncoderDecoder`
    as ``loss(student, teacher, labels=...)`` on a pair of named feature
    maps of any widths, with the ground truth resized (nearest) to the
    teacher map; see :func:`ifvd_loss` for the formula and shapes.

    Args:
        ignore_index (int): Label of void pixels. Defaults to 255.
        count_void (bool): Average over all pixels, void ones included
            (CIRKD's ``CriterionIFV``). Defaults to False.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        loss_name (str): Name of the loss item. Defaults to 'loss_ifvd'.
    """

    def __init__(self,
                 ignore_index: int = 255,
                 count_void: bool = False,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_ifvd'):
        super().__init__()
        self.ignore_index = ignore_index
        self.count_void = count_void
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, student: Tensor, teacher: Tensor,
                labels: Tensor) -> Tensor:
        """Weighted IFVD loss; shapes as in :func:`ifvd_loss`."""
        return self.loss_weight * ifvd_loss(
            student,
            teacher,
            labels,
            ignore_index=self.ignore_index,
            count_void=self.count_void)

    @property
    def loss_name(self) -> str:
        """str: Name of the loss item in the dict of losses."""
        return self._loss_name
