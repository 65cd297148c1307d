# AICSD: ICSD + KD with linear ALW (arXiv 2308.04243 Eq. 6-7); DeepLabV3+ MobileNetV2-D8 on Pascal VOC 2012 aug.
# See README.md#configs-the-papers-tables
_base_ = [
    '../_base_/distill/mobilenet-v2-d8_deeplabv3plus_4xb4-40k_voc12aug-512x512.py',
    '../_base_/distill/losses/icsd_kd.py'
]
model = dict(distill_losses={{_base_.distill_losses}})
custom_hooks = [dict(type='ALWHook', schedule='linear')]
