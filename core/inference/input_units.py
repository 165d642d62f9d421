"""Matching the units of the inputs to those a weights file was trained in.

A network normalises its inputs with the per-band statistics of its training data, saved
with the weights, so it expects the unit it was trained in: the bundled models expect
reflectance (0–1). Files often hold reflectance × 10⁴ (AVIRIS, Sentinel-2 L2A without a
GDAL scale) or percent. Fed such values, a network's output is meaningless (on AVIRIS in
counts the bundled OLCI models fell below bicubic).

Fusion is linear in the unit. When an input's mean level is more than UNIT_GAP (a factor of
about 30) away from the training data's, the nearest power of ten is folded into the
model's normalisation (FusionModel.convert_units): the network sees values in its training
unit and the fused values come out in the LR-HSI's unit. Scenes differ in brightness by up
to about ten times (water against desert) within one unit, and those are left as they are;
only whole powers of ten are applied, so the change is a unit conversion, not a brightness
correction.
"""
from __future__ import annotations

import math

from ..storage.raster_io import RasterInfo, read_block

LEVEL_WINDOW = 256   # pixels a side: the central window the mean level is taken from
UNIT_GAP = 1.5       # log10 of the level ratio from which the units are taken to differ


def mean_level(info: RasterInfo) -> float | None:
    """Mean value of the valid pixels of the good bands in the raster's central window."""
    rows, cols = min(LEVEL_WINDOW, info.height), min(LEVEL_WINDOW, info.width)
    return level_of(*read_block(info, (info.height - rows) // 2, (info.width - cols) // 2, rows, cols))


def level_of(values, valid) -> float | None:
    """Mean value of the valid pixels of ``values`` (bands, rows, cols); None where none is valid."""
    if not valid.any():
        return None
    return float(values[:, valid].mean())


def unit_factor(input_level: float | None, trained_level: float) -> float:
    """The power of ten that converts ``input_level`` to ``trained_level``'s unit (1: the same unit)."""
    if input_level is None or input_level <= 0 or trained_level <= 0:
        return 1.0
    gap = math.log10(trained_level / input_level)
    return 10.0 ** round(gap) if abs(gap) >= UNIT_GAP else 1.0


def match_model_to_inputs(model, lr: RasterInfo, hr: RasterInfo, feedback, window: tuple | None = None
                          ) -> tuple[float, float]:
    """Convert ``model`` to the inputs' units where they differ; returns the (HS, MS) factors. ``window`` is the
    (z, z_valid, y, y_valid) of the pair's estimation window where the run has read it (for the projection's R): the
    levels are taken there, which spares reading each raster's central window again (1.2 s for 256² × 218 bands)."""
    levels = ((mean_level(lr), mean_level(hr)) if window is None else
              (level_of(window[0], window[1]), level_of(window[2], window[3])))
    factors = []
    for level, mean, what in zip(levels, (model.hs_mean, model.ms_mean), ("LR-HSI", "HR-MSI")):
        factor = unit_factor(level, float(mean.mean()))
        if factor != 1.0:
            feedback.info(f"The {what} values are about {1 / factor:g} times those the model was trained on "
                          "(another unit, for example reflectance × 10⁴ against reflectance); the model takes "
                          "them in that unit and the fused values come out in the LR-HSI's unit.")
        factors.append(factor)
    model.convert_units(*factors)
    return factors[0], factors[1]
