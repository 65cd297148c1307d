# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""FitNet: regression of the teacher's features through a connector.

Reference: A. Romero, N. Ballas, S. E. Kahou, A. Chassang, C. Gatta,
Y. Bengio, "FitNets: Hints for Thin Deep Nets", ICLR 2015.
"""
import torch
import torch.nn as nn
from torch import Tensor

from mmseg.registry import MODELS
from .utils import check_same_channels, match_logits


def fitnet_loss(student: Tensor, teacher: Tensor) -> Tensor:
    """FitNet hint loss between a student map and a teacher map.

    With ``r(F^S)`` the student's map through its regressor (the
    connector, applied by the segmentor before the loss),
    ``L = 1 / (B * C * H * W) * sum_{b,c,h,w} (r(F^S)_bchw - F^T_bchw)^2``:
    the paper's hint loss ``1/2 ||u_h - r(v_g)||^2`` averaged over the
    elements instead of halved and summed, so that its scale does not
    grow with the map size.

    Computed in float32 whatever the input dtype, also under autocast. The
    value is in squared units of the teacher's features: it is not
    invariant to their scale (unlike AT, SP or CWD), so its weight depends
    on the layer.

    Args:
        student (Tensor): Student map through the connector,
            (B, C, H_s, W_s); resized bilinearly to the teacher's (H, W)
            if they differ.
        teacher (Tensor): Teacher map, (B, C, H, W); the loss does not
            backpropagate into it.

    Returns:
        Tensor: Scalar float32 loss, >= 0.

    Raises:
        ValueError: If the maps are not (B, C, H, W) with equal B, their
            channel counts differ (the message names the connector), or
            their spatial sizes are empty or of different aspect ratios.
    """
    check_same_channels(student, teacher,
                        'FitNet regresses the teacher map element by element')
    with torch.autocast(device_type=student.device.type, enabled=False):
        student, teacher = match_logits(
            student.float(), teacher.detach().float(), match_channels=False)
        return (student - teacher).pow(2).mean()


@MODELS.register_module()
class FitNetLoss(nn.Module):
    """FitNet hint loss (Romero et al., ICLR 2015).

    Called by :class:`~mmseg_aicsd.models.segmentors.DistillEncoderDecoder`
    as ``loss(student, teacher)`` on a pair of named feature maps, the
    student's through a connector (the regressor: ``connector=dict(type=
    'ConvBNConnector', norm_cfg=None)`` is a 1x1 conv, trained with the
    student); see :func:`fitnet_loss` for the formula and shapes.

    Args:
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        loss_name (str): Name of the loss item. Defaults to 'loss_fitnet'.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_fitnet'):
        super().__init__()
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, student: Tensor, teacher: Tensor) -> Tensor:
        """Weighted FitNet loss; shapes as in :func:`fitnet_loss`."""
        return self.loss_weight * fitnet_loss(student, teacher)

    @property
    def loss_name(self) -> str:
        """str: Name of the loss item in the dict of losses."""
        return self._loss_name
