# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Benchmark one ``DistillEncoderDecoder`` training step against the sum
of its parts, measured in the same run.

Parts (DeepLabV3+ R18-D8 student, the AICSD config's teacher):

- ``student``: the student's own training step, ``train_step`` of a
  stand-alone ``EncoderDecoder`` with the same weights (preprocessing,
  forward, CE losses, backward, SGD update).
- ``teacher``: the teacher's forward without grad on the preprocessed
  batch, as ``DistillEncoderDecoder.loss`` runs it.
- ``distill``: the ``DistillEncoderDecoder`` training step (ALW alpha set
  to 0.5, so the ALW weighting runs too).

The overhead, ``distill - student - teacher``, is what distillation adds
beyond the teacher's forward (the distillation losses and their backward,
ALW, bookkeeping), as a percentage of the student step. It also times the
distillation losses alone (forward + backward at the logits' shape), which
is the overhead measured directly rather than as a difference.

Memory per part: peak extra tensor memory during one call above what is
allocated before it (``torch.profiler`` on the CPU, ``max_memory_allocated``
on CUDA; see ``bench_utils``).

Examples::

    python -m benchmarks.distill_step --setting camvid
    python -m benchmarks.distill_step --setting cityscapes --parts student \\
        --min-run-time 30
    python -m benchmarks.distill_step --setting camvid --teacher-dtype bfloat16
"""
import argparse

import torch
from mmengine.optim import build_optim_wrapper

from benchmarks import bench_models, bench_utils
from mmseg_aicsd.engine.hooks import set_alw_alpha
from mmseg_aicsd.models.distillers import teacher_forward

PARTS = ('student', 'teacher', 'distill')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    bench_utils.add_common_args(parser, min_run_time=15.0)
    parser.add_argument(
        '--setting',
        choices=list(bench_models.SETTINGS),
        default='camvid',
        help='camvid: batch 4 at 180x240; cityscapes: batch 2 at 512x1024')
    parser.add_argument(
        '--parts',
        nargs='+',
        choices=PARTS,
        default=list(PARTS),
        help='what to measure (all three for the overhead)')
    parser.add_argument(
        '--no-memory', action='store_true', help='skip the memory columns')
    parser.add_argument(
        '--teacher-dtype',
        choices=['float32', 'bfloat16', 'float16'],
        default='float32',
        help='DistillEncoderDecoder(teacher_dtype=...): the teacher forward '
        'under autocast in this dtype (teacher and distill parts)')
    return parser.parse_args()


def make_calls(models, cfg, batch):
    """One zero-argument callable per part."""
    calls = {}
    for name in ('student', 'distill'):
        if name in models:
            model = models[name]
            model.train()
            optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
            calls[name] = (
                lambda m=model, o=optim_wrapper: m.train_step(batch, o))
    if 'distill' in models:
        set_alw_alpha(models['distill'], 0.5)
    if 'teacher' in models:
        teacher = models['teacher']
        preprocessor = (models.get('distill')
                        or models['teacher']).data_preprocessor
        inputs = preprocessor(batch, True)['inputs']

        def teacher_call():
            # as DistillEncoderDecoder runs it, teacher_dtype included
            with torch.no_grad():
                if 'distill' in models:
                    distill = models['distill']
                    return teacher_forward(
                        distill.teacher, inputs, distill.teacher_dtype,
                        distill.distill_loss_set.teacher_recorder)
                return teacher(inputs, mode='tensor')

        calls['teacher'] = teacher_call
    return calls


def distill_losses_call(distill, batch):
    """Forward + backward of all distillation losses at the logits' shape,
    on random logits of that shape."""
    inputs = distill.data_preprocessor(batch, True)['inputs']
    with torch.no_grad():
        teacher = distill.teacher(inputs, mode='tensor')
    student = torch.randn_like(teacher).requires_grad_()

    def call():
        loss = sum(
            fn(student, teacher) for fn in distill.distill_losses.values())
        return torch.autograd.grad(loss, student)

    return call, tuple(teacher.shape)


def main() -> None:
    args = parse_args()
    device = bench_utils.setup(args)
    setting = bench_models.SETTINGS[args.setting]
    batch_size, crop = bench_models.batch_and_crop(args.setting, args.quick)
    cfg = bench_models.load_config(args.setting, crop)
    cfg.model.teacher_dtype = args.teacher_dtype
    parts = [part for part in PARTS if part in args.parts]
    models = bench_models.build_models(cfg, device, parts)
    batch = bench_models.synthetic_batch(batch_size, crop,
                                         cfg.model.decode_head.num_classes)
    calls = make_calls(models, cfg, batch)

    print('\n'.join(bench_utils.environment(device)))
    print(f'setting: {args.setting}, config {setting["config"]}, batch '
          f'{batch_size} at {crop[0]}x{crop[1]}, teacher_dtype '
          f'{args.teacher_dtype}')
    times, rows = {}, {}
    for name in parts:
        m = bench_utils.measure(calls[name], args.min_run_time, warmup=2)
        times[name] = m.median
        rows[name] = [name, f'{m.median:.3f}', f'{m.iqr:.3f}', len(m.times)]
    headers = ['part', 'median s', 'IQR s', 'runs']
    if not args.no_memory:
        headers.append('peak extra MiB')
        for name in parts:
            rows[name].append(
                bench_utils.mib(
                    bench_utils.peak_extra_memory(
                        calls[name], device, warmup=False)))
    bench_utils.print_table(headers, list(rows.values()),
                            'time and memory per part')

    if set(PARTS) <= set(times):
        losses, shape = distill_losses_call(models['distill'], batch)
        t_losses = bench_utils.measure(losses, 1.0).median
        overhead = times['distill'] - times['student'] - times['teacher']
        student = times['student']
        bench_utils.print_table(['quantity', 's', '% of student step'], [
            [
                'distill - student - teacher', f'{overhead:.3f}',
                f'{100 * overhead / student:.1f}'
            ],
            [
                f'distillation losses alone, fwd+bwd, logits {shape}',
                f'{t_losses:.4f}', f'{100 * t_losses / student:.2f}'
            ],
            [
                'teacher forward', f'{times["teacher"]:.3f}',
                f'{100 * times["teacher"] / student:.1f}'
            ],
        ], 'overhead of distillation beyond the teacher forward')


if __name__ == '__main__':
    main()
