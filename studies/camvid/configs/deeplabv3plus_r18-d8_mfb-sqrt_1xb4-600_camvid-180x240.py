# The CamVid student alone (DeepLabV3+ R18-D8, 600 its) with class-balanced
# CE: the square roots of CamVid train's median-frequency class weights.
# See studies/camvid/README.md.
_base_ = [
    '../../../configs/deeplabv3plus/deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py',
    './_base_/mfb-sqrt_class_weight.py'
]
model = dict(
    decode_head=dict(loss_decode={{_base_.loss_decode}}),
    auxiliary_head=dict(loss_decode={{_base_.loss_decode}}))
