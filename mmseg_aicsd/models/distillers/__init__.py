# Copyright (c) mmseg_aicsd contributors. All rights reserved.
from .distill_losses import LOGITS, DistillLossSet
from .frozen_teacher import (TEACHER_DTYPES, build_frozen_teacher,
                             check_same_preprocessing, cpu_has_native_bfloat16,
                             ddp_ignore_names, keep_out_of_checkpoints,
                             load_teacher, teacher_dtype, teacher_forward,
                             warn_slow_cpu_bfloat16)
from .teacher_cache import TeacherLogitCache, cut_teacher_logits, sample_grid

__all__ = [
    'LOGITS', 'DistillLossSet', 'TEACHER_DTYPES', 'build_frozen_teacher',
    'check_same_preprocessing', 'cpu_has_native_bfloat16', 'ddp_ignore_names',
    'keep_out_of_checkpoints', 'load_teacher', 'teacher_dtype',
    'teacher_forward', 'warn_slow_cpu_bfloat16', 'TeacherLogitCache',
    'cut_teacher_logits', 'sample_grid'
]
