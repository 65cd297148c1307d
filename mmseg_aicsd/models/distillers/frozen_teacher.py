# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""The frozen teacher of a distillation: build, strict load, freeze,
precision, forward, and its absence from checkpoints.

mmrazor keeps the teacher's lifecycle in the algorithm
(``SingleTeacherDistill``) apart from the distillation wiring; here it is
the functions :class:`~mmseg_aicsd.models.segmentors.DistillEncoderDecoder`
calls, so that the teacher stays a plain mmseg segmentor at
``model.teacher`` (``TeacherEvalHook`` runs its ``val_step``).
"""
import glob
import os.path as osp
import warnings
from contextlib import nullcontext
from functools import lru_cache
from typing import List, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.runner.checkpoint import _load_checkpoint
from torch import Tensor

from mmseg.models.segmentors import BaseSegmentor
from mmseg.registry import MODELS
from mmseg.utils import ConfigType
from ...utils import (load_state_dict_strictly, strip_ddp_prefix,
                      teacher_config, warn_ignored)
from ..utils import ModuleOutputRecorder

# Fields of SegDataPreProcessor that change what the network sees.
PREPROCESS_KEYS = ('mean', 'std', 'bgr_to_rgb', 'rgb_to_bgr')
TEACHER_DTYPES = dict(
    float32=torch.float32, bfloat16=torch.bfloat16, float16=torch.float16)


def teacher_dtype(name: Optional[str]) -> Optional[torch.dtype]:
    """The dtype of ``teacher_dtype``: None runs the teacher as the code
    around it runs (float32, or the AMP dtype under ``AmpOptimWrapper``);
    float32 runs it in float32 even under AMP.

    Raises:
        ValueError: If ``name`` is not None or a key of
            :data:`TEACHER_DTYPES`.
    """
    if name not in (None, *TEACHER_DTYPES):
        raise ValueError(
            f'teacher_dtype must be one of {list(TEACHER_DTYPES)} or '
            f'None, got {name!r}')
    return TEACHER_DTYPES.get(name)


def cpu_has_native_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 in hardware (AMX tiles or
    AVX512-BF16), as torch's CPU capability checks report it."""
    checks = ('_is_amx_tile_supported', '_is_avx512_bf16_supported')
    return any(getattr(torch.cpu, name, lambda: False)() for name in checks)


@lru_cache(maxsize=None)
def warn_slow_cpu_bfloat16() -> None:
    """Warn, once per process, that a bfloat16 teacher on a CPU without
    native bfloat16 makes training slower, not faster."""
    if cpu_has_native_bfloat16():
        return
    warnings.warn(
        "teacher_dtype='bfloat16' on a CPU without native bfloat16 (no AMX "
        'or AVX512-BF16): on such a CPU (an AMD EPYC) the teacher forward '
        'was no faster and a whole distillation step 10x slower than in '
        'float32 (66 s against 6.6 s, docs/benchmarks.md). Set '
        'model.teacher_dtype=None on this machine.',
        stacklevel=3)


def check_same_preprocessing(student_cfg: Optional[dict],
                             teacher_cfg: Optional[dict]) -> None:
    """Check that the teacher normalises its input as the student does.

    Args:
        student_cfg, teacher_cfg (dict, optional): The two
            ``data_preprocessor`` configs.

    Raises:
        ValueError: If mean, std or channel order differ: the teacher runs
            on the student's preprocessed batch.
    """
    student_cfg, teacher_cfg = student_cfg or {}, teacher_cfg or {}
    for key in PREPROCESS_KEYS:
        s, t = student_cfg.get(key), teacher_cfg.get(key)
        if isinstance(s, Sequence) and isinstance(t, Sequence):
            s, t = [float(v) for v in s], [float(v) for v in t]
        if s != t:
            raise ValueError(
                f'the teacher data_preprocessor has {key}={t} and the '
                f'student {key}={s}: the teacher runs on the student\'s '
                'preprocessed batch, so they must normalise alike')


def load_teacher(teacher: nn.Module, filename: str) -> None:
    """Load ``teacher_ckpt`` into the teacher, all keys its forward uses
    required (``auxiliary_head`` weights may differ, with a warning).

    Raises:
        FileNotFoundError: If ``filename`` is a local path that does not
            exist.
        IsADirectoryError: If it is a directory (e.g. a work dir).
        RuntimeError: If it cannot be read as a checkpoint (truncated, or
            another kind of file), or its weights do not fit the teacher
            (missing, unexpected or mis-shaped).
    """
    what = f'teacher_ckpt {filename!r}'
    if '://' not in filename:
        check_checkpoint_path(filename, what)
    try:
        checkpoint = _load_checkpoint(filename, map_location='cpu')
    except Exception as e:  # torch's zip reader, pickle, mmengine
        raise RuntimeError(
            f'{what} cannot be read as a checkpoint ({type(e).__name__}: '
            f'{e}). Is it truncated (a run killed while writing it: take '
            'the one before), or not a .pth file? Set model.teacher_ckpt '
            'to a complete checkpoint of the teacher.') from e
    if not isinstance(checkpoint, dict):
        raise RuntimeError(
            f'{what} holds a {type(checkpoint).__name__}, not a checkpoint '
            '(a dict with a state_dict, or a state dict). Set '
            'model.teacher_ckpt to a checkpoint of the teacher.')
    state_dict = strip_ddp_prefix(checkpoint.get('state_dict', checkpoint))
    ignored = load_state_dict_strictly(
        teacher,
        state_dict,
        what,
        config='the teacher config',
        hint='a checkpoint of the teacher architecture')
    warn_ignored(what, ignored, 'the teacher')


