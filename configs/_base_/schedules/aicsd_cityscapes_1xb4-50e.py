# AICSD's Cityscapes schedule (AICSD Sec. IV-A): one GPU, batch 4, 50
# epochs, SGD lr 0.01, cosine annealing, 512x1024 crops; ALW epochs are the
# loop's epochs (N_e = 50). A variable, not top-level keys, because the
# configs that use it inherit those keys from their 80k config too
# (mmengine refuses a key in two bases): they set each from it.
aicsd_schedule = dict(
    train_dataloader=dict(
        batch_size=4, sampler=dict(type='DefaultSampler', shuffle=True)),
    optim_wrapper=dict(
        optimizer=dict(type='SGD', lr=0.01, momentum=0.9,
                       weight_decay=0.0005)),
    param_scheduler=[
        dict(
            type='CosineAnnealingLR',
            T_max=50,
            eta_min=0.0,
            by_epoch=True,
            begin=0,
            end=50,
            convert_to_iter_based=True)
    ],
    train_cfg=dict(
        _delete_=True,
        type='EpochBasedTrainLoop',
        max_epochs=50,
        val_interval=5),
    default_hooks=dict(
        logger=dict(log_metric_by_epoch=True),
        checkpoint=dict(by_epoch=True, interval=5)),
    log_processor=dict(by_epoch=True))
