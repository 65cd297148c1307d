# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Run records of ``tools/train.py`` work dirs and the AICSD paper's result
tables made of them.

What ``tools/analysis_tools/results_table.py``, ``per_class_iou.py``,
``plot_curves.py`` and the CamVid study (``studies/camvid``) share: reading
a work dir (:func:`read_run`) or a run summary (:func:`read_summary`,
a :func:`read_run` dict saved with ``json.dump``), aggregating runs of one
config as seeds (:func:`aggregate`: mean and std with n - 1), comparing
rows seed by seed (:func:`seed_table`) and writing
the Markdown tables (:func:`tables_markdown`, :func:`update_markdown`).

Each work dir holds::

    WORK_DIR/<config name>.py                    the dumped config
    WORK_DIR/<timestamp>/<timestamp>.log         text log: seed, per-class
                                                 tables of the validations
    WORK_DIR/<timestamp>/vis_data/scalars.json   one JSON record per line
    WORK_DIR/last_checkpoint, WORK_DIR/iter_N.pth

A resumed run has several timestamp folders; a record of a newer folder
replaces an older one of the same kind and iteration. Needs the
``analysis`` extra (pandas, tabulate).
"""
import glob
import itertools
import json
import os.path as osp
import re
import sys
from typing import Optional, Sequence

import numpy as np
import pandas as pd
import torch
from mmengine.config import Config

from .distill_config import is_distill_config, student_model_config
from .state_dict import BN_STATS, NOT_STUDENT

METRICS = ('mIoU', 'aAcc', 'mAcc')
TEACHER_METRICS = tuple(f'teacher/{m}' for m in METRICS)
# the columns every run summary (RUN.json) must have
SUMMARY_KEYS = ('config', 'method', 'distill', 'seed', 'iter') + METRICS
# the block of a Markdown file that update_markdown replaces
BEGIN = '<!-- results_table.py: begin (generated; edit outside) -->'
END = '<!-- results_table.py: end -->'
# the heading of seed_markdown's table in tables_markdown
SEED_TITLE = ('mIoU per seed; "vs M": the mean over the seeds both rows have '
              "of this row's mIoU minus M's (seeds where this row is higher "
              '/ seeds both have)')


class RunError(Exception):
    """A work dir that cannot give a result row; the message says why."""


def read_records(work_dir: str) -> list:
    """The scalars.json records of a work dir, the newest of each step.

    Args:
        work_dir: A tools/train.py work dir.

    Returns:
        A list of ``(timestamp, record)``: train records (those with a
        ``loss``) first, then the others (validations), each by ``step``
        (iteration). Where several timestamp folders (a resumed run) have a
        record of the same kind and step, the newest folder's.

    Raises:
        RunError: If no timestamp folder has a ``vis_data/scalars.json``.
    """
    paths = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not paths:
        raise RunError(f'{work_dir}: no <timestamp>/vis_data/scalars.json; '
                       'not a tools/train.py work dir, or the run never '
                       'started')
    newest = {}
    for path in paths:  # timestamp names sort oldest first
        stamp = osp.basename(osp.dirname(osp.dirname(path)))
        with open(path) as f:
            for line in f:
                if line.strip():
                    record = json.loads(line)
                    key = ('loss' not in record, record.get('step', -1))
                    newest[key] = (stamp, record)
    return [newest[key] for key in sorted(newest)]


def read_seed(work_dir: str) -> Optional[int]:
    """The ``seed`` of the "Runtime environment" in the run's first log (a
    resumed run restores it), or None if no log has one."""
    for log in sorted(glob.glob(osp.join(work_dir, '*', '*.log'))):
        with open(log, errors='replace') as f:
            match = re.search(r'^\s+seed: (-?\d+)\s*$', f.read(), re.M)
        if match:
            return int(match.group(1))
    return None


def class_table(log: str) -> Optional[pd.DataFrame]:
    """The per-class table of the last validation in a log.

    mmseg's IoUMetric logs "per class results:" and a PrettyTable
    (Class | IoU | Acc) at each validation, before the LoggerHook's
    ``Iter(val) ... mIoU: ...`` line; hooks running after the metric, such
    as a teacher evaluation, may log tables of their own in between. So
    this is the first table after the last validation but one.

    Args:
        log: Path of a ``<timestamp>.log``.

    Returns:
        A DataFrame indexed by class name with the table's float columns
        (``IoU``, ``Acc``; percent; NaN for a class absent from the
        validation images), or None if the log, its last validation or the
        table is missing.
    """
    if not osp.isfile(log):
        return None
    with open(log, errors='replace') as f:
        text = f.read()
    # the text before each validation line; the last is after the last one
    segments = re.split(r'^.*\(val\).* mIoU: .*$', text, flags=re.M)
    if len(segments) < 2:
        return None
    return _first_class_table(segments[-2])


def _first_class_table(text: str) -> Optional[pd.DataFrame]:
    """The first "per class results:" table in a log text, or None."""
    lines = text.splitlines()
    heads = [
        i for i, line in enumerate(lines)
        if line.endswith('per class results:')
    ]
    if not heads:
        return None
    # an empty log message, then the table's '+---' and '|' lines
    block = lines[heads[0] + 1:]
    block = block[next((i for i, line in enumerate(block[:3])
                        if line.startswith('+')), len(block)):]
    rows = [[cell.strip() for cell in line.strip('|').split('|')]
            for line in itertools.takewhile(
                lambda line: line.startswith(('+', '|')), block)
            if line.startswith('|')]
    if len(rows) < 2:
        return None
    frame = pd.DataFrame(rows[1:], columns=rows[0])
    return frame.set_index(rows[0][0]).astype(float)


def val_curve(work_dir: str) -> list:
    """Every validation of a run, from its logs: iteration, mIoU and the
    per-class IoU.

    Args:
        work_dir: A tools/train.py work dir; the logs of a resumed run are
            read oldest first, the newest validation of an iteration kept.

    Returns:
        A list of dicts ``{'iter', 'mIoU', 'IoU.<class>'...}`` by
        iteration (the iteration is that of the last training line before
        the validation; per-class entries only where the log has the
        table), empty if no log has a validation.
    """
    curve = {}
    for log in sorted(glob.glob(osp.join(work_dir, '*', '*.log'))):
        with open(log, errors='replace') as f:
            text = f.read()
        # [text, mIoU, text, mIoU, ..., text after the last validation]
        parts = re.split(r'^.*\(val\).* mIoU: ([-\d.]+).*$', text, flags=re.M)
        step = None
        for k in range(0, len(parts) - 1, 2):
            steps = re.findall(r'Iter\(train\) \[\s*(\d+)/', parts[k])
            step = int(steps[-1]) if steps else step
            if step is None:
                continue
            point = dict(iter=step, mIoU=float(parts[k + 1]))
            table = _first_class_table(parts[k])
            if table is not None and 'IoU' in table:
                point.update({f'IoU.{c}': v for c, v in table['IoU'].items()})
            curve[step] = point
    return [curve[step] for step in sorted(curve)]


def last_checkpoint(work_dir: str) -> Optional[str]:
    """The path in ``WORK_DIR/last_checkpoint``, else the ``iter_N.pth``
    (or ``epoch_N.pth``) with the largest N; None if there is none."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            path = f.read().strip()
        for candidate in (path, osp.join(work_dir, osp.basename(path))):
            if osp.isfile(candidate):
                return candidate
    numbered = {}
    for path in glob.glob(osp.join(work_dir, '*.pth')):
        match = re.fullmatch(r'(?:iter|epoch)_(\d+)\.pth', osp.basename(path))
        if match:
            numbered[int(match.group(1))] = path
    return numbered[max(numbered)] if numbered else None


