# AT (Zagoruyko & Komodakis 2017; "AD" in the AICSD tables) on the
# decoder's last feature, CE + AT. Weight 1e4 as CIRKD (no KD added here:
# the AICSD tables distil each baseline alone).
# DeepLabV3+ R18-D8 student on Pascal VOC 2012 aug, teacher mmseg's
# DeepLabV3+ R101-D8 (model zoo, 78.62 mIoU).
_base_ = '../_base_/distill/deeplabv3plus_r18-d8_4xb4-40k_voc12aug-512x512.py'
model = dict(
    distill_losses=dict(
        loss_at=dict(
            type='ATLoss',
            p=2,
            loss_weight=10000.0,
            student_feature='decode_head.sep_bottleneck')))
