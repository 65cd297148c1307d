# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""What the segmentor, the tools and the benchmarks share: the student and
teacher of a distillation config, its checkpoint keys and strict loading,
and checks of a training config.
Run records and result tables are in :mod:`mmseg_aicsd.utils.results`
(it needs the ``analysis`` extra: pandas)."""
from .distill_config import (DISTILL_TYPE, DISTILL_TYPES, is_distill_config,
                             student_model_config, teacher_config,
                             teacher_model_config)
from .state_dict import (BN_STATS, NOT_STUDENT, UNUSED_AT_INFERENCE,
                         CheckpointMismatchError, load_state_dict_strictly,
                         strip_ddp_prefix, student_state_dict, warn_ignored)
from .train_config import check_crop_fits

__all__ = [
    'DISTILL_TYPE', 'DISTILL_TYPES', 'is_distill_config',
    'student_model_config', 'teacher_config', 'teacher_model_config',
    'BN_STATS', 'NOT_STUDENT', 'UNUSED_AT_INFERENCE',
    'CheckpointMismatchError', 'load_state_dict_strictly', 'strip_ddp_prefix',
    'student_state_dict', 'warn_ignored', 'check_crop_fits'
]
