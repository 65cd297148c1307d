# AICSD with the exponential ALW schedule (Table V); DeepLabV3+ MobileNetV2-D8 on Pascal VOC 2012 aug.
# See README.md#configs-the-papers-tables
_base_ = './aicsd_mobilenet-v2-d8_deeplabv3plus_4xb4-40k_voc12aug-512x512.py'
custom_hooks = [dict(type='ALWHook', schedule='exp', beta=0.985)]
