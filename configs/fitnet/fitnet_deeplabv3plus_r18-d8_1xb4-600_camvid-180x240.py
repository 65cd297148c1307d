# FitNet (Romero et al. 2015) on the decoder's last feature; DeepLabV3+ R18-D8 on CamVid 240x180.
# See README.md
_base_ = [
    '../_base_/distill/deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py',
    '../_base_/distill/losses/fitnet.py'
]
model = dict(distill_losses={{_base_.distill_losses}})
