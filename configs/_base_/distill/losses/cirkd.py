# CIRKD (Yang et al., CVPR 2022) on the decoder's last feature: pixel-wise
# KD on the logits (weight 1), mini-batch pixel-to-pixel distillation
# (tau 0.1, weight 1; 2x2 average pooling, from 1/4 to 1/8 of the input),
# and pixel-to-pixel and pixel-to-region distillation against a memory
# bank of teacher embeddings (weights 0.1 and 0.1), the student's through a
# 1x1 conv + BN connector.
# Used by its dataset configs as
# model = dict(distill_losses={{_base_.distill_losses}}).
distill_losses = dict(
    loss_kd=dict(type='PixelKDLoss', tau=1.0, loss_weight=1.0),
    loss_cirkd=dict(
        type='CIRKDLoss',
        tau=0.1,
        pool_size=2,
        loss_weight=1.0,
        student_feature='decode_head.sep_bottleneck'),
    loss_cirkd_memory=dict(
        type='CIRKDMemoryLoss',
        tau=0.1,
        pixel_weight=0.1,
        region_weight=0.1,
        loss_weight=1.0,
        student_feature='decode_head.sep_bottleneck',
        connector=dict(type='ConvBNConnector')))
