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
from mmengine.model import revert_sync_batchnorm
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from mmengine.utils import mkdir_or_exist

import mmseg
from mmseg.registry import DATASETS, MODELS
from mmseg.structures import SegDataSample
from mmseg_aicsd.engine.hooks import set_alw_alpha
from mmseg_aicsd.models.segmentors import DistillEncoderDecoder
from mmseg_aicsd.utils import DISTILL_TYPE

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG_DIR = osp.join(REPO, 'configs')
# the product's configs, and the studies' (studies/<name>/configs)
CONFIGS = sorted(
    p for p in glob.glob(osp.join(CONFIG_DIR, '**', '*.py'), recursive=True)
    if '_base_' not in p) + sorted(
        glob.glob(osp.join(REPO, 'studies', '*', 'configs', '*.py')))
MMSEG_CONFIGS = osp.join(osp.dirname(mmseg.__file__), '.mim', 'configs')


def config_id(path):
    """``kd/kd_...py`` for configs/, ``studies/camvid/configs/...`` else."""
    inside = osp.commonpath([path, CONFIG_DIR]) == CONFIG_DIR
    return osp.relpath(path, CONFIG_DIR if inside else REPO)


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


# The rows of the AICSD paper's Tables II-V, per (student, dataset):
# config prefix -> (distillation losses, ALW schedule or None).
TABLE_ROWS = {
    'kd/kd': ({'loss_kd'}, None),
    'at/at': ({'loss_at'}, None),
    'sp/sp': ({'loss_sp'}, None),
    'ickd/ickd': ({'loss_ickd'}, None),
    'cwd/cwd': ({'loss_cwd'}, None),
    'aicsd/aicsd': ({'loss_icsd', 'loss_kd'}, 'linear'),
    'aicsd/icsd': ({'loss_icsd'}, None),
    'aicsd/kd-icsd': ({'loss_icsd', 'loss_kd'}, None),
    'aicsd/kd-alw': ({'loss_kd'}, 'linear'),
    'aicsd/aicsd-exp': ({'loss_icsd', 'loss_kd'}, 'exp'),
    # the two other class-relation methods, beside the paper's rows
    'i2ckd/i2ckd': ({'loss_i2ckd'}, None),
    'idd/idd': ({'loss_idd'}, None),
    # the methods recent segmentation papers compare with
    'fitnet/fitnet': ({'loss_fitnet'}, None),
    'ifvd/ifvd': ({'loss_ifvd'}, None),
    'cirkd/cirkd': ({'loss_kd', 'loss_cirkd', 'loss_cirkd_memory'}, None),
    'cirkd/cirkd-minibatch': ({'loss_kd', 'loss_cirkd'}, None),
    'dist_kd/dist': ({'loss_dist'}, None),
    # the released code's recipe (ReleasedCodeICSDLoss), without and with ALW
    'aicsd/kd-released-icsd': ({'loss_icsd', 'loss_kd'}, None),
    'aicsd/aicsd-released': ({'loss_icsd', 'loss_kd'}, 'linear'),
}
# rows of the CamVid study (studies/camvid) and configs for CamVid only
STUDY_ROWS = {
    'studies/camvid/configs/aicsd-ne50': ({'loss_icsd', 'loss_kd'}, 'linear'),
    'studies/camvid/configs/aicsd-exp-ne50': ({'loss_icsd', 'loss_kd'}, 'exp'),
    'studies/camvid/configs/kd-icsd-lambda0.05': ({'loss_icsd',
                                                   'loss_kd'}, None),
    'studies/camvid/configs/aicsd-ne50-lambda0.05': ({'loss_icsd',
                                                      'loss_kd'}, 'linear'),
    'studies/camvid/configs/kd-released-weight': ({'loss_kd'}, None),
    'studies/camvid/configs/icsd-released': ({'loss_icsd'}, None),
    # CamVid only: its weight is calibrated on the CamVid study's runs
    'aicsd/kd-icsd-normalize': ({'loss_icsd', 'loss_kd'}, None),
    'kd/kd-cache': ({'loss_kd'}, None),
}
STUDENTS = ('deeplabv3plus_r18-d8_4xb2-80k_cityscapes-512x1024',
            'mobilenet-v2-d8_deeplabv3plus_4xb2-80k_cityscapes-512x1024',
            'deeplabv3plus_r18-d8_4xb4-40k_voc12aug-512x512',
            'mobilenet-v2-d8_deeplabv3plus_4xb4-40k_voc12aug-512x512',
            'deeplabv3plus_r18-d8_1xb4-600_camvid-180x240')
