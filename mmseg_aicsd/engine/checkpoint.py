# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Let ``torch.load(weights_only=True)`` read mmengine checkpoints.

Since torch 2.6, ``torch.load`` defaults to ``weights_only=True``, which
unpickles only allow-listed types. mmengine 0.10.x calls ``torch.load``
without the argument, and its checkpoints keep the message hub's
``HistoryBuffer`` objects (numpy arrays inside) for resuming, so
``--resume`` fails with an ``UnpicklingError``. Rather than turning the
check off (``weights_only=False`` would run any pickle), this allow-lists
exactly the types that mmengine writes.
"""
import numpy as np
import torch
from mmengine.logging import HistoryBuffer


def _numpy_globals() -> list:
    """The numpy reconstructors and dtype classes that pickled arrays and
    scalars reference (``numpy._core`` since numpy 2, ``numpy.core``
    before)."""
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy < 2
        from numpy.core import multiarray
    dtype_classes = [type(np.dtype(t)) for t in np.typecodes['All']]
    return [multiarray._reconstruct, multiarray.scalar, np.ndarray,
            np.dtype] + dtype_classes


def register_checkpoint_safe_globals() -> None:
    """Allow-list mmengine's checkpoint types for ``torch.load``.

    Adds :class:`mmengine.logging.HistoryBuffer` and the numpy array, scalar
    and dtype types to ``torch.serialization``'s safe globals. A no-op on
    torch < 2.4, which has no allow-list (and defaults to
    ``weights_only=False``). Called when :mod:`mmseg_aicsd` is imported.
    """
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is not None:
        add_safe_globals([HistoryBuffer] + _numpy_globals())
