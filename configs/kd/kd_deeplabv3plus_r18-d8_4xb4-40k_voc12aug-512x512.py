# KD (Hinton et al. 2015) on the logits, pixel-wise (AICSD Eq. 1):
# CE + KD. Table II/III "+KD" and Table IV "KD".
# DeepLabV3+ R18-D8 student on Pascal VOC 2012 aug, teacher mmseg's
# DeepLabV3+ R101-D8 (model zoo, 78.62 mIoU).
_base_ = '../_base_/distill/deeplabv3plus_r18-d8_4xb4-40k_voc12aug-512x512.py'
model = dict(
    distill_losses=dict(
        loss_kd=dict(type='PixelKDLoss', tau=1.0, loss_weight=1.0)))
