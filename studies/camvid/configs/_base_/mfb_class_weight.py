# CamVid train's median-frequency class weights
# (tools/analysis_tools/class_weights.py), in CamVid class order: sky,
# building, pole, road, pavement, tree, signsymbol, fence, car, pedestrian,
# bicyclist. Used as loss_decode={{_base_.loss_decode}} in the decode and
# auxiliary heads (the stock CrossEntropyLoss's loss_weight stays).
class_weight = [
    0.2794, 0.2018, 4.7889, 0.1491, 1.0000, 0.4235, 3.8464, 1.9798, 0.7890,
    6.3847, 8.8193
]
loss_decode = dict(
    type='ClassWeightedCrossEntropyLoss', class_weight=class_weight)
