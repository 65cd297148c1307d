# Copyright (c) mmseg_aicsd contributors. All rights reserved.
