# CWD (Shu et al., ICCV 2021): channel-wise distillation on the logits,
# tau = 4, weight 3 as the authors' segmentation code.
# DeepLabV3+ R18-D8 student on Pascal VOC 2012 aug, teacher mmseg's
# DeepLabV3+ R101-D8 (model zoo, 78.62 mIoU).
_base_ = '../_base_/distill/deeplabv3plus_r18-d8_4xb4-40k_voc12aug-512x512.py'
model = dict(
    distill_losses=dict(
        loss_cwd=dict(type='CWDLoss', tau=4.0, loss_weight=3.0)))
