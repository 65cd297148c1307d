# ICKD (Liu et al., ICCV 2021): C x C channel correlation of the
# decoder's last feature, the student's through a 1x1 conv + BN connector
# (ICKD's Embed; channels read from the models). Weight 2.5 as ICKD's code.
# DeepLabV3+ MobileNetV2-D8 student on Pascal VOC 2012 aug, teacher mmseg's
# DeepLabV3+ R101-D8 (model zoo, 78.62 mIoU).
_base_ = '../_base_/distill/mobilenet-v2-d8_deeplabv3plus_4xb4-40k_voc12aug-512x512.py'
model = dict(
    distill_losses=dict(
        loss_ickd=dict(
            type='ICKDLoss',
            loss_weight=2.5,
            student_feature='decode_head.sep_bottleneck',
            connector=dict(type='ConvBNConnector'))))
