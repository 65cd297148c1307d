# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""The picture tools of tools/analysis_tools (visualize_ics, compare_masks,
per_class_iou, plot_curves) on real CamVid images, with two short real runs
of tools/train.py (the R18 student alone, and AICSD from a random R18
teacher), 2 iterations each. The tools' numbers are checked against
quantities computed here independently: ICS by a float64 loop over class
pairs, predictions by mmseg's init_model/inference_model, IoU from the
logs, curves from scalars.json."""
import functools
import glob
import importlib
import json
import math
import os
import os.path as osp
import re
import shutil

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose
from PIL import Image
from run_utils import (AICSD, REPO, STUDENT, data_options, run, save_teacher,
                       scalars)

from mmseg.apis import inference_model, init_model
from mmseg.registry import MODELS
from mmseg_aicsd.analysis import load_labels, split_data_infos
from mmseg_aicsd.datasets import CamVidDataset

TOOLS = osp.join(REPO, 'tools', 'analysis_tools')
CLASSES = CamVidDataset.METAINFO['classes']
PALETTE = np.array(CamVidDataset.METAINFO['palette'], dtype=np.uint8)


def load_tool(name):
    """A script of tools/analysis_tools as a module (``tools`` is a package
    of the repository, importable from its root)."""
    return importlib.import_module(f'tools.analysis_tools.{name}')


def png_size(path):
    with Image.open(path) as image:
        return image.size


def assert_size(path, inches, dpi=100):
    """The PNG's (width, height) in pixels is ``inches * dpi`` (+-1)."""
    width, height = png_size(path)
    assert abs(width - inches[0] * dpi) <= 1 and \
        abs(height - inches[1] * dpi) <= 1, (png_size(path), inches)
    assert os.path.getsize(path) < 600_000


@pytest.fixture(scope='module')
def runs(tmp_path_factory, camvid_root):
    """``teacher`` (a random R18 checkpoint), work dirs ``baseline`` (1
    iteration) and ``aicsd`` (2 iterations), batch 2, 2 training images,
    one validation image at the end, and the two val images the tests
    use."""
    root = tmp_path_factory.mktemp('vis')
    teacher = save_teacher(root / 'teacher.pth')
    dirs = dict(baseline=str(root / 'baseline'), aicsd=str(root / 'aicsd'))
    common = [
        *data_options(camvid_root, 2, n_train=2),
        'val_dataloader.dataset.indices=1', 'randomness.seed=0'
    ]
    # the baseline: 1 iteration; AICSD: 2, so that ALW's alpha moves
    run('tools/train.py', STUDENT, '--work-dir', dirs['baseline'],
        '--cfg-options', *common, 'train_cfg.max_iters=1',
        'train_cfg.val_interval=1', 'default_hooks.checkpoint.interval=1')
    run('tools/train.py', AICSD, '--work-dir', dirs['aicsd'], '--cfg-options',
        *common, f'model.teacher={osp.join(REPO, STUDENT)}',
        f'model.teacher_ckpt={teacher}')
    images = sorted(glob.glob(osp.join(camvid_root, 'val', '*.png')))[:2]
    return dict(dirs, teacher=teacher, images=images, root=camvid_root)


@pytest.fixture(scope='module')
def sharp(runs, tmp_path_factory):
    """Teacher, AICSD student and baseline checkpoints with the logit layer
    (decode_head.conv_seg) scaled up 3000x. Freshly initialised (std 0.01)
    and after 2 steps, the logits are so close to 0 that every spatial
    softmax is nearly uniform and every ICS about 1e-6 nats; scaled, the
    ICS are of order 1 and the models differ clearly."""
    root = tmp_path_factory.mktemp('sharp')
    paths = {}
    for name, src in (('teacher', runs['teacher']),
                      ('student', f'{runs["aicsd"]}/iter_2.pth'),
                      ('baseline', f'{runs["baseline"]}/iter_1.pth')):
        ckpt = torch.load(src)
        for key in ('weight', 'bias'):
            key = f'decode_head.conv_seg.{key}'
            ckpt['state_dict'][key] = ckpt['state_dict'][key] * 3000
        paths[name] = str(root / f'{name}.pth')
        torch.save(ckpt, paths[name])
    return paths


