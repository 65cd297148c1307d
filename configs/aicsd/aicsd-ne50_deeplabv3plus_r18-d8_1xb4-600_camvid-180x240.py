# AICSD (ICSD + KD, linear ALW, Eq. 6-7) with ALW epochs in the paper's
# proportion: N_e = 50 ALW epochs over the run (the paper's Cityscapes
# schedule), i.e. 600 / 50 = 12 iterations each, so the pure-KD first epoch
# (alpha = 0) is 2% of training, not the 15% of one-pass epochs (92
# iterations at batch 4 on CamVid's 367 images). A row of the CamVid study
# (docs/results/camvid).
_base_ = './aicsd_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py'
custom_hooks = [dict(type='ALWHook', schedule='linear', iters_per_epoch=12)]
