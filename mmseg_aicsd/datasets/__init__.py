# Copyright (c) mmseg_aicsd contributors. All rights reserved.
from .camvid import CamVidDataset

__all__ = ['CamVidDataset']