def data_root_options(root):
    return [
        f'{s}_dataloader.dataset.data_root={root}'
        for s in ('train', 'val', 'test')
    ]


# ----------------------------------------------------------------- ICS


@functools.lru_cache(maxsize=None)
def direct_logits(ckpt, img):
    """The decode head's logits of the R18 student config with ``ckpt``,
    by the config's test pipeline and ``mode='tensor'``."""
    cfg = Config.fromfile(osp.join(REPO, STUDENT))
    model = MODELS.build(cfg.model)
    model.load_state_dict(torch.load(ckpt)['state_dict'])
    model.eval()
    pipeline = Compose(
        [t for t in cfg.test_pipeline if t['type'] != 'LoadAnnotations'])
    data = pipeline(dict(img_path=img))
    batch = model.data_preprocessor(
        dict(inputs=[data['inputs']], data_samples=[data['data_samples']]),
        False)
    with torch.no_grad():
        return model(batch['inputs'], mode='tensor')


def naive_ics(logits):
    """ICS[i, j] = KL(G_i || G_j), G = softmax over positions (Eq. 2-3),
    by a float64 loop over class pairs."""
    log_g = torch.log_softmax(logits[0].flatten(1).double(), dim=-1)
    c = log_g.shape[0]
    ics = torch.zeros(c, c, dtype=torch.float64)
    for i in range(c):
        for j in range(c):
            ics[i, j] = (log_g[i].exp() * (log_g[i] - log_g[j])).sum()
    return ics


def labels_of(root, img):
    """The CamVid label PNG of a val image, read with PIL."""
    path = osp.join(root, 'valannot', osp.basename(img))
    return np.array(Image.open(path))


def naive_spread(logits, labels):
    """Per class labelled at the logits' size (in class order): exp of the
    entropy of G_i (Eq. 2) and its mass on the class's pixels, in float64,
    as a (2, K) array."""
    c, h, w = logits.shape[1:]
    step = labels.shape[0] // h
    assert labels.shape == (h * step, w * step)
    small = labels[::step, ::step].flatten()
    g = torch.softmax(logits[0].flatten(1).double(), dim=-1).numpy()
    rows = []
    for i in range(c):
        if (small == i).any():
            entropy = -sum(p * math.log(p) for p in g[i] if p > 0)
            rows.append((math.exp(entropy), g[i][small == i].sum()))
    return np.array(rows).T


def frobenius(teacher_ckpt, student_ckpt, img):
    return torch.linalg.norm(
        naive_ics(direct_logits(teacher_ckpt, img)) -
        naive_ics(direct_logits(student_ckpt, img))).item()


def ics_args(runs, teacher, out, *extra, split=True):
    opts = [
        *data_root_options(runs['root']),
        f'model.teacher={osp.join(REPO, STUDENT)}'
    ]
    if split:
        opts.append('val_dataloader.dataset.indices=2')
    return [
        osp.join(REPO, AICSD), '--teacher-ckpt', teacher, '--img',
        runs['images'][0], '--out',
        str(out), *extra, '--cfg-options', *opts
    ]


def printed(text, name):
    """Numbers after ``name`` on the lines that start with it."""
    return [[
        float(v) for v in re.findall(r'[-+]?\d[\d.e+-]*|nan',
                                     line.split(name, 1)[1])
    ] for line in text.splitlines() if line.strip().startswith(name)]


