# AICSD, DeepLabV3+ R18-D8 on Pascal VOC 2012 aug with the paper's schedule
# (Sec. IV-A). See README.md#configs-the-papers-tables
_base_ = [
    './aicsd_deeplabv3plus_r18-d8_4xb4-40k_voc12aug-512x512.py',
    '../_base_/schedules/aicsd_voc12aug-513x513_1xb6-120e.py'
]
crop_size = {{_base_.aicsd_schedule.crop_size}}
data_preprocessor = {{_base_.aicsd_schedule.data_preprocessor}}
train_pipeline = {{_base_.aicsd_schedule.train_pipeline}}
data_root = {{_base_.aicsd_schedule.data_root}}
train_dataloader = {{_base_.aicsd_schedule.train_dataloader}}
optim_wrapper = {{_base_.aicsd_schedule.optim_wrapper}}
param_scheduler = {{_base_.aicsd_schedule.param_scheduler}}
train_cfg = {{_base_.aicsd_schedule.train_cfg}}
default_hooks = {{_base_.aicsd_schedule.default_hooks}}
log_processor = {{_base_.aicsd_schedule.log_processor}}
model = dict(data_preprocessor=data_preprocessor)
