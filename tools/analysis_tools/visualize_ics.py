# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Picture the inter-class similarity (ICS) of teacher and students.

As Fig. 1 and 5 of the AICSD paper (Mansourian et al., arXiv 2308.04243)
do, for one image: on top, the ICS matrices (Eq. 3,
``ICS[i, j] = KL(G_i || G_j)``) of the teacher, the distilled student and,
if given, the baseline student, on one colour scale; below, the intra-class
distributions ``G_i`` (Eq. 2: the softmax over all pixel positions of class
i's logits) of a few classes for each model, over the image.

It prints the Frobenius distance ``||ICS_T - ICS_S||_F`` of each student's
ICS to the teacher's for the image and, with ``--split``, its mean and
standard deviation over a split of the config's dataset: whether ICSD moved
the student's class structure towards the teacher's. (The ICSD loss, Eq. 4,
is this distance squared over C^2.) With ``--split`` it also prints, for
every model, how many of the N positions each labelled class's ``G_i``
spreads over (the exponential of its entropy) and how much of its mass lies
on that class's labelled pixels, averaged over (image, labelled class)
pairs: matching the teacher's ICS need not put ``G_i`` on the right pixels.

``--released`` adds a second row of heatmaps: the matrices the AICSD
authors' released code compares (:func:`released_ics` of the image, softmax
over H, each row L2-normalised, as in :class:`ReleasedCodeICSDLoss`), and
prints their Frobenius distances: that term's view of the same logits
beside Eq. 3's.

ICS is computed by the project's :func:`inter_class_similarity` on the
decode head's logits at the head's output size (1/4 of the input for
DeepLabV3+), tau from the config's ``ICSDLoss`` (else 1): the maps the
training loss compares. The student's logits are resized to the teacher's
first if their sizes differ, as in the loss.

CONFIG is a distillation config (model ``DistillEncoderDecoder``). The
teacher is its ``model.teacher`` with ``--teacher-ckpt`` (default: the
config's ``model.teacher_ckpt``); the student and the baseline are its
student (the model without teacher and losses), from ``--student-ckpt``
(a checkpoint of the distillation run: it holds the student, and possibly
connectors, which are ignored) and ``--baseline-ckpt`` (the student trained
alone). Class names and colours come from the config's dataset.

Example::

    python tools/analysis_tools/visualize_ics.py \\
        configs/aicsd/aicsd_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py \\
        --teacher-ckpt work_dirs/teacher/iter_600.pth \\
        --student-ckpt work_dirs/aicsd/iter_600.pth \\
        --baseline-ckpt work_dirs/baseline/iter_600.pth \\
        --img data/camvid/val/0016E5_07959.png --classes road car sky \\
        --split val --out ics.png
"""
import argparse
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence

import matplotlib

matplotlib.use('Agg')  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402
import mmcv  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402

from mmseg_aicsd.analysis import CheckpointMismatchError  # noqa: E402
from mmseg_aicsd.analysis import (class_indices, colour_labels,
                                  dataset_metainfo, is_distill_config,
                                  load_labels, load_segmentor,
                                  predict_with_logits, split_data_infos,
                                  student_model_config, teacher_model_config)
from mmseg_aicsd.models.losses import inter_class_similarity  # noqa: E402
from mmseg_aicsd.models.losses import released_ics
from mmseg_aicsd.models.losses.utils import match_logits  # noqa: E402

# classes shown when --classes is not given: the teacher's largest ones
DEFAULT_NUM_CLASSES = 3
# size of the parts of the figure, inches
PANEL = 3.4  # width of the image and of each ICS heatmap
TOP = 4.2  # height of the image and heatmaps row
ROW = 2.6  # height of a model's row of prediction and distributions


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Config, checkpoints, image, classes, split and output."""
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='\n'.join(__doc__.split('\n')[1:]))
    parser.add_argument(
        'config',
        help='a distillation config '
        '(DistillEncoderDecoder with a teacher)')
    parser.add_argument(
        '--teacher-ckpt',
        help="teacher weights; default: the config's model.teacher_ckpt")
    parser.add_argument(
        '--student-ckpt',
        required=True,
        help='the distilled student (a checkpoint of the distillation run)')
    parser.add_argument(
        '--baseline-ckpt', help='the student trained alone (optional)')
    parser.add_argument('--img', required=True, help='the image to show')
    parser.add_argument(
        '--classes',
        nargs='+',
        metavar='NAME',
        help='classes whose intra-class distributions are shown; default: '
        f'the {DEFAULT_NUM_CLASSES} with most pixels in the teacher\'s '
        'prediction')
    parser.add_argument(
        '--split',
        choices=['train', 'val', 'test'],
        help='also print the distances over this split of the config\'s '
        'dataset (mean +- std); limit it with --cfg-options '
        '<split>_dataloader.dataset.indices=N')
    parser.add_argument(
        '--tau',
        type=float,
        help='softmax temperature; default: the tau of the config\'s '
        'ICSDLoss, else 1')
    parser.add_argument(
        '--released',
        action='store_true',
        help='also show the released code\'s row-normalised ICS matrices '
        '(ReleasedCodeICSDLoss) and their distances')
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


