# ICSD (AICSD Eq. 4) and pixel-wise KD (Eq. 1) on the logits: the losses of
# AICSD and of its ablations; how they add up (Eq. 5, or ALW's Eq. 6 with
# an ALWHook) is the dataset config's. Used by its configs as
# model = dict(distill_losses={{_base_.distill_losses}}).
distill_losses = dict(
    # lambda: see "Loss weights" in the README (gradient-norm calibration)
    loss_icsd=dict(type='ICSDLoss', tau=1.0, loss_weight=1.0),
    loss_kd=dict(type='PixelKDLoss', tau=1.0, loss_weight=1.0))
