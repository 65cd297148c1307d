# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Every script under tools/ runs as a command: ``python SCRIPT --help``
exits 0 with argparse's usage. (The other tests call most tools' ``main``
in-process, which would not notice a script that parses no arguments when
run, e.g. one without its ``if __name__ == '__main__'`` block.)"""
import glob
import os.path as osp

import pytest
from run_utils import REPO, run

SCRIPTS = sorted(
    osp.relpath(p, REPO)
    for p in glob.glob(osp.join(REPO, 'tools', '**', '*.py'), recursive=True)
    if osp.basename(p) != '__init__.py')  # package markers, not scripts


def test_scripts_found():
    assert {
        'tools/train.py', 'tools/test.py',
        'tools/analysis_tools/visualize_ics.py'
    } <= set(SCRIPTS)


@pytest.mark.parametrize('script', SCRIPTS)
def test_help(script):
    proc = run(script, '--help')
    assert proc.stdout.startswith('usage: '), proc.stdout[:500]
