# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Benchmark the ICSD loss (AICSD Eq. 2-4) against two reference
formulations written here.

- ``ours``: :class:`mmseg_aicsd.models.ICSDLoss`, i.e.
  :func:`inter_class_similarity` on student and teacher logits.
- ``loop``: a Python loop of ``F.kl_div`` calls over the C * (C - 1)
  ordered class pairs, the structure of the released AICSD code (which
  loops over class pairs), but with a correct KL and the spatial
  log-softmax computed once, outside the loop.
- ``broadcast``: the C x C x N tensor of all pairwise terms,
  ``sum_n P_i (L_i - L_j)``, by broadcasting.

All three give the same loss (same tau, Eq. 4 normalisation). For each
logit shape it prints the forward and the forward + backward time (the
gradient w.r.t. the student logits, teacher ICS without grad), the ratio to
``ours``, and the peak extra tensor memory of forward + backward, the
gradient included (see ``bench_utils``), also as a multiple of the size of
one float32 logit tensor, B * C * H * W * 4 bytes. Then it
times forward + backward against N = H * W at B = 2, C = 19 and writes a
log-log plot.

Example::

    python -m benchmarks.icsd_loss --plot work_dirs/benchmarks/icsd_scaling.png
"""
import argparse
import math
import os
import os.path as osp
from typing import Callable, Dict, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from benchmarks import bench_utils
from mmseg_aicsd.models.losses import ICSDLoss

# logit shapes (B, C, H, W) that users meet
CASES: Dict[str, Tuple[int, int, int, int]] = {
    'cityscapes': (2, 19, 128, 256),  # 512x1024 crops, batch 2
    'voc': (4, 21, 129, 129),  # 513x513 crops, batch 4
    'camvid': (4, 11, 45, 60),  # the repo's 180x240 configs
    'released': (6, 21, 513, 513),  # the released code's upsampled logits
}
# (H, W) of the time-against-N sweep, at B = 2, C = 19
SWEEP = [(16, 32), (32, 64), (64, 128), (128, 256), (256, 512), (512, 1024)]
QUICK_CASES = {'tiny': (2, 5, 8, 12)}
QUICK_SWEEP = [(4, 4), (8, 8), (8, 16)]


def _spatial_log_softmax(logits: Tensor, tau: float) -> Tensor:
    """(B, C, H, W) logits -> (B, C, N) float32 log-softmax over N."""
    return F.log_softmax(logits.float().flatten(2) / tau, dim=-1)


def loop_ics(logits: Tensor, tau: float = 1.0) -> Tensor:
    """ICS (B, C, C) by one ``F.kl_div`` call per ordered class pair."""
    log_p = _spatial_log_softmax(logits, tau)
    C = log_p.shape[1]
    zero = log_p.new_zeros(log_p.shape[0])
    rows = []
    for i in range(C):
        # KL(G_i || G_j) = sum_n G_i (log G_i - log G_j)
        rows.append(
            torch.stack([
                zero if i == j else F.kl_div(
                    log_p[:, j],
                    log_p[:, i],
                    reduction='none',
                    log_target=True).sum(-1) for j in range(C)
            ],
                        dim=-1))
    return torch.stack(rows, dim=1)


def broadcast_ics(logits: Tensor, tau: float = 1.0) -> Tensor:
    """ICS (B, C, C) from a broadcast (B, C, C, N) tensor."""
    log_p = _spatial_log_softmax(logits, tau)
    diff = log_p.unsqueeze(2) - log_p.unsqueeze(1)  # L_i - L_j
    return (log_p.exp().unsqueeze(2) * diff).sum(-1)


def reference_icsd(ics_fn: Callable[[Tensor, float], Tensor],
                   tau: float = 1.0) -> Callable[[Tensor, Tensor], Tensor]:
    """ICSD loss (Eq. 4) with ICS computed by ``ics_fn``."""

    def loss(student: Tensor, teacher: Tensor) -> Tensor:
        with torch.no_grad():
            ics_t = ics_fn(teacher, tau)
        ics_s = ics_fn(student, tau)
        return (ics_t - ics_s).pow(2).mean(dim=(1, 2)).mean()

    return loss


IMPLS = {
    'ours': lambda tau: ICSDLoss(tau=tau),
    'loop': lambda tau: reference_icsd(loop_ics, tau),
    'broadcast': lambda tau: reference_icsd(broadcast_ics, tau),
}


def broadcast_bytes(shape: Tuple[int, ...]) -> int:
    """Size of one float32 (B, C, C, N) tensor."""
    B, C, H, W = shape
    return 4 * B * C * C * H * W


def make_inputs(shape, device, seed=0) -> Tuple[Tensor, Tensor]:
    """Random student (requires grad) and teacher logits, float32."""
    gen = torch.Generator().manual_seed(seed)
    student = (torch.randn(shape, generator=gen) * 3).to(device)
    teacher = (torch.randn(shape, generator=gen) * 3).to(device)
    return student.requires_grad_(), teacher


def step_fns(loss_fn, student, teacher):
    """(forward, forward + backward) closures for the timer."""

    def forward():
        return loss_fn(student, teacher)

    def forward_backward():
        return torch.autograd.grad(loss_fn(student, teacher), student)[0]

    return forward, forward_backward


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    bench_utils.add_common_args(parser, min_run_time=1.0)
    parser.add_argument('--tau', type=float, default=1.0)
    parser.add_argument(
        '--max-broadcast-gib',
        type=float,
        default=1.0,
        help='skip the broadcast reference where one C x C x N float32 '
        'tensor would exceed this many GiB (it needs several)')
    parser.add_argument(
        '--cases',
        nargs='+',
        choices=list(CASES),
        default=list(CASES),
        help='logit shapes to measure')
    parser.add_argument(
        '--impls',
        nargs='+',
        choices=list(IMPLS),
        default=list(IMPLS),
        help='implementations to measure (ratios need ours)')
    parser.add_argument(
        '--no-sweep', action='store_true', help='skip the sweep over N')
    parser.add_argument(
        '--profile',
        action='store_true',
        help='print torch.profiler\'s table (time and memory by op) of '
        'ours, forward + backward, at the first case')
    parser.add_argument(
        '--plot',
        default='work_dirs/benchmarks/icsd_scaling.png',
        help='where to write the time-against-N plot (PNG; its folder is '
        'made); "" for none')
    return parser.parse_args()


def run_cases(cases, args, device) -> None:
    """Time and memory of every implementation at every shape."""
    rows = []
    for name, shape in cases.items():
        logits_bytes = 4 * math.prod(shape)
        student, teacher = make_inputs(shape, device)
        base = None
        for impl in args.impls:
            build = IMPLS[impl]
            if (impl == 'broadcast' and broadcast_bytes(shape)
                    > args.max_broadcast_gib * 2**30):
                rows.append([
                    name, shape, impl, 'skipped: one C x C x N '
                    f'tensor is {broadcast_bytes(shape) / 2**30:.1f}'
                    ' GiB', '', '', '', ''
                ])
                continue
            forward, forward_backward = step_fns(
                build(args.tau), student, teacher)
            t_fwd = bench_utils.measure(forward, args.min_run_time).median
            t_step = bench_utils.measure(forward_backward,
                                         args.min_run_time).median
            peak = bench_utils.peak_extra_memory(
                forward_backward, device, warmup=False)
            base = t_step if impl == 'ours' else base
            rows.append([
                name, shape, impl, f'{t_fwd * 1e3:.2f}', f'{t_step * 1e3:.2f}',
                f'{t_step / base:.1f}x' if base else '-',
                bench_utils.mib(peak), f'{peak / logits_bytes:.2f}'
            ])
    bench_utils.print_table([
        'logits', '(B, C, H, W)', 'impl', 'fwd ms', 'fwd+bwd ms',
        'fwd+bwd / ours', 'peak extra MiB', 'peak extra / logits'
    ], rows, 'ICSD loss, student forward (+ backward), teacher ICS no-grad')


def run_sweep(sweep, args, device) -> Dict[str, list]:
    """Forward + backward seconds against N at B = 2, C = 19 (C = 5 in
    quick mode)."""
    B, C = (2, 5) if args.quick else (2, 19)
    results: Dict[str, list] = {impl: [] for impl in args.impls}
    rows = []
    for H, W in sweep:
        student, teacher = make_inputs((B, C, H, W), device)
        row = [H * W, f'{H}x{W}']
        for impl in args.impls:
            build = IMPLS[impl]
            too_big = broadcast_bytes(
                (B, C, H, W)) > args.max_broadcast_gib * 2**30
            if impl == 'broadcast' and too_big:
                row.append('skipped')
                continue
            _, forward_backward = step_fns(build(args.tau), student, teacher)
            t = bench_utils.measure(forward_backward, args.min_run_time).median
            results[impl].append((H * W, t))
            row.append(f'{t * 1e3:.2f}')
        rows.append(row)
    bench_utils.print_table(
        ['N', 'H x W'] + [f'{impl} ms' for impl in args.impls], rows,
        f'ICSD forward + backward against N = H * W (B = {B}, C = {C})')
    return results


def profile_ours(shape, args, device) -> None:
    """torch.profiler table of ICSDLoss forward + backward, by op."""
    from torch.profiler import ProfilerActivity, profile
    activities = [ProfilerActivity.CPU]
    if device.type == 'cuda':
        activities.append(ProfilerActivity.CUDA)
    _, forward_backward = step_fns(
        ICSDLoss(tau=args.tau), *make_inputs(shape, device))
    forward_backward()
    with profile(activities=activities, profile_memory=True) as prof:
        forward_backward()
    print(f'\ntorch.profiler, ours, forward + backward, logits {shape}\n')
    print(prof.key_averages().table(
        sort_by=f'self_{device.type}_memory_usage', row_limit=12))


def loglog_slope(points) -> float:
    """Least-squares slope of log t against log N over the last 3 points."""
    xs = [math.log(n) for n, _ in points[-3:]]
    ys = [math.log(t) for _, t in points[-3:]]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return (sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum(
        (x - mx)**2 for x in xs))


def plot(results, path, title) -> None:
    """Log-log plot of time against N, one line per implementation."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.2))
    for impl, points in results.items():
        if not points:
            continue
        label = impl
        if len(points) >= 3:
            label += f' (slope {loglog_slope(points):.2f})'
        ax.loglog([n for n, _ in points], [t * 1e3 for _, t in points],
                  marker='o',
                  label=label)
    if results.get('ours'):  # a line of slope 1 through ours' last point
        n_max, t_max = results['ours'][-1]
        ns = [n for n, _ in results['ours']]
        ax.loglog(
            ns, [t_max * 1e3 * n / n_max for n in ns],
            'k--',
            alpha=0.4,
            label='proportional to N')
    ax.set_xlabel('N = H * W (logit positions)')
    ax.set_ylabel('forward + backward, ms')
    ax.set_title(title, fontsize=9)
    ax.grid(True, which='both', alpha=0.3)
    ax.legend()
    fig.tight_layout()
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    fig.savefig(path, dpi=120)
    print(f'\nplot written to {path}')


def main() -> None:
    args = parse_args()
    device = bench_utils.setup(args)
    print('\n'.join(bench_utils.environment(device)))
    bench_utils.warm_allocator()
    cases = QUICK_CASES if args.quick else {
        name: CASES[name]
        for name in args.cases
    }
    run_cases(cases, args, device)
    if args.profile:
        profile_ours(next(iter(cases.values())), args, device)
    if args.no_sweep:
        return
    results = run_sweep(QUICK_SWEEP if args.quick else SWEEP, args, device)
    if args.plot:
        B, C = (2, 5) if args.quick else (2, 19)
        plot(
            results, args.plot,
            f'ICSD loss forward + backward, B = {B}, C = {C}, '
            f'{device.type}, torch.get_num_threads() = '
            f'{torch.get_num_threads()}')


if __name__ == '__main__':
    main()
