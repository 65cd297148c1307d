# Study row aicsd-exp-ne50: AICSD, exponential ALW over N_e = 50 epochs.
# See studies/camvid/README.md (rows and why).
_base_ = '../../../configs/aicsd/aicsd-exp_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py'
custom_hooks = [
    dict(type='ALWHook', schedule='exp', beta=0.985, iters_per_epoch=12)
]
