# IFVD (Wang et al. 2020) on the decoder's last feature; DeepLabV3+ MobileNetV2-D8 on Pascal VOC 2012 aug.
# See README.md
_base_ = [
    '../_base_/distill/mobilenet-v2-d8_deeplabv3plus_4xb4-40k_voc12aug-512x512.py',
    '../_base_/distill/losses/ifvd.py'
]
model = dict(distill_losses={{_base_.distill_losses}})
