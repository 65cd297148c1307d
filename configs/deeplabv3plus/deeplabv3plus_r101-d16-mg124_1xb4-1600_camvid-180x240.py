# The CamVid teacher of the seeded study (docs/results/camvid): the 600-iteration
# teacher config trained for 1600 iterations, so that the teacher is well above
# the student (a 600-iteration teacher is barely better than the student).
# Checkpoints every 200 iterations so a stopped run resumes with --resume.
_base_ = './deeplabv3plus_r101-d16-mg124_1xb4-600_camvid-180x240.py'
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
default_hooks = dict(
    checkpoint=dict(interval=200, max_keep_ckpts=2))
