# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""tools/analysis_tools/results_table.py on real short CamVid runs of
tools/train.py: the R18 student baseline with two seeds (one of them
resumed), KD and CWD (where the repository has their configs) and AICSD
(with the teacher evaluated beside it where TeacherEvalHook exists), all
distilled from a random R18 teacher. The tool's numbers are checked against
scalars.json, the logs and the checkpoints, read here independently."""
import csv
import glob
import json
import math
import os
import os.path as osp
import shutil
import statistics

import pandas as pd
import pytest
import torch
from mmengine.config import Config
from run_utils import AICSD, REPO, STUDENT, data_options, run, save_teacher

from mmseg.registry import HOOKS, MODELS
from mmseg_aicsd.utils import results
from tools.analysis_tools import results_table

TOOL = 'tools/analysis_tools/results_table.py'
# written by another engineer: in the test once they are in the repository
OTHER_KD = {
    'KD': 'configs/kd/kd_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py',
    'CWD': 'configs/cwd/cwd_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py',
}
OTHER_KD = {k: v for k, v in OTHER_KD.items() if osp.isfile(osp.join(REPO, v))}
TEACHER_HOOK = 'TeacherEvalHook' in HOOKS.module_dict
BASE = 'deeplabv3plus_r18-d8'  # the baseline's method name in the table
METRICS = ('mIoU', 'aAcc', 'mAcc')


def config_name(path):
    return osp.splitext(osp.basename(path))[0]


@pytest.fixture(scope='module')
def runs(tmp_path_factory, camvid_root):
    """Work dirs by name, each run validating at its last iteration:
    ``base0`` (baseline, seed 0, 2 iterations), ``base1`` (seed 1, 2
    iterations, then resumed to 4: two timestamp folders, validations at 2
    and 4), ``KD``, ``CWD`` and ``AICSD`` (seed 0, 2 iterations). Batch 2,
    one validation image."""
    root = tmp_path_factory.mktemp('runs')
    teacher = [
        f'model.teacher={osp.join(REPO, STUDENT)}',
        f'model.teacher_ckpt={save_teacher(root / "teacher.pth")}'
    ]
    aicsd = AICSD
    if TEACHER_HOOK:  # the AICSD config as it is, plus the teacher's eval
        hooks = [
            h.to_dict() for h in Config.fromfile(osp.join(REPO, AICSD)).get(
                'custom_hooks', [])
        ]
        if 'TeacherEvalHook' not in [h['type'] for h in hooks]:
            hooks = hooks + [dict(type='TeacherEvalHook')]
        os.makedirs(root / 'configs')
        aicsd = str(root / 'configs' / osp.basename(AICSD))
        with open(aicsd, 'w') as f:
            f.write(f'_base_ = [{osp.join(REPO, AICSD)!r}]\n'
                    f'custom_hooks = {hooks!r}\n')
    dirs = {
        name: str(root / name)
        for name in ['base0', 'base1', *OTHER_KD, 'AICSD']
    }

    def train(name, config, *options, iters=2, resume=()):
        run('tools/train.py', config, '--work-dir', dirs[name], *resume,
            '--cfg-options', *data_options(camvid_root, iters, n_train=2),
            'val_dataloader.dataset.indices=1', *options)

    train('base0', STUDENT, 'randomness.seed=0')
    train('base1', STUDENT, 'randomness.seed=1')
    train('base1', STUDENT, 'randomness.seed=1', iters=4, resume=['--resume'])
    for name, config in OTHER_KD.items():
        train(name, config, 'randomness.seed=0', *teacher)
    train('AICSD', aicsd, 'randomness.seed=0', *teacher)
    return dirs


def scalars_files(work_dir):
    return sorted(glob.glob(f'{work_dir}/*/vis_data/scalars.json'))


def read_json_lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def last_val(work_dir):
    """The last validation record of the newest scalars.json."""
    return [
        r for r in read_json_lines(scalars_files(work_dir)[-1]) if 'mIoU' in r
    ][-1]


def log_class_iou(work_dir):
    """{class: IoU} of the student's per-class table at the last validation:
    the last table of the newest log that is not the teacher's (those come
    right after TeacherEvalHook's "Evaluating the teacher" line)."""
    with open(sorted(glob.glob(f'{work_dir}/*/*.log'))[-1]) as f:
        chunks = f.read().split('per class results:')
    tables = [
        chunk for before, chunk in zip(chunks, chunks[1:])
        if 'Evaluating the teacher' not in before.rsplit('\n', 2)[-2]
    ]
    rows = [
        line.strip('|').split('|') for line in tables[-1].splitlines()
        if line.startswith('|')
    ]
    assert [c.strip() for c in rows[0]] == ['Class', 'IoU', 'Acc']
    return {r[0].strip(): float(r[1]) for r in rows[1:]}


