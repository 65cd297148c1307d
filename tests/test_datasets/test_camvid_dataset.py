# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""CamVidDataset on the real SegNet CamVid folder."""
import mmcv
import numpy as np

from mmseg.registry import DATASETS


def test_camvid_splits_and_void(camvid_root):
    train = DATASETS.build(
        dict(
            type='CamVidDataset',
            data_root=camvid_root,
            data_prefix=dict(img_path='train', seg_map_path='trainannot'),
            pipeline=[dict(type='LoadAnnotations')]))
    val = DATASETS.build(
        dict(
            type='CamVidDataset',
            data_root=camvid_root,
            data_prefix=dict(img_path='val', seg_map_path='valannot'),
            pipeline=[]))
    assert (len(train), len(val)) == (367, 101)
    assert train.metainfo['classes'][3] == 'road'
    assert len(train.metainfo['classes']) == len(train.metainfo['palette'])

    # the first training image has void pixels (11): they load as 255
    info = train.get_data_info(0)
    raw = mmcv.imread(info['seg_map_path'], flag='unchanged')
    assert (raw == 11).any() and raw.max() == 11
    loaded = train[0]['gt_seg_map']
    assert np.array_equal(loaded == 255, raw == 11)
    assert np.array_equal(loaded[raw != 11], raw[raw != 11])


def test_image_without_label_map(camvid_root, tmp_path):
    """An image whose label map is missing is reported at build."""
    import os
    import os.path as osp

    import pytest
    names = sorted(os.listdir(osp.join(camvid_root, 'train')))[:3]
    for folder in ('train', 'trainannot'):
        os.makedirs(tmp_path / folder)
        for name in names[:3 if folder == 'train' else 2]:
            os.symlink(
                osp.join(camvid_root, folder, name), tmp_path / folder / name)
    cfg = dict(
        type='CamVidDataset',
        data_root=str(tmp_path),
        data_prefix=dict(img_path='train', seg_map_path='trainannot'),
        pipeline=[])
    with pytest.raises(
            FileNotFoundError,
            match=f"1 of 3 images have no label map.*{names[2]}"):
        DATASETS.build(cfg)
    os.symlink(
        osp.join(camvid_root, 'trainannot', names[2]),
        tmp_path / 'trainannot' / names[2])
    assert len(DATASETS.build(cfg)) == 3
