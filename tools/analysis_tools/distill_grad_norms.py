# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Calibrate distillation loss weights by gradient norms on the logits.

For a ``DistillEncoderDecoder`` config, prints the L2 norm of the gradient
that the decode head's supervised loss (CE) and each distillation loss send
into the student logits, over a few training batches at the start of
training (student as ``init_weights`` leaves it, teacher from
``teacher_ckpt``), with the configured ``loss_weight``s and ALW off. The
project's rule (docs in the README): choose the ICSD ``loss_weight`` so that
its gradient norm is 0.1x-1x that of CE.

Example::

    python tools/analysis_tools/distill_grad_norms.py \
        configs/aicsd/aicsd_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py \
        --batches 5
"""
import argparse

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from mmseg.registry import MODELS


def parse_args() -> argparse.Namespace:
    """Config path, number of batches, seed and overrides."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='a DistillEncoderDecoder config')
    parser.add_argument('--batches', type=int, default=5)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config entries')
    return parser.parse_args()


def logit_grad_norms(model, data_batch) -> dict:
    """Gradient norms that CE and each distillation loss on the logits send
    into the student logits (B, C, H/4, W/4) of one batch; dimensionless."""
    data = model.data_preprocessor(data_batch, training=True)
    inputs, samples = data['inputs'], data['data_samples']
    with torch.no_grad():
        feats = model.extract_feat(inputs)
        teacher_logits = model.teacher(inputs, mode='tensor')
    logits = model.decode_head.forward(feats).detach().requires_grad_()
    losses = {
        'decode.loss_ce':
        model.decode_head.loss_by_feat(logits, samples)['loss_ce']
    }
    for name, loss_fn in model.distill_losses.items():
        if model.distill_maps[name] == ('logits', 'logits'):
            losses[name] = loss_fn(logits, teacher_logits)
    norms = {}
    for name, loss in losses.items():
        grad, = torch.autograd.grad(loss, logits)
        norms[name] = (grad.norm().item(), loss.item())
    return norms


def main() -> None:
    """Print the mean loss values and logit gradient norms."""
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    # init_weights would print its per-parameter table without a work_dir
    MMLogger.get_instance('distill_grad_norms', log_level='WARNING')
    torch.manual_seed(args.seed)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=args.seed)

    rows = []
    for i, data_batch in enumerate(loader):
        if i == args.batches:
            break
        rows.append(logit_grad_norms(model, data_batch))
    names = list(rows[0])
    ce = np.mean([r['decode.loss_ce'][0] for r in rows])
    print(f'{"loss":<16}{"value":>12}{"|grad| logits":>16}{"/ CE":>10}')
    for name in names:
        value = np.mean([r[name][1] for r in rows])
        grad = np.mean([r[name][0] for r in rows])
        print(f'{name:<16}{value:>12.4g}{grad:>16.4g}{grad / ce:>10.3g}')
    print(f'(mean over {len(rows)} batches of '
          f'{cfg.train_dataloader.batch_size}; configured loss weights '
          'included, ALW alpha not applied)')
    features = [n for n in model.distill_losses if n not in names]
    if features:
        print(f'not shown: {features}, which distil feature maps and send '
              'no gradient into the logits')


if __name__ == '__main__':
    main()
