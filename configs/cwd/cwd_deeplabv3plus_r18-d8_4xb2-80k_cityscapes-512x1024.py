# CWD (Shu et al., ICCV 2021): channel-wise distillation on the logits,
# tau = 4, weight 3 as the authors' segmentation code.
# DeepLabV3+ R18-D8 student on Cityscapes (mmseg's stock config, 76.89 mIoU
# alone), teacher mmseg's DeepLabV3+ R101-D8 (model zoo, 80.97 mIoU).
_base_ = '../_base_/distill/deeplabv3plus_r18-d8_4xb2-80k_cityscapes-512x1024.py'
model = dict(
    distill_losses=dict(
        loss_cwd=dict(type='CWDLoss', tau=4.0, loss_weight=3.0)))
