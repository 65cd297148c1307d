# AICSD with the exponential ALW schedule (Table V); DeepLabV3+ R18-D8 on Cityscapes.
# See README.md#configs-the-papers-tables
_base_ = './aicsd_deeplabv3plus_r18-d8_4xb2-80k_cityscapes-512x1024.py'
custom_hooks = [dict(type='ALWHook', schedule='exp', beta=0.985)]
