# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Adaptive loss weighting (ALW) of AICSD, Eq. 6-8."""
import logging
import math
from typing import Dict, Optional, Sequence, Tuple

from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import EpochBasedTrainLoop

from mmseg.registry import HOOKS

ALW_SCHEDULES = ('linear', 'exp', 'exp_printed')


def alw_alpha(epoch: int,
              num_epochs: float,
              schedule: str = 'linear',
              beta: float = 0.985) -> float:
    """ALW weight alpha of the student's own losses at a given epoch.

    The total loss is ``alpha * (l_CE + l_ICSD) + (1 - alpha) * l_KD``
    (Eq. 6); alpha rises over training so the teacher's pixel-wise
    guidance fades:

    - ``'linear'`` (Eq. 7): ``(epoch - 1) / num_epochs``: 0 in the first
      epoch (pure KD), ``(N_e - 1) / N_e`` in the last.
    - ``'exp'``: ``1 - beta ** (epoch - 1)``. The paper prints
      ``beta ** (epoch - 1)``, which falls from 1, while its text and Fig. 2
      say alpha rises; this follows the text.
    - ``'exp_printed'``: ``beta ** (epoch - 1)``, the formula as printed,
      to test the paper literally.

    Args:
        epoch (int): Current epoch, 1-indexed (1 <= epoch).
        num_epochs (float): Number of epochs N_e of the run, > 0; may be
            fractional for iteration-based runs.
        schedule (str): One of ``'linear'``, ``'exp'``, ``'exp_printed'``.
            Defaults to ``'linear'``.
        beta (float): Base of the exponential schedules, in (0, 1).
            Defaults to 0.985 (the paper's).

    Returns:
        float: alpha, dimensionless, in [0, 1].

    Raises:
        ValueError: On an unknown schedule, ``epoch < 1``,
            ``num_epochs <= 0`` or ``beta`` outside (0, 1).
    """
    if schedule not in ALW_SCHEDULES:
        raise ValueError(f'unknown ALW schedule {schedule!r}; expected one '
                         f'of {ALW_SCHEDULES}')
    if epoch < 1:
        raise ValueError(f'epoch is 1-indexed, got {epoch}')
    if num_epochs <= 0:
        raise ValueError(f'num_epochs must be positive, got {num_epochs}')
    if not 0 < beta < 1:
        raise ValueError(f'beta must be in (0, 1), got {beta}')
    if schedule == 'linear':
        return min((epoch - 1) / num_epochs, 1.0)
    if schedule == 'exp':
        return 1.0 - beta**(epoch - 1)
    return beta**(epoch - 1)


