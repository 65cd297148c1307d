# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""tools/dist_train.sh with 2 CPU processes (gloo) on real CamVid images."""
import os
import socket

import torch
from run_utils import (data_options, probe_config, probe_record, run,
                       save_teacher)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_two_processes_train_aicsd(tmp_path, camvid_root, monkeypatch):
    teacher_ckpt = save_teacher(tmp_path / 'teacher.pth')
    cfg = probe_config(
        tmp_path / 'cfg.py', teacher_ckpt, out_dir=str(tmp_path))
    work_dir = tmp_path / 'run'
    monkeypatch.setenv('PORT', str(free_port()))
    run('tools/dist_train.sh',
        cfg,
        '2',
        '--work-dir',
        str(work_dir),
        '--cfg-options',
        *data_options(
            camvid_root, 3, n_train=8, val_interval=100, ckpt_interval=3),
        launcher=('bash', ))
    ranks = [probe_record(tmp_path, rank) for rank in (0, 1)]

    for record in ranks:
        assert record['wrapper'] == 'MMDistributedDataParallel'
        # DDP synchronises the student's parameters and no teacher one
        synced = record['ddp_parameters']
        assert any(n.startswith('backbone.') for n in synced)
        assert any(n.startswith('decode_head.') for n in synced)
        assert not any(n.startswith('teacher.') for n in synced)
        # and the connector's, which trains with the student
        assert 'distill_connectors.loss_ickd.conv.conv.weight' in synced
        assert not record['teacher_grads']
    # both ranks: an ALW epoch is 8 images / (2 ranks x 2) = 2 iterations,
    # N_e = 3 / 2 epochs, alpha = (e - 1) / N_e
    assert ranks[0]['alpha'] == ranks[1]['alpha'] == {
        '1': 0.0,
        '2': 0.0,
        '3': 1 / 1.5
    }
    assert ranks[0]['lr'] == ranks[1]['lr']
    # gradients were all-reduced: the students (connector included) are
    # identical; the teachers
    # are the checkpoint's, untouched
    assert ranks[0]['student_checksum'] == ranks[1]['student_checksum']
    state = torch.load(teacher_ckpt)['state_dict']
    expected = sum(v.double().sum().item() for v in state.values()
                   if torch.is_floating_point(v))
    assert ranks[0]['teacher_checksum'] == ranks[1]['teacher_checksum']
    assert abs(ranks[0]['teacher_checksum'] - expected) <= 1e-9 * abs(expected)
    # one checkpoint, written once, by rank 0; student weights only
    assert ranks[0]['saved'] == ['iter_3.pth'] and ranks[1]['saved'] == []
    assert sorted(p for p in os.listdir(work_dir)
                  if p.endswith('.pth')) == ['iter_3.pth']
    ckpt = torch.load(work_dir / 'iter_3.pth', map_location='cpu')
    assert ckpt['meta']['iter'] == 3
    assert not any(k.startswith('teacher.') for k in ckpt['state_dict'])
