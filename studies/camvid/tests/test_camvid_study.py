# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""studies/camvid/camvid_study.py and the run summaries of results_table.py:
the plan and the tables on hand-made summaries (means and stds computed here),
then a real two-iteration study on CamVid whose summaries are checked
against the work dirs' scalars.json."""
import glob
import json
import math
import os
import os.path as osp
import statistics
import subprocess

import pytest
from PIL import Image
from run_utils import REPO, STUDENT, data_options, run

SCRIPT = 'studies/camvid/camvid_study.py'
CLASSES = ('sky', 'road', 'car')


@pytest.fixture(scope='module')
def study_tool():
    """The runner as a module (``studies`` is a package of the
    repository)."""
    from studies.camvid import camvid_study
    return camvid_study


def write(study, row, seed, miou, ious=(50.0, 80.0, float('nan'))):
    """Write a summary as the study does, with made-up metrics."""
    distill = row != 'baseline'
    summary = dict(
        config=f'{row}_config',
        method=row.upper(),
        teacher='r101' if distill else None,
        distill=distill,
        seed=seed,
        work_dir=f'{row}_seed{seed}',
        iter=600,
        mIoU=miou,
        aAcc=miou + 40,
        mAcc=miou + 5,
        params=12467410,
        step_time=2.5,
        wall_time_s=1800.0 + seed,
        row=row)
    summary.update({f'IoU.{c}': v for c, v in zip(CLASSES, ious)})
    if distill:
        summary['teacher/mIoU'] = 40.0
    study.write_json(study.summary_path(row, seed), summary)
    return summary


def test_study_rows_are_configs(study_tool):
    assert set(study_tool.STAGE2_ROWS) <= set(study_tool.ROWS)
    assert set(study_tool.AICSD_VARIANTS) <= set(study_tool.ROWS)
    for row, config in study_tool.ROWS.items():
        assert osp.isfile(osp.join(REPO, config)), row
    assert osp.isfile(osp.join(REPO, study_tool.TEACHER))
    assert not study_tool.Study.distills('baseline')
    assert not study_tool.Study.distills('baseline-time-matched')
    assert all(
        study_tool.Study.distills(r) for r in study_tool.ROWS
        if not r.startswith('baseline'))


def test_plan_stage2_waits_for_the_aicsd_variants(study_tool, tmp_path):
    study = study_tool.Study(tmp_path / 'work', tmp_path / 'out')
    late = ['i2ckd', 'idd', 'fitnet', 'ifvd', 'cirkd', 'dist']
    released = [
        'kd-released-icsd', 'aicsd-released', 'kd-released-weight',
        'icsd-released', 'baseline-time-matched', 'kd-icsd-normalize'
    ]
    rows = [
        r for r in study_tool.ROWS if r not in late + released + ['kd-cache']
    ]
    assert len(rows) == 10 and rows[-1] == 'cwd'
    stage2 = ('baseline', 'kd', 'kd-icsd', 'kd-icsd-lambda0.05')
    runs, note = study.plan()
    assert runs == [(r, 0) for r in rows] + [
        (r, s) for s in (1, 2) for r in stage2
    ] + [(r, 0) for r in late] + [(r, s) for s in (0, 1, 2)
                                  for r in released] + [('kd-cache', s)
                                                        for s in (0, 1, 2)]
    assert 'chosen once' in note
    # three of four variants: still waiting
    write(study, 'aicsd-ne50', 0, miou=31.0)
    write(study, 'aicsd', 0, miou=33.5)
    write(study, 'aicsd-ne50-lambda0.05', 0, miou=30.0)
    assert study.best_aicsd() is None
    write(study, 'aicsd-exp-ne50', 0, miou=32.0)
    assert study.best_aicsd() == 'aicsd'
    runs, note = study.plan()
    runs = runs[:-21]  # before the released and the cache rows
    assert runs[-8:] == [('kd-icsd-lambda0.05', 2), ('aicsd', 2),
                         *[(r, 0) for r in late]]
    assert ('aicsd', 1) in runs and ('aicsd-ne50', 1) not in runs
    assert 'aicsd 33.50' in note and 'aicsd-ne50 31.00' in note
    runs, _ = study.plan(rows=['kd', 'aicsd'], seeds=[1, 2])
    assert runs == [('kd', 1), ('aicsd', 1), ('kd', 2), ('aicsd', 2)]


