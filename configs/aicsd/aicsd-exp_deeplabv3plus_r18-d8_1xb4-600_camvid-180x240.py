# AICSD with the exponential ALW schedule (Table V); DeepLabV3+ R18-D8 on CamVid 240x180.
# See README.md#configs-the-papers-tables
_base_ = './aicsd_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py'
custom_hooks = [dict(type='ALWHook', schedule='exp', beta=0.985)]
