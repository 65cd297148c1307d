# Study row kd-icsd-normalize: kd-icsd with ICS rows L2-normalised.
# See studies/camvid/README.md (rows and why).
_base_ = '../../../configs/aicsd/kd-icsd_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py'
model = dict(
    distill_losses=dict(loss_icsd=dict(normalize=True, loss_weight=5.0)))
