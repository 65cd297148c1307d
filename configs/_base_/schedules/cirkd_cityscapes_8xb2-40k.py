# The CIRKD protocol's Cityscapes schedule (Yang et al., CVPR 2022, and the
# papers that report on it: Af-DCD, MasKD, DIST): 40k iterations, batch 16
# (8 GPUs x 2 images), SGD lr 0.02 with poly decay, 512x1024 crops. A
# variable, not top-level keys, because the configs that use it inherit
# those keys from mmseg's 80k config too (mmengine refuses a key in two
# bases): they set each from it.
cirkd_schedule = dict(
    optim_wrapper=dict(
        optimizer=dict(type='SGD', lr=0.02, momentum=0.9,
                       weight_decay=0.0005)),
    param_scheduler=[
        dict(
            type='PolyLR',
            eta_min=1e-4,
            power=0.9,
            begin=0,
            end=40000,
            by_epoch=False)
    ],
    train_cfg=dict(
        type='IterBasedTrainLoop', max_iters=40000, val_interval=4000),
    default_hooks=dict(checkpoint=dict(by_epoch=False, interval=4000)))
