# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""tools/analysis_tools/distill_grad_norms.py on real CamVid images: the
student it measures (at init or from a training checkpoint), the CE gradient
against a plain-torch recomputation, the per-class split of each gradient,
and the script's printed table; and a cascade (OCRNet) student's CE on
random images."""
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmengine.structures import PixelData
from run_utils import AICSD, REPO, STUDENT, run, save_teacher
from tiny_segmentors import NUM_CLASSES, deeplabv3plus, ocrnet, save_checkpoint

from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from tools.analysis_tools import distill_grad_norms as TOOL


def options(camvid_root, teacher_ckpt):
    """An R18 (random) teacher, 2 real training images, no dropout."""
    return {
        'model.teacher': osp.join(REPO, STUDENT),
        'model.teacher_ckpt': teacher_ckpt,
        'model.decode_head.dropout_ratio': 0.0,
        'train_dataloader.batch_size': 2,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'train_dataloader.dataset.data_root': camvid_root,
        'train_dataloader.dataset.indices': 2,
    }


@pytest.fixture(scope='module')
def setup(camvid_root, tmp_path_factory):
    """The config, the teacher checkpoint and a student checkpoint (a
    plain-student state dict from another seed, like a baseline run's)."""
    tmp = tmp_path_factory.mktemp('grad_norms')
    teacher_ckpt = save_teacher(tmp / 'teacher.pth')
    cfg = Config.fromfile(osp.join(REPO, AICSD))
    cfg.merge_from_dict(options(camvid_root, teacher_ckpt))
    init_default_scope('mmseg')
    torch.manual_seed(1)
    student = MODELS.build(Config.fromfile(osp.join(REPO, STUDENT)).model)
    student_ckpt = str(tmp / 'iter_2.pth')
    torch.save(
        dict(meta=dict(iter=2), state_dict=student.state_dict()), student_ckpt)
    return cfg, teacher_ckpt, student_ckpt


def test_checkpoint_sets_the_student_and_keeps_the_teacher(setup):
    cfg, teacher_ckpt, student_ckpt = setup
    saved = torch.load(student_ckpt)['state_dict']
    teacher = torch.load(teacher_ckpt)['state_dict']
    key = 'decode_head.conv_seg.weight'
    assert not torch.equal(saved[key], teacher[key])

    model = TOOL.build_model(cfg, student_ckpt)
    assert model.training and not model.teacher.training
    state = model.state_dict()
    for k, v in saved.items():
        assert torch.equal(state[k], v), k
    for k, v in model.teacher.state_dict().items():
        assert torch.equal(v, teacher[k]), k

    at_init = TOOL.build_model(cfg).state_dict()
    assert not torch.equal(at_init[key], saved[key])


def test_checkpoint_of_another_model_is_an_error(setup, tmp_path):
    cfg, _, _ = setup
    other = MODELS.build(_other_classes_student())
    path = str(tmp_path / 'other.pth')
    torch.save(dict(state_dict=other.state_dict()), path)
    with pytest.raises(RuntimeError, match='conv_seg'):
        TOOL.build_model(cfg, path)
    with pytest.raises(FileNotFoundError, match='missing.pth'):
        TOOL.build_model(cfg, str(tmp_path / 'missing.pth'))


def _other_classes_student():
    """The student's config with 5 classes instead of CamVid's 11."""
    cfg = Config.fromfile(osp.join(REPO, STUDENT)).model
    cfg.decode_head.num_classes = 5
    cfg.auxiliary_head.num_classes = 5
    return cfg


def test_gradients_against_plain_torch(setup):
    cfg, _, student_ckpt = setup
    model = TOOL.build_model(cfg, student_ckpt)
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=0)
    data_batch = next(iter(loader))
    norms = TOOL.logit_grad_norms(model, data_batch)
    assert set(norms) == {'decode.loss_ce', 'loss_icsd', 'loss_kd'}

    # CE recomputed with torch alone: the logits upsampled to the label
    # size, summed over labelled pixels, divided by all pixels (mmseg's
    # CrossEntropyLoss with avg_non_ignore=False).
    data = model.data_preprocessor(data_batch, training=True)
    with torch.no_grad():
        logits = model.decode_head(model.extract_feat(data['inputs']))
    logits = logits.double().requires_grad_()
    labels = torch.stack([s.gt_sem_seg.data[0]
                          for s in data['data_samples']]).long()
    up = F.interpolate(
        logits, labels.shape[1:], mode='bilinear', align_corners=False)
    ce = F.cross_entropy(
        up, labels, ignore_index=255, reduction='sum') / labels.numel()
    grad, = torch.autograd.grad(ce, logits)
    norm, value, per_class = norms['decode.loss_ce']
    assert value == pytest.approx(ce.item(), rel=1e-4)
    assert norm == pytest.approx(grad.norm().item(), rel=1e-3)
    expected = grad.transpose(0, 1).flatten(1).norm(dim=1).numpy()
    assert per_class.shape == (11, )
    assert per_class == pytest.approx(expected, rel=1e-3, abs=1e-9)

    # each loss's per-class norms split its whole gradient norm
    for name, (norm, value, per_class) in norms.items():
        assert norm > 0 and value > 0, name
        assert (per_class**2).sum()**0.5 == pytest.approx(norm, rel=1e-5)


