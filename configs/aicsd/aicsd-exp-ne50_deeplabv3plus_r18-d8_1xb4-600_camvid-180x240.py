# AICSD with the exponential ALW schedule, alpha = 1 - 0.985^(e - 1), over
# N_e = 50 ALW epochs of 12 iterations (the paper's proportion). With
# one-pass epochs (92 iterations, N_e = 6.5) alpha would end at
# 1 - 0.985^6 = 0.087: a run of almost pure KD. A row of the CamVid study
# (docs/results/camvid).
_base_ = './aicsd-exp_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py'
custom_hooks = [dict(type='ALWHook', schedule='exp', beta=0.985,
                     iters_per_epoch=12)]
