# CamVid teacher: the backbone and ASPP of mmseg's DeepLabV3+ R101-D16-MG124
# (2.4x cheaper than R101-D8 on CPU at this size; plain BN, no OHEM sampler),
# from scratch (no ImageNet weights can be downloaded).
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
    backbone=dict(
        depth=101,
        dilations=(1, 1, 1, 2),
        strides=(1, 2, 2, 1),
        multi_grid=(1, 2, 4),
        norm_cfg=norm_cfg),
    decode_head=dict(
        dilations=(1, 6, 12, 18), num_classes=11, norm_cfg=norm_cfg),
    auxiliary_head=dict(num_classes=11, norm_cfg=norm_cfg))
