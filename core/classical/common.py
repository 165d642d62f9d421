"""Steps the classical methods share: filling invalid pixels, responses, grouping HS bands by MS band.

All functions take the arrays a method's ``predict`` gets: the LR-HSI ``lr`` (S, h, w),
the HR-MSI ``hr`` (s, r·h, r·w) and their validity masks; invalid pixels may hold NaN or
huge numbers and never reach a computation.

Global statistics (fill values, regressions, gains, endmembers, scales, subspaces) use
only the pixels that :func:`screened` keeps: valid and not wild by the one rule of
core/protocol/robust.py, so that a single corrupted pixel changes the result only near itself.
"""
from __future__ import annotations

import numpy as np

from ..linalg import matmul
from ..protocol import robust
from ..protocol.degradation import PointSpread, gaussian_sigma, spatial_degrade
from ..protocol.responses import (SigmaNotIdentifiable, TooFewPixelsForSigma, crop_to_window, estimate_responses,
                                  gaussian_psf)
from ..training.trainer import fill_invalid

# An HS band is "inside" MS band k when R[k, b] is at least this share of row k's peak.
COVERAGE_SHARE = 0.05
# A whole-image method that fuses an area beyond its limit in blocks (core/classical/run.py) fuses this many LR
# pixels around every block besides the block, and keeps the block: PSF coupling and borders stay clear of it.
BLOCK_OVERLAP_LR_PIXELS = 8


