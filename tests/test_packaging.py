# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""The configs install with the package and resolve by ``mmseg_aicsd::``.

A wheel built from the repository carries every config, metafile and
``model-index.yml`` in ``mmseg_aicsd/.mim/``; ``mmseg_aicsd::`` paths load
through ``mmengine.hub.get_config`` and as ``_base_`` of a user's own config
(``Config.fromfile`` takes no ``scope::`` path itself); and a wheel
installed into a fresh virtual environment (no source tree on the path)
loads an AICSD config by that path. Building the wheel takes a few
seconds; the fresh environment about half a minute.
"""
import glob
import os
import os.path as osp
import shutil
import subprocess
import sys
import zipfile

import pytest
from mmengine.config import Config
from mmengine.hub import get_config

import mmseg_aicsd

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
AICSD = 'aicsd/aicsd_deeplabv3plus_r18-d8_4xb2-80k_cityscapes-512x1024.py'
SHORT = 'aicsd/deeplabv3plus_r18_cityscapes.py'
CAMVID = 'aicsd/aicsd_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py'


@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    """A wheel built from a copy of the repository (the build writes
    ``build/`` and ``*.egg-info`` beside ``setup.py``)."""
    tmp = tmp_path_factory.mktemp('wheel')
    src = tmp / 'src'
    shutil.copytree(
        REPO,
        src,
        symlinks=True,
        ignore=shutil.ignore_patterns('.git', 'build', 'dist', '*.egg-info',
                                      'work_dirs', 'data', '__pycache__',
                                      '.pytest_cache', '.hypothesis'))
    subprocess.run([
        sys.executable, '-m', 'pip', 'wheel', '--no-deps',
        '--no-build-isolation', '-q', '-w',
        str(tmp / 'dist'),
        str(src)
    ],
                   check=True,
                   cwd=tmp)
    (path, ) = glob.glob(str(tmp / 'dist' / 'mmseg_aicsd-*.whl'))
    return path


def test_wheel_carries_the_configs(wheel):
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        expected = [
            osp.relpath(p, REPO) for ext in ('py', 'md', 'yaml')
            for p in glob.glob(
                osp.join(REPO, 'configs', '**', f'*.{ext}'), recursive=True)
        ]
        assert len(expected) > 80
        for rel in expected + ['model-index.yml']:
            name = 'mmseg_aicsd/.mim/' + rel
            assert name in names, name
            with open(osp.join(REPO, rel), 'rb') as f:
                assert z.read(name) == f.read(), name
        assert 'mmseg_aicsd/mim.py' in names
        assert 'mmseg_aicsd/registry.py' in names


def test_configs_resolve_by_scope(tmp_path):
    for path in (AICSD, SHORT):
        cfg = get_config('mmseg_aicsd::' + path)
        assert cfg.model.type == 'DistillEncoderDecoder'
        assert set(cfg.model.distill_losses) == {'loss_icsd', 'loss_kd'}
        assert cfg.filename == osp.join(
            osp.dirname(mmseg_aicsd.__file__), '.mim', 'configs', path)
    # a user's own config, outside the repository, on top of ours; the
    # CamVid config's teacher is a {{fileDirname}}-relative path
    user = tmp_path / 'my_aicsd.py'
    user.write_text(f"_base_ = 'mmseg_aicsd::{CAMVID}'\n"
                    'train_cfg = dict(max_iters=100)\n')
    cfg = Config.fromfile(str(user))
    assert cfg.train_cfg.max_iters == 100
    assert cfg.model.type == 'DistillEncoderDecoder'
    assert osp.isfile(cfg.model.teacher)
    teacher = Config.fromfile(cfg.model.teacher)
    assert teacher.model.backbone.depth == 101


def test_inherited_dicts_build_in_the_plugin_scope(tmp_path):
    """mmengine gives dicts of an ``mmseg_aicsd::`` base the scope
    ``mmseg_aicsd``; they build from mmseg's registries."""
    from mmengine.registry import HOOKS, DefaultScope
    user = tmp_path / 'my_aicsd.py'
    user.write_text(f"_base_ = 'mmseg_aicsd::{CAMVID}'\n")
    cfg = Config.fromfile(str(user))
    (alw, ) = cfg.custom_hooks
    assert alw['_scope_'] == 'mmseg_aicsd'
    with DefaultScope.overwrite_default_scope('mmseg'):
        hook = HOOKS.build(alw)
    assert type(hook).__name__ == 'ALWHook'


def test_wheel_installs_and_resolves_in_a_fresh_venv(wheel, tmp_path):
    """A non-editable install from the wheel, run from outside the
    repository: the package and its configs come from site-packages."""
    venv = tmp_path / 'venv'
    subprocess.run(
        [sys.executable, '-m', 'venv', '--system-site-packages',
         str(venv)],
        check=True)
    python = str(venv / 'bin' / 'python')
    # --force-reinstall: the venv sees the outer environment's install of the
    # same version (editable, in CI) and would keep it
    subprocess.run([
        python, '-m', 'pip', 'install', '--no-deps', '--force-reinstall', '-q',
        wheel
    ],
                   check=True)
    user = tmp_path / 'my_aicsd.py'
    user.write_text(f"_base_ = 'mmseg_aicsd::{AICSD}'\n")
    (tmp_path /
     'my_camvid.py').write_text(f"_base_ = 'mmseg_aicsd::{CAMVID}'\n")
    code = (
        'import os.path as osp, mmseg_aicsd\n'
        'from mmengine.config import Config\n'
        'from mmengine.hub import get_config\n'
        f"cfg = get_config('mmseg_aicsd::{AICSD}')\n"
        'print(osp.dirname(mmseg_aicsd.__file__))\n'
        'print(cfg.filename)\n'
        "print(Config.fromfile('my_aicsd.py').model.type)\n"
        # a dict our files define gets the scope mmseg_aicsd; in a
        # fresh process it still builds from mmseg's registries
        'from mmengine.registry import METRICS, DefaultScope\n'
        "cfg = Config.fromfile('my_camvid.py')\n"
        "assert cfg.val_evaluator['_scope_'] == 'mmseg_aicsd'\n"
        "with DefaultScope.overwrite_default_scope('mmseg'):\n"
        '    print(type(METRICS.build(cfg.val_evaluator)).__name__)\n')
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    proc = subprocess.run([python, '-c', code],
                          cwd=tmp_path,
                          env=env,
                          capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = [
        line for line in proc.stdout.split('\n')
        if line and ' - mmengine - ' not in line  # its log lines
    ]
    site = str(venv)
    assert out[0].startswith(site), out
    assert out[1] == osp.join(out[0], '.mim', 'configs', AICSD)
    assert out[2] == 'DistillEncoderDecoder'
    assert out[3] == 'IoUMetric'
