# AICSD's Pascal VOC 2012 aug schedule (AICSD Sec. IV-A): one GPU, batch 6,
# 120 epochs, SGD lr 0.007, cosine annealing, 513x513 crops of the aug
# training set as mmseg's pascal_voc12_aug.py; ALW epochs are the loop's
# epochs (N_e = 120). A variable, not top-level keys, because the configs
# that use it inherit those keys from their 40k config too (mmengine
# refuses a key in two bases): they set each from it. Names starting with
# '__' are not config keys.
__crop = (513, 513)
__data_root = 'data/VOCdevkit/VOC2012'
__pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(
        type='RandomResize',
        scale=(2048, 512),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=__crop, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='Pad', size=__crop),
    dict(type='PackSegInputs')
]
aicsd_schedule = dict(
    crop_size=__crop,
    data_preprocessor=dict(size=__crop),
    train_pipeline=__pipeline,
    data_root=__data_root,
    # lists are replaced, not merged, so both datasets are restated
    train_dataloader=dict(
        batch_size=6,
        sampler=dict(type='DefaultSampler', shuffle=True),
        dataset=dict(datasets=[
            dict(
                type='PascalVOCDataset',
                data_root=__data_root,
                data_prefix=dict(
                    img_path='JPEGImages', seg_map_path='SegmentationClass'),
                ann_file='ImageSets/Segmentation/train.txt',
                pipeline=__pipeline),
            dict(
                type='PascalVOCDataset',
                data_root=__data_root,
                data_prefix=dict(
                    img_path='JPEGImages',
                    seg_map_path='SegmentationClassAug'),
                ann_file='ImageSets/Segmentation/aug.txt',
                pipeline=__pipeline)
        ])),
    optim_wrapper=dict(
        optimizer=dict(
            type='SGD', lr=0.007, momentum=0.9, weight_decay=0.0005)),
    param_scheduler=[
        dict(
            type='CosineAnnealingLR',
            T_max=120,
            eta_min=0.0,
            by_epoch=True,
            begin=0,
            end=120,
            convert_to_iter_based=True)
    ],
    train_cfg=dict(
        _delete_=True,
        type='EpochBasedTrainLoop',
        max_epochs=120,
        val_interval=10),
    default_hooks=dict(
        logger=dict(log_metric_by_epoch=True),
        checkpoint=dict(by_epoch=True, interval=10)),
    log_processor=dict(by_epoch=True))
