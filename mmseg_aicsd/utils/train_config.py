# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Checks of a training config that mmseg would fail only in training,
with a torch error that names no setting."""
from typing import Optional, Sequence

from mmengine.config import Config


def _train_pipeline(cfg: Config) -> Sequence[dict]:
    """The train dataset's pipeline (also under a wrapper dataset)."""
    dataset = (cfg.get('train_dataloader') or {}).get('dataset') or {}
    while 'pipeline' not in dataset and isinstance(
            dataset.get('dataset'), dict):
        dataset = dataset['dataset']
    return dataset.get('pipeline') or []


def check_crop_fits(cfg: Config) -> None:
    """Check that the train crop fits the data preprocessor's ``size``.

    mmseg's ``SegDataPreProcessor`` pads each image up to ``size``, never
    crops; ``RandomCrop`` gives crops of at most ``crop_size`` (smaller
    where the resized image is). With a ``crop_size`` larger than ``size``
    the images of a batch keep different shapes, and training stops with
    a ``torch.stack`` error.

    Args:
        cfg (Config): A training config (mmseg's ``crop_size`` and
            ``size`` are (H, W)).

    Raises:
        ValueError: If a ``RandomCrop`` of the train pipeline is larger
            than ``model.data_preprocessor.size`` in H or W.
    """
    preprocessor = (cfg.get('model') or {}).get('data_preprocessor') or \
        cfg.get('data_preprocessor') or {}
    size: Optional[Sequence[int]] = preprocessor.get('size')
    if size is None:
        return  # padded to the largest image of each batch: always fits
    for transform in _train_pipeline(cfg):
        crop = transform.get('crop_size')
        if transform.get('type') != 'RandomCrop' or crop is None:
            continue
        crop = (crop, crop) if isinstance(crop, int) else tuple(crop)
        if crop[0] > size[0] or crop[1] > size[1]:
            raise ValueError(
                f'the train pipeline\'s RandomCrop crop_size={crop} is '
                f'larger than model.data_preprocessor.size={tuple(size)} '
                '(both H, W): images are padded up to size, never cropped, '
                'so a batch would mix shapes (a torch.stack error). Set '
                'model.data_preprocessor.size to the crop size, as mmseg\'s '
                'configs do (data_preprocessor = dict(size=crop_size)).')
