# AICSD with the exponential ALW schedule (Table V); DeepLabV3+ MobileNetV2-D8 on Cityscapes.
# See README.md#configs-the-papers-tables
_base_ = './aicsd_mobilenet-v2-d8_deeplabv3plus_4xb2-80k_cityscapes-512x1024.py'
custom_hooks = [dict(type='ALWHook', schedule='exp', beta=0.985)]
