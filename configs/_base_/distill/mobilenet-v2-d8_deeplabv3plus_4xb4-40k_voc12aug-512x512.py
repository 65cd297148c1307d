# Distillation base: DeepLabV3+ MobileNetV2-D8 student on Pascal VOC 2012 aug, teacher mmseg's
# DeepLabV3+ R101-D8 (model zoo, 78.62 mIoU).
# No distillation losses yet: each method's config adds its own.
_base_ = '../../mobilenet_v2/mobilenet-v2-d8_deeplabv3plus_4xb4-40k_voc12aug-512x512.py'
custom_imports = dict(imports=['mmseg_aicsd'], allow_failed_imports=False)
model = dict(
    type='DistillEncoderDecoder',
    teacher=
    'mmseg::deeplabv3plus/deeplabv3plus_r101-d8_4xb4-40k_voc12aug-512x512.py',
    teacher_ckpt=
    'https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3plus/deeplabv3plus_r101-d8_512x512_40k_voc12aug/deeplabv3plus_r101-d8_512x512_40k_voc12aug_20200613_205333-faf03387.pth',
    distill_losses=dict())
