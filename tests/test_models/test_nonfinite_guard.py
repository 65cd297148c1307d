# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""NonFiniteLossGuard with skip=True: occasional bad steps are skipped,
a run whose every step is non-finite stops at the 10th in a row."""
import pytest
import torch
from mmengine.logging import MessageHub

from mmseg_aicsd.models.utils import NonFiniteLossGuard


def step(guard, value, it):
    MessageHub.get_current_instance().update_info('iter', it)  # 0-based
    loss = torch.tensor(value)
    return guard(loss, dict(loss=loss, loss_kd=loss))


def test_nan_every_step_stops_the_run():
    guard = NonFiniteLossGuard(lambda: [], skip=True)
    for it in range(9):  # skipped: a zero loss the optimizer cannot use
        loss, _ = step(guard, float('nan'), it)
        assert loss.item() == 0.0 and loss.requires_grad
    with pytest.raises(
            FloatingPointError,
            match=r'^non-finite loss at iteration 10: loss_kd=nan, the 10th '
            r'step in a row; skip_nonfinite_loss=True skips occasional bad '
            r'steps, but this run is not training\..*check teacher_ckpt'):
        step(guard, float('nan'), 9)


def test_a_finite_step_restarts_the_count():
    guard = NonFiniteLossGuard(lambda: [], skip=True)
    for it in range(9):
        step(guard, float('inf'), it)
    loss, _ = step(guard, 1.5, 9)
    assert loss.item() == 1.5
    for it in range(10, 19):  # 9 more in a row: still skipped
        assert step(guard, float('nan'), it)[0].item() == 0.0
    with pytest.raises(FloatingPointError, match='iteration 20: .*10th'):
        step(guard, float('nan'), 19)