def test_plan_adds_seeds_of_methods_that_beat_kd(study_tool, tmp_path):
    """Seeds 1 and 2 of a method row only once its seed 0 beats KD's."""
    study = study_tool.Study(tmp_path / 'work', tmp_path / 'out')
    methods = ['fitnet', 'ifvd', 'cirkd', 'dist']

    def extra():
        runs, _ = study.plan(rows=methods, seeds=[1, 2])
        return runs

    write(study, 'fitnet', 0, miou=33.0)
    assert extra() == []  # no KD seed 0 yet
    write(study, 'kd', 0, miou=32.74)
    write(study, 'ifvd', 0, miou=32.74)  # a tie does not beat KD
    write(study, 'dist', 0, miou=32.0)
    assert extra() == [('fitnet', 1), ('fitnet', 2)]
    write(study, 'cirkd', 0, miou=32.75)
    assert extra() == [('fitnet', 1), ('cirkd', 1), ('fitnet', 2),
                       ('cirkd', 2)]


def test_given_teacher_checkpoint(study_tool, tmp_path, monkeypatch):
    """--teacher-ckpt: no teacher training; its summary is teacher.json,
    and each distillation summary names the file and its SHA-256."""
    ckpt = tmp_path / 'teacher_fp16.pth'
    study = study_tool.Study(
        tmp_path / 'work', tmp_path / 'out', teacher_ckpt=str(ckpt))
    with pytest.raises(RuntimeError, match='teacher_fp16.pth does not exist'):
        study.teacher()
    ckpt.write_bytes(b'abc')
    with pytest.raises(RuntimeError, match='teacher.json does not exist'):
        study.teacher()
    teacher = dict(
        config='teacher_config',
        method='TEACHER',
        mIoU=40.67,
        aAcc=85.14,
        mAcc=50.0,
        seed=0,
        iter=1600,
        distill=False)
    study.write_json(str(tmp_path / 'out' / 'teacher.json'), teacher)
    monkeypatch.setattr(study, 'finished_row',
                        lambda *a: pytest.fail('no teacher work dir is read'))
    path, summary = study.teacher()
    assert path == str(ckpt)
    assert summary['mIoU'] == 40.67 and summary['aAcc'] == 85.14
    row = dict(
        config='kd_config',
        method='KD',
        distill=True,
        seed=1,
        iter=600,
        mIoU=30.0,
        aAcc=70.0,
        mAcc=40.0)
    monkeypatch.setattr(study, 'finished_row', lambda *a: row)
    summary = study.run('kd-released-weight', 1, str(ckpt), teacher)
    assert summary['teacher_ckpt'] == 'teacher_fp16.pth'
    # sha256 of b'abc'
    assert summary['teacher_sha256'] == (
        'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
    assert summary['teacher/mIoU'] == 40.67
    assert summary['row'] == 'kd-released-weight'
    assert json.loads(
        open(study.summary_path('kd-released-weight', 1)).read()) == summary


def test_cache_row_builds_the_cache_once(study_tool, tmp_path, monkeypatch):
    """kd-cache: build_teacher_cache.py runs once, with the study's
    teacher; every run gets model.teacher_cache and the build time."""
    study = study_tool.Study(tmp_path / 'work', tmp_path / 'out')
    calls = []

    def fake_run(cmd, **kw):
        calls.append(cmd)
        if 'build_teacher_cache.py' in cmd[1]:
            out = cmd[cmd.index('--out') + 1]
            os.makedirs(out)
            open(osp.join(out, 'manifest.json'), 'w').write('{}')
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(study_tool.subprocess, 'run', fake_run)
    monkeypatch.setattr(study, 'finished_row', lambda *a: next(done))
    teacher = {m: 40.0 for m in study_tool.RT.METRICS}
    for seed in (0, 1):
        done = iter([None, dict(distill=True, seed=seed, mIoU=31.0)])
        summary = study.run('kd-cache', seed, '/t/teacher.pth', teacher)
        assert summary['teacher_cache_build_s'] >= 0
    builds = [c for c in calls if 'build_teacher_cache.py' in c[1]]
    trains = [c for c in calls if c[1].endswith('train.py')]
    assert len(builds) == 1 and len(trains) == 2
    cache = osp.join(study.work_root, 'teacher_cache')
    assert builds[0][builds[0].index('--out') + 1] == cache
    assert 'model.teacher_ckpt=/t/teacher.pth' in builds[0]
    assert f'model.teacher={study.teacher_config}' in builds[0]
    for cmd in trains:
        assert f'model.teacher_cache={cache}' in cmd
        assert 'model.teacher_ckpt=/t/teacher.pth' in cmd
    # a build that stopped (no manifest) is built again; a failed one names
    # its log
    os.remove(osp.join(cache, 'manifest.json'))
    monkeypatch.setattr(study_tool.subprocess, 'run',
                        lambda cmd, **kw: subprocess.CompletedProcess(cmd, 3))
    with pytest.raises(RuntimeError, match=r'exit 3.*teacher_cache\.log'):
        study.teacher_cache('cfg.py', '/t/teacher.pth')
    assert not osp.exists(cache)


def test_readme_tables_from_summaries(study_tool, tmp_path):
    study = study_tool.Study(tmp_path / 'work', tmp_path / 'out')
    readme = tmp_path / 'out' / 'README.md'
    readme.parent.mkdir(parents=True)
    rt = study_tool.RT
    prose = '# CamVid study\n\nWritten by hand.\n\n'
    readme.write_text(prose + f'{rt.BEGIN}\nold\n{rt.END}\n\nAfter.\n')
    base = [
        write(
            study, 'baseline', s, miou=m, ious=(60.0 + s, 90.0, float('nan')))
        for s, m in zip((0, 1, 2), (29.0, 30.5, 31.0))
    ]
    kd = [write(study, 'kd', s, miou=m) for s, m in zip((0, 1), (30.0, 33.0))]
    text = study.write_readme()
    assert readme.read_text().startswith(prose + rt.BEGIN + '\n')
    assert readme.read_text().endswith(f'\n{rt.END}\n\nAfter.\n')
    assert 'old' not in readme.read_text()
    lines = {
        line.split('|')[1].strip():
        [c.strip() for c in line.strip('|').split('|')]
        for line in text.split('Per-class IoU')[0].splitlines()
        if line.startswith('| ')
    }
    b = [r['mIoU'] for r in base]
    k = [r['mIoU'] for r in kd]
    head = lines['method']
    row_b = dict(zip(head, lines['BASELINE']))
    row_k = dict(zip(head, lines['KD']))
    assert row_b['n'] == '3' and row_k['n'] == '2'
    assert row_b['mIoU'] == \
        f'{statistics.mean(b):.2f} ± {statistics.stdev(b):.2f}'
    assert row_k['mIoU'] == \
        f'{statistics.mean(k):.2f} ± {statistics.stdev(k):.2f}'
    assert row_k['Δ mIoU'] == \
        f'{statistics.mean(k) - statistics.mean(b):+.2f}'
    assert row_b['Δ mIoU'] == 'baseline'
    assert row_k['teacher mIoU'] == '40.00 ± 0.00'
    assert row_b['min/run'] == '30' and row_k['min/run'] == '30'
    # per-class table: the means over seeds; a class no run has is '-'
    per_class = [
        line for line in text.split('Per-class IoU')[1].splitlines()
        if line.startswith('| BASELINE')
    ][0]
    cells = [c.strip() for c in per_class.strip('|').split('|')]
    assert cells == ['BASELINE', '61.00', '90.00', '-']
    assert '5 runs, 2.5 h of wall time' in text
    assert 'Still to run: kd-icsd (seed 0)' in text
    assert 'kd (seed 2)' in text and 'baseline (seed' not in text
    # with teacher.json: the teacher's row first in both tables, its wall
    # time counted
    teacher = dict(
        base[0],
        config='teacher_config',
        method='TEACHER',
        mIoU=40.0,
        wall_time_s=7200.0,
        row=None)
    teacher.update({f'IoU.{c}': v for c, v in zip(CLASSES, (70, 95, 10))})
    study.write_json(str(tmp_path / 'out' / 'teacher.json'), teacher)
    text = study.write_readme()
    overall, classes = text.split('Per-class IoU')
    first = [line for line in overall.splitlines() if line.startswith('| ')]
    assert first[1].startswith('| TEACHER ')  # [0]: the header
    cells = [c.strip() for c in first[1].strip('|').split('|')]
    row_t = dict(zip(head, cells))
    assert row_t['n'] == '1' and row_t['mIoU'] == '40.00'
    assert row_t['Δ mIoU'] == f'{40.0 - statistics.mean(b):+.2f}'
    assert classes.startswith(', mean over runs (first row: the teacher)')
    per_class = [
        line for line in classes.splitlines() if line.startswith('| ')
    ]
    assert [c.strip() for c in per_class[1].strip('|').split('|')] == \
        ['TEACHER', '70.00', '95.00', '10.00']
    assert '6 runs, 4.5 h of wall time' in text


def test_retrained_teacher_keeps_the_earlier_summary(study_tool, tmp_path,
                                                     monkeypatch, capsys):
    """A teacher trained again (its work dir lost) that ends at another val
    mIoU: its summary becomes teacher.json, the earlier one teacher.1.json,
    and both count in the tables and the figure."""
    study = study_tool.Study(tmp_path / 'work', tmp_path / 'out')
    base = write(study, 'baseline', 0, miou=29.0)
    first = dict(
        base,
        config='teacher_config',
        method='TEACHER',
        mIoU=41.0,
        wall_time_s=7200.0,
        row=None,
        distill=False)
    first.update({f'IoU.{c}': v for c, v in zip(CLASSES, (70, 95, 10))})
    out = tmp_path / 'out'
    study.write_json(str(out / 'teacher.json'), first)
    work_dir = tmp_path / 'work' / 'teacher'
    work_dir.mkdir(parents=True)
    (work_dir / 'iter_1600.pth').write_bytes(b'')
    (work_dir / 'wall_time.json').write_text('[3600.0]')
    retrained = dict(first, mIoU=40.0, **{'IoU.sky': 60.0})
    monkeypatch.setattr(study, 'finished_row', lambda config, wd: retrained)
    ckpt, summary = study.teacher()
    assert ckpt == str(work_dir / 'iter_1600.pth')
    assert summary['mIoU'] == 40.0 and summary['wall_time_s'] == 3600.0
    assert json.loads((out / 'teacher.1.json').read_text()) == first
    assert json.loads((out / 'teacher.json').read_text()) == summary
    assert f'kept as {out / "teacher.1.json"}' in capsys.readouterr().err
    assert study.teachers() == [
        str(out / 'teacher.1.json'),
        str(out / 'teacher.json')
    ]
    # the same teacher again: nothing moves
    assert study.teacher()[1] == summary
    assert not (out / 'teacher.2.json').exists()
    text = study.write_readme()
    overall, classes = text.split('Per-class IoU')
    lines = [line for line in overall.splitlines() if line.startswith('| ')]
    head = [c.strip() for c in lines[0].strip('|').split('|')]
    row_t = dict(
        zip(head, [c.strip() for c in lines[1].strip('|').split('|')]))
    assert row_t['method'] == 'TEACHER' and row_t['n'] == '2'
    assert row_t['mIoU'] == f'40.50 ± {statistics.stdev([41.0, 40.0]):.2f}'
    teacher_ious = [
        line for line in classes.splitlines() if line.startswith('| TEACHER')
    ][0]
    assert teacher_ious.split('|')[2].strip() == '65.00'  # sky: (70 + 60)/2
    assert '3 runs, 3.5 h of wall time' in text  # 7200 + 3600 + 1800 s
    assert study.figure_runs() == (study.teachers() +
                                   [study.summary_path('baseline', 0)],
                                   ['teacher', 'baseline'])
    # a third training: teacher.2.json
    monkeypatch.setattr(study, 'finished_row',
                        lambda config, wd: dict(retrained, mIoU=39.0))
    study.teacher()
    assert study.teachers(
    ) == [str(out / f'teacher.{k}.json')
          for k in (1, 2)] + [str(out / 'teacher.json')]
    assert json.loads((out / 'teacher.2.json').read_text())['mIoU'] == 40.0


def test_per_class_figure_from_summaries(study_tool, tmp_path, capsys):
    study = study_tool.Study(tmp_path / 'work', tmp_path / 'out')
    assert study.write_figure() is None  # no summaries yet
    base = [
        write(
            study,
            'baseline',
            s,
            miou=29.0 + s,
            ious=(60.0 + 2 * s, 90.0, float('nan'))) for s in (0, 1)
    ]
    write(study, 'kd', 0, miou=33.0, ious=(70.0, 91.0, 5.0))
    write(study, 'icsd', 0, miou=20.0)  # not a row of the figure
    path = study.write_figure()
    assert path == str(tmp_path / 'out' / 'per_class_iou.png')
    assert osp.getsize(path) > 1000
    # the bars it draws: per_class_iou.py on the same summaries
    from tools.analysis_tools import per_class_iou as pc
    mean, std, miou, count = pc.per_class_iou([
        study.summary_path(r, s)
        for r, s in (('baseline', 0), ('baseline', 1), ('kd', 0))
    ],
                                              labels=['baseline', 'kd'])
    assert list(mean.columns) == ['baseline', 'kd']
    assert mean.loc['sky', 'baseline'] == 61.0
    assert std.loc['sky', 'baseline'] == pytest.approx(math.sqrt(2))
    assert miou['baseline'] == statistics.mean(r['mIoU'] for r in base)
    assert count.to_dict() == {'baseline': 2, 'kd': 1}
    # the teacher first; the best of the four AICSD variants joins, before
    # 'aicsd' (the shipped config)
    teacher = str(tmp_path / 'out' / 'teacher.json')
    study.write_json(
        teacher,
        dict(base[0], config='teacher_config', method='TEACHER', row=None))
    for row, m in (('aicsd-ne50', 31.0), ('aicsd', 30.0),
                   ('aicsd-ne50-lambda0.05', 32.0), ('aicsd-exp-ne50', 1.0)):
        write(study, row, 0, miou=m)
    paths, labels = study.figure_runs()
    assert labels == [
        'teacher', 'baseline', 'kd', 'aicsd-ne50-lambda0.05', 'aicsd'
    ]
    assert paths == [teacher] + [
        study.summary_path(r, s)
        for r, s in (('baseline', 0), ('baseline', 1), ('kd', 0),
                     ('aicsd-ne50-lambda0.05', 0), ('aicsd', 0))
    ]
    assert study.write_figure() == path
    # a summary without per-class IoU: no figure, said, and no exception
    kd = json.loads(open(study.summary_path('kd', 0)).read())
    study.write_json(
        study.summary_path('kd', 0), {
            k: v
            for k, v in kd.items() if not k.startswith('IoU')
        })
    os.remove(path)
    assert study.write_figure() is None and not osp.exists(path)
    assert 'camvid_study: no per-class figure: ' in capsys.readouterr().out


def test_update_markdown_errors_keep_the_file(study_tool, tmp_path):
    rt = study_tool.RT
    path = tmp_path / 'notes.md'
    for body in ('no markers\n', f'{rt.END}\n{rt.BEGIN}\n',
                 f'{rt.BEGIN}\n{rt.BEGIN}\n{rt.END}\n'):
        path.write_text(body)
        with pytest.raises(rt.RunError, match='left unchanged'):
            rt.update_markdown(str(path), 'table')
        assert path.read_text() == body
    new = tmp_path / 'new.md'
    rt.update_markdown(str(new), 'table\n')
    assert new.read_text() == f'{rt.BEGIN}\ntable\n{rt.END}\n'


def test_bad_summaries(study_tool, tmp_path):
    rt = study_tool.RT
    cases = {
        'missing.json': 'no such run summary',
        'broken.json': 'not JSON',
        'list.json': 'expected a JSON object',
        'partial.json': r"without \['seed', 'iter'"
    }
    (tmp_path / 'broken.json').write_text('{"config": ')
    (tmp_path / 'list.json').write_text('[]')
    (tmp_path / 'partial.json').write_text(
        json.dumps(
            dict(
                config='c', method='m', distill=False, mIoU=1, aAcc=2,
                mAcc=3)))
    for name, message in cases.items():
        with pytest.raises(rt.RunError, match=message):
            rt.read_summary(str(tmp_path / name))


def test_failed_training_keeps_wall_time_and_resumes(study_tool, tmp_path,
                                                     monkeypatch):
    study = study_tool.Study(tmp_path / 'work', tmp_path / 'out')
    work_dir = study.work_dir('kd', 1)
    calls = []

    def fake_run(cmd, **kw):
        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 1)

    monkeypatch.setattr(study_tool.subprocess, 'run', fake_run)
    with pytest.raises(RuntimeError, match=r'exit 1.*kd_seed1\.log'):
        study.train('cfg.py', work_dir, ['randomness.seed=1'])
    assert '--resume' not in calls[0]
    (tmp_path / 'work' / 'kd_seed1' / 'iter_300.pth').write_bytes(b'')
    with pytest.raises(RuntimeError):
        study.train('cfg.py', work_dir, ['randomness.seed=1'])
    assert calls[1][calls[1].index('--work-dir') + 1] == work_dir
    assert '--resume' in calls[1]
    assert calls[1][-1] == 'randomness.seed=1'
    with open(osp.join(work_dir, 'wall_time.json')) as f:
        assert len(json.load(f)) == 2

    def interrupted(cmd, **kw):  # Ctrl-C, or SIGTERM in main()
        raise KeyboardInterrupt

    monkeypatch.setattr(study_tool.subprocess, 'run', interrupted)
    with pytest.raises(KeyboardInterrupt):
        study.train('cfg.py', work_dir, ['randomness.seed=1'])
    with open(osp.join(work_dir, 'wall_time.json')) as f:
        times = json.load(f)
    assert len(times) == 3 and all(t >= 0 for t in times)


