# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Training curves of one or more runs: loss terms, ALW alpha, val mIoU.

One panel per key against the iteration, one line per work dir (its
legend label: the work dir's name, or ``--labels``). Default keys: every
loss term the runs logged (``loss``, ``decode.loss_ce``, ``loss_icsd``,
``loss_kd``, ...), ``alw_alpha`` (AICSD Eq. 6-8, logged by ``ALWHook``) and
the validation ``mIoU`` (with ``teacher/mIoU`` dashed in the same panel
where ``TeacherEvalHook`` logged it).

The records are mmengine's ``<timestamp>/vis_data/scalars.json`` of each
work dir, read by :func:`mmseg_aicsd.utils.results.read_records`, which
merges the
timestamp folders of a resumed run. mmseg's own
``tools/analysis_tools/analyze_logs.py`` (in the pip package under
``mmseg/.mim/tools``) takes one JSON file per run (a resumed run's
folders would be separate runs), draws every key on one axis (losses,
alpha and mIoU on one scale) and needs seaborn, which mmseg does not
install; hence this script.

Logged loss values are the weighted ones, i.e. under ALW alpha times
(CE + ICSD) and (1 - alpha) times KD: what was optimised.

Example::

    python tools/analysis_tools/plot_curves.py \\
        work_dirs/kd_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240 \\
        work_dirs/aicsd_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240 \\
        --labels KD AICSD --out curves.png
"""
import argparse
import math
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence

import matplotlib

matplotlib.use('Agg')  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from mmseg_aicsd.utils.results import RunError, read_records  # noqa: E402

# per-record bookkeeping, not curves
NOT_CURVES = ('iter', 'step', 'epoch', 'lr', 'base_lr', 'time', 'data_time',
              'memory')
VAL_KEYS = ('mIoU', 'mAcc', 'aAcc')
PANEL = (4.2, 3.0)  # inches per panel
COLUMNS = 3  # panels per row


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Work dirs, keys, labels and output."""
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='\n'.join(__doc__.split('\n')[1:]))
    parser.add_argument(
        'work_dirs',
        nargs='+',
        metavar='WORK_DIR',
        help='work dirs of tools/train.py runs')
    parser.add_argument(
        '--keys',
        nargs='+',
        help='keys of scalars.json to plot, one panel each; default: the '
        'loss terms, alw_alpha and mIoU')
    parser.add_argument(
        '--labels', nargs='+', help='a legend label per work dir')
    parser.add_argument('--out', required=True, help='output PNG')
    parser.add_argument('--dpi', type=int, default=100)
    return parser.parse_args(argv)


def read_curves(work_dir: str) -> Dict[str, tuple]:
    """Every logged scalar of a run against the iteration.

    Args:
        work_dir (str): A tools/train.py work dir.

    Returns:
        dict[str, tuple[list, list]]: By key, the iterations and the
        values, in iteration order. Train records give ``iter``;
        validation records their ``step`` (the iteration they followed).

    Raises:
        RunError: If the work dir has no ``vis_data/scalars.json``.
    """
    curves: Dict[str, tuple] = {}
    for _, record in read_records(work_dir):
        x = record['iter'] if 'iter' in record else record.get('step')
        for key, value in record.items():
            if key not in NOT_CURVES and isinstance(value, (int, float)):
                xs, ys = curves.setdefault(key, ([], []))
                xs.append(x)
                ys.append(value)
    for key, (xs, ys) in curves.items():  # read_records: train, then val
        order = sorted(range(len(xs)), key=xs.__getitem__)
        curves[key] = ([xs[i] for i in order], [ys[i] for i in order])
    return curves


def default_keys(runs: Sequence[Dict[str, tuple]]) -> List[str]:
    """The loss terms (total ``loss`` first), ``alw_alpha`` and ``mIoU``
    that at least one run logged."""
    logged = list(dict.fromkeys(k for run in runs for k in run))
    losses = [
        k for k in logged if k == 'loss' or k.split('.')[-1].startswith('loss')
    ]
    losses.sort(key=lambda k: k != 'loss')
    return losses + [k for k in ('alw_alpha', 'mIoU') if k in logged]


def plot_curves(runs: Dict[str, Dict[str, tuple]],
                keys: Sequence[str]) -> Figure:
    """One panel per key, one line per run.

    Args:
        runs (dict[str, dict]): :func:`read_curves` by label.
        keys (Sequence[str]): The keys to plot.

    Returns:
        Figure: Of ``min(keys, 3) * 4.2`` x ``ceil(keys / 3) * 3.0 + 0.5``
        inches. Each panel's lines are the runs that logged its key, in
        run order; ``mIoU`` also has each run's ``teacher/mIoU``, dashed.
    """
    n_cols = min(len(keys), COLUMNS)
    n_rows = math.ceil(len(keys) / COLUMNS)
    fig, axes = plt.subplots(
        n_rows,
        n_cols,
        squeeze=False,
        figsize=(n_cols * PANEL[0], n_rows * PANEL[1] + 0.5),
        layout='constrained')
    colours = dict(
        zip(runs,
            plt.rcParams['axes.prop_cycle'].by_key()['color'] * len(runs)))
    for ax, key in zip(axes.flat, keys):
        for label, curves in runs.items():
            if key not in curves:
                continue
            xs, ys = curves[key]
            val = key in VAL_KEYS or key.startswith('teacher/')
            # markers where points are few (validations, short runs)
            ax.plot(
                xs,
                ys,
                color=colours[label],
                label=label,
                marker='o' if val or len(xs) < 20 else None,
                markersize=3,
                linewidth=1.5 if val else 1.0)
            if key == 'mIoU' and 'teacher/mIoU' in curves:
                ax.plot(
                    *curves['teacher/mIoU'],
                    color=colours[label],
                    linestyle='--',
                    marker='x',
                    markersize=4,
                    label=f'{label}: teacher')
        ax.set_title(key, fontsize=10)
        ax.set_xlabel('iteration', fontsize=9)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
        if key == 'mIoU' and any('teacher/mIoU' in c for c in runs.values()):
            ax.legend(fontsize=7)
    for ax in axes.flat[len(keys):]:
        ax.set_visible(False)
    fig.suptitle(
        'Training curves (logged values: the losses as weighted '
        'in the optimised sum)',
        fontsize=11)
    handles = [
        plt.Line2D([], [], color=colours[label], label=label) for label in runs
    ]
    fig.legend(
        handles=handles,
        loc='outside lower center',
        ncol=min(len(runs), 4),
        fontsize=9,
        frameon=False)
    return fig


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Read the runs and write the figure."""
    args = parse_args(argv)
    if args.labels and len(args.labels) != len(args.work_dirs):
        sys.exit(f'plot_curves: {len(args.labels)} --labels for '
                 f'{len(args.work_dirs)} work dirs')
    labels = args.labels or [
        osp.basename(osp.normpath(d)) for d in args.work_dirs
    ]
    try:
        runs = {
            label: read_curves(d)
            for label, d in zip(labels, args.work_dirs)
        }
    except RunError as e:
        sys.exit(f'plot_curves: {e}')
    keys = args.keys or default_keys(list(runs.values()))
    logged = sorted({k for run in runs.values() for k in run})
    unknown = [k for k in keys if k not in logged]
    if unknown:
        sys.exit(f'plot_curves: no run logged {unknown}; logged keys: '
                 f'{", ".join(logged)}')
    fig = plot_curves(runs, keys)
    fig.savefig(args.out, dpi=args.dpi)
    plt.close(fig)
    print(f'saved {args.out}: {", ".join(keys)} of {len(runs)} runs')


if __name__ == '__main__':
    main()
