"""Matching the units of the inputs to those a weights file was trained in.

A network normalises its inputs with the per-band statistics of its training data, saved
with the weights, so it expects the unit it was trained in: the bundled models expect
reflectance (0–1). Files often hold reflectance × 10⁴ (AVIRIS, Sentinel-2 L2A without a
GDAL scale) or percent. Fed such values, a network's output is meaningless (on AVIRIS in
counts the bundled OLCI models fell below bicubic).

Fusion is linear in the unit, so when an input's mean level is more than UNIT_GAP (a factor
of about 30) away from the training data's, the input is multiplied by the nearest power of
ten for the network and the HS result divided by it again. Scenes differ in brightness by
up to about ten times (water against desert) within one unit, and those are left as they
are; only whole powers of ten are applied, so the change is a unit conversion, not a
brightness correction.
"""
from __future__ import annotations

import math

import numpy as np

from .raster_io import RasterInfo, read_block

LEVEL_WINDOW = 256   # pixels a side: the central window the mean level is taken from
UNIT_GAP = 1.5       # log10 of the level ratio from which the units are taken to differ


def mean_level(info: RasterInfo) -> float | None:
    """Mean value of the valid pixels of the good bands in the raster's central window."""
    rows, cols = min(LEVEL_WINDOW, info.height), min(LEVEL_WINDOW, info.width)
    values, valid = read_block(info, (info.height - rows) // 2, (info.width - cols) // 2, rows, cols)
    if not valid.any():
        return None
    return float(values[:, valid].mean())


def unit_factor(input_level: float | None, trained_level: float) -> float:
    """The power of ten that converts ``input_level`` to ``trained_level``'s unit (1: the same unit)."""
    if input_level is None or input_level <= 0 or trained_level <= 0:
        return 1.0
    gap = math.log10(trained_level / input_level)
    return 10.0 ** round(gap) if abs(gap) >= UNIT_GAP else 1.0


def describe(factor: float, what: str) -> str:
    return (f"The {what} values are about {1 / factor:g} times those the model was trained on (another unit, "
            f"for example reflectance × 10⁴ against reflectance); they are multiplied by {factor:g} for the network"
            + (" and the result is divided by it." if what == "LR-HSI" else "."))


def trained_level(band_means) -> float:
    return float(np.mean(np.asarray(band_means, dtype=np.float64)))
