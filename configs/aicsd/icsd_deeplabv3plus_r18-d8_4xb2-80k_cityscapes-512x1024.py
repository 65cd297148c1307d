# Table IV "ICSD": CE + ICSD (Eq. 4), no KD, no ALW.
# DeepLabV3+ R18-D8 student on Cityscapes (mmseg's stock config, 76.89 mIoU
# alone), teacher mmseg's DeepLabV3+ R101-D8 (model zoo, 80.97 mIoU).
# ICSD weight 1.0: CamVid's calibration at initialisation, not measured
# on this dataset. On CamVid its gradient grew to 7-17x CE's during
# training and every run with it ended below the student trained alone
# (README, "Loss weights"; docs/results/camvid): measure it on a
# checkpoint partway through a short run before a long one.
_base_ = '../_base_/distill/deeplabv3plus_r18-d8_4xb2-80k_cityscapes-512x1024.py'
model = dict(
    distill_losses=dict(
        loss_icsd=dict(type='ICSDLoss', tau=1.0, loss_weight=1.0)))
