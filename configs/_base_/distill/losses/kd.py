# KD (Hinton et al. 2015) on the logits, pixel-wise (AICSD Eq. 1):
# CE + KD. Table II/III "+KD" and Table IV "KD".
# Used by its dataset configs as
# model = dict(distill_losses={{_base_.distill_losses}}).
distill_losses = dict(
    loss_kd=dict(type='PixelKDLoss', tau=1.0, loss_weight=1.0))
