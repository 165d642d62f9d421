"""Bicubic up-sampling of the LR-HSI as a classical method: the baseline every method must beat.

core.protocol.upsample.bicubic (cubic convolution, R. Keys, IEEE TASSP 29(6), 1981,
a = −0.75); invalid LR pixels count as 0, like every other method's invalid inputs.
"""
from __future__ import annotations

import numpy as np

from ..protocol.upsample import BICUBIC_LR_RADIUS, bicubic


def predict(lr, lr_valid, hr, hr_valid, ratio: int, **_) -> np.ndarray:
    return bicubic(np.where(lr_valid[None], lr, 0.0), ratio)


def receptive_field(ratio: int, **_) -> int:
    return BICUBIC_LR_RADIUS * ratio
