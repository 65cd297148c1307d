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
        int: The number of keys dropped.

    Raises:
        FileNotFoundError: If ``src`` does not exist.
    """
    register_checkpoint_safe_globals()  # mmengine's HistoryBuffer etc.
    checkpoint = torch.load(src, map_location='cpu')
    state_dict = checkpoint.get('state_dict', checkpoint)
    student = student_state_dict(state_dict)
    torch.save(dict(meta=checkpoint.get('meta', {}), state_dict=student), dst)
    return len(state_dict) - len(student)


def main() -> None:
    parser = argparse.ArgumentParser(
        description='Write the student alone from a distillation checkpoint')
    parser.add_argument('src', help='checkpoint of a distillation run')
    parser.add_argument('dst', help='where to write the student checkpoint')
    args = parser.parse_args()
    dropped = convert(args.src, args.dst)
    print(f'{args.dst}: student weights; dropped {dropped} connector/teacher '
          'keys')


if __name__ == '__main__':
    main()
