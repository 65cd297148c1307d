# Distillation base: DeepLabV3+ R18-D8 student on Cityscapes (mmseg's stock config, 76.89 mIoU
# alone), teacher mmseg's DeepLabV3+ R101-D8 (model zoo, 80.97 mIoU).
# No distillation losses yet: each method's config adds its own.
_base_ = 'mmseg::deeplabv3plus/deeplabv3plus_r18-d8_4xb2-80k_cityscapes-512x1024.py'
custom_imports = dict(imports=['mmseg_aicsd'], allow_failed_imports=False)
model = dict(
    type='DistillEncoderDecoder',
    teacher=
    'mmseg::deeplabv3plus/deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024.py',
    teacher_ckpt=
    'https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3plus/deeplabv3plus_r101-d8_512x1024_80k_cityscapes/deeplabv3plus_r101-d8_512x1024_80k_cityscapes_20200606_114143-068fcfe9.pth',
    distill_losses=dict())
