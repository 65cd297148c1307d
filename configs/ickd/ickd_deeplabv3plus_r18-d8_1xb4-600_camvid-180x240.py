# ICKD (Liu et al., ICCV 2021): C x C channel correlation of the
# decoder's last feature, the student's through a 1x1 conv + BN connector
# (ICKD's Embed; channels read from the models). Weight 2.5 as ICKD's code.
# DeepLabV3+ R18-D8 student on CamVid at 240x180, teacher DeepLabV3+
# R101-D16-MG124 (train it first with its config; see README).
_base_ = '../_base_/distill/deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py'
model = dict(
    distill_losses=dict(
        loss_ickd=dict(
            type='ICKDLoss',
            loss_weight=2.5,
            student_feature='decode_head.sep_bottleneck',
            connector=dict(type='ConvBNConnector'))))
