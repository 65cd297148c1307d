# Distillation base: PSPNet R18-D8 student on Cityscapes (mmseg's stock config, 74.87 mIoU
# alone), teacher mmseg's PSPNet R101-D8 (model zoo, 79.76 mIoU): mmrazor's CWD setting.
# No distillation losses yet: each method's config adds its own.
_base_ = 'mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py'
custom_imports = dict(imports=['mmseg_aicsd'], allow_failed_imports=False)
model = dict(
    type='DistillEncoderDecoder',
    teacher='mmseg::pspnet/pspnet_r101-d8_4xb2-80k_cityscapes-512x1024.py',
    teacher_ckpt=
    'https://download.openmmlab.com/mmsegmentation/v0.5/pspnet/pspnet_r101-d8_512x1024_80k_cityscapes/pspnet_r101-d8_512x1024_80k_cityscapes_20200606_112211-e1e1100f.pth',
    distill_losses=dict())
