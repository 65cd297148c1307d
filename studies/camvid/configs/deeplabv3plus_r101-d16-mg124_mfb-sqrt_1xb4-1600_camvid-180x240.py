# The study's teacher (1600 its) with class-balanced CE: the square roots
# of CamVid train's median-frequency weights (class_weights.py).
# See studies/camvid/README.md.
_base_ = './deeplabv3plus_r101-d16-mg124_1xb4-1600_camvid-180x240.py'
# CamVid class order: sky, building, pole, road, pavement, tree, signsymbol,
# fence, car, pedestrian, bicyclist
class_weight = [
    0.5286, 0.4493, 2.1884, 0.3861, 1.0000, 0.6508, 1.9612, 1.4071, 0.8883,
    2.5268, 2.9697
]
model = dict(
    decode_head=dict(
        loss_decode=dict(
            type='ClassWeightedCrossEntropyLoss', class_weight=class_weight)),
    auxiliary_head=dict(
        loss_decode=dict(
            type='ClassWeightedCrossEntropyLoss', class_weight=class_weight)))
