# Copyright (c) mmseg_aicsd contributors. All rights reserved.
from .conv_bn_connector import ConvBNConnector

__all__ = ['ConvBNConnector']
