# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""The offline teacher: the frozen teacher's logits of every training image,
computed once (``tools/misc/build_teacher_cache.py``), and each training
sample's teacher map cut from them by the sample's own resize, crop and
flip, instead of a teacher forward per step."""
import hashlib
import json
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

MANIFEST = 'manifest.json'
CACHE_VERSION = 1
BUILD_COMMAND = 'tools/misc/build_teacher_cache.py CONFIG --out DIR'


def file_sha256(path: str) -> str:
    """SHA-256 of a file's bytes, hex."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def checkpoint_id(teacher_ckpt: str) -> str:
    """What identifies ``teacher_ckpt``: a local file's SHA-256, a URL
    itself."""
    if '://' in teacher_ckpt or not osp.isfile(teacher_ckpt):
        return teacher_ckpt
    return 'sha256:' + file_sha256(teacher_ckpt)


def config_json(cfg: dict) -> dict:
    """A teacher model config as plain JSON (what the manifest stores and
    compares)."""
    return json.loads(json.dumps(cfg, sort_keys=True, default=str))


def cache_key(img_path: str, depth: int) -> str:
    """The last ``depth`` components of ``img_path``: the key of an image,
    the same on every machine whatever its data root."""
    parts = osp.normpath(img_path).split(osp.sep)
    return '/'.join(parts[-depth:])


def sample_grid(meta: dict, input_shape: Tuple[int, int],
                out_size: Tuple[int, int]) -> Tuple[Tensor, Tensor]:
    """Where each cell of a sample's logit grid lies in its original image.

    The sample's input is the original image (``ori_shape``) resized by
    ``scale_factor`` (w, h), cropped to ``crop_bbox`` (y1, y2, x1, x2),
    flipped (``flip``, ``flip_direction``), then padded at the bottom and
    right to ``input_shape``. A cell's centre is mapped back through these
    steps.

    Args:
        meta (dict): The sample's metainfo.
        input_shape (tuple[int, int]): (H, W) of the batch's inputs.
        out_size (tuple[int, int]): (h, w) of the logit grid.

    Returns:
        tuple[Tensor, Tensor]: The ``grid_sample`` grid (1, h, w, 2), x and
        y in [-1, 1] over the original image, and the mask (h, w) of the
        cells inside the image (False: padding).

    Raises:
        KeyError: If the sample was cropped and ``crop_bbox`` is not in its
            metainfo.
    """
    H0, W0 = meta['ori_shape'][:2]
    w_scale, h_scale = meta.get('scale_factor', (1.0, 1.0))
    Hc, Wc = meta['img_shape'][:2]
    box = meta.get('crop_bbox')
    if box is None:
        resized = (round(H0 * h_scale), round(W0 * w_scale))
        if abs(resized[0] - Hc) > 1 or abs(resized[1] - Wc) > 1:
            raise KeyError(
                f'sample {meta.get("img_path")!r} was cropped ({Hc}x{Wc} of '
                f'a {resized[0]}x{resized[1]} image) but its crop box is not '
                'recorded: with teacher_cache, use RandomCropWithBox instead '
                "of RandomCrop and add 'crop_bbox' to PackSegInputs' "
                'meta_keys')
        box = (0, Hc, 0, Wc)
    y1, _, x1, _ = box
    h, w = out_size
    # cell centres in the padded input, continuous pixel coordinates
    ys = (torch.arange(h, dtype=torch.float64) + 0.5) * input_shape[0] / h
    xs = (torch.arange(w, dtype=torch.float64) + 0.5) * input_shape[1] / w
    mask = (ys < Hc)[:, None] & (xs < Wc)[None, :]
    direction = meta.get('flip_direction') if meta.get('flip') else None
    if direction in ('vertical', 'diagonal'):
        ys = Hc - ys
    if direction in ('horizontal', 'diagonal'):
        xs = Wc - xs
    # resized image -> original image -> [-1, 1] (align_corners=False)
    gy = 2 * (y1 + ys) / h_scale / H0 - 1
    gx = 2 * (x1 + xs) / w_scale / W0 - 1
    grid = torch.stack(torch.broadcast_tensors(gx[None, :], gy[:, None]), -1)
    return grid[None].float(), mask


