# CIRKD as losses/cirkd.py, on an ASPP head's (DeepLabV3's) bottleneck, at
# 1/8 of the input as in CIRKD, so without pooling.
_base_ = './cirkd.py'
distill_losses = dict(
    loss_cirkd=dict(student_feature='decode_head.bottleneck', pool_size=1),
    loss_cirkd_memory=dict(student_feature='decode_head.bottleneck'))
