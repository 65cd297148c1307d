# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""A tiny mmengine run for the tests of runners, hooks and work dirs: a
linear model on 4 numbers, a few iterations, seconds, no data."""
import itertools
import logging
from contextlib import contextmanager
from pathlib import Path

import torch
import torch.nn as nn
from mmengine.logging import MessageHub, MMLogger
from mmengine.model import BaseModel
from torch.utils.data import Dataset

from mmseg_aicsd.engine import KeepConfigRunner

# runners of one process need their own logger and message hub names
_RUNS = itertools.count()


class ToyDataset(Dataset):

    def __init__(self, n=4):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, idx):
        return dict(inputs=torch.full((2, ), float(idx)))


class Fail(Exception):
    """What a ToyModel raises at its ``fail_at`` iteration."""


class ToyModel(BaseModel):
    """Records the (1-based) iterations it trains; raises :class:`Fail` at
    iteration ``fail_at``."""

    def __init__(self, fail_at=None):
        super().__init__()
        self.linear = nn.Linear(2, 1)
        self.fail_at = fail_at
        self.iters = []
        self.alw_kd_losses = ()

    def set_loss_scales(self, default, scales):
        pass

    def forward(self, inputs, data_samples=None, mode='tensor'):
        inputs = torch.stack(inputs) if isinstance(inputs, list) else inputs
        out = self.linear(inputs)
        if mode != 'loss':
            return out
        it = MessageHub.get_current_instance().get_info('iter') + 1
        if it == self.fail_at:
            raise Fail(f'iteration {it}')
        self.iters.append(it)
        return dict(loss=out.pow(2).mean())


def toy_runner(work_dir,
               max_iters=4,
               checkpoint=None,
               custom_hooks=(),
               cfg=None,
               fail_at=None,
               n_images=4,
               batch_size=2,
               **kwargs):
    """A :class:`KeepConfigRunner` of a :class:`ToyModel`, iteration
    based, a checkpoint every 2 iterations unless ``checkpoint`` says
    otherwise; ``kwargs`` go to the runner (``resume``, ``load_from``)."""
    checkpoint = checkpoint or dict(
        type='CheckpointHook', interval=2, by_epoch=False)
    return KeepConfigRunner(
        model=ToyModel(fail_at),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=ToyDataset(n_images),
            sampler=dict(type='InfiniteSampler', shuffle=False),
            batch_size=batch_size,
            num_workers=0,
            collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(checkpoint=checkpoint),
        custom_hooks=list(custom_hooks),
        default_scope='mmseg',
        cfg=cfg,
        experiment_name=f'toy_{next(_RUNS)}',
        **kwargs)


def file_bytes(folder):
    """Every file directly in ``folder``, by name, as bytes."""
    return {
        p.name: p.read_bytes()
        for p in Path(folder).iterdir() if p.is_file()
    }


@contextmanager
def logged_warnings(logger=None):
    """The messages of the WARNING (and higher) records that ``logger``
    (default: mmengine's current logger) gets inside the block."""
    logger = logger or MMLogger.get_current_instance()
    messages = []

    class Keep(logging.Handler):

        def emit(self, record):
            messages.append(record.getMessage())

    handler = Keep(level=logging.WARNING)
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