def config_tau(cfg: Config) -> float:
    """tau of the config's ``ICSDLoss`` entry, or 1.0 without one."""
    for loss in cfg.model.get('distill_losses', {}).values():
        if loss.get('type') == 'ICSDLoss':
            return float(loss.get('tau', 1.0))
    return 1.0


def ics_distances(teacher_logits: torch.Tensor,
                  student_logits: Dict[str, torch.Tensor],
                  tau: float = 1.0) -> tuple:
    """ICS matrices and distances to the teacher's (AICSD Eq. 2-4).

    Args:
        teacher_logits (Tensor): (B, C, H, W) teacher logits.
        student_logits (dict[str, Tensor]): (B, C, H_s, W_s) logits by
            model name; resized bilinearly to (H, W) if they differ, as in
            ``ICSDLoss``.
        tau (float): Softmax temperature. Defaults to 1.0.

    Returns:
        tuple[dict, dict]: ICS matrices by name (the teacher's under
        ``'teacher'``), each (B, C, C) in nats, and the Frobenius distances
        ``||ICS_T - ICS_S||_F`` by student name, each (B,) in nats.

    Raises:
        ValueError: If the logits cannot be matched (other class count or
            aspect ratio).
    """
    ics = {'teacher': inter_class_similarity(teacher_logits, tau)}
    distances = {}
    for name, logits in student_logits.items():
        logits, _ = match_logits(logits, teacher_logits)
        ics[name] = inter_class_similarity(logits, tau)
        distances[name] = torch.linalg.matrix_norm(ics['teacher'] - ics[name])
    return ics, distances


def released_distances(teacher_logits: torch.Tensor,
                       student_logits: Dict[str, torch.Tensor]) -> tuple:
    """The released code's ICS matrices, rows L2-normalised, and their
    distances to the teacher's (what ``ReleasedCodeICSDLoss`` compares,
    softmax over H).

    Args:
        teacher_logits (Tensor): (1, C, H, W) teacher logits of one image.
        student_logits (dict[str, Tensor]): (1, C, H_s, W_s) logits by
            model name; resized to (H, W) as in :func:`ics_distances`.

    Returns:
        tuple[dict, dict]: (C, C) row-normalised matrices by name (the
        teacher's under ``'teacher'``), and ``||N(M_T) - N(M_S)||_F`` by
        student name, each a 0-d tensor (no unit: rows have length 1).

    Raises:
        ValueError: If the logits cannot be matched.
    """
    mats = {'teacher': F.normalize(released_ics(teacher_logits), dim=-1)}
    distances = {}
    for name, logits in student_logits.items():
        logits, _ = match_logits(logits, teacher_logits)
        mats[name] = F.normalize(released_ics(logits), dim=-1)
        distances[name] = torch.linalg.matrix_norm(mats['teacher'] -
                                                   mats[name])
    return mats, distances


