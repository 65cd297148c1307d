# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Grouped bars of the per-class IoU of several training runs.

As Fig. 3 of the AICSD paper (Mansourian et al., arXiv 2308.04243): one
group of bars per class, one bar per method (baseline, KD, AICSD, ...).
The runs are read exactly as ``results_table.py`` reads them
(:func:`mmseg_aicsd.utils.results.read_any`): each work dir's *last*
validation, its per-class table from the log; a run summary (``RUN.json``,
e.g. ``studies/camvid/runs/``) in place of a work dir is that row as saved.
Runs of the same config are seeds: the bar is their mean, with a +-1 std
error bar (n - 1). The per-class IoU are also printed as a Markdown table
(classes x methods).

Example::

    python tools/analysis_tools/per_class_iou.py \\
        work_dirs/deeplabv3plus_r18-d8_1xb4-600_camvid-180x240 \\
        work_dirs/kd_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240 \\
        work_dirs/aicsd_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240 \\
        --labels baseline KD AICSD --out per_class_iou.png
"""
import argparse
import sys
from typing import Optional, Sequence

import matplotlib

matplotlib.use('Agg')  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from mmseg_aicsd.utils.results import RunError, read_any  # noqa: E402

IOU = 'IoU.'  # prefix of the per-class columns of read_run's rows


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Work dirs, labels and output."""
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='\n'.join(__doc__.split('\n')[1:]))
    parser.add_argument(
        'work_dirs',
        nargs='+',
        metavar='RUN',
        help='work dirs of finished tools/train.py runs, or run summaries '
        '(RUN.json); several of one config are seeds of it')
    parser.add_argument(
        '--labels',
        nargs='+',
        help='a name per config, in the order the configs first appear; '
        'default: the method name of results_table.py')
    parser.add_argument('--out', required=True, help='output PNG')
    parser.add_argument('--dpi', type=int, default=100)
    return parser.parse_args(argv)


def per_class_iou(work_dirs: Sequence[str],
                  labels: Optional[Sequence[str]] = None) -> tuple:
    """Per-class IoU of the runs, grouped by config.

    Args:
        work_dirs (Sequence[str]): tools/train.py work dirs, or run
            summaries (``RUN.json``).
        labels (Sequence[str], optional): A name per config (in first
            appearance order); default: ``read_run``'s ``method`` (the full
            config name where methods collide).

    Returns:
        tuple[DataFrame, DataFrame, Series, Series]: Mean IoU (%) and its
        std (n - 1; NaN for one run), each indexed by class (dataset order)
        with one column per label; the mean mIoU and the number of runs per
        label.

    Raises:
        RunError: If a work dir cannot be read (see
            :mod:`mmseg_aicsd.utils.results`) or
            its log has no per-class table; if the runs' class names
            differ; if ``labels`` has the wrong length.
    """
    rows = []
    for work_dir in dict.fromkeys(work_dirs):
        row = read_any(work_dir)
        if not any(k.startswith(IOU) for k in row):
            raise RunError(
                f'{work_dir}: no per-class table of its last validation '
                f'(iteration {row["iter"]}) in its log')
        rows.append(row)
    columns = [[k for k in row if k.startswith(IOU)] for row in rows]
    for row, cols in zip(rows[1:], columns[1:]):
        if cols != columns[0]:
            raise RunError(
                f'the runs have different classes: {rows[0]["work_dir"]}: '
                f'{[c[len(IOU):] for c in columns[0]]}, {row["work_dir"]}: '
                f'{[c[len(IOU):] for c in cols]}')
    runs = pd.DataFrame(rows)
    classes = columns[0]
    configs = list(dict.fromkeys(runs['config']))
    if labels:
        if len(labels) != len(configs):
            raise RunError(f'{len(labels)} --labels for {len(configs)} '
                           f'configs {configs}')
        names = dict(zip(configs, labels))
    else:
        names = runs.groupby('config', sort=False)['method'].first()
        names = names.to_dict()
        if len(set(names.values())) < len(names):  # e.g. two baselines
            names = {c: c for c in configs}
    groups = runs.groupby('config', sort=False)
    mean = groups[classes].mean().T.rename(columns=names)
    std = groups[classes].std().T.rename(columns=names)
    mean.index = std.index = [c[len(IOU):] for c in classes]
    miou = groups['mIoU'].mean().rename(names)
    count = groups.size().rename(names)
    return mean, std, miou, count


def plot_per_class_iou(mean: pd.DataFrame, std: pd.DataFrame, miou: pd.Series,
                       count: pd.Series) -> Figure:
    """Grouped bar chart of :func:`per_class_iou`'s tables.

    Returns:
        Figure: Of ``1.5 + classes * (0.22 * methods + 0.35)`` x 4.8
        inches; one ``BarContainer`` per method, in column order, bars in
        class order (NaN IoU, a class absent from the validation images,
        draws no bar).
    """
    n_classes, n_methods = mean.shape
    fig, ax = plt.subplots(
        figsize=(1.5 + n_classes * (0.22 * n_methods + 0.35), 4.8),
        layout='constrained')
    width = 0.8 / n_methods
    x = np.arange(n_classes)
    for i, name in enumerate(mean.columns):
        runs = '' if count[name] == 1 else f', {count[name]} runs'
        errors = std[name].to_numpy() if count[name] > 1 else None
        ax.bar(
            x + (i - (n_methods - 1) / 2) * width,
            mean[name].to_numpy(),
            width,
            yerr=errors,
            capsize=2,
            label=f'{name} (mIoU {miou[name]:.2f}{runs})')
    ax.set_xticks(
        x, mean.index, rotation=30, ha='right', rotation_mode='anchor')
    ax.set_xlim(-0.6, n_classes - 0.4)
    ax.set_ylabel('IoU (%)')
    top = np.nanmax(mean.to_numpy() + np.nan_to_num(std.to_numpy()))
    ax.set_ylim(0, min(100, max(5, top * 1.25)))
    ax.grid(axis='y', alpha=0.3)
    ax.set_axisbelow(True)
    ax.set_title('Per-class IoU at the last validation of each run')
    ax.legend(loc='upper right', fontsize=8, ncol=max(1, min(n_methods, 3)))
    return fig


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Print the per-class table and write the figure."""
    args = parse_args(argv)
    try:
        mean, std, miou, count = per_class_iou(args.work_dirs, args.labels)
    except RunError as e:
        sys.exit(f'per_class_iou: {e}')
    table = mean.apply(lambda column: column.map('{:.2f}'.format))
    for name in mean.columns:  # mean +- std for seeds
        if count[name] > 1:
            table[name] += std[name].map(' ± {:.2f}'.format)
    table.loc['mIoU'] = [f'{miou[n]:.2f}' for n in mean.columns]
    print(
        table.rename_axis('class').to_markdown(
            disable_numparse=True,
            colalign=['left'] + ['right'] * len(mean.columns)))
    fig = plot_per_class_iou(mean, std, miou, count)
    fig.savefig(args.out, dpi=args.dpi)
    plt.close(fig)
    print(f'saved {args.out}')


if __name__ == '__main__':
    main()
