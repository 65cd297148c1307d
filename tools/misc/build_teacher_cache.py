# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Run a distillation config's frozen teacher once over its training images
and store the logits, for ``model.teacher_cache``.

Each training image is loaded and resized to the train pipeline's base
scale (the ``scale`` of its ``RandomResize`` at ratio 1, else of its
``Resize``; ``--scale`` overrides it), without crop, flip or photometric
distortion, and the teacher's logits of the whole image (its decode head's
output, float16, optionally average-pooled by ``--downsample``) are written
to ``OUT/<index>.npy``, then ``OUT/manifest.json``: the teacher config and
the SHA-256 of its checkpoint (a cache of another teacher is refused at
training), the pipeline, the base scale and the image list. The manifest
is written last: a cache whose build stopped has none, and is refused.

The train pipeline must record what training cuts by: ``RandomCropWithBox``
instead of ``RandomCrop``, ``'crop_bbox'`` in ``PackSegInputs``'
``meta_keys``; it may resize (``RandomResize``, ``Resize``), crop, flip
(after the crop) and distort colours, nothing else geometric.

Example::

    python tools/misc/build_teacher_cache.py \\
        configs/kd/kd-cache_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py \\
        --out work_dirs/teacher_cache/camvid
"""
import argparse
import json
import os
import os.path as osp
import sys
import time
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

from mmseg.registry import DATASETS
from mmseg_aicsd.models.distillers import build_frozen_teacher
from mmseg_aicsd.models.distillers.teacher_cache import (CACHE_VERSION,
                                                         MANIFEST, cache_key,
                                                         checkpoint_id,
                                                         config_json)
from mmseg_aicsd.utils import is_distill_config, teacher_config

# geometric transforms whose effect the cut cannot follow
UNSUPPORTED = ('RandomCrop', 'RandomRotate', 'RandomRotFlip', 'RandomMosaic',
               'RandomChoiceResize', 'ResizeShortestEdge', 'ResizeToMultiple')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Config, output folder and options."""
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='\n'.join(__doc__.split('\n')[1:]))
    parser.add_argument('config', help='a distillation config')
    parser.add_argument('--out', required=True, help='the cache folder')
    parser.add_argument(
        '--scale',
        type=int,
        nargs=2,
        metavar=('W', 'H'),
        help='resize images to this scale (keep_ratio as the pipeline); '
        'default: the pipeline\'s base scale')
    parser.add_argument(
        '--downsample',
        type=int,
        default=1,
        help='average-pool the logits by this factor (smaller cache)')
    parser.add_argument(
        '--device', default='cuda:0' if torch.cuda.is_available() else 'cpu')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, help='overrides')
    return parser.parse_args(argv)


def train_pipeline(cfg: Config) -> List[dict]:
    """The pipeline of the train dataset (of its first inner dataset if it
    wraps others)."""
    dataset = cfg.train_dataloader.dataset
    while 'pipeline' not in dataset:
        dataset = dataset.get('dataset') or dataset['datasets'][0]
    return list(dataset['pipeline'])


def check_pipeline(pipeline: List[dict]) -> Tuple[Tuple[int, int], bool]:
    """The base scale (W, H) and keep_ratio of a train pipeline the cut can
    follow.

    Raises:
        ValueError: If a transform is one the cut cannot follow, the crop
            box is not recorded or reaches no sample, a flip comes before
            the crop, or there is no resize to take the scale from.
    """
    types = [t['type'] for t in pipeline]
    bad = [t for t in types if t in UNSUPPORTED]
    if bad:
        raise ValueError(
            f'the train pipeline has {bad}: the teacher cache cannot follow '
            'it (use RandomCropWithBox for RandomCrop; rotations and mosaics '
            'need the online teacher)')
    if 'RandomCropWithBox' in types:
        pack = next((t for t in pipeline if t['type'] == 'PackSegInputs'), {})
        if 'crop_bbox' not in pack.get('meta_keys', ()):
            raise ValueError(
                "PackSegInputs' meta_keys lack 'crop_bbox': the crop box of "
                'RandomCropWithBox must reach the model; add it (with '
                "mmseg's default keys)")
        flips = [i for i, t in enumerate(types) if t == 'RandomFlip']
        if flips and flips[0] < types.index('RandomCropWithBox'):
            raise ValueError('RandomFlip comes before RandomCropWithBox: the '
                             'cut assumes crop, then flip')
    resize = next(
        (t for t in pipeline if t['type'] in ('RandomResize', 'Resize')), None)
    if resize is None:
        raise ValueError('the train pipeline has no RandomResize or Resize '
                         'to take the base scale from: give --scale')
    return tuple(resize['scale']), bool(resize.get('keep_ratio', True))


