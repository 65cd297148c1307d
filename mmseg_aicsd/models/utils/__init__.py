# Copyright (c) mmseg_aicsd contributors. All rights reserved.
from .labels import check_label_values, check_labelled, resize_labels
from .module_recorder import ModuleOutputRecorder
from .nonfinite_guard import NonFiniteLossGuard

__all__ = [
    'ModuleOutputRecorder', 'NonFiniteLossGuard', 'check_label_values',
    'check_labelled', 'resize_labels'
]
