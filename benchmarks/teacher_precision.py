# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Benchmark the teacher's forward in float32 against autocast (bfloat16
on the CPU; float16 and bfloat16 on CUDA), and how much the distillation
losses change when the teacher logits come from autocast.

For each precision: the teacher's no-grad forward time and peak extra
tensor memory (see ``bench_utils``), and against the float32 teacher:

- ``logits rel. diff``: ``||T_amp - T_fp32|| / ||T_fp32||``;
- ``argmax agree``: share of logit positions with the same top class;
- per distillation loss of the config: ``|l(S, T_amp) - l(S, T_fp32)| /
  |l(S, T_fp32)|`` (loss rel. diff) and the same ratio of the L2 norms of
  the gradients w.r.t. the student logits S (grad rel. diff), the
  quantity that changes training. The losses always run in float32.

Student logits come from the student's float32 forward on the same
batch. Without checkpoints both networks are randomly initialised; give a
trained teacher (and student) for realistic figures, and real images with
``--images`` (a folder of images, e.g. ``data/camvid/val``).

Example::

    T=work_dirs/deeplabv3plus_r101-d16-mg124_1xb4-600_camvid-180x240
    S=work_dirs/deeplabv3plus_r18-d8_1xb4-600_camvid-180x240
    python -m benchmarks.teacher_precision --setting camvid \\
        --teacher-ckpt $T/iter_600.pth --student-ckpt $S/iter_600.pth \\
        --images data/camvid/val
"""
import argparse
import glob
import os.path as osp

import mmcv
import torch

from benchmarks import bench_models, bench_utils


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    bench_utils.add_common_args(parser, min_run_time=10.0)
    parser.add_argument(
        '--setting', choices=list(bench_models.SETTINGS), default='camvid')
    parser.add_argument('--teacher-ckpt', help='teacher weights')
    parser.add_argument('--student-ckpt', help='student weights')
    parser.add_argument(
        '--images',
        help='folder of images to use (sorted, the first '
        'batch-size ones, resized to the crop); default: random pixels')
    return parser.parse_args()


def load_batch(folder, batch_size, crop, num_classes) -> dict:
    """A synthetic batch whose images are replaced by real ones."""
    batch = bench_models.synthetic_batch(batch_size, crop, num_classes)
    files = sorted(
        glob.glob(osp.join(folder, '*.png')) +
        glob.glob(osp.join(folder, '*.jpg')))[:batch_size]
    if len(files) < batch_size:
        raise FileNotFoundError(
            f'need {batch_size} images in {folder}, found {len(files)}')
    for i, file in enumerate(files):
        img = mmcv.imresize(mmcv.imread(file), (crop[1], crop[0]))
        batch['inputs'][i] = torch.from_numpy(img).permute(2, 0, 1)
    return batch


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    """||a - b|| / ||b||, in float64."""
    a, b = a.double(), b.double()
    return ((a - b).norm() / b.norm()).item()


def loss_and_grad(loss_fn, student, teacher):
    """Loss value and its gradient w.r.t. the student logits."""
    student = student.detach().requires_grad_()
    loss = loss_fn(student, teacher)
    return loss.detach(), torch.autograd.grad(loss, student)[0]


def main() -> None:
    args = parse_args()
    device = bench_utils.setup(args)
    batch_size, crop = bench_models.batch_and_crop(args.setting, args.quick)
    cfg = bench_models.load_config(args.setting, crop)
    models = bench_models.build_models(cfg, device, ('student', 'distill'),
                                       args.teacher_ckpt, args.student_ckpt)
    student, distill = models['student'].eval(), models['distill']
    num_classes = cfg.model.decode_head.num_classes
    batch = (
        load_batch(args.images, batch_size, crop, num_classes) if args.images
        else bench_models.synthetic_batch(batch_size, crop, num_classes))
    inputs = distill.data_preprocessor(batch, True)['inputs']
    with torch.no_grad():
        student_logits = student(inputs, mode='tensor')

    dtypes = ['float32', 'bfloat16']
    if device.type == 'cuda':
        dtypes.insert(1, 'float16')
    print('\n'.join(bench_utils.environment(device)))
    print(f'setting: {args.setting}, batch {batch_size} at '
          f'{crop[0]}x{crop[1]}; teacher {args.teacher_ckpt or "random"}, '
          f'student {args.student_ckpt or "random"}, images '
          f'{args.images or "random pixels"}')
    loss_names = list(distill.distill_losses)
    rows, reference = [], None
    for name in dtypes:
        dtype = getattr(torch, name)

        def forward():
            with torch.no_grad(), torch.autocast(
                    device.type, dtype=dtype, enabled=name != 'float32'):
                return distill.teacher(inputs, mode='tensor')

        t = bench_utils.measure(forward, args.min_run_time, warmup=2).median
        peak = bench_utils.peak_extra_memory(forward, device, warmup=False)
        logits = forward()
        results = {
            loss: loss_and_grad(fn, student_logits, logits)
            for loss, fn in distill.distill_losses.items()
        }
        row = [
            f'{name}' + ('' if name == 'float32' else ' autocast'), f'{t:.3f}',
            bench_utils.mib(peak)
        ]
        if reference is None:
            reference = logits, results
            row += ['-', '-']
            row += [f'{results[loss][0].item():.4g}' for loss in loss_names]
        else:
            ref_logits, ref_results = reference
            agree = (logits.argmax(1) == ref_logits.argmax(1)).double()
            row += [
                f'{rel(logits, ref_logits):.2e}',
                f'{100 * agree.mean().item():.2f}%'
            ]
            for loss in loss_names:
                (value, grad), (ref_value, ref_grad) = (results[loss],
                                                        ref_results[loss])
                row.append(f'{rel(value, ref_value):.1e} / '
                           f'{rel(grad, ref_grad):.1e}')
        rows.append(row)
    bench_utils.print_table([
        'teacher precision', 'forward s', 'peak extra MiB', 'logits rel. diff',
        'argmax agree'
    ] + [
        f'{loss} (fp32: value; amp: rel. diff value / grad)'
        for loss in loss_names
    ], rows, 'teacher forward (no grad) by precision, and the distillation '
                            'losses it gives')


if __name__ == '__main__':
    main()
