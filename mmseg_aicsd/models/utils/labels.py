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
