# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Evaluate a checkpoint on a config's test set (mmseg's command line).

A checkpoint saved while distilling holds the student only, so it is
evaluated with the student's plain config, e.g.
``python tools/test.py configs/deeplabv3plus/<student>.py <ckpt>.pth``.
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmengine.runner.checkpoint import _load_checkpoint

import mmseg_aicsd  # noqa: F401  (the mmseg_aicsd:: config scope)
from mmseg_aicsd.utils import load_state_dict_strictly, strip_ddp_prefix


def parse_args() -> argparse.Namespace:
    """Command-line arguments of mmseg's tools/test.py."""
    parser = argparse.ArgumentParser(description='Test (and evaluate) a '
                                     'segmentor')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where to write the metrics')
    parser.add_argument(
        '--out', help='directory to save predictions for offline evaluation')
    parser.add_argument(
        '--show-dir', help='directory to save painted predictions')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument(
        '--tta', action='store_true', help='test-time augmentation')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def check_checkpoint(runner: Runner, checkpoint: str, config: str) -> None:
    """Load ``checkpoint`` into the runner's model with every weight
    checked (mmengine's ``load_from`` only warns, and would evaluate
    random weights).

    Raises:
        CheckpointMismatchError: If its keys or shapes do not fit the
            config's model; the message says which checkpoint fits which
            config.
    """
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    state = _load_checkpoint(checkpoint, map_location='cpu')
    load_state_dict_strictly(
        model,
        strip_ddp_prefix(state.get('state_dict', state)),
        f'checkpoint {checkpoint!r}',
        config=f'the model of {config}',
        hint='a checkpoint of this config\'s model (a distillation run\'s '
        'checkpoints go with the student\'s plain config, a teacher\'s '
        'with the teacher config; one with distill_connectors.* keys '
        'first through tools/model_converters/distill_to_student.py)')


def main() -> None:
    """Build the runner from the config, load the checkpoint and test."""
    args = parse_args()
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.show_dir:
        cfg.default_hooks.visualization.draw = True
        cfg.visualizer.save_dir = args.show_dir
    if args.tta:
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model
    if args.out is not None:
        cfg.test_evaluator['output_dir'] = args.out
        cfg.test_evaluator['keep_results'] = True

    runner = Runner.from_cfg(cfg)
    if not args.tta:  # the TTA wrapper holds the model as `module.`
        check_checkpoint(runner, args.checkpoint, args.config)
    runner.test()


if __name__ == '__main__':
    main()
