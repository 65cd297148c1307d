# Copyright (c) mmseg_aicsd contributors. All rights reserved.
from .camvid import CamVidDataset
from .transforms import RandomCropWithBox

__all__ = ['CamVidDataset', 'RandomCropWithBox']
