# AICSD's released-code recipe with its linear ALW (alpha = 0 in the first
# ALW epoch): CE + KD + the released ICS term at the released weights
# relative to CE; departs from it in a frozen eval-mode teacher and
# mmseg's auxiliary head (configs/aicsd/README.md).
_base_ = './kd-released-icsd_mobilenet-v2-d8_deeplabv3plus_4xb4-40k_voc12aug-512x512.py'
custom_hooks = [dict(type='ALWHook', schedule='linear')]
