# AICSD, DeepLabV3+ R18-D8 on Cityscapes with the paper's schedule (Sec. IV-A).
# See README.md#configs-the-papers-tables
_base_ = [
    './aicsd_deeplabv3plus_r18-d8_4xb2-80k_cityscapes-512x1024.py',
    '../_base_/schedules/aicsd_cityscapes_1xb4-50e.py'
]
train_dataloader = {{_base_.aicsd_schedule.train_dataloader}}
optim_wrapper = {{_base_.aicsd_schedule.optim_wrapper}}
param_scheduler = {{_base_.aicsd_schedule.param_scheduler}}
train_cfg = {{_base_.aicsd_schedule.train_cfg}}
default_hooks = {{_base_.aicsd_schedule.default_hooks}}
log_processor = {{_base_.aicsd_schedule.log_processor}}
