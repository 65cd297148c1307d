# AICSD's released-code recipe without ALW: CE + KD + the released ICS
# term at the released weights relative to CE; departs from it in a
# frozen eval-mode teacher and mmseg's auxiliary head
# (configs/aicsd/README.md).
_base_ = '../_base_/distill/deeplabv3plus_r18-d8_4xb4-40k_voc12aug-512x512.py'
model = dict(
    distill_losses=dict(
        # 9500 * B and 10 * B / C, B = 4 images per process, C = 21 classes
        loss_icsd=dict(
            type='ReleasedCodeICSDLoss',
            upsample_size=(512, 512),
            loss_weight=38000.0),
        loss_kd=dict(type='PixelKDLoss', tau=1.0, loss_weight=1.9048)))