def last_val(work_dir):
    paths = sorted(glob.glob(f'{work_dir}/*/vis_data/scalars.json'))
    with open(paths[-1]) as f:
        records = [json.loads(line) for line in f]
    return [r for r in records if 'mIoU' in r][-1]


def test_real_study_on_camvid(study_tool, camvid_root, tmp_path, capsys):
    """Teacher (the R18 student config, to be quick) and the KD row, seed 0,
    two iterations each on a few real images; then a second call that
    trains nothing and one that only re-summarizes. (The baseline row takes
    the same path, less the teacher options.)"""
    work, out = tmp_path / 'work', tmp_path / 'out'
    args = [
        SCRIPT, '--work-root',
        str(work), '--out',
        str(out), '--rows', 'kd', '--seeds', '0', '--teacher-config',
        osp.join(REPO, STUDENT), '--cfg-options',
        *data_options(camvid_root, 2)
    ]
    first = run(*args)
    teacher = json.loads((out / 'teacher.json').read_text())
    assert teacher['mIoU'] == last_val(work / 'teacher')['mIoU']
    assert teacher['iter'] == 2 and not teacher['distill']
    for row in ('kd', ):
        summary = json.loads((out / 'runs' / f'{row}_seed0.json').read_text())
        val = last_val(work / f'{row}_seed0')
        assert summary['row'] == row and summary['seed'] == 0
        assert summary['iter'] == 2
        for m in ('mIoU', 'aAcc', 'mAcc'):
            assert summary[m] == val[m]
        with open(work / f'{row}_seed0' / 'wall_time.json') as f:
            times = json.load(f)
        assert len(times) == 1 and summary['wall_time_s'] == times[0] > 0
        assert summary['distill'] == (row == 'kd')
        assert not math.isnan(summary['IoU.sky'])
    kd = json.loads((out / 'runs' / 'kd_seed0.json').read_text())
    assert kd['teacher/mIoU'] == teacher['mIoU']
    assert kd['teacher_ckpt'] == osp.join('teacher', 'iter_2.pth')
    assert f'model.teacher_ckpt={work}/teacher/iter_2.pth' in first.stdout
    readme = (out / 'README.md').read_text()
    assert '| KD ' in readme and 'Still to run: baseline (seed 0)' in readme
    # the per-class figure: teacher and KD, 11 classes x 2 bars at 70 dpi
    # (per_class_iou.py's size: 1.5 + 11 * (0.22 * 2 + 0.35) x 4.8 inches)
    with Image.open(out / 'per_class_iou.png') as image:
        assert image.size == (round(70 * (1.5 + 11 * 0.79)), 336)
    stamps = sorted(glob.glob(f'{work}/*/2*'))
    # in this process from here (no training expected): everything done;
    # the teacher's summary stays the one written when it finished, not
    # one with this call's options
    teacher_text = (out / 'teacher.json').read_text()
    study_tool.main(args[1:] + ['default_hooks.logger.interval=2'])
    assert '1 of 1 runs done' in capsys.readouterr().out
    assert sorted(glob.glob(f'{work}/*/2*')) == stamps
    assert (out / 'teacher.json').read_text() == teacher_text
    # a finished work dir without its summary is summarized, not retrained
    (out / 'runs' / 'kd_seed0.json').unlink()
    study_tool.main(args[1:])
    assert '0 of 1 runs done' in capsys.readouterr().out
    assert json.loads((out / 'runs' / 'kd_seed0.json').read_text()) == kd
    assert sorted(glob.glob(f'{work}/*/2*')) == stamps


