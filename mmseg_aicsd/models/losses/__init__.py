# Copyright (c) mmseg_aicsd contributors. All rights reserved.
from .at_loss import ATLoss, at_loss
from .cirkd_loss import (CIRKDLoss, CIRKDMemoryLoss, cirkd_loss,
                         memory_contrast_loss)
from .class_weighted_ce_loss import (ClassWeightedCrossEntropyLoss,
                                     class_weighted_avg_factor)
from .cwd_loss import CWDLoss, cwd_loss
from .dist_loss import DISTLoss, dist_loss
from .fitnet_loss import FitNetLoss, fitnet_loss
from .i2ckd_loss import I2CKDLoss, i2ckd_loss
from .ickd_loss import ICKDLoss, ickd_loss
from .icsd_loss import ICSDLoss, icsd_loss, inter_class_similarity
from .idd_loss import IDDLoss, idd_loss
from .ifvd_loss import IFVDLoss, ifvd_loss
from .pixel_kd_loss import PixelKDLoss, pixel_kd_loss
from .released_icsd_loss import (ReleasedCodeICSDLoss, released_ics,
                                 released_icsd_loss)
from .skd_pairwise_loss import SKDPairwiseLoss, skd_pairwise_loss
from .sp_loss import SPLoss, sp_loss

__all__ = [
    'ICSDLoss', 'icsd_loss', 'inter_class_similarity', 'PixelKDLoss',
    'pixel_kd_loss', 'ATLoss', 'at_loss', 'SPLoss', 'sp_loss',
    'SKDPairwiseLoss', 'skd_pairwise_loss', 'ICKDLoss', 'ickd_loss', 'CWDLoss',
    'cwd_loss', 'I2CKDLoss', 'i2ckd_loss', 'IDDLoss', 'idd_loss',
    'ReleasedCodeICSDLoss', 'released_ics', 'released_icsd_loss', 'FitNetLoss',
    'fitnet_loss', 'IFVDLoss', 'ifvd_loss', 'CIRKDLoss', 'cirkd_loss',
    'CIRKDMemoryLoss', 'memory_contrast_loss', 'DISTLoss', 'dist_loss',
    'ClassWeightedCrossEntropyLoss', 'class_weighted_avg_factor'
]
