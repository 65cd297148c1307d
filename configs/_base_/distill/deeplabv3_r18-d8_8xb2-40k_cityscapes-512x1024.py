# Distillation base of the CIRKD protocol: DeepLabV3 R18-D8 student on Cityscapes
# (40k, batch 8 x 2, lr 0.02), teacher mmseg's DeepLabV3 R101-D8 (model zoo,
# 80.2 mIoU; CIRKD's own teacher, trained in its trainer, has 78.07).
# No distillation losses yet: each method's config adds its own.
_base_ = '../../deeplabv3/deeplabv3_r18-d8_8xb2-40k_cityscapes-512x1024.py'
custom_imports = dict(imports=['mmseg_aicsd'], allow_failed_imports=False)
model = dict(
    type='DistillEncoderDecoder',
    teacher=
    'mmseg::deeplabv3/deeplabv3_r101-d8_4xb2-80k_cityscapes-512x1024.py',
    teacher_ckpt=
    'https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3/deeplabv3_r101-d8_512x1024_80k_cityscapes/deeplabv3_r101-d8_512x1024_80k_cityscapes_20200606_113503-9e428899.pth',
    distill_losses=dict())