def test_lock_keeps_a_second_process_off_a_run(study_tool, tmp_path,
                                               monkeypatch, capsys):
    work, out = tmp_path / 'work', tmp_path / 'out'
    study = study_tool.Study(work, out)
    work_dir = study.work_dir('baseline', 1)
    lock = tmp_path / 'work' / 'baseline_seed1.lock'
    lock.parent.mkdir()
    calls = []
    monkeypatch.setattr(study_tool.subprocess, 'run',
                        lambda cmd, **kw: calls.append(cmd))
    with subprocess.Popen(['sleep', '60']) as other:
        lock.write_text(f'{other.pid} {study_tool.boot_id()}\n')
        assert study.holder(work_dir) == f'pid {other.pid}'
        with pytest.raises(study_tool.Busy, match=f'pid {other.pid}'):
            study.train('cfg.py', work_dir, [])
        study_tool.main([
            '--work-root',
            str(work), '--out',
            str(out), '--rows', 'baseline', '--seeds', '1'
        ])
        printed = capsys.readouterr().out
        assert f'baseline seed 1: being trained by pid {other.pid}' in printed
        assert '0 of 1 runs done' in printed
        assert calls == [] and lock.exists()
        other.kill()
    # a dead holder, or one of another boot: stale, removed
    lock.write_text(f'{other.pid} {study_tool.boot_id()}\n')
    assert study.holder(work_dir) is None and not lock.exists()
    lock.write_text(f'{os.getppid()} another-boot\n')
    assert study.holder(work_dir) is None and not lock.exists()
    # a failed run releases its lock
    monkeypatch.setattr(study_tool.subprocess, 'run',
                        lambda cmd, **kw: subprocess.CompletedProcess(cmd, 2))
    with pytest.raises(RuntimeError, match='exit 2'):
        study.train('cfg.py', work_dir, [])
    assert not lock.exists()


