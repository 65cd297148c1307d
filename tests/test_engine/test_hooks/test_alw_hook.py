# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""ALW alpha schedules, and ALWHook in real mmengine runs and resumes."""
import glob
import os.path as osp
import pickle
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from mmseg_aicsd.engine.hooks import ALWHook, alw_alpha


def test_linear_schedule():
    assert [alw_alpha(e, 4) for e in range(1, 5)] == [0, 0.25, 0.5, 0.75]


def test_exp_schedules():
    for e in (1, 2, 10, 120):
        assert alw_alpha(e, 120, 'exp') == pytest.approx(1 - 0.985**(e - 1))
        assert alw_alpha(
            e, 120, 'exp_printed', beta=0.9) == pytest.approx(0.9**(e - 1))
    assert alw_alpha(1, 120, 'exp') == 0.0  # pure KD first, as linear
    assert alw_alpha(2, 120, 'exp') == pytest.approx(0.015)


@pytest.mark.parametrize('kwargs, match', [
    (dict(epoch=1, num_epochs=4, schedule='cosine'), 'unknown ALW schedule'),
    (dict(epoch=0, num_epochs=4), '1-indexed'),
    (dict(epoch=1, num_epochs=0), 'num_epochs'),
    (dict(epoch=1, num_epochs=4, schedule='exp', beta=1.5), 'beta'),
])
def test_alpha_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        alw_alpha(**kwargs)
    if 'schedule' in kwargs and 'beta' not in kwargs:
        with pytest.raises(ValueError, match=match):
            ALWHook(schedule=kwargs['schedule'])


class ToyDataset(Dataset):

    def __len__(self):
        return 4

    def __getitem__(self, idx):
        return dict(inputs=torch.full((2, ), float(idx)))


class ToyModel(BaseModel):
    """Records the alpha it is given at each training step."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)
        self.alphas = []
        self.alw_alpha = None
        self.alw_kd_losses = ()

    def set_loss_scales(self, default, scales):
        self.alw_alpha = default

    def forward(self, inputs, data_samples=None, mode='tensor'):
        inputs = torch.stack(inputs) if isinstance(inputs, list) else inputs
        out = self.linear(inputs)
        if mode == 'loss':
            self.alphas.append(self.alw_alpha)
            return dict(loss=out.pow(2).mean())
        return out


class Interrupt(Exception):
    pass


class InterruptAt(Hook):
    """Raise after iteration ``n`` (after its checkpoint is written)."""
    priority = 'LOWEST'

    def __init__(self, n):
        self.n = n

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        if runner.iter + 1 == self.n:
            raise Interrupt


def make_runner(work_dir, by_epoch, hook_cfg, resume=False, extra_hooks=()):
    if by_epoch:
        train_cfg = dict(by_epoch=True, max_epochs=3)
        sampler = dict(type='DefaultSampler', shuffle=False)
    else:
        train_cfg = dict(by_epoch=False, max_iters=8)
        sampler = dict(type='InfiniteSampler', shuffle=False)
    return Runner(
        model=ToyModel(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=ToyDataset(),
            sampler=sampler,
            batch_size=2,
            num_workers=0,
            collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=train_cfg,
        default_hooks=dict(
            checkpoint=dict(
                type='CheckpointHook',
                interval=1 if by_epoch else 2,
                by_epoch=by_epoch)),
        custom_hooks=[hook_cfg, *extra_hooks],
        default_scope='mmseg',
        resume=resume,
        experiment_name=f'alw_{osp.basename(str(work_dir))}_{resume}')


@pytest.mark.parametrize(
    'hook_cfg, expected',
    [
        # 3 epochs of 2 iterations: alpha = (e - 1) / 3
        (dict(type='ALWHook'), [0, 0, 1 / 3, 1 / 3, 2 / 3, 2 / 3]),
        # alpha = 1 - beta^(e - 1)
        (dict(type='ALWHook', schedule='exp',
              beta=0.5), [0, 0, .5, .5, .75, .75]),
    ])
def test_epoch_based_loop(tmp_path, hook_cfg, expected):
    runner = make_runner(tmp_path, True, hook_cfg)
    runner.train()
    assert runner.model.alphas == pytest.approx(expected)
    logged = runner.message_hub.get_scalar('train/alw_alpha')
    assert logged.current() == pytest.approx(expected[-1])


@pytest.mark.parametrize(
    'hook_cfg, expected',
    [
        # default "epoch" = one pass: ceil(4 images / batch 2) = 2 iterations
        (dict(type='ALWHook'), [0, 0, .25, .25, .5, .5, .75, .75]),
        (dict(type='ALWHook',
              iters_per_epoch=3), [0, 0, 0] + [3 / 8] * 3 + [6 / 8] * 2),
        (dict(type='ALWHook', schedule='exp',
              beta=0.5), [0, 0, .5, .5, .75, .75, .875, .875]),
    ])
def test_iter_based_loop(tmp_path, hook_cfg, expected):
    runner = make_runner(tmp_path, False, hook_cfg)
    runner.train()
    assert runner.model.alphas == pytest.approx(expected)
    history = runner.message_hub.get_scalar('train/alw_alpha').data[0]
    assert list(history) == pytest.approx(expected)


@pytest.mark.parametrize('by_epoch', [False, True])
def test_resume_continues_the_same_curve(tmp_path, by_epoch):
    hook = dict(type='ALWHook')
    full = make_runner(tmp_path / 'full', by_epoch, hook)
    full.train()

    # iteration-based: cut right after the iter_4 checkpoint; epoch-based:
    # in the middle of epoch 3, which the resumed run then starts again
    cut_at, resume_at = (5, 4) if by_epoch else (4, 4)
    cut = make_runner(
        tmp_path / 'cut', by_epoch, hook, extra_hooks=[InterruptAt(cut_at)])
    with pytest.raises(Interrupt):
        cut.train()
    assert cut.model.alphas == full.model.alphas[:cut_at]

    # a new process would start here: fresh runner, --resume
    resumed = make_runner(tmp_path / 'cut', by_epoch, hook, resume=True)
    resumed.train()
    assert resumed.iter == full.iter
    assert resumed.model.alphas == pytest.approx(full.model.alphas[resume_at:])


def test_hook_needs_a_distillation_model():
    runner = SimpleNamespace(model=nn.Linear(2, 1))  # no set_loss_scales
    with pytest.raises(TypeError, match='set_loss_scales'):
        ALWHook().before_train(runner)


def test_resume_checkpoint_loads_with_weights_only(tmp_path):
    """torch >= 2.6 defaults torch.load to weights_only=True; importing
    mmseg_aicsd allow-lists exactly what mmengine checkpoints hold."""
    runner = make_runner(tmp_path, False, dict(type='ALWHook'))
    runner.train()
    ckpt = sorted(glob.glob(str(tmp_path / 'iter_*.pth')))[-1]
    checkpoint = torch.load(ckpt, map_location='cpu', weights_only=True)
    assert checkpoint['meta']['iter'] == 8
    assert 'train/alw_alpha' in checkpoint['message_hub']['log_scalars']

    # the allow-list stays narrow: other classes are still refused
    path = tmp_path / 'other.pth'
    torch.save({'x': Interrupt()}, path)
    with pytest.raises(pickle.UnpicklingError, match='Interrupt'):
        torch.load(path, weights_only=True)
    # getattr is allowed for HistoryBuffer's statistics methods only
    torch.save({'f': HistoryBuffer.update}, path)  # getattr(HB, 'update')
    with pytest.raises(pickle.UnpicklingError, match='update'):
        torch.load(path, weights_only=True)
