# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""AICSD knowledge distillation for MMSegmentation 1.x.

Importing this package registers in mmseg's registries the distillation
losses (``ICSDLoss``, ``PixelKDLoss``, ``ATLoss``, ``SPLoss``,
``SKDPairwiseLoss``, ``ICKDLoss``, ``CWDLoss``, and the reconstructed
``I2CKDLoss`` and ``IDDLoss``), ``ConvBNConnector``,
``DistillEncoderDecoder``, the hooks ``ALWHook``, ``TeacherEvalHook`` and
``WriteFirstCheckpointHook``, ``KeepConfigRunner`` and ``CamVidDataset``,
and lets ``torch.load`` read mmengine's resume checkpoints (see
:mod:`mmseg_aicsd.engine.checkpoint`). It also makes
``mmseg_aicsd::<method>/<config>.py`` config paths resolve (see
:mod:`mmseg_aicsd.mim`).
"""
from . import datasets, engine, mim, models, registry  # noqa: F401
from .version import __version__

__all__ = ['__version__']