def student_params():
    """Parameters of the R18 student built from its config."""
    model = MODELS.build(Config.fromfile(osp.join(REPO, STUDENT)).model)
    return sum(p.numel() for p in model.parameters())


def markdown_rows(text):
    """Header and rows of the Markdown table (separator line checked and
    dropped), as lists of stripped cells."""
    cells = [[c.strip() for c in line.strip('|').split('|')]
             for line in text.splitlines() if line.startswith('|')]
    assert set(''.join(cells[1])) <= set('-:'), cells[1]
    return cells[0], cells[2:]


def test_table_and_csv_match_the_runs(runs, tmp_path):
    methods = list(OTHER_KD) + ['AICSD']
    out_csv = tmp_path / 'runs.csv'
    proc = run(TOOL, *runs.values(), '--csv', str(out_csv))
    header, rows = markdown_rows(proc.stdout)
    assert header == [
        'method', 'teacher', 'n', 'mIoU', 'Δ mIoU', 'aAcc', 'mAcc',
        'params (M)', 's/iter'
    ] + ['teacher mIoU'] * TEACHER_HOOK
    assert [r[0] for r in rows] == [BASE] + methods
    rows = {r[0]: dict(zip(header, r)) for r in rows}

    # the baseline: mean ± std (n - 1) of the two seeds' last validations;
    # base1's is its resumed run's, at iteration 4
    assert [len(scalars_files(runs[n])) for n in ('base0', 'base1')] == [1, 2]
    vals = [last_val(runs['base0']), last_val(runs['base1'])]
    assert [v['step'] for v in vals] == [2, 4]
    base = rows[BASE]
    assert (base['teacher'], base['n'], base['Δ mIoU']) == ('-', '2',
                                                            'baseline')
    for metric in METRICS:
        values = [v[metric] for v in vals]
        assert base[metric] == (f'{statistics.mean(values):.2f} ± '
                                f'{statistics.stdev(values):.2f}'), metric
    base_miou = statistics.mean(v['mIoU'] for v in vals)
    params = student_params()
    for method in methods:
        val, row = last_val(runs[method]), rows[method]
        assert (row['teacher'], row['n']) == (BASE, '1')
        for metric in METRICS:
            assert row[metric] == f'{val[metric]:.2f}', (method, metric)
        assert row['Δ mIoU'] == f'{val["mIoU"] - base_miou:+.2f}'
        assert row['params (M)'] == f'{params / 1e6:.2f}'
        if TEACHER_HOOK:
            assert row['teacher mIoU'] == (f'{val["teacher/mIoU"]:.2f}'
                                           if method == 'AICSD' else '-')

    # the CSV: one row per run, with the exact values of its sources
    with open(out_csv) as f:
        csv_rows = {r['work_dir']: r for r in csv.DictReader(f)}
    assert sorted(csv_rows) == sorted(runs.values())
    medians = []
    for name, work_dir in runs.items():
        row, val = csv_rows[work_dir], last_val(work_dir)
        assert row['seed'] == ('1' if name == 'base1' else '0')
        assert row['config'] == (
            config_name(STUDENT) if name[:4] == 'base' else config_name(
                OTHER_KD.get(name, AICSD)))
        assert int(row['iter']) == val['step']
        for metric in METRICS:
            assert float(row[metric]) == val[metric]
        # the last checkpoint's weights, BN running statistics left out
        state = torch.load(f'{work_dir}/iter_{val["step"]}.pth')['state_dict']
        assert int(row['params']) == params == sum(
            v.numel() for k, v in state.items()
            if 'running_' not in k and 'num_batches_tracked' not in k)
        # median s/iter of the train records, base1: 1-2, then 3-4 resumed
        train = [
            r for path in scalars_files(work_dir)
            for r in read_json_lines(path) if 'loss' in r
        ]
        assert [r['iter'] for r in train] == list(range(1, val['step'] + 1))
        medians.append(statistics.median(r['time'] for r in train))
        assert float(row['step_time']) == pytest.approx(medians[-1])
        ious = log_class_iou(work_dir)
        assert len(ious) == 11
        for cls, iou in ious.items():
            value = float(row[f'IoU.{cls}'])
            assert (math.isnan(value) if math.isnan(iou) else value == iou)
        # mmseg's mIoU is the mean over the classes present
        assert statistics.mean(v for v in ious.values() if v == v) == \
            pytest.approx(val['mIoU'], abs=0.01)
    assert base['s/iter'] == f'{statistics.mean(medians[:2]):.3f}'
    if TEACHER_HOOK:  # AICSD's log: the teacher's table after the student's
        log, = glob.glob(f'{runs["AICSD"]}/*/*.log')
        with open(log) as f:
            assert f.read().count('per class results:') == 2
    assert f'{len(runs)} runs written to {out_csv}' in proc.stderr


