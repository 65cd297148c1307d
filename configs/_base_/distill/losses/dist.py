# DIST (Huang et al., NeurIPS 2022), segmentation form, on the logits:
# inter-class (per pixel) and intra-class (per class, over the batch's
# pixels) Pearson correlations of the class probabilities, tau 1,
# beta = gamma = 1. CE + DIST, weight 1.
# Used by its dataset configs as
# model = dict(distill_losses={{_base_.distill_losses}}).
distill_losses = dict(
    loss_dist=dict(
        type='DISTLoss', tau=1.0, beta=1.0, gamma=1.0, loss_weight=1.0))
