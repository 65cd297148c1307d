# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Let ``torch.load(weights_only=True)`` read mmengine checkpoints.

Since torch 2.6, ``torch.load`` defaults to ``weights_only=True``, which
unpickles only allow-listed types. mmengine 0.10.x calls ``torch.load``
without the argument, and its checkpoints keep the message hub's
``HistoryBuffer`` objects for resuming: numpy arrays, plus the buffer's
statistics methods, pickled as ``getattr(HistoryBuffer, 'mean')``. So
``--resume`` (and ``load_from`` a training checkpoint) fails with an
``UnpicklingError``. Rather than turning the check off
(``weights_only=False`` would run any pickle), this allow-lists exactly what
mmengine writes; ``getattr`` is allowed only for those four methods.
"""
import numpy as np
import torch
from mmengine.logging import HistoryBuffer

# HistoryBuffer.__getstate__ pickles these by reference
_HISTORY_BUFFER_METHODS = ('min', 'max', 'current', 'mean')


def _history_buffer_getattr(obj, name: str):
    """Stand-in for ``builtins.getattr`` while unpickling with
    ``weights_only=True``: only ``HistoryBuffer.<statistics method>``.

    Raises:
        pickle.UnpicklingError: For any other object or attribute.
    """
    if obj is HistoryBuffer and name in _HISTORY_BUFFER_METHODS:
        return getattr(obj, name)
    import pickle
    raise pickle.UnpicklingError(
        f'getattr({obj!r}, {name!r}) is not allowed in a weights-only load; '
        'mmseg_aicsd allows only HistoryBuffer statistics methods')


def _numpy_globals() -> list:
    """The numpy reconstructors and dtype classes that pickled arrays and
    scalars reference (``numpy._core`` since numpy 2, ``numpy.core``
    before)."""
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy < 2
        from numpy.core import multiarray
    dtype_classes = {type(np.dtype(t)) for t in np.typecodes['All']}
    return [multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype
            ] + sorted(
                dtype_classes, key=str)


def register_checkpoint_safe_globals() -> None:
    """Allow-list mmengine's checkpoint contents for ``torch.load``.

    Adds :class:`mmengine.logging.HistoryBuffer`, the numpy array, scalar
    and dtype types, and a ``getattr`` restricted to HistoryBuffer's
    statistics methods to ``torch.serialization``'s safe globals. A no-op on
    torch < 2.5 (no named allow-list entries; torch < 2.6 defaults to
    ``weights_only=False`` anyway). Called when :mod:`mmseg_aicsd` is
    imported.
    """
    if not hasattr(torch.serialization, 'get_unsafe_globals_in_checkpoint'):
        return  # torch < 2.5
    torch.serialization.add_safe_globals(
        [HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr')] +
        _numpy_globals())
