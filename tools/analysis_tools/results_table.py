# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Tabulate finished training runs as in the AICSD paper's result tables.

Reads the work dirs that ``tools/train.py`` wrote and prints a Markdown
table with one row per config (work dirs of the same config are seeds:
mean ± std over them, std with n - 1):

- method: the config name's first part for a ``DistillEncoderDecoder``
  (``aicsd_...`` -> ``AICSD``), its first two otherwise
  (``deeplabv3plus_r18-d8``); the full config name where these collide;
- teacher: ``model.teacher`` of the dumped config, shortened alike;
- n, mIoU, Δ mIoU (difference of mean mIoU to the ``--baseline`` row;
  default: the one config that is not a ``DistillEncoderDecoder``, if
  exactly one), aAcc, mAcc: of each run's *last* validation (the last
  checkpoint counts, not the best one);
- params (M): the student's weights in the last checkpoint;
- s/iter: median ``time`` of the train records;
- teacher mIoU, where runs logged ``teacher/mIoU`` (TeacherEvalHook).

``--per-seed`` adds each row's mIoU per seed and, against the baseline
and the ``--against`` rows, its paired gap: the mean over the seeds both
rows have of the difference, with the count of seeds where it is higher
(seed spread is often as large as the gaps between methods, so rows are
compared on the same seeds).

A ``RUN.json`` in place of a work dir is a run summary: the dict
:func:`read_run` returns, saved with ``json.dump`` (keys it adds, such as
``wall_time_s``, are kept; see ``studies/camvid/camvid_study.py``).
Summaries make a committed table that does not need the work dirs' checkpoints.

``--csv OUT.csv`` writes one row per run: config, method, teacher, seed,
work dir, iteration, metrics, params, step time and ``IoU.<class>`` from
the run's last per-class table. A work dir that is missing, holds no
single dumped config or no finished validation stops the script with a
message naming it and why; a log without the per-class table only loses
the ``IoU.<class>`` columns (with a warning).

The work dirs are read by :mod:`mmseg_aicsd.utils.results` (its docstring
says what a work dir holds; a resumed run's folders are merged).

Example::

    python tools/analysis_tools/results_table.py \\
        work_dirs/r18_seed0 work_dirs/r18_seed1 \\
        work_dirs/aicsd_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240 \\
        --csv results.csv
    python tools/analysis_tools/results_table.py studies/camvid/runs/*.json \\
        --per-class --per-seed --against KD --update studies/camvid/README.md
"""
import argparse
import sys

import pandas as pd

from mmseg_aicsd.utils import DISTILL_TYPE
from mmseg_aicsd.utils.results import (BEGIN, END, RunError, aggregate,
                                       read_any, tables_markdown,
                                       update_markdown)


def parse_args() -> argparse.Namespace:
    """Work dirs, baseline config name and CSV path."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        'work_dirs',
        nargs='+',
        metavar='WORK_DIR',
        help='work dirs of finished tools/train.py runs, or run summaries '
        '(RUN.json); several of one config are seeds of it')
    parser.add_argument(
        '--baseline',
        metavar='NAME',
        help='config name (or method name) of the row that "Δ mIoU" is '
        'measured from; default: the one config that is not a '
        f'{DISTILL_TYPE}, if there is exactly one')
    parser.add_argument(
        '--csv',
        metavar='OUT.csv',
        help='also write one row per run, per-class IoU included, here')
    parser.add_argument(
        '--per-class',
        action='store_true',
        help='also print the per-class IoU of each config (mean over its '
        'runs)')
    parser.add_argument(
        '--per-seed',
        action='store_true',
        help='also print the mIoU of each seed and the paired gaps to the '
        'baseline and the --against rows')
    parser.add_argument(
        '--against',
        nargs='+',
        default=[],
        metavar='NAME',
        help='with --per-seed: config or method names of further rows to '
        'give the paired gaps to (e.g. KD)')
    parser.add_argument(
        '--update',
        metavar='FILE.md',
        help='write the tables into FILE.md, between the lines '
        f'"{BEGIN}" and "{END}" (the rest of the file is kept); a new file '
        'holds the block alone')
    return parser.parse_args()


def main() -> None:
    """Print the Markdown table (and per-class table with ``--per-class``);
    write the per-run CSV with ``--csv``, the tables into a Markdown file
    with ``--update``."""
    args = parse_args()
    try:
        runs = pd.DataFrame(
            [read_any(d) for d in dict.fromkeys(args.work_dirs)])
        table = aggregate(runs, args.baseline)
        against = None
        if args.per_seed:
            base = table.attrs['baseline']
            against = [base] * (base is not None) + args.against
        text = tables_markdown(runs, table, args.per_class, against=against)
    except RunError as e:
        sys.exit(f'results_table: {e}')
    print(text)
    if args.update:
        try:
            update_markdown(args.update, text + '\n')
        except RunError as e:
            sys.exit(f'results_table: {e}')
        print(
            f'results_table: tables written to {args.update}', file=sys.stderr)
    if args.csv:
        ious = [c for c in runs if c.startswith('IoU.')]
        runs.drop(columns=ious + ['distill']).join(runs[ious]).to_csv(
            args.csv, index=False)
        print(
            f'results_table: {len(runs)} runs written to {args.csv}',
            file=sys.stderr)


if __name__ == '__main__':
    main()
