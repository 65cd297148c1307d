# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""The study's configs: what each changes against the product's config it
inherits (that every config builds and trains: tests/test_configs.py)."""
import os.path as osp

import pytest
from mmengine.config import Config

HERE = osp.dirname(osp.dirname(osp.abspath(__file__)))  # studies/camvid
REPO = osp.dirname(osp.dirname(HERE))
STUDENT = 'deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py'


@pytest.mark.parametrize('row,base', [
    ('kd-icsd', osp.join(REPO, 'configs', 'aicsd')),
    ('aicsd-ne50', osp.join(HERE, 'configs')),
])
def test_study_lambda_rows_change_only_the_icsd_weight(row, base):
    """The calibrated rows are their base rows with ICSD weight 0.05
    instead of 1.0, everything else equal."""
    base = Config.fromfile(osp.join(base, f'{row}_{STUDENT}'))
    calibrated = Config.fromfile(
        osp.join(HERE, 'configs', f'{row}-lambda0.05_{STUDENT}'))
    assert base.model.distill_losses.loss_icsd.loss_weight == 1.0
    assert calibrated.model.distill_losses.loss_icsd.loss_weight == 0.05
    calibrated.model.distill_losses.loss_icsd.loss_weight = 1.0
    assert calibrated.to_dict() == base.to_dict()


@pytest.mark.parametrize('row,iters_per_epoch,schedule',
                         [('aicsd-ne50', 12, 'linear'),
                          ('aicsd-exp-ne50', 12, 'exp')])
def test_ne50_rows_set_the_alw_epoch_length(row, iters_per_epoch, schedule):
    cfg = Config.fromfile(osp.join(HERE, 'configs', f'{row}_{STUDENT}'))
    hook, = cfg.custom_hooks
    assert (hook.type, hook.schedule,
            hook.iters_per_epoch) == ('ALWHook', schedule, iters_per_epoch)
    assert cfg.train_cfg.max_iters / iters_per_epoch == 50


def test_teacher_trains_1600_iterations():
    cfg = Config.fromfile(
        osp.join(HERE, 'configs',
                 'deeplabv3plus_r101-d16-mg124_1xb4-1600_camvid-180x240.py'))
    assert cfg.train_cfg.max_iters == 1600
    assert cfg.param_scheduler[0].end == 1600
