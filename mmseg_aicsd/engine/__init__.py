# Copyright (c) mmseg_aicsd contributors. All rights reserved.
from .checkpoint import register_checkpoint_safe_globals
from .hooks import *  # noqa: F401,F403
from .runner import KeepConfigRunner
from .work_dir import check_fresh_run, warn_other_method

register_checkpoint_safe_globals()

__all__ = [
    'register_checkpoint_safe_globals', 'KeepConfigRunner', 'check_fresh_run',
    'warn_other_method'
]
