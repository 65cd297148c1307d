# Table IV "ICSD": CE + ICSD (Eq. 4), no KD, no ALW.
# Used by its dataset configs as
# model = dict(distill_losses={{_base_.distill_losses}}).
distill_losses = dict(
    loss_icsd=dict(type='ICSDLoss', tau=1.0, loss_weight=1.0))
