# AICSD: ICSD + KD with linear ALW (arXiv 2308.04243 Eq. 6-7); DeepLabV3+ R18-D8 on Cityscapes.
# See README.md#configs-the-papers-tables
_base_ = [
    '../_base_/distill/deeplabv3plus_r18-d8_4xb2-80k_cityscapes-512x1024.py',
    '../_base_/distill/losses/icsd_kd.py'
]
model = dict(distill_losses={{_base_.distill_losses}})
custom_hooks = [dict(type='ALWHook', schedule='linear')]
