# Copyright (c) mmseg_aicsd contributors. All rights reserved.
from .icsd_loss import ICSDLoss, icsd_loss, inter_class_similarity
from .pixel_kd_loss import PixelKDLoss, pixel_kd_loss

__all__ = [
    'ICSDLoss', 'icsd_loss', 'inter_class_similarity', 'PixelKDLoss',
    'pixel_kd_loss'
]
