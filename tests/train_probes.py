# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""A hook that tests add to real training runs (imported by the configs
the tests write, with ``tests/`` on PYTHONPATH): it records what each process
saw, and can SIGKILL its own process at a chosen point."""
import json
import os
import os.path as osp
import signal
from typing import Optional

import torch
from mmengine.dist import get_rank
from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmseg.registry import HOOKS


def _sigkill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


@HOOKS.register_module()
class ProbeHook(Hook):
    """Record alpha, lr and checkpoint writes per process; optionally die.

    Writes ``<out_dir>/probe_rank<r>.json`` after training with: ``alpha``
    and ``lr`` per iteration (1-based), the ``.pth`` files this process
    wrote, the model wrapper, the parameter names DDP synchronises, whether
    any teacher parameter got a gradient, and a checksum of the student and
    teacher weights.

    Args:
        out_dir (str): Where to write the record.
        kill_at_iter (int, optional): SIGKILL before this (1-based)
            iteration runs.
        kill_while_saving (str, optional): SIGKILL halfway through writing
            the checkpoint file of this name.
    """

    priority = 'LOWEST'

    def __init__(self,
                 out_dir: str,
                 kill_at_iter: Optional[int] = None,
                 kill_while_saving: Optional[str] = None):
        self.out_dir = out_dir
        self.kill_at_iter = kill_at_iter
        self.kill_while_saving = kill_while_saving
        self.record = dict(alpha={}, lr={}, saved=[])

    def before_run(self, runner) -> None:
        put, record, victim = LocalBackend.put, self.record, \
            self.kill_while_saving

        def recording_put(backend, obj, filepath):
            if str(filepath).endswith('.pth'):
                record['saved'].append(osp.basename(filepath))
                if osp.basename(filepath) == victim:
                    with open(filepath, 'wb') as f:
                        f.write(obj[:len(obj) // 2])
                        f.flush()
                    _sigkill()
            return put(backend, obj, filepath)

        LocalBackend.put = recording_put

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if self.kill_at_iter == runner.iter + 1:
            _sigkill()

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        it = str(runner.iter + 1)
        # ALW alpha: the scale ALWHook gives the supervised loss items
        scales = model.loss_scales
        self.record['alpha'][it] = None if scales is None else scales[0]
        self.record['lr'][it] = runner.optim_wrapper.get_lr()['lr'][0]

    def after_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        synced = getattr(runner.model, '_module_parameters', None)
        if synced is not None:
            ids = {id(p) for p in synced}
            synced = [n for n, p in model.named_parameters() if id(p) in ids]
        self.record.update(
            wrapper=type(runner.model).__name__,
            ddp_parameters=synced,
            teacher_grads=any(p.grad is not None
                              for p in model.teacher.parameters()),
            student_checksum=sum(p.double().sum().item()
                                 for n, p in model.named_parameters()
                                 if not n.startswith('teacher.')),
            teacher_checksum=sum(p.double().sum().item()
                                 for p in model.teacher.state_dict().values()
                                 if torch.is_floating_point(p)))
        with open(osp.join(self.out_dir, f'probe_rank{get_rank()}.json'),
                  'w') as f:
            json.dump(self.record, f)
