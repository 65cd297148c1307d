# DeepLabV3 R18-D8 on Cityscapes, the CIRKD protocol's schedule (40k, batch
# 8 x 2, lr 0.02): the student baseline of the CIRKD-protocol configs
# (mmseg's stock R18 config otherwise). Train on 8 GPUs:
# tools/dist_train.sh CONFIG 8. See configs/kd/README.md#the-cirkd-protocol
_base_ = [
    'mmseg::deeplabv3/deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024.py',
    '../_base_/schedules/cirkd_cityscapes_8xb2-40k.py'
]
custom_imports = dict(imports=['mmseg_aicsd'], allow_failed_imports=False)
optim_wrapper = {{_base_.cirkd_schedule.optim_wrapper}}
param_scheduler = {{_base_.cirkd_schedule.param_scheduler}}
train_cfg = {{_base_.cirkd_schedule.train_cfg}}
default_hooks = {{_base_.cirkd_schedule.default_hooks}}
