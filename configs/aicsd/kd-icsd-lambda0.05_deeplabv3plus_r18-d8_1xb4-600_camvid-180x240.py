# CE + KD + ICSD without ALW (AICSD Eq. 5), ICSD weight lambda = 0.05
# instead of 1.0: calibrated so that ICSD's gradient on the student logits
# stays within 0.1x-1x CE's after the start of training (at lambda = 1.0 it
# is 0.49x at initialisation but 7-17x at iterations 300-600; README, "Loss
# weights"). A row of the CamVid study (docs/results/camvid).
_base_ = './kd-icsd_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py'
model = dict(distill_losses=dict(loss_icsd=dict(loss_weight=0.05)))
