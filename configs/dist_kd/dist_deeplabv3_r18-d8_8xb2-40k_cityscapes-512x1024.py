# DIST (Huang et al. 2022) on the logits; DeepLabV3 R18-D8 on Cityscapes, CIRKD protocol.
# See README.md
_base_ = [
    '../_base_/distill/deeplabv3_r18-d8_8xb2-40k_cityscapes-512x1024.py',
    '../_base_/distill/losses/dist.py'
]
model = dict(distill_losses={{_base_.distill_losses}})
