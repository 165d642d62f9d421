"""Screening gross outliers out of global statistics (one rule for every caller).

Global estimates — the responses R and σ (core/protocol/responses.py), the regressions and gains
of GSA, the floors and fill values of GLP, the endmembers, scale and subspace of CNMF and
HySure — are least-squares or mean statistics: one wild pixel (a saturated or corrupted
LR pixel at 1000 × the scene's maximum) can dominate them and so change the result far
from that pixel. The rule here keeps such pixels out of those statistics; the per-pixel
steps still use every valid pixel, so a wild pixel changes the output only near itself.

Rule (a far-out fence on robust percentiles, per band): with P1_b and P99_b the 1st and
99th percentiles of band b over the valid pixels and span_b = P99_b − P1_b, a valid pixel
is an *inlier* when every band lies in [P1_b − k·span_b, P99_b + k·span_b], k = 3.

- Why percentiles and not median ± k·MAD: reflectance scenes are multimodal (water,
  vegetation, roofs); a small bright material can lie many MADs from the median of a
  scene dominated by another one, and must not be rejected. The 1–99 % range spans every
  material with at least ~1 % of the pixels, and the fence lies three such ranges beyond
  it, so clean data lose practically no pixel (the test scenes lose none).
- Breakdown: up to 1 % of the pixels in each tail of a band may be wild without moving
  the fence; a single pixel, a bad line of a large image, or a few hot pixels qualify.
- Hard rejection (weight 0) rather than clipping: a clipped wild pixel is still wrong,
  and inside a regression it would still pull the fit towards a value that the other
  image does not confirm.
- A band whose 1–99 % range is 0 (constant, or constant but for a few pixels) gets the
  median span of the other bands, so its rare distinct values are not all rejected.
"""
from __future__ import annotations

import math

import numpy as np

PERCENTILES = (1.0, 99.0)
REACH = 3.0
# Percentiles from at most this many valid pixels (an even stride over them): the 1 % tails then
# still hold thousands of samples, and memory stays small for a large HR window.
MAX_SAMPLES = 1 << 18


def fence(values: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) per band: the inlier range of the rule above, from the valid pixels."""
    return fence_of_samples(values[:, sampled_pixels(valid)])


def sampled_pixels(valid: np.ndarray) -> np.ndarray:
    """The pixels the percentiles are taken from: every k-th valid pixel in row-major order, at most MAX_SAMPLES."""
    index = np.flatnonzero(valid)
    sampled = np.zeros(valid.shape, dtype=bool)
    sampled.flat[index[::max(1, math.ceil(index.size / MAX_SAMPLES))]] = True
    return sampled


def fence_of_samples(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(low, high) per band from the sampled pixels (bands × samples), band by band so that no float64 copy of
    the whole sample is made."""
    # Nearest samples inward ('higher' / 'lower'), not interpolation: in a small image the 99th
    # percentile would otherwise lie part-way towards the largest value, i.e. a wild one.
    low, high = np.empty(samples.shape[0]), np.empty(samples.shape[0])
    for band, row in enumerate(samples):
        row = row.astype(np.float64)
        low[band] = np.percentile(row, PERCENTILES[0], method="higher")
        high[band] = np.percentile(row, PERCENTILES[1], method="lower")
    span = high - low
    span = np.where(span > 0, span, np.median(span))
    return low - REACH * span, high + REACH * span


def inliers(values: np.ndarray, valid: np.ndarray, bounds: tuple | None = None) -> np.ndarray:
    """``valid`` without the pixels that fall outside the fence in any band (values: bands × the shape of valid).
    The fence is ``bounds`` (low, high) when given, one computed on a larger area so that a block screens by the
    area's rule, else that of these values."""
    keep = valid.copy()
    if not keep.any():
        return keep
    low, high = fence(values, valid) if bounds is None else bounds
    for band, (lo, hi) in enumerate(zip(low, high)):    # band by band: no full-size temporaries
        keep &= (values[band] >= lo) & (values[band] <= hi)
    return keep
