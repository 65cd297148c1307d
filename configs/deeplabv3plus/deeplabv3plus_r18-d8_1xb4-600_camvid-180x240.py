# CamVid student baseline: DeepLabV3+ R18-D8 trained alone, from scratch.
_base_ = [
    'mmseg::_base_/models/deeplabv3plus_r50-d8.py',
    '../_base_/datasets/camvid.py', 'mmseg::_base_/default_runtime.py',
    '../_base_/schedules/schedule_600.py'
]
custom_imports = dict(imports=['mmseg_aicsd'], allow_failed_imports=False)
crop_size = (180, 240)
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(size=crop_size)
model = dict(
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(depth=18, norm_cfg=norm_cfg),
    decode_head=dict(
        c1_in_channels=64,
        c1_channels=12,
        in_channels=512,
        channels=128,
        num_classes=11,
        norm_cfg=norm_cfg),
    auxiliary_head=dict(
        in_channels=256, channels=64, num_classes=11, norm_cfg=norm_cfg))
