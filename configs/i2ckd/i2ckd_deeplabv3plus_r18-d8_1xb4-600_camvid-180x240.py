# I2CKD (Karine et al., arXiv 2403.18490), as reconstructed here (README,
# "I2CKD and IDD"): a triplet loss between the student's and teacher's class
# prototypes (ground-truth masked means) of the decoder's last feature, the
# student's through a 1x1 conv + BN connector. Weight 1: the paper's is unknown.
# DeepLabV3+ R18-D8 student on CamVid at 240x180, teacher DeepLabV3+
# R101-D16-MG124 (train it first with its config; see README).
_base_ = '../_base_/distill/deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py'
model = dict(
    distill_losses=dict(
        loss_i2ckd=dict(
            type='I2CKDLoss',
            loss_weight=1.0,
            student_feature='decode_head.sep_bottleneck',
            connector=dict(type='ConvBNConnector'))))
