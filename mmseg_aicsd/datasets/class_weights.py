# Copyright (c) mmseg_aicsd contributors. All rights reserved.
"""Median-frequency class balancing from a dataset's label maps."""
from typing import Iterable, Tuple

import numpy as np


def class_pixel_counts(label_maps: Iterable[np.ndarray],
                       num_classes: int,
                       ignore_index: int = 255) -> Tuple[np.ndarray, ...]:
    """Pixels of each class, and valid pixels of the images holding it.

    Args:
        label_maps (Iterable[np.ndarray]): Label maps, each of shape
            (H, W), integer values in 0..C-1 or ``ignore_index``.
        num_classes (int): C.
        ignore_index (int): Label of the pixels not counted (void).
            Defaults to 255.

    Returns:
        tuple[np.ndarray, np.ndarray, np.ndarray]: Each of shape (C,),
        int64: the pixels of class c, the valid (non-ignored) pixels of the
        images where c appears, and the number of those images.

    Raises:
        ValueError: If a label map holds a value that is neither a class
            nor ``ignore_index``; the message gives its index.
    """
    pixels = np.zeros(num_classes, np.int64)
    present_pixels = np.zeros(num_classes, np.int64)
    images = np.zeros(num_classes, np.int64)
    for i, labels in enumerate(label_maps):
        labels = np.asarray(labels).ravel()
        labels = labels[labels != ignore_index]
        if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
            bad = labels[(labels < 0) | (labels >= num_classes)][0]
            raise ValueError(
                f'label map {i} holds {bad}, neither one of the '
                f'{num_classes} classes (0-{num_classes - 1}) nor '
                f'ignore_index {ignore_index}')
        counts = np.bincount(labels, minlength=num_classes)
        present = counts > 0
        pixels += counts
        present_pixels[present] += labels.size
        images += present
    return pixels, present_pixels, images


def median_frequency_weights(pixels: np.ndarray,
                             present_pixels: np.ndarray) -> np.ndarray:
    """Median-frequency class weights, ``median(f) / f_c``.

    ``f_c = pixels_c / present_pixels_c``: the pixels of class c over the
    pixels of the images where c appears (Eigen and Fergus, ICCV 2015,
    Sec. 4.1; SegNet's ``class_weighting``, Badrinarayanan et al., TPAMI
    2017, Sec. 3.3). The median is over the classes that appear.

    Args:
        pixels (np.ndarray): Pixels of each class, shape (C,).
        present_pixels (np.ndarray): Pixels of the images holding each
            class, shape (C,); as :func:`class_pixel_counts` returns.

    Returns:
        np.ndarray: Weights, shape (C,), float64, dimensionless (1 for the
        class of median frequency).

    Raises:
        ValueError: If a class never appears (its weight is undefined); the
            message names its index.
    """
    pixels = np.asarray(pixels, np.float64)
    present_pixels = np.asarray(present_pixels, np.float64)
    missing = np.flatnonzero(pixels == 0)
    if missing.size:
        raise ValueError(
            f'classes {missing.tolist()} have no pixel in these label maps, '
            'so their frequency is 0 and their weight undefined: count '
            'another split, or give those classes a weight by hand')
    freq = pixels / present_pixels
    return np.median(freq) / freq
