# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""The set of distillation losses of a segmentor: the losses, the maps
each compares, their connectors, the recorders and the labels they take.

The part of mmrazor's ``ConfigurableDistiller`` (recorders, connectors,
loss forward mappings) that distilling one segmentor needs.
"""
import inspect
from contextlib import ExitStack, contextmanager
from typing import Callable, Dict, Iterator, Optional, Sequence, Tuple

import torch.nn as nn
from torch import Tensor

from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList
from ..utils import ModuleOutputRecorder, resize_labels

# What a distillation loss compares unless it names modules: the decode
# heads' conv_seg outputs.
LOGITS = 'logits'


def check_loss_weight(name: str, weight) -> None:
    """Check that a ``loss_weight`` is a real number, at build time (a
    string fails only at the first iteration, as an opaque TypeError).

    Raises:
        TypeError: If ``weight`` is not an int or float (bool excluded).
    """
    if isinstance(weight, bool) or not isinstance(weight, (int, float)):
        raise TypeError(
            f'distill_losses[{name!r}].loss_weight must be a number, got '
            f'{weight!r} ({type(weight).__name__}); e.g. loss_weight=1.0')


class DistillLossSet:
    """The distillation losses of ``distill_losses`` and what they compare.

    Each entry is a registered loss config, optionally with
    ``student_feature`` (a student module name, default ``'logits'``),
    ``teacher_feature`` (default: the same name) and ``connector`` (a
    module config mapping the student's map to the teacher's channels,
    or None). The keys are the loss item names. Not a module itself: its
    :attr:`losses` and :attr:`connectors` are given to the segmentor, whose
    checkpoints keep their keys (``distill_connectors.*``).

    Args:
        distill_losses (dict[str, dict]): Loss configs by loss name, as
            ``DistillEncoderDecoder``'s argument.

    Raises:
        ValueError: If a name lacks ``'loss'`` (mmengine would log it
            without optimising it) or a ``loss_name`` differs from its key.
        KeyError: If a loss type is not registered (the message names the
            entry).
        TypeError: If a ``loss_weight`` is not a number.
    """

    def __init__(self, distill_losses: Dict[str, ConfigType]):
        self.losses = nn.ModuleDict()
        # loss name -> (student map, teacher map): LOGITS or a module name
        self.maps: Dict[str, Tuple[str, str]] = {}
        self.connector_cfgs: Dict[str, dict] = {}
        for name, cfg in distill_losses.items():
            if 'loss' not in name:
                raise ValueError(
                    f'distill_losses key {name!r} must contain "loss", or '
                    'mmengine would log it without optimising it')
            cfg = dict(cfg)
            student_map = cfg.pop('student_feature', LOGITS)
            self.maps[name] = (student_map,
                               cfg.pop('teacher_feature', student_map))
            if cfg.get('connector') is not None:
                self.connector_cfgs[name] = dict(cfg['connector'])
            cfg.pop('connector', None)
            if cfg.setdefault('loss_name', name) != name:
                raise ValueError(
                    f'distill_losses[{name!r}] has loss_name '
                    f'{cfg["loss_name"]!r}; the key is the loss name')
            check_loss_weight(name, cfg.get('loss_weight', 1.0))
            try:
                self.losses[name] = MODELS.build(cfg)
            except KeyError as e:  # an unknown type: say which entry
                raise KeyError(f'distill_losses[{name!r}]: {e}') from e
        self.takes_labels = {
            name: 'labels' in inspect.signature(loss.forward).parameters
            for name, loss in self.losses.items()
        }
        self.connectors = nn.ModuleDict()

    def kd_losses(self, names: Optional[Sequence[str]]) -> Tuple[str, ...]:
        """The ``alw_kd_losses`` of the segmentor: ``names``, or by default
        ``('loss_kd', )`` if there is a ``loss_kd``, else ``()``.

        Raises:
            ValueError: If a name is not one of the losses.
        """
        if names is None:
            names = tuple(n for n in ('loss_kd', ) if n in self.losses)
        unknown = set(names) - set(self.losses)
        if unknown:
            raise ValueError(
                f'alw_kd_losses {sorted(unknown)} are not in distill_losses '
                f'{list(self.losses)}')
        return tuple(names)

    def attach(self, student: nn.Module, teacher: nn.Module) -> None:
        """Put forward hooks on the modules the losses compare.

        Args:
            student (nn.Module): The distillation segmentor (its modules
                under ``teacher`` and ``distill_*`` are not the student's).
            teacher (nn.Module): The teacher segmentor.

        Raises:
            KeyError: If a feature name is not a module of the student /
                teacher (the message lists the closest names).
        """
        self.student_recorder = ModuleOutputRecorder(
            student, [s for s, _ in self.maps.values() if s != LOGITS],
            role='student',
            exclude=('teacher', 'distill_'))
        self.teacher_recorder = ModuleOutputRecorder(
            teacher, [t for _, t in self.maps.values() if t != LOGITS],
            role='teacher')

    @contextmanager
    def recording(self,
                  student: bool = True,
                  teacher: bool = True) -> Iterator['DistillLossSet']:
        """Record the student's and / or the teacher's compared modules
        inside the ``with`` block (earlier outputs are dropped)."""
        with ExitStack() as stack:
            if student:
                stack.enter_context(self.student_recorder.recording())
            if teacher:
                stack.enter_context(self.teacher_recorder.recording())
            yield self

    def build_connectors(self, probe: Callable[[], Tuple[Tensor,
                                                         Tensor]]) -> None:
        """Build the connectors into :attr:`connectors`, filling in missing
        channel counts from one forward.

        Args:
            probe (callable): Runs the student and the teacher (inside
                :meth:`recording`) and returns their logits; called only if
                a connector lacks ``in_channels`` or ``out_channels``.

        Raises:
            KeyError: If a connector type is not registered.
            RuntimeError: If a recorded module does not run in the probe.
        """
        channels = {}
        missing = [
            name for name, cfg in self.connector_cfgs.items()
            if 'in_channels' not in cfg or 'out_channels' not in cfg
        ]
        if missing:
            with self.recording():
                student_logits, teacher_logits = probe()
                for name in missing:
                    student, teacher = self.pair(name, student_logits,
                                                 teacher_logits)
                    channels[name] = (student.shape[1], teacher.shape[1])
        for name, cfg in self.connector_cfgs.items():
            for key, value in zip(('in_channels', 'out_channels'),
                                  channels.get(name, ())):
                cfg.setdefault(key, value)
            try:
                self.connectors[name] = MODELS.build(cfg)
            except KeyError as e:
                raise KeyError(
                    f'distill_losses[{name!r}] connector: {e}') from e

    def pair(self, name: str, student_logits: Tensor,
             teacher_logits: Tensor) -> Tuple[Tensor, Tensor]:
        """The (student, teacher) maps loss ``name`` compares, before its
        connector: the logits or the recorded module outputs."""
        student_map, teacher_map = self.maps[name]
        student = student_logits if student_map == LOGITS \
            else self.student_recorder.get(student_map)
        teacher = teacher_logits if teacher_map == LOGITS \
            else self.teacher_recorder.get(teacher_map)
        return student, teacher

    def __call__(self, student_logits: Tensor, teacher_logits: Tensor,
                 data_samples: SampleList) -> Dict[str, Tensor]:
        """Each distillation loss on its (student, teacher) pair of maps.

        The student's map goes through its connector; a loss whose
        ``forward`` has a ``labels`` parameter gets the batch's
        ``gt_sem_seg`` at the teacher map's size (nearest neighbour,
        ignore index kept), shape (B, H, W).

        Args:
            student_logits (Tensor): (B, C, h, w), the student's.
            teacher_logits (Tensor): (B, C, h', w'), the teacher's.
            data_samples (list[:obj:`SegDataSample`]): With
                ``gt_sem_seg``.

        Returns:
            dict[str, Tensor]: One scalar per loss, by loss name.

        Raises:
            ValueError: If a connector cannot map the student's map to the
                teacher's, or a loss refuses its maps.
        """
        losses, labels = {}, {}
        for name, loss_fn in self.losses.items():
            student, teacher = self.pair(name, student_logits, teacher_logits)
            if name in self.connectors:
                try:
                    student = self.connectors[name](student)
                except (ValueError, RuntimeError) as e:
                    student_map, teacher_map = self.maps[name]
                    raise ValueError(
                        f'distill_losses[{name!r}]: the connector cannot map '
                        f'the student map {student_map!r} of shape '
                        f'{tuple(student.shape)} to the teacher map '
                        f'{teacher_map!r} of shape {tuple(teacher.shape)}: '
                        f'{e}') from e
            kwargs = {}
            if self.takes_labels[name]:
                size = tuple(teacher.shape[-2:])
                if size not in labels:
                    labels[size] = resize_labels(data_samples, size)
                kwargs['labels'] = labels[size]
            losses[name] = loss_fn(student, teacher, **kwargs)
        return losses