def test_visualize_ics_distances_and_figure(runs, sharp, tmp_path, capsys):
    tool = load_tool('visualize_ics')
    out = tmp_path / 'ics.png'
    # the teacher's own weights as the "baseline": distance exactly 0
    tool.main(
        ics_args(runs, sharp['teacher'], out, '--student-ckpt',
                 sharp['student'], '--baseline-ckpt', sharp['teacher'],
                 '--classes', 'road', 'car', '--split', 'val'))
    text = capsys.readouterr().out
    assert 'tau=1, decode-head logits of 45x60' in text
    expected = [
        frobenius(sharp['teacher'], sharp['student'], img)
        for img in runs['images']
    ]
    (image_value, ), (mean, std), _ = printed(text, 'student')
    assert expected[0] > 1  # other weights: clearly apart
    assert image_value == pytest.approx(expected[0], rel=1e-4)
    assert mean == pytest.approx(np.mean(expected), rel=1e-4)
    assert std == pytest.approx(np.std(expected, ddof=1), rel=1e-3)
    assert 'split val, 2 images' in text
    assert printed(text, 'baseline')[:2] == [[0.0], [0.0, 0.0]]
    # where each G_i lies: a float64 recomputation from the label PNGs
    # (void 11 left out; 360x480 -> 45x60 by nearest = every 8th pixel)
    pairs = [
        naive_spread(
            direct_logits(sharp[name], img), labels_of(runs['root'], img))
        for name in ('teacher', 'student') for img in runs['images']
    ]
    teacher = np.concatenate(pairs[:2], axis=1)
    student = np.concatenate(pairs[2:], axis=1)
    assert f'mean over {teacher.shape[1]} (image, labelled class)' in text
    assert 'of 2700' in text
    assert teacher.shape[1] > 10  # most of the 11 classes, in 2 images
    assert printed(text, 'teacher')[-1] == pytest.approx(
        teacher.mean(axis=1), rel=1e-4)
    assert printed(text, 'student')[-1] == pytest.approx(
        student.mean(axis=1), rel=1e-4)
    assert printed(text, 'baseline')[-1] == printed(text, 'teacher')[-1]
    assert not np.allclose(
        teacher.mean(axis=1), student.mean(axis=1), rtol=1e-2)
    # image + 3 ICS panels of 3.4 in and 1.6 in of labels; 4.2 in for them,
    # 2.6 per model row, 0.9 for colour bars, 0.5 for the legend
    assert_size(out, (15.2, 13.4))

    # teacher and student only, default classes (the teacher's 3 largest)
    out = tmp_path / 'two.png'
    tool.main(
        ics_args(
            runs,
            sharp['teacher'],
            out,
            '--student-ckpt',
            sharp['baseline'],
            split=False))
    text = capsys.readouterr().out
    assert 'baseline' not in text
    value, = printed(text, 'student')
    assert value[0] > 1 and value[0] != pytest.approx(expected[0], rel=1e-3)
    # 4 bottom columns (prediction + 3 classes) of 3.0 in are the widest
    assert_size(out, (3.0 * 4 + 0.6, 4.2 + 2.6 * 2 + 0.9 + 0.5))


def naive_released(logits):
    """The released code's row-normalised ICS matrix of one image, a literal
    float64 loop: P = softmax over H, M[i, j] = M[j, i] =
    sum_{h,w} P_j (log P_j - P_i) for i <= j, rows L2-normalised."""
    p = torch.softmax(logits[0].double(), dim=1)  # (C, H, W), over H
    c = p.shape[0]
    m = torch.zeros(c, c, dtype=torch.float64)
    for i in range(c):
        for j in range(i, c):
            m[i, j] = m[j, i] = (p[j] * (p[j].log() - p[i])).sum()
    return m / m.norm(dim=1, keepdim=True)


def test_visualize_ics_released_term(runs, sharp, tmp_path, capsys):
    tool = load_tool('visualize_ics')
    out = tmp_path / 'released.png'
    tool.main(
        ics_args(
            runs,
            sharp['teacher'],
            out,
            '--student-ckpt',
            sharp['student'],
            '--baseline-ckpt',
            sharp['teacher'],
            '--released',
            split=False))
    text = capsys.readouterr().out
    released = text.split('row-normalised ICS matrices', 1)[1]
    img = runs['images'][0]
    expected = torch.linalg.norm(
        naive_released(direct_logits(sharp['teacher'], img)) -
        naive_released(direct_logits(sharp['student'], img))).item()
    assert expected > 0.01
    (value, ), = printed(released, 'student')
    assert value == pytest.approx(expected, rel=1e-4)
    assert printed(released, 'baseline') == [[0.0]]
    # Eq. 3's distance is printed as without --released
    assert printed(text.split('row-normalised', 1)[0], 'student')[0][0] == \
        pytest.approx(frobenius(sharp['teacher'], sharp['student'], img),
                      rel=1e-4)
    # a second 4.2 in row of heatmaps
    assert_size(out, (15.2, 13.4 + 4.2))


