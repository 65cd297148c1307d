# Copyright (c) mmseg_aicsd contributors. All rights reserved.
import os.path as osp
from typing import Dict, List, Optional, Sequence

from PIL import Image

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS


def check_index_map(path: str) -> None:
    """Check that the label map at ``path`` has one channel (class
    indices), reading its header only.

    Raises:
        ValueError: If it has several channels; the message names the file
            and the fix.
    """
    with Image.open(path) as image:
        bands = len(image.getbands())
    if bands != 1:
        raise ValueError(
            f'label map {path!r} has {bands} channels ({image.mode}): label '
            'maps must be single-channel class indices (0-10, 11 = void), '
            'as in the SegNet release\'s trainannot/, not colour maps. '
            'Point data_prefix.seg_map_path at the index maps, or convert '
            'the colours to indices with CamVidDataset.METAINFO["palette"].')


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

    Raises:
        FileNotFoundError: At build, if the split has no images, or an
            image of a split with labels (``data_prefix`` has
            ``seg_map_path``) has no label map, rather than when the data
            loader first reaches it.
        ValueError: At build, if the first label map is not a
            single-channel map of class indices (e.g. CamVid's RGB colour
            labels), rather than as a ``torch.stack`` error in training.
    """
    METAINFO = dict(
        classes=('sky', 'building', 'pole', 'road', 'pavement', 'tree',
                 'signsymbol', 'fence', 'car', 'pedestrian', 'bicyclist'),
        palette=[[128, 128, 128], [128, 0, 0], [192, 192, 128], [128, 64, 128],
                 [60, 40, 222], [128, 128, 0], [192, 128, 128], [64, 64, 128],
                 [64, 0, 128], [64, 64, 0], [0, 128, 192]])
    VOID_INDEX = 11

    def __init__(self,
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '.png',
                 **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix, seg_map_suffix=seg_map_suffix, **kwargs)

    def load_data_list(self) -> List[dict]:
        """The images and label maps; see the class docstring for errors."""
        data_list = super().load_data_list()
        if not data_list:
            raise FileNotFoundError(
                f'no *{self.img_suffix} images in '
                f'{self.data_prefix.get("img_path")!r}: check data_root and '
                'data_prefix (the SegNet layout, see CamVidDataset), and '
                'that the folder is not empty.')
        unlabelled = [
            info['img_path'] for info in data_list if info.get('seg_map_path')
            and not osp.isfile(info['seg_map_path'])
        ]
        if unlabelled:
            raise FileNotFoundError(
                f'{len(unlabelled)} of {len(data_list)} images have no label '
                f'map, e.g. {unlabelled[0]!r} (expected '
                f'{self.data_prefix.get("seg_map_path")!r}/<name>'
                f'{self.seg_map_suffix}). Restore the labels or remove the '
                'images.')
        if data_list[0].get('seg_map_path'):
            check_index_map(data_list[0]['seg_map_path'])
        return data_list

    @classmethod
    def get_label_map(
            cls,
            new_classes: Optional[Sequence] = None
    ) -> Optional[Dict[int, int]]:
        """Label map of :class:`BaseSegDataset`, with void (11) -> 255."""
        label_map = super().get_label_map(new_classes) or {}
        return {cls.VOID_INDEX: 255, **label_map}
