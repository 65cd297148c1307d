# AICSD, DeepLabV3+ R18-D8 on Pascal VOC 2012 aug with the paper's schedule
# (AICSD Sec. IV-A): one GPU, batch 6, 120 epochs, SGD lr 0.007, cosine
# annealing, 513x513 crops. ALW epochs are the loop's epochs (N_e = 120).
_base_ = './aicsd_deeplabv3plus_r18-d8_4xb4-40k_voc12aug-512x512.py'
crop_size = (513, 513)
data_preprocessor = dict(size=crop_size)
model = dict(data_preprocessor=data_preprocessor)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(
        type='RandomResize',
        scale=(2048, 512),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='Pad', size=crop_size),
    dict(type='PackSegInputs')
]
# the VOC aug training set as mmseg's pascal_voc12_aug.py, at 513x513
# (lists are replaced, not merged, so both datasets are restated)
data_root = 'data/VOCdevkit/VOC2012'
train_dataloader = dict(
    batch_size=6,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(datasets=[
        dict(
            type='PascalVOCDataset',
            data_root=data_root,
            data_prefix=dict(
                img_path='JPEGImages', seg_map_path='SegmentationClass'),
            ann_file='ImageSets/Segmentation/train.txt',
            pipeline=train_pipeline),
        dict(
            type='PascalVOCDataset',
            data_root=data_root,
            data_prefix=dict(
                img_path='JPEGImages', seg_map_path='SegmentationClassAug'),
            ann_file='ImageSets/Segmentation/aug.txt',
            pipeline=train_pipeline)
    ]))
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.007, momentum=0.9, weight_decay=0.0005))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=120,
        eta_min=0.0,
        by_epoch=True,
        begin=0,
        end=120,
        convert_to_iter_based=True)
]
train_cfg = dict(
    _delete_=True, type='EpochBasedTrainLoop', max_epochs=120, val_interval=10)
default_hooks = dict(
    logger=dict(log_metric_by_epoch=True),
    checkpoint=dict(by_epoch=True, interval=10))
log_processor = dict(by_epoch=True)
