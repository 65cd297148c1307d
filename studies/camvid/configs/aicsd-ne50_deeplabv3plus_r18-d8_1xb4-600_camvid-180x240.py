# Study row aicsd-ne50: AICSD, linear ALW over N_e = 50 epochs of 12 its.
# See studies/camvid/README.md (rows and why).
_base_ = '../../../configs/aicsd/aicsd_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py'
custom_hooks = [dict(type='ALWHook', schedule='linear', iters_per_epoch=12)]
