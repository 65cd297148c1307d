# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""SIGKILL a CamVid AICSD run in the middle, and while it writes a
checkpoint; ``--resume`` continues as if nothing had happened: the same
iterations, learning rate, ALW alpha, losses, weights and optimizer state
as an uninterrupted run, bit for bit."""
import signal

import pytest
import torch
from run_utils import (data_options, probe_config, probe_record, run,
                       save_teacher, scalars)

MAX_ITERS = 6
# 8 images, batch 2: an ALW epoch is 4 iterations


@pytest.fixture(scope='module')
def teacher_ckpt(tmp_path_factory):
    return save_teacher(tmp_path_factory.mktemp('teacher') / 'teacher.pth')


def train(cfg, work_dir, camvid_root, *args, check=True):
    return run(
        'tools/train.py',
        cfg,
        '--work-dir',
        str(work_dir),
        *args,
        '--cfg-options',
        *data_options(
            camvid_root,
            MAX_ITERS,
            n_train=8,
            val_interval=100,
            ckpt_interval=1),
        check=check)


@pytest.fixture(scope='module')
def reference(tmp_path_factory, teacher_ckpt, camvid_root):
    """The uninterrupted run: its work dir and probe record."""
    tmp = tmp_path_factory.mktemp('reference')
    cfg = probe_config(tmp / 'cfg.py', teacher_ckpt, out_dir=str(tmp))
    train(cfg, tmp / 'run', camvid_root)
    return tmp / 'run', probe_record(tmp)


def last_checkpoint(work_dir):
    return (work_dir / 'last_checkpoint').read_text().strip()


def assert_resumed_like_reference(work_dir, probe, reference, first_iter):
    ref_dir, ref_probe = reference
    iters = [str(i) for i in range(first_iter, MAX_ITERS + 1)]
    # the probe of the resumed process saw these iterations only ...
    assert sorted(probe['alpha'], key=int) == iters
    for it in iters:  # ... with the uninterrupted run's alpha and lr
        assert probe['alpha'][it] == ref_probe['alpha'][it], it
        assert probe['lr'][it] == ref_probe['lr'][it], it
    # N_e = 6 / 4: alpha (e - 1) / N_e steps at iteration 5
    assert ref_probe['alpha']['4'] == 0.0
    assert ref_probe['alpha']['5'] == 1 / 1.5

    # logged values of the resumed run's iterations: identical
    ref_log = {r['iter']: r for r in scalars(ref_dir) if 'loss' in r}
    log = [r for r in scalars(work_dir) if 'loss' in r]
    assert [r['iter'] for r in log
            ][-len(iters):] == list(range(first_iter, MAX_ITERS + 1))
    for record in log[-len(iters):]:
        expected = ref_log[record['iter']]
        for key in ('lr', 'alw_alpha', 'loss', 'loss_icsd', 'loss_kd',
                    'loss_ickd', 'decode.loss_ce'):
            assert record[key] == expected[key], (record['iter'], key)

    # the final weights and optimizer state are the same
    ckpt = torch.load(work_dir / f'iter_{MAX_ITERS}.pth', map_location='cpu')
    ref = torch.load(ref_dir / f'iter_{MAX_ITERS}.pth', map_location='cpu')
    assert ckpt['meta']['iter'] == ref['meta']['iter'] == MAX_ITERS
    # the connector is resumed with the student
    assert 'distill_connectors.loss_ickd.conv.conv.weight' in ref['state_dict']
    assert ckpt['state_dict'].keys() == ref['state_dict'].keys()
    for key, value in ref['state_dict'].items():
        assert torch.equal(ckpt['state_dict'][key], value), key
    state, ref_state = (c['optimizer']['state'] for c in (ckpt, ref))
    assert state.keys() == ref_state.keys() and state
    for idx in ref_state:
        assert torch.equal(state[idx]['momentum_buffer'],
                           ref_state[idx]['momentum_buffer']), idx
    assert ckpt['param_schedulers'] == ref['param_schedulers']


def test_sigkill_mid_run_then_resume(reference, teacher_ckpt, camvid_root,
                                     tmp_path):
    work_dir = tmp_path / 'run'
    cfg = probe_config(
        tmp_path / 'kill.py',
        teacher_ckpt,
        out_dir=str(tmp_path),
        kill_at_iter=5)
    proc = train(cfg, work_dir, camvid_root, check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert last_checkpoint(work_dir).endswith('iter_4.pth')

    cfg = probe_config(
        tmp_path / 'cfg.py', teacher_ckpt, out_dir=str(tmp_path))
    out = train(cfg, work_dir, camvid_root, '--resume').stdout
    assert 'resumed' in out.lower()
    assert_resumed_like_reference(
        work_dir, probe_record(tmp_path), reference, first_iter=5)


def test_sigkill_while_writing_a_checkpoint(reference, teacher_ckpt,
                                            camvid_root, tmp_path):
    """mmengine writes last_checkpoint only after the checkpoint file is
    complete, and tools/train.py's WriteFirstCheckpointHook deletes the
    outdated one (max_keep_ckpts=2: iter_2.pth) only after that: the
    half-written iter_4.pth is never the one resumed from."""
    work_dir = tmp_path / 'run'
    cfg = probe_config(
        tmp_path / 'kill.py',
        teacher_ckpt,
        out_dir=str(tmp_path),
        kill_while_saving='iter_4.pth')
    proc = train(cfg, work_dir, camvid_root, check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert (work_dir / 'iter_4.pth').is_file()
    with pytest.raises(Exception):  # truncated: not a loadable file
        torch.load(work_dir / 'iter_4.pth', map_location='cpu')
    assert last_checkpoint(work_dir).endswith('iter_3.pth')
    assert torch.load(work_dir / 'iter_3.pth')['meta']['iter'] == 3
    assert (work_dir / 'iter_2.pth').is_file()  # not deleted before

    cfg = probe_config(
        tmp_path / 'cfg.py', teacher_ckpt, out_dir=str(tmp_path))
    train(cfg, work_dir, camvid_root, '--resume')
    assert_resumed_like_reference(
        work_dir, probe_record(tmp_path), reference, first_iter=4)
