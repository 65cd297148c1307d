# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Tiny stand-ins of mmseg architectures (random weights, under 0.2 M
parameters each), for the tests of teachers and students of any
segmentor: DeepLabV3+, PSPNet and OCRNet on a ResNetV1c of 8 base
channels, and SegFormer on a MiT of 8 embedding channels. All share one input
normalisation and 5 classes."""
import copy

import torch
from mmengine.config import ConfigDict

from mmseg.registry import MODELS

NUM_CLASSES = 5
PREPROCESSOR = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255)
BN = dict(type='BN', requires_grad=True)
# stage channels of tiny_resnet(): 8, 16, 32, 64 (output stride 8)
RESNET_CHANNELS = (8, 16, 32, 64)


def _head(**kwargs):
    """Common decode head arguments (no dropout: deterministic losses)."""
    return dict(
        dropout_ratio=0.0,
        num_classes=NUM_CLASSES,
        norm_cfg=BN,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0),
        **kwargs)


def tiny_resnet():
    """ResNetV1c-18-D8 with 8 base channels: strides 4, 8, 8, 8."""
    return dict(
        type='ResNetV1c',
        depth=18,
        stem_channels=8,
        base_channels=8,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 2, 4),
        strides=(1, 2, 1, 1),
        norm_cfg=BN,
        contract_dilation=True)


def _segmentor(backbone, decode_head, type='EncoderDecoder', **kwargs):
    return ConfigDict(
        type=type,
        data_preprocessor=copy.deepcopy(PREPROCESSOR),
        pretrained=None,
        backbone=backbone,
        decode_head=decode_head,
        train_cfg=dict(),
        test_cfg=dict(mode='whole'),
        **kwargs)


def deeplabv3plus(channels=8):
    """DeepLabV3+ (ASPP + low-level fusion), logits at stride 4."""
    return _segmentor(
        tiny_resnet(),
        _head(
            type='DepthwiseSeparableASPPHead',
            in_channels=64,
            in_index=3,
            channels=channels,
            dilations=(1, 2, 3, 4),
            c1_in_channels=8,
            c1_channels=4))


def pspnet(channels=8):
    """PSPNet (pyramid pooling), logits at stride 8."""
    return _segmentor(
        tiny_resnet(),
        _head(
            type='PSPHead',
            in_channels=64,
            in_index=3,
            channels=channels,
            pool_scales=(1, 2, 3, 6)))


def segformer(embed_dims=8):
    """SegFormer on a 4-stage MiT (``embed_dims`` x (1, 2, 4, 8)
    channels at strides 4, 8, 16, 32), logits at stride 4."""
    return _segmentor(
        dict(
            type='MixVisionTransformer',
            in_channels=3,
            embed_dims=embed_dims,
            num_stages=4,
            num_layers=[1, 1, 1, 1],
            num_heads=[1, 2, 4, 8],
            patch_sizes=[7, 3, 3, 3],
            sr_ratios=[8, 4, 2, 1],
            out_indices=(0, 1, 2, 3),
            mlp_ratio=2,
            drop_rate=0.0,
            attn_drop_rate=0.0,
            drop_path_rate=0.0),
        _head(
            type='SegformerHead',
            in_channels=[embed_dims * k for k in (1, 2, 4, 8)],
            in_index=[0, 1, 2, 3],
            channels=16))


def ocrnet(type='CascadeEncoderDecoder'):
    """OCRNet: a ``CascadeEncoderDecoder`` whose ``decode_head`` is a list,
    an FCN head (soft object regions) then the OCR head, logits at
    stride 8."""
    return _segmentor(
        tiny_resnet(), [
            _head(
                type='FCNHead',
                in_channels=32,
                in_index=2,
                channels=8,
                num_convs=1,
                concat_input=False),
            _head(
                type='OCRHead',
                in_channels=64,
                in_index=3,
                channels=8,
                ocr_channels=8)
        ],
        type=type,
        num_stages=2)


def save_checkpoint(cfg, path, seed=0):
    """Build ``cfg`` with random weights (seeded) and save it the way
    mmengine saves a checkpoint; returns ``path`` as a str."""
    torch.manual_seed(seed)
    model = MODELS.build(cfg)
    torch.save(dict(meta=dict(iter=1), state_dict=model.state_dict()), path)
    return str(path)
