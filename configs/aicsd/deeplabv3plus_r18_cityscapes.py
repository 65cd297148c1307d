# Short name of aicsd_deeplabv3plus_r18-d8_4xb2-80k_cityscapes-512x1024.py:
# AICSD, DeepLabV3+ R18-D8 student, mmseg's R101-D8 teacher, Cityscapes.
_base_ = './aicsd_deeplabv3plus_r18-d8_4xb2-80k_cityscapes-512x1024.py'
