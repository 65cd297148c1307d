# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Models, logits and class names for the picture tools.

Shared by ``tools/analysis_tools/visualize_ics.py`` and
``tools/analysis_tools/compare_masks.py``: build the student or the teacher
of a distillation config with mmseg's :func:`mmseg.apis.init_model`, load a
checkpoint into it with every key checked, and run
:func:`mmseg.apis.inference_model` while keeping the decode head's logits
(the maps AICSD's losses see, arXiv 2308.04243 Eq. 1-4).
"""
import os.path as osp
from typing import List, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config, ConfigDict
from mmengine.registry import init_default_scope
from mmengine.runner import CheckpointLoader
from mmengine.structures import PixelData
from torch import Tensor

from mmseg.apis import inference_model, init_model
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import DATASETS
from mmseg.structures import SegDataSample
from mmseg.visualization import SegLocalVisualizer
from .engine import register_checkpoint_safe_globals
from .utils import (CheckpointMismatchError, is_distill_config,
                    load_state_dict_strictly, strip_ddp_prefix,
                    student_model_config, student_state_dict,
                    teacher_model_config)

__all__ = [
    'CheckpointMismatchError', 'is_distill_config', 'student_model_config',
    'teacher_model_config', 'dataset_metainfo', 'split_data_infos',
    'split_images', 'load_labels', 'load_weights', 'load_segmentor',
    'predict_with_logits', 'colour_labels', 'class_indices'
]


def dataset_metainfo(cfg: Config, split: str = 'test') -> dict:
    """Class names and palette of the config's dataset.

    The dataset of ``<split>_dataloader`` is built without reading its
    files (``lazy_init``), so its class's ``METAINFO`` and any ``metainfo``
    of the config apply as in training.

    Args:
        cfg (Config): A full config.
        split (str): 'train', 'val' or 'test'. Defaults to 'test'.

    Returns:
        dict: ``classes`` (tuple of str) and ``palette`` (list of RGB
        triples), one per class index, as the dataset's ``metainfo``.

    Raises:
        ValueError: If the config has no ``<split>_dataloader``.
    """
    loader = cfg.get(f'{split}_dataloader')
    if loader is None:
        raise ValueError(f'the config has no {split}_dataloader')
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    dataset = DATASETS.build(dict(loader.dataset, lazy_init=True))
    meta = dataset.metainfo
    return dict(classes=tuple(meta['classes']), palette=list(meta['palette']))


def split_data_infos(cfg: Config, split: str) -> List[dict]:
    """Data infos (``img_path``, ``seg_map_path``, ``reduce_zero_label``...)
    of a split of the config's dataset, in dataset order (``indices`` of the
    config, if set, apply), as mmseg's dataset gives them to its pipeline.

    Raises:
        ValueError: If the config has no ``<split>_dataloader``.
        FileNotFoundError: If the split has no images (the message names
            the folder looked at).
    """
    loader = cfg.get(f'{split}_dataloader')
    if loader is None:
        raise ValueError(f'the config has no {split}_dataloader')
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    dataset = DATASETS.build(loader.dataset)
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    if not infos:
        folder = osp.join(dataset.data_root or '',
                          dataset.data_prefix.get('img_path', ''))
        raise FileNotFoundError(
            f'no images in the {split} split: {folder!r} (set --cfg-options '
            f'{split}_dataloader.dataset.data_root=...)')
    return infos


def split_images(cfg: Config, split: str) -> List[str]:
    """Image paths of :func:`split_data_infos`; raises as it does."""
    return [info['img_path'] for info in split_data_infos(cfg, split)]


def load_labels(data_info: dict) -> np.ndarray:
    """The (H, W) label map of one data info of :func:`split_data_infos`,
    read by mmseg's ``LoadAnnotations`` (so ``reduce_zero_label`` and a
    ``label_map`` apply as in training; void is 255 where the dataset maps
    it so).

    Raises:
        FileNotFoundError: If the label file does not exist.
    """
    path = data_info.get('seg_map_path')
    if not path or not osp.isfile(path):
        raise FileNotFoundError(
            f'label map {path!r} of {data_info.get("img_path")!r} does not '
            'exist')
    results = LoadAnnotations()(dict(data_info, seg_fields=[]))
    return results['gt_seg_map']


def load_weights(model: torch.nn.Module, checkpoint: str, what: str) -> dict:
    """Load a checkpoint into ``model``, every weight checked.

    Unlike mmengine's ``load_checkpoint`` (which only warns), weights the
    model needs but the checkpoint lacks, or that the model does not know,
    are an error. A distillation checkpoint's connectors
    (``distill_connectors.*``) and auxiliary-head weights (unused at
    inference) are left out of the check.

    Args:
        model (nn.Module): The segmentor.
        checkpoint (str): Path of a checkpoint with a ``state_dict``, or a
            bare state dict (a ``module.`` prefix of DDP is removed).
        what (str): What the checkpoint is (e.g. ``"student checkpoint"``,
            ``"teacher checkpoint"``), for the messages.

    Returns:
        dict: The checkpoint's ``meta`` (empty if it has none).

    Raises:
        FileNotFoundError: If ``checkpoint`` does not exist.
        CheckpointMismatchError: If keys or shapes do not fit the model.
    """
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'{what} {checkpoint!r} does not exist')
    register_checkpoint_safe_globals()  # mmengine's HistoryBuffer etc.
    loaded = CheckpointLoader.load_checkpoint(checkpoint, map_location='cpu')
    state = student_state_dict(
        strip_ddp_prefix(loaded.get('state_dict', loaded)))
    load_state_dict_strictly(model, state, f'{what} {checkpoint!r}')
    return loaded.get('meta', {}) if isinstance(loaded, dict) else {}


def load_segmentor(cfg: Config,
                   model_cfg: ConfigDict,
                   checkpoint: str,
                   what: str,
                   device: str = 'cpu') -> torch.nn.Module:
    """A segmentor ready for :func:`mmseg.apis.inference_model`.

    Built by mmseg's :func:`~mmseg.apis.init_model` from ``cfg`` with its
    model replaced by ``model_cfg`` (so the config's test pipeline applies),
    weights from ``checkpoint`` loaded by :func:`load_weights`, and
    ``dataset_meta`` from the config's dataset (not from the checkpoint,
    which may lack it).

    Args:
        cfg (Config): The full config (pipeline, dataset).
        model_cfg (ConfigDict): The model, e.g. from
            :func:`student_model_config` or :func:`teacher_model_config`.
        checkpoint (str): Path of the weights.
        what (str): What the checkpoint is, for the messages.
        device (str): Torch device. Defaults to 'cpu'.

    Returns:
        nn.Module: The segmentor, in eval mode, on ``device``.

    Raises:
        FileNotFoundError: If ``checkpoint`` does not exist (checked before
            the model is built).
        CheckpointMismatchError: If it does not fit ``model_cfg``.
    """
    if not osp.isfile(checkpoint):
        raise FileNotFoundError(f'{what} {checkpoint!r} does not exist')
    model_config = cfg.copy()
    model_config.model = model_cfg.copy()
    model = init_model(model_config, None, device='cpu')
    load_weights(model, checkpoint, what)
    model.dataset_meta = dataset_metainfo(cfg)
    return model.to(device).eval()


def predict_with_logits(model: torch.nn.Module,
                        img: str) -> Tuple[Tensor, SegDataSample]:
    """Run :func:`mmseg.apis.inference_model` on one image and keep the
    decode head's logits.

    The logits are the output of ``decode_head.conv_seg`` in that forward
    (recorded with a forward hook): shape (1, C, h, w) at the head's output
    size (1/4 of the network input for DeepLabV3+; 45 x 60 for a 240 x 180
    input), the maps the AICSD losses compare (Eq. 1-4). The
    ``seg_logits`` of the returned sample are not that: mmseg resizes them
    bilinearly to the input and then to the original image size.

    Args:
        model (nn.Module): A segmentor from :func:`load_segmentor` (or
            :func:`mmseg.apis.init_model`); of a cascade (OCRNet), the last
            stage's logits.
        img (str): Path of the image.

    Returns:
        tuple[Tensor, SegDataSample]: The logits (float32, on the CPU) and
        mmseg's result (``pred_sem_seg`` and ``seg_logits`` at the original
        image size).

    Raises:
        ValueError: If the decode head has no ``conv_seg``, or it ran more
            than once in the forward (sliding-window inference: the logits
            would be of crops, not of the image).
    """
    head = model.decode_head
    if isinstance(head, torch.nn.ModuleList):  # a cascade: its last stage's
        head = head[-1]
    if not hasattr(head, 'conv_seg'):
        raise ValueError(f'{type(head).__name__} has no conv_seg layer; '
                         'the logits cannot be recorded')
    outputs = []
    handle = head.conv_seg.register_forward_hook(
        lambda module, inputs, output: outputs.append(output))
    try:
        result = inference_model(model, img)
    finally:
        handle.remove()
    if len(outputs) != 1:
        raise ValueError(
            f'decode_head.conv_seg ran {len(outputs)} times for one image '
            f'(test_cfg mode {model.test_cfg.get("mode")!r}); the logits of '
            "one whole image need test_cfg=dict(mode='whole')")
    return outputs[0].detach().float().cpu(), result


def colour_labels(labels: np.ndarray, meta: dict) -> np.ndarray:
    """A label map in the dataset's palette, coloured by mmseg's
    :class:`~mmseg.visualization.SegLocalVisualizer`.

    Args:
        labels (ndarray): (H, W) class indices; any index >= C (void, 255)
            stays black.
        meta (dict): ``classes`` (C names) and ``palette`` (C RGB triples).

    Returns:
        ndarray: (H, W, 3) uint8 RGB.
    """
    # alpha=1: the mask alone (the image only gives the shape)
    visualizer = SegLocalVisualizer(name='mmseg_aicsd.analysis', alpha=1.0)
    visualizer.dataset_meta = dict(
        classes=meta['classes'], palette=meta['palette'])
    blank = np.zeros((*labels.shape, 3), dtype=np.uint8)
    sample = SegDataSample(
        pred_sem_seg=PixelData(data=torch.as_tensor(labels)[None]))
    visualizer.add_datasample(
        'labels', blank, sample, draw_gt=False, with_labels=False)
    return visualizer.get_image()


def class_indices(names: Sequence[str], classes: Sequence[str]) -> List[int]:
    """Indices of class names.

    Raises:
        ValueError: If a name is not a class; the message lists the valid
            names.
    """
    unknown = [n for n in names if n not in classes]
    if unknown:
        raise ValueError(
            f'unknown class name(s) {unknown}; the config\'s classes are: '
            f'{", ".join(classes)}')
    return [list(classes).index(n) for n in names]