def test_baseline_choice(runs):
    frame = pd.DataFrame([results.read_run(d) for d in runs.values()])
    miou = frame.groupby('config', sort=False)['mIoU'].mean()
    aicsd = config_name(AICSD)
    for name in ('AICSD', aicsd):  # method or config name
        table = results.aggregate(frame, baseline=name)
        assert table.attrs['baseline'] == aicsd
        assert table['delta_mIoU'].to_dict() == pytest.approx(
            (miou - miou[aicsd]).to_dict())
    # no plain (non-distillation) config: no default baseline, no delta
    table = results.aggregate(frame[frame['distill']])
    assert 'delta_mIoU' not in table
    assert 'Δ mIoU' not in results.to_markdown(table)
    with pytest.raises(results.RunError, match='--baseline R101: not one of'):
        results.aggregate(frame, baseline='R101')


def test_clear_errors(runs, tmp_path, monkeypatch):

    def fails(*work_dirs):
        monkeypatch.setattr('sys.argv', ['results_table.py', *work_dirs])
        with pytest.raises(SystemExit) as exc:
            results_table.main()
        return str(exc.value)

    missing = str(tmp_path / 'missing')
    assert fails(runs['base0'], missing) == \
        f'results_table: {missing}: no such directory'
    # a run stopped before its first validation: its train records only
    stopped = str(tmp_path / 'stopped')
    shutil.copytree(runs['base0'], stopped)
    path, = scalars_files(stopped)
    lines = [r for r in read_json_lines(path) if 'loss' in r]
    with open(path, 'w') as f:
        f.writelines(json.dumps(r) + '\n' for r in lines)
    assert fails(stopped) == (
        f'results_table: {stopped}: no finished validation in '
        'vis_data/scalars.json (2 train records, up to iteration 2); the run '
        'stopped before its first validation (train_cfg.val_interval = 2) '
        'or it is still running')
    empty = str(tmp_path / 'empty')
    os.makedirs(empty)
    assert 'expected one dumped config <name>.py, found none' in fails(empty)


def test_no_class_table_no_checkpoint(runs, tmp_path, capsys):
    """The row without a per-class table in the log; params from the
    student built from the config without a checkpoint (the distillation
    config built as its plain student)."""
    work_dir = str(tmp_path / 'aicsd')
    shutil.copytree(runs['AICSD'], work_dir)
    for path in glob.glob(f'{work_dir}/*.pth') + [
            f'{work_dir}/last_checkpoint'
    ]:
        os.remove(path)
    log, = glob.glob(f'{work_dir}/*/*.log')
    with open(log) as f:
        text = f.read()
    with open(log, 'w') as f:
        f.write(text.replace('per class results:', 'per-class omitted'))
    row = results.read_run(work_dir)
    val = last_val(work_dir)
    assert [row[m] for m in METRICS] == [val[m] for m in METRICS]
    assert not [k for k in row if k.startswith('IoU.')]
    assert row['params'] == student_params()
    assert (f'{work_dir}: no per-class table of the validation at iteration '
            f'{val["step"]} in its log') in capsys.readouterr().err


def test_only_colliding_methods_take_the_config_name():
    # two plain configs of one model (short name 'r18') and one distillation
    frame = pd.DataFrame(
        dict(
            config=['r18_600', 'r18_876', 'kd_r18_600', 'r18_600'],
            method=['r18', 'r18', 'KD', 'r18'],
            teacher=[None, None, 'r101', None],
            distill=[False, False, True, False],
            work_dir=['a', 'b', 'c', 'd'],
            mIoU=[28.0, 33.0, 31.0, 30.0],
            params=[12.5] * 4,
            step_time=[2.0, 2.0, 4.0, 2.0]))
    table = results.aggregate(frame, baseline='r18_600')
    assert table['method'].to_dict() == {
        'r18_600': 'r18_600',
        'r18_876': 'r18_876',
        'kd_r18_600': 'KD'
    }
    assert table['delta_mIoU'].to_dict() == pytest.approx({
        'r18_600': 0.0,
        'r18_876': 4.0,
        'kd_r18_600': 2.0
    })


