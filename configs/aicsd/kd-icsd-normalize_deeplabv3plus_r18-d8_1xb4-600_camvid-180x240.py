# CE + KD + ICSD with each ICS matrix's rows L2-normalised (not the released code's term), no ALW; DeepLabV3+ R18-D8 on CamVid 240x180.
# See README.md#results
_base_ = './kd-icsd_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py'
model = dict(
    distill_losses=dict(loss_icsd=dict(normalize=True, loss_weight=5.0)))
