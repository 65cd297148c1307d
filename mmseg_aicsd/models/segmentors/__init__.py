# Copyright (c) mmseg_aicsd contributors. All rights reserved.
from .distill_encoder_decoder import DistillEncoderDecoder

__all__ = ['DistillEncoderDecoder']
