# KD with the offline teacher: logits cut from a cache, no teacher forward per step.
# Build the cache first: tools/misc/build_teacher_cache.py THIS_CONFIG --out work_dirs/teacher_cache/camvid
_base_ = './kd_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py'
crop_size = (180, 240)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(
        type='RandomResize',
        scale=(240, 180),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCropWithBox', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(
        type='PackSegInputs',
        meta_keys=('img_path', 'seg_map_path', 'ori_shape', 'img_shape',
                   'pad_shape', 'scale_factor', 'flip', 'flip_direction',
                   'reduce_zero_label', 'crop_bbox'))
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
model = dict(teacher_cache='work_dirs/teacher_cache/camvid')
