# AICSD on CamVid at 240x180: DeepLabV3+ R18-D8 student, DeepLabV3+
# R101-D16-MG124 teacher (train it first with its config; see README).
_base_ = '../deeplabv3plus/deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py'
teacher_config = '{{fileDirname}}/../deeplabv3plus/' \
    'deeplabv3plus_r101-d16-mg124_1xb4-600_camvid-180x240.py'
model = dict(
    type='DistillEncoderDecoder',
    teacher=teacher_config,
    teacher_ckpt='work_dirs/deeplabv3plus_r101-d16-mg124_1xb4-600_'
    'camvid-180x240/iter_600.pth',
    distill_losses=dict(
        # lambda: see "Loss weights" in the README (gradient-norm calibration)
        loss_icsd=dict(type='ICSDLoss', tau=1.0, loss_weight=1.0),
        loss_kd=dict(type='PixelKDLoss', tau=1.0, loss_weight=1.0)),
    alw_kd_losses=('loss_kd', ))
custom_hooks = [dict(type='ALWHook', schedule='linear')]