def test_split_data_infos_and_labels(runs, tmp_path):
    cfg = Config.fromfile(osp.join(REPO, STUDENT))
    cfg.val_dataloader.dataset.data_root = runs['root']
    infos = split_data_infos(cfg, 'val')
    assert len(infos) == 101
    assert infos[0]['img_path'] == runs['images'][0]
    labels = load_labels(infos[0])
    raw = labels_of(runs['root'], runs['images'][0])
    assert labels.shape == (360, 480) and (raw == 11).any()
    np.testing.assert_array_equal(labels, np.where(raw == 11, 255, raw))
    missing = dict(infos[0], seg_map_path=str(tmp_path / 'x.png'))
    with pytest.raises(FileNotFoundError, match="label map '.*x.png' of "):
        load_labels(missing)


def test_intra_class_distributions_are_those_of_the_ics():
    """The maps drawn are the G_i whose KL divergences the project's
    inter_class_similarity gives (Eq. 2-3), at tau 1 and 2."""
    from mmseg_aicsd.models.losses import inter_class_similarity
    tool = load_tool('visualize_ics')
    logits = torch.randn(2, 4, 6, 7) * 3
    for tau in (1.0, 2.0):
        g = tool.intra_class_distributions(logits, tau).double()
        assert g.shape == logits.shape
        flat = g.flatten(2)
        assert torch.allclose(flat.sum(-1), torch.ones(2, 4).double())
        kl = (flat[:, :, None] *
              (flat[:, :, None].log() - flat[:, None].log())).sum(-1)
        torch.testing.assert_close(
            kl.float(),
            inter_class_similarity(logits, tau),
            rtol=1e-4,
            atol=1e-5)


def exit_message(tool, argv):
    with pytest.raises(SystemExit) as exc:
        tool.main(argv)
    return str(exc.value)


def test_visualize_ics_errors(runs, tmp_path):
    tool = load_tool('visualize_ics')
    student = f'{runs["aicsd"]}/iter_2.pth'
    out = tmp_path / 'x.png'
    missing = str(tmp_path / 'nope.pth')
    assert exit_message(tool, ics_args(runs, runs['teacher'], out,
                                       '--student-ckpt', missing)) == \
        f"visualize_ics: student checkpoint '{missing}' does not exist"
    message = exit_message(
        tool,
        ics_args(runs, runs['teacher'], out, '--student-ckpt', student,
                 '--classes', 'road', 'lorry'))
    assert message == ("visualize_ics: unknown class name(s) ['lorry']; the "
                       "config's classes are: " + ', '.join(CLASSES))
    # the config's own teacher (R101-D16) with R18 weights
    argv = ics_args(runs, runs['teacher'], out, '--student-ckpt', student)
    argv.remove(f'model.teacher={osp.join(REPO, STUDENT)}')
    message = exit_message(tool, argv)
    assert message.startswith(
        f"visualize_ics: teacher checkpoint '{runs['teacher']}' does not ")
    assert 'Is it a checkpoint of this architecture?' in message or \
        'size mismatch' in message
    # a plain student config has no teacher
    argv = ics_args(runs, runs['teacher'], out, '--student-ckpt', student)
    argv[0] = osp.join(REPO, STUDENT)
    assert 'is not a distillation config' in exit_message(tool, argv)
    # --split on a copy of one val image without its label map
    root = tmp_path / 'nolabels'
    (root / 'val').mkdir(parents=True)
    shutil.copy(runs['images'][0], root / 'val')
    argv = ics_args(
        dict(runs, root=str(root)), runs['teacher'], out, '--student-ckpt',
        student, '--split', 'val')
    # (CamVidDataset finds it out when it lists the split)
    assert exit_message(tool, argv).startswith(
        'visualize_ics: 1 of 1 images have no label map, e.g. '
        f"'{root / 'val' / osp.basename(runs['images'][0])}'")
    assert not out.exists()


# ---------------------------------------------------------------- masks


