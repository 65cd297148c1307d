# Copyright (c) mmseg_aicsd contributors. All rights reserved.
from .alw_hook import (ALW_SCHEDULES, ALWHook, alw_alpha, alw_loss_scales,
                       set_alw_alpha)
from .checkpoint_hook import WriteFirstCheckpointHook
from .teacher_eval_hook import TeacherEvalHook

__all__ = [
    'ALW_SCHEDULES', 'ALWHook', 'alw_alpha', 'alw_loss_scales',
    'set_alw_alpha', 'TeacherEvalHook', 'WriteFirstCheckpointHook'
]
