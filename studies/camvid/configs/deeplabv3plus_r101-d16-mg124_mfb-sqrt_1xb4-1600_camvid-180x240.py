# The study's teacher (1600 its) with class-balanced CE:
# the square roots of CamVid train's median-frequency class weights.
# See studies/camvid/README.md.
_base_ = [
    './deeplabv3plus_r101-d16-mg124_1xb4-1600_camvid-180x240.py',
    './_base_/mfb-sqrt_class_weight.py'
]
model = dict(
    decode_head=dict(loss_decode={{_base_.loss_decode}}),
    auxiliary_head=dict(loss_decode={{_base_.loss_decode}}))
