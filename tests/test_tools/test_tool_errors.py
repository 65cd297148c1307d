# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""The tools refuse a new user's mistakes with a message that names the
file or setting and the fix, and leave the files given as they were:
distill_to_student.py with OUT = IN or with nothing to drop, tools/test.py
with a checkpoint of another model, dist_train.sh without NPROC, a crop
larger than the preprocessor's size."""
import re
import sys

import pytest
import torch
from mmengine.config import Config
from run_utils import REPO, STUDENT, run
from toy_runner import file_bytes

from mmseg.registry import MODELS
from mmseg_aicsd.utils import CheckpointMismatchError, check_crop_fits

CONVERTER = 'tools/model_converters/distill_to_student.py'


def checkpoint(path, state_dict):
    torch.save(
        dict(
            meta=dict(iter=2),
            state_dict=state_dict,
            optimizer=dict(state={}, param_groups=[])), path)
    return str(path)


def test_converter_refuses_to_write_over_its_input(tmp_path):
    src = checkpoint(
        tmp_path / 'iter_2.pth', {
            'backbone.w': torch.ones(2),
            'distill_connectors.loss_ickd.w': torch.ones(1)
        })
    before = file_bytes(tmp_path)
    proc = run(CONVERTER, src, src, check=False)
    assert proc.returncode == 2
    assert (f"error: '{src}' is the input checkpoint: writing the student "
            'over it would drop its optimizer, schedulers and message hub, '
            'which --resume needs. Give another output path, e.g. '
            f"'{tmp_path / 'student.pth'}'.") in proc.stderr
    assert file_bytes(tmp_path) == before


def test_converter_with_nothing_to_drop(tmp_path):
    src = checkpoint(tmp_path / 'teacher.pth', {'backbone.w': torch.ones(2)})
    before = file_bytes(tmp_path)
    proc = run(CONVERTER, src, str(tmp_path / 'student.pth'), check=False)
    assert proc.returncode == 2
    assert (f"error: '{src}' has no distill_connectors.* or teacher.* "
            'keys, so there is nothing to drop and nothing was written: it '
            'is not a feature-distillation checkpoint.') in proc.stderr
    assert file_bytes(tmp_path) == before  # no student.pth


def test_test_py_refuses_a_checkpoint_of_another_model(tmp_path, monkeypatch):
    """A checkpoint of another architecture (here the student's with a
    wider decode head, as a teacher's would be) on the student config."""
    from tools import test as test_py
    cfg = Config.fromfile(f'{REPO}/{STUDENT}')
    cfg.model.decode_head.channels = 32
    torch.manual_seed(0)
    ckpt = checkpoint(tmp_path / 'teacher.pth',
                      MODELS.build(cfg.model).state_dict())
    before = file_bytes(tmp_path)
    monkeypatch.chdir(REPO)
    monkeypatch.setattr(
        sys, 'argv',
        ['test.py', STUDENT, ckpt, '--work-dir',
         str(tmp_path / 'test')])
    with pytest.raises(CheckpointMismatchError) as info:
        test_py.main()
    message = str(info.value)
    assert message.startswith(
        f"checkpoint '{ckpt}' does not fit the model of {STUDENT}: size "
        'mismatch in ')
    assert message.endswith(
        "Is it a checkpoint of this config's model (a distillation run's "
        "checkpoints go with the student's plain config, a teacher's with "
        'the teacher config; one with distill_connectors.* keys first '
        'through tools/model_converters/distill_to_student.py)?')
    assert file_bytes(tmp_path) == before


def test_dist_train_without_nproc(tmp_path):
    proc = run(
        'tools/dist_train.sh',
        STUDENT,
        '--work-dir',
        str(tmp_path),
        check=False,
        launcher=('bash', ))
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        'usage: tools/dist_train.sh CONFIG NPROC [train.py options]',
        'error: NPROC, the number of processes (e.g. 2), must follow the '
        "config; got '--work-dir'"
    ]
    assert list(tmp_path.iterdir()) == []


def test_crop_larger_than_the_preprocessor_size():
    cfg = Config.fromfile(f'{REPO}/{STUDENT}')
    check_crop_fits(cfg)  # the shipped config: fits
    crop, = [
        t for t in cfg.train_dataloader.dataset.pipeline
        if t.type == 'RandomCrop'
    ]
    crop.crop_size = (360, 480)
    with pytest.raises(
            ValueError,
            match=re.escape(
                "the train pipeline's RandomCrop crop_size=(360, 480) is "
                'larger than model.data_preprocessor.size=(180, 240) (both '
                'H, W)')):
        check_crop_fits(cfg)


def test_train_py_refuses_a_fresh_run_over_checkpoints(tmp_path):
    """The FAQ's old remedy: load_from without --resume in the work dir."""
    ckpt = checkpoint(tmp_path / 'iter_600.pth', {'backbone.w': torch.ones(2)})
    before = file_bytes(tmp_path)
    proc = run(
        'tools/train.py',
        STUDENT,
        '--work-dir',
        str(tmp_path),
        '--cfg-options',
        f'load_from={ckpt}',
        check=False)
    assert proc.returncode == 1
    assert (f"FileExistsError: work dir '{tmp_path}' holds checkpoints of "
            'an earlier run (iter_600.pth); a run without --resume would '
            'start again at iteration 1 and overwrite them.') in proc.stderr
    assert file_bytes(tmp_path) == before
