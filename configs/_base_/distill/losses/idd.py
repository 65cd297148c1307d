# IDD (Zhang et al., IJCAI 2022), inter-class distance term as reconstructed
# here (README, "I2CKD and IDD"; no position module): distances between the
# class centres (ground-truth masked means) of the decoder's last feature,
# each matrix divided by its mean, teacher vs student. No connector: the
# matrices are K x K at any width. Weight 1: the paper's is unknown.
# Used by its dataset configs as
# model = dict(distill_losses={{_base_.distill_losses}}).
distill_losses = dict(
    loss_idd=dict(
        type='IDDLoss',
        loss_weight=1.0,
        student_feature='decode_head.sep_bottleneck'))
