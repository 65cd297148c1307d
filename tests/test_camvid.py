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
