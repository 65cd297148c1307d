# CWD (Shu et al., ICCV 2021): channel-wise distillation on the logits,
# tau = 4, weight 3 as the authors' segmentation code.
# Used by its dataset configs as
# model = dict(distill_losses={{_base_.distill_losses}}).
distill_losses = dict(loss_cwd=dict(type='CWDLoss', tau=4.0, loss_weight=3.0))
