# Study row kd-released-weight: CE + KD at the released recipe's KD weight.
# See studies/camvid/README.md (rows and why).
_base_ = '../../../configs/aicsd/kd-released-icsd_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py'
model = dict(
    distill_losses=dict(
        _delete_=True,
        loss_kd=dict(type='PixelKDLoss', tau=1.0, loss_weight=3.6364)))
