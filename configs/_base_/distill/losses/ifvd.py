# IFVD (Wang et al., ECCV 2020): each pixel's cosine similarity to its
# class centre (ground-truth masked mean) in the decoder's last feature,
# student vs teacher (MSE). No connector: the similarities are scalars at
# any width. CE + IFVD, weight 20.
# Used by its dataset configs as
# model = dict(distill_losses={{_base_.distill_losses}}).
distill_losses = dict(
    loss_ifvd=dict(
        type='IFVDLoss',
        loss_weight=20.0,
        student_feature='decode_head.sep_bottleneck'))