def intra_class_distributions(logits: torch.Tensor,
                              tau: float = 1.0) -> torch.Tensor:
    """The intra-class distributions G_i of AICSD Eq. 2.

    ``G_i = softmax over the N = H * W positions of Z_i / tau``, the
    distributions whose pairwise KL divergences are the ICS
    (:func:`inter_class_similarity` computes them internally without
    exposing them).

    Args:
        logits (Tensor): (B, C, H, W) logits.
        tau (float): Temperature. Defaults to 1.0.

    Returns:
        Tensor: (B, C, H, W) float32; each (b, c) map sums to 1.
    """
    flat = logits.float().flatten(2) / tau
    return torch.softmax(flat, dim=-1).view(logits.shape)


def _heatmap_row(fig, axes, cbar_ax, mats: Dict[str, np.ndarray],
                 distances: Dict[str, float], classes: Sequence[str],
                 symbol: str, label: str, diverging: bool) -> None:
    """One row of class x class heatmaps on one colour scale."""
    vmax = max(float(np.abs(m).max()) for m in mats.values())
    vmin, cmap = (-vmax, 'RdBu_r') if diverging else (0, 'viridis')
    for i, (ax, name) in enumerate(zip(axes, mats)):
        im = ax.imshow(mats[name], cmap=cmap, vmin=vmin, vmax=vmax)
        head = f'{name} (max {mats[name].max():.3g})'
        if name != 'teacher':
            head += (f'\n$\\|{symbol}_T - {symbol}\\|_F$ = '
                     f'{distances[name]:.3g}')
        ax.set_title(head, fontsize=10)
        ax.set_xticks(
            range(len(classes)),
            classes,
            rotation=60,
            ha='right',
            rotation_mode='anchor',
            fontsize=8)
        ax.set_yticks(
            range(len(classes)), classes if i == 0 else [], fontsize=8)
        ax.set_xlabel('class j', fontsize=8)
        if i == 0:
            ax.set_ylabel('class i', fontsize=8)
    fig.colorbar(im, cax=cbar_ax, label=label)


