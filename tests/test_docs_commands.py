# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""The documented commands write outside the tracked tree: every output
path (--work-dir, --out, --csv, --plot, the converter's OUT) in the bash
blocks of the README and the docs is git-ignored or outside the
repository, and so is the benchmark's default plot."""
import glob
import os.path as osp
import re
import shlex
import subprocess
import sys

import pytest
from run_utils import REPO

DOCS = sorted(
    glob.glob(osp.join(REPO, '*.md')) +
    glob.glob(osp.join(REPO, 'docs', '**', '*.md'), recursive=True) +
    glob.glob(osp.join(REPO, '*', 'README.md')) +
    glob.glob(osp.join(REPO, '*', '*', 'README.md')))
OUTPUT_OPTIONS = ('--work-dir', '--out', '--csv', '--plot')
CONVERTER = 'distill_to_student.py'


def bash_blocks(path):
    return re.findall(r'```bash\n(.*?)```', open(path).read(), re.S)


def variables(text):
    """The ``NAME=value`` assignments of a text (its code and its prose,
    e.g. "with `R=work_dirs/demo; S=...`"), the last one winning."""
    return dict(
        re.findall(r'(?:^|(?<=[\s;`]))([A-Za-z_]\w*)=([^\s;"`]+)', text, re.M))


def outputs(block, names):
    """The output paths of a bash block, with the variables ``names``
    substituted; a path under a variable not set in the doc (a folder of
    the reader's) or an absolute one is left out."""
    found = []
    for line in block.replace('\\\n', ' ').splitlines():
        line = re.sub(r'\$\(.*?\)', 'x', line.strip())  # $(basename $m)
        words = shlex.split(line, comments=True) if line else []
        for i, word in enumerate(words[:-1]):
            if word in OUTPUT_OPTIONS:
                found.append(words[i + 1])
        if any(w.endswith(CONVERTER) for w in words):
            found.append(words[-1])
    paths = []
    for path in found:
        path = re.sub(r'\$\{?(\w+)\}?',
                      lambda m: names.get(m.group(1), m.group(0)), path)
        if not path.startswith(('$', '/')):  # outside the repository
            paths.append(re.sub(r'\$\{?\w+\}?', 'x', path))
    return paths


def ignored(path):
    return subprocess.run(['git', 'check-ignore', '-q', path],
                          cwd=REPO).returncode == 0


@pytest.fixture(scope='module')
def git_tree():
    if subprocess.run(['git', 'rev-parse'], cwd=REPO,
                      capture_output=True).returncode:
        pytest.skip('not a git checkout')


def test_documented_outputs_are_git_ignored(git_tree):
    checked = {}
    for doc in DOCS:
        names = variables(open(doc).read())
        for block in bash_blocks(doc):
            for path in outputs(block, names):
                checked[path] = osp.relpath(doc, REPO)
    # the commands of the README's demo and pictures are among them
    assert 'work_dirs/demo/camvid_60iter.csv' in checked
    assert 'work_dirs/demo/ics.png' in checked
    assert len(checked) >= 10
    tracked = {p: doc for p, doc in checked.items() if not ignored(p)}
    assert tracked == {}


def test_benchmark_default_plot_is_git_ignored(git_tree, monkeypatch):
    from benchmarks import icsd_loss
    monkeypatch.setattr(sys, 'argv', ['icsd_loss.py'])
    assert ignored(icsd_loss.parse_args().plot)
