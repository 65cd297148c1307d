# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""tools/train.py and tools/test.py on a few real CamVid images: train a
teacher, distil a student with an evaluation, resume it, then evaluate its
checkpoint with the student's plain config."""
import os
import os.path as osp

import pytest
import torch
from run_utils import AICSD, REPO, STUDENT, data_options
from run_utils import run as run_cmd
from run_utils import save_teacher, scalars


def run(*args):
    proc = run_cmd(*args)
    return proc.stdout + proc.stderr


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


def test_nonfinite_teacher_stops_the_run(tmp_path, camvid_root):
    """A teacher whose logits are NaN: the run stops at its first iteration
    with an error naming the losses, before any step or checkpoint."""
    path = save_teacher(tmp_path / 'teacher.pth')
    ckpt = torch.load(path)
    ckpt['state_dict']['decode_head.conv_seg.bias'].fill_(float('nan'))
    torch.save(ckpt, path)
    work_dir = tmp_path / 'aicsd'
    proc = run_cmd(
        'tools/train.py',
        AICSD,
        '--work-dir',
        str(work_dir),
        '--cfg-options',
        f'model.teacher={osp.join(REPO, STUDENT)}',
        f'model.teacher_ckpt={path}',
        *data_options(camvid_root, 4),
        check=False)
    assert proc.returncode != 0
    assert ('FloatingPointError: non-finite loss at iteration 1: '
            'loss_icsd=nan, loss_kd=nan.') in proc.stderr
    assert not [p for p in os.listdir(work_dir) if p.endswith('.pth')]
