# The square roots of CamVid train's median-frequency class weights
# (tools/analysis_tools/class_weights.py), in CamVid class order: sky,
# building, pole, road, pavement, tree, signsymbol, fence, car, pedestrian,
# bicyclist. Used as loss_decode={{_base_.loss_decode}} in the decode and
# auxiliary heads (the stock CrossEntropyLoss's loss_weight stays).
class_weight = [
    0.5286, 0.4493, 2.1884, 0.3861, 1.0000, 0.6508, 1.9612, 1.4071, 0.8883,
    2.5268, 2.9697
]
loss_decode = dict(
    type='ClassWeightedCrossEntropyLoss', class_weight=class_weight)
