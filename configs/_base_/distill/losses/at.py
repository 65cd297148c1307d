# AT (Zagoruyko & Komodakis 2017; "AD" in the AICSD tables) on the
# decoder's last feature, CE + AT. Weight 1e4 as CIRKD (no KD added here:
# the AICSD tables distil each baseline alone).
# Used by its dataset configs as
# model = dict(distill_losses={{_base_.distill_losses}}).
distill_losses = dict(
    loss_at=dict(
        type='ATLoss',
        p=2,
        loss_weight=10000.0,
        student_feature='decode_head.sep_bottleneck'))
