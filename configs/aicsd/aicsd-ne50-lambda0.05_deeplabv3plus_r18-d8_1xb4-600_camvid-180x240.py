# AICSD with linear ALW over N_e = 50 epochs (the paper's proportion) and
# ICSD weight lambda = 0.05 instead of 1.0: calibrated so that ICSD's
# gradient on the student logits stays within 0.1x-1x CE's after the start
# of training (README, "Loss weights"). ALW's alpha scales CE and ICSD
# alike, so it leaves their ratio as it is. A row of the CamVid study
# (docs/results/camvid).
_base_ = './aicsd-ne50_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py'
model = dict(distill_losses=dict(loss_icsd=dict(loss_weight=0.05)))
