# ICKD (Liu et al., ICCV 2021): C x C channel correlation of the
# decoder's last feature, the student's through a 1x1 conv + BN connector
# (ICKD's Embed; channels read from the models). Weight 2.5 as ICKD's code.
# DeepLabV3+ R18-D8 student on Cityscapes (mmseg's stock config, 76.89 mIoU
# alone), teacher mmseg's DeepLabV3+ R101-D8 (model zoo, 80.97 mIoU).
_base_ = '../_base_/distill/deeplabv3plus_r18-d8_4xb2-80k_cityscapes-512x1024.py'
model = dict(
    distill_losses=dict(
        loss_ickd=dict(
            type='ICKDLoss',
            loss_weight=2.5,
            student_feature='decode_head.sep_bottleneck',
            connector=dict(type='ConvBNConnector'))))
