# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Evaluate the frozen teacher once and log its metrics beside the
student's."""
from typing import Dict, Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import autocast

from mmseg.registry import HOOKS


def _is_scalar(value) -> bool:
    """Whether mmengine's RuntimeInfoHook logs ``value`` as a scalar."""
    if isinstance(value, np.ndarray):
        return value.size == 1
    if isinstance(value, torch.Tensor):
        return value.numel() == 1
    return isinstance(value, (int, float, np.number))


@HOOKS.register_module()
class TeacherEvalHook(Hook):
    """Log the frozen teacher's validation metrics beside the student's.

    What and when: at the first validation of a process, once the student's
    metrics are computed, the teacher (``model.teacher``, unwrapped from
    DDP) runs over ``runner.val_dataloader`` and the run's val evaluator
    scores it. The teacher is frozen, so its metrics are computed once and
    kept; at that and every later validation they are logged as
    ``<prefix>/<metric>`` (``teacher/aAcc``, ``teacher/mIoU``,
    ``teacher/mAcc`` with mmseg's ``IoUMetric``): in the val log line and in
    ``vis_data/scalars.json`` at the same step as the student's ``mIoU``.

    How: in ``after_val_epoch``, the hook puts them in the message hub as
    ``val/<prefix>/<metric>``, beside the ``val/<metric>`` scalars that
    ``RuntimeInfoHook`` (``'VERY_HIGH'``) copies from the student's
    ``metrics``; the stock ``LoggerHook`` (``'BELOW_NORMAL'``) then writes
    all ``val/`` scalars of the message hub. The hook's priority must thus
    stay above ``'BELOW_NORMAL'``. The ``metrics`` dict is left as it is:
    ``CheckpointHook(save_best=...)``, ``EarlyStoppingHook`` and
    ``ReduceOnPlateau`` schedulers follow the student alone.

    - Evaluator: the run's, reused: ``ValLoop`` calls
      ``evaluator.evaluate``, which empties it, before ``after_val_epoch``.
      With several processes, each runs the teacher on its shard and
      ``evaluate`` collects the results across them, as for the student.
    - The teacher runs through its own ``val_step`` (its data preprocessor
      and ``test_cfg``), as ``tools/test.py`` runs it with the teacher's
      config, in the val loop's precision (``fp16``), and calls no other
      hook: no visualisation, no per-iteration log. The global torch
      random state is restored after it, so the student trains exactly as
      without this hook.
    - Cost: one teacher forward pass over the validation set per process.
    - Resume: the metrics live in the hook, so after ``--resume`` the
      teacher is evaluated again at the first validation of the resumed
      process.

    Enable it in the config beside the ALW hook::

        custom_hooks = [
            dict(type='ALWHook', schedule='linear'),
            dict(type='TeacherEvalHook'),
        ]

    Args:
        prefix (str): Prefix of the teacher's metric names.
            Defaults to ``'teacher'``.

    Raises:
        ValueError: If ``prefix`` is empty.
        TypeError: At ``before_run``, if the model (unwrapped from DDP) has
            no ``teacher`` segmentor with ``val_step``, as
            :class:`~mmseg_aicsd.models.segmentors.DistillEncoderDecoder`
            has.
    """

    priority = 'NORMAL'

    def __init__(self, prefix: str = 'teacher'):
        if not prefix:
            raise ValueError('prefix must be a non-empty string')
        self.prefix = prefix
        self.teacher_metrics: Optional[Dict[str, float]] = None

    @staticmethod
    def _model(runner):
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def before_run(self, runner) -> None:
        """Check that the model has a teacher."""
        teacher = getattr(self._model(runner), 'teacher', None)
        if not callable(getattr(teacher, 'val_step', None)):
            raise TypeError(
                'TeacherEvalHook needs a model with a teacher segmentor '
                '(model.teacher with val_step), such as '
                f'DistillEncoderDecoder; got {type(self._model(runner))}')

    def after_val_epoch(self,
                        runner,
                        metrics: Optional[Dict[str, float]] = None) -> None:
        """Evaluate the teacher at the first validation, then put its
        metrics in the message hub for the LoggerHook."""
        if self.teacher_metrics is None:
            self.teacher_metrics = self._evaluate_teacher(runner)
        for name, value in self.teacher_metrics.items():
            key = f'val/{self.prefix}/{name}'
            if _is_scalar(value):
                runner.message_hub.update_scalar(key, value)
            else:
                runner.message_hub.update_info(key, value)

    @torch.no_grad()
    def _evaluate_teacher(self, runner) -> dict:
        """The teacher's metrics on the validation set."""
        teacher = self._model(runner).teacher
        val_loop = runner.val_loop
        dataloader, evaluator = val_loop.dataloader, val_loop.evaluator
        print_log(
            f'Evaluating the teacher on the {len(dataloader.dataset)} '
            'validation images (once: it is frozen)',
            logger='current')
        # Iterating a DataLoader draws its base seed from the global torch
        # generator: keep the student's random stream (dropout, ...) as it
        # would be without this hook.
        with torch.random.fork_rng(devices=[]):
            for data_batch in dataloader:
                with autocast(enabled=getattr(val_loop, 'fp16', False)):
                    outputs = teacher.val_step(data_batch)
                evaluator.process(data_samples=outputs, data_batch=data_batch)
        return evaluator.evaluate(len(dataloader.dataset))
