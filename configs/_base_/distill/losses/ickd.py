# ICKD (Liu et al., ICCV 2021): C x C channel correlation of the
# decoder's last feature, the student's through a 1x1 conv + BN connector
# (ICKD's Embed; channels read from the models). Weight 2.5 as ICKD's code.
# Used by its dataset configs as
# model = dict(distill_losses={{_base_.distill_losses}}).
distill_losses = dict(
    loss_ickd=dict(
        type='ICKDLoss',
        loss_weight=2.5,
        student_feature='decode_head.sep_bottleneck',
        connector=dict(type='ConvBNConnector')))