def plot_ics(image: np.ndarray,
             ics: Dict[str, np.ndarray],
             distances: Dict[str, float],
             maps: Dict[str, np.ndarray],
             predictions: Dict[str, np.ndarray],
             meta: dict,
             shown: Sequence[int],
             title: str,
             released: Optional[tuple] = None) -> Figure:
    """The figure: the image and the ICS heatmaps on top; below, one row per
    model with its prediction and its intra-class distributions.

    Args:
        image (ndarray): (H, W, 3) RGB uint8 image.
        ics (dict[str, ndarray]): (C, C) ICS matrix by model name, the
            teacher first.
        distances (dict[str, float]): ``||ICS_T - ICS_S||_F`` by student
            name (in the heatmaps' titles).
        maps (dict[str, ndarray]): (C, h, w) intra-class distributions by
            model name (each map sums to 1), drawn at their own resolution.
        predictions (dict[str, ndarray]): (H, W, 3) coloured prediction by
            model name.
        meta (dict): ``classes`` (C names) and ``palette``.
        shown (Sequence[int]): Indices of the classes whose maps are shown.
        title (str): The figure's title.
        released (tuple, optional): The released code's row-normalised
            (C, C) matrices by model name and their distances by student
            name (:func:`released_distances`), drawn as a second row of
            heatmaps.

    Returns:
        Figure: Of ``max(3.4 * (n + 1) + 1.6, 3.0 * (k + 1) + 0.6)`` x
        ``4.2 * r + 2.6 * n + 1.4`` inches for n models, k classes and r
        rows of heatmaps (2 with ``released``).
    """
    classes = meta['classes']
    names = list(ics)
    n, k = len(names), len(shown)
    rows = 2 if released else 1
    width = max(PANEL * (n + 1) + 1.6, 3.0 * (k + 1) + 0.6)
    rows_height = ROW * n + 0.9
    fig = plt.figure(
        figsize=(width, TOP * rows + rows_height + 0.5), layout='constrained')
    top, bottom = fig.subfigures(2, 1, height_ratios=[TOP * rows, rows_height])
    top.suptitle(title, fontsize=12)  # fig.suptitle would overlap it

    # the image, then the ICS heatmaps on one colour scale; the colour bar
    # gets its own column (a bar stolen from several axes upsets the
    # constrained layout: the title then overlaps the heatmaps' headings)
    axes = np.asarray(
        top.subplots(
            rows, n + 2, width_ratios=[1] * (n + 1) + [0.06], squeeze=False))
    axes[0, 0].imshow(image)
    axes[0, 0].set_title('image', fontsize=10)
    for ax in axes[:, 0]:
        ax.axis('off')
    _heatmap_row(top, axes[0, 1:-1], axes[0, -1], ics, distances, classes,
                 'ICS', 'ICS(i, j) = KL($G_i$ || $G_j$), nats', False)
    if released:
        axes[1, 0].text(
            0.5,
            0.5, 'released code\'s ICS term:\nsoftmax over H,\n'
            'rows L2-normalised\n(not a KL)',
            ha='center',
            va='center',
            fontsize=10)
        _heatmap_row(top, axes[1, 1:-1], axes[1, -1], released[0], released[1],
                     classes, 'N(M)', 'N(M)(i, j), row-normalised', True)

    # per model: prediction, then G_i of each shown class as multiples of
    # the uniform distribution (1 = spread evenly), one scale per class
    axes = np.asarray(bottom.subplots(n, k + 1, squeeze=False))
    for row, name in enumerate(names):
        axes[row, 0].imshow(predictions[name])
        axes[row, 0].set_ylabel(name, fontsize=11)
    axes[0, 0].set_title('prediction', fontsize=10)
    for col, c in enumerate(shown, start=1):
        scaled = [maps[name][c] * maps[name][c].size for name in names]
        top_value = max(float(m.max()) for m in scaled)
        for row, name in enumerate(names):
            im = axes[row, col].imshow(
                scaled[row],
                cmap='inferno',
                vmin=0,
                vmax=top_value,
                interpolation='nearest')
        axes[0, col].set_title(f'$G_i$, i = {classes[c]}', fontsize=10)
        bottom.colorbar(
            im,
            ax=axes[:, col],
            location='bottom',
            shrink=0.8,
            aspect=25,
            label='$G_i$ x N (1 = uniform)')
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    bottom.suptitle(
        'intra-class distributions $G_i$: softmax over the N '
        'positions of class i\'s logits (Eq. 2)',
        fontsize=10)
    handles = [
        Patch(facecolor=np.array(c) / 255, edgecolor='0.5', label=n)
        for n, c in zip(classes, meta['palette'])
    ]
    fig.legend(
        handles=handles,
        loc='outside lower center',
        ncol=min(len(handles), 11),
        fontsize=8,
        frameon=False)
    return fig


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Print the distances and write the figure."""
    args = parse_args(argv)
    try:
        run(args)
    except (FileNotFoundError, ValueError, CheckpointMismatchError) as e:
        sys.exit(f'visualize_ics: {e}')


def run(args: argparse.Namespace) -> None:
    """:func:`main` without the exit on errors."""
    if not osp.isfile(args.img):
        raise FileNotFoundError(f'--img {args.img!r} does not exist')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if not is_distill_config(cfg):
        raise ValueError(
            f'{args.config} is not a distillation config (its model is a '
            f'{cfg.model.get("type")}); give one whose model is a '
            'DistillEncoderDecoder with a teacher, e.g. '
            'configs/aicsd/aicsd_*.py')
    tau = args.tau if args.tau is not None else config_tau(cfg)
    teacher_ckpt = args.teacher_ckpt or cfg.model.teacher_ckpt
    specs = [('teacher', teacher_model_config(cfg), teacher_ckpt),
             ('student', student_model_config(cfg), args.student_ckpt)]
    if args.baseline_ckpt:
        specs.append(
            ('baseline', student_model_config(cfg), args.baseline_ckpt))
    for name, _, ckpt in specs:  # all files first, before any model build
        if not osp.isfile(ckpt):
            raise FileNotFoundError(f'{name} checkpoint {ckpt!r} does not '
                                    'exist')
    meta = dataset_metainfo(cfg)
    classes = meta['classes']
    if args.classes:  # before the models are built
        shown = class_indices(args.classes, classes)
    models = {
        name:
        load_segmentor(cfg, model_cfg, ckpt, f'{name} checkpoint', args.device)
        for name, model_cfg, ckpt in specs
    }

    logits, results = {}, {}
    for name, model in models.items():
        logits[name], results[name] = predict_with_logits(model, args.img)
    if not args.classes:
        counts = torch.bincount(
            results['teacher'].pred_sem_seg.data.flatten().cpu(),
            minlength=len(classes))
        # ties (classes the teacher never predicts): lower index first
        order = counts.argsort(descending=True, stable=True)
        shown = order[:DEFAULT_NUM_CLASSES].tolist()
    students = [n for n in models if n != 'teacher']
    ics, distances = ics_distances(logits['teacher'],
                                   {n: logits[n]
                                    for n in students}, tau)

    size = 'x'.join(map(str, logits['teacher'].shape[2:]))
    print('Frobenius distance of each student\'s ICS to the teacher\'s, '
          '||ICS_T - ICS_S||_F in nats (AICSD Eq. 2-3; '
          f'tau={tau:g}, decode-head logits of {size}):')
    print(f'image {args.img}')
    for name in students:
        print(f'  {name:<10}{distances[name].item():.6g}')
    released = None
    if args.released:
        released = released_distances(logits['teacher'],
                                      {n: logits[n]
                                       for n in students})
        print('Frobenius distance of the released code\'s row-normalised '
              'ICS matrices, ||N(M_T) - N(M_S)||_F (softmax over H; '
              'ReleasedCodeICSDLoss):')
        for name in students:
            print(f'  {name:<10}{released[1][name].item():.6g}')
        released = ({
            n: m.numpy()
            for n, m in released[0].items()
        }, {
            n: d.item()
            for n, d in released[1].items()
        })
    if args.split:
        print_split_distances(
            cfg, args.split, models, students, tau, known={args.img: logits})

    # each model's maps at its own logit size (one cell per position)
    maps = {
        name: intra_class_distributions(x, tau)[0].numpy()
        for name, x in logits.items()
    }
    predictions = {
        name: colour_labels(result.pred_sem_seg.data[0].cpu().numpy(), meta)
        for name, result in results.items()
    }
    fig = plot_ics(
        mmcv.imread(args.img, channel_order='rgb'), {
            n: m[0].numpy()
            for n, m in ics.items()
        }, {
            n: d.item()
            for n, d in distances.items()
        }, maps, predictions, meta, shown,
        f'Inter-class similarity (AICSD Eq. 3), {osp.basename(args.img)}: '
        f'{osp.splitext(osp.basename(args.config))[0]}, tau={tau:g}', released)
    fig.savefig(args.out, dpi=args.dpi, pil_kwargs=dict(optimize=True))
    plt.close(fig)
    print(f'saved {args.out}')


def intra_class_spread(logits: torch.Tensor,
                       labels: np.ndarray,
                       tau: float = 1.0) -> tuple:
    """How widely each labelled class's G_i (AICSD Eq. 2) spreads, and how
    much of it lies on that class's pixels, for one image.

    Args:
        logits (Tensor): (1, C, h, w) logits.
        labels (ndarray): (H, W) label map of the image (ids >= C, e.g. 255,
            are void); resized to (h, w) by nearest neighbour.
        tau (float): Temperature. Defaults to 1.0.

    Returns:
        tuple[Tensor, Tensor]: For the K classes with at least one labelled
        position at (h, w), in class order, each (K,) float32: the
        perplexity ``exp(H(G_i))``, the number of positions G_i spreads over
        (1 to h * w), and the mass ``sum of G_i over positions labelled i``
        (0 to 1).
    """
    maps = intra_class_distributions(logits, tau)[0].flatten(1)  # (C, N)
    num_classes = maps.shape[0]
    small = F.interpolate(
        torch.from_numpy(labels.astype(np.int64))[None, None].float(),
        size=logits.shape[2:],
        mode='nearest')[0, 0].long().flatten()
    present = [c for c in range(num_classes) if (small == c).any()]
    entropy = -(maps * torch.log(maps.clamp_min(1e-30))).sum(-1)
    positions = entropy[present].exp()
    mass = torch.stack([maps[c][small == c].sum() for c in present]) \
        if present else torch.zeros(0)
    return positions, mass


def print_split_distances(cfg: Config,
                          split: str,
                          models: dict,
                          students: List[str],
                          tau: float,
                          known: Optional[dict] = None) -> None:
    """Print mean +- std (n - 1) of the distances over the images of a
    split of the config's dataset, one image at a time; then, for every
    model, the means of :func:`intra_class_spread` over all (image,
    labelled class) pairs: whether G_i lies on the class's own pixels.

    Args:
        cfg (Config): The config (its ``<split>_dataloader`` dataset).
        split (str): 'train', 'val' or 'test'.
        models (dict): Segmentors by name, the teacher as ``'teacher'``.
        students (list[str]): The names compared with the teacher.
        tau (float): Softmax temperature.
        known (dict, optional): Logits by model name, by image path, of
            images already run (not run again).

    Raises:
        FileNotFoundError: If an image of the split has no label map.
    """
    known = {osp.realpath(p): v for p, v in (known or {}).items()}
    infos = split_data_infos(cfg, split)
    per_image = {name: [] for name in students}
    spread = {name: ([], []) for name in models}
    for info in infos:
        path = info['img_path']
        labels = load_labels(info)
        logits = known.get(osp.realpath(path)) or {
            name: predict_with_logits(model, path)[0]
            for name, model in models.items()
        }
        _, distances = ics_distances(logits['teacher'],
                                     {n: logits[n]
                                      for n in students}, tau)
        for name in students:
            per_image[name].append(distances[name].item())
        for name in models:  # students at the teacher's size, as in ICS
            matched, _ = match_logits(logits[name], logits['teacher'])
            positions, mass = intra_class_spread(matched, labels, tau)
            spread[name][0].extend(positions.tolist())
            spread[name][1].extend(mass.tolist())
    print(f'split {split}, {len(infos)} images: mean +- std (n - 1)')
    for name in students:
        values = np.array(per_image[name])
        std = values.std(ddof=1) if len(values) > 1 else float('nan')
        print(f'  {name:<10}{values.mean():.6g} +- {std:.6g}')
    size = int(np.prod(logits['teacher'].shape[2:]))
    print(f'G_i over the split, mean over {len(spread["teacher"][0])} '
          '(image, labelled class) pairs: positions it spreads over '
          f'(exp of its entropy, of {size}), its mass on the class\'s '
          'labelled pixels')
    for name, (positions, mass) in spread.items():
        print(f'  {name:<10}{np.mean(positions):.6g} {np.mean(mass):.6g}')


if __name__ == '__main__':
    main()
