# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Predicted masks of several models side by side.

As Fig. 4 of the AICSD paper (Mansourian et al., arXiv 2308.04243): one
row per image with the image, its ground truth and each model's
prediction, coloured in the dataset's palette by mmseg's
``SegLocalVisualizer`` (black: void / unlabelled in the ground truth),
with a legend of the classes.

Every CKPT is a checkpoint of CONFIG's model; for a distillation config
(``DistillEncoderDecoder``) that is its student, so the baseline and every
distilled student (KD, AICSD, ...) go with the same config, and
``--teacher-ckpt`` adds the teacher (``model.teacher``) as a first model.
Predictions are mmseg's :func:`inference_model` (the config's test
pipeline), at the image's size. The ground truth is the label map that the
config's dataset (train, val or test split) pairs with the image, loaded
with its ``label_map`` (CamVid's void -> 255); an image outside the dataset
shows "no label map".

Example::

    python tools/analysis_tools/compare_masks.py \\
        configs/aicsd/aicsd_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py \\
        work_dirs/baseline/iter_600.pth work_dirs/aicsd/iter_600.pth \\
        --labels baseline AICSD \\
        --teacher-ckpt work_dirs/teacher/iter_600.pth \\
        --img data/camvid/val/0016E5_07959.png \\
        data/camvid/val/0016E5_08151.png \\
        --out masks.png
"""
import argparse
import os.path as osp
import sys
import textwrap
from typing import Dict, List, Optional, Sequence

import matplotlib

matplotlib.use('Agg')  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402
import mmcv  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

from mmseg.apis import inference_model  # noqa: E402
from mmseg.registry import DATASETS, TRANSFORMS  # noqa: E402
from mmseg_aicsd.analysis import CheckpointMismatchError  # noqa: E402
from mmseg_aicsd.analysis import (colour_labels, dataset_metainfo,
                                  is_distill_config, load_segmentor,
                                  student_model_config, teacher_model_config)

PANEL = (3.0, 2.5)  # inches per image panel, title included
LEGEND_HEIGHT = 0.7  # inches below the rows


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Config, checkpoints, images, labels and output."""
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='\n'.join(__doc__.split('\n')[1:]))
    parser.add_argument(
        'config',
        help='the models\' config (for a '
        'distillation config: its student)')
    parser.add_argument(
        'checkpoints',
        nargs='+',
        metavar='CKPT',
        help='checkpoints of the config\'s model')
    parser.add_argument(
        '--img', nargs='+', required=True, help='images, one row each')
    parser.add_argument(
        '--labels',
        nargs='+',
        help='a name per CKPT; default: the checkpoint\'s folder name')
    parser.add_argument(
        '--teacher-ckpt',
        help='also show the teacher of a distillation config, with these '
        'weights')
    parser.add_argument('--out', required=True, help='output PNG')
    parser.add_argument('--dpi', type=int, default=100)
    parser.add_argument(
        '--device', default='cuda:0' if torch.cuda.is_available() else 'cpu')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config entries, e.g. '
        'val_dataloader.dataset.data_root=...')
    return parser.parse_args(argv)


def find_label_maps(cfg: Config, images: Sequence[str]) -> Dict[str, dict]:
    """The dataset entries of the images, from the config's train, val and
    test datasets (the first that lists an image wins).

    Args:
        cfg (Config): A full config.
        images (Sequence[str]): Image paths.

    Returns:
        dict[str, dict]: By image path (as given), the dataset's data info
        (``seg_map_path``, ``label_map``, ``reduce_zero_label``, ...), for
        the images found.
    """
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    wanted = {osp.realpath(p): p for p in images}
    found = {}
    seen = []
    for split in ('val', 'test', 'train'):
        loader = cfg.get(f'{split}_dataloader')
        if loader is None or loader.dataset in seen:
            continue
        seen.append(loader.dataset)
        try:
            dataset = DATASETS.build(loader.dataset)
        except (FileNotFoundError, OSError):
            continue  # that split is not on this machine
        for i in range(len(dataset)):
            info = dataset.get_data_info(i)
            path = wanted.get(osp.realpath(info['img_path']))
            if path is not None and path not in found \
                    and info.get('seg_map_path'):
                found[path] = info
        if len(found) == len(wanted):
            break
    return found


def load_label_map(info: dict) -> np.ndarray:
    """The (H, W) label map of a dataset entry, with the dataset's
    ``label_map`` and ``reduce_zero_label`` applied by mmseg's
    ``LoadAnnotations``."""
    load = TRANSFORMS.build(dict(type='LoadAnnotations'))
    return load(dict(info, seg_fields=[]))['gt_seg_map']


