# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Median-frequency class weights of a config's training labels.

Reads every label map of the config's ``train_dataloader`` dataset (as its
``LoadAnnotations`` loads them: the dataset's ``label_map``, e.g. CamVid's
void 11 -> 255, applied), counts each class's pixels and the valid pixels
of the images where it appears, and prints ``median(f) / f_c`` with
``f_c`` the ratio of the two (SegNet's ``class_weighting``), their square
roots (a milder balancing) and the counts, as a Markdown table, then both
weight lists as ``class_weight=[...]`` lines for a ``loss_decode`` of
``ClassWeightedCrossEntropyLoss``.

Example::

    python tools/analysis_tools/class_weights.py \\
      configs/deeplabv3plus/deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py \\
        --out work_dirs/camvid_class_weights.json
"""
import argparse
import json
import sys
from typing import Optional, Sequence

import numpy as np
import pandas as pd
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

from mmseg.registry import DATASETS
from mmseg_aicsd.datasets.class_weights import (class_pixel_counts,
                                                median_frequency_weights)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Config, output and options."""
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='\n'.join(__doc__.split('\n')[1:]))
    parser.add_argument('config', help='a config with a train_dataloader')
    parser.add_argument('--out', help='also write the table as JSON here')
    parser.add_argument(
        '--ignore-index',
        type=int,
        default=255,
        help='label of the pixels not counted (default: 255)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, help='overrides')
    return parser.parse_args(argv)


def class_weight_table(cfg: Config, ignore_index: int = 255) -> pd.DataFrame:
    """One row per class: pixels, images, valid pixels of those images,
    frequency, median-frequency weight and its square root.

    Raises:
        ValueError: As :func:`class_pixel_counts` and
            :func:`median_frequency_weights` (a value that is no class, a
            class with no pixel).
    """
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    dataset_cfg = cfg.train_dataloader.dataset.copy()
    # the labels alone, with the dataset's label_map: no image decoded
    dataset_cfg.pipeline = [dict(type='LoadAnnotations')]
    dataset = DATASETS.build(dataset_cfg)
    classes = dataset.metainfo['classes']
    labels = (dataset[i]['gt_seg_map'] for i in range(len(dataset)))
    pixels, present, images = class_pixel_counts(labels, len(classes),
                                                 ignore_index)
    weight = median_frequency_weights(pixels, present)
    return pd.DataFrame(
        dict(
            pixels=pixels,
            images=images,
            image_pixels=present,
            frequency=pixels / present,
            weight=weight,
            sqrt_weight=np.sqrt(weight)),
        index=pd.Index(classes, name='class'))


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Print the table and the weight lists; write JSON if asked."""
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    try:
        table = class_weight_table(cfg, args.ignore_index)
    except (ValueError, FileNotFoundError) as e:
        sys.exit(f'class_weights: {e}')
    print(table.to_markdown(floatfmt='.4f'))
    for column in ('weight', 'sqrt_weight'):
        values = ', '.join(f'{w:.4f}' for w in table[column])
        print(f'{column}: class_weight=[{values}]')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(table.reset_index().to_dict('records'), f, indent=1)
            f.write('\n')


if __name__ == '__main__':
    main()
