# I2CKD (Karine et al., arXiv 2403.18490), as reconstructed here (README,
# "I2CKD and IDD"): a triplet loss between the student's and teacher's class
# prototypes (ground-truth masked means) of the decoder's last feature, the
# student's through a 1x1 conv + BN connector. Weight 1: the paper's is unknown.
# Used by its dataset configs as
# model = dict(distill_losses={{_base_.distill_losses}}).
distill_losses = dict(
    loss_i2ckd=dict(
        type='I2CKDLoss',
        loss_weight=1.0,
        student_feature='decode_head.sep_bottleneck',
        connector=dict(type='ConvBNConnector')))