def screened(lr, lr_valid, hr, hr_valid, bounds: tuple | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(LR mask, HR mask) for global statistics: valid pixels that are not wild (core/protocol/robust.py), by the
    (LR, HR) fences ``bounds`` where given (:func:`shared_block_settings`), else by these pixels' own."""
    lr_bounds, hr_bounds = bounds or (None, None)
    return robust.inliers(lr, lr_valid, lr_bounds), robust.inliers(hr, hr_valid, hr_bounds)


def band_means(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Mean of every band over ``valid`` pixels (0 where there is none), never NaN; pass :func:`screened` masks."""
    count = int(valid.sum())
    if count == 0:
        return np.zeros(values.shape[0])
    return values[:, valid].astype(np.float64).mean(axis=1)


def filled(values: np.ndarray, valid: np.ndarray, fill=None) -> np.ndarray:
    """``values`` as float32 with invalid pixels set to ``fill`` (default: the band means over valid pixels)."""
    fill = band_means(values, valid) if fill is None else fill
    return fill_invalid(values.astype(np.float32, copy=False), valid, fill)


def lr_footprint(hr_valid: np.ndarray, ratio: int) -> np.ndarray:
    """LR pixels whose whole r × r HR footprint is valid."""
    h, w = hr_valid.shape[0] // ratio, hr_valid.shape[1] // ratio
    return hr_valid[:h * ratio, :w * ratio].reshape(h, ratio, w, ratio).all(axis=(1, 3))


def degrade_filled(values: np.ndarray, ratio: int, psf) -> np.ndarray:
    """Spatial degradation of an already filled image (every pixel counts)."""
    return spatial_degrade(values, np.ones(values.shape[1:], dtype=bool), ratio, psf)[0]


def psf_for(ratio: int, sigma: float | None = None, mtf_gain: float | None = None) -> PointSpread:
    return gaussian_psf(ratio, sigma) if sigma else PointSpread.gaussian(ratio, mtf_gain)


def responses(lr, lr_valid, hr, hr_valid, ratio: int, *, response=None, sigma=None, need_sigma: bool = False,
              fallback_sigma: float | None = None):
    """(R, σ): the given ones, else estimated on the estimation window (core/protocol/responses.py).

    When σ is not needed (the PSF comes from MTF_GAIN) but R is, R is estimated at the
    estimated σ; on inputs without spatial detail, where σ cannot be estimated, at
    ``fallback_sigma`` (the MTF_GAIN σ) instead of failing. With fewer LR pixels than HS
    bands σ cannot be estimated at all: the fallback σ, or the protocol's (MTF gain 0.25),
    stands in even where σ is needed, since nothing better can be known from such inputs.
    """
    if response is not None and (sigma or not need_sigma):
        return np.asarray(response, dtype=np.float64), sigma
    try:
        estimate = estimate_responses(lr, lr_valid, hr, hr_valid, ratio, sigma=sigma or None)
    except TooFewPixelsForSigma:
        # Fewer LR pixels than HS bands (a few-pixel LR-HSI): σ cannot be estimated, so the protocol's PSF stands in.
        estimate = estimate_responses(lr, lr_valid, hr, hr_valid, ratio, sigma=fallback_sigma or gaussian_sigma(ratio))
    except SigmaNotIdentifiable:
        if need_sigma or not fallback_sigma:
            raise
        estimate = estimate_responses(lr, lr_valid, hr, hr_valid, ratio, sigma=fallback_sigma)
    return (estimate.response if response is None else np.asarray(response, dtype=np.float64)), estimate.sigma


def degradation_model(lr, lr_valid, hr, hr_valid, ratio: int, response, sigma, mtf_gain: float):
    """(R checked against the band counts, Gaussian PSF): given, from MTF_GAIN, or estimated from the pair."""
    response, sigma = degradation_settings(lr, lr_valid, hr, hr_valid, ratio, response, sigma, mtf_gain)
    return response, psf_for(ratio, sigma=sigma)


def degradation_settings(lr, lr_valid, hr, hr_valid, ratio: int, response, sigma, mtf_gain: float) -> tuple:
    """(R checked against the band counts, σ of the Gaussian PSF) of :func:`degradation_model`."""
    need_sigma = not (mtf_gain and mtf_gain > 0) and not sigma
    response, estimated = responses(lr, lr_valid, hr, hr_valid, ratio, response=response, sigma=sigma,
                                    need_sigma=need_sigma, fallback_sigma=sigma_from(ratio, mtf_gain, None))
    return check_response(response, lr.shape[0], hr.shape[0]), sigma or sigma_from(ratio, mtf_gain, estimated)


def sigma_from(ratio: int, mtf_gain: float, estimated: float | None) -> float:
    """σ of the protocol's Gaussian for ``mtf_gain``; gain 0 means the estimated σ."""
    return gaussian_sigma(ratio, mtf_gain) if mtf_gain and mtf_gain > 0 else estimated


def check_response(response: np.ndarray, hs_bands: int, ms_bands: int) -> np.ndarray:
    from ..errors import UserInputError

    response = np.asarray(response, dtype=np.float64)
    if response.shape != (ms_bands, hs_bands):
        raise UserInputError(
            f"The spectral response matrix is {response.shape[0]} × {response.shape[1]}, but the inputs have "
            f"{ms_bands} MS and {hs_bands} usable HS bands. Give the responses of these MS bands at these HS bands.")
    return response


def assign_groups(response: np.ndarray, lr: np.ndarray, degraded_ms: np.ndarray, use: np.ndarray) -> np.ndarray:
    """The MS band that lends its detail to each HS band (index per HS band).

    Rule: an HS band inside the response of some MS band (R[k, b] ≥ 5 % of row k's peak)
    belongs to the MS band that gives it the most weight, argmax_k R[k, b] (rows of R sum
    to 1, so a narrow band wins over a wide one where they overlap). An HS band outside
    every response (e.g. SWIR bands with visible/NIR MS bands) belongs to the MS band
    whose degraded image correlates best with it on the LR grid (``use`` pixels), since
    spectral proximity says nothing there. A constant band goes to MS band 0 (it gets
    no detail anyway: its injection gain is 0).
    """
    response = np.asarray(response, dtype=np.float64)
    share = response / np.maximum(response.max(axis=1, keepdims=True), 1e-300)
    groups = np.argmax(response, axis=0)
    outside = (share >= COVERAGE_SHARE).sum(axis=0) == 0
    if outside.any():
        hs = lr[np.flatnonzero(outside)][:, use].astype(np.float64)
        ms = degraded_ms[:, use].astype(np.float64)
        hs -= hs.mean(axis=1, keepdims=True)
        ms -= ms.mean(axis=1, keepdims=True)
        norms = np.linalg.norm(hs, axis=1)[:, None] * np.linalg.norm(ms, axis=1)[None, :]
        correlation = np.where(norms > 0, matmul(hs, ms.T) / np.maximum(norms, 1e-300), 0.0)
        groups[outside] = np.argmax(correlation, axis=1)
    return groups.astype(int)


def window(lr, lr_valid, hr, hr_valid, ratio):
    """The estimation window of core/protocol/responses.py (global statistics are computed on it)."""
    return crop_to_window(lr, lr_valid, hr, hr_valid, ratio)


def unit_gains(response, z, lr_valid, y, hr_valid, ratio: int, psf) -> np.ndarray:
    """Per-MS-band gain g_k with D(Y_k) ≈ g_k (R Z)_k on the LR pixels of the masks (1 when both share units).

    Pass the masks of :func:`screened`: a wild pixel would set the gain of the whole image.
    """
    use = lr_valid & lr_footprint(hr_valid, ratio)
    if not use.any():
        return np.ones(response.shape[0])
    predicted = matmul(response, z[:, use].astype(np.float64))
    observed = degrade_filled(y, ratio, psf)[:, use].astype(np.float64)
    power = (predicted ** 2).sum(axis=1)
    return np.where(power > 0, (predicted * observed).sum(axis=1) / np.maximum(power, 1e-300), 1.0)


def shared_block_settings(lr, lr_valid, hr, hr_valid, ratio: int, *, mtf_gain: float = 0.0, response=None,
                          sigma=None, **_) -> dict:
    """What the blocks of a whole-image method share on an area beyond its limit (core/classical/run.py), from the
    estimation window: R, the PSF's σ, and the (LR, HR) fences of core/protocol/robust.py as ``bounds``, so that
    every block screens wild pixels by the area's rule and neighbouring blocks differ only in what they fit."""
    lr, lr_valid, hr, hr_valid = window(lr, lr_valid, hr, hr_valid, ratio)
    response, sigma = degradation_settings(lr, lr_valid, hr, hr_valid, ratio, response, sigma, mtf_gain)
    return {"response": response, "sigma": sigma, "bounds": (robust.fence(lr, lr_valid), robust.fence(hr, hr_valid))}


def block_overlap(ratio: int, **_) -> int:
    """The overlap, in HR pixels, that every block of a whole-image method on a large area fuses besides itself."""
    return BLOCK_OVERLAP_LR_PIXELS * ratio


def check_whole_image_size(name: str, pixels: int, limit: int) -> None:
    """Whole-image methods hold the entire image in memory: a ``predict`` called on larger arrays refuses them
    (the runs of core/classical/run.py fuse larger areas in blocks)."""
    from ..errors import UserInputError

    if pixels > limit:
        side = int(limit ** 0.5)
        raise UserInputError(
            f"{name} processes the whole image at once and handles at most {limit:,} HR pixels (about {side} × "
            f"{side}); these arrays have {pixels:,}. Fuse the rasters with core/classical/run.py's fuse_classical "
            "(or the algorithm), which fuses larger areas in overlapping blocks.")
