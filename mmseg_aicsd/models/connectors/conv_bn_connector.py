# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Map student feature channels to the teacher's."""
from typing import Optional

from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor

from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptConfigType


@MODELS.register_module()
class ConvBNConnector(BaseModule):
    """1x1 convolution + BatchNorm from student to teacher channels.

    The embedding that feature-distillation methods put on the student
    side when the widths differ: ICKD's ``Embed`` (Conv1x1 without bias +
    BatchNorm2d, Liu et al., ICCV 2021), CWD's feature connector (Shu et
    al., ICCV 2021; the official code adds a ReLU: ``act_cfg=dict(type=
    'ReLU')``). It trains with the student. ``DistillEncoderDecoder``
    fills in ``in_channels`` and ``out_channels`` from the recorded maps
    when a config leaves them out.

    Args:
        in_channels (int): Student feature channels C_s.
        out_channels (int): Teacher feature channels C_t.
        kernel_size (int): Convolution kernel size. Defaults to 1.
        norm_cfg (dict, optional): Normalisation layer; None for none.
            Defaults to ``dict(type='BN')``.
        act_cfg (dict, optional): Activation; None (default) keeps the
            output linear, for targets taken before a ReLU or of any sign.
        init_cfg (dict, optional): mmengine initialisation config.

    Shapes:
        (B, C_s, H, W) -> (B, C_t, H, W).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int = 1,
                 norm_cfg: OptConfigType = dict(type='BN'),
                 act_cfg: OptConfigType = None,
                 init_cfg: Optional[ConfigType] = None):
        super().__init__(init_cfg)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.conv = ConvModule(
            in_channels,
            out_channels,
            kernel_size,
            padding=kernel_size // 2,
            bias=norm_cfg is None,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)

    def forward(self, feature: Tensor) -> Tensor:
        """Map a (B, C_s, H, W) student feature to (B, C_t, H, W).

        Raises:
            ValueError: If the feature does not have ``in_channels``
                channels.
        """
        if feature.dim() != 4 or feature.shape[1] != self.in_channels:
            raise ValueError(
                f'{type(self).__name__} maps {self.in_channels} channels to '
                f'{self.out_channels}, got a feature of shape '
                f'{tuple(feature.shape)}')
        return self.conv(feature)
