# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""The GPU check: step times, peak memory and finite losses of the
Cityscapes AICSD config under each precision a GPU user may choose, in one
command of a few minutes.

Three tables:

1. ``steps``: the training step of the student alone and of
   ``DistillEncoderDecoder`` with the teacher in float32, bfloat16 and
   float16 (``teacher_dtype``), each with mmengine's ``OptimWrapper``
   (float32 student) and ``AmpOptimWrapper`` (float16 autocast and loss
   scaling for the student): median time, peak extra memory, and whether
   every loss item of the last step is finite.
2. ``ICSD``: ``ICSDLoss`` forward and forward + backward at the
   shape of the student's logits (Cityscapes: (2, 19, 128, 256), the
   DeepLabV3+ head's output stride being 4).
3. ``run``: 20 iterations (``--iters``) of the AICSD config with
   ``AmpOptimWrapper`` and a float16 teacher on synthetic images, ALW
   alpha rising from 0 to 1, every loss item of every iteration checked
   finite.

On a CPU (``--device cpu``, what ``--quick`` is for) ``AmpOptimWrapper``
cannot be built (it needs an accelerator); its rows then run the same
``optim_context`` path under mmengine's ``autocast`` in bfloat16, and
float16 rows are skipped. The figures a CPU prints say nothing about a
GPU. ``--quick`` also takes 32x32 crops, the student's network (R18) as
the teacher and 3 iterations instead of 20: on a CPU without native bfloat16 a
bfloat16 step is 15-20 times slower, and the R101 teacher's outlasted the
tests' time limit.

Examples::

    python -m benchmarks.gpu_check --device cuda
    python -m benchmarks.gpu_check --quick --threads 1   # the tests' check

Exits with status 1 if any loss was not finite.
"""
import argparse
import math
import sys
from contextlib import contextmanager
from typing import Callable, Dict, List, Tuple

import torch
from mmengine.optim import OptimWrapper, build_optim_wrapper
from mmengine.runner import autocast
from torch import nn

from benchmarks import bench_models, bench_utils
from mmseg_aicsd.engine.hooks import set_alw_alpha
from mmseg_aicsd.models.losses import ICSDLoss

RUN_ITERS = 20
QUICK_ITERS = 3


class CPUAutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose ``optim_context`` autocasts to bfloat16 on the
    CPU: ``AmpOptimWrapper``'s forward path where it cannot be built (no
    loss scaling, which bfloat16 does not need)."""

    @contextmanager
    def optim_context(self, model):
        with super().optim_context(model), autocast(
                device_type='cpu', dtype=torch.bfloat16):
            yield


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    bench_utils.add_common_args(parser, min_run_time=3.0)
    parser.add_argument(
        '--iters',
        type=int,
        help=f'AMP iterations of the run (default {RUN_ITERS}, '
        f'{QUICK_ITERS} with --quick)')
    args = parser.parse_args()
    if args.iters is None:
        args.iters = QUICK_ITERS if args.quick else RUN_ITERS
    return args


def optim_wrapper(model, cfg, amp: bool, device: torch.device):
    """mmengine's optimizer wrapper of ``cfg``: ``AmpOptimWrapper`` (float16)
    with ``amp`` on an accelerator, :class:`CPUAutocastOptimWrapper` with
    ``amp`` on the CPU, else the config's own."""
    wrapper_cfg = cfg.optim_wrapper.copy()
    if amp and device.type != 'cpu':
        wrapper_cfg.update(type='AmpOptimWrapper', dtype='float16')
    wrapper = build_optim_wrapper(model, wrapper_cfg)
    if amp and device.type == 'cpu':
        wrapper = CPUAutocastOptimWrapper(
            wrapper.optimizer, clip_grad=wrapper.clip_grad_kwargs or None)
    return wrapper


def finite(log_vars: Dict[str, torch.Tensor]) -> bool:
    """Whether every loss item is a finite number."""
    return all(math.isfinite(float(v)) for v in log_vars.values())


def step_cases(device: torch.device) -> List[Tuple[str, str, bool]]:
    """(name, teacher dtype or '' for the student alone, amp) per row."""
    dtypes = ['float32', 'bfloat16']
    if device.type != 'cpu':
        dtypes.append('float16')
    cases = [('student', '', False), ('student, AMP', '', True)]
    for amp in (False, True):
        for dtype in dtypes:
            cases.append(
                (f'distill, teacher {dtype}' + (', AMP' if amp else ''), dtype,
                 amp))
    return cases


