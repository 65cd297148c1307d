# The study's teacher: the 600-iteration teacher config for 1600 its.
# See studies/camvid/README.md (rows and why).
_base_ = '../../../configs/deeplabv3plus/deeplabv3plus_r101-d16-mg124_1xb4-600_camvid-180x240.py'
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-4,
        power=0.9,
        begin=0,
        end=1600,
        by_epoch=False)
]
train_cfg = dict(max_iters=1600, val_interval=800)
default_hooks = dict(checkpoint=dict(interval=200, max_keep_ckpts=2))
