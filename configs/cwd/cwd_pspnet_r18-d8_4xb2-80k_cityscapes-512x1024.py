# CWD (Shu et al. 2021) on the logits; PSPNet R101-D8 -> R18-D8 on Cityscapes in mmrazor's
# setting: tau = 1 and weight 5 (not configs/_base_/distill/losses/cwd.py's tau = 4 and
# weight 3, the authors' code's), 80k, batch 4 x 2. See README.md#results
_base_ = '../_base_/distill/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py'
model = dict(
    distill_losses=dict(
        loss_cwd=dict(type='CWDLoss', tau=1.0, loss_weight=5.0)))
