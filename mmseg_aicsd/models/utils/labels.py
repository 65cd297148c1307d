# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Ground-truth labels of a training batch, at the size of a distilled
map."""
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from mmseg.utils import SampleList


def resize_labels(data_samples: SampleList, size: Sequence[int]) -> Tensor:
    """The batch's ``gt_sem_seg`` resized to ``size`` by nearest neighbour.

    Nearest neighbour keeps label values as they are, the ignore index
    (255 after CamVid's void mapping) included: no new classes appear at
    class borders.

    Args:
        data_samples (list[:obj:`SegDataSample`]): Samples with
            ``gt_sem_seg`` of equal size (the data preprocessor pads them
            to the batch shape).
        size (Sequence[int]): Target (H, W), e.g. a logit or feature map's.

    Returns:
        Tensor: Labels, shape (B, H, W), int64, on the samples' device.
    """
    labels = torch.stack([s.gt_sem_seg.data for s in data_samples])
    if tuple(labels.shape[-2:]) != tuple(size):
        labels = F.interpolate(
            labels.float(), size=tuple(size), mode='nearest')
    return labels[:, 0].long()


def check_labelled(data_samples: SampleList) -> None:
    """Check that every training sample has labels (``gt_sem_seg``).

    Raises:
        ValueError: If a sample has none (an image without labels); the
            message counts them, names the first and the usual cause.
    """
    unlabelled = [
        sample.metainfo.get('img_path', f'sample {i}')
        for i, sample in enumerate(data_samples) if 'gt_sem_seg' not in sample
    ]
    if unlabelled:
        raise ValueError(
            f'{len(unlabelled)} training images have no labels '
            f'(gt_sem_seg), e.g. {unlabelled[0]!r}: the train pipeline '
            'needs LoadAnnotations and the dataset its ann_dir / '
            'seg_map_path')


def check_label_values(data_samples: SampleList, num_classes: int,
                       ignore_index: int) -> None:
    """Check that every label is a class index or ``ignore_index``.

    Args:
        data_samples (list[:obj:`SegDataSample`]): With ``gt_sem_seg``.
        num_classes (int): The heads' class count C: classes are 0..C-1.
        ignore_index (int): The label the losses ignore (255 in mmseg).

    Raises:
        ValueError: If a label is neither (rather than torch's ``Target 20
            is out of bounds``); the message names the value, the image and
            the fixes.
    """
    for i, sample in enumerate(data_samples):
        labels = sample.gt_sem_seg.data
        bad = ((labels < 0) | (labels >= num_classes)) & \
            (labels != ignore_index)
        if bad.any():
            path = sample.metainfo.get(
                'seg_map_path', sample.metainfo.get('img_path', f'sample {i}'))
            raise ValueError(
                f'label value {int(labels[bad].max())} in {path!r} is '
                f'neither one of the {num_classes} classes (0-'
                f'{num_classes - 1}) nor ignore_index {ignore_index}: the '
                'label maps are of another label set. Make num_classes and '
                'the dataset\'s classes match the maps, map such values '
                f'to {ignore_index} (the dataset\'s label_map, '
                'reduce_zero_label), or convert the maps.')
