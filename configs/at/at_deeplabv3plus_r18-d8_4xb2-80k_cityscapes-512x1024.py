# AT (Zagoruyko & Komodakis 2017; "AD" in the AICSD tables) on the
# decoder's last feature, CE + AT. Weight 1e4 as CIRKD (no KD added here:
# the AICSD tables distil each baseline alone).
# DeepLabV3+ R18-D8 student on Cityscapes (mmseg's stock config, 76.89 mIoU
# alone), teacher mmseg's DeepLabV3+ R101-D8 (model zoo, 80.97 mIoU).
_base_ = '../_base_/distill/deeplabv3plus_r18-d8_4xb2-80k_cityscapes-512x1024.py'
model = dict(
    distill_losses=dict(
        loss_at=dict(
            type='ATLoss',
            p=2,
            loss_weight=10000.0,
            student_feature='decode_head.sep_bottleneck')))
