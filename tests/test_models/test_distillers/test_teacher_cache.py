# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""The offline teacher's cut (TeacherLogitCache, cut_teacher_logits): the
map it cuts is the one mmseg's own resize, crop and flip give, and a cache
of another teacher, image or pipeline is refused."""
import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmcv.transforms import RandomFlip, RandomResize

from mmseg_aicsd.datasets import RandomCropWithBox
from mmseg_aicsd.models.distillers import TeacherLogitCache, cut_teacher_logits
from mmseg_aicsd.models.distillers.teacher_cache import (CACHE_VERSION,
                                                         MANIFEST,
                                                         checkpoint_id,
                                                         config_json)

H0, W0 = 360, 480  # a CamVid image
STRIDE = 4  # the teacher's logits: 1/4 of its input


def coordinate_image():
    """(H0, W0, 2) float32: each pixel holds its own centre (x, y) in the
    original image, so that any resampling of it says where it came
    from."""
    y, x = np.mgrid[0:H0, 0:W0].astype(np.float32) + 0.5
    return np.stack([x, y], -1)


def pooled(img):
    """A 'teacher' that is local and linear: the mean of each 4x4 cell,
    (2, h/4, w/4); of the coordinate image, each cell's centre."""
    t = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)[None]
    return F.avg_pool2d(t, STRIDE)[0]


def augment(seed, crop=(180, 240)):
    """mmseg's RandomResize, RandomCropWithBox and RandomFlip on the
    coordinate image, as a train pipeline runs them."""
    np.random.seed(seed)
    results = dict(
        img=coordinate_image(), ori_shape=(H0, W0), img_shape=(H0, W0))
    for t in (RandomResize(
            scale=(240, 180), ratio_range=(0.5, 2.0),
            keep_ratio=True), RandomCropWithBox(crop_size=crop),
              RandomFlip(prob=0.5, direction=['horizontal', 'vertical'])):
        results = t(results)
    return results


