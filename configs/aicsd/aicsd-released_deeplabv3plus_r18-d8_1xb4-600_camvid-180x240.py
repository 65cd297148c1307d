# AICSD's released-code recipe with its linear ALW (alpha = 0 in the first
# ALW epoch): CE + KD + the released ICS term at the released weights
# relative to CE; departs from it in a frozen eval-mode teacher and
# mmseg's auxiliary head (configs/aicsd/README.md).
_base_ = './kd-released-icsd_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py'
custom_hooks = [dict(type='ALWHook', schedule='linear')]
