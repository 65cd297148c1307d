# Copyright (c) mmseg_aicsd contributors. All rights reserved.
__version__ = '0.1.0'
