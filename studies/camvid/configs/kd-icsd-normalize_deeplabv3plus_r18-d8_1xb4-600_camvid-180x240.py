# CE + KD + ICSD (Eq. 2-4) with the rows of each image's ICS matrix
# L2-normalised, no ALW: a row of the CamVid study (studies/camvid).
_base_ = '../../../configs/aicsd/kd-icsd_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py'
model = dict(
    distill_losses=dict(loss_icsd=dict(normalize=True, loss_weight=1.0)))
