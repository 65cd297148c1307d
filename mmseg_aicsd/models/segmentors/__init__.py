# Copyright (c) mmseg_aicsd contributors. All rights reserved.
from .distill_cascade_encoder_decoder import DistillCascadeEncoderDecoder
from .distill_encoder_decoder import DistillEncoderDecoder

__all__ = ['DistillEncoderDecoder', 'DistillCascadeEncoderDecoder']
