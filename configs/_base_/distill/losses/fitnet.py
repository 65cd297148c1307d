# FitNet (Romero et al., ICLR 2015): the decoder's last feature regressed
# onto the teacher's (MSE), the student's through a 1x1 conv regressor (the
# connector, no BN). CE + FitNet, weight 1.
# Used by its dataset configs as
# model = dict(distill_losses={{_base_.distill_losses}}).
distill_losses = dict(
    loss_fitnet=dict(
        type='FitNetLoss',
        loss_weight=1.0,
        student_feature='decode_head.sep_bottleneck',
        connector=dict(type='ConvBNConnector', norm_cfg=None)))