def count_params(cfg: Config, ckpt: Optional[str]) -> int:
    """Number of student weights.

    From the checkpoint's ``state_dict``: every entry but BatchNorm running
    statistics, ``num_batches_tracked`` and a distillation's connectors
    (``distill_connectors.*``, trained beside the student but not part of
    it); auxiliary heads count, as they are in the student's config. Else
    from the student built from ``cfg.model`` (a ``DistillEncoderDecoder``
    built as the plain ``EncoderDecoder`` it extends, so no teacher
    checkpoint is needed).
    """
    if ckpt is not None:
        # mmseg_aicsd (imported before this module) lets torch.load read
        # mmengine's checkpoints
        state = torch.load(ckpt, map_location='cpu', weights_only=True)
        state = state.get('state_dict', state)
        return sum(
            v.numel() for k, v in state.items()
            if not k.endswith(BN_STATS) and not k.startswith(NOT_STUDENT))
    from mmengine.registry import init_default_scope

    from mmseg.registry import MODELS
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model = MODELS.build(student_model_config(cfg))
    return sum(p.numel() for p in model.parameters())


def short_name(config_name: str, distill: bool) -> str:
    """``aicsd_deeplabv3plus_r18-d8_...`` -> ``AICSD``;
    ``deeplabv3plus_r18-d8_1xb4-600_...`` -> ``deeplabv3plus_r18-d8``."""
    parts = config_name.split('_')
    return parts[0].upper() if distill else '_'.join(parts[:2])


