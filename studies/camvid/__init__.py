# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""The seeded CamVid study (README.md here): its runner, configs and
results."""
