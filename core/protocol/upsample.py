"""Bicubic up-sampling in NumPy on the grid of PROTOCOL.md.

Output HR pixel x samples the LR image at u = (x + 0.5) / r − 0.5, so LR pixel i is centred
on HR i·r + (r − 1)/2; borders repeat the edge pixel. The cubic-convolution kernel uses
a = −0.75, the same as PyTorch's bicubic mode, so the bicubic baseline and the bicubic
input of the networks are one and the same interpolation.
"""
from __future__ import annotations

import numpy as np

from .metrics import band_groups

CUBIC_A = -0.75
# Bicubic interpolation reads two LR pixels on each side of the output position.
BICUBIC_LR_RADIUS = 2


def _cubic(t: np.ndarray) -> np.ndarray:
    t = np.abs(t)
    a = CUBIC_A
    return np.where(t <= 1, ((a + 2) * t - (a + 3)) * t * t + 1,
                    np.where(t < 2, ((a * t - 5 * a) * t + 8 * a) * t - 4 * a, 0.0))


def phase_taps(ratio: int) -> list:
    """For each phase p of an integer ``ratio`` (the HR pixels i·r + p), the offset from LR pixel i of the first
    of the four LR pixels it reads, and their four weights: the kernel of :func:`bicubic`, polyphase."""
    taps = []
    for phase in range(ratio):
        position = (phase + 0.5) / ratio - 0.5
        base = int(np.floor(position))
        taps.append((base - 1, [float(_cubic(position - base - k)) for k in range(-1, 3)]))
    return taps


def _upsample_axis(values: np.ndarray, axis: int, ratio: int) -> np.ndarray:
    length = values.shape[axis]
    x = np.arange(length * ratio)
    u = (x + 0.5) / ratio - 0.5
    base = np.floor(u).astype(int)
    frac = u - base
    out = None
    for k in range(-1, 3):
        index = np.clip(base + k, 0, length - 1)
        weight = _cubic(frac - k)
        shape = [1] * values.ndim
        shape[axis] = -1
        term = np.take(values, index, axis=axis)
        term *= weight.reshape(shape)
        if out is None:
            out = term
        else:
            out += term
    return out


def bicubic(values: np.ndarray, ratio: int) -> np.ndarray:
    """Up-sample (bands, h, w) by ``ratio`` to (bands, r·h, r·w), float32.

    In float64, a few bands at a time: all bands at once held about ten float32 images of the bands (1.6 GB above
    the rest of a run for a 636² window of 100 bands)."""
    bands, rows, cols = values.shape
    out = np.empty((bands, rows * ratio, cols * ratio), np.float32)
    for group in band_groups(bands):
        out[group] = _upsample_axis(_upsample_axis(values[group].astype(np.float64), 1, ratio), 2, ratio)
    return out