def test_teacher_only_writes_the_named_summary(study_tool, tmp_path,
                                               monkeypatch, capsys):
    """--teacher-only --teacher-summary teacher_v2.json: the teacher is
    trained (here: found finished), its summary names the config and the
    checkpoint's SHA-256, and no student run starts; a retrained one keeps
    the earlier summary as teacher_v2.1.json."""
    work_dir = tmp_path / 'work' / 'teacher'
    work_dir.mkdir(parents=True)
    (work_dir / 'iter_1600.pth').write_bytes(b'abc')
    config = ('studies/camvid/configs/'
              'deeplabv3plus_r101-d16-mg124_mfb-sqrt_1xb4-1600_camvid-'
              '180x240.py')
    row = dict(
        config='teacher_v2',
        method='TEACHER',
        distill=False,
        mIoU=50.0,
        aAcc=85.0,
        mAcc=60.0,
        seed=0,
        iter=1600)
    monkeypatch.setattr(study_tool.Study, 'finished_row',
                        lambda self, c, wd: dict(row))
    monkeypatch.setattr(study_tool.Study, 'run',
                        lambda *a: pytest.fail('no student run'))
    out = tmp_path / 'out'
    study_tool.main([
        '--work-root',
        str(tmp_path / 'work'), '--out',
        str(out), '--teacher-config', config, '--teacher-summary',
        'teacher_v2.json', '--teacher-only'
    ])
    assert 'val mIoU 50.00' in capsys.readouterr().out
    summary = json.loads((out / 'teacher_v2.json').read_text())
    assert summary['config_path'] == config
    assert summary['checkpoint'] == 'iter_1600.pth'
    assert summary['checkpoint_sha256'] == (  # sha256 of b'abc'
        'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
    assert not (out / 'teacher.json').exists()
    row['mIoU'] = 49.0
    study_tool.main([
        '--work-root',
        str(tmp_path / 'work'), '--out',
        str(out), '--teacher-config', config, '--teacher-summary',
        'teacher_v2.json', '--teacher-only'
    ])
    assert json.loads((out / 'teacher_v2.1.json').read_text())['mIoU'] == 50
    assert json.loads((out / 'teacher_v2.json').read_text())['mIoU'] == 49


@pytest.mark.parametrize(
    'mious,budget',
    [
        ((30.0, 31.4, 35.0), 600),  # 600 -> 1200 adds 1.4
        ((30.0, 33.0, 34.0), 1200),  # 1200 -> 2400 adds 1.0
        ((30.0, 33.0, 34.5), 2400),  # both add >= 1.5
        ((30.0, 31.5, 32.0), 1200),  # exactly 1.5 is not less
    ])
def test_class_balanced_budget(study_tool, tmp_path, mious, budget):
    study = study_tool.ClassBalancedStudy(tmp_path / 'work', tmp_path / 'out')
    assert study.plan()[0] == [('baseline-600', 0), ('baseline-1200', 0),
                               ('baseline-2400', 0)]
    assert study.budget()[0] is None
    for n, miou in zip(study_tool.BUDGETS, mious):
        assert study.budget()[0] is None
        write(study, f'baseline-{n}', 0, miou)
    chosen, note = study.budget()
    assert chosen == budget
    assert f'budget B = {budget}' in note and '600: 30.00' in note


def test_class_balanced_regime_defaults(study_tool, tmp_path, capsys):
    """--regime class-balanced: its rows, out folder, teacher config and
    summary name; the configs exist and weight the CE by class."""
    study = study_tool.ClassBalancedStudy(tmp_path / 'work', tmp_path / 'out')
    assert study.teacher_summary == 'teacher_v2.json'
    assert study.teacher_config == osp.join(REPO, study_tool.CB_TEACHER)
    for config in list(study.rows.values()) + [study_tool.CB_TEACHER]:
        cfg = study_tool.Config.fromfile(osp.join(REPO, config))
        loss = cfg.model.decode_head.loss_decode
        assert loss.type == 'ClassWeightedCrossEntropyLoss', config
        assert cfg.model.auxiliary_head.loss_decode.class_weight == \
            loss.class_weight
    for n in study_tool.BUDGETS:
        cfg = study_tool.Config.fromfile(
            osp.join(REPO, study.rows[f'baseline-{n}']))
        assert cfg.train_cfg.max_iters == cfg.param_scheduler[0].end == n
    study_tool.main([
        '--regime', 'class-balanced', '--work-root',
        str(tmp_path / 'work'), '--dry-run'
    ])
    out = capsys.readouterr().out
    assert 'budget B: chosen once baseline-600' in out
    assert 'to run: baseline-2400 seed 0' in out
    assert f'in {tmp_path / "work" / "baseline-600_seed0"}' in out
    assert study_tool.ClassBalancedStudy.out_default == osp.join(
        REPO, 'studies', 'camvid', 'class_balanced')
