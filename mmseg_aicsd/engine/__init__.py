# Copyright (c) mmseg_aicsd contributors. All rights reserved.
from .checkpoint import register_checkpoint_safe_globals
from .hooks import *  # noqa: F401,F403

register_checkpoint_safe_globals()

__all__ = ['register_checkpoint_safe_globals']
