# CE + the released ICS term at the released-code recipe's weight, no KD:
# a row of the CamVid study (studies/camvid).
_base_ = '../../../configs/aicsd/kd-released-icsd_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py'
model = dict(
    distill_losses=dict(
        _delete_=True,
        loss_icsd=dict(
            type='ReleasedCodeICSDLoss',
            upsample_size=(180, 240),
            loss_weight=38000.0)))
