# SP, similarity-preserving KD (Tung & Mori 2019: B x B batch Gram of
# the decoder's last feature), CE + SP. Weight 3000 as RepDistiller.
# Used by its dataset configs as
# model = dict(distill_losses={{_base_.distill_losses}}).
distill_losses = dict(
    loss_sp=dict(
        type='SPLoss',
        loss_weight=3000.0,
        student_feature='decode_head.sep_bottleneck'))
