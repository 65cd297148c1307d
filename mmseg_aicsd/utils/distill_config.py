# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""The student and the teacher of a distillation config.

A :class:`~mmseg_aicsd.models.segmentors.DistillEncoderDecoder` config is
the student's ``EncoderDecoder`` config (``DistillCascadeEncoderDecoder``:
its ``CascadeEncoderDecoder`` config) plus the distillation keys
(``teacher``, ``teacher_ckpt``, ``distill_losses``, ...): the student *is*
the segmentor. These are the one way the package, its tools and the
benchmarks take it apart.
"""
import inspect
from typing import Union

from mmengine.config import Config, ConfigDict
from mmengine.hub import get_config

from mmseg.models.segmentors import CascadeEncoderDecoder, EncoderDecoder
from mmseg.utils import ConfigType

DISTILL_TYPE = 'DistillEncoderDecoder'
# the distillation segmentors, by type, and the stock segmentor of their
# student
DISTILL_TYPES = {
    DISTILL_TYPE: EncoderDecoder,
    'DistillCascadeEncoderDecoder': CascadeEncoderDecoder,
}


def is_distill_config(cfg: Config) -> bool:
    """Whether ``cfg.model`` is a distillation segmentor (a student and a
    teacher): a type of :data:`DISTILL_TYPES`."""
    return cfg.model.get('type') in DISTILL_TYPES


def teacher_config(teacher: Union[ConfigType, str]) -> ConfigDict:
    """The teacher's model config from a dict, a config file path or a
    package config (``'mmseg::path/in/its/configs.py'``).

    Args:
        teacher (dict | str): ``model.teacher`` of a distillation config.

    Returns:
        ConfigDict: A copy of the teacher's segmentor config.

    Raises:
        FileNotFoundError: If a config file does not exist.
    """
    if not isinstance(teacher, str):
        return ConfigDict(teacher)
    if '::' in teacher:  # Config.fromfile only resolves these in _base_
        return get_config(teacher).model
    return Config.fromfile(teacher).model


def student_model_config(cfg: Config) -> ConfigDict:
    """The model config of the student of ``cfg``.

    Args:
        cfg (Config): A full config. Its model is a distillation segmentor
            of :data:`DISTILL_TYPES` (the student is that model without its
            teacher and losses, a plain ``EncoderDecoder`` or
            ``CascadeEncoderDecoder``: only that class's arguments are
            kept) or any other segmentor (returned as it is).

    Returns:
        ConfigDict: A copy of the model config.
    """
    model = cfg.model.copy()
    if model.get('type') not in DISTILL_TYPES:
        return model
    student = DISTILL_TYPES[model.type]
    keep = set(inspect.signature(student.__init__).parameters)
    model = ConfigDict({
        k: v
        for k, v in model.items() if k in keep - {'self'}
    })
    model.type = student.__name__
    return model


def teacher_model_config(cfg: Config) -> ConfigDict:
    """The teacher's model config of a distillation config (``model.
    teacher``: a dict, a config file or an ``mmseg::`` config).

    Raises:
        ValueError: If ``cfg.model`` is not a distillation segmentor.
    """
    if not is_distill_config(cfg):
        raise ValueError(
            f'the config\'s model is a {cfg.model.get("type")}, not one '
            f'of {list(DISTILL_TYPES)}, so it has no teacher; give a '
            'distillation config (e.g. configs/aicsd/aicsd_*.py)')
    return teacher_config(cfg.model.teacher)
