# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Helpers shared by the benchmark scripts: environment, timing, peak
memory and table printing.

"Peak extra memory" is the most memory a call has allocated at any moment
on top of what was allocated just before it; it is measured on a call
after a warm-up call (or after timing), so lazily created state is not
counted.

On CUDA this is ``torch.cuda.max_memory_allocated()`` minus
``memory_allocated()`` before the call. On the CPU it is the same quantity
from ``torch.profiler``'s memory events (``profile_memory=True``): every
allocation and free of PyTorch's CPU allocator, summed in time order, the
running maximum taken. Both count tensors (the gradients and the saved
activations included), not memory that libraries allocate for themselves
(oneDNN scratch buffers). The process's resident set size is no substitute
on the CPU: glibc reuses freed heap memory without it showing up there.
"""
import gc
import os
import platform
import sys
from typing import Callable, List, Optional, Sequence

import torch
from torch.profiler import ProfilerActivity, profile
from torch.utils.benchmark import Timer

MiB = 2**20


def peak_extra_memory(fn: Callable[[], object],
                      device: torch.device,
                      warmup: bool = True) -> int:
    """Peak bytes of tensor memory ``fn()`` allocates on top of what
    exists before it (see the module docstring). Calls ``fn`` twice, or
    once with ``warmup=False`` (when it has just been timed)."""
    if warmup:
        fn()
    gc.collect()
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
        before = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        fn()
        torch.cuda.synchronize(device)
        return torch.cuda.max_memory_allocated(device) - before
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as p:
        fn()
    events = sorted((e for e in p.profiler.kineto_results.events()
                     if e.name() == '[memory]'),
                    key=lambda e: e.start_ns())
    current = peak = 0
    for event in events:
        current += event.nbytes()  # > 0 allocation, < 0 free
        peak = max(peak, current)
    return peak


def warm_allocator() -> None:
    """Bring glibc's malloc to the state of a process that has trained.

    glibc serves allocations above its mmap threshold (128 KiB at start)
    with fresh pages from the OS, page-faulted on every call, and raises the
    threshold (up to 32 MiB) only once such a block is freed. Until then a
    benchmark of few-MiB tensors times page faults a training process does
    not have (the first case measured was up to 1.5x slower than the same
    case measured later). Freeing one 31 MiB tensor raises it at once.
    """
    block = torch.empty(31 * MiB, dtype=torch.uint8).fill_(0)
    del block


def measure(fn: Callable[[], object], min_run_time: float, warmup: int = 0):
    """Time ``fn()`` with ``Timer.blocked_autorange`` (which warms up with
    at least one untimed call), using all of torch's intra-op threads.

    ``warmup`` more untimed calls come first: a network's first two calls
    at a new shape create oneDNN kernels and are several times slower.

    Returns:
        torch.utils.benchmark.Measurement: ``median``, ``iqr`` and
        ``times`` in seconds per call.
    """
    for _ in range(warmup):
        fn()
    timer = Timer(
        stmt='fn()', globals=dict(fn=fn), num_threads=torch.get_num_threads())
    return timer.blocked_autorange(min_run_time=min_run_time)


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo, else platform.processor()."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown'


def setup(args) -> torch.device:
    """Apply --threads and --quick; return the device of --device."""
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.quick:
        args.min_run_time = min(args.min_run_time, 0.01)
    return torch.device(args.device)


def environment(device: torch.device) -> List[str]:
    """Lines describing the machine and the software stack."""
    import mmcv
    import mmengine

    import mmseg
    import mmseg_aicsd
    if device.type == 'cuda':
        hw = torch.cuda.get_device_name(device)
    else:
        hw = f'{cpu_name()}, {os.cpu_count()} logical cores'
    lines = [
        f'device: {device.type} ({hw})',
        f'torch {torch.__version__}, torch.get_num_threads() = '
        f'{torch.get_num_threads()}; mmcv {mmcv.__version__}, mmseg '
        f'{mmseg.__version__}, mmengine {mmengine.__version__}; '
        f'Python {platform.python_version()}',
        f'mmseg_aicsd from {os.path.dirname(mmseg_aicsd.__file__)}',
    ]
    if os.path.exists('/proc/loadavg'):
        with open('/proc/loadavg') as f:
            lines.append('load average (1, 5, 15 min): ' +
                         ' '.join(f.read().split()[:3]))
    return lines


def print_table(headers: Sequence[str],
                rows: Sequence[Sequence],
                title: str = '') -> None:
    """Print a Markdown table (pastes into docs/benchmarks.md as it is)."""
    if title:
        print(f'\n{title}\n')
    cells = [[str(c) for c in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    fmt = '| ' + ' | '.join(f'{{:<{w}}}' for w in widths) + ' |'
    print(fmt.format(*cells[0]))
    print('|' + '|'.join('-' * (w + 2) for w in widths) + '|')
    for row in cells[1:]:
        print(fmt.format(*row))
    sys.stdout.flush()


def mib(nbytes: Optional[int]) -> str:
    """Bytes as MiB with one decimal, 'n/a' for None."""
    return 'n/a' if nbytes is None else f'{nbytes / MiB:.1f}'


def add_common_args(parser, min_run_time: float) -> None:
    """--device, --threads, --min-run-time and --quick, shared by all
    benchmark scripts."""
    parser.add_argument('--device', default='cpu', help='cpu, cuda or cuda:N')
    parser.add_argument(
        '--threads',
        type=int,
        help='torch.set_num_threads (default: torch\'s own choice)')
    parser.add_argument(
        '--min-run-time',
        type=float,
        default=min_run_time,
        help='seconds of timed runs per measurement '
        '(Timer.blocked_autorange)')
    parser.add_argument(
        '--quick',
        action='store_true',
        help='tiny shapes and run times: checks the script runs (for CI), '
        'the figures mean nothing')
