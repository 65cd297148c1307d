# Copyright (c) mmseg_aicsd contributors. All rights reserved.
from .random_crop_with_box import RandomCropWithBox

__all__ = ['RandomCropWithBox']
