# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Benchmark :class:`ReleasedCodeICSDLoss` against a loop over class pairs.

- ``ours``: :func:`mmseg_aicsd.models.losses.released_icsd_loss`, one
  batched product for the C x C matrix.
- ``loop``: one ``F.kl_div(P_i, P_j, reduction='batchmean')`` call per
  pair i <= j, the structure of the released code (its softmax computed
  once, outside the loop).

Both give the same loss. At each logit shape it prints the forward and the
forward + backward time (gradient w.r.t. the student logits), their ratio
to ``ours`` and the peak extra tensor memory of forward + backward (see
``bench_utils``). The default shape is the released setting: batch 6, 21
classes, logits upsampled to the 513 x 513 crop.

Example::

    python -m benchmarks.released_icsd_loss --threads 2
"""
import argparse
import math

import torch
import torch.nn.functional as F
from torch import Tensor

from benchmarks import bench_utils
from mmseg_aicsd.models.losses import released_icsd_loss

CASES = {
    'released': (6, 21, 513, 513),  # VOC, the released code's crop
    'camvid': (4, 11, 180, 240),  # the CamVid recipe's crop
}
QUICK_CASES = {'tiny': (2, 5, 8, 12)}


def loop_ics(logits: Tensor) -> Tensor:
    """The released (C, C) matrix, one ``kl_div`` call per pair i <= j."""
    p = torch.softmax(logits.float(), dim=2)
    C = p.shape[1]
    m = p.new_zeros(C, C)
    for i in range(C):
        for j in range(i, C):
            m[i, j] = m[j, i] = F.kl_div(
                p[:, i], p[:, j], reduction='batchmean')
    return m


def loop_loss(student: Tensor, teacher: Tensor) -> Tensor:
    """The released loss per unit weight from :func:`loop_ics`."""
    m_s = F.normalize(loop_ics(student), dim=1)
    with torch.no_grad():
        m_t = F.normalize(loop_ics(teacher), dim=1)
    return (m_s - m_t).pow(2).mean() / student.shape[0]


IMPLS = dict(ours=released_icsd_loss, loop=loop_loss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--cases', nargs='+', choices=list(CASES), default=['released'])
    bench_utils.add_common_args(parser, min_run_time=2.0)
    args = parser.parse_args()
    device = bench_utils.setup(args)
    print('\n'.join(bench_utils.environment(device)))
    bench_utils.warm_allocator()
    cases = QUICK_CASES if args.quick else {c: CASES[c] for c in args.cases}
    rows = []
    for name, shape in cases.items():
        gen = torch.Generator().manual_seed(0)
        student = (torch.randn(shape, generator=gen) * 2).to(device)
        teacher = (torch.randn(shape, generator=gen) * 2).to(device)
        student.requires_grad_()
        values, base = {}, None
        for impl, loss_fn in IMPLS.items():

            def forward(loss_fn=loss_fn):
                with torch.no_grad():
                    return loss_fn(student, teacher)

            def forward_backward(loss_fn=loss_fn):
                student.grad = None
                loss = loss_fn(student, teacher)
                loss.backward()
                return loss

            values[impl] = forward().item()
            t_fwd = bench_utils.measure(forward, args.min_run_time).median
            t_step = bench_utils.measure(forward_backward,
                                         args.min_run_time).median
            peak = bench_utils.peak_extra_memory(
                forward_backward, device, warmup=False)
            base = base or t_step
            rows.append([
                name, shape, impl, f'{t_fwd * 1e3:.1f}', f'{t_step * 1e3:.1f}',
                f'{t_step / base:.1f}x',
                bench_utils.mib(peak), f'{peak / (4 * math.prod(shape)):.2f}'
            ])
        rel = abs(values['loop'] - values['ours']) / abs(values['loop'])
        print(f'{name}: loss {values["ours"]:.6g} (ours), '
              f'{values["loop"]:.6g} (loop), relative difference {rel:.1e}')
    bench_utils.print_table([
        'logits', '(B, C, H, W)', 'impl', 'fwd ms', 'fwd+bwd ms',
        'fwd+bwd / ours', 'peak extra MiB', 'peak extra / logits'
    ], rows, 'Released ICS loss, student forward (+ backward)')


if __name__ == '__main__':
    main()
