# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Stop, or skip, a training step whose loss is NaN or inf."""
import logging
from typing import Callable, Dict, Iterable, Optional, Tuple

import torch
from mmengine.dist import all_reduce
from mmengine.logging import MessageHub, print_log
from torch import Tensor


class NonFiniteLossGuard:
    """Refuse non-finite loss items before they reach the optimizer.

    A NaN or inf in any loss item would otherwise reach the optimizer and
    silently corrupt the weights (the next checkpoint too). With several
    processes, one flag is all-reduced so that all of them raise or skip
    together (the others would wait forever in DDP's gradient all-reduce).

    Args:
        buffers (callable): Returns the buffers a forward moves and a
            skipped step must restore (the student's BatchNorm statistics),
            in a fixed order.
        skip (bool): False (default): raise ``FloatingPointError``. True:
            log a warning and skip the step: :meth:`before_forward`'s
            buffers are restored and the loss becomes a zero unconnected to
            the parameters, so with no gradients the optimizer leaves
            every parameter and its state unchanged (not with
            ``AmpOptimWrapper``, whose scaler needs gradients and skips
            overflowed steps by itself). After :attr:`MAX_SKIPS_IN_A_ROW`
            skipped steps in a row it raises all the same: such a run
            would exit 0 without having trained.
    """

    # skipped steps in a row after which a skipping run stops: an
    # occasional bad batch is skipped, a teacher giving NaN is not a run
    MAX_SKIPS_IN_A_ROW = 10

    def __init__(self,
                 buffers: Callable[[], Iterable[Tensor]],
                 skip: bool = False):
        self.buffers = buffers
        self.skip = skip
        self._saved: Optional[list] = None
        self._skipped_in_a_row = 0

    def before_forward(self) -> None:
        """Keep the buffers to undo a skipped step (only if ``skip``)."""
        if self.skip:
            self._saved = [b.clone() for b in self.buffers()]

    def __call__(
            self, loss: Tensor,
            log_vars: Dict[str, Tensor]) -> Tuple[Tensor, Dict[str, Tensor]]:
        """Check the parsed losses of mmengine's ``parse_losses``.

        Args:
            loss (Tensor): The scalar to optimise.
            log_vars (dict[str, Tensor]): The logged items; those whose
                name has ``'loss'`` are checked (mmengine sums those).

        Returns:
            tuple[Tensor, dict[str, Tensor]]: ``loss`` (or, for a skipped
            step, a zero with ``requires_grad``) and ``log_vars``.

        Raises:
            FloatingPointError: If an item is NaN or inf (on any process)
                and ``skip`` is False, or for the
                :attr:`MAX_SKIPS_IN_A_ROW`-th step in a row if it is True;
                the message names the items and the iteration.
        """
        # the optimised items (mmengine sums those), not logged metrics
        names = [name for name in log_vars if 'loss' in name]
        values = torch.stack(
            [log_vars[name].detach().float() for name in names])
        flag = (~torch.isfinite(values)).any().float()
        all_reduce(flag)
        if not flag.item():
            self._skipped_in_a_row = 0
            return loss, log_vars
        nonfinite = {
            name: value.item()
            for name, value in zip(names, values)
            if name != 'loss' and not torch.isfinite(value)
        }
        it = MessageHub.get_current_instance().get_info('iter')
        where = 'outside a training loop' if it is None \
            else f'at iteration {it + 1}'
        what = (', '.join(f'{name}={value}'
                          for name, value in nonfinite.items())
                or 'on another process')
        if not self.skip:
            raise FloatingPointError(
                f'non-finite loss {where}: {what}. Stopped before the '
                'optimizer step, so the weights and the last checkpoint are '
                'intact. Usual causes: a teacher that outputs NaN/inf (check '
                'teacher_ckpt), a too-high learning rate, fp16 overflow. Set '
                'model.skip_nonfinite_loss=True to skip such steps instead.')
        self._skipped_in_a_row += 1
        if self._skipped_in_a_row >= self.MAX_SKIPS_IN_A_ROW:
            raise FloatingPointError(
                f'non-finite loss {where}: {what}, the '
                f'{self._skipped_in_a_row}th step in a row; '
                'skip_nonfinite_loss=True skips occasional bad steps, but '
                'this run is not training. Stopped before the optimizer '
                'step; fix the cause (a teacher that outputs NaN/inf: check '
                'teacher_ckpt; a too-high learning rate; fp16 overflow) and '
                '--resume.')
        print_log(
            f'non-finite loss {where}: {what}; step skipped '
            '(skip_nonfinite_loss=True)',
            logger='current',
            level=logging.WARNING)
        if self._saved is not None:
            for buf, saved in zip(self.buffers(), self._saved):
                # a buffer allocated or grown in the forward (a loss's
                # memory bank, CIRKDMemoryLoss) keeps its new content
                if buf.shape == saved.shape:
                    buf.copy_(saved)
        return loss.new_zeros((), requires_grad=True), log_vars
