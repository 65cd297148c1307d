# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""tools/train.py and tools/test.py on a few real CamVid images: train a
teacher, distil a student with an evaluation, resume it, then evaluate its
checkpoint with the student's plain config."""
import glob
import json
import os.path as osp
import subprocess
import sys

import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
STUDENT = 'configs/deeplabv3plus/deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py'
AICSD = 'configs/aicsd/aicsd_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py'


def data_options(root, max_iters):
    """A few real images, no worker processes, short intervals."""
    opts = [
        f'train_cfg.max_iters={max_iters}', 'train_cfg.val_interval=2',
        'default_hooks.checkpoint.interval=2',
        'default_hooks.logger.interval=1', 'train_dataloader.batch_size=2'
    ]
    for loader, n in (('train', 4), ('val', 2), ('test', 2)):
        opts += [
            f'{loader}_dataloader.dataset.data_root={root}',
            f'{loader}_dataloader.dataset.indices={n}',
            f'{loader}_dataloader.num_workers=0',
            f'{loader}_dataloader.persistent_workers=False'
        ]
    return opts


def run(*args):
    proc = subprocess.run([sys.executable, *args], cwd=REPO,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def scalars(work_dir):
    """Every record of the runs' vis_data/scalars.json, oldest run first."""
    records = []
    for path in sorted(glob.glob(f'{work_dir}/*/vis_data/scalars.json')):
        with open(path) as f:
            records += [json.loads(line) for line in f]
    return records


def test_distil_resume_and_test_on_camvid(tmp_path, camvid_root):
    teacher_dir, student_dir = tmp_path / 'teacher', tmp_path / 'aicsd'
    # a cheap teacher for the test (the R18 baseline), trained 2 iterations
    run('tools/train.py', STUDENT, '--work-dir', str(teacher_dir),
        '--cfg-options', *data_options(camvid_root, 2))
    teacher_ckpt = teacher_dir / 'iter_2.pth'
    assert teacher_ckpt.is_file()

    distil = ['tools/train.py', AICSD, '--work-dir', str(student_dir)]
    teacher = [
        '--cfg-options', f'model.teacher={osp.join(REPO, STUDENT)}',
        f'model.teacher_ckpt={teacher_ckpt}'
    ]
    out = run(*distil, *teacher, *data_options(camvid_root, 4))
    assert 'mIoU' in out
    records = scalars(student_dir)
    train = [r for r in records if 'loss_icsd' in r]
    assert [r['iter'] for r in train] == [1, 2, 3, 4]
    # ALW epoch = ceil(4 images / batch 2) = 2 iterations, N_e = 4 / 2
    assert [r['alw_alpha'] for r in train] == [0.0, 0.0, 0.5, 0.5]
    assert all(r['loss_kd'] > 0 and r['loss_icsd'] >= 0 for r in train)
    # alpha = 0: the student's CE is switched off in the first ALW epoch
    assert train[0]['decode.loss_ce'] == 0.0
    assert sum('mIoU' in r for r in records) == 2  # evaluated at 2 and 4

    # resume from iter_4 and go on to 6: N_e = 3, the last epoch at 2/3
    out = run(*distil, '--resume', *teacher, *data_options(camvid_root, 6))
    assert 'resumed' in out.lower()
    train = [r for r in scalars(student_dir) if 'loss_icsd' in r]
    assert [r['iter'] for r in train] == [1, 2, 3, 4, 5, 6]
    assert train[-1]['alw_alpha'] == pytest.approx(2 / 3, abs=1e-4)

    # the checkpoint is the student's alone: the plain config evaluates it
    ckpt = student_dir / 'iter_6.pth'
    state = torch.load(ckpt, map_location='cpu')['state_dict']
    assert state and not any(k.startswith('teacher.') for k in state)
    out = run('tools/test.py', STUDENT, str(ckpt), '--work-dir',
              str(tmp_path / 'test'), '--cfg-options',
              *data_options(camvid_root, 6))
    assert 'mIoU' in out
