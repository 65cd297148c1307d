# Study row kd-icsd-lambda0.05: CE + KD + ICSD (Eq. 5), ICSD weight 0.05.
# See studies/camvid/README.md (rows and why).
_base_ = '../../../configs/aicsd/kd-icsd_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py'
model = dict(distill_losses=dict(loss_icsd=dict(loss_weight=0.05)))
