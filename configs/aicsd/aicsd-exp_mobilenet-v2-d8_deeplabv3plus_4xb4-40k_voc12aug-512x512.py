# Table V: AICSD with the exponential ALW schedule,
# alpha = 1 - 0.985^(e - 1) (the paper's text; see the README).
# DeepLabV3+ MobileNetV2-D8 student on Pascal VOC 2012 aug, teacher mmseg's
# DeepLabV3+ R101-D8 (model zoo, 78.62 mIoU).
# ICSD weight 1.0: CamVid's calibration at initialisation, not measured
# on this dataset. On CamVid its gradient grew to 7-17x CE's during
# training and every run with it ended below the student trained alone
# (README, "Loss weights"; docs/results/camvid): measure it on a
# checkpoint partway through a short run before a long one.
_base_ = '../_base_/distill/mobilenet-v2-d8_deeplabv3plus_4xb4-40k_voc12aug-512x512.py'
model = dict(
    distill_losses=dict(
        # lambda: see "Loss weights" in the README (gradient-norm calibration)
        loss_icsd=dict(type='ICSDLoss', tau=1.0, loss_weight=1.0),
        loss_kd=dict(type='PixelKDLoss', tau=1.0, loss_weight=1.0)))
custom_hooks = [dict(type='ALWHook', schedule='exp', beta=0.985)]
