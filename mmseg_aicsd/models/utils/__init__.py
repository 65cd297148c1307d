# Copyright (c) mmseg_aicsd contributors. All rights reserved.
from .labels import resize_labels
from .module_recorder import ModuleOutputRecorder

__all__ = ['ModuleOutputRecorder', 'resize_labels']