PAPER_SCHEDULES = (
    'aicsd/aicsd_deeplabv3plus_r18-d8_1xb4-50e_cityscapes-512x1024.py',
    'aicsd/aicsd_mobilenet-v2-d8_deeplabv3plus_1xb4-50e_cityscapes-512x1024.py',  # noqa: E501
    'aicsd/aicsd_deeplabv3plus_r18-d8_1xb6-120e_voc12aug-513x513.py',
    'aicsd/aicsd_mobilenet-v2-d8_deeplabv3plus_1xb6-120e_voc12aug-513x513.py')


def expected_row(path):
    """(losses, ALW schedule) of a table config, from its name."""
    name = config_id(path)
    if name == 'aicsd/deeplabv3plus_r18_cityscapes.py':  # the short name
        return TABLE_ROWS['aicsd/aicsd']
    # folder/method: the name up to its first underscore (the student)
    prefix = osp.join(osp.dirname(name), osp.basename(name).split('_')[0])
    return TABLE_ROWS.get(prefix, STUDY_ROWS.get(prefix))


def test_every_table_row_has_a_config():
    names = {config_id(p) for p in CONFIGS}
    rows = {
        f'{row}_{student}.py'
        for row in TABLE_ROWS
        for student in STUDENTS
    }
    assert rows <= names, sorted(rows - names)
    assert set(PAPER_SCHEDULES) <= names
    assert 'aicsd/deeplabv3plus_r18_cityscapes.py' in names


# What each method's configs held before they inherited their loss block
# from configs/_base_/distill/losses/ (issue 21): its distill_losses and
# custom_hooks, the same for every (student, dataset).
KD = dict(loss_kd=dict(type='PixelKDLoss', tau=1.0, loss_weight=1.0))
ICSD = dict(loss_icsd=dict(type='ICSDLoss', tau=1.0, loss_weight=1.0))
DECODER = 'decode_head.sep_bottleneck'
LINEAR = [dict(type='ALWHook', schedule='linear')]
LOSS_BLOCKS = {
    'kd/kd': (KD, None),
    'at/at': (dict(
        loss_at=dict(
            type='ATLoss', p=2, loss_weight=10000.0, student_feature=DECODER)),
              None),
    'sp/sp': (dict(
        loss_sp=dict(
            type='SPLoss', loss_weight=3000.0, student_feature=DECODER)),
              None),
    'ickd/ickd': (dict(
        loss_ickd=dict(
            type='ICKDLoss',
            loss_weight=2.5,
            student_feature=DECODER,
            connector=dict(type='ConvBNConnector'))), None),
    'cwd/cwd':
    (dict(loss_cwd=dict(type='CWDLoss', tau=4.0, loss_weight=3.0)), None),
    'i2ckd/i2ckd': (dict(
        loss_i2ckd=dict(
            type='I2CKDLoss',
            loss_weight=1.0,
            student_feature=DECODER,
            connector=dict(type='ConvBNConnector'))), None),
    'idd/idd': (dict(
        loss_idd=dict(
            type='IDDLoss', loss_weight=1.0, student_feature=DECODER)), None),
    'aicsd/icsd': (ICSD, None),
    'aicsd/kd-icsd': (dict(ICSD, **KD), None),
    'aicsd/kd-alw': (KD, LINEAR),
    'aicsd/aicsd': (dict(ICSD, **KD), LINEAR),
    'aicsd/aicsd-exp':
    (dict(ICSD, **KD), [dict(type='ALWHook', schedule='exp', beta=0.985)]),
}


