# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Write the student alone from a distillation checkpoint.

Checkpoints of ``DistillEncoderDecoder`` hold the student and, for
feature distillation, the connectors (``distill_connectors.*``), so that
``--resume`` restores both. This writes a checkpoint with the student's
weights only (and its ``meta``), which loads into the stock student config
with no missing or unexpected keys, e.g. for mmseg's ``tools/test.py``::

    python tools/model_converters/distill_to_student.py \\
        work_dirs/ickd_.../iter_80000.pth work_dirs/ickd_.../student.pth
"""
import argparse
import os.path as osp

import torch

from mmseg_aicsd.engine import register_checkpoint_safe_globals
from mmseg_aicsd.utils import student_state_dict


def convert(src: str, dst: str) -> int:
    """Save the student part of checkpoint ``src`` to ``dst``.

    Args:
        src (str): A checkpoint written by mmengine's Runner (with a
            ``state_dict``), or a bare state dict.
        dst (str): Where to write ``dict(meta=..., state_dict=...)``.

    Returns:
        int: The number of keys dropped (at least 1).

    Raises:
        FileNotFoundError: If ``src`` does not exist.
        ValueError: If ``dst`` is ``src`` (the training checkpoint would
            lose its optimizer, schedulers and message hub), or ``src``
            has no connector or teacher keys (nothing to drop: it is not a
            feature-distillation checkpoint). Nothing is written then.
    """
    if osp.exists(dst) and osp.samefile(src, dst):
        raise ValueError(
            f'{dst!r} is the input checkpoint: writing the student over it '
            'would drop its optimizer, schedulers and message hub, which '
            '--resume needs. Give another output path, e.g. '
            f'{osp.join(osp.dirname(src), "student.pth")!r}.')
    register_checkpoint_safe_globals()  # mmengine's HistoryBuffer etc.
    checkpoint = torch.load(src, map_location='cpu')
    state_dict = checkpoint.get('state_dict', checkpoint)
    student = student_state_dict(state_dict)
    if len(student) == len(state_dict):
        raise ValueError(
            f'{src!r} has no distill_connectors.* or teacher.* keys, so '
            'there is nothing to drop and nothing was written: it is not '
            'a feature-distillation checkpoint. A checkpoint of a '
            'logit-only distillation (KD, CWD, ICSD, AICSD), of a student '
            'or of a teacher loads into its plain config as it is.')
    torch.save(dict(meta=checkpoint.get('meta', {}), state_dict=student), dst)
    return len(state_dict) - len(student)


def main() -> None:
    parser = argparse.ArgumentParser(
        description='Write the student alone from a distillation checkpoint')
    parser.add_argument('src', help='checkpoint of a distillation run')
    parser.add_argument('dst', help='where to write the student checkpoint')
    args = parser.parse_args()
    try:
        dropped = convert(args.src, args.dst)
    except ValueError as e:  # a usage error: argparse's message, exit 2
        parser.error(str(e))
    print(f'{args.dst}: student weights; dropped {dropped} connector/teacher '
          'keys')


if __name__ == '__main__':
    main()
