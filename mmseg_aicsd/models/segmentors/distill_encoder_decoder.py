# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Distillation segmentor for AICSD (arXiv 2308.04243, Eq. 5-6) and the
logit- and feature-level baselines it is compared with: the student's
``EncoderDecoder`` wired to a frozen teacher (:mod:`..distillers.
frozen_teacher`), a set of distillation losses (:class:`..distillers.
DistillLossSet`) and a non-finite loss guard (:class:`..utils.
NonFiniteLossGuard`)."""
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor, nn

from mmseg.models.segmentors import CascadeEncoderDecoder, EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList, add_prefix
from ...utils import teacher_config
from ..distillers import (LOGITS, DistillLossSet, TeacherLogitCache,
                          build_frozen_teacher, ddp_ignore_names,
                          keep_out_of_checkpoints)
from ..distillers import teacher_dtype as parse_teacher_dtype
from ..distillers import teacher_forward
from ..utils import NonFiniteLossGuard, check_label_values, check_labelled

# Input of the forward that finds the channels of connector-mapped maps.
_PROBE_SIZE = (64, 64)


@MODELS.register_module()
class DistillEncoderDecoder(EncoderDecoder):
    """An :class:`EncoderDecoder` student distilled from a frozen teacher.

    The student is configured exactly like a stock ``EncoderDecoder`` (all
    keyword arguments other than the ones below go to it). In training, the
    teacher segmentor runs under ``no_grad`` on the student's preprocessed
    batch (:meth:`distill_forward`, the one forward of both), and each loss
    in ``distill_losses`` is applied to a pair of maps of it: the logits
    (default; the decode heads' ``conv_seg`` outputs, (B, C, H/4, W/4) for
    DeepLabV3+) or the outputs of named modules, the student's through an
    optional connector whose channels may be left out (read from a forward
    of a 1x3x64x64 zero image at build time); see :class:`~mmseg_aicsd.
    models.distillers.DistillLossSet`.

    Loss weighting:

    - Without alpha set (no :class:`~mmseg_aicsd.engine.hooks.ALWHook`):
      the student's supervised losses and every distillation loss add up,
      each with its own ``loss_weight`` (AICSD Eq. 5).
    - With ``ALWHook``: it sets a scale per loss item
      (:meth:`set_loss_scales`): ``1 - alpha`` for the losses named in
      ``alw_kd_losses``, ``alpha`` for every other loss item (Eq. 6, see
      :func:`~mmseg_aicsd.engine.hooks.alw_loss_scales`). The logged values
      are the scaled ones, i.e. what is optimised.

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
            item (with ``'loss'`` in it), each optionally with
            ``student_feature``, ``teacher_feature`` and ``connector``, e.g.
            ``dict(loss_kd=dict(type='PixelKDLoss'), loss_ickd=dict(type=
            'ICKDLoss', student_feature='decode_head.sep_bottleneck',
            connector=dict(type='ConvBNConnector')))``.
        alw_kd_losses (Sequence[str], optional): Names in
            ``distill_losses`` on the ``(1 - alpha)`` side of ALW. Defaults
            to ``('loss_kd', )`` if there is a ``loss_kd``, else ``()``.
        skip_nonfinite_loss (bool): What a NaN or inf loss item does in
            training. False (default): raise ``FloatingPointError`` naming
            the loss and the iteration, before the optimizer step. True:
            warn and skip the step, BatchNorm statistics restored, and
            raise at the 10th skipped step in a row (see
            :class:`~mmseg_aicsd.models.utils.NonFiniteLossGuard`).
        teacher_cache (str, optional): A folder of the teacher's logits of
            every training image (``tools/misc/build_teacher_cache.py``):
            training cuts each sample's teacher logits from it by the
            sample's resize, crop and flip (:class:`~mmseg_aicsd.models.
            distillers.TeacherLogitCache`) instead of running the teacher.
            Logit-level losses only; the pipeline must record the crop box
            (``RandomCropWithBox``, ``'crop_bbox'`` in ``PackSegInputs``'
            ``meta_keys``). None (default): the teacher runs every step.
        teacher_dtype (str, optional): The precision of the teacher's
            forward: ``'bfloat16'`` or ``'float16'`` (autocast),
            ``'float32'`` (float32 even under AMP), or None (default): as
            the student's forward runs (float32, or AMP's dtype under
            ``AmpOptimWrapper``). Its outputs are cast to float32 in every
            case, so the losses stay float32.
        **kwargs: The student's ``EncoderDecoder`` arguments (backbone,
            decode_head, auxiliary_head, data_preprocessor, ...).

    Raises:
        KeyError: If a ``distill_losses`` type is not a registered loss or
            connector, or a feature name is not a module of the student /
            teacher (the message lists the closest names).
        TypeError: If a ``distill_losses`` ``loss_weight`` is not a
            number.
        ValueError: If ``decode_head`` is a list (a cascade student: see
            :class:`DistillCascadeEncoderDecoder`), the teacher's class
            count or input normalisation (``data_preprocessor``
            mean/std/channel order) differ from the student's, a
            distillation loss name is invalid, an ``alw_kd_losses`` name
            is not in ``distill_losses``, ``teacher_dtype`` is unknown, or
            ``teacher_cache`` is set with a loss on features or was built
            for another teacher.
        FileNotFoundError: If ``teacher_ckpt`` is a local path that does
            not exist.
        IsADirectoryError: If ``teacher_ckpt`` is a directory.
        RuntimeError: If ``teacher_ckpt`` cannot be read as a checkpoint
            (truncated, another kind of file) or does not match the teacher
            architecture (missing, unexpected or mis-shaped weights,
            summarised; only ``auxiliary_head`` weights, unused by the
            teacher, may differ), or a recorded module does not run in the
            forward.
    """

    teacher_config = staticmethod(teacher_config)

    def __init__(self,
                 teacher: Union[ConfigType, str],
                 teacher_ckpt: str,
                 distill_losses: Dict[str, ConfigType],
                 alw_kd_losses: Optional[Sequence[str]] = None,
                 skip_nonfinite_loss: bool = False,
                 teacher_dtype: Optional[str] = None,
                 teacher_cache: Optional[str] = None,
                 **kwargs):
        if isinstance(kwargs.get('decode_head'), (list, tuple)) and \
                not isinstance(self, CascadeEncoderDecoder):
            raise ValueError(
                'decode_head is a list of heads, a cascade segmentor '
                "(OCRNet): use type='DistillCascadeEncoderDecoder' with "
                'num_stages, as the stock CascadeEncoderDecoder config')
        super().__init__(**kwargs)
        # config errors first, before a teacher checkpoint is downloaded
        self.teacher_dtype = parse_teacher_dtype(teacher_dtype)
        self.distill_loss_set = DistillLossSet(distill_losses)
        self.distill_losses = self.distill_loss_set.losses
        self.distill_maps = self.distill_loss_set.maps
        self.alw_kd_losses = self.distill_loss_set.kd_losses(alw_kd_losses)
        self.loss_scales: Optional[Tuple[float, Dict[str, float]]] = None
        self.skip_nonfinite_loss = skip_nonfinite_loss
        self.nonfinite_guard = NonFiniteLossGuard(self._student_buffers,
                                                  skip_nonfinite_loss)

        self.teacher = build_frozen_teacher(teacher, teacher_ckpt,
                                            kwargs.get('data_preprocessor'),
                                            self.num_classes)
        self.teacher_ckpt = teacher_ckpt
        self.teacher_cache: Optional[TeacherLogitCache] = None
        # DistributedDataParallel neither broadcasts nor all-reduces these
        self._ddp_params_and_buffers_to_ignore = ddp_ignore_names(self.teacher)
        self.distill_loss_set.attach(self, self.teacher)
        # student-side connectors train with the student (DDP all-reduces
        # their gradients like the student's)
        self.distill_loss_set.build_connectors(self._probe)
        self.distill_connectors = self.distill_loss_set.connectors
        keep_out_of_checkpoints(self)
        if teacher_cache:
            self.teacher_cache = self._open_cache(teacher_cache, teacher)

    def _open_cache(self, cache_dir: str, teacher) -> TeacherLogitCache:
        """The teacher cache, for logit-level losses only."""
        features = [
            name for name, maps in self.distill_maps.items()
            if maps != (LOGITS, LOGITS)
        ]
        if features:
            raise ValueError(
                f'teacher_cache holds logits only, but {features} compare '
                'features; train them with the online teacher '
                '(teacher_cache=None)')
        return TeacherLogitCache(cache_dir, teacher_config(teacher),
                                 self.teacher_ckpt)

    def distill_forward(
        self,
        inputs: Tensor,
        data_samples: Optional[SampleList] = None
    ) -> Tuple[Tuple[Tensor, ...], Tensor, Tensor]:
        """The one forward of the student and the teacher.

        The maps the losses compare are recorded if it runs inside
        ``distill_loss_set.recording()``.

        Args:
            inputs (Tensor): Preprocessed images, shape (B, 3, H, W).
            data_samples (list[:obj:`SegDataSample`], optional): Their
                samples; with ``teacher_cache``, the teacher's logits are
                cut from the cache by their metainfo, at the student's
                logit size, instead of a teacher forward.

        Returns:
            tuple: The student's features (``extract_feat``: backbone /
            neck outputs), the student's logits (B, C, H/4, W/4 for
            DeepLabV3+; the decode head's ``forward``, a cascade's last
            stage, see :meth:`decode_stages`) and the teacher's
            logits (no gradient; float32 whatever ``teacher_dtype``).
        """
        x, stage_logits, teacher_logits = self._distill_forward(
            inputs, data_samples)
        return x, stage_logits[-1], teacher_logits

    def _distill_forward(
        self,
        inputs: Tensor,
        data_samples: Optional[SampleList] = None
    ) -> Tuple[Tuple[Tensor, ...], List[Tensor], Tensor]:
        """:meth:`distill_forward` with every decode stage's logits (one
        for an ``EncoderDecoder``, the last the student's logits)."""
        x = self.extract_feat(inputs)
        stage_logits = self.decode_stages(x)
        if self.teacher_cache and data_samples is not None:
            teacher_logits = self.teacher_cache.logits(
                [s.metainfo for s in data_samples], inputs.shape[2:],
                stage_logits[-1].shape[2:], inputs.device)
            return x, stage_logits, teacher_logits
        teacher_logits = teacher_forward(
            self.teacher, inputs, self.teacher_dtype,
            self.distill_loss_set.teacher_recorder)
        return x, stage_logits, teacher_logits

    def decode_stages(self, x: Tuple[Tensor, ...]) -> List[Tensor]:
        """The decode head's logits of the student's features ``x``.

        Returns:
            list[Tensor]: ``[decode_head.forward(x)]``, (B, C, h, w). A
            cascade segmentor returns one map per stage, the last one its
            logits (see :class:`DistillCascadeEncoderDecoder`).
        """
        return [self.decode_head.forward(x)]

    def decode_losses(self, stage_logits: List[Tensor],
                      data_samples: SampleList) -> Dict[str, Tensor]:
        """The decode head's supervised losses (``decode.*``) on the logits
        :meth:`decode_stages` computed: what ``decode_head.loss`` does,
        without running the head twice."""
        return add_prefix(
            self.decode_head.loss_by_feat(stage_logits[-1], data_samples),
            'decode')

    def _probe(self) -> Tuple[Tensor, Tensor]:
        """(student, teacher) logits of an eval-mode forward of a 1x3x64x64
        zero image, the auxiliary head run too (for its modules' maps)."""
        was_training = self.training
        self.eval()
        with torch.no_grad():
            x, student_logits, teacher_logits = self.distill_forward(
                torch.zeros(1, 3, *_PROBE_SIZE))
            if self.with_auxiliary_head:
                self.auxiliary_head.forward(x)
        self.train(was_training)
        return student_logits, teacher_logits

    def set_loss_scales(self,
                        default: Optional[float],
                        scales: Mapping[str, float] = {}) -> None:
        """Scale the loss items of :meth:`loss` (ALW, AICSD Eq. 6).

        Args:
            default (float, optional): Scale of every loss item (name with
                ``'loss'``) not in ``scales``; None: no scaling at all.
            scales (Mapping[str, float]): Scales by loss item name.
        """
        self.loss_scales = None if default is None else (float(default),
                                                         dict(scales))

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
            dict[str, Tensor]: ``decode.*`` (``decode_<i>.*`` for a cascade)
            and ``aux.*`` items of the student's heads and one item per
            distillation loss, scaled by :meth:`set_loss_scales` when ALW
            is active.

        Raises:
            ValueError: If a sample has no ``gt_sem_seg`` (an image without
                labels) or a label that is neither a class nor the decode
                head's ``ignore_index``, or student and teacher logits
                cannot be matched (different batch size or class count,
                other aspect ratio).
        """
        check_labelled(data_samples)
        # a cascade's decode_head is a list of heads: the last one's
        head = self.decode_head
        head = head[-1] if isinstance(head, nn.ModuleList) else head
        check_label_values(data_samples, self.num_classes, head.ignore_index)
        # the forward moves BatchNorm statistics: kept to undo a skip
        self.nonfinite_guard.before_forward()
        with self.distill_loss_set.recording():
            x, stage_logits, teacher_logits = self._distill_forward(
                inputs, data_samples)
            losses = self.decode_losses(stage_logits, data_samples)
            if self.with_auxiliary_head:
                losses.update(
                    self._auxiliary_head_forward_train(x, data_samples))
            losses.update(
                self.distill_loss_set(stage_logits[-1], teacher_logits,
                                      data_samples))
        if self.loss_scales is not None:
            default, scales = self.loss_scales
            for name in losses:
                if 'loss' in name:
                    losses[name] = losses[name] * scales.get(name, default)
        return losses

    def parse_losses(
            self, losses: Dict[str,
                               Tensor]) -> Tuple[Tensor, Dict[str, Tensor]]:
        """mmengine's sum of the loss items, refusing non-finite values
        (see :class:`~mmseg_aicsd.models.utils.NonFiniteLossGuard`).

        Raises:
            FloatingPointError: If an item is NaN or inf (on any process)
                and ``skip_nonfinite_loss`` is False.
        """
        return self.nonfinite_guard(*super().parse_losses(losses))

    def _student_buffers(self):
        """The student's buffers (BatchNorm statistics), in order."""
        return (buf for name, buf in self.named_buffers()
                if not name.startswith('teacher.'))