def teacher_name(teacher) -> Optional[str]:
    """A short name of ``model.teacher``: a config path (also
    ``mmseg::...``) as its model and backbone, a dict as its backbone."""
    if teacher is None:
        return None
    if isinstance(teacher, str):
        name = osp.splitext(osp.basename(teacher.split('::')[-1]))[0]
        return short_name(name, distill=False)
    backbone = teacher.get('backbone', {})
    return f'{backbone.get("type")}-{backbone.get("depth", "")}'.rstrip('-')


def read_run(work_dir: str) -> dict:
    """One run's row: config, seed, last validation metrics, per-class IoU,
    params, step time.

    Args:
        work_dir: A tools/train.py work dir.

    Returns:
        A dict with ``config`` (dumped config name), ``method``,
        ``teacher``, ``distill`` (model type is DistillEncoderDecoder),
        ``seed``, ``work_dir``, ``iter`` (of the last validation), mIoU,
        aAcc, mAcc (and ``teacher/...`` metrics if logged) of the last
        validation, ``params``, ``step_time`` (median train ``time``,
        s/iter; NaN without train records) and ``IoU.<class>`` entries
        (none if the log has no per-class table of that validation).

    Raises:
        RunError: If the directory does not exist, has no single dumped
            config, or no finished validation.
    """
    if not osp.isdir(work_dir):
        raise RunError(f'{work_dir}: no such directory')
    configs = glob.glob(osp.join(work_dir, '*.py'))
    if len(configs) != 1:
        raise RunError(
            f'{work_dir}: expected one dumped config <name>.py, found '
            f'{[osp.basename(c) for c in configs] or "none"}')
    cfg = Config.fromfile(configs[0])
    records = read_records(work_dir)
    train = [r for _, r in records if 'loss' in r]
    vals = [(stamp, r) for stamp, r in records
            if 'loss' not in r and 'mIoU' in r]
    if not vals:
        last = max((r.get('iter', 0) for r in train), default=0)
        raise RunError(
            f'{work_dir}: no finished validation in vis_data/scalars.json '
            f'({len(train)} train records, up to iteration {last}); the run '
            'stopped before its first validation (train_cfg.val_interval = '
            f'{cfg.get("train_cfg", {}).get("val_interval")}) or it is '
            'still running')
    stamp, val = vals[-1]
    config = osp.splitext(osp.basename(configs[0]))[0]
    distill = is_distill_config(cfg)
    row = dict(
        config=config,
        method=short_name(config, distill),
        teacher=teacher_name(cfg.model.get('teacher')),
        distill=distill,
        seed=read_seed(work_dir),
        work_dir=work_dir,
        iter=val['step'])
    row.update({k: val[k] for k in METRICS + TEACHER_METRICS if k in val})
    row['params'] = count_params(cfg, last_checkpoint(work_dir))
    row['step_time'] = float(np.median([r['time'] for r in train])) \
        if train else float('nan')
    table = class_table(osp.join(work_dir, stamp, f'{stamp}.log'))
    if table is None or 'IoU' not in table:
        print(
            f'results_table: {work_dir}: no per-class table of the '
            f'validation at iteration {val["step"]} in its log',
            file=sys.stderr)
    else:
        row.update({f'IoU.{c}': v for c, v in table['IoU'].items()})
    return row


