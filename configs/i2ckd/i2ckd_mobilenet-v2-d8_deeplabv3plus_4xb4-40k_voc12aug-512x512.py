# I2CKD (Karine et al., arXiv 2403.18490), as reconstructed here (README,
# "I2CKD and IDD"): a triplet loss between the student's and teacher's class
# prototypes (ground-truth masked means) of the decoder's last feature, the
# student's through a 1x1 conv + BN connector. Weight 1: the paper's is unknown.
# DeepLabV3+ MobileNetV2-D8 student on Pascal VOC 2012 aug, teacher mmseg's
# DeepLabV3+ R101-D8 (model zoo, 78.62 mIoU).
_base_ = '../_base_/distill/mobilenet-v2-d8_deeplabv3plus_4xb4-40k_voc12aug-512x512.py'
model = dict(
    distill_losses=dict(
        loss_i2ckd=dict(
            type='I2CKDLoss',
            loss_weight=1.0,
            student_feature='decode_head.sep_bottleneck',
            connector=dict(type='ConvBNConnector'))))
