# Study row aicsd-ne50-lambda0.05: aicsd-ne50 with ICSD weight 0.05.
# See studies/camvid/README.md (rows and why).
_base_ = './aicsd-ne50_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py'
model = dict(distill_losses=dict(loss_icsd=dict(loss_weight=0.05)))
