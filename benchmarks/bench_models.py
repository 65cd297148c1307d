# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""The models and batches the benchmarks run: student, teacher and
``DistillEncoderDecoder`` built from the repository's AICSD configs,
nothing downloaded.

The student is the AICSD config's model without its distillation keys,
i.e. the student config the AICSD config inherits (``pretrained=None``).
The teacher is the config's ``teacher`` (``pretrained=None``), its weights
from ``teacher_ckpt`` if given, else from a checkpoint of a randomly
initialised teacher that :func:`build_models` writes to a temporary folder.
SyncBN is reverted to BN (mmengine's ``revert_sync_batchnorm``), as for
single-process training.
"""
import copy
import os.path as osp
import tempfile
from typing import Dict, Optional, Sequence, Tuple

import torch
from mmengine.config import Config, ConfigDict
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from torch import nn

from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg_aicsd.utils import student_model_config, teacher_model_config

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SETTINGS = {
    'camvid':
    dict(
        config='configs/aicsd/'
        'aicsd_deeplabv3plus_r18-d8_1xb4-600_camvid-180x240.py',
        batch_size=4,
        crop=(180, 240)),
    'cityscapes':
    dict(
        config='configs/aicsd/'
        'aicsd_deeplabv3plus_r18-d8_4xb2-80k_cityscapes-512x1024.py',
        batch_size=2,
        crop=(512, 1024)),
}


def batch_and_crop(setting: str, quick: bool = False):
    """(batch size, (H, W)) of ``setting``; tiny with ``quick``."""
    if quick:
        return 2, (64, 64)  # BatchNorm needs > 1 value per channel
    return SETTINGS[setting]['batch_size'], SETTINGS[setting]['crop']


def load_config(setting: str,
                crop: Optional[Tuple[int, int]] = None) -> Config:
    """The AICSD config of ``setting``, its crop size set to ``crop``."""
    init_default_scope('mmseg')
    import mmseg_aicsd  # noqa: F401  (registers the plugin's modules)
    cfg = Config.fromfile(osp.join(REPO_ROOT, SETTINGS[setting]['config']))
    if crop is not None:
        cfg.model.data_preprocessor.size = tuple(crop)
    return cfg


def student_config(cfg: Config) -> ConfigDict:
    """The student's ``EncoderDecoder`` config (no ImageNet weights)."""
    model = student_model_config(cfg)
    model.pretrained = None
    return model


def teacher_config(cfg: Config) -> ConfigDict:
    """The teacher's segmentor config (no ImageNet weights)."""
    model = teacher_model_config(cfg)
    model.pretrained = None
    model.data_preprocessor = copy.deepcopy(cfg.model.data_preprocessor)
    return model


def _build(model_cfg: dict) -> nn.Module:
    return revert_sync_batchnorm(MODELS.build(model_cfg))


def build_models(cfg: Config,
                 device: torch.device,
                 parts: Sequence[str] = ('student', 'teacher', 'distill'),
                 teacher_ckpt: Optional[str] = None,
                 student_ckpt: Optional[str] = None) -> Dict[str, nn.Module]:
    """Build the models named in ``parts``, on ``device``.

    ``distill`` is the ``DistillEncoderDecoder``; ``teacher`` is its
    teacher and ``student`` a stand-alone copy of its student (same
    weights), so the three measure the same networks.
    """
    torch.manual_seed(0)
    models = {}
    if 'teacher' in parts or 'distill' in parts:
        distill_cfg = copy.deepcopy(cfg.model)
        distill_cfg.teacher = teacher_config(cfg)
        distill_cfg.pretrained = None
        with tempfile.TemporaryDirectory() as tmp:
            if teacher_ckpt is None:
                teacher_ckpt = osp.join(tmp, 'teacher_random_init.pth')
                torch.save(
                    _build(distill_cfg.teacher).state_dict(), teacher_ckpt)
            distill_cfg.teacher_ckpt = teacher_ckpt
            distill = _build(distill_cfg)
        models['distill'] = distill.to(device)
        models['teacher'] = distill.teacher
    if 'student' in parts:
        student = _build(student_config(cfg))
        if student_ckpt is not None:
            state = torch.load(student_ckpt, map_location='cpu')
            student.load_state_dict(state.get('state_dict', state))
        elif 'distill' in models:
            student.load_state_dict(models['distill'].state_dict())
        models['student'] = student.to(device)
    return {name: models[name] for name in parts}


def synthetic_batch(batch_size: int,
                    crop: Tuple[int, int],
                    num_classes: int,
                    seed: int = 0) -> dict:
    """A training batch as a dataloader yields it: uint8 images (3, H, W)
    with random pixels and random labels in [0, num_classes)."""
    gen = torch.Generator().manual_seed(seed)
    H, W = crop
    inputs, samples = [], []
    for _ in range(batch_size):
        inputs.append(
            torch.randint(0, 256, (3, H, W), dtype=torch.uint8, generator=gen))
        sample = SegDataSample(
            metainfo=dict(img_shape=(H, W), ori_shape=(H, W)))
        sample.gt_sem_seg = PixelData(
            data=torch.randint(0, num_classes, (1, H, W), generator=gen))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)
