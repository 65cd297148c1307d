# IDD (Zhang et al., IJCAI 2022), inter-class distance term as reconstructed
# here (README, "I2CKD and IDD"; no position module): distances between the
# class centres (ground-truth masked means) of the decoder's last feature,
# each matrix divided by its mean, teacher vs student. No connector: the
# matrices are K x K at any width. Weight 1: the paper's is unknown.
# DeepLabV3+ R18-D8 student on CamVid at 240x180, teacher DeepLabV3+
# R101-D16-MG124 (train it first with its config; see README).
_base_ = '../_base_/distill/deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py'
model = dict(
    distill_losses=dict(
        loss_idd=dict(
            type='IDDLoss',
            loss_weight=1.0,
            student_feature='decode_head.sep_bottleneck')))
