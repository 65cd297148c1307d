# Distillation base: DeepLabV3+ R18-D8 student on CamVid at 240x180, teacher DeepLabV3+
# R101-D16-MG124 (train it first with its config; see README).
# No distillation losses yet: each method's config adds its own.
_base_ = '../../deeplabv3plus/deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py'
custom_imports = dict(imports=['mmseg_aicsd'], allow_failed_imports=False)
model = dict(
    type='DistillEncoderDecoder',
    teacher='{{fileDirname}}/../../deeplabv3plus/'
    'deeplabv3plus_r101-d16-mg124_1xb4-600_camvid-180x240.py',
    teacher_ckpt=
    'work_dirs/deeplabv3plus_r101-d16-mg124_1xb4-600_camvid-180x240/'
    'iter_600.pth',
    distill_losses=dict())
