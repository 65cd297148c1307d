# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""A stand-in for ``mmcv.ops`` where mmcv's compiled ops are missing
(mmcv-lite): mmseg imports a few ops at module level (``point_sample``,
``sigmoid_focal_loss``, ...), so ``import mmseg.models`` fails without
them, though the models of the GPU check (ResNet, ASPP, the DeepLabV3+
heads) use none. Every name resolves to a placeholder that raises
``NotImplementedError`` when called."""


class _Missing:

    def __init__(self, name):
        self.name = name

    def __call__(self, *args, **kwargs):
        raise NotImplementedError(
            f'mmcv.ops.{self.name} is not available: mmcv-lite has no '
            'compiled ops')

    def __mro_entries__(self, bases):
        return (object, )


def __getattr__(name):
    if name.startswith('__'):
        raise AttributeError(name)
    return _Missing(name)