def alw_loss_scales(
        alpha: float,
        kd_losses: Sequence[str]) -> Tuple[float, Dict[str, float]]:
    """The scale of each loss item under ALW (AICSD Eq. 6).

    ``L = alpha * (l_CE + l_ICSD) + (1 - alpha) * l_KD``: the items named in
    ``kd_losses`` are scaled by ``1 - alpha``, every other loss item (the
    decode and auxiliary heads' supervised losses, the other distillation
    losses) by ``alpha``.

    Args:
        alpha (float): ALW alpha, dimensionless, in [0, 1].
        kd_losses (Sequence[str]): Loss item names on the ``(1 - alpha)``
            side (``model.alw_kd_losses``).

    Returns:
        tuple[float, dict[str, float]]: The scale of every loss item not in
        the dict, and the scales by item name.

    Raises:
        ValueError: If alpha is outside [0, 1].
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f'ALW alpha must be in [0, 1], got {alpha}')
    alpha = float(alpha)
    return alpha, {name: 1.0 - alpha for name in kd_losses}


def set_alw_alpha(model, alpha: float) -> None:
    """Tell ``model`` (a ``DistillEncoderDecoder``) the loss scales of ALW
    alpha (:func:`alw_loss_scales` of its ``alw_kd_losses``).

    Raises:
        ValueError: If alpha is outside [0, 1].
    """
    model.set_loss_scales(*alw_loss_scales(alpha, model.alw_kd_losses))


def _warn(message: str) -> None:
    print_log(message, logger='current', level=logging.WARNING)


@HOOKS.register_module()
class ALWHook(Hook):
    """Set the ALW alpha (AICSD Eq. 6-8) on the model before each iteration.

    alpha is a function of the runner's progress alone (see
    :func:`alw_alpha`), so the hook has no state to save and a resumed run
    continues on the curve of an uninterrupted one. It is logged every
    iteration as ``alw_alpha``.

    - ``EpochBasedTrainLoop``: epoch ``e = runner.epoch + 1`` of
      ``N_e = runner.max_epochs``.
    - Any other loop (mmseg's schedules use ``IterBasedTrainLoop``): an
      "epoch" is ``iters_per_epoch`` iterations, by default one pass over
      the training set (``ceil(len(dataset) / (batch_size * world_size))``),
      so ``e = runner.iter // iters_per_epoch + 1`` and
      ``N_e = max_iters / iters_per_epoch``.

    The hook holds Eq. 6 (:func:`alw_loss_scales`); the model (unwrapped
    from DDP) provides ``alw_kd_losses`` and ``set_loss_scales(default,
    scales)`` and multiplies its loss items accordingly, as
    :class:`~mmseg_aicsd.models.segmentors.DistillEncoderDecoder` does.

    Args:
        schedule (str): ``'linear'``, ``'exp'`` or ``'exp_printed'``; see
            :func:`alw_alpha`. Defaults to ``'linear'``.
        beta (float): Base of the exponential schedules. Defaults to 0.985.
        iters_per_epoch (int, optional): Iterations per ALW epoch for
            iteration-based loops. Defaults to None (one pass over the
            training set).

    At ``before_train`` it warns (once; a short trial run may mean it)
    if alpha would keep its first-epoch value for the whole run (an ALW
    epoch at least as long as the run: CE and ICSD then get weight 0
    throughout), and if a batch is larger than the training set (images
    repeat in each batch, and an ALW epoch is one iteration).

    Raises:
        ValueError: On an unknown schedule, a beta outside (0, 1) or a
            non-positive ``iters_per_epoch``.
        TypeError: At ``before_train``, if the model has no
            ``set_loss_scales`` or ``alw_kd_losses``.
    """

    priority = 'NORMAL'

    def __init__(self,
                 schedule: str = 'linear',
                 beta: float = 0.985,
                 iters_per_epoch: Optional[int] = None):
        alw_alpha(1, 1, schedule, beta)  # validate schedule and beta early
        if iters_per_epoch is not None and iters_per_epoch < 1:
            raise ValueError('iters_per_epoch must be a positive integer, '
                             f'got {iters_per_epoch}')
        self.schedule = schedule
        self.beta = beta
        self.iters_per_epoch = iters_per_epoch

    @staticmethod
    def _model(runner):
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def before_train(self, runner) -> None:
        """Check the model, fix the iteration-based epoch length, and warn
        of a constant alpha or a batch larger than the dataset."""
        model = self._model(runner)
        if not (hasattr(model, 'set_loss_scales')
                and hasattr(model, 'alw_kd_losses')):
            raise TypeError(
                'ALWHook needs a model with set_loss_scales(default, scales) '
                'and alw_kd_losses, such as DistillEncoderDecoder; got '
                f'{type(model)}')
        loader = runner.train_dataloader
        per_step = loader.batch_size * get_world_size()
        if per_step > len(loader.dataset):
            _warn(f'train_dataloader.batch_size={loader.batch_size} x '
                  f'{get_world_size()} processes is more than the '
                  f'{len(loader.dataset)} training images: every batch '
                  'repeats images, and an ALW epoch (one pass) is one '
                  'iteration. Lower train_dataloader.batch_size to at most '
                  f'{max(1, len(loader.dataset) // get_world_size())}, or '
                  'add images.')
        if isinstance(runner.train_loop, EpochBasedTrainLoop):
            if runner.max_epochs <= 1:
                self._warn_constant_alpha(f'max_epochs={runner.max_epochs}',
                                          'train_cfg.max_epochs >= 2')
            return
        if self.iters_per_epoch is None:
            self.iters_per_epoch = math.ceil(len(loader.dataset) / per_step)
        if self.iters_per_epoch >= runner.max_iters:
            self._warn_constant_alpha(
                f'an ALW epoch of {self.iters_per_epoch} iterations and '
                f'max_iters={runner.max_iters}',
                'ALWHook iters_per_epoch below max_iters, e.g. custom_hooks '
                f"= [dict(type='ALWHook', iters_per_epoch="
                f'{max(1, runner.max_iters // 10)})]')

    def _warn_constant_alpha(self, why: str, fix: str) -> None:
        alpha = alw_alpha(1, 1, self.schedule, self.beta)
        zero = ('the losses other than alw_kd_losses (CE, ICSD)'
                if alpha == 0 else 'the alw_kd_losses (KD)')
        _warn(f'ALWHook: with {why}, the whole run is in the first ALW '
              f'epoch, so alpha stays {alpha:g} and {zero} get weight 0 '
              f'throughout. Set {fix}, or remove ALWHook to weight the '
              'losses by their loss_weight alone.')

    def current_alpha(self, runner) -> float:
        """alpha at the runner's current iteration (dimensionless)."""
        if isinstance(runner.train_loop, EpochBasedTrainLoop):
            epoch, num_epochs = runner.epoch + 1, runner.max_epochs
        else:
            epoch = runner.iter // self.iters_per_epoch + 1
            num_epochs = runner.max_iters / self.iters_per_epoch
        return alw_alpha(epoch, num_epochs, self.schedule, self.beta)

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch=None) -> None:
        """Set the loss scales of alpha on the model and log alpha as
        ``alw_alpha``."""
        alpha = self.current_alpha(runner)
        set_alw_alpha(self._model(runner), alpha)
        runner.message_hub.update_scalar('train/alw_alpha', alpha)