@pytest.mark.parametrize('row,student',
                         [(r, s) for r in LOSS_BLOCKS for s in STUDENTS])
def test_inherited_loss_blocks_as_before(row, student):
    cfg = Config.fromfile(osp.join(CONFIG_DIR, f'{row}_{student}.py'))
    losses, hooks = LOSS_BLOCKS[row]
    assert cfg.model.distill_losses.to_dict() == losses
    assert cfg.get('custom_hooks') == hooks
    # the rest of the model is the distillation base's
    base = Config.fromfile(
        osp.join(CONFIG_DIR, '_base_', 'distill', f'{student}.py')).model
    base.distill_losses = cfg.model.distill_losses
    assert cfg.model.to_dict() == base.to_dict()


# The CIRKD protocol (Cityscapes, 40k, batch 8 x 2, lr 0.02): its students
# alone and distilled by the methods here, and mmrazor's CWD setting.
CIRKD_STUDENTS = ('deeplabv3_r18-d8_8xb2-40k_cityscapes-512x1024',
                  'mobilenet-v2-d8_deeplabv3_8xb2-40k_cityscapes-512x1024')
CIRKD_BASELINES = {
    'deeplabv3/' + CIRKD_STUDENTS[0]: ('ResNetV1c', 'mmseg::deeplabv3/'
                                       'deeplabv3_r18-d8_4xb2-80k_'
                                       'cityscapes-512x1024.py'),
    'mobilenet_v2/' + CIRKD_STUDENTS[1]: ('MobileNetV2', 'mmseg::'
                                          'mobilenet_v2/mobilenet-v2-d8_'
                                          'deeplabv3_4xb2-80k_cityscapes-'
                                          '512x1024.py'),
}
CIRKD_METHODS = ('kd/kd', 'cwd/cwd', 'aicsd/aicsd')


def unscoped(cfg):
    """A config dict without the ``_scope_`` keys that an ``mmseg::`` base
    adds (the stock file read directly has none)."""
    if isinstance(cfg, dict):
        return {k: unscoped(v) for k, v in cfg.items() if k != '_scope_'}
    if isinstance(cfg, (list, tuple)):
        return [unscoped(v) for v in cfg]
    return cfg


@pytest.mark.parametrize('name', CIRKD_BASELINES)
def test_cirkd_protocol_baselines(name):
    """mmseg's stock student with the protocol's schedule, nothing else."""
    backbone, stock = CIRKD_BASELINES[name]
    cfg = Config.fromfile(osp.join(CONFIG_DIR, f'{name}.py'))
    assert cfg.model.backbone.type == backbone
    assert cfg.model.decode_head.type == 'ASPPHead'  # DeepLabV3
    assert cfg.optim_wrapper.optimizer.lr == 0.02
    assert cfg.train_cfg.max_iters == 40000
    assert cfg.param_scheduler[0].end == 40000
    assert cfg.train_dataloader.batch_size == 2  # x 8 GPUs = 16
    assert tuple(cfg.crop_size) == (512, 1024)
    stock = Config.fromfile(
        osp.join(MMSEG_CONFIGS,
                 stock.split('::')[1].replace('/', osp.sep)))
    for key in ('model', 'train_dataloader', 'val_dataloader'):
        assert unscoped(cfg[key]) == unscoped(stock[key]), key
    assert stock.optim_wrapper.optimizer.lr == 0.01  # what changed


@pytest.mark.parametrize('method,student', [(m, s) for m in CIRKD_METHODS
                                            for s in CIRKD_STUDENTS])