def read_summary(path: str) -> dict:
    """One run's row from a run summary: a :func:`read_run` dict saved with
    ``json.dump`` (NaN allowed), possibly with more keys.

    Args:
        path: A ``RUN.json`` file.

    Returns:
        The dict, ``work_dir`` set to ``path`` where it is missing.

    Raises:
        RunError: If the file is missing, is not a JSON object, or lacks one
            of ``SUMMARY_KEYS``.
    """
    if not osp.isfile(path):
        raise RunError(f'{path}: no such run summary')
    try:
        with open(path) as f:
            row = json.load(f)
    except json.JSONDecodeError as e:
        raise RunError(f'{path}: not JSON ({e})') from e
    if not isinstance(row, dict):
        raise RunError(f'{path}: expected a JSON object (one run), got '
                       f'{type(row).__name__}')
    missing = [k for k in SUMMARY_KEYS if k not in row]
    if missing:
        raise RunError(f'{path}: run summary without {missing}')
    row.setdefault('work_dir', path)
    return row


def read_any(path: str) -> dict:
    """:func:`read_summary` for a ``.json`` path, :func:`read_run` for a
    work dir."""
    return read_summary(path) if path.endswith('.json') else read_run(path)


def find_config(table: pd.DataFrame, name: str, option: str) -> str:
    """The config of :func:`aggregate`'s ``table`` that ``name`` names: a
    config name, or the method name of exactly one row.

    Raises:
        RunError: If ``name`` names no row, or several; the message starts
            with ``option``, the command-line option that gave it.
    """
    if name in table.index:
        return name
    by_method = table.index[table['method'] == name]
    if len(by_method) != 1:
        raise RunError(f'{option} {name}: not one of the configs '
                       f'{list(table.index)}')
    return by_method[0]


def aggregate(runs: pd.DataFrame,
              baseline: Optional[str] = None) -> pd.DataFrame:
    """One row per config from one row per run.

    Args:
        runs: Rows of :func:`read_run`.
        baseline: Config or method name of the row ``delta_mIoU`` is
            measured from; None: the one config that is not a distillation,
            and no ``delta_mIoU`` if there is not exactly one.

    Returns:
        A DataFrame indexed by config, in the order the configs first
        appear: ``method``, ``teacher``, ``distill``, ``n`` (runs), the mean
        and std (n - 1; NaN for one run) of each metric as ``<metric>`` and
        ``<metric>_std`` (teacher metrics only if some run logged them),
        ``delta_mIoU`` (difference of mean mIoU to the baseline's),
        ``params`` (of the first run), ``step_time`` (mean of the runs'
        medians) and, where the runs are summaries that have it,
        ``wall_time_s`` (mean per run, seconds). ``method`` is the config
        name in the rows whose short names collide.

    Raises:
        RunError: If ``baseline`` names no config of the runs.
    """
    metrics = [
        m for m in METRICS + TEACHER_METRICS
        if m in runs and runs[m].notna().any()
    ]
    stats = dict(
        method=('method', 'first'),
        teacher=('teacher', 'first'),
        distill=('distill', 'first'),
        n=('work_dir', 'size'))
    for m in metrics:
        stats[m] = (m, 'mean')
        stats[f'{m}_std'] = (m, 'std')  # pandas: ddof=1
    stats.update(params=('params', 'first'), step_time=('step_time', 'mean'))
    if 'wall_time_s' in runs:
        stats['wall_time_s'] = ('wall_time_s', 'mean')
    table = runs.groupby('config', sort=False).agg(**stats)
    collide = table['method'].duplicated(keep=False)
    table.loc[collide, 'method'] = table.index[collide]
    if baseline is None:
        plain = table.index[~table['distill'].astype(bool)]
        baseline = plain[0] if len(plain) == 1 else None
    else:
        baseline = find_config(table, baseline, '--baseline')
    if baseline is not None:
        delta = table['mIoU'] - table.loc[baseline, 'mIoU']
        table.insert(
            table.columns.get_loc('mIoU_std') + 1, 'delta_mIoU', delta)
    table.attrs['baseline'] = baseline
    return table


def mean_std_text(table: pd.DataFrame, metric: str) -> pd.Series:
    """``metric`` of :func:`aggregate`'s ``table`` as ``mean ± std`` text,
    2 decimals: the mean alone for one run, ``-`` where there is none."""
    mean, std = table[metric], table[f'{metric}_std']
    text = mean.map('{:.2f}'.format).where(mean.notna(), '-')
    return text.where(std.isna(), text + std.map(' ± {:.2f}'.format))


