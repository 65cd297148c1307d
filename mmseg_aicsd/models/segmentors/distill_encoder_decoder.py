# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Distillation segmentor for AICSD (arXiv 2308.04243, Eq. 5-6) and the
logit- and feature-level baselines it is compared with."""
import inspect
import logging
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.config import Config, ConfigDict
from mmengine.dist import all_reduce
from mmengine.hub import get_config
from mmengine.logging import MessageHub, print_log
from mmengine.runner.checkpoint import _load_checkpoint
from torch import Tensor

from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList, add_prefix
from ..utils import ModuleOutputRecorder, resize_labels

# Fields of SegDataPreProcessor that change what the network sees.
_PREPROCESS_KEYS = ('mean', 'std', 'bgr_to_rgb', 'rgb_to_bgr')
# Teacher weights its forward (mode='tensor') never uses: a checkpoint may
# have or lack them (e.g. a model-zoo teacher trained with an auxiliary head).
_UNUSED_TEACHER_KEYS = ('auxiliary_head.', )
# What a distillation loss compares unless it names modules: the decode
# heads' conv_seg outputs.
LOGITS = 'logits'
# Keys of a distill_losses entry that the segmentor reads, not the loss.
_FEATURE_KEYS = ('student_feature', 'teacher_feature', 'connector')
_TEACHER_DTYPES = dict(
    float32=None, bfloat16=torch.bfloat16, float16=torch.float16)
# Input of the forward that finds the channels of connector-mapped maps.
_PROBE_SIZE = (64, 64)


@MODELS.register_module()
class DistillEncoderDecoder(EncoderDecoder):
    """An :class:`EncoderDecoder` student distilled from a frozen teacher.

    The student is configured exactly like a stock ``EncoderDecoder`` (all
    keyword arguments other than the ones below go to it). In training, the
    teacher segmentor runs under ``no_grad`` on the student's preprocessed
    batch, and each loss in ``distill_losses`` is applied to a pair of
    maps from the one student forward and the one teacher forward:

    - the logits (default): the decode heads' ``conv_seg`` outputs, shape
      (B, C, H/4, W/4) for DeepLabV3+;
    - or the outputs of named modules, ``student_feature`` and
      ``teacher_feature`` in the entry (names of ``named_modules()``, e.g.
      ``'backbone.layer4'``, ``'decode_head.sep_bottleneck'``), recorded
      with forward hooks (:class:`~mmseg_aicsd.models.utils.
      ModuleOutputRecorder`); an optional ``connector`` (e.g.
      :class:`~mmseg_aicsd.models.connectors.ConvBNConnector`) maps the
      student's channels to the teacher's first. Its ``in_channels`` and
      ``out_channels`` may be left out: they are read from a forward of a
      1x3x64x64 zero image at build time.

    Each loss resizes the student map to the teacher's spatial size
    (bilinear). A loss whose ``forward`` has a ``labels`` parameter also
    gets the batch's ``gt_sem_seg`` at the teacher map's size (nearest
    neighbour, ignore index kept), shape (B, H, W).

    Loss weighting:

    - Without alpha set (no :class:`~mmseg_aicsd.engine.hooks.ALWHook`):
      the student's supervised losses and every distillation loss add up,
      each with its own ``loss_weight`` (AICSD Eq. 5).
    - With alpha set by ``ALWHook``: the losses named in ``alw_kd_losses``
      are multiplied by ``1 - alpha`` and every other loss item (decode and
      auxiliary heads' supervised losses, the other distillation losses) by
      ``alpha`` (Eq. 6). The logged values are the weighted ones, i.e. what
      is optimised.

    The teacher is frozen: no gradients, BatchNorm/Dropout in eval mode
    whatever ``train()`` is called with, weights loaded from
    ``teacher_ckpt`` at build time and never touched by ``init_weights``.
    Validation, ``predict`` and ``tensor`` mode use the student alone.
    ``state_dict()`` holds the student and the connectors
    (``distill_connectors.*``), never the teacher: ``--resume`` restores
    student and connectors exactly, the teacher keeps the weights it got
    from ``teacher_ckpt``. A checkpoint without connectors loads into the
    stock student config as it is; ``tools/model_converters/
    distill_to_student.py`` writes the student alone from one with them.

    Args:
        teacher (dict | str): The teacher segmentor's model config, or the
            path of a full config file whose ``model`` is the teacher (an
            ``mmseg::`` path such as ``'mmseg::deeplabv3plus/deeplabv3plus_
            r101-d8_4xb2-80k_cityscapes-512x1024.py'`` works).
        teacher_ckpt (str): Local path or URL of the teacher's weights (a
            checkpoint with a ``state_dict``, or a bare state dict).
        distill_losses (dict): Loss configs keyed by the name of the loss
            item. Each is a registered loss config, optionally with
            ``student_feature`` (a student module name, default
            ``'logits'``), ``teacher_feature`` (default: the same name as
            ``student_feature``) and ``connector`` (a module config, or
            None), e.g. ``dict(loss_kd=dict(type='PixelKDLoss'),
            loss_ickd=dict(type='ICKDLoss', student_feature='decode_head.
            sep_bottleneck', connector=dict(type='ConvBNConnector')))``.
            Names must contain ``'loss'`` (mmengine sums only those).
        alw_kd_losses (Sequence[str], optional): Names in
            ``distill_losses`` on the ``(1 - alpha)`` side of ALW. Defaults
            to ``('loss_kd', )`` if there is a ``loss_kd``, else ``()``.
        skip_nonfinite_loss (bool): What a NaN or inf loss item does in
            training. False (default): raise ``FloatingPointError`` naming
            the loss and the iteration, before the optimizer step. True:
            log a warning and skip the step: the student's BatchNorm
            statistics are restored, and with no gradients the optimizer
            leaves every parameter and its state unchanged (not with
            ``AmpOptimWrapper``, whose scaler needs gradients and skips
            overflowed steps by itself). With several processes, all of
            them raise or skip together.
        teacher_dtype (str, optional): Run the teacher's forward under
            autocast in ``'bfloat16'`` or ``'float16'`` (its weights stay
            float32; its logits and features are cast back to float32, so
            the losses stay float32). None or ``'float32'`` (default): full
            precision.
        **kwargs: The student's ``EncoderDecoder`` arguments (backbone,
            decode_head, auxiliary_head, data_preprocessor, ...).

    Raises:
        KeyError: If a ``distill_losses`` type is not a registered loss or
            connector, or a feature name is not a module of the student /
            teacher (the message lists the closest names).
        ValueError: If the teacher's class count or input normalisation
            (``data_preprocessor`` mean/std/channel order) differ from the
            student's, a distillation loss name is invalid, an
            ``alw_kd_losses`` name is not in ``distill_losses``, or
            ``teacher_dtype`` is unknown.
        FileNotFoundError: If ``teacher_ckpt`` is a local path that does
            not exist.
        RuntimeError: If ``teacher_ckpt`` does not match the teacher
            architecture (missing, unexpected or mis-shaped weights; only
            ``auxiliary_head`` weights, unused by the teacher, may differ),
            or a recorded module does not run in the forward.
    """

    def __init__(self,
                 teacher: Union[ConfigType, str],
                 teacher_ckpt: str,
                 distill_losses: Dict[str, ConfigType],
                 alw_kd_losses: Optional[Sequence[str]] = None,
                 skip_nonfinite_loss: bool = False,
                 teacher_dtype: Optional[str] = None,
                 **kwargs):
        super().__init__(**kwargs)
        # config errors first, before a teacher checkpoint is downloaded
        if teacher_dtype not in (None, *_TEACHER_DTYPES):
            raise ValueError(
                f'teacher_dtype must be one of {list(_TEACHER_DTYPES)} or '
                f'None, got {teacher_dtype!r}')
        self.teacher_dtype = _TEACHER_DTYPES.get(teacher_dtype)
        self.distill_losses = nn.ModuleDict()
        # loss name -> (student map, teacher map): LOGITS or a module name
        self.distill_maps: Dict[str, Tuple[str, str]] = {}
        connector_cfgs = {}
        for name, cfg in distill_losses.items():
            if 'loss' not in name:
                raise ValueError(
                    f'distill_losses key {name!r} must contain "loss", or '
                    'mmengine would log it without optimising it')
            cfg = dict(cfg)
            student_map = cfg.pop('student_feature', LOGITS)
            self.distill_maps[name] = (student_map,
                                        cfg.pop('teacher_feature',
                                                student_map))
            if cfg.get('connector') is not None:
                connector_cfgs[name] = dict(cfg['connector'])
            cfg.pop('connector', None)
            if cfg.setdefault('loss_name', name) != name:
                raise ValueError(
                    f'distill_losses[{name!r}] has loss_name '
                    f'{cfg["loss_name"]!r}; the key is the loss name')
            try:
                self.distill_losses[name] = MODELS.build(cfg)
            except KeyError as e:  # an unknown type: say which entry
                raise KeyError(f'distill_losses[{name!r}]: {e}') from e
        self._loss_takes_labels = {
            name: 'labels' in inspect.signature(loss.forward).parameters
            for name, loss in self.distill_losses.items()
        }
        if alw_kd_losses is None:
            alw_kd_losses = tuple(n for n in ('loss_kd', )
                                  if n in self.distill_losses)
        unknown = set(alw_kd_losses) - set(self.distill_losses)
        if unknown:
            raise ValueError(
                f'alw_kd_losses {sorted(unknown)} are not in distill_losses '
                f'{list(self.distill_losses)}')
        self.alw_kd_losses = tuple(alw_kd_losses)
        self.alw_alpha: Optional[float] = None
        self.skip_nonfinite_loss = skip_nonfinite_loss
        self._buffers_before_step: Optional[list] = None

        teacher_cfg = self.teacher_config(teacher)
        _check_same_preprocessing(kwargs.get('data_preprocessor'),
                                  teacher_cfg.get('data_preprocessor'))
        self.teacher = MODELS.build(teacher_cfg)
        if self.teacher.num_classes != self.num_classes:
            raise ValueError(
                f'the teacher predicts {self.teacher.num_classes} classes and '
                f'the student {self.num_classes}; distillation on logits '
                'needs the same classes in the same order')
        self._load_teacher(teacher_ckpt)
        self.teacher.requires_grad_(False)
        self.teacher.eval()
        # mmengine's BaseModule.init_weights skips children marked as
        # initialised: the teacher's weights are the checkpoint's.
        self.teacher._is_init = True
        self.teacher_ckpt = teacher_ckpt
        # DistributedDataParallel neither broadcasts nor all-reduces these:
        # each rank loads the same frozen teacher from teacher_ckpt.
        self._ddp_params_and_buffers_to_ignore = [
            f'teacher.{name}' for name, _ in self.teacher.named_parameters()
        ] + [f'teacher.{name}' for name, _ in self.teacher.named_buffers()]

        self._student_recorder = ModuleOutputRecorder(
            self, [s for s, _ in self.distill_maps.values() if s != LOGITS],
            role='student', exclude=('teacher', 'distill_'))
        self._teacher_recorder = ModuleOutputRecorder(
            self.teacher,
            [t for _, t in self.distill_maps.values() if t != LOGITS],
            role='teacher')
        # student-side connectors train with the student (DDP all-reduces
        # their gradients like the student's)
        self.distill_connectors = nn.ModuleDict(
            self._build_connectors(connector_cfgs))

        # public hook APIs from torch 2.2 / 2.0; the private ones before
        if hasattr(self, 'register_state_dict_post_hook'):
            self.register_state_dict_post_hook(_drop_teacher_keys)
        else:
            self._register_state_dict_hook(_drop_teacher_keys)
        if hasattr(self, 'register_load_state_dict_pre_hook'):
            self.register_load_state_dict_pre_hook(_keep_teacher_weights)
        else:
            self._register_load_state_dict_pre_hook(
                _keep_teacher_weights, with_module=True)

    @staticmethod
    def teacher_config(teacher: Union[ConfigType, str]) -> ConfigDict:
        """The teacher's model config from a dict, a config file path or
        a package config (``'mmseg::path/in/its/configs.py'``)."""
        if not isinstance(teacher, str):
            return ConfigDict(teacher)
        if '::' in teacher:  # Config.fromfile only resolves these in _base_
            return get_config(teacher).model
        return Config.fromfile(teacher).model

    def _load_teacher(self, filename: str) -> None:
        """Load ``teacher_ckpt`` into the teacher, all keys its forward uses
        required."""
        if '://' not in filename and not osp.isfile(filename):
            raise FileNotFoundError(
                f'teacher_ckpt {filename!r} does not exist. Train the '
                'teacher first, or set model.teacher_ckpt to its checkpoint '
                '(a local path or URL).')
        checkpoint = _load_checkpoint(filename, map_location='cpu')
        state_dict = checkpoint.get('state_dict', checkpoint)
        state_dict = {
            k[len('module.'):] if k.startswith('module.') else k: v
            for k, v in state_dict.items()
        }
        try:
            result = self.teacher.load_state_dict(state_dict, strict=False)
        except RuntimeError as e:  # raised for shape mismatches
            raise RuntimeError(f'teacher_ckpt {filename!r} does not fit '
                               f'the teacher config: {e}') from e
        ignored = [
            k for k in result.missing_keys + result.unexpected_keys
            if k.startswith(_UNUSED_TEACHER_KEYS)
        ]
        missing = [
            k for k in result.missing_keys
            if k not in ignored and not k.endswith('num_batches_tracked')
        ]
        unexpected = [k for k in result.unexpected_keys if k not in ignored]
        if missing or unexpected:
            raise RuntimeError(
                f'teacher_ckpt {filename!r} does not match the teacher '
                f'config: {len(missing)} missing keys {missing[:5]}, '
                f'{len(unexpected)} unexpected keys {unexpected[:5]}. Is it '
                'a checkpoint of the teacher architecture?')
        if ignored:
            print_log(
                f'teacher_ckpt {filename!r}: {len(ignored)} auxiliary_head '
                'weights differ from the teacher config; the teacher does '
                'not use them', logger='current', level=logging.WARNING)

    def _build_connectors(self, cfgs: Dict[str, dict]) -> Dict[str, nn.Module]:
        """Build the connectors, filling in missing channel counts.

        Args:
            cfgs (dict[str, dict]): Connector config per loss name.

        Returns:
            dict[str, nn.Module]: The connectors, keyed like ``cfgs``.

        Raises:
            KeyError: If a connector type is not registered.
            RuntimeError: If a recorded module does not run in the probe
                forward.
        """
        missing = [
            name for name, cfg in cfgs.items()
            if 'in_channels' not in cfg or 'out_channels' not in cfg
        ]
        channels = self._probe_channels(missing) if missing else {}
        connectors = {}
        for name, cfg in cfgs.items():
            for key, value in zip(('in_channels', 'out_channels'),
                                  channels.get(name, ())):
                cfg.setdefault(key, value)
            try:
                connectors[name] = MODELS.build(cfg)
            except KeyError as e:
                raise KeyError(
                    f'distill_losses[{name!r}] connector: {e}') from e
        return connectors

    def _probe_channels(self, names: Sequence[str]
                        ) -> Dict[str, Tuple[int, int]]:
        """(student, teacher) channels of the maps of the losses ``names``,
        from one eval-mode forward of both models on a zero image."""
        was_training = self.training
        self.eval()
        inputs = torch.zeros(1, 3, *_PROBE_SIZE)
        with torch.no_grad(), self._student_recorder.recording(), \
                self._teacher_recorder.recording():
            x = self.extract_feat(inputs)
            student_logits = self.decode_head.forward(x)
            if self.with_auxiliary_head:
                self.auxiliary_head.forward(x)
            teacher_logits = self.teacher(inputs, mode='tensor')
        self.train(was_training)
        channels = {}
        for name in names:
            student_map, teacher_map = self.distill_maps[name]
            s = self._recorded(self._student_recorder, student_map,
                               student_logits)
            t = self._recorded(self._teacher_recorder, teacher_map,
                               teacher_logits)
            channels[name] = (s.shape[1], t.shape[1])
        return channels

    @staticmethod
    def _recorded(recorder: ModuleOutputRecorder, name: str,
                  logits: Tensor) -> Tensor:
        """The logits, or the recorded output of module ``name``."""
        return logits if name == LOGITS else recorder.get(name)

    def set_alw_alpha(self, alpha: float) -> None:
        """Set the ALW weight alpha in [0, 1] (AICSD Eq. 6).

        Raises:
            ValueError: If alpha is outside [0, 1].
        """
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f'ALW alpha must be in [0, 1], got {alpha}')
        self.alw_alpha = float(alpha)

    def train(self, mode: bool = True) -> 'DistillEncoderDecoder':
        """Set the student's mode; the teacher always stays in eval mode."""
        super().train(mode)
        self.teacher.eval()
        return self

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Supervised and distillation losses of a batch.

        Args:
            inputs (Tensor): Preprocessed images, shape (B, 3, H, W).
            data_samples (list[:obj:`SegDataSample`]): With ``gt_sem_seg``.

        Returns:
            dict[str, Tensor]: ``decode.*`` and ``aux.*`` items of the
            student's heads and one item per distillation loss, weighted by
            alpha / (1 - alpha) when ALW is active.

        Raises:
            ValueError: If a sample has no ``gt_sem_seg`` (an image without
                labels), or student and teacher logits cannot be matched
                (different batch size or class count, other aspect ratio).
        """
        unlabelled = [
            sample.metainfo.get('img_path', f'sample {i}')
            for i, sample in enumerate(data_samples)
            if 'gt_sem_seg' not in sample
        ]
        if unlabelled:
            raise ValueError(
                f'{len(unlabelled)} training images have no labels '
                f'(gt_sem_seg), e.g. {unlabelled[0]!r}: the train pipeline '
                'needs LoadAnnotations and the dataset its ann_dir / '
                'seg_map_path')
        if self.skip_nonfinite_loss:
            # the forward moves BatchNorm statistics: kept to undo a skip
            self._buffers_before_step = [
                b.clone() for _, b in self._student_buffers()
            ]
        with self._student_recorder.recording():
            x = self.extract_feat(inputs)
            # forward + loss_by_feat (what decode_head.loss does), keeping
            # the logits for distillation instead of running the head twice
            student_logits = self.decode_head.forward(x)
            losses = add_prefix(
                self.decode_head.loss_by_feat(student_logits, data_samples),
                'decode')
            if self.with_auxiliary_head:
                losses.update(
                    self._auxiliary_head_forward_train(x, data_samples))

        with torch.no_grad(), self._teacher_recorder.recording():
            teacher_logits = self._teacher_forward(inputs)
        losses.update(
            self._distill_loss(student_logits, teacher_logits, data_samples))

        if self.alw_alpha is not None:
            for name in losses:
                if 'loss' in name:
                    weight = (1.0 - self.alw_alpha if name
                              in self.alw_kd_losses else self.alw_alpha)
                    losses[name] = losses[name] * weight
        return losses


    def _teacher_forward(self, inputs: Tensor) -> Tensor:
        """The teacher's logits, under autocast if ``teacher_dtype`` is
        set (then in float32, as its recorded features)."""
        if self.teacher_dtype is None:
            return self.teacher(inputs, mode='tensor')
        with torch.autocast(inputs.device.type, dtype=self.teacher_dtype):
            logits = self.teacher(inputs, mode='tensor')
        outputs = self._teacher_recorder.outputs
        for name, output in outputs.items():
            if isinstance(output, Tensor) and output.is_floating_point():
                outputs[name] = output.float()
        return logits.float()

    def _distill_loss(self, student_logits: Tensor, teacher_logits: Tensor,
                      data_samples: SampleList) -> Dict[str, Tensor]:
        """Each distillation loss on its (student, teacher) pair of maps:
        logits or recorded module outputs, the student's through its
        connector, with labels at the teacher map's size if it takes them.
        """
        losses, labels = {}, {}
        for name, loss_fn in self.distill_losses.items():
            student_map, teacher_map = self.distill_maps[name]
            student = self._recorded(self._student_recorder, student_map,
                                     student_logits)
            teacher = self._recorded(self._teacher_recorder, teacher_map,
                                     teacher_logits)
            if name in self.distill_connectors:
                try:
                    student = self.distill_connectors[name](student)
                except (ValueError, RuntimeError) as e:
                    raise ValueError(
                        f'distill_losses[{name!r}]: the connector cannot map '
                        f'the student map {student_map!r} of shape '
                        f'{tuple(student.shape)} to the teacher map '
                        f'{teacher_map!r} of shape {tuple(teacher.shape)}: '
                        f'{e}') from e
            kwargs = {}
            if self._loss_takes_labels[name]:
                size = tuple(teacher.shape[-2:])
                if size not in labels:
                    labels[size] = resize_labels(data_samples, size)
                kwargs['labels'] = labels[size]
            losses[name] = loss_fn(student, teacher, **kwargs)
        return losses

    def parse_losses(self, losses: Dict[str, Tensor]
                     ) -> Tuple[Tensor, Dict[str, Tensor]]:
        """mmengine's sum of the loss items, refusing non-finite values.

        A NaN or inf in any loss item would otherwise reach the optimizer
        and silently corrupt the weights (the next checkpoint too).

        Args:
            losses (dict[str, Tensor]): The loss items of :meth:`loss`.

        Returns:
            tuple[Tensor, dict[str, Tensor]]: The loss to optimise and the
            items to log, as :meth:`BaseModel.parse_losses`. When a step is
            skipped, the loss is a zero unconnected to the parameters.

        Raises:
            FloatingPointError: If an item is NaN or inf (on any process)
                and ``skip_nonfinite_loss`` is False; the message names the
                items and the iteration.
        """
        loss, log_vars = super().parse_losses(losses)
        # the optimised items (mmengine sums those), not logged metrics
        names = [name for name in log_vars if 'loss' in name]
        values = torch.stack([log_vars[name].detach().float()
                              for name in names])
        # one flag for all processes: they raise or skip together, or the
        # others would wait forever in DDP's gradient all-reduce
        flag = (~torch.isfinite(values)).any().float()
        all_reduce(flag)
        if not flag.item():
            return loss, log_vars
        nonfinite = {
            name: value.item()
            for name, value in zip(names, values)
            if name != 'loss' and not torch.isfinite(value)
        }
        it = MessageHub.get_current_instance().get_info('iter')
        where = 'outside a training loop' if it is None \
            else f'at iteration {it + 1}'
        what = (', '.join(f'{name}={value}'
                          for name, value in nonfinite.items())
                or 'on another process')
        if not self.skip_nonfinite_loss:
            raise FloatingPointError(
                f'non-finite loss {where}: {what}. Stopped before the '
                'optimizer step, so the weights and the last checkpoint are '
                'intact. Usual causes: a teacher that outputs NaN/inf (check '
                'teacher_ckpt), a too-high learning rate, fp16 overflow. Set '
                'model.skip_nonfinite_loss=True to skip such steps instead.')
        print_log(f'non-finite loss {where}: {what}; step skipped '
                  '(skip_nonfinite_loss=True)', logger='current',
                  level=logging.WARNING)
        if self._buffers_before_step is not None:
            for (_, buf), saved in zip(self._student_buffers(),
                                       self._buffers_before_step):
                buf.copy_(saved)
        return loss.new_zeros((), requires_grad=True), log_vars

    def _student_buffers(self):
        """(name, buffer) of the student: BatchNorm statistics."""
        return ((name, buf) for name, buf in self.named_buffers()
                if not name.startswith('teacher.'))


def _check_same_preprocessing(student_cfg: Optional[dict],
                              teacher_cfg: Optional[dict]) -> None:
    """Raise ValueError if the teacher expects other input normalisation."""
    student_cfg, teacher_cfg = student_cfg or {}, teacher_cfg or {}
    for key in _PREPROCESS_KEYS:
        s, t = student_cfg.get(key), teacher_cfg.get(key)
        if isinstance(s, Sequence) and isinstance(t, Sequence):
            s, t = [float(v) for v in s], [float(v) for v in t]
        if s != t:
            raise ValueError(
                f'the teacher data_preprocessor has {key}={t} and the '
                f'student {key}={s}: the teacher runs on the student\'s '
                'preprocessed batch, so they must normalise alike')


def _drop_teacher_keys(module: nn.Module, state_dict: dict, prefix: str,
                       local_metadata: dict) -> None:
    """state_dict hook: checkpoints hold the student only."""
    for key in [k for k in state_dict if k.startswith(prefix + 'teacher.')]:
        del state_dict[key]


def _keep_teacher_weights(module: nn.Module, state_dict: dict, prefix: str,
                          *args) -> None:
    """load_state_dict pre-hook: a student-only checkpoint keeps the
    teacher's weights from ``teacher_ckpt`` instead of reporting them
    missing."""
    for key, value in module.teacher.state_dict().items():
        state_dict.setdefault(prefix + 'teacher.' + key, value)