def test_compare_masks(runs, sharp, tmp_path, capsys):
    """With the checkpoints of sharp logits, which predict several classes
    (the runs' own predict one class nearly everywhere)."""
    tool = load_tool('compare_masks')
    ckpts = [sharp['baseline'], sharp['student']]
    out = tmp_path / 'masks.png'
    args = tool.parse_args([
        osp.join(REPO, AICSD), *ckpts, '--labels', 'baseline', 'AICSD',
        '--teacher-ckpt', sharp['teacher'], '--img', *runs['images'], '--out',
        str(out), '--cfg-options', *data_root_options(runs['root']),
        f'model.teacher={osp.join(REPO, STUDENT)}'
    ])
    rows = tool.run(args)
    assert list(rows) == [osp.basename(p) for p in runs['images']]
    models = dict(
        zip(['teacher', 'baseline', 'AICSD'], [sharp['teacher'], *ckpts]))
    for path, panels in zip(runs['images'], rows.values()):
        assert list(panels) == ['image', 'ground truth', *models]
        image = np.array(Image.open(path).convert('RGB'))
        assert (panels['image'] == image).all()
        # ground truth: palette colours, void (11) black
        label = np.array(Image.open(path.replace('/val/', '/valannot/')))
        expected = np.zeros_like(image)
        known = label < len(CLASSES)
        expected[known] = PALETTE[label[known]]
        assert (label == 11).any()  # void pixels to check
        assert (panels['ground truth'] == expected).all()
    # the predictions are mmseg's own init_model / inference_model
    path, panels = runs['images'][0], rows[osp.basename(runs['images'][0])]
    predicted = set()
    for name, ckpt in models.items():
        model = init_model(osp.join(REPO, STUDENT), ckpt, device='cpu')
        pred = inference_model(model, path).pred_sem_seg.data[0].numpy()
        assert pred.shape == (360, 480)
        assert (panels[name] == PALETTE[pred]).all(), name
        predicted |= set(np.unique(pred).tolist())
    assert len(predicted) > 1  # not one colour only
    assert_size(out, (5 * 3.0, 2 * 2.5 + 0.7))  # 5 columns, 2 rows

    # errors: a checkpoint of another architecture, a missing image
    message = exit_message(tool, [
        osp.join(REPO, STUDENT), ckpts[0], '--img', runs['images'][0], '--out',
        str(out), '--cfg-options', 'model.backbone.depth=50'
    ])
    assert message.startswith(
        f'compare_masks: {osp.basename(osp.dirname(ckpts[0]))} checkpoint '
        f"(model of the config) '{ckpts[0]}' does not fit the model config: ")
    assert 'size mismatch' in message
    missing = str(tmp_path / 'none.png')
    assert exit_message(tool, [osp.join(REPO, STUDENT), ckpts[0], '--img',
                               missing, '--out', str(out)]) == \
        f"compare_masks: '{missing}' does not exist"


# ------------------------------------------------------- per-class IoU


def log_class_iou(work_dir):
    """{class: IoU} of the last per-class table of the run's log."""
    log, = glob.glob(f'{work_dir}/*/*.log')
    with open(log) as f:
        table = f.read().split('per class results:')[-1]
    rows = [
        line.strip('|').split('|') for line in table.splitlines()
        if line.startswith('|')
    ]
    return {r[0].strip(): float(r[1]) for r in rows[1:]}


def with_other_iou(src, dst, offset):
    """A copy of a work dir whose last per-class table has every IoU
    raised by ``offset`` (a second seed of the same config)."""
    shutil.copytree(src, dst)
    log, = glob.glob(f'{dst}/*/*.log')
    with open(log) as f:
        head, _, table = f.read().rpartition('per class results:')
    lines = table.split('\n')
    for i, line in enumerate(lines):
        cells = line.split('|')
        if line.startswith('|') and re.fullmatch(r'\s*[\d.]+\s*', cells[2]):
            cells[2] = f' {float(cells[2]) + offset:.2f} '
            lines[i] = '|'.join(cells)
    with open(log, 'w') as f:
        f.write(head + 'per class results:' + '\n'.join(lines))


