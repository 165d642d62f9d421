"""MTF-GLP with multiplicative (HPM) injection for HS/MS fusion, and SFIM as its box-filter variant.

References:
- B. Aiazzi, L. Alparone, S. Baronti, A. Garzelli, M. Selva, "MTF-tailored multiscale
  fusion of high-resolution MS and Pan imagery", Photogrammetric Engineering & Remote
  Sensing 72(5), 2006 — the generalised Laplacian pyramid (GLP) whose low-pass is matched
  to the sensor's MTF.
- M. Selva, B. Aiazzi, F. Butera, L. Chiarantini, S. Baronti, "Hyper-sharpening: a first
  approach on SIM-GA data", IEEE JSTARS 8(6), 2015 — GLP applied to HS bands with an MS
  band as the sharpening image.
- J. G. Liu, "Smoothing filter-based intensity modulation" (SFIM), IJRS 21(18), 2000 —
  the same modulation with a box low-pass.

For HS band b in the group of MS band k (:func:`common.assign_groups`):

    Ỹ_k = interp(D(Y_k))                    the GLP low-pass of the MS band: filter with the
                                            PSF, decimate by r, interpolate back (bicubic,
                                            the same interpolator as the HS bands)
    X̂_b = Z̃_b + (Z̃_b / Ỹ_k) · (Y_k − Ỹ_k)   = Z̃_b · Y_k / Ỹ_k   (HPM injection)

with Z̃ the bicubic up-sampled LR-HSI. The low-pass is ``lowpass="mtf"``: the protocol's
Gaussian with response ``mtf_gain`` at the LR Nyquist frequency (σ = r·sqrt(−2 ln g)/π;
gain 0 uses the σ estimated from the inputs), or ``lowpass="box"``: the r × r average
(SFIM). Where Ỹ_k is not above a floor (1e-3 × the band's mean |Y_k|; dark water, zero
bands) the gain is 0 and the pixel keeps Z̃_b, so nothing is divided by zero.

Everything but the grouping, the fill values and the floor is local: those are computed
once on the estimation window (:func:`prepare`), so tiled and whole-image runs agree, and
from valid pixels that are not wild (core/protocol/robust.py), so one corrupted pixel cannot set them.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import UserInputError
from ..protocol.degradation import DEFAULT_MTF_GAIN, PointSpread
from ..protocol.metrics import band_groups
from ..protocol.responses import psf_reach
from ..protocol.upsample import BICUBIC_LR_RADIUS, bicubic
from . import common

LOWPASS = ("mtf", "box")
FLOOR_SHARE = 1e-3


def _psf(ratio: int, lowpass: str, sigma: float) -> PointSpread:
    if lowpass not in LOWPASS:
        raise UserInputError(f"The GLP low-pass must be one of {', '.join(LOWPASS)}; got '{lowpass}'.")
    return PointSpread.box(ratio) if lowpass == "box" else common.psf_for(ratio, sigma=sigma)


def prepare(lr, lr_valid, hr, hr_valid, ratio: int, *, lowpass: str = "mtf", mtf_gain: float = DEFAULT_MTF_GAIN,
            response=None, sigma=None, **_) -> dict:
    """Global settings, from the estimation window: groups, fill values, floors, σ."""
    lr, lr_valid, hr, hr_valid = common.window(lr, lr_valid, hr, hr_valid, ratio)
    need_sigma = lowpass == "mtf" and not (mtf_gain and mtf_gain > 0) and not sigma
    response, estimated = common.responses(
        lr, lr_valid, hr, hr_valid, ratio, response=response, sigma=sigma, need_sigma=need_sigma,
        fallback_sigma=common.sigma_from(ratio, mtf_gain, None))
    response = common.check_response(response, lr.shape[0], hr.shape[0])
    sigma = sigma or common.sigma_from(ratio, mtf_gain, estimated)
    # Wild pixels (core/protocol/robust.py) are filled like invalid ones for these global statistics only.
    lr_keep, hr_keep = common.screened(lr, lr_valid, hr, hr_valid)
    hs_fill, ms_fill = common.band_means(lr, lr_keep), common.band_means(hr, hr_keep)
    z, y = common.filled(lr, lr_keep, hs_fill), common.filled(hr, hr_keep, ms_fill)
    degraded = common.degrade_filled(y, ratio, _psf(ratio, lowpass, sigma))
    use = lr_keep & common.lr_footprint(hr_keep, ratio)
    groups = common.assign_groups(response, z, degraded, use)
    floor = FLOOR_SHARE * np.abs(y[:, hr_keep]).astype(np.float64).mean(axis=1) if hr_keep.any() \
        else np.zeros(y.shape[0])
    return {"lowpass": lowpass, "sigma": sigma, "response": response, "groups": groups, "hs_fill": hs_fill,
            "ms_fill": ms_fill, "ms_floor": floor}


def predict(lr, lr_valid, hr, hr_valid, ratio: int, *, lowpass: str = "mtf", mtf_gain: float = DEFAULT_MTF_GAIN,
            **options) -> np.ndarray:
    """Fused (S, r·h, r·w) float32; see the module docstring."""
    if "groups" not in options:
        options = {**options, **prepare(lr, lr_valid, hr, hr_valid, ratio, lowpass=lowpass, mtf_gain=mtf_gain,
                                        **options)}
    z = common.filled(lr, lr_valid, options["hs_fill"])
    y = common.filled(hr, hr_valid, options["ms_fill"])
    psf = _psf(ratio, options.get("lowpass", lowpass), options["sigma"])
    low = bicubic(common.degrade_filled(y, ratio, psf), ratio).astype(np.float64)
    y = y[:, :low.shape[1], :low.shape[2]].astype(np.float64)
    floor = np.asarray(options["ms_floor"], dtype=np.float64)[:, None, None]
    # Modulation Y_k / Ỹ_k, with no injection where the low-pass is too dark to divide by.
    modulation = np.where(low > floor, y / np.maximum(low, floor), 1.0)
    upsampled = bicubic(z, ratio)
    groups = np.asarray(options["groups"])
    for group in band_groups(upsampled.shape[0]):        # in float64 a few bands at a time, into the float32 result
        upsampled[group] = upsampled[group] * modulation[groups[group]]
    return upsampled


def receptive_field(ratio: int, lowpass: str = "mtf", mtf_gain: float = DEFAULT_MTF_GAIN, sigma=None, **_) -> int:
    """HR pixels an output pixel depends on: the PSF's reach plus the bicubic support of one LR pixel more."""
    sigma = sigma or common.sigma_from(ratio, mtf_gain or DEFAULT_MTF_GAIN, None)
    reach = psf_reach(_psf(ratio, lowpass, sigma), ratio)
    return (BICUBIC_LR_RADIUS + 2) * ratio + int(math.ceil(reach))
