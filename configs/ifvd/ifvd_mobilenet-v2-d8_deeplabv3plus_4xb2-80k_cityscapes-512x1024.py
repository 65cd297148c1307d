# IFVD (Wang et al. 2020) on the decoder's last feature; DeepLabV3+ MobileNetV2-D8 on Cityscapes.
# See README.md
_base_ = [
    '../_base_/distill/mobilenet-v2-d8_deeplabv3plus_4xb2-80k_cityscapes-512x1024.py',
    '../_base_/distill/losses/ifvd.py'
]
model = dict(distill_losses={{_base_.distill_losses}})
