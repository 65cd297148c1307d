# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""The offline teacher end to end on real CamVid images:
tools/misc/build_teacher_cache.py writes the teacher's logits of each image
at the base scale, and a KD student trains from them without a teacher
forward."""
import json
import os.path as osp

import mmcv
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from run_utils import REPO, STUDENT, data_options, run, save_teacher, scalars

from mmseg.registry import DATASETS, MODELS

CONFIG = 'configs/kd/kd-cache_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py'
N_TRAIN = 4


def options(root, teacher_ckpt, cache, max_iters=2):
    return [
        *data_options(root, max_iters, n_train=N_TRAIN),
        f'model.teacher={osp.join(REPO, STUDENT)}',
        f'model.teacher_ckpt={teacher_ckpt}', f'model.teacher_cache={cache}'
    ]


@pytest.fixture(scope='module')
def built(tmp_path_factory, camvid_root):
    tmp = tmp_path_factory.mktemp('cache')
    teacher_ckpt = save_teacher(tmp / 'teacher.pth')
    cache = tmp / 'cache'
    proc = run('tools/misc/build_teacher_cache.py', CONFIG, '--out',
               str(cache), '--device', 'cpu', '--cfg-options',
               *options(camvid_root, teacher_ckpt, cache))
    return dict(
        root=camvid_root,
        teacher_ckpt=teacher_ckpt,
        cache=cache,
        out=proc.stdout + proc.stderr)


def teacher_model(teacher_ckpt):
    init_default_scope('mmseg')
    cfg = Config.fromfile(osp.join(REPO, STUDENT)).model
    model = MODELS.build(cfg)
    model.load_state_dict(torch.load(teacher_ckpt)['state_dict'])
    return model.eval()


def test_cache_holds_the_teachers_logits_at_the_base_scale(built):
    with open(built['cache'] / 'manifest.json') as f:
        manifest = json.load(f)
    assert len(manifest['images']) == N_TRAIN
    assert manifest['scale'] == [240, 180] and manifest['dtype'] == 'float16'
    assert f'{N_TRAIN} images in' in built['out']
    model = teacher_model(built['teacher_ckpt'])
    key, name = sorted(manifest['images'].items())[0]
    cached = np.load(built['cache'] / name)
    assert cached.dtype == np.float16 and cached.shape == (11, 45, 60)
    # the teacher on the image resized to 240x180, computed here directly
    img = mmcv.imresize(
        mmcv.imread(osp.join(built['root'], 'train', key)), (240, 180))
    inputs = model.data_preprocessor(
        dict(inputs=[torch.from_numpy(img).permute(2, 0, 1)]), False)['inputs']
    with torch.no_grad():
        expected = model(inputs, mode='tensor')[0].numpy()
    np.testing.assert_allclose(
        cached.astype(np.float32), expected, rtol=2e-3, atol=2e-3)


def test_a_second_build_into_the_same_folder_is_refused(built):
    before = (built['cache'] / 'manifest.json').read_bytes()
    proc = run(
        'tools/misc/build_teacher_cache.py',
        CONFIG,
        '--out',
        str(built['cache']),
        '--cfg-options',
        *options(built['root'], built['teacher_ckpt'], built['cache']),
        check=False)
    assert proc.returncode != 0
    assert 'already holds a teacher cache' in proc.stderr
    assert (built['cache'] / 'manifest.json').read_bytes() == before


def test_plain_random_crop_is_refused(built, tmp_path):
    proc = run(
        'tools/misc/build_teacher_cache.py',
        'configs/kd/kd_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py',
        '--out',
        str(tmp_path / 'c'),
        '--cfg-options',
        *options(built['root'], built['teacher_ckpt'], tmp_path / 'c'),
        check=False)
    assert proc.returncode != 0
    assert "the train pipeline has ['RandomCrop']" in proc.stderr
    assert not (tmp_path / 'c').exists()


def test_training_step_cuts_instead_of_running_the_teacher(built):
    cfg = Config.fromfile(osp.join(REPO, CONFIG))
    cfg.merge_from_dict(
        Config(
            dict(
                model=dict(
                    teacher=osp.join(REPO, STUDENT),
                    teacher_ckpt=built['teacher_ckpt'],
                    teacher_cache=str(built['cache'])))))
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    model.train()
    calls = []
    model.teacher.register_forward_hook(lambda *a: calls.append(1))
    dataset_cfg = cfg.train_dataloader.dataset
    dataset_cfg.update(data_root=built['root'], indices=N_TRAIN)
    dataset = DATASETS.build(dataset_cfg)
    data = model.data_preprocessor(
        pseudo_collate([dataset[i] for i in range(2)]), True)
    assert all('crop_bbox' in s.metainfo for s in data['data_samples'])
    torch.manual_seed(0)  # the same dropout in the recomputation below
    losses = model.loss(data['inputs'], data['data_samples'])
    assert calls == []  # no teacher forward
    # the KD item is KD against the cut logits
    torch.manual_seed(0)
    with torch.no_grad():
        x = model.extract_feat(data['inputs'])
        student = model.decode_head.forward(x)
        cut = model.teacher_cache.logits(
            [s.metainfo for s in data['data_samples']],
            data['inputs'].shape[2:], student.shape[2:])
    kd = model.distill_losses['loss_kd'](student, cut)
    assert losses['loss_kd'].item() == pytest.approx(kd.item(), rel=1e-5)
    assert kd.item() > 0


def test_kd_student_trains_from_the_cache(built, tmp_path):
    work_dir = tmp_path / 'kd-cache'
    run('tools/train.py', CONFIG, '--work-dir', str(work_dir), '--cfg-options',
        *options(built['root'], built['teacher_ckpt'], built['cache'], 2))
    train = [r for r in scalars(work_dir) if 'loss_kd' in r]
    assert [r['iter'] for r in train] == [1, 2]
    assert all(np.isfinite(r['loss_kd']) and r['loss_kd'] > 0 for r in train)
    assert (work_dir / 'iter_2.pth').is_file()