def test_script_prints_the_table(setup):
    cfg, teacher_ckpt, student_ckpt = setup
    opts = [
        f'{k}={v}' for k, v in options(cfg.train_dataloader.dataset.data_root,
                                       teacher_ckpt).items()
    ]
    proc = run('tools/analysis_tools/distill_grad_norms.py',
               osp.join(REPO, AICSD), '--batches', '1', '--per-class',
               '--checkpoint', student_ckpt, '--cfg-options', *opts)
    lines = proc.stdout.splitlines()
    rows = {line.split()[0]: line.split()[1:] for line in lines if line}
    assert rows['decode.loss_ce'][-1] == '1'
    assert float(rows['loss_icsd'][0]) > 0
    assert f'student {student_ckpt}' in proc.stdout
    # per-class section: one row per CamVid class, one column per loss
    assert len(rows['sky']) == 3 and len(rows['bicyclist']) == 3


def test_cascade_student(tmp_path):
    """An OCRNet student: CE is its last stage's, on the OCR logits."""
    cfg = ocrnet()
    cfg.data_preprocessor['size'] = (64, 64)
    cfg.update(
        type='DistillCascadeEncoderDecoder',
        teacher=deeplabv3plus(),
        teacher_ckpt=save_checkpoint(deeplabv3plus(), tmp_path / 't.pth'),
        distill_losses=dict(loss_kd=dict(type='PixelKDLoss')))
    model = MODELS.build(cfg).train()
    g = torch.Generator().manual_seed(0)
    samples = [
        SegDataSample(
            gt_sem_seg=PixelData(
                data=torch.randint(0, NUM_CLASSES, (1, 64, 64), generator=g)),
            metainfo=dict(img_shape=(64, 64), ori_shape=(64, 64)))
        for _ in range(2)
    ]
    data_batch = dict(
        inputs=[torch.randint(0, 256, (3, 64, 64), generator=g).byte()] * 2,
        data_samples=samples)
    norms = TOOL.logit_grad_norms(model, data_batch)
    assert list(norms) == ['decode_1.loss_ce', 'loss_kd']
    data = model.data_preprocessor(data_batch, training=True)
    with torch.no_grad():
        logits = model(data['inputs'], mode='tensor')  # the OCR head's
    logits = logits.requires_grad_()
    labels = torch.stack([s.gt_sem_seg.data[0] for s in samples]).long()
    ce = F.cross_entropy(
        F.interpolate(logits, labels.shape[1:], mode='bilinear'), labels)
    grad, = torch.autograd.grad(ce, logits)
    norm, value, _ = norms['decode_1.loss_ce']
    assert value == pytest.approx(ce.item(), rel=1e-4)
    assert norm == pytest.approx(grad.norm().item(), rel=1e-3)
