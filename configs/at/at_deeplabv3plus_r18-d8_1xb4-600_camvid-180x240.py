# AT (Zagoruyko & Komodakis 2017; "AD" in the AICSD tables) on the
# decoder's last feature, CE + AT. Weight 1e4 as CIRKD (no KD added here:
# the AICSD tables distil each baseline alone).
# DeepLabV3+ R18-D8 student on CamVid at 240x180, teacher DeepLabV3+
# R101-D16-MG124 (train it first with its config; see README).
_base_ = '../_base_/distill/deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py'
model = dict(
    distill_losses=dict(
        loss_at=dict(
            type='ATLoss',
            p=2,
            loss_weight=10000.0,
            student_feature='decode_head.sep_bottleneck')))
