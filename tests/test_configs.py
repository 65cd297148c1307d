# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Every config builds: its model (teacher weights from a checkpoint saved
here), a training step on one process, and its datasets on stand-in folders
in the real Cityscapes / VOC layouts (CamVid: the real data)."""
import glob
import os.path as osp

import mmcv
import numpy as np
import pytest
import torch
import yaml
from mmengine.config import Config
from mmengine.utils import mkdir_or_exist
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope

import mmseg
from mmengine.structures import PixelData
from mmseg.registry import DATASETS, MODELS
from mmseg.structures import SegDataSample
from mmseg_aicsd.models.segmentors import DistillEncoderDecoder

CONFIG_DIR = osp.join(osp.dirname(osp.dirname(__file__)), 'configs')
CONFIGS = sorted(
    p for p in glob.glob(osp.join(CONFIG_DIR, '**', '*.py'), recursive=True)
    if '_base_' not in p)
MMSEG_CONFIGS = osp.join(osp.dirname(mmseg.__file__), '.mim', 'configs')


def config_id(path):
    return osp.relpath(path, CONFIG_DIR)


@pytest.fixture(scope='module')
def teacher_ckpts(tmp_path_factory):
    """Teacher checkpoints saved by the test, one per teacher config."""
    cache = {}

    def get(teacher):
        if teacher not in cache:
            torch.manual_seed(0)
            model = MODELS.build(DistillEncoderDecoder.teacher_config(teacher))
            path = tmp_path_factory.mktemp('teacher') / 'teacher.pth'
            torch.save(dict(state_dict=model.state_dict()), path)
            cache[teacher] = str(path)
        return cache[teacher]

    return get


def test_configs_are_found():
    names = {config_id(p) for p in CONFIGS}
    assert {
        f'aicsd/aicsd_{name}.py'
        for name in ('deeplabv3plus_r18-d8_4xb2-80k_cityscapes-512x1024',
                     'mobilenet-v2-d8_deeplabv3plus_4xb2-80k_cityscapes-'
                     '512x1024',
                     'deeplabv3plus_r18-d8_4xb4-40k_voc12aug-512x512',
                     'mobilenet-v2-d8_deeplabv3plus_4xb4-40k_voc12aug-512x512',
                     'deeplabv3plus_r18-d8_1xb4-600_camvid-180x240')
    } <= names


@pytest.mark.parametrize('path', CONFIGS, ids=config_id)
def test_config_builds_and_trains_one_step(path, teacher_ckpts):
    init_default_scope('mmseg')
    cfg = Config.fromfile(path)
    assert cfg.custom_imports == dict(
        imports=['mmseg_aicsd'], allow_failed_imports=False)
    distill = cfg.model.type == 'DistillEncoderDecoder'
    if distill:
        assert [h.type for h in cfg.custom_hooks] == ['ALWHook']
        cfg.model.teacher_ckpt = teacher_ckpts(cfg.model.teacher)
    model = revert_sync_batchnorm(MODELS.build(cfg.model))  # as on 1 process
    model.train()
    num_classes = model.decode_head.num_classes
    inputs = torch.rand(2, 3, 64, 96) * 255
    samples = [
        SegDataSample(
            gt_sem_seg=PixelData(
                data=torch.randint(0, num_classes, (1, 64, 96))),
            metainfo=dict(img_shape=(64, 96), ori_shape=(64, 96)))
        for _ in range(2)
    ]
    losses = model.loss(inputs, samples)
    expected = {'decode.loss_ce', 'aux.loss_ce'}
    if distill:
        expected |= {'loss_icsd', 'loss_kd'}
        assert model.teacher.num_classes == num_classes
    assert expected <= set(losses)
    assert all(torch.isfinite(v) for k, v in losses.items() if 'loss' in k)


@pytest.mark.parametrize(
    'path', [p for p in CONFIGS if 'cityscapes' in p and 'aicsd' in p],
    ids=config_id)
def test_syncbn_config_on_one_process(path, teacher_ckpts):
    """The stock Cityscapes configs use SyncBN in student and teacher. On
    one process mmengine's Runner reverts it (revert_sync_batchnorm in
    Runner.wrap_model): the teacher must come out reverted, still frozen,
    in eval mode and with the checkpoint's weights."""
    init_default_scope('mmseg')
    cfg = Config.fromfile(path)
    cfg.model.teacher_ckpt = teacher_ckpts(cfg.model.teacher)
    model = MODELS.build(cfg.model)
    sync_bn = torch.nn.SyncBatchNorm
    assert any(isinstance(m, sync_bn) for m in model.backbone.modules())
    assert any(isinstance(m, sync_bn) for m in model.teacher.modules())
    inputs = torch.rand(2, 3, 64, 96) * 255
    with torch.no_grad():
        before = model.teacher(inputs, mode='tensor')

    model = revert_sync_batchnorm(model)
    assert not any(isinstance(m, sync_bn) for m in model.modules())
    model.train()
    assert not any(m.training for m in model.teacher.modules())
    assert not any(p.requires_grad for p in model.teacher.parameters())
    saved = torch.load(cfg.model.teacher_ckpt)['state_dict']
    for key, value in model.teacher.state_dict().items():
        assert torch.equal(value, saved[key]), key
    samples = [
        SegDataSample(
            gt_sem_seg=PixelData(data=torch.zeros(1, 64, 96).long()),
            metainfo=dict(img_shape=(64, 96), ori_shape=(64, 96)))
        for _ in range(2)
    ]
    losses = model.loss(inputs, samples)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    with torch.no_grad():  # same teacher function, statistics unmoved
        torch.testing.assert_close(
            model.teacher(inputs, mode='tensor'), before)
    for key, value in model.teacher.state_dict().items():
        assert torch.equal(value, saved[key]), key


