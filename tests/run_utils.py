# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Helpers of the tests that run tools/train.py in subprocesses."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config

from mmseg.registry import MODELS

TESTS = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(TESTS)
STUDENT = ('configs/deeplabv3plus/'
           'deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py')
AICSD = 'configs/aicsd/aicsd_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py'
# Real CamVid: $CAMVID_ROOT, else ../shared/data/camvid beside the repo.
CAMVID_ROOT = os.environ.get('CAMVID_ROOT',
                             osp.join(REPO, '..', 'shared', 'data', 'camvid'))


@pytest.fixture(scope='session')
def camvid_root():
    """Path of the real CamVid data (SegNet layout); skips if absent."""
    if not osp.isdir(osp.join(CAMVID_ROOT, 'trainannot')):
        pytest.skip(f'CamVid not found at {CAMVID_ROOT} (set CAMVID_ROOT)')
    return CAMVID_ROOT


def mark_real_data_tests(items):
    """``pytest_collection_modifyitems`` of the conftests: mark
    ``real_data`` every test that uses the real CamVid images."""
    for item in items:
        if 'camvid_root' in getattr(item, 'fixturenames', ()):
            item.add_marker(pytest.mark.real_data)


# Modules of many independent tests and no costly module fixture, whose
# tests ``--dist loadgroup`` hands to the workers one by one: as one unit,
# test_configs.py's 127 two-step trainings kept a worker busy for the whole
# suite.
SPREAD_MODULES = ('test_configs.py', )


def group_modules(items):
    """``pytest_collection_modifyitems`` of the conftests: put the tests of
    each module in one ``xdist_group`` (but :data:`SPREAD_MODULES`), so that
    under ``--dist loadgroup`` a module's fixtures (real training runs) run
    once, on one worker."""
    for item in items:
        module = item.nodeid.split('::')[0]
        if osp.basename(module) not in SPREAD_MODULES:
            item.add_marker(pytest.mark.xdist_group(module))


def data_options(root, max_iters, n_train=4, val_interval=2, ckpt_interval=2):
    """A few real images, no worker processes, short intervals."""
    opts = [
        f'train_cfg.max_iters={max_iters}',
        f'train_cfg.val_interval={val_interval}',
        f'default_hooks.checkpoint.interval={ckpt_interval}',
        'default_hooks.logger.interval=1', 'train_dataloader.batch_size=2'
    ]
    for loader, n in (('train', n_train), ('val', 2), ('test', 2)):
        opts += [
            f'{loader}_dataloader.dataset.data_root={root}',
            f'{loader}_dataloader.dataset.indices={n}',
            f'{loader}_dataloader.num_workers=0',
            f'{loader}_dataloader.persistent_workers=False'
        ]
    return opts


def run(*args, check=True, launcher=(sys.executable, )):
    """Run a command in the repository root with tests/ importable."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        [TESTS, REPO] + [p for p in [env.get('PYTHONPATH')] if p])
    proc = subprocess.run([*launcher, *args],
                          cwd=REPO,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=900)
    if check:
        assert proc.returncode == 0, \
            proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def scalars(work_dir):
    """Every record of the runs' vis_data/scalars.json, oldest run first."""
    records = []
    for path in sorted(glob.glob(f'{work_dir}/*/vis_data/scalars.json')):
        with open(path) as f:
            records += [json.loads(line) for line in f]
    return records


def save_teacher(path):
    """A (random) R18 student-architecture checkpoint to use as teacher."""
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(osp.join(REPO, STUDENT)).model)
    torch.save(dict(meta=dict(iter=0), state_dict=model.state_dict()), path)
    return str(path)


def probe_config(path, teacher_ckpt, **probe):
    """The CamVid AICSD config with an R18 teacher, seed 0, no dropout
    (runs are reproducible bit for bit) and a ProbeHook; besides ICSD and
    KD on the logits, ICKD on a decoder feature through a connector (whose
    weights train, are all-reduced and are resumed like the student's)."""
    text = f'''_base_ = [{osp.join(REPO, AICSD)!r}]
custom_imports = dict(imports=['mmseg_aicsd', 'train_probes'],
                      allow_failed_imports=False)
model = dict(
    teacher={osp.join(REPO, STUDENT)!r},
    teacher_ckpt={teacher_ckpt!r},
    decode_head=dict(dropout_ratio=0.0),
    auxiliary_head=dict(dropout_ratio=0.0),
    distill_losses=dict(
        loss_ickd=dict(
            type='ICKDLoss',
            student_feature='decode_head.sep_bottleneck',
            connector=dict(type='ConvBNConnector'))))
randomness = dict(seed=0)
default_hooks = dict(checkpoint=dict(max_keep_ckpts=2))
custom_hooks = [
    dict(type='ALWHook', schedule='linear'),
    dict(type='ProbeHook', **{probe!r}),
]
'''
    with open(path, 'w') as f:
        f.write(text)
    return str(path)


def probe_record(out_dir, rank=0):
    with open(osp.join(out_dir, f'probe_rank{rank}.json')) as f:
        return json.load(f)
