# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""CamVidDataset refuses, at build, an empty image folder and colour label
maps, naming the folder or file and the fix; the files stay as they
were."""
import re

import numpy as np
import pytest
from PIL import Image
from toy_runner import file_bytes

from mmseg.registry import DATASETS


def camvid(root):
    return dict(
        type='CamVidDataset',
        data_root=str(root),
        data_prefix=dict(img_path='train', seg_map_path='trainannot'),
        pipeline=[])


def write_split(root, label):
    (root / 'train').mkdir()
    (root / 'trainannot').mkdir()
    Image.fromarray(np.zeros((6, 8, 3),
                             np.uint8)).save(root / 'train' / 'a.png')
    Image.fromarray(label).save(root / 'trainannot' / 'a.png')


def test_empty_train_folder(tmp_path):
    (tmp_path / 'train').mkdir()
    (tmp_path / 'trainannot').mkdir()
    with pytest.raises(
            FileNotFoundError,
            match=re.escape(f"no *.png images in '{tmp_path / 'train'}': "
                            'check data_root and data_prefix')):
        DATASETS.build(camvid(tmp_path))


def test_colour_label_maps(tmp_path):
    write_split(tmp_path, np.full((6, 8, 3), 128, np.uint8))
    before = file_bytes(tmp_path / 'trainannot')
    with pytest.raises(
            ValueError,
            match=re.escape(
                f"label map '{tmp_path / 'trainannot' / 'a.png'}' has 3 "
                'channels (RGB): label maps must be single-channel class '
                'indices')):
        DATASETS.build(camvid(tmp_path))
    assert file_bytes(tmp_path / 'trainannot') == before


def test_index_label_maps_build(tmp_path):
    write_split(tmp_path, np.full((6, 8), 3, np.uint8))
    assert len(DATASETS.build(camvid(tmp_path))) == 1
