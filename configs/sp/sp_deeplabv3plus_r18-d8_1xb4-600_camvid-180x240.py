# SP, similarity-preserving KD (Tung & Mori 2019: B x B batch Gram of
# the decoder's last feature), CE + SP. Weight 3000 as RepDistiller.
# DeepLabV3+ R18-D8 student on CamVid at 240x180, teacher DeepLabV3+
# R101-D16-MG124 (train it first with its config; see README).
_base_ = '../_base_/distill/deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py'
model = dict(
    distill_losses=dict(
        loss_sp=dict(
            type='SPLoss',
            loss_weight=3000.0,
            student_feature='decode_head.sep_bottleneck')))
