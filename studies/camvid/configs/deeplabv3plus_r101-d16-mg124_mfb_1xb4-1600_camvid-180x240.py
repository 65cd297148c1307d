# The study's teacher (1600 its) with class-balanced CE: CamVid train's
# median-frequency weights (tools/analysis_tools/class_weights.py).
# See studies/camvid/README.md.
_base_ = './deeplabv3plus_r101-d16-mg124_1xb4-1600_camvid-180x240.py'
# CamVid class order: sky, building, pole, road, pavement, tree, signsymbol,
# fence, car, pedestrian, bicyclist
class_weight = [
    0.2794, 0.2018, 4.7889, 0.1491, 1.0000, 0.4235, 3.8464, 1.9798, 0.7890,
    6.3847, 8.8193
]
model = dict(
    decode_head=dict(
        loss_decode=dict(
            type='ClassWeightedCrossEntropyLoss', class_weight=class_weight)),
    auxiliary_head=dict(
        loss_decode=dict(
            type='ClassWeightedCrossEntropyLoss', class_weight=class_weight)))
