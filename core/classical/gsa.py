"""GSA — Gram-Schmidt Adaptive component substitution, applied to HS/MS fusion by band groups.

Reference: B. Aiazzi, S. Baronti, M. Selva, "Improving component substitution
pansharpening through multivariate regression of MS+Pan data", IEEE TGRS 45(10), 2007.
In GSA the intensity that is substituted is not a fixed average of the MS bands but their
least-squares regression onto the low-pass Pan, and each band receives the Pan detail
with the Gram-Schmidt gain g_b = cov(MS_b, I) / var(I).

For HS/MS fusion each MS band plays the Pan for a group of HS bands (Selva et al. 2015's
hyper-sharpening; grouping rule in :func:`common.assign_groups`). For MS band k and its
group G_k:

    D(Y_k) ≈ Σ_{b∈G_k} w_b Z_b + w₀          regression on the LR grid: the MS band degraded
                                              by the PSF (``mtf_gain``, protocol Gaussian)
                                              against the group's LR HS bands
    I_k = Σ_{b∈G_k} w_b Z̃_b + w₀              the intensity, from the bicubic up-sampled HS bands
    X̂_b = Z̃_b + g_b (Y_k − I_k),  g_b = cov(Z_b, I_k↓) / var(I_k↓)

The regression is non-negative in w (a free intercept w₀ by centring): Y = R X makes an MS
band a non-negative combination of HS bands, and the constraint keeps a group with many
collinear bands from producing an intensity with large alternating weights that would
amplify HS noise. Because I_k is fitted to the degraded MS band itself, it is in MS units
and Y_k needs no histogram matching. The gains are computed on the LR grid, where Z and
I_k↓ = Σ w_b Z_b + w₀ are both available without interpolation.

The weights and gains are global statistics: they are computed once on the estimation
window of core/protocol/responses.py (the whole common area up to 256 × 256 LR pixels), from
valid pixels that are not wild (core/protocol/robust.py, so one corrupted pixel cannot set them), in
:func:`prepare`, and the per-pixel step above then needs only a bicubic halo, so a tiled
run equals a whole-image run.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import nnls

from ..errors import UserInputError
from ..linalg import across_bands
from ..protocol.degradation import DEFAULT_MTF_GAIN
from ..protocol.metrics import band_groups
from ..protocol.upsample import BICUBIC_LR_RADIUS, bicubic
from . import common


def prepare(lr, lr_valid, hr, hr_valid, ratio: int, *, mtf_gain: float = DEFAULT_MTF_GAIN, response=None,
            sigma=None, **_) -> dict:
    """Groups, regression weights, intercepts and injection gains from the estimation window."""
    lr, lr_valid, hr, hr_valid = common.window(lr, lr_valid, hr, hr_valid, ratio)
    response, sigma = common.degradation_settings(lr, lr_valid, hr, hr_valid, ratio, response, sigma, mtf_gain)
    # Wild pixels are filled like invalid ones here: a fit on the LR grid must not see them, nor the
    # PSF tails of a wild HR pixel in its neighbours.
    lr_keep, hr_keep = common.screened(lr, lr_valid, hr, hr_valid)
    hs_fill, ms_fill = common.band_means(lr, lr_keep), common.band_means(hr, hr_keep)
    z, y = common.filled(lr, lr_keep, hs_fill), common.filled(hr, hr_keep, ms_fill)
    degraded = common.degrade_filled(y, ratio, common.psf_for(ratio, sigma=sigma))
    use = lr_keep & common.lr_footprint(hr_keep, ratio)
    if use.sum() < 2:
        raise UserInputError("GSA needs valid LR pixels that are also valid in the HR-MSI to fit its intensity; "
                             "the inputs have fewer than two. Check their nodata values and overlap.")
    groups = common.assign_groups(response, z, degraded, use)
    hs = z[:, use].astype(np.float64)                       # S × n
    weights = np.zeros(z.shape[0])
    intercepts = np.zeros(y.shape[0])
    gains = np.zeros(z.shape[0])
    for k in range(y.shape[0]):
        members = np.flatnonzero(groups == k)
        if members.size == 0:
            continue
        target = degraded[k][use].astype(np.float64)
        design = hs[members]
        mean_design, mean_target = design.mean(axis=1), target.mean()
        w, _ = nnls((design - mean_design[:, None]).T, target - mean_target, maxiter=50 * members.size)
        weights[members] = w
        intercepts[k] = mean_target - w @ mean_design
        intensity = w @ design + intercepts[k]
        centred = intensity - intensity.mean()
        variance = (centred ** 2).mean()
        if variance > 0:
            gains[members] = ((design - mean_design[:, None]) @ centred) / design.shape[1] / variance
    return {"sigma": sigma, "response": response, "groups": groups, "weights": weights, "intercepts": intercepts,
            "gains": gains, "hs_fill": hs_fill, "ms_fill": ms_fill}


def predict(lr, lr_valid, hr, hr_valid, ratio: int, *, mtf_gain: float = DEFAULT_MTF_GAIN, **options) -> np.ndarray:
    """Fused (S, r·h, r·w) float32; see the module docstring."""
    if "gains" not in options:
        options = {**options, **prepare(lr, lr_valid, hr, hr_valid, ratio, mtf_gain=mtf_gain, **options)}
    groups = np.asarray(options["groups"])
    upsampled = bicubic(common.filled(lr, lr_valid, options["hs_fill"]), ratio)
    y = common.filled(hr, hr_valid, options["ms_fill"])[:, :upsampled.shape[1], :upsampled.shape[2]]
    weights = np.asarray(options["weights"])
    intensity = np.zeros(y.shape, dtype=np.float64)
    for k in range(y.shape[0]):                             # I_k = Σ_{b∈G_k} w_b Z̃_b (+ w₀ below)
        members = np.flatnonzero(groups == k)
        intensity[k] = across_bands(weights[members][None], upsampled[members].astype(np.float64))[0]
    detail = y - (intensity + np.asarray(options["intercepts"])[:, None, None])
    # In float64 a few bands at a time, into the float32 result: all bands at once held about ten float32 images.
    gains = np.asarray(options["gains"])
    for group in band_groups(upsampled.shape[0]):
        upsampled[group] = upsampled[group].astype(np.float64) + gains[group, None, None] * detail[groups[group]]
    return upsampled


def receptive_field(ratio: int, **_) -> int:
    """Only the bicubic interpolation reaches beyond a pixel once the statistics are fixed."""
    return (BICUBIC_LR_RADIUS + 1) * ratio
