# CWD (Shu et al., ICCV 2021): channel-wise distillation on the logits,
# tau = 4, weight 3 as the authors' segmentation code.
# DeepLabV3+ R18-D8 student on CamVid at 240x180, teacher DeepLabV3+
# R101-D16-MG124 (train it first with its config; see README).
_base_ = '../_base_/distill/deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py'
model = dict(
    distill_losses=dict(
        loss_cwd=dict(type='CWDLoss', tau=4.0, loss_weight=3.0)))