def metafile_weights():
    urls = {}
    for meta in glob.glob(osp.join(MMSEG_CONFIGS, '*', 'metafile.yaml')):
        with open(meta) as f:
            for model in yaml.safe_load(f).get('Models', []):
                urls[osp.basename(model['Config'])] = model.get('Weights')
    return urls


@pytest.mark.parametrize(
    'path', [p for p in CONFIGS if 'mmseg::' in open(p).read()
             and 'teacher=' in open(p).read()], ids=config_id)
def test_model_zoo_teacher_url_matches_its_config(path):
    cfg = Config.fromfile(path)
    teacher_name = osp.basename(cfg.model.teacher)
    assert cfg.model.teacher_ckpt == metafile_weights()[teacher_name]


def write_image(path, h, w, seed):
    rng = np.random.default_rng(seed)
    mmcv.imwrite(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), path)


def write_label(path, h, w, num_classes, seed):
    rng = np.random.default_rng(seed)
    label = rng.integers(0, num_classes, (h, w), dtype=np.uint8)
    label[:4] = 255
    mmcv.imwrite(label, path)


def make_cityscapes(root):
    for split in ('train', 'val'):
        stem = f'{root}/%s/{split}/aachen/aachen_000000_000019'
        write_image(stem % 'leftImg8bit' + '_leftImg8bit.png', 64, 128, 0)
        write_label(stem % 'gtFine' + '_gtFine_labelTrainIds.png', 64, 128,
                    19, 1)


def make_voc_aug(root):
    voc = f'{root}/VOCdevkit/VOC2012'
    for name in ('2007_000032', '2007_000039'):
        write_image(f'{voc}/JPEGImages/{name}.jpg', 60, 80, 2)
        write_label(f'{voc}/SegmentationClass/{name}.png', 60, 80, 21, 3)
        write_label(f'{voc}/SegmentationClassAug/{name}.png', 60, 80, 21, 4)
    for split in ('train', 'val', 'aug'):
        mkdir_or_exist(f'{voc}/ImageSets/Segmentation')
        with open(f'{voc}/ImageSets/Segmentation/{split}.txt', 'w') as f:
            f.write('2007_000032\n2007_000039\n')


def set_data_root(dataset_cfg, old_root, new_root):
    """Re-root a dataset config (ConcatDataset included) like a user's
    data/ symlink would."""
    for cfg in dataset_cfg.get('datasets', [dataset_cfg]):
        assert cfg.data_root == old_root, cfg.data_root
        cfg.data_root = osp.join(new_root, old_root)


@pytest.mark.parametrize('path', CONFIGS, ids=config_id)
def test_config_datasets_load(path, tmp_path, camvid_root):
    init_default_scope('mmseg')
    cfg = Config.fromfile(path)
    dataset_type = cfg.train_dataloader.dataset.get(
        'type', 'PascalVOCDataset')
    if 'cityscapes' in path:
        make_cityscapes(osp.join(tmp_path, 'data/cityscapes'))
        root, expected_classes = str(tmp_path), 19
    elif 'voc12aug' in path:
        make_voc_aug(osp.join(tmp_path, 'data'))
        root, expected_classes = str(tmp_path), 21
    else:
        assert dataset_type == 'CamVidDataset'
        root, expected_classes = None, 11
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset_cfg = cfg[loader].dataset
        if root is None:
            dataset_cfg.data_root = camvid_root
        else:
            old = dataset_cfg.get('data_root') or \
                dataset_cfg.datasets[0].data_root
            set_data_root(dataset_cfg, old, root)
        dataset = DATASETS.build(dataset_cfg)
        assert len(dataset) > 0
        assert len(dataset.metainfo['classes']) == expected_classes
        item = dataset[0]
        assert item['inputs'].shape[0] == 3
        labels = item['data_samples'].gt_sem_seg.data.unique()
        assert ((labels < expected_classes) | (labels == 255)).all()
    if root is None:
        assert len(DATASETS.build(cfg.train_dataloader.dataset)) == 367
