# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Calibrate distillation loss weights by gradient norms on the logits.

For a ``DistillEncoderDecoder`` config, prints the L2 norm of the gradient
that the decode head's supervised loss (CE) and each distillation loss send
into the student logits, over a few training batches, with the configured
``loss_weight``s and ALW off. The student is as ``init_weights`` leaves it
(the start of training), or, with ``--checkpoint``, as a training checkpoint
of the same config left it (a point later in training); the teacher is
always ``teacher_ckpt``'s. The project's rule (README, "Loss weights"):
choose the ICSD ``loss_weight`` so that its gradient norm is 0.1x-1x that
of CE, checked on a checkpoint from partway through training as well as at
the start (the README says how far the ratio moved on CamVid).
``--per-class`` adds each loss's gradient norm per class channel of the
logits, which shows which classes a term pushes hardest.

Example::

    python tools/analysis_tools/distill_grad_norms.py \
        configs/aicsd/aicsd_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py \
        --batches 5 --checkpoint work_dirs/aicsd/iter_300.pth --per-class
"""
import argparse

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmengine.runner import Runner, load_checkpoint

from mmseg.registry import MODELS
from mmseg_aicsd.models.distillers import LOGITS


def parse_args() -> argparse.Namespace:
    """Config path, number of batches, seed and overrides."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='a DistillEncoderDecoder config')
    parser.add_argument('--batches', type=int, default=5)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--checkpoint',
        help='a training checkpoint of this config whose student weights to '
        'measure (default: the student at initialisation)')
    parser.add_argument(
        '--per-class',
        action='store_true',
        help='also print the gradient norm per class channel')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries')
    return parser.parse_args()


def logit_grad_norms(model, data_batch) -> dict:
    """Gradients that CE and each distillation loss on the logits send into
    the student logits (B, C, H/4, W/4) of one batch.

    Returns:
        dict: ``{loss name: (|grad|, loss value, per-class |grad|)}``, CE
        first (``decode.loss_ce``; a cascade student's ``decode_<i>.loss_ce``
        of its last stage, whose output the logits are): the L2
        norm of the whole gradient, the loss (dimensionless, configured
        ``loss_weight`` included) and a (C,) array of the L2 norm of the
        gradient's slice ``[:, c]`` for each class c.
    """
    data = model.data_preprocessor(data_batch, training=True)
    inputs, samples = data['inputs'], data['data_samples']
    with torch.no_grad():  # the forward of training, teacher_dtype included
        _, logits, teacher_logits = model.distill_forward(inputs)
    logits = logits.detach().requires_grad_()
    # the head whose output the logits are: a cascade's last stage
    head, name = model.decode_head, 'decode.loss_ce'
    if isinstance(head, nn.ModuleList):
        head, name = head[-1], f'decode_{len(head) - 1}.loss_ce'
    losses = {name: head.loss_by_feat(logits, samples)['loss_ce']}
    for name, loss_fn in model.distill_losses.items():
        if model.distill_maps[name] == (LOGITS, LOGITS):
            losses[name] = loss_fn(logits, teacher_logits)
    norms = {}
    for name, loss in losses.items():
        grad, = torch.autograd.grad(loss, logits)
        per_class = grad.transpose(0, 1).flatten(1).norm(dim=1)
        norms[name] = (grad.norm().item(), loss.item(), per_class.numpy())
    return norms


def build_model(cfg: Config, checkpoint: str = None):
    """The config's ``DistillEncoderDecoder`` in train mode: the student at
    initialisation, or with the student (and connector) weights of the
    training ``checkpoint``; the teacher is ``teacher_ckpt``'s either way.

    Raises:
        FileNotFoundError: If ``checkpoint`` or ``teacher_ckpt`` is missing.
        RuntimeError: If ``checkpoint``'s weights do not fit the student
            (missing, unexpected or differently shaped keys).
    """
    model = MODELS.build(cfg.model)
    model.init_weights()
    if checkpoint:
        # the model's load pre-hook keeps the teacher's weights
        load_checkpoint(
            model,
            checkpoint,
            map_location='cpu',
            strict=True,
            logger='silent')
    return model.train()


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
    model = build_model(cfg, args.checkpoint)
    cfg.train_dataloader.num_workers = 0
    cfg.train_dataloader.persistent_workers = False
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=args.seed)

    rows = []
    for i, data_batch in enumerate(loader):
        if i == args.batches:
            break
        rows.append(logit_grad_norms(model, data_batch))
    names = list(rows[0])
    ce = np.mean([r[names[0]][0] for r in rows])  # CE comes first
    print(f'{"loss":<16}{"value":>12}{"|grad| logits":>16}{"/ CE":>10}')
    for name in names:
        value = np.mean([r[name][1] for r in rows])
        grad = np.mean([r[name][0] for r in rows])
        print(f'{name:<16}{value:>12.4g}{grad:>16.4g}{grad / ce:>10.3g}')
    print(f'(mean over {len(rows)} batches of '
          f'{cfg.train_dataloader.batch_size}; configured loss weights '
          'included, ALW alpha not applied; student '
          f'{args.checkpoint or "at initialisation"})')
    if args.per_class:
        classes = loader.dataset.metainfo['classes']
        print(f'\n{"|grad| per class":<16}' + ''.join(f'{n:>16}'
                                                      for n in names))
        for c, cls in enumerate(classes):
            print(f'{cls:<16}' +
                  ''.join(f'{np.mean([r[n][2][c] for r in rows]):>16.4g}'
                          for n in names))
    features = [n for n in model.distill_losses if n not in names]
    if features:
        print(f'not shown: {features}, which distil feature maps and send '
              'no gradient into the logits')


if __name__ == '__main__':
    main()
