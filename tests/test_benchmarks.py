# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""The benchmarks under ``benchmarks/``: their reference formulations are
correct, their memory measurement counts what it should, and each script
runs (``--quick``: tiny shapes, a few seconds)."""
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch

from benchmarks import bench_utils, icsd_loss
from mmseg_aicsd.models.losses import ICSDLoss, inter_class_similarity

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


@pytest.fixture(scope='module')
def bench():
    """The benchmark modules (``benchmarks`` is a package of the
    repository, importable from its root)."""
    return dict(icsd_loss=icsd_loss, bench_utils=bench_utils)


@pytest.mark.parametrize('shape', [(2, 5, 6, 7), (1, 19, 4, 9), (3, 2, 1, 9)])
@pytest.mark.parametrize('tau', [1.0, 2.5])
def test_reference_ics_equal_ours(bench, shape, tau):
    torch.manual_seed(0)
    logits = torch.randn(shape) * 3
    ours = inter_class_similarity(logits, tau)
    for ics_fn in (bench['icsd_loss'].loop_ics,
                   bench['icsd_loss'].broadcast_ics):
        torch.testing.assert_close(
            ics_fn(logits, tau), ours, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('tau', [1.0, 0.5, 2.5])
def test_reference_loss_and_gradient_equal_ours(bench, tau):
    # float64 autograd through the broadcast formulation against ICSDLoss's
    # float32 hand-written backward, at a tau other than 1 too
    torch.manual_seed(1)
    student, teacher = torch.randn(2, 6, 5, 7) * 3, torch.randn(2, 6, 5, 7)
    s32 = student.clone().requires_grad_()
    loss = ICSDLoss(tau=tau)(s32, teacher)
    loss.backward()
    s64 = student.double().requires_grad_()
    reference = bench['icsd_loss'].reference_icsd(
        bench['icsd_loss'].broadcast_ics, tau)(s64, teacher.double())
    reference.backward()
    assert loss.item() == pytest.approx(reference.item(), rel=1e-5)
    torch.testing.assert_close(
        s32.grad.double(), s64.grad, rtol=1e-4, atol=1e-8)


def test_peak_extra_memory_counts_live_tensors(bench):
    n = 2**20  # float32: 4 MiB; both factors of the product are alive
    peak = bench['bench_utils'].peak_extra_memory(
        lambda: torch.empty(n).fill_(1) * 2, torch.device('cpu'))
    assert peak == pytest.approx(2 * 4 * n, rel=0.01)


def test_scripts_run_quick(tmp_path):
    plot = tmp_path / 'icsd_scaling.png'
    commands = {
        'icsd_loss': ['--plot', str(plot)],
        'distill_step': [],
        'teacher_precision': [],
        'released_icsd_loss': [],
        'gpu_check': [],
    }
    # in parallel, one thread each
    procs = {
        script:
        subprocess.Popen(
            [
                sys.executable, '-m', f'benchmarks.{script}', '--quick',
                '--threads', '1'
            ] + args,
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True)
        for script, args in commands.items()
    }
    outs = {}
    for script, proc in procs.items():
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, f'{script} failed:\n{err[-3000:]}'
        assert '| ' in out, f'{script} printed no table:\n{out}'
        outs[script] = out
    assert plot.stat().st_size > 0
    # the GPU check's CPU path: every precision row, the quick mode's 3 AMP
    # iterations, all losses finite
    gpu = outs['gpu_check']
    for row in ('| student ', '| student, AMP', 'distill, teacher float32 ',
                'distill, teacher bfloat16, AMP'):
        assert row in gpu, row
    assert len(re.findall(r'^\| (\d+) +\| True', gpu, re.M)) == 3, gpu
    assert gpu.rstrip().endswith('all losses finite: True')
