# Copyright (c) mmseg_aicsd contributors. All rights reserved.
from typing import Dict, Optional, Sequence

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS


@DATASETS.register_module()
class CamVidDataset(BaseSegDataset):
    """CamVid in the SegNet release layout (Brostow et al., 2008).

    ::

        data_root/
            train/*.png   trainannot/*.png
            val/*.png     valannot/*.png
            test/*.png    testannot/*.png

    RGB images 480 x 360 and single-channel label maps of the same name with
    11 classes (0-10). Index 11 is void: it is mapped to 255 on load (via
    mmseg's ``label_map``), so the stock ``ignore_index=255`` of mmseg's
    losses and ``IoUMetric`` ignores it with no other setting.

    Args:
        img_suffix (str): Defaults to '.png'.
        seg_map_suffix (str): Defaults to '.png'.
        **kwargs: As :class:`mmseg.datasets.BaseSegDataset`.
    """
    METAINFO = dict(
        classes=('sky', 'building', 'pole', 'road', 'pavement', 'tree',
                 'signsymbol', 'fence', 'car', 'pedestrian', 'bicyclist'),
        palette=[[128, 128, 128], [128, 0, 0], [192, 192, 128],
                 [128, 64, 128], [60, 40, 222], [128, 128, 0],
                 [192, 128, 128], [64, 64, 128], [64, 0, 128],
                 [64, 64, 0], [0, 128, 192]])
    VOID_INDEX = 11

    def __init__(self,
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '.png',
                 **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)

    @classmethod
    def get_label_map(cls,
                      new_classes: Optional[Sequence] = None
                      ) -> Optional[Dict[int, int]]:
        """Label map of :class:`BaseSegDataset`, with void (11) -> 255."""
        label_map = super().get_label_map(new_classes) or {}
        return {cls.VOID_INDEX: 255, **label_map}
