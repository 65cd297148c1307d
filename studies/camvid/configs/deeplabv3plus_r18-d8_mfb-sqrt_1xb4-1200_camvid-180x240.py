# The class-balanced CamVid student for 1200 its: the 600-iteration config's
# poly schedule stretched. See studies/camvid/README.md.
_base_ = './deeplabv3plus_r18-d8_mfb-sqrt_1xb4-600_camvid-180x240.py'
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-4,
        power=0.9,
        begin=0,
        end=1200,
        by_epoch=False)
]
train_cfg = dict(max_iters=1200, val_interval=600)
default_hooks = dict(checkpoint=dict(interval=600))
