# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Train a segmentor (student, teacher or AICSD distillation) from a config.

Same command line as mmseg's ``tools/train.py``; the configs import
``mmseg_aicsd`` themselves (``custom_imports``), so either script works.
"""
import argparse
import logging
import os
import os.path as osp

import torch
import torch.distributed as torch_dist
from mmengine.config import Config, DictAction
from mmengine.logging import print_log

import mmseg_aicsd  # noqa: F401  (the mmseg_aicsd:: config scope)
from mmseg.registry import RUNNERS
from mmseg_aicsd.engine import (KeepConfigRunner, check_fresh_run,
                                warn_other_method)
from mmseg_aicsd.utils import check_crop_fits


def parse_args() -> argparse.Namespace:
    """Command-line arguments of mmseg's tools/train.py."""
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--work-dir',
        help='where to save logs and models '
        '(default: ./work_dirs/<config name>)')
    parser.add_argument(
        '--resume',
        action='store_true',
        help='resume from the latest checkpoint in the work dir')
    parser.add_argument(
        '--amp', action='store_true', help='mixed-precision training')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. train_cfg.max_iters=100 '
        'model.teacher_ckpt=path/to/teacher.pth')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def setup_cpu_distributed(cfg: Config) -> None:
    """Start a gloo process group for ``--launcher pytorch`` without CUDA.

    mmengine 0.10's ``init_dist`` calls ``torch.cuda.set_device`` whatever
    the backend, which fails on a CPU-only torch; the Runner skips its own
    ``init_dist`` when a process group already exists. DDP over a CPU model
    takes no ``device_ids``, so the model wrapper is configured without.
    """
    env_cfg = cfg.get('env_cfg') or {}
    env_cfg['dist_cfg'] = dict(backend='gloo')
    cfg.env_cfg = env_cfg
    if not torch_dist.is_initialized():
        # RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT come from torchrun
        torch_dist.init_process_group(backend='gloo')
    wrapper = dict(
        type='MMDistributedDataParallel',
        device_ids=None,
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper.update(cfg.get('model_wrapper_cfg') or {})
    cfg.model_wrapper_cfg = wrapper


def write_checkpoints_first(cfg: Config) -> None:
    """Use ``WriteFirstCheckpointHook`` for a stock ``CheckpointHook``:
    the same hook, but a kill while it writes never leaves a run with no
    checkpoint to resume from (mmengine deletes the outdated one first)."""
    checkpoint = (cfg.get('default_hooks') or {}).get('checkpoint')
    if checkpoint is not None and checkpoint.get('type') == 'CheckpointHook':
        checkpoint['type'] = 'WriteFirstCheckpointHook'


def main() -> None:
    """Build the runner from the config and train."""
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
    if args.amp:
        if cfg.optim_wrapper.type == 'AmpOptimWrapper':
            print_log(
                'AMP is already enabled in the config.',
                logger='current',
                level=logging.WARNING)
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
    cfg.resume = args.resume
    check_crop_fits(cfg)
    # what the work dir holds from an earlier run is not overwritten
    check_fresh_run(cfg.work_dir, args.resume)
    if args.resume:
        warn_other_method(cfg.work_dir, cfg)
    write_checkpoints_first(cfg)
    if args.launcher == 'pytorch' and not torch.cuda.is_available():
        setup_cpu_distributed(cfg)

    runner = (
        RUNNERS.build(cfg)
        if 'runner_type' in cfg else KeepConfigRunner.from_cfg(cfg))
    runner.train()


if __name__ == '__main__':
    main()