def write_summaries(root, rows):
    """``root/<config>_seed<seed>.json`` summaries of (config, method,
    distill, seed, mIoU) tuples; aAcc and mAcc are 0 and unused here."""
    paths = []
    for config, method, distill, seed, miou in rows:
        path = str(root / f'{config}_seed{seed}.json')
        with open(path, 'w') as f:
            json.dump(
                dict(
                    config=config,
                    method=method,
                    teacher='r101' if distill else None,
                    distill=distill,
                    seed=seed,
                    iter=600,
                    mIoU=miou,
                    aAcc=0.0,
                    mAcc=0.0,
                    params=1,
                    step_time=1.0), f)
        paths.append(path)
    return paths


# worked by hand below: base has seeds 0-2, KD 0-1, X 0 and 2, Y only 3
SEEDED = [('r18', 'r18', False, 0, 28.0), ('r18', 'r18', False, 1, 30.0),
          ('r18', 'r18', False, 2, 26.0), ('kd_r18', 'KD', True, 0, 31.0),
          ('kd_r18', 'KD', True, 1, 29.0), ('x_r18', 'X', True, 0, 33.0),
          ('x_r18', 'X', True, 2, 25.0), ('y_r18', 'Y', True, 3, 40.0)]


def test_seed_table_gaps_are_over_shared_seeds(tmp_path):
    runs = pd.DataFrame(
        [results.read_summary(p) for p in write_summaries(tmp_path, SEEDED)])
    table = results.aggregate(runs)
    seeds = results.seed_table(runs, table, ['r18', 'KD'])
    assert seeds['seed 1'].isna().tolist() == [False, False, True, True]
    # KD - base on seeds 0, 1: (31 - 28 + 29 - 30) / 2; higher on seed 0
    # X - base on seeds 0, 2: (33 - 28 + 25 - 26) / 2; higher on seed 0
    # X - KD on seed 0 only: 33 - 31; base - KD: (28 - 31 + 30 - 29) / 2
    expected = {
        'vs baseline': [None, 1.0, 2.0, None],
        'vs baseline n': [3, 2, 2, 0],
        'vs baseline higher': [0, 1, 1, 0],
        'vs KD': [-1.0, None, 2.0, None],
        'vs KD n': [2, 2, 1, 0],
        'vs KD higher': [1, 0, 1, 0],
    }
    for col, values in expected.items():
        got = seeds[col].tolist()
        assert [None if pd.isna(v) else v for v in got] == values, col
    lines = results.seed_markdown(seeds).splitlines()
    assert [c.strip() for c in lines[0].strip('|').split('|')] == [
        'method', 'seed 0', 'seed 1', 'seed 2', 'seed 3', 'mean ± std',
        'vs baseline', 'vs KD'
    ]
    cells = {
        line.split('|')[1].strip():
        [c.strip() for c in line.strip().strip('|').split('|')][1:]
        for line in lines[2:]
    }
    assert cells == {
        'r18':
        ['28.00', '30.00', '26.00', '-', '28.00 ± 2.00', '', '-1.00 (1/2)'],
        'KD': ['31.00', '29.00', '-', '-', '30.00 ± 1.41', '+1.00 (1/2)', ''],
        'X': [
            '33.00', '-', '25.00', '-', '29.00 ± 5.66', '+2.00 (1/2)',
            '+2.00 (1/1)'
        ],
        'Y': ['-', '-', '-', '40.00', '40.00', '-', '-'],
    }


def test_per_seed_option(tmp_path, monkeypatch, capsys):
    paths = write_summaries(tmp_path, SEEDED)
    monkeypatch.setattr(
        'sys.argv',
        ['results_table.py', *paths, '--per-seed', '--against', 'KD'])
    results_table.main()
    out = capsys.readouterr().out
    assert results.SEED_TITLE in out
    x_row = [line for line in out.splitlines() if line.startswith('| X ')]
    # the main table's row, then the per-seed table's
    assert len(x_row) == 2 and x_row[1].rstrip('| ').endswith('+2.00 (1/1)')
    monkeypatch.setattr(
        'sys.argv',
        ['results_table.py', *paths, '--per-seed', '--against', 'CWD'])
    with pytest.raises(SystemExit) as exc:
        results_table.main()
    assert str(exc.value) == (
        "results_table: --against CWD: not one of the configs ['r18', "
        "'kd_r18', 'x_r18', 'y_r18']")
