# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""ALWHook warns once, at the start of training, when alpha would not move
in the whole run, and when a batch is larger than the training set."""
import pytest
from toy_runner import logged_warnings, toy_runner

CONSTANT = ('ALWHook: with an ALW epoch of {ipe} iterations and '
            'max_iters=4, the whole run is in the first ALW epoch, so alpha '
            'stays {alpha} and {zero} get weight 0 throughout. Set ALWHook '
            "iters_per_epoch below max_iters, e.g. custom_hooks = [dict("
            "type='ALWHook', iters_per_epoch=1)], or remove ALWHook to "
            'weight the losses by their loss_weight alone.')
CE = 'the losses other than alw_kd_losses (CE, ICSD)'


def train(work_dir, hook, **kwargs):
    runner = toy_runner(work_dir, max_iters=4, custom_hooks=[hook], **kwargs)
    with logged_warnings(runner.logger) as warnings:
        runner.train()
    # the hook's (mmengine may warn of other things, e.g. no metainfo)
    return [w for w in warnings if w.startswith(('ALW', 'train_dataloader'))]


@pytest.mark.parametrize('hook, message', [
    (dict(type='ALWHook',
          iters_per_epoch=4), CONSTANT.format(ipe=4, alpha=0, zero=CE)),
    (dict(type='ALWHook', iters_per_epoch=9, schedule='exp_printed'),
     CONSTANT.format(ipe=9, alpha=1, zero='the alw_kd_losses (KD)')),
])
def test_alpha_constant_over_the_run_warns_once(tmp_path, hook, message):
    assert train(tmp_path, hook) == [message]


def test_default_epoch_longer_than_the_run_warns(tmp_path):
    # one pass over 10 images at batch 2 is 5 iterations, max_iters 4
    assert train(
        tmp_path, dict(type='ALWHook'),
        n_images=10) == [CONSTANT.format(ipe=5, alpha=0, zero=CE)]


def test_an_alw_epoch_within_the_run_is_silent(tmp_path):
    # 4 images at batch 2: an ALW epoch of 2 iterations, alpha moves at 3
    assert train(tmp_path, dict(type='ALWHook')) == []


def test_a_batch_larger_than_the_dataset_warns(tmp_path):
    warnings = train(
        tmp_path,
        dict(type='ALWHook', iters_per_epoch=2),
        n_images=3,
        batch_size=8)
    assert warnings == [
        'train_dataloader.batch_size=8 x 1 processes is more than the 3 '
        'training images: every batch repeats images, and an ALW epoch '
        '(one pass) is one iteration. Lower train_dataloader.batch_size to '
        'at most 3, or add images.'
    ]
