# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""WriteFirstCheckpointHook: with max_keep_ckpts=1, a process killed while
it writes the next checkpoint leaves the previous one, byte-identical, and
last_checkpoint on it (mmengine's CheckpointHook leaves nothing to resume
from); the resumed run then keeps one checkpoint, as configured."""
import pytest
from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import Hook
from toy_runner import file_bytes, toy_runner


class Killed(BaseException):
    """Stands for a SIGKILL in the middle of a checkpoint write."""


class KeepFiles(Hook):
    """The work dir's files, as bytes, after iteration ``at``."""
    priority = 'LOWEST'  # after the checkpoint hook

    def __init__(self, at):
        self.at, self.files = at, {}

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        if runner.iter + 1 == self.at:
            self.files = file_bytes(runner.work_dir)


def kill_while_writing(monkeypatch, name):
    """Write half of the checkpoint ``name``, then die."""
    put = LocalBackend.put

    def half_put(backend, obj, filepath):
        if str(filepath).endswith(name):
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
            raise Killed
        return put(backend, obj, filepath)

    monkeypatch.setattr(LocalBackend, 'put', half_put)


def one_kept(hook_type):
    return dict(type=hook_type, interval=2, by_epoch=False, max_keep_ckpts=1)


def test_a_kill_while_writing_leaves_the_previous_checkpoint(
        tmp_path, monkeypatch):
    keep = KeepFiles(at=2)
    runner = toy_runner(
        tmp_path,
        max_iters=6,
        checkpoint=one_kept('WriteFirstCheckpointHook'),
        custom_hooks=[keep])
    kill_while_writing(monkeypatch, 'iter_4.pth')
    with pytest.raises(Killed):
        runner.train()
    assert set(keep.files) >= {'iter_2.pth', 'last_checkpoint'}
    after = file_bytes(tmp_path)
    for name, data in keep.files.items():  # iter_2.pth and the pointer
        assert after[name] == data, name
    assert after['last_checkpoint'].decode().endswith('iter_2.pth')

    monkeypatch.undo()  # a new process: --resume
    resumed = toy_runner(
        tmp_path,
        max_iters=6,
        checkpoint=one_kept('WriteFirstCheckpointHook'),
        resume=True)
    resumed.train()
    assert resumed.model.iters == [3, 4, 5, 6]
    assert sorted(p for p in file_bytes(tmp_path)
                  if p.endswith('.pth')) == ['iter_6.pth']


def test_mmengine_checkpoint_hook_loses_the_previous_one(
        tmp_path, monkeypatch):
    """What the hook is for: the same kill with mmengine's hook."""
    runner = toy_runner(
        tmp_path, max_iters=6, checkpoint=one_kept('CheckpointHook'))
    kill_while_writing(monkeypatch, 'iter_4.pth')
    with pytest.raises(Killed):
        runner.train()
    assert not (tmp_path / 'iter_2.pth').exists()
    assert (tmp_path / 'last_checkpoint').read_text().endswith('iter_2.pth')
