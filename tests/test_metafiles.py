# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""The metafiles agree with the configs and the CamVid study's summaries.

``configs/<method>/metafile.yaml`` lists every config of its folder, every
listed config exists, and every CamVid number is the mean over the seeds it
names of the committed run summaries. The metafiles
are written by ``.dev_scripts/update_metafiles.py``; a committed metafile
that differs from what the script writes now fails here.
"""
import glob
import json
import os.path as osp
import statistics
import subprocess
import sys

import pytest
import yaml

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SCRIPT = osp.join(REPO, '.dev_scripts', 'update_metafiles.py')
FOLDERS = [
    'aicsd', 'kd', 'at', 'sp', 'ickd', 'cwd', 'i2ckd', 'idd', 'fitnet', 'ifvd',
    'cirkd', 'dist_kd'
]

SUMMARIES = osp.join(REPO, 'studies', 'camvid', 'runs')


def _metafile(folder):
    with open(osp.join(REPO, 'configs', folder, 'metafile.yaml')) as f:
        return yaml.safe_load(f)


def _summaries():
    runs = {}
    for path in glob.glob(osp.join(SUMMARIES, '*.json')):
        with open(path) as f:
            s = json.load(f)
        runs.setdefault(s['config'], {})[s['seed']] = s
    return runs


def test_model_index_lists_every_metafile():
    with open(osp.join(REPO, 'model-index.yml')) as f:
        index = yaml.safe_load(f)['Import']
    found = sorted(
        osp.relpath(p, REPO)
        for p in glob.glob(osp.join(REPO, 'configs', '*', 'metafile.yaml')))
    assert sorted(index) == found
    assert sorted(f'configs/{d}/metafile.yaml' for d in FOLDERS) == found


@pytest.mark.parametrize('folder', FOLDERS)
def test_metafile_lists_the_folder(folder):
    meta = _metafile(folder)
    (collection, ) = meta['Collections']
    for key in ('Name', 'Paper', 'README', 'Code'):
        assert key in collection, key
    # arXiv, or the proceedings for a paper without an arXiv version (IFVD)
    assert collection['Paper']['URL'].startswith(
        ('https://arxiv.org/abs/', 'https://www.ecva.net/'))
    assert osp.isfile(osp.join(REPO, collection['README']))
    assert osp.isfile(osp.join(REPO, collection['Code']['URL']))
    listed = [m['Config'] for m in meta['Models']]
    assert len(set(listed)) == len(listed)
    for m in meta['Models']:
        assert osp.isfile(osp.join(REPO, m['Config'])), m['Config']
        assert m['In Collection'] == collection['Name']
        assert m['Name'] == osp.splitext(osp.basename(m['Config']))[0]
        assert m['Metadata']['Training Data'] in (
            collection['Metadata']['Training Data'])
    in_folder = sorted(
        osp.relpath(p, REPO)
        for p in glob.glob(osp.join(REPO, 'configs', folder, '*.py')))
    assert sorted(listed) == in_folder


@pytest.mark.parametrize('folder', FOLDERS)
def test_camvid_numbers_are_the_summaries(folder):
    runs = _summaries()
    for m in _metafile(folder)['Models']:
        if 'Results' not in m:
            # only what was trained here has results
            assert m['Name'] not in runs
            continue
        assert m['Results']['Dataset'] == 'CamVid'
        seeds = m['Metadata']['Seeds']
        assert sorted(runs[m['Name']]) == seeds
        mean = statistics.mean(runs[m['Name']][s]['mIoU'] for s in seeds)
        assert m['Results']['Metrics']['mIoU'] == round(mean, 2)
        alone = runs[m['Name'].split('_', 1)[1]]
        mean = statistics.mean(alone[s]['mIoU'] for s in seeds)
        assert m['Metadata']['Student']['Metrics']['mIoU'] == round(mean, 2)
        mean = statistics.mean(runs[m['Name']][s]['teacher/mIoU']
                               for s in seeds)
        assert m['Metadata']['Teacher']['Metrics']['mIoU'] == round(mean, 2)


def test_committed_metafiles_are_up_to_date():
    proc = subprocess.run([sys.executable, SCRIPT, '--check'],
                          cwd=REPO,
                          capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize('folder', FOLDERS)
def test_readme_rows_are_the_metafile(folder):
    """Each CamVid result of the metafile is a row of the folder's README:
    mIoU, teacher mIoU and student-alone mIoU, linked to its config."""
    with open(osp.join(REPO, 'configs', folder, 'README.md')) as f:
        lines = f.read().splitlines()
    for m in _metafile(folder)['Models']:
        if 'Results' not in m:
            continue
        (row, ) = [line for line in lines if f"]({m['Name']}.py)" in line]
        cells = [c.strip() for c in row.split('|')]
        numbers = [
            m['Results']['Metrics']['mIoU'],
            m['Metadata']['Teacher']['Metrics']['mIoU'],
            m['Metadata']['Student']['Metrics']['mIoU'],
        ]
        assert [float(c.split(' ')[0]) for c in cells[4:7]] == numbers, row