def to_markdown(table: pd.DataFrame) -> str:
    """The paper-style Markdown of :func:`aggregate`'s table: ``mean ± std``
    with 2 decimals (the mean alone for one run), params in millions,
    seconds per training iteration."""

    def mean_std(m):
        return mean_std_text(table, m)

    out = table[['method']].copy()
    out['teacher'] = table['teacher'].fillna('-')
    out['n'] = table['n']
    for m in METRICS:
        out[m] = mean_std(m)
        if m == 'mIoU' and 'delta_mIoU' in table:
            out['Δ mIoU'] = table['delta_mIoU'].map('{:+.2f}'.format)
            out.loc[table.attrs['baseline'], 'Δ mIoU'] = 'baseline'
    out['params (M)'] = (table['params'] / 1e6).map('{:.2f}'.format)
    out['s/iter'] = table['step_time'].map('{:.3f}'.format)
    if 'wall_time_s' in table:
        minutes = table['wall_time_s'] / 60
        out['min/run'] = minutes.map('{:.0f}'.format).where(
            minutes.notna(), '-')
    if 'teacher/mIoU' in table:
        out['teacher mIoU'] = mean_std('teacher/mIoU')
    # disable_numparse: tabulate would print '2.80' as 2.8
    return out.to_markdown(
        index=False,
        disable_numparse=True,
        colalign=['left', 'left'] + ['right'] * (out.shape[1] - 2))


def seed_table(runs: pd.DataFrame, table: pd.DataFrame,
               against: Sequence[str]) -> pd.DataFrame:
    """Each config's mIoU per seed, and its paired gaps to other rows.

    Seeds differ more than many methods do, so a row is compared with
    another only over the seeds both have: for each ``against`` row, the
    gap is the mean over those seeds of (this row's mIoU - that row's), in
    mIoU points, with the count of those seeds where this row is higher.

    Args:
        runs: Rows of :func:`read_run` with a ``seed``; runs without one
            are left out, and several runs of one config and seed are
            averaged.
        table: :func:`aggregate` of ``runs``: its configs, in its order,
            are the rows.
        against: Config or method names of the rows to compare with.

    Returns:
        A DataFrame indexed like ``table``: ``method``, one column per
        seed (``seed <s>``, float, NaN where the config has no run of it),
        ``mean ± std`` (text, from ``table``) and, for each ``against`` row
        with method M (``baseline`` for ``table``'s baseline), ``vs M``
        (float mean gap; NaN where no seed is
        shared and for M's own row), ``vs M n`` (shared seeds) and
        ``vs M higher`` (how many of them this row is higher on).

    Raises:
        RunError: If an ``against`` name names no row of ``table``, or
            several.
    """
    seeded = runs[runs['seed'].notna()] if 'seed' in runs else runs[:0]
    miou = seeded.pivot_table(
        index='config', columns='seed', values='mIoU',
        aggfunc='mean').reindex(table.index)
    out = pd.DataFrame({'method': table['method']})
    for seed in miou.columns:
        out[f'seed {int(seed)}'] = miou[seed]
    out['mean ± std'] = mean_std_text(table, 'mIoU')
    for name in against:
        ref = find_config(table, name, '--against')
        gap = miou.sub(miou.loc[ref], axis=1)  # NaN where one lacks a seed
        label = ('vs baseline' if ref == table.attrs.get('baseline') else
                 f'vs {table.loc[ref, "method"]}')
        out[label] = gap.mean(axis=1)
        out[f'{label} n'] = gap.notna().sum(axis=1)
        out[f'{label} higher'] = (gap > 0).sum(axis=1)
        out.loc[ref, label] = np.nan
    return out


