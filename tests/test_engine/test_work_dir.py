# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""What a new run does to a work dir that holds an earlier run: a run
without --resume is refused, --resume with load_from resumes from that
checkpoint, another method's config is warned of, and a failing run leaves
the earlier run's files byte-identical."""
import re

import pytest
from mmengine.config import Config
from toy_runner import Fail, file_bytes, logged_warnings, toy_runner

from mmseg_aicsd.engine import check_fresh_run, warn_other_method
from tools.train import write_checkpoints_first

FAQ = 'docs/en/faq.md'


@pytest.fixture
def finished(tmp_path):
    """The work dir of a finished 4-iteration run (iter_2, iter_4)."""
    cfg_path = tmp_path / 'kd_cfg.py'
    cfg_path.write_text("model = dict(type='DistillEncoderDecoder', "
                        "distill_losses=dict(loss_kd=dict(type="
                        "'PixelKDLoss')))\nmarker = 'earlier'\n")
    work_dir = tmp_path / 'run'
    toy_runner(work_dir, cfg=Config.fromfile(cfg_path)).train()
    assert {'iter_2.pth', 'iter_4.pth',
            'kd_cfg.py'} <= set(file_bytes(work_dir))
    return work_dir


def test_a_fresh_run_is_refused_over_checkpoints(finished):
    before = file_bytes(finished)
    with pytest.raises(
            FileExistsError,
            match=r"holds checkpoints of an earlier run \(iter_2.pth, "
            r"iter_4.pth\); a run without --resume would start again at "
            r'iteration 1 and overwrite them\. .*--resume --cfg-options '
            r'load_from=PATH .*--work-dir NEW_DIR'):
        check_fresh_run(str(finished), resume=False)
    check_fresh_run(str(finished), resume=True)  # no error
    check_fresh_run(str(finished / 'new'), resume=False)
    assert file_bytes(finished) == before


def test_the_faq_remedy_resumes_from_the_given_checkpoint(finished):
    """``--resume --cfg-options load_from=iter_2.pth`` (what the FAQ says)
    continues at iteration 3, and iter_2.pth stays as it was."""
    iter_2 = (finished / 'iter_2.pth').read_bytes()
    runner = toy_runner(
        finished,
        max_iters=6,
        resume=True,
        load_from=str(finished / 'iter_2.pth'))
    runner.train()
    assert runner.model.iters == [3, 4, 5, 6]
    assert (finished / 'iter_2.pth').read_bytes() == iter_2
    faq = open(FAQ).read()
    row = next(line for line in faq.splitlines()
               if 'iter_N.pth can not be found' in line)
    assert '`--resume --cfg-options load_from=PATH`' in row
    assert not re.search(r'(?<!--resume )--cfg-options load_from=\.\.\.', row)


def test_resume_with_another_method_warns(finished):
    before = file_bytes(finished)
    other = Config(
        dict(
            model=dict(type='EncoderDecoder'),
            custom_hooks=[dict(type='ALWHook')]))
    with logged_warnings() as warnings:
        warn_other_method(str(finished), other)
    assert warnings == [
        f"--resume continues the checkpoints in '{finished}', trained as "
        'DistillEncoderDecoder: loss_kd=PixelKDLoss (kd_cfg.py), with '
        'another method: EncoderDecoder, ALWHook. If that is not '
        'intended, give this config its own --work-dir.'
    ]
    same = Config.fromfile(finished / 'kd_cfg.py')
    same.train_cfg = dict(max_iters=8)  # a longer run: same method
    with logged_warnings() as warnings:
        warn_other_method(str(finished), same)
    assert warnings == []
    assert file_bytes(finished) == before


def test_a_failing_run_keeps_the_finished_runs_config(finished, tmp_path):
    before = file_bytes(finished)
    new_path = tmp_path / 'new' / 'kd_cfg.py'
    new_path.parent.mkdir()
    new_path.write_text(
        (tmp_path / 'kd_cfg.py').read_text().replace("'earlier'", "'failing'"))
    failing = toy_runner(
        finished,
        max_iters=6,
        cfg=Config.fromfile(new_path),
        fail_at=5,
        resume=True)
    with pytest.raises(Fail):
        failing.train()
    assert file_bytes(finished) == before  # the config included

    # a run that gets to its first checkpoint then writes its own config
    toy_runner(
        finished, max_iters=6, cfg=Config.fromfile(new_path),
        resume=True).train()
    assert "marker = 'failing'" in (finished / 'kd_cfg.py').read_text()


def test_train_py_writes_checkpoints_first():
    cfg = Config(
        dict(
            default_hooks=dict(
                checkpoint=dict(
                    type='CheckpointHook', interval=300, max_keep_ckpts=1))))
    write_checkpoints_first(cfg)
    assert cfg.default_hooks.checkpoint == dict(
        type='WriteFirstCheckpointHook', interval=300, max_keep_ckpts=1)
