# SP, similarity-preserving KD (Tung & Mori 2019: B x B batch Gram of
# the decoder's last feature), CE + SP. Weight 3000 as RepDistiller.
# DeepLabV3+ MobileNetV2-D8 student on Pascal VOC 2012 aug, teacher mmseg's
# DeepLabV3+ R101-D8 (model zoo, 78.62 mIoU).
_base_ = '../_base_/distill/mobilenet-v2-d8_deeplabv3plus_4xb4-40k_voc12aug-512x512.py'
model = dict(
    distill_losses=dict(
        loss_sp=dict(
            type='SPLoss',
            loss_weight=3000.0,
            student_feature='decode_head.sep_bottleneck')))