def test_cirkd_protocol_configs(method, student):
    """A method's CIRKD-protocol config is its loss block on the protocol's
    student and teacher, everything else the student baseline's."""
    cfg = Config.fromfile(osp.join(CONFIG_DIR, f'{method}_{student}.py'))
    losses, hooks = LOSS_BLOCKS[method]
    assert cfg.model.distill_losses.to_dict() == losses
    assert cfg.get('custom_hooks') == hooks
    assert cfg.model.teacher == ('mmseg::deeplabv3/deeplabv3_r101-d8_4xb2-'
                                 '80k_cityscapes-512x1024.py')
    (baseline, ) = [b for b in CIRKD_BASELINES if b.endswith(student)]
    baseline = Config.fromfile(osp.join(CONFIG_DIR, f'{baseline}.py'))
    for key in ('optim_wrapper', 'param_scheduler', 'train_cfg',
                'train_dataloader', 'val_dataloader', 'default_hooks'):
        assert cfg[key] == baseline[key], key
    model = cfg.model.to_dict()
    for key in ('teacher', 'teacher_ckpt', 'distill_losses'):
        model.pop(key)
    assert model == dict(baseline.model.to_dict(), type=DISTILL_TYPE)


def test_mmrazor_cwd_setting():
    """PSPNet R101-D8 -> R18-D8, CWD on the logits at tau 1, weight 5."""
    cfg = Config.fromfile(
        osp.join(CONFIG_DIR, 'cwd',
                 'cwd_pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py'))
    assert cfg.model.decode_head.type == 'PSPHead'
    assert cfg.model.backbone.depth == 18
    assert cfg.model.teacher == ('mmseg::pspnet/pspnet_r101-d8_4xb2-80k_'
                                 'cityscapes-512x1024.py')
    assert cfg.model.distill_losses.to_dict() == dict(
        loss_cwd=dict(type='CWDLoss', tau=1.0, loss_weight=5.0))
    assert cfg.train_cfg.max_iters == 80000


@pytest.mark.parametrize('student', STUDENTS)
def test_released_recipe_weights(student):
    """The recipe's weights relative to CE: the ICS term at 9500 * B, KD
    (Eq. 1) at 10 * B / C, B the per-process batch; the logits upsampled
    to the crop; the ALW config is the other one plus the hook."""
    cfg = Config.fromfile(
        osp.join(CONFIG_DIR, 'aicsd', f'kd-released-icsd_{student}.py'))
    B = cfg.train_dataloader.batch_size
    C = cfg.model.decode_head.num_classes
    losses = cfg.model.distill_losses
    assert losses.loss_icsd.type == 'ReleasedCodeICSDLoss'
    assert losses.loss_icsd.loss_weight == 9500 * B
    assert losses.loss_kd.loss_weight == pytest.approx(10 * B / C, abs=1e-4)
    assert tuple(losses.loss_icsd.upsample_size) == tuple(cfg.crop_size)
    assert cfg.model.decode_head.loss_decode.loss_weight == 1.0
    alw = Config.fromfile(
        osp.join(CONFIG_DIR, 'aicsd', f'aicsd-released_{student}.py'))
    alw, cfg = alw.to_dict(), cfg.to_dict()
    assert alw.pop('custom_hooks') == cfg.pop(
        'custom_hooks', []) + [dict(type='ALWHook', schedule='linear')]
    assert alw == cfg