def cut_teacher_logits(cached: Tensor, meta: dict, input_shape: Tuple[int,
                                                                      int],
                       out_size: Tuple[int, int]) -> Tensor:
    """A sample's teacher logits from its image's cached map.

    Bilinear resampling (``grid_sample``, border values at the image's
    edge) at the cells of :func:`sample_grid`; cells in the padding get
    logits 0 (a uniform distribution: the cache has no teacher output
    there).

    Args:
        cached (Tensor): (C, hc, wc) logits of the whole image.
        meta (dict): The sample's metainfo (see :func:`sample_grid`).
        input_shape (tuple[int, int]): (H, W) of the batch's inputs.
        out_size (tuple[int, int]): (h, w) of the output.

    Returns:
        Tensor: (C, h, w) float32.
    """
    grid, mask = sample_grid(meta, input_shape, out_size)
    out = F.grid_sample(
        cached[None].float(),
        grid.to(cached.device),
        mode='bilinear',
        padding_mode='border',
        align_corners=False)[0]
    return out * mask.to(out.device)


class TeacherLogitCache:
    """The cached teacher logits of a training set, checked against the
    teacher they must come from.

    ``cache_dir`` holds ``manifest.json`` and one float16 ``.npy`` of
    (C, hc, wc) logits per training image, written by
    ``tools/misc/build_teacher_cache.py``.

    Args:
        cache_dir (str): The cache folder.
        teacher_cfg (dict): The teacher's model config (as the segmentor
            builds it).
        teacher_ckpt (str): The teacher's checkpoint.

    Raises:
        FileNotFoundError: If ``cache_dir`` has no manifest.
        ValueError: If the cache was built for another teacher config or
            checkpoint, or by another version of the format.
    """

    def __init__(self, cache_dir: str, teacher_cfg: dict, teacher_ckpt: str):
        path = osp.join(cache_dir, MANIFEST)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'teacher_cache {cache_dir!r} has no {MANIFEST}: build it '
                f'with {BUILD_COMMAND}')
        with open(path) as f:
            manifest = json.load(f)
        rebuild = f'rebuild it with {BUILD_COMMAND}'
        if manifest.get('version') != CACHE_VERSION:
            raise ValueError(f'teacher_cache {cache_dir!r} has format version '
                             f'{manifest.get("version")}, this code reads '
                             f'{CACHE_VERSION}: {rebuild}')
        ckpt = checkpoint_id(teacher_ckpt)
        if manifest['teacher_ckpt_id'] != ckpt:
            raise ValueError(
                f'teacher_cache {cache_dir!r} was built from teacher_ckpt '
                f'{manifest["teacher_ckpt"]!r} ({manifest["teacher_ckpt_id"]})'
                f', not from {teacher_ckpt!r} ({ckpt}): {rebuild}')
        built, ours = manifest['teacher'], config_json(teacher_cfg)
        if built != ours:
            keys = sorted(
                k for k in set(built) | set(ours)
                if built.get(k) != ours.get(k))
            raise ValueError(
                f'teacher_cache {cache_dir!r} was built for another teacher '
                f'config (differs in {keys}): {rebuild}')
        self.cache_dir = cache_dir
        self.manifest = manifest
        self.depth = int(manifest['key_depth'])
        self.files: Dict[str, str] = manifest['images']

    def load(self, img_path: str) -> Tensor:
        """(C, hc, wc) float16 logits of one image.

        Raises:
            KeyError: If the image is not in the cache.
        """
        key = cache_key(img_path, self.depth)
        if key not in self.files:
            raise KeyError(
                f'image {img_path!r} (key {key!r}) is not in teacher_cache '
                f'{self.cache_dir!r}, built for '
                f'{len(self.files)} images of {self.manifest["image_dir"]!r}'
                f': rebuild it for this training set with {BUILD_COMMAND}')
        return torch.from_numpy(
            np.load(osp.join(self.cache_dir, self.files[key])))

    def logits(self,
               metas: Sequence[dict],
               input_shape: Tuple[int, int],
               out_size: Tuple[int, int],
               device: Optional[torch.device] = None) -> Tensor:
        """The teacher logits of a batch, cut from the cache.

        Args:
            metas (Sequence[dict]): The samples' metainfo (``img_path``,
                ``ori_shape``, ``img_shape``, ``scale_factor``,
                ``crop_bbox``, ``flip``, ``flip_direction``).
            input_shape (tuple[int, int]): (H, W) of the batch's inputs.
            out_size (tuple[int, int]): (h, w) of the logit grid.
            device (torch.device, optional): Of the output.

        Returns:
            Tensor: (B, C, h, w) float32 logits.

        Raises:
            KeyError: As :meth:`load` and :func:`sample_grid`.
        """
        return torch.stack([
            cut_teacher_logits(
                self.load(meta['img_path']).to(device), meta, input_shape,
                out_size) for meta in metas
        ])