def set_pipeline(dataset: dict, pipeline: List[dict]) -> None:
    """Give ``dataset`` (and the datasets it wraps) ``pipeline``."""
    if 'pipeline' in dataset:
        dataset['pipeline'] = pipeline
    for inner in [dataset.get('dataset')] + list(dataset.get('datasets', [])):
        if inner:
            set_pipeline(inner, pipeline)


def unique_depth(paths: Sequence[str]) -> int:
    """The fewest trailing path components that tell all images apart."""
    for depth in range(1, 10):
        if len({cache_key(p, depth) for p in paths}) == len(paths):
            return depth
    raise ValueError('image paths are not unique')


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Build the cache, or exit with the reason it cannot be built."""
    try:
        run(parse_args(argv))
    except (FileExistsError, FileNotFoundError, ValueError) as e:
        sys.exit(f'build_teacher_cache: {e}')


def run(args: argparse.Namespace) -> None:
    """:func:`main` without the exit on errors."""
    if osp.isfile(osp.join(args.out, MANIFEST)):
        raise FileExistsError(
            f'{args.out!r} already holds a teacher cache; remove it or give '
            'another --out (nothing was written)')
    if args.downsample < 1:
        raise ValueError(f'--downsample must be >= 1, got {args.downsample}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope('mmseg')
    if not is_distill_config(cfg):
        raise ValueError(f'{args.config} is not a distillation config')
    pipeline = train_pipeline(cfg)
    scale, keep_ratio = check_pipeline(pipeline)
    scale = tuple(args.scale) if args.scale else scale

    dataset_cfg = cfg.train_dataloader.dataset.copy()
    set_pipeline(dataset_cfg, [
        dict(type='LoadImageFromFile'),
        dict(type='Resize', scale=scale, keep_ratio=keep_ratio),
        dict(
            type='PackSegInputs',
            meta_keys=('img_path', 'ori_shape', 'img_shape')),
    ])
    dataset = DATASETS.build(dataset_cfg)
    model = cfg.model
    teacher = build_frozen_teacher(model.teacher, model.teacher_ckpt,
                                   model.get('data_preprocessor'),
                                   model.decode_head.num_classes)
    teacher.to(args.device)
    os.makedirs(args.out, exist_ok=True)
    start, files, paths, nbytes = time.perf_counter(), {}, [], 0
    for i in range(len(dataset)):
        sample = dataset[i]
        data = teacher.data_preprocessor(
            dict(
                inputs=[sample['inputs']],
                data_samples=[sample['data_samples']]), False)
        with torch.no_grad():
            logits = teacher(data['inputs'], mode='tensor')[0].float()
        # only the cells of the image, not of the preprocessor's padding
        H, W = data['inputs'].shape[2:]
        h, w = sample['data_samples'].img_shape
        logits = logits[:, :round(logits.shape[1] * h /
                                  H), :round(logits.shape[2] * w / W)]
        if args.downsample > 1:
            logits = F.avg_pool2d(
                logits[None], args.downsample, ceil_mode=True)[0]
        name = f'{i:06d}.npy'
        array = logits.cpu().numpy().astype(np.float16)
        np.save(osp.join(args.out, name), array)
        nbytes += array.nbytes
        paths.append(sample['data_samples'].img_path)
        files[name] = sample['data_samples'].img_path
    seconds = time.perf_counter() - start
    depth = unique_depth(paths)
    manifest = dict(
        version=CACHE_VERSION,
        config=osp.abspath(args.config),
        teacher=config_json(teacher_config(model.teacher)),
        teacher_ckpt=model.teacher_ckpt,
        teacher_ckpt_id=checkpoint_id(model.teacher_ckpt),
        pipeline=config_json(pipeline),
        scale=list(scale),
        keep_ratio=keep_ratio,
        downsample=args.downsample,
        dtype='float16',
        image_dir=osp.dirname(paths[0]) if paths else '',
        key_depth=depth,
        images={
            cache_key(p, depth): n
            for n, p in files.items()
        },
        logits_bytes=nbytes,
        build_seconds=round(seconds, 1),
        device=str(args.device))
    with open(osp.join(args.out, MANIFEST), 'w') as f:
        json.dump(manifest, f, indent=1)
    print(f'build_teacher_cache: {len(paths)} images in {seconds:.0f} s, '
          f'{nbytes / 2**20:.1f} MiB of float16 logits '
          f'({tuple(array.shape)} per image, last), at scale {scale}, '
          f'in {args.out}')


if __name__ == '__main__':
    main()