def check_checkpoint_path(filename: str, what: str) -> None:
    """Check that the local path ``filename`` is a file.

    Raises:
        FileNotFoundError: If nothing is there.
        IsADirectoryError: If it is a directory; the message names its
            newest ``*.pth`` if it has one.
    """
    if osp.isdir(filename):
        found = sorted(
            glob.glob(osp.join(filename, '*.pth')), key=osp.getmtime)
        hint = (f', e.g. {found[-1]!r} (its newest)' if found else '')
        raise IsADirectoryError(
            f'{what} is a directory; set model.teacher_ckpt to a '
            f'checkpoint file in it{hint}.')
    if not osp.isfile(filename):
        raise FileNotFoundError(
            f'{what} does not exist. Train the teacher first, or set '
            'model.teacher_ckpt to its checkpoint (a local path or URL).')


def build_frozen_teacher(teacher: Union[ConfigType, str], teacher_ckpt: str,
                         data_preprocessor: Optional[dict],
                         num_classes: int) -> BaseSegmentor:
    """The teacher segmentor, loaded from ``teacher_ckpt`` and frozen.

    Frozen: no parameter requires gradients, it is in eval mode (its
    owner's ``train()`` must keep it so), and mmengine's ``init_weights``
    skips it (its weights are the checkpoint's).

    Args:
        teacher (dict | str): Its model config or a config file path (an
            ``mmseg::`` path works).
        teacher_ckpt (str): Local path or URL of its weights.
        data_preprocessor (dict, optional): The student's, which the
            teacher's must match.
        num_classes (int): The student's class count, which the teacher's
            must match.

    Raises:
        ValueError: If the preprocessing or the class count differ.
        FileNotFoundError, RuntimeError: As :func:`load_teacher`.
    """
    cfg = teacher_config(teacher)
    check_same_preprocessing(data_preprocessor, cfg.get('data_preprocessor'))
    model = MODELS.build(cfg)
    if model.num_classes != num_classes:
        raise ValueError(
            f'the teacher predicts {model.num_classes} classes and '
            f'the student {num_classes}; distillation on logits '
            'needs the same classes in the same order')
    load_teacher(model, teacher_ckpt)
    model.requires_grad_(False)
    model.eval()
    # mmengine's BaseModule.init_weights skips children marked as
    # initialised: the teacher's weights are the checkpoint's.
    model._is_init = True
    return model


def teacher_forward(teacher: nn.Module, inputs: Tensor,
                    dtype: Optional[torch.dtype],
                    recorder: ModuleOutputRecorder) -> Tensor:
    """The teacher's logits of a preprocessed batch, under ``no_grad``.

    Args:
        teacher (nn.Module): The frozen teacher.
        inputs (Tensor): (B, 3, H, W), the student's preprocessed batch.
        dtype (torch.dtype, optional): The teacher's precision: None, the
            ambient one (float32, or AMP's autocast dtype); float32,
            autocast off; bfloat16 or float16, autocast in that dtype
            (bfloat16 on a CPU without it warns once,
            :func:`warn_slow_cpu_bfloat16`). Its logits and the floating
            outputs ``recorder`` holds come back as float32 in every case,
            so the losses stay float32.
        recorder (ModuleOutputRecorder): The teacher's recorder.

    Returns:
        Tensor: Logits (B, C, h, w), float32, the decode head's
        ``conv_seg`` output.
    """
    if dtype is None:
        precision = nullcontext()
    elif dtype is torch.float32:
        precision = torch.autocast(inputs.device.type, enabled=False)
    else:
        if dtype is torch.bfloat16 and inputs.device.type == 'cpu':
            warn_slow_cpu_bfloat16()
        precision = torch.autocast(inputs.device.type, dtype=dtype)
    with torch.no_grad(), precision:
        logits = teacher(inputs, mode='tensor')
    outputs = recorder.outputs
    for name, output in outputs.items():
        if isinstance(output, Tensor) and output.is_floating_point():
            outputs[name] = output.float()
    return logits.float()


def ddp_ignore_names(teacher: nn.Module,
                     prefix: str = 'teacher.') -> List[str]:
    """Names DistributedDataParallel neither broadcasts nor all-reduces:
    each rank loads the same frozen teacher from ``teacher_ckpt``."""
    return [f'{prefix}{name}' for name, _ in teacher.named_parameters()] + \
        [f'{prefix}{name}' for name, _ in teacher.named_buffers()]


def drop_teacher_keys(module: nn.Module, state_dict: dict, prefix: str,
                      local_metadata: dict) -> None:
    """state_dict hook: checkpoints hold the student only."""
    for key in [k for k in state_dict if k.startswith(prefix + 'teacher.')]:
        del state_dict[key]


def keep_teacher_weights(module: nn.Module, state_dict: dict, prefix: str,
                         *args) -> None:
    """load_state_dict pre-hook: a student-only checkpoint keeps the
    teacher's weights from ``teacher_ckpt`` instead of reporting them
    missing."""
    for key, value in module.teacher.state_dict().items():
        state_dict.setdefault(prefix + 'teacher.' + key, value)


def keep_out_of_checkpoints(module: nn.Module) -> None:
    """Register :func:`drop_teacher_keys` and :func:`keep_teacher_weights`
    on ``module`` (the one holding ``module.teacher``)."""
    # public hook APIs from torch 2.2 / 2.0; the private ones before
    if hasattr(module, 'register_state_dict_post_hook'):
        module.register_state_dict_post_hook(drop_teacher_keys)
    else:
        module._register_state_dict_hook(drop_teacher_keys)
    if hasattr(module, 'register_load_state_dict_pre_hook'):
        module.register_load_state_dict_pre_hook(keep_teacher_weights)
    else:
        module._register_load_state_dict_pre_hook(
            keep_teacher_weights, with_module=True)