def time_steps(cfg, device, batch,
               min_run_time) -> Tuple[List[list], bool, Dict[str, nn.Module]]:
    """The ``steps`` table's rows, whether all their losses were finite,
    and the models built."""
    rows, all_finite = [], True
    models = None
    for name, dtype, amp in step_cases(device):
        if models is None:
            models = bench_models.build_models(cfg, device)
        model = models['student' if not dtype else 'distill']
        if dtype:
            model.teacher_dtype = (None if dtype == 'float32' else getattr(
                torch, dtype))
            set_alw_alpha(model, 0.5)
        model.train()
        wrapper = optim_wrapper(model, cfg, amp, device)
        last = {}

        def call(m=model, o=wrapper):
            last.update(m.train_step(batch, o))

        m = bench_utils.measure(call, min_run_time, warmup=2)
        peak = bench_utils.peak_extra_memory(call, device, warmup=False)
        ok = finite(last)
        all_finite &= ok
        rows.append([name, f'{m.median:.3f}', bench_utils.mib(peak), ok])
    return rows, all_finite, models


def logit_shape(model: nn.Module, batch: dict) -> Tuple[int, ...]:
    """(B, C, H, W) of the logits ``model``'s decode head gives for
    ``batch``."""
    with torch.no_grad():
        inputs = model.data_preprocessor(batch, False)['inputs']
        return tuple(model(inputs, mode='tensor').shape)


def icsd_rows(device, shape, min_run_time) -> List[list]:
    """``ICSDLoss`` forward and forward + backward at ``shape``."""
    torch.manual_seed(0)
    teacher = torch.randn(shape, device=device)
    student = torch.randn(shape, device=device, requires_grad=True)
    loss = ICSDLoss()
    calls: Dict[str, Callable] = {
        'forward':
        lambda: loss(student.detach(), teacher),
        'forward + backward':
        lambda: torch.autograd.grad(loss(student, teacher), student),
    }
    rows = []
    for name, call in calls.items():
        m = bench_utils.measure(call, min_run_time, warmup=1)
        peak = bench_utils.peak_extra_memory(call, device, warmup=False)
        rows.append([name, f'{m.median * 1e3:.1f}', bench_utils.mib(peak)])
    return rows


def amp_run(cfg,
            device,
            batch_size,
            crop,
            iters=RUN_ITERS) -> Tuple[List[list], List[str]]:
    """``iters`` AMP iterations on fresh synthetic batches, ALW alpha from
    0 to 1: one row per iteration with its loss items, and the items'
    names."""
    model = bench_models.build_models(cfg, device, ['distill'])['distill']
    model.teacher_dtype = (
        torch.float16 if device.type != 'cpu' else torch.bfloat16)
    model.train()
    wrapper = optim_wrapper(model, cfg, True, device)
    num_classes = cfg.model.decode_head.num_classes
    rows = []
    for i in range(iters):
        set_alw_alpha(model, i / max(iters - 1, 1))
        batch = bench_models.synthetic_batch(
            batch_size, crop, num_classes, seed=i)
        log_vars = model.train_step(batch, wrapper)
        rows.append([i, finite(log_vars)] +
                    [f'{float(v):.4g}' for v in log_vars.values()])
    return rows, list(log_vars)


def main() -> int:
    args = parse_args()
    device = bench_utils.setup(args)
    batch_size, crop = bench_models.batch_and_crop('cityscapes', args.quick)
    if args.quick:
        crop = (32, 32)  # logits 4x4: BatchNorm still sees > 1 value
    cfg = bench_models.load_config('cityscapes', crop)
    if args.quick:
        cfg.model.teacher = bench_models.student_config(cfg)
    num_classes = cfg.model.decode_head.num_classes
    batch = bench_models.synthetic_batch(batch_size, crop, num_classes)
    print('\n'.join(bench_utils.environment(device)))
    print(f'config {bench_models.SETTINGS["cityscapes"]["config"]}, batch '
          f'{batch_size} at {crop[0]}x{crop[1]}' +
          (', teacher: the student\'s network' if args.quick else ''))

    rows, steps_finite, models = time_steps(cfg, device, batch,
                                            args.min_run_time)
    bench_utils.print_table(
        ['step', 'median s', 'peak extra MiB', 'losses finite'], rows,
        'steps (AMP: AmpOptimWrapper float16'
        f'{"; on the CPU, bfloat16 autocast" if device.type == "cpu" else ""}'
        ')')

    shape = logit_shape(models['student'], batch)
    bench_utils.print_table(['ICSDLoss', 'median ms', 'peak extra MiB'],
                            icsd_rows(device, shape, args.min_run_time),
                            f'ICSD at logits {shape}')

    run_rows, names = amp_run(cfg, device, batch_size, crop, args.iters)
    run_finite = all(row[1] for row in run_rows)
    bench_utils.print_table(['iter', 'finite'] + names, run_rows,
                            f'{len(run_rows)} AMP iterations')
    ok = steps_finite and run_finite
    print(f'\nall losses finite: {ok}')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
