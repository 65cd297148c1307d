# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""mmseg's ``RandomCrop`` that also records where it cropped."""
from mmseg.datasets.transforms import RandomCrop
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomCropWithBox(RandomCrop):
    """``RandomCrop``, the same crops, plus ``results['crop_bbox']``.

    The box is ``(y1, y2, x1, x2)`` in pixels of the image as the crop
    found it (after any resize), the last one drawn when ``cat_max_ratio``
    retries. The offline teacher (:class:`~mmseg_aicsd.models.distillers.
    TeacherLogitCache`) cuts each sample's teacher map with it; list
    ``'crop_bbox'`` in ``PackSegInputs``' ``meta_keys`` so that it reaches
    the model.

    Args:
        As :class:`mmseg.datasets.transforms.RandomCrop`.
    """

    def crop_bbox(self, results: dict) -> tuple:
        """The crop box of ``RandomCrop``, recorded in ``results``."""
        box = super().crop_bbox(results)
        results['crop_bbox'] = tuple(int(v) for v in box)
        return box
