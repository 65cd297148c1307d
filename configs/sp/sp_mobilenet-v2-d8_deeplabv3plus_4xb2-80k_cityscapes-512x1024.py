# SP, similarity-preserving KD (Tung & Mori 2019: B x B batch Gram of
# the decoder's last feature), CE + SP. Weight 3000 as RepDistiller.
# DeepLabV3+ MobileNetV2-D8 student on Cityscapes (mmseg's stock config,
# 75.2 mIoU alone), teacher mmseg's DeepLabV3+ R101-D8 (model zoo, 80.97 mIoU).
_base_ = '../_base_/distill/mobilenet-v2-d8_deeplabv3plus_4xb2-80k_cityscapes-512x1024.py'
model = dict(
    distill_losses=dict(
        loss_sp=dict(
            type='SPLoss',
            loss_weight=3000.0,
            student_feature='decode_head.sep_bottleneck')))
