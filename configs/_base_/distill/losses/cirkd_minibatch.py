# CIRKD (Yang et al., CVPR 2022) without the memory bank: pixel-wise KD on
# the logits (weight 1) and mini-batch pixel-to-pixel distillation of the
# decoder's last feature (tau 0.1, weight 1; 2x2 average pooling, from 1/4
# to 1/8 of the input). No connector: the similarity maps are N x N at any
# width.
# Used by its dataset configs as
# model = dict(distill_losses={{_base_.distill_losses}}).
distill_losses = dict(
    loss_kd=dict(type='PixelKDLoss', tau=1.0, loss_weight=1.0),
    loss_cirkd=dict(
        type='CIRKDLoss',
        tau=0.1,
        pool_size=2,
        loss_weight=1.0,
        student_feature='decode_head.sep_bottleneck'))
