# CIRKD (Yang et al. 2022) without the memory, KD + mini-batch; DeepLabV3+ R18-D8 on Pascal VOC 2012 aug.
# See README.md
_base_ = [
    '../_base_/distill/deeplabv3plus_r18-d8_4xb4-40k_voc12aug-512x512.py',
    '../_base_/distill/losses/cirkd_minibatch.py'
]
model = dict(distill_losses={{_base_.distill_losses}})
