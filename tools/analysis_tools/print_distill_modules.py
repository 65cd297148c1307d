# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Print the student's and the teacher's named modules with their output
shapes, to choose ``student_feature`` / ``teacher_feature``.

A dry run of a distillation config: the student (the config's model
without its teacher and losses) and the teacher are built with random
weights (no checkpoint is loaded, ``teacher_ckpt`` is not read,
``init_weights`` is not called: nothing is downloaded) and run once in
eval mode on one zero image of the config's crop size
(``model.data_preprocessor.size``, else ``crop_size``; ``--size``
overrides). Each module whose forward ran is listed in the order its
forward returned, with its type and output shape; a module that did not
run (an ``nn.ModuleList``, a decode head's own forward, which mmseg calls
directly) is not listed and cannot be recorded. The distillation losses
compare 4-D (B, C, H, W) maps: other outputs are marked. The auxiliary
head runs too (its modules run in training).

Example::

    python tools/analysis_tools/print_distill_modules.py \\
        configs/cwd/cwd_pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py \\
        --max-depth 2
"""
import argparse
import sys
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from torch import Tensor

from mmseg.registry import MODELS
from mmseg_aicsd.utils import (is_distill_config, student_model_config,
                               teacher_model_config)

# (name, type, output shape or description, a 4-D map)
Row = Tuple[str, str, str, bool]


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Config path, input size, depth and overrides."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='a distillation config')
    parser.add_argument(
        '--size',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help='input size (default: the config\'s crop size)')
    parser.add_argument(
        '--max-depth',
        type=int,
        help='list only names with at most this many dots (0: the '
        'top-level modules: backbone, decode_head, ...)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries')
    return parser.parse_args(argv)


def input_size(cfg: Config,
               size: Optional[Sequence[int]] = None) -> Tuple[int, int]:
    """The (H, W) of the dry run: ``size``, else the config's crop size.

    Raises:
        ValueError: If neither is given (pass ``--size H W``).
    """
    if size is None:
        size = (cfg.model.get('data_preprocessor') or {}).get('size')
    if size is None:
        size = cfg.get('crop_size')
    if size is None:
        raise ValueError(
            'the config has no crop size (model.data_preprocessor.size or '
            'crop_size); pass --size H W')
    return int(size[0]), int(size[1])


def describe(output) -> Tuple[str, bool]:
    """A module output as text, and whether it is a 4-D tensor: a tensor's
    shape, a tuple / list of tensors' shapes, else its type."""
    if isinstance(output, Tensor):
        return str(tuple(output.shape)), output.dim() == 4
    if isinstance(output, (tuple, list)) and all(
            isinstance(o, Tensor) for o in output):
        return ('[' + ', '.join(str(tuple(o.shape))
                                for o in output) + ']', False)
    return type(output).__name__, False


def module_shapes(model: nn.Module, inputs: Tensor) -> List[Row]:
    """The modules of ``model`` whose forward runs, with their outputs.

    Runs ``model(inputs, mode='tensor')`` and, if the segmentor has one,
    its auxiliary head, in eval mode under ``no_grad``; a module that runs
    more than once is listed with its first output.

    Args:
        model (nn.Module): An mmseg segmentor.
        inputs (Tensor): Preprocessed images, (B, 3, H, W).

    Returns:
        list[tuple]: ``(name, type, output, is_4d)`` per module, in the
        order their forwards returned.
    """
    rows = {}

    def hook(name):

        def record(module, args, output):
            if name not in rows:
                rows[name] = (name, type(module).__name__, *describe(output))

        return record

    handles = [
        module.register_forward_hook(hook(name))
        for name, module in model.named_modules() if name
    ]
    model.eval()
    try:
        with torch.no_grad():
            model(inputs, mode='tensor')
            if getattr(model, 'with_auxiliary_head', False):
                model.auxiliary_head.forward(model.extract_feat(inputs))
    finally:
        for handle in handles:
            handle.remove()
    return list(rows.values())


def format_rows(rows: Sequence[Row], max_depth: Optional[int] = None) -> str:
    """The rows as an aligned table (name, type, output shape), 4-D maps
    unmarked, other outputs marked ``(not a map)``."""
    rows = [
        r for r in rows if max_depth is None or r[0].count('.') <= max_depth
    ]
    width = max([len(r[0]) for r in rows] + [4])
    kind = max([len(r[1]) for r in rows] + [4])
    lines = [f'{"name":<{width}}  {"type":<{kind}}  output']
    for name, type_name, output, is_map in rows:
        mark = '' if is_map else '  (not a map)'
        lines.append(f'{name:<{width}}  {type_name:<{kind}}  {output}{mark}')
    return '\n'.join(lines)


def run(args: argparse.Namespace) -> str:
    """:func:`main` without the exit on errors; returns the report."""
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if not is_distill_config(cfg):
        raise ValueError(
            f'{args.config}: model.type is {cfg.model.get("type")!r}, not a '
            'distillation segmentor; give a distillation config (e.g. '
            'configs/cwd/cwd_*.py)')
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    h, w = input_size(cfg, args.size)
    inputs = torch.zeros(1, 3, h, w)
    parts = [
        f'{args.config}: random weights, no checkpoint loaded (shapes only; '
        f'teacher_ckpt is not read); one input of shape {(1, 3, h, w)}. '
        'auxiliary_head modules run in training only.'
    ]
    for role, model_cfg in (('student', student_model_config(cfg)),
                            ('teacher', teacher_model_config(cfg))):
        # init_weights is not called: no pretrained weights are fetched
        model = MODELS.build(model_cfg)
        rows = module_shapes(model, inputs)
        with torch.no_grad():
            logits = tuple(model(inputs, mode='tensor').shape)
        parts.append(f'\n{role} ({model_cfg.type}): logits {logits} '
                     "(student_feature / teacher_feature 'logits')\n" +
                     format_rows(rows, args.max_depth))
    return '\n'.join(parts)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Print the report; exit with the message on a config error."""
    args = parse_args(argv)
    try:
        print(run(args))
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'print_distill_modules: {e}')


if __name__ == '__main__':
    main()