def test_per_class_iou(runs, tmp_path, capsys):
    tool = load_tool('per_class_iou')
    seed1 = str(tmp_path / 'baseline_seed1')
    with_other_iou(runs['baseline'], seed1, 10.0)
    out = tmp_path / 'iou.png'
    tool.main([runs['baseline'], runs['aicsd'], seed1, '--out', str(out)])
    text = capsys.readouterr().out
    cells = [[c.strip() for c in line.strip('|').split('|')]
             for line in text.splitlines() if line.startswith('|')]
    assert cells[0] == ['class', 'deeplabv3plus_r18-d8', 'AICSD']
    table = {row[0]: row[1:] for row in cells[2:]}
    assert list(table) == [*CLASSES, 'mIoU']
    base, aicsd = log_class_iou(runs['baseline']), log_class_iou(runs['aicsd'])
    for cls in CLASSES:
        b, a = base[cls], aicsd[cls]
        assert table[cls][1] == ('nan' if math.isnan(a) else f'{a:.2f}')
        if not math.isnan(b):  # seeds: b and b + 10
            assert table[cls][0] == f'{b + 5:.2f} ± {10 / math.sqrt(2):.2f}'
    # 11 classes, 2 methods: 1.5 + 11 * (0.22 * 2 + 0.35) inches wide
    assert_size(out, (1.5 + 11 * 0.79, 4.8))

    # the bars are the logs' values
    mean, std, miou, count = tool.per_class_iou(
        [runs['baseline'], runs['aicsd']], labels=['baseline', 'AICSD'])
    fig = tool.plot_per_class_iou(mean, std, miou, count)
    bars = fig.axes[0].containers
    assert [b.get_label() for b in bars] == [
        f'baseline (mIoU {miou["baseline"]:.2f})',
        f'AICSD (mIoU {miou["AICSD"]:.2f})'
    ]
    for container, log in zip(bars, (base, aicsd)):
        heights = [p.get_height() for p in container.patches]
        np.testing.assert_array_equal(heights, [log[c] for c in CLASSES])

    # a run summary (RUN.json, as studies/camvid/camvid_study.py writes) in
    # place of the work dir: the same table
    summary = tmp_path / 'aicsd.json'
    with open(summary, 'w') as f:
        json.dump(dict(tool.read_any(runs['aicsd']), wall_time_s=1.0), f)
    tool.main([runs['baseline'], str(summary), seed1, '--out', str(out)])
    assert capsys.readouterr().out == text

    # a run without per-class table, a run that is not there
    broken = str(tmp_path / 'broken')
    shutil.copytree(runs['aicsd'], broken)
    log, = glob.glob(f'{broken}/*/*.log')
    with open(log) as f:
        text = f.read().replace('per class results:', 'omitted')
    with open(log, 'w') as f:
        f.write(text)
    assert exit_message(tool, [broken, '--out', str(out)]) == (
        f'per_class_iou: {broken}: no per-class table of its last validation '
        '(iteration 2) in its log')
    assert exit_message(tool, [str(tmp_path / 'gone'), '--out', str(out)]) \
        == f'per_class_iou: {tmp_path / "gone"}: no such directory'


# --------------------------------------------------------------- curves


def test_plot_curves(runs, tmp_path, capsys):
    tool = load_tool('plot_curves')
    out = tmp_path / 'curves.png'
    tool.main([
        runs['baseline'], runs['aicsd'], '--labels', 'baseline', 'AICSD',
        '--out',
        str(out)
    ])
    keys = [
        'loss', 'decode.loss_ce', 'aux.loss_ce', 'loss_icsd', 'loss_kd',
        'alw_alpha', 'mIoU'
    ]
    assert capsys.readouterr().out.strip() == \
        f'saved {out}: {", ".join(keys)} of 2 runs'
    assert_size(out, (3 * 4.2, 3 * 3.0 + 0.5))  # 7 panels, 3 columns

    curves = {
        name: tool.read_curves(runs[name])
        for name in ('baseline', 'aicsd')
    }
    fig = tool.plot_curves(curves, keys)
    for ax, key in zip(fig.axes, keys):
        assert ax.get_title() == key
        lines = {line.get_label(): line for line in ax.get_lines()}
        for name in ('baseline', 'aicsd'):
            records = [r for r in scalars(runs[name]) if key in r]
            if not records:  # ICSD, KD and alpha: AICSD only
                assert name not in lines
                continue
            x, y = lines[name].get_data()
            assert list(x) == [r.get('iter', r['step']) for r in records]
            assert list(y) == [r[key] for r in records]
    # ALW: alpha 0 in the first "epoch" (1 iteration of 2 images), then 1/2
    assert curves['aicsd']['alw_alpha'] == ([1, 2], [0.0, 0.5])

    message = exit_message(
        tool, [runs['aicsd'], '--keys', 'loss_at', '--out',
               str(out)])
    assert message.startswith("plot_curves: no run logged ['loss_at']; "
                              'logged keys: ')
    assert 'loss_icsd' in message and 'alw_alpha' in message
