# Study row baseline-time-matched: the student alone for 876 iterations.
# See studies/camvid/README.md (rows and why).
_base_ = '../../../configs/deeplabv3plus/deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py'
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-4,
        power=0.9,
        begin=0,
        end=876,
        by_epoch=False)
]
train_cfg = dict(max_iters=876, val_interval=292)
default_hooks = dict(checkpoint=dict(interval=292))
