# Study row icsd-released: CE + the released ICS term, no KD.
# See studies/camvid/README.md (rows and why).
_base_ = '../../../configs/aicsd/kd-released-icsd_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py'
model = dict(
    distill_losses=dict(
        _delete_=True,
        loss_icsd=dict(
            type='ReleasedCodeICSDLoss',
            upsample_size=(180, 240),
            loss_weight=38000.0)))
