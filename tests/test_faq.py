# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""The troubleshooting page lists the messages of issue 22's cases (each
asserted in full by the test of its case) with their remedy."""
import os.path as osp

import pytest
from run_utils import REPO

MESSAGES = [
    # data loss
    'holds checkpoints of an earlier run',
    '--resume --cfg-options load_from=PATH',
    "kept the earlier run's",
    'is the input checkpoint: writing the student over it',
    # silent outcomes
    'the whole run is in the first ALW epoch, so alpha stays 0',
    'processes is more than the 4 training images',
    'the 10th step in a row; skip_nonfinite_loss=True skips occasional',
    '--resume continues the checkpoints in',
    # opaque errors
    'is a directory; set model.teacher_ckpt to a checkpoint file in it',
    'cannot be read as a checkpoint',
    'holds a list, not a checkpoint',
    'size mismatch in N of its M weights',
    'no *.png images in',
    'label maps must be single-channel class indices',
    'loss_weight must be a number',
    'is larger than model.data_preprocessor.size',
    'is neither one of the 11 classes (0-10) nor ignore_index 255',
    'index 255 is out of bounds for dimension 0 with size 11',
    'does not fit the model of CONFIG',
    'has no distill_connectors.* or teacher.* keys',
    'NPROC, the number of processes (e.g. 2), must follow the config',
    # the offline teacher and the teacher's precision (issue 24)
    'on a CPU without native bfloat16',
    'has no manifest.json: build it with',
    'was built from teacher_ckpt',
    'was built for another teacher config',
    'is not in teacher_cache',
    'use RandomCropWithBox instead of RandomCrop',
    'teacher_cache holds logits only',
    'the teacher cache cannot follow it',
    'already holds a teacher cache',
]


@pytest.mark.parametrize('message', MESSAGES)
def test_faq_lists_the_message(message):
    with open(osp.join(REPO, 'docs', 'en', 'faq.md')) as f:
        rows = [line for line in f if line.startswith('| ')]
    found = [row for row in rows if message in row]
    assert found
    for row in found:  # you see | cause | remedy, none empty
        cells = row.strip().strip('|').split(' | ')
        assert len(cells) == 3 and all(c.strip() for c in cells), row
