# Copyright (c) mmseg_aicsd contributors. All rights reserved.
from .distill_losses import LOGITS, DistillLossSet
from .frozen_teacher import (TEACHER_DTYPES, build_frozen_teacher,
                             check_same_preprocessing, ddp_ignore_names,
                             keep_out_of_checkpoints, load_teacher,
                             teacher_dtype, teacher_forward)

__all__ = [
    'LOGITS', 'DistillLossSet', 'TEACHER_DTYPES', 'build_frozen_teacher',
    'check_same_preprocessing', 'ddp_ignore_names', 'keep_out_of_checkpoints',
    'load_teacher', 'teacher_dtype', 'teacher_forward'
]