@pytest.mark.parametrize('path', CONFIGS, ids=config_id)
def test_config_builds_and_trains_two_iterations(path, teacher_ckpts):
    """Build the config's model (its teacher from a checkpoint saved here)
    and optimizer, and take two training steps on random 64x96 batches
    (the data preprocessor's padding to the crop size skipped)."""
    init_default_scope('mmseg')
    cfg = Config.fromfile(path)
    assert cfg.custom_imports == dict(
        imports=['mmseg_aicsd'], allow_failed_imports=False)
    distill = cfg.model.type == 'DistillEncoderDecoder'
    if distill:
        losses_expected, schedule = expected_row(path)
        hooks = [h for h in cfg.get('custom_hooks', []) if h.type == 'ALWHook']
        assert [h.get('schedule', 'linear') for h in hooks] == \
            ([schedule] if schedule else [])
        cfg.model.teacher_ckpt = teacher_ckpts(cfg.model.teacher)
        # the offline teacher's cache is built and trained from in
        # tests/test_tools/test_teacher_cache_tool.py; here the teacher runs
        cfg.model.pop('teacher_cache', None)
    cfg.model.pretrained = None  # no ImageNet download in tests
    model = revert_sync_batchnorm(MODELS.build(cfg.model))  # as on 1 process
    model.init_weights()
    model.train()
    if distill and hooks:
        set_alw_alpha(model, 0.5)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    student_before = {
        k: v.clone()
        for k, v in model.state_dict().items() if v.is_floating_point()
    }
    num_classes = model.decode_head.num_classes
    torch.manual_seed(0)
    for _ in range(2):
        inputs = torch.rand(2, 3, 64, 96) * 255
        samples = [
            SegDataSample(
                gt_sem_seg=PixelData(
                    data=torch.randint(0, num_classes, (1, 64, 96))),
                metainfo=dict(img_shape=(64, 96), ori_shape=(64, 96)))
            for _ in range(2)
        ]
        with optim_wrapper.optim_context(model):
            losses = model.loss(inputs, samples)
        loss, log_vars = model.parse_losses(losses)
        optim_wrapper.update_params(loss)
        expected = {'decode.loss_ce', 'aux.loss_ce'}
        if distill:
            expected |= losses_expected
        assert {k for k in losses if 'loss' in k} == expected
        assert all(torch.isfinite(v) for k, v in losses.items() if 'loss' in k)
    # every trained tensor moved: student and connectors; no teacher key
    state = model.state_dict()
    assert not any(k.startswith('teacher.') for k in state)
    first_backbone_weight = next(k for k, _ in model.named_parameters()
                                 if k.startswith('backbone.'))
    for key in ('decode_head.conv_seg.weight', first_backbone_weight):
        assert not torch.equal(state[key], student_before[key]), key
    if distill:
        assert model.teacher.num_classes == num_classes
        connectors = [
            k for k in state if k.startswith('distill_connectors.')
            and k.endswith('conv.weight')
        ]
        method = osp.basename(path).split('_')[0]
        assert bool(connectors) == (method in ('ickd', 'i2ckd', 'fitnet',
                                               'cirkd')), connectors
        for key in connectors:
            assert not torch.equal(state[key], student_before[key]), key
        saved = torch.load(cfg.model.teacher_ckpt)['state_dict']
        for key, value in model.teacher.state_dict().items():
            assert torch.equal(value, saved[key]), key


@pytest.mark.parametrize(
    'path', [
        p for p in CONFIGS
        if 'cityscapes' in p and ('/aicsd/aicsd_' in p or '/ickd/' in p)
    ],
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


# the folders of the students' and teachers' own configs (no teacher)
MODEL_FOLDERS = ('deeplabv3', 'deeplabv3plus', 'mobilenet_v2')


@pytest.mark.parametrize(
    'path', [
        p for p in CONFIGS if ('cityscapes' in p or 'voc12aug' in p)
        and osp.basename(osp.dirname(p)) not in MODEL_FOLDERS
    ],
    ids=config_id)
def test_model_zoo_teacher_url_matches_its_config(path):
    cfg = Config.fromfile(path)
    assert cfg.model.type == 'DistillEncoderDecoder'
    assert cfg.model.teacher.startswith('mmseg::')
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
        write_label(stem % 'gtFine' + '_gtFine_labelTrainIds.png', 64, 128, 19,
                    1)


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
    dataset_type = cfg.train_dataloader.dataset.get('type', 'PascalVOCDataset')
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
