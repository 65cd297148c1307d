# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""The offline teacher against the online one, on real augmented batches.

Given a cache built by ``tools/misc/build_teacher_cache.py`` for CONFIG
(its manifest gives the build time and size), draws batches from CONFIG's
train pipeline (random resize, crop, flip, photometric distortion, as in
training), and compares the teacher logits cut from the cache with the
teacher's forward on the same preprocessed batch:

- ``logits rel. L2``: ``||T_cut - T_online|| / ||T_online||`` over the
  cells inside the images, and over all cells (padding included, where the
  cut gives 0);
- ``argmax agree``: share of cells inside the images with the same top
  class;
- per distillation loss of CONFIG: ``|l(S, T_cut) - l(S, T_online)| /
  |l(S, T_online)|`` and the same for the L2 norm of the difference of the
  gradients w.r.t. the student logits S, over the online gradient's norm.

Student logits come from ``--student-ckpt`` (else the student at init).
Then it times, on one batch, the student's own training step, the
distillation step with the online teacher and the one with the cache.

Example::

    python -m benchmarks.teacher_cache \\
        configs/kd/kd-cache_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py \\
        --cache work_dirs/teacher_cache/camvid --batches 25 \\
        --cfg-options model.teacher_ckpt=TEACHER.pth
"""
import argparse
import json
import os.path as osp

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import pseudo_collate
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from benchmarks import bench_utils
from mmseg.registry import DATASETS, MODELS
from mmseg_aicsd.models.distillers import teacher_forward
from mmseg_aicsd.utils import student_model_config


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    bench_utils.add_common_args(parser, min_run_time=10.0)
    parser.add_argument('config', help='a config with model.teacher_cache')
    parser.add_argument('--cache', required=True, help='the cache folder')
    parser.add_argument('--student-ckpt', help='student weights')
    parser.add_argument('--batches', type=int, default=25)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, help='overrides')
    return parser.parse_args()


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    """``||a - b|| / ||b||``."""
    return ((a - b).norm() / b.norm()).item()


def loss_and_grad(loss_fn, student, teacher):
    s = student.detach().clone().requires_grad_()
    loss = loss_fn(s, teacher)
    return loss.detach(), torch.autograd.grad(loss, s)[0]


def main() -> None:
    args = parse_args()
    device = bench_utils.setup(args)
    init_default_scope('mmseg')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    cfg.model.teacher_cache = args.cache
    cfg.model.pretrained = None
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    model = MODELS.build(cfg.model).to(device)
    if args.student_ckpt:
        state = torch.load(args.student_ckpt, map_location='cpu')
        model.load_state_dict(state.get('state_dict', state), strict=False)
    model.train()
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    batch_size = cfg.train_dataloader.batch_size
    with open(osp.join(args.cache, 'manifest.json')) as f:
        manifest = json.load(f)

    print('\n'.join(bench_utils.environment(device)))
    print(f'config {args.config}; cache {args.cache}: '
          f'{len(manifest["images"])} images, '
          f'{manifest["logits_bytes"] / 2**20:.1f} MiB float16, built in '
          f'{manifest["build_seconds"]} s on {manifest["device"]}, scale '
          f'{manifest["scale"]}, downsample {manifest["downsample"]}')
    gen = np.random.default_rng(args.seed)
    stats = {'inside': [], 'all': [], 'argmax': []}
    losses = {name: ([], []) for name in model.distill_losses}
    for _ in range(args.batches):
        idx = gen.choice(len(dataset), batch_size, replace=False)
        data = model.data_preprocessor(
            pseudo_collate([dataset[int(i)] for i in idx]), True)
        inputs, samples = data['inputs'], data['data_samples']
        with torch.no_grad():
            student = model.decode_head.forward(model.extract_feat(inputs))
            online = teacher_forward(model.teacher, inputs,
                                     model.teacher_dtype,
                                     model.distill_loss_set.teacher_recorder)
        cut = model.teacher_cache.logits([s.metainfo for s in samples],
                                         inputs.shape[2:], online.shape[2:],
                                         device)
        stats['all'].append(rel(cut, online))
        h, w = online.shape[2:]
        for b, s in enumerate(samples):
            ih, iw = s.metainfo['img_shape'][:2]
            rows = int(h * ih / inputs.shape[2])
            cols = int(w * iw / inputs.shape[3])
            c, o = cut[b, :, :rows, :cols], online[b, :, :rows, :cols]
            stats['inside'].append(rel(c, o))
            stats['argmax'].append(
                (c.argmax(0) == o.argmax(0)).float().mean().item())
        for name, fn in model.distill_losses.items():
            lo, go = loss_and_grad(fn, student, online)
            lc, gc = loss_and_grad(fn, student, cut)
            losses[name][0].append((abs(lc - lo) / lo.abs()).item())
            losses[name][1].append(rel(gc, go))

    def mean_std(v):
        return f'{np.mean(v):.4f} +- {np.std(v, ddof=1):.4f}'

    rows = [
        ['logits rel. L2, inside the images',
         mean_std(stats['inside'])],
        ['logits rel. L2, all cells',
         mean_std(stats['all'])],
        ['argmax agree, inside the images',
         mean_std(stats['argmax'])],
    ]
    for name, (lv, gv) in losses.items():
        rows += [[f'{name} rel. diff', mean_std(lv)],
                 [f'{name} gradient rel. diff',
                  mean_std(gv)]]
    bench_utils.print_table(
        ['cut from the cache vs online teacher', 'mean +- std'], rows,
        f'{args.batches} batches of {batch_size} real training samples '
        f'(seed {args.seed}); per image for the first three rows')

    # one batch, timed three ways
    student_model = MODELS.build(student_model_config(cfg)).to(device)
    student_model.load_state_dict(
        {
            k: v
            for k, v in model.state_dict().items()
            if not k.startswith('distill_connectors.')
        },
        strict=False)
    batch = pseudo_collate([dataset[i] for i in range(batch_size)])
    cache, times = model.teacher_cache, {}
    for name, m, cached in (('student step', student_model, None),
                            ('distillation step, online teacher', model,
                             None), ('distillation step, cached teacher',
                                     model, cache)):
        model.teacher_cache = cached
        wrapper = build_optim_wrapper(m, cfg.optim_wrapper)
        times[name] = bench_utils.measure(
            lambda m=m, w=wrapper: m.train_step(batch, w),
            args.min_run_time,
            warmup=2)
    model.teacher_cache = cache
    base = times['student step'].median
    bench_utils.print_table(
        ['step', 'median s', 'IQR s', 'x student'],
        [[name, f'{m.median:.3f}', f'{m.iqr:.3f}', f'{m.median / base:.3f}']
         for name, m in times.items()],
        f'one training step, batch {batch_size}')


if __name__ == '__main__':
    main()