@pytest.mark.parametrize('seed', range(12))
def test_cut_is_where_mmseg_transforms_put_each_pixel(seed):
    results = augment(seed)
    img = results['img']
    h, w = img.shape[:2]
    # padded to the crop at the bottom and right, as SegDataPreProcessor
    padded = np.zeros((180, 240, 2), np.float32)
    padded[:h, :w] = img
    online = pooled(padded)  # (2, 45, 60)
    # the cache: the image at the base scale (240x180), pooled
    base = F.interpolate(
        torch.from_numpy(coordinate_image()).permute(2, 0, 1)[None],
        size=(180, 240),
        mode='bilinear',
        align_corners=False)[0]
    cached = F.avg_pool2d(base[None], STRIDE)[0]  # (2, 45, 60)
    meta = {
        k: results[k]
        for k in ('ori_shape', 'img_shape', 'scale_factor', 'crop_bbox',
                  'flip', 'flip_direction')
    }
    cut = cut_teacher_logits(cached, meta, (180, 240), (45, 60))
    assert cut.shape == (2, 45, 60)
    # cells fully inside the image (not the padding, not its last row or
    # column, which the pooling mixes with padding)
    inside = np.zeros((45, 60), bool)
    inside[:h // STRIDE, :w // STRIDE] = True
    assert inside.sum() >= 22 * 30
    err = (cut - online).abs()[:, torch.from_numpy(inside)]
    # a linear map resampled bilinearly: exact up to float32 rounding,
    # where a missed flip misplaces cells by up to 470 pixels and swapped
    # scale factors by 0.17-1.3 (measured on these seeds)
    assert err.max() < 0.01, (seed, meta, err.max())
    # the padding (cells whose centre lies beyond the image) gets logits 0
    rows, cols = math.ceil(h / STRIDE - 0.5), math.ceil(w / STRIDE - 0.5)
    assert torch.all(cut[:, rows:] == 0) and torch.all(cut[:, :, cols:] == 0)
    assert torch.all(cut[:, :h // STRIDE, :w // STRIDE] != 0)


def test_flip_directions_mirror_the_cut():
    cached = torch.arange(2 * 3 * 4, dtype=torch.float32).reshape(2, 3, 4)
    meta = dict(ori_shape=(3, 4), img_shape=(3, 4), scale_factor=(1., 1.))
    plain = cut_teacher_logits(cached, meta, (3, 4), (3, 4))
    torch.testing.assert_close(plain, cached)  # identity: cell for cell
    for direction, dims in (('horizontal', [2]), ('vertical', [1]),
                            ('diagonal', [1, 2])):
        flipped = cut_teacher_logits(
            cached, dict(meta, flip=True, flip_direction=direction), (3, 4),
            (3, 4))
        torch.testing.assert_close(flipped, cached.flip(dims))


def test_a_crop_without_its_box_is_refused():
    meta = dict(
        ori_shape=(360, 480),
        img_shape=(180, 240),
        scale_factor=(1., 1.),
        img_path='data/x.png')
    with pytest.raises(
            KeyError,
            match="'data/x.png' was cropped .* use "
            'RandomCropWithBox instead of RandomCrop'):
        cut_teacher_logits(torch.zeros(2, 90, 120), meta, (180, 240), (45, 60))


@pytest.fixture
def cache(tmp_path):
    """A two-image cache of a teacher (config, checkpoint file)."""
    ckpt = tmp_path / 'teacher.pth'
    torch.save({'state_dict': {}}, ckpt)
    teacher = dict(type='EncoderDecoder', decode_head=dict(num_classes=2))
    for i in range(2):
        np.save(tmp_path / f'{i:06d}.npy', np.full((2, 3, 4), i, np.float16))
    manifest = dict(
        version=CACHE_VERSION,
        teacher=config_json(teacher),
        teacher_ckpt=str(ckpt),
        teacher_ckpt_id=checkpoint_id(str(ckpt)),
        image_dir='data/train',
        key_depth=1,
        images={
            'a.png': '000000.npy',
            'b.png': '000001.npy'
        })
    (tmp_path / MANIFEST).write_text(json.dumps(manifest))
    return tmp_path, teacher, str(ckpt)


def test_cache_serves_each_image_its_own_map(cache):
    folder, teacher, ckpt = cache
    loaded = TeacherLogitCache(str(folder), teacher, ckpt)
    meta = dict(ori_shape=(3, 4), img_shape=(3, 4), scale_factor=(1., 1.))
    batch = loaded.logits([
        dict(meta, img_path='/elsewhere/train/b.png'),
        dict(meta, img_path='a.png')
    ], (3, 4), (3, 4))
    assert batch.dtype == torch.float32 and batch.shape == (2, 2, 3, 4)
    assert batch[0].eq(1).all() and batch[1].eq(0).all()
    with pytest.raises(
            KeyError,
            match="image 'c.png' .* is not in "
            'teacher_cache .* built for 2 images'):
        loaded.load('c.png')


def test_cache_of_another_teacher_is_refused(cache, tmp_path_factory):
    folder, teacher, ckpt = cache
    other = tmp_path_factory.mktemp('other') / 'teacher.pth'
    torch.save({'state_dict': {'w': torch.zeros(1)}}, other)
    with pytest.raises(
            ValueError,
            match='was built from teacher_ckpt .* not '
            'from .*other.* rebuild it with tools/misc/'
            'build_teacher_cache.py'):
        TeacherLogitCache(str(folder), teacher, str(other))
    changed = dict(teacher, decode_head=dict(num_classes=3))
    with pytest.raises(
            ValueError,
            match=r"another teacher config \(differs "
            r"in \['decode_head'\]\)"):
        TeacherLogitCache(str(folder), changed, ckpt)
    with pytest.raises(FileNotFoundError, match='has no manifest.json'):
        TeacherLogitCache(str(folder / 'nowhere'), teacher, ckpt)