def seed_markdown(seeds: pd.DataFrame) -> str:
    """Markdown of :func:`seed_table`: mIoU with 2 decimals (``-`` where a
    seed did not run), each gap as ``+1.23 (2/3)`` (mean gap, then seeds
    where the row is higher / seeds shared), empty on the row compared
    with itself, ``-`` where no seed is shared."""
    out = seeds[['method']].copy()
    for col in seeds:
        if col.startswith('seed '):
            out[col] = seeds[col].map('{:.2f}'.format).where(
                seeds[col].notna(), '-')
    out['mean ± std'] = seeds['mean ± std']
    for col in seeds:
        if col.startswith('vs ') and not col.endswith((' n', ' higher')):
            n, higher = seeds[f'{col} n'], seeds[f'{col} higher']
            text = (
                seeds[col].map('{:+.2f}'.format) + ' (' + higher.astype(str) +
                '/' + n.astype(str) + ')')
            text = text.where(n > 0, '-')
            out[col] = text.where(seeds[col].notna() | (n == 0), '')
    return out.to_markdown(
        index=False,
        disable_numparse=True,
        colalign=['left'] + ['right'] * (out.shape[1] - 1))


def per_class_markdown(runs: pd.DataFrame, table: pd.DataFrame) -> str:
    """Markdown of the student's per-class IoU (percent, 2 decimals), mean
    over each config's runs, one row per config of :func:`aggregate`'s
    ``table`` in its order; ``-`` where no run has the class (absent from
    the validation images, or runs without per-class tables)."""
    ious = [c for c in runs if c.startswith('IoU.')]
    means = runs.groupby(
        'config', sort=False)[ious].mean().reindex(table.index)
    out = pd.DataFrame({'method': table['method']})
    for c in ious:
        out[c[len('IoU.'):]] = means[c].map('{:.2f}'.format).where(
            means[c].notna(), '-')
    return out.to_markdown(
        index=False,
        disable_numparse=True,
        colalign=['left'] + ['right'] * len(ious))


def tables_markdown(runs: pd.DataFrame,
                    table: pd.DataFrame,
                    per_class: bool = False,
                    class_title: Optional[str] = None,
                    against: Optional[Sequence[str]] = None) -> str:
    """What the script prints: :func:`to_markdown` of ``table``; with
    ``against`` (a list, possibly empty) :func:`seed_markdown` of the mIoU
    per seed and the gaps to those rows; with ``per_class``
    :func:`per_class_markdown` under ``class_title`` (default: 'Per-class
    IoU of the student (mean over runs)'); then, where runs have a
    ``wall_time_s``, their count and total wall time in hours.

    Raises:
        RunError: As :func:`seed_table`.
    """
    text = to_markdown(table)
    if against is not None:
        text += (f'\n\n{SEED_TITLE}:\n\n' +
                 seed_markdown(seed_table(runs, table, against)))
    if per_class:
        title = class_title or 'Per-class IoU of the student (mean over runs)'
        text += f'\n\n{title}:\n\n' + per_class_markdown(runs, table)
    if 'wall_time_s' in runs:
        hours = runs['wall_time_s'].sum() / 3600
        runs_text = f'{len(runs)} run' + ('s' if len(runs) != 1 else '')
        text += (f'\n\n{runs_text}, {hours:.1f} h of wall time in all '
                 "(sum of the summaries' wall_time_s).")
    return text


def update_markdown(path: str, text: str) -> None:
    """Put ``text`` between the ``BEGIN`` and ``END`` lines of ``path``.

    Args:
        path: A Markdown file; created (holding the block alone) if missing.
        text: What goes between the two lines.

    Raises:
        RunError: If the file exists without exactly one ``BEGIN`` followed
            by one ``END`` line; it is left as it was.
    """
    block = f'{BEGIN}\n{text.rstrip()}\n{END}\n'
    if not osp.exists(path):
        with open(path, 'w') as f:
            f.write(block)
        return
    with open(path) as f:
        lines = f.read().splitlines(keepends=True)
    begins = [i for i, line in enumerate(lines) if line.strip() == BEGIN]
    ends = [i for i, line in enumerate(lines) if line.strip() == END]
    if len(begins) != 1 or len(ends) != 1 or ends[0] < begins[0]:
        raise RunError(
            f'--update {path}: expected one line "{BEGIN}" and, after it, one '
            f'line "{END}"; found {len(begins)} and {len(ends)}. The file is '
            'left unchanged')
    with open(path, 'w') as f:
        f.write(''.join(lines[:begins[0]]) + block +
                ''.join(lines[ends[0] + 1:]))
