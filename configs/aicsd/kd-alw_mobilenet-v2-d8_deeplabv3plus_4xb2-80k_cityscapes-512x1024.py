# KD with linear ALW (AICSD Table IV); DeepLabV3+ MobileNetV2-D8 on Cityscapes.
# See README.md#configs-the-papers-tables
_base_ = [
    '../_base_/distill/mobilenet-v2-d8_deeplabv3plus_4xb2-80k_cityscapes-512x1024.py',
    '../_base_/distill/losses/kd.py'
]
model = dict(distill_losses={{_base_.distill_losses}})
custom_hooks = [dict(type='ALWHook', schedule='linear')]