def mask_panels(image: np.ndarray, gt: Optional[np.ndarray],
                predictions: Dict[str, np.ndarray],
                meta: dict) -> Dict[str, Optional[np.ndarray]]:
    """The coloured panels of one row.

    Args:
        image (ndarray): (H, W, 3) RGB uint8.
        gt (ndarray, optional): (H, W) ground-truth labels, 255 = void.
        predictions (dict[str, ndarray]): (H, W) predicted labels by model.
        meta (dict): ``classes`` and ``palette`` of the dataset.

    Returns:
        dict[str, ndarray | None]: ``image``, ``ground truth`` (None without
        a label map) and one (H, W, 3) uint8 RGB panel per model.
    """
    panels = {
        'image': image,
        'ground truth': None if gt is None else colour_labels(gt, meta)
    }
    for name, labels in predictions.items():
        panels[name] = colour_labels(labels, meta)
    return panels


def plot_masks(rows: Dict[str, Dict[str, Optional[np.ndarray]]],
               meta: dict) -> Figure:
    """One row per image of :func:`mask_panels`, a class legend below.

    Args:
        rows (dict[str, dict]): Panels by image name.
        meta (dict): ``classes`` and ``palette``.

    Returns:
        Figure: Of ``columns * 3.0`` x ``rows * 2.5 + 0.7`` inches.
    """
    names = list(next(iter(rows.values())))
    n_rows, n_cols = len(rows), len(names)
    fig, axes = plt.subplots(
        n_rows,
        n_cols,
        squeeze=False,
        figsize=(n_cols * PANEL[0], n_rows * PANEL[1] + LEGEND_HEIGHT),
        layout='constrained')
    for row, (image_name, panels) in enumerate(rows.items()):
        for col, name in enumerate(names):
            ax = axes[row, col]
            ax.set_xticks([])
            ax.set_yticks([])
            if panels[name] is None:
                ax.text(
                    0.5,
                    0.5,
                    'no label map',
                    ha='center',
                    va='center',
                    transform=ax.transAxes)
            else:
                ax.imshow(panels[name])
            if row == 0:
                ax.set_title('\n'.join(textwrap.wrap(name, 28)), fontsize=10)
            if col == 0:
                ax.set_ylabel(image_name, fontsize=8)
    handles = [
        Patch(facecolor=np.array(c) / 255, edgecolor='0.5', label=n)
        for n, c in zip(meta['classes'], meta['palette'])
    ]
    handles.append(Patch(facecolor='black', label='void'))
    # about 1.2 inches per entry, as many rows as that needs
    fig.legend(
        handles=handles,
        loc='outside lower center',
        ncol=min(len(handles), int(n_cols * PANEL[0] / 1.2)),
        fontsize=8,
        frameon=False)
    return fig


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Predict, colour and write the figure."""
    args = parse_args(argv)
    try:
        run(args)
    except (FileNotFoundError, ValueError, CheckpointMismatchError) as e:
        sys.exit(f'compare_masks: {e}')


def run(args: argparse.Namespace) -> Dict[str, dict]:
    """:func:`main` without the exit on errors; returns the rows of
    :func:`mask_panels` by image name."""
    if args.labels and len(args.labels) != len(args.checkpoints):
        raise ValueError(f'{len(args.labels)} --labels for '
                         f'{len(args.checkpoints)} checkpoints')
    for path in [
            *args.img, *args.checkpoints,
            *([args.teacher_ckpt] if args.teacher_ckpt else [])
    ]:
        if not osp.isfile(path):
            raise FileNotFoundError(f'{path!r} does not exist')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    labels = args.labels or [
        osp.basename(osp.dirname(osp.abspath(p))) for p in args.checkpoints
    ]
    if len(set(labels)) != len(labels):
        labels = [
            f'{label} {osp.basename(p)}'
            for label, p in zip(labels, args.checkpoints)
        ]
    specs = []
    if args.teacher_ckpt:
        specs.append(('teacher', teacher_model_config(cfg), args.teacher_ckpt))
    student = student_model_config(cfg)
    what = 'student' if is_distill_config(cfg) else 'model'
    specs += [(label, student, ckpt)
              for label, ckpt in zip(labels, args.checkpoints)]
    models = {
        name:
        load_segmentor(
            cfg, model_cfg, ckpt, f'{name} checkpoint ({what} of the config)'
            if name != 'teacher' else 'teacher checkpoint', args.device)
        for name, model_cfg, ckpt in specs
    }
    meta = dataset_metainfo(cfg)
    infos = find_label_maps(cfg, args.img)
    rows = {}
    for path in args.img:
        image = mmcv.imread(path, channel_order='rgb')
        gt = load_label_map(infos[path]) if path in infos else None
        predictions = {
            name: inference_model(model,
                                  path).pred_sem_seg.data[0].cpu().numpy()
            for name, model in models.items()
        }
        rows[osp.basename(path)] = mask_panels(image, gt, predictions, meta)
    missing: List[str] = [p for p in args.img if p not in infos]
    if missing:
        print(
            f'compare_masks: no label map in the config\'s datasets for '
            f'{missing}',
            file=sys.stderr)
    fig = plot_masks(rows, meta)
    fig.savefig(args.out, dpi=args.dpi, pil_kwargs=dict(optimize=True))
    plt.close(fig)
    print(f'saved {args.out}')
    return rows


if __name__ == '__main__':
    main()
