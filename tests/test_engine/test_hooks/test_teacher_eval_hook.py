# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""TeacherEvalHook: the teacher's val metrics beside the student's, in real
tools/train.py runs on CamVid images (one process and two), checked against
tools/test.py on the teacher's checkpoint."""
import glob
import json
import os.path as osp
import socket
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.evaluator import BaseMetric, Evaluator
from mmengine.logging import MessageHub
from mmengine.model import BaseModel
from run_utils import AICSD, REPO, STUDENT, data_options, run, scalars
from torch.utils.data import DataLoader

from mmseg.registry import MODELS
from mmseg_aicsd.engine.hooks import TeacherEvalHook

METRICS = ('aAcc', 'mIoU', 'mAcc')


def save_teacher(path):
    """A random R18 checkpoint whose BatchNorm statistics are those of a
    batch of noise: unlike the initial ones, they normalise the features,
    and the teacher predicts several classes instead of one everywhere."""
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(osp.join(REPO, STUDENT)).model)
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.momentum = None  # a plain average over the batch
    with torch.no_grad():
        model.train()(torch.randn(4, 3, 180, 240), mode='tensor')
    torch.save(dict(meta=dict(iter=0), state_dict=model.state_dict()), path)
    return str(path)


def write_config(path, teacher_ckpt):
    """The CamVid AICSD config with an R18 teacher, the best checkpoint by
    mIoU and the TeacherEvalHook."""
    with open(path, 'w') as f:
        f.write(f'''_base_ = [{osp.join(REPO, AICSD)!r}]
model = dict(
    teacher={osp.join(REPO, STUDENT)!r}, teacher_ckpt={teacher_ckpt!r})
default_hooks = dict(checkpoint=dict(save_best='mIoU'))
custom_hooks = [
    dict(type='ALWHook', schedule='linear'),
    dict(type='TeacherEvalHook'),
]
''')
    return str(path)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_teacher_metrics_logged_beside_the_students(tmp_path, camvid_root,
                                                    monkeypatch):
    teacher_ckpt = save_teacher(tmp_path / 'teacher.pth')
    cfg = write_config(tmp_path / 'cfg.py', teacher_ckpt)
    # 2 iterations of 2 images, validated after each on 2 val images
    options = ['--cfg-options', *data_options(camvid_root, 2, val_interval=1)]
    proc = run('tools/train.py', cfg, '--work-dir', str(tmp_path / 'one'),
               *options)
    out = proc.stdout + proc.stderr
    records = scalars(tmp_path / 'one')
    val = [r for r in records if 'mIoU' in r]
    assert [r['step'] for r in val] == [1, 2]
    # in every val record, beside the student's, the same each time; in
    # no other record
    for name in METRICS:
        assert len({r[f'teacher/{name}'] for r in val}) == 1
    teacher = {name: val[0][f'teacher/{name}'] for name in METRICS}
    others = [r for r in records if 'mIoU' not in r]
    assert not any(k.startswith('teacher/') for r in others for k in r)
    # evaluated once, logged in the stock val log line at each validation
    assert out.count('Evaluating the teacher on the 2 validation') == 1
    assert out.count(f"teacher/mIoU: {teacher['mIoU']:.4f}") == 2

    # the best checkpoint follows the student's mIoU
    best = max(val, key=lambda r: r['mIoU'])
    [ckpt] = glob.glob(str(tmp_path / 'one' / 'best_mIoU_iter_*.pth'))
    assert osp.basename(ckpt) == f"best_mIoU_iter_{best['step']}.pth"
    hub = torch.load(ckpt, map_location='cpu')['message_hub']
    assert hub['runtime_info']['best_score'] == best['mIoU']

    # two processes, one val image each: the evaluator collects both
    monkeypatch.setenv('PORT', str(free_port()))
    run('tools/dist_train.sh',
        cfg,
        '2',
        '--work-dir',
        str(tmp_path / 'two'),
        *options,
        launcher=('bash', ))
    val = [r for r in scalars(tmp_path / 'two') if 'mIoU' in r]
    assert [r['step'] for r in val] == [1, 2]
    assert all(r[f'teacher/{name}'] == teacher[name] for r in val
               for name in METRICS)

    # an independent computation: tools/test.py, the teacher's own config
    run('tools/test.py', STUDENT, teacher_ckpt, '--work-dir',
        str(tmp_path / 'test'), *options)
    [path] = glob.glob(str(tmp_path / 'test' / '*' / '*.json'))
    with open(path) as f:
        tested = json.load(f)
    assert {name: tested[name] for name in METRICS} == teacher
    assert teacher['mAcc'] != 100 / 11  # not one class everywhere


class ToyTeacher(BaseModel):
    """Predicts the sum of each input; counts the batches it sees."""

    def __init__(self):
        super().__init__()
        self.batches = 0

    def forward(self, inputs, data_samples=None, mode='tensor'):
        self.batches += 1
        return [dict(pred=x.sum().item()) for x in inputs]


class SumMetric(BaseMetric):

    def process(self, data_batch, data_samples):
        self.results += [sample['pred'] for sample in data_samples]

    def compute_metrics(self, results):
        return dict(total=sum(results), count=len(results))


def toy_runner():
    model = nn.Module()
    model.teacher = ToyTeacher()
    dataset = [dict(inputs=torch.full((2, ), float(i))) for i in range(4)]
    return SimpleNamespace(
        model=model,
        val_loop=SimpleNamespace(
            dataloader=DataLoader(dataset, batch_size=2),
            evaluator=Evaluator(SumMetric())),
        message_hub=MessageHub.get_instance('test_teacher_eval_hook'))


def test_teacher_evaluated_once_beside_the_metrics():
    runner = toy_runner()
    hook = TeacherEvalHook(prefix='t')
    hook.before_run(runner)
    rng = torch.get_rng_state()
    for _ in range(3):
        metrics = dict(total=-1.0)
        hook.after_val_epoch(runner, metrics=metrics)
        assert metrics == dict(total=-1.0)  # the student's, untouched
    assert runner.model.teacher.batches == 2  # once: 4 samples, batch 2
    hub = runner.message_hub
    assert list(hub.get_scalar('val/t/total').data[0]) == [12.0] * 3
    assert list(hub.get_scalar('val/t/count').data[0]) == [4] * 3
    assert not runner.val_loop.evaluator.metrics[0].results
    # iterating the val set drew no number from the global generator, so
    # the student's dropout and the rest of training are as without hook
    assert torch.equal(torch.get_rng_state(), rng)


def test_hook_needs_a_teacher():
    runner = SimpleNamespace(model=nn.Linear(2, 1))  # no teacher
    with pytest.raises(TypeError, match='model.teacher'):
        TeacherEvalHook().before_run(runner)
    with pytest.raises(ValueError, match='prefix'):
        TeacherEvalHook(prefix='')
