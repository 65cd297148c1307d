# AICSD: DeepLabV3+ R18-D8 student on Cityscapes, 80k iterations, 4 GPUs x 2.
# Teacher: mmseg's DeepLabV3+ R101-D8 (80.97 mIoU in mmseg's model zoo).
# Loss weights: calibrated on CamVid, not yet measured on this dataset;
# see "Loss weights" in the README (tools/analysis_tools/distill_grad_norms.py).
_base_ = 'mmseg::deeplabv3plus/deeplabv3plus_r18-d8_4xb2-80k_cityscapes-512x1024.py'
custom_imports = dict(imports=['mmseg_aicsd'], allow_failed_imports=False)
model = dict(
    type='DistillEncoderDecoder',
    teacher='mmseg::deeplabv3plus/deeplabv3plus_r101-d8_4xb2-80k_cityscapes-512x1024.py',
    teacher_ckpt='https://download.openmmlab.com/mmsegmentation/v0.5/deeplabv3plus/deeplabv3plus_r101-d8_512x1024_80k_cityscapes/deeplabv3plus_r101-d8_512x1024_80k_cityscapes_20200606_114143-068fcfe9.pth',
    distill_losses=dict(
        loss_icsd=dict(type='ICSDLoss', tau=1.0, loss_weight=1.0),
        loss_kd=dict(type='PixelKDLoss', tau=1.0, loss_weight=1.0)),
    alw_kd_losses=('loss_kd', ))
custom_hooks = [dict(type='ALWHook', schedule='linear')]
