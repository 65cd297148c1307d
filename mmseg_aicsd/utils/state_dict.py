# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Checkpoint keys of a distillation and strict state-dict loading.

One home for what the segmentor, the tools and the benchmarks share: which
keys of a :class:`~mmseg_aicsd.models.segmentors.DistillEncoderDecoder`
state dict are the student's, and loading that refuses weights that do not
fit (mmengine's ``load_checkpoint(strict=False)`` only warns).
"""
import logging
from typing import Dict, List, Sequence

import torch.nn as nn
from mmengine.logging import print_log
from torch import Tensor

# keys of a distillation segmentor that are not the student's: the
# connectors train beside it (feature distillation) and the teacher is
# frozen; neither is used at inference
NOT_STUDENT = ('distill_connectors.', 'teacher.')
# weights that inference (and a teacher's forward) never uses, so a
# checkpoint may have or lack them (e.g. a model-zoo teacher trained with
# an auxiliary head)
UNUSED_AT_INFERENCE = ('auxiliary_head.', )
# state_dict entries that are BatchNorm statistics, not weights
BN_STATS = ('running_mean', 'running_var', 'num_batches_tracked')


class CheckpointMismatchError(RuntimeError):
    """A checkpoint whose weights do not fit the model's config."""


def strip_ddp_prefix(state_dict: Dict[str, Tensor]) -> Dict[str, Tensor]:
    """The state dict with DistributedDataParallel's ``module.`` prefix
    removed from its keys (keys without it are kept as they are)."""
    return {
        (k[len('module.'):] if k.startswith('module.') else k): v
        for k, v in state_dict.items()
    }


def student_state_dict(state_dict: Dict[str, Tensor]) -> Dict[str, Tensor]:
    """The entries of a distillation state dict that are the student's
    (every key but :data:`NOT_STUDENT` ones): it loads into the stock
    student config with no missing or unexpected keys."""
    return {
        k: v
        for k, v in state_dict.items() if not k.startswith(NOT_STUDENT)
    }


def load_state_dict_strictly(
        model: nn.Module,
        state_dict: Dict[str, Tensor],
        what: str,
        config: str = 'the model config',
        hint: str = 'a checkpoint of this architecture',
        unused: Sequence[str] = UNUSED_AT_INFERENCE) -> List[str]:
    """Load ``state_dict`` into ``model``, every weight checked.

    Weights the model needs but the state dict lacks, weights the model
    does not know and mis-shaped weights are an error; keys starting with
    one of ``unused`` (weights the forward never uses) may be missing or
    unexpected, and ``num_batches_tracked`` may be missing.

    Args:
        model (nn.Module): The model to load into.
        state_dict (dict[str, Tensor]): Its weights (no ``module.`` prefix:
            see :func:`strip_ddp_prefix`).
        what (str): The checkpoint as the messages name it, e.g.
            ``"teacher_ckpt 'teacher.pth'"``.
        config (str): The model as the messages name it. Defaults to
            ``'the model config'``.
        hint (str): What the checkpoint should be, for the message.
        unused (Sequence[str]): Key prefixes exempt from the check.

    Returns:
        list[str]: The exempt keys that differed (missing or unexpected).

    Raises:
        CheckpointMismatchError: If keys or shapes do not fit the model;
            the message counts the missing, unexpected and mis-shaped keys
            and names the first few of each (torch would print a line per
            mis-shaped weight: hundreds for another architecture).
    """
    unused = tuple(unused)
    own = model.state_dict()
    mis_shaped = {
        k: (tuple(v.shape), tuple(own[k].shape))
        for k, v in state_dict.items()
        if k in own and hasattr(v, 'shape') and v.shape != own[k].shape
    }
    ignored = [k for k in mis_shaped if unused and k.startswith(unused)]
    mis_shaped = {k: v for k, v in mis_shaped.items() if k not in ignored}
    if mis_shaped:
        shown = '; '.join(f'{k}: {ckpt} in the checkpoint, {mine} in the '
                          'model'
                          for k, (ckpt, mine) in list(mis_shaped.items())[:3])
        raise CheckpointMismatchError(
            f'{what} does not fit {config}: size mismatch in '
            f'{len(mis_shaped)} of its {len(state_dict)} weights, e.g. '
            f'{shown}. '
            f'Is it {hint}?')
    state_dict = {k: v for k, v in state_dict.items() if k not in ignored}
    result = model.load_state_dict(state_dict, strict=False)
    ignored += [
        k for k in result.missing_keys + result.unexpected_keys
        if unused and k.startswith(unused) and k not in ignored
    ]
    missing = [
        k for k in result.missing_keys
        if k not in ignored and not k.endswith('num_batches_tracked')
    ]
    unexpected = [k for k in result.unexpected_keys if k not in ignored]
    if missing or unexpected:
        raise CheckpointMismatchError(
            f'{what} does not match {config}: {len(missing)} missing keys '
            f'{missing[:5]}, {len(unexpected)} unexpected keys '
            f'{unexpected[:5]}. Is it {hint}?')
    return ignored


def warn_ignored(what: str, ignored: Sequence[str], owner: str) -> None:
    """Log that the exempt keys of :func:`load_state_dict_strictly`
    differed (``owner``, e.g. ``'the teacher'``, does not use them)."""
    if ignored:
        print_log(
            f'{what}: {len(ignored)} auxiliary_head weights differ from '
            f'{owner} config; {owner} does not use them',
            logger='current',
            level=logging.WARNING)
