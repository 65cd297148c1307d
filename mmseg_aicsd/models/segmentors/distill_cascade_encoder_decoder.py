# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Distillation segmentor for a cascade student (OCRNet, ...)."""
from typing import Dict, List, Tuple

from torch import Tensor

from mmseg.models.segmentors import CascadeEncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList, add_prefix
from .distill_encoder_decoder import DistillEncoderDecoder


@MODELS.register_module()
class DistillCascadeEncoderDecoder(DistillEncoderDecoder,
                                   CascadeEncoderDecoder):
    """A :class:`CascadeEncoderDecoder` student distilled from a frozen
    teacher.

    Configured like a stock ``CascadeEncoderDecoder`` (``num_stages`` and
    a list of ``decode_head`` configs, e.g. OCRNet's FCN head and OCR
    head) plus the distillation arguments of :class:`DistillEncoderDecoder`,
    whose training step, teacher, losses, connectors and checkpoints it
    shares unchanged. Only the decoding differs: the stages run once in
    cascade (:meth:`decode_stages`), each stage's supervised loss is taken
    on its own output (``decode_<i>.*``, as ``CascadeEncoderDecoder``
    logs them), and the distillation losses compare the last stage's
    logits (or any named modules, e.g. ``decode_head.1.bottleneck``).
    Inference, ``predict`` and ``tensor`` mode are
    ``CascadeEncoderDecoder``'s; a student-only checkpoint loads into the
    stock ``CascadeEncoderDecoder`` config. The teacher may be any mmseg
    segmentor, a cascade one included: its logits are its ``tensor``-mode
    output, the last stage's.

    Args:
        **kwargs: The arguments of :class:`DistillEncoderDecoder` and of
            ``CascadeEncoderDecoder`` (``num_stages``, ``decode_head`` as
            a list of ``num_stages`` configs, ...).

    Raises:
        ValueError: If ``decode_head`` is not a list of ``num_stages``
            configs; else as :class:`DistillEncoderDecoder`.
        KeyError, FileNotFoundError, RuntimeError: As
            :class:`DistillEncoderDecoder`.
    """

    def __init__(self, num_stages: int, decode_head: List[ConfigType],
                 **kwargs):
        heads = len(decode_head) if isinstance(decode_head,
                                               (list, tuple)) else None
        if heads != num_stages:
            raise ValueError(
                f'a cascade student with num_stages={num_stages} needs '
                'decode_head as a list of that many head configs (OCRNet: '
                'the FCN head, then the OCR head); got '
                f'{heads if heads is not None else "one"} head config(s). '
                'A student with one decode head is a DistillEncoderDecoder.')
        super().__init__(
            num_stages=num_stages, decode_head=list(decode_head), **kwargs)

    def decode_stages(self, x: Tuple[Tensor, ...]) -> List[Tensor]:
        """The stages' outputs, each stage taking the previous one's.

        Returns:
            list[Tensor]: ``num_stages`` maps, (B, C, h, w) each (OCRNet:
            the FCN head's soft object regions, then the OCR head's
            logits).
        """
        outputs = [self.decode_head[0].forward(x)]
        for head in self.decode_head[1:]:
            outputs.append(head.forward(x, outputs[-1]))
        return outputs

    def decode_losses(self, stage_logits: List[Tensor],
                      data_samples: SampleList) -> Dict[str, Tensor]:
        """Each stage's supervised loss on its own output, as
        ``decode_<i>.*`` (``CascadeEncoderDecoder``'s items, without its
        second forward of the earlier stages)."""
        losses = {}
        for i, (head,
                logits) in enumerate(zip(self.decode_head, stage_logits)):
            losses.update(
                add_prefix(
                    head.loss_by_feat(logits, data_samples), f'decode_{i}'))
        return losses
