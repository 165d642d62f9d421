"""HySure — hyperspectral super-resolution with subspace-based vector-total-variation regularisation.

Reference: M. Simões, J. Bioucas-Dias, L. B. Almeida, J. Chanussot, "A convex formulation
for hyperspectral image superresolution via subspace-based regularization", IEEE TGRS
53(6), 2015.

The HR-HSI is X = E U with E (S × p) an orthonormal basis of the signal subspace (the p
leading left singular vectors of the LR-HSI) and U (p × N) its HR coefficients, found by

    min_U  ½‖Z − E U B M‖²  +  (λ_m/2)‖Y − R E U‖²  +  λ_φ Σ_pixels ‖[(U D_h)_j; (U D_v)_j]‖₂

(B: the PSF, M: decimation by r, D_h / D_v: horizontal and vertical differences; the last
term is the vector total variation, the l2 norm over all p coefficients and both
directions at each pixel). Split as in the paper, V₁ = UB, V₂ = U, V₃ = UD_h, V₄ = UD_v,
and solved by ADMM (SALSA):

- U: a quadratic problem whose operators are all convolutions, solved exactly in the
  Fourier domain: U = [Σ_i (V_i + D_i) A_iᴴ] (Σ_i A_i A_iᴴ)⁻¹ with A = (B, I, D_h, D_v).
- V₁: per pixel, (Eᵀz + μ ν)/(1 + μ) where an LR pixel is observed (M), ν elsewhere.
- V₂: per pixel, (λ_m (RE)ᵀRE + μ I)⁻¹ (λ_m (RE)ᵀ y + μ ν) where the HR-MSI is valid.
- V₃, V₄: vector soft thresholding with threshold λ_φ / μ.
- D_i ← D_i − (A_i U − V_i).

Settings (the paper leaves p and the weights to the data): p defaults to the number of MS
bands, so that the HR-MSI observes every subspace coefficient at high resolution; with
p > s the remaining p − s coefficients are known only at LR and are filled in by the TV
prior, which on the AVIRIS and EnMAP test scenes with four Sentinel-2 bands cost 1–2 dB
(p = 10: 29.5 dB vs 31.6 dB on AVIRIS). λ_m = 10, λ_φ = 1e-3 (data scaled to a mean of 1),
μ = 0.05 and 200 iterations were chosen on those scenes and a synthetic one. When both
inputs are non-negative the result is clipped at 0: the data are non-negative, and the
subspace fit can undershoot on dark pixels (water), where the spectral angle suffers most.

Invalid pixels are handled by the masks (they are simply not observed); so are wild pixels
(core/protocol/robust.py), which are also left out of the scale and the subspace. The FFT assumes
periodic borders: both inputs are mirrored (symmetric padding, which the protocol's
degradation also uses) by a margin of at least 4 LR pixels and the PSF's reach, so that
the wrap-around seam lies in the padding; the PSF's frequency response includes the
sub-pixel offset of the LR pixel centre ((r − 1)/2 HR pixels) so that the sampling phase
is the protocol's. The data are divided by the mean of the LR-HSI first, so λ_φ does not
depend on the units. R and the PSF are given or estimated (core/protocol/responses.py), R scaled
per MS band to MS units as in CNMF.

Whole-image method: about 16 arrays of p values per (padded) HR pixel and the S-band
float32 output are held in memory, so ``predict`` handles at most ``MAX_PIXELS`` HR
pixels (1024 × 1024; measured at 513 × 513 with 224 bands and p = 4: 0.66 GB, and 12 s
for 50 iterations on two CPU cores, so about 2.6 GB and 3–4 minutes with the default
200 iterations at the limit). A larger common area is fused in overlapping blocks, each by
``predict`` with its own subspace (core/classical/run.py; the paper fuses one image as a
whole).
"""
from __future__ import annotations

import math

import numpy as np
from scipy import fft

from ..feedback import Feedback
from ..linalg import across_bands
from ..protocol.responses import psf_reach
from ..protocol.upsample import bicubic
from . import common

MAX_PIXELS = 1024 * 1024
MIN_MARGIN_LR = 4


def _padded_length(length_lr: int, margin: int, ratio: int) -> int:
    """The smallest LR length ≥ length + 2·margin whose HR length is a fast FFT size."""
    n = length_lr + 2 * margin
    while fft.next_fast_len(n * ratio) != n * ratio:
        n += 1
    return n


def _psf_response(psf, length: int) -> np.ndarray:
    """1-D frequency response of c(n) = Σ_k taps[k] x(n + first + k) on a periodic grid of ``length``."""
    offsets = psf.first + np.arange(psf.taps.size)
    frequencies = np.arange(length)[:, None]
    return (psf.taps[None, :] * np.exp(2j * np.pi * frequencies * offsets[None, :] / length)).sum(axis=1)


def _difference_response(length: int) -> np.ndarray:
    """Response of the forward difference x(n + 1) − x(n)."""
    return np.exp(2j * np.pi * np.arange(length) / length) - 1.0


def _scaled_inputs(lr, lr_valid, hr, hr_valid, ratio: int, response, psf, bounds: tuple | None):
    """(Z, Y, LR mask, HR mask, coupling, scale, non-negative): the data divided by the LR-HSI's mean |value|.

    Wild pixels (core/protocol/robust.py) are treated like invalid ones: not observed, and left out of
    the scale, the unit gains and the subspace; one of them would otherwise set the scale and
    become the leading singular vector, i.e. change the whole image.
    """
    rows, cols = lr.shape[1] * ratio, lr.shape[2] * ratio
    lr_keep, hr_keep = common.screened(lr, lr_valid, hr[:, :rows, :cols], hr_valid[:rows, :cols], bounds)
    z = common.filled(lr, lr_keep).astype(np.float64)
    y = common.filled(hr[:, :rows, :cols], hr_keep).astype(np.float64)
    non_negative = bool(z.min() >= 0 and y.min() >= 0)
    coupling = common.unit_gains(response, z, lr_keep, y, hr_keep, ratio, psf)[:, None] * response
    scale = max(float(np.abs(z[:, lr_keep]).mean()) if lr_keep.any() else float(np.abs(z).mean()), 1e-12)
    return z / scale, y / scale, lr_keep, hr_keep, coupling, scale, non_negative


def _subspace(z: np.ndarray, keep: np.ndarray, size: int) -> np.ndarray:
    """Signal subspace: the ``size`` leading left singular vectors of the kept LR spectra."""
    pixels = z[:, keep] if keep.any() else z.reshape(z.shape[0], -1)
    return np.linalg.svd(pixels, full_matrices=False)[0][:, :max(1, min(size, *pixels.shape))]


def _mirrored(z, y, lr_keep, hr_keep, psf, ratio: int):
    """Both images and masks mirrored into a padded, FFT-friendly periodic domain, and the HR padding."""
    h, w = z.shape[1:]
    margin = max(MIN_MARGIN_LR, int(math.ceil(psf_reach(psf, ratio) / ratio)) + 2)
    hp, wp = _padded_length(h, margin, ratio), _padded_length(w, margin, ratio)
    pad_lr = ((margin, hp - h - margin), (margin, wp - w - margin))
    pad_hr = tuple((a * ratio, b * ratio) for a, b in pad_lr)
    return (np.pad(z, ((0, 0),) + pad_lr, mode="symmetric"), np.pad(lr_keep, pad_lr, mode="symmetric"),
            np.pad(y, ((0, 0),) + pad_hr, mode="symmetric"), np.pad(hr_keep, pad_hr, mode="symmetric"), pad_hr)


def _solve(z_pad, observed, y_pad, ms_valid, basis, ms_matrix, psf, ratio: int, *, lambda_phi: float,
           lambda_m: float, mu: float, iterations: int, feedback: Feedback) -> np.ndarray:
    """The ADMM of the module docstring on the padded domain; returns U (p × padded HR rows × cols)."""
    rows_p, cols_p = y_pad.shape[1:]
    blur = _psf_response(psf, rows_p)[:, None] * _psf_response(psf, cols_p)[None, :cols_p // 2 + 1]
    diff_h = np.broadcast_to(_difference_response(cols_p)[None, :cols_p // 2 + 1], blur.shape)
    diff_v = np.broadcast_to(_difference_response(rows_p)[:, None], blur.shape)
    operators = (blur, np.ones_like(blur), diff_h, diff_v)
    denominator = sum(np.abs(a) ** 2 for a in operators)

    def forward(values):
        return fft.rfft2(values, axes=(-2, -1), workers=-1)

    def inverse(spectrum):
        return fft.irfft2(spectrum, s=(rows_p, cols_p), axes=(-2, -1), workers=-1)

    # Data terms in subspace coordinates.
    p = basis.shape[1]
    hs_coeff = across_bands(basis.T, z_pad)                                 # p × hp × wp
    ms_solve = np.linalg.inv(lambda_m * ms_matrix.T @ ms_matrix + mu * np.eye(p))
    ms_term = lambda_m * across_bands(ms_matrix.T, y_pad)                   # p × rows_p × cols_p
    sampled = (slice(None), slice(0, rows_p, ratio), slice(0, cols_p, ratio))

    u = bicubic(hs_coeff, ratio).astype(np.float64)
    spectrum = forward(u)
    splits = [inverse(spectrum * a) for a in operators]
    duals = [np.zeros_like(u) for _ in operators]
    threshold = lambda_phi / mu
    applied = splits
    for iteration in range(iterations):
        feedback.check_cancelled()
        spectrum = sum(forward(v + d) * np.conj(a) for v, d, a in zip(splits, duals, operators)) / denominator
        applied = [inverse(spectrum * a) for a in operators]             # UB, U, UD_h, UD_v
        targets = [a - d for a, d in zip(applied, duals)]
        # V1: the LR-HSI where it is observed.
        v1 = targets[0]
        block = v1[sampled]
        block[:, observed] = (hs_coeff[:, observed] + mu * block[:, observed]) / (1.0 + mu)
        v1[sampled] = block
        # V2: the HR-MSI where it is valid.
        v2 = targets[1]
        solved = across_bands(ms_solve, ms_term + mu * v2)
        v2 = np.where(ms_valid[None], solved, v2)
        # V3, V4: vector soft thresholding over coefficients and both directions.
        norm = np.sqrt((targets[2] ** 2).sum(axis=0) + (targets[3] ** 2).sum(axis=0))
        shrink = np.maximum(norm - threshold, 0.0) / np.maximum(norm, 1e-300)
        splits = [v1, v2, targets[2] * shrink, targets[3] * shrink]
        duals = [d - (a - v) for d, a, v in zip(duals, applied, splits)]
        feedback.progress((iteration + 1) / iterations)
    return applied[1]


def predict(lr, lr_valid, hr, hr_valid, ratio: int, *, subspace: int = 0, lambda_phi: float = 1e-3,
            lambda_m: float = 10.0, mu: float = 0.05, iterations: int = 200, mtf_gain: float = 0.0,
            response=None, sigma=None, bounds: tuple | None = None, feedback: Feedback | None = None,
            **_) -> np.ndarray:
    """Fused (S, r·h, r·w) float32 of the whole image; see the module docstring. ``bounds`` are the (LR, HR)
    fences that screen wild pixels (core/protocol/robust.py), by default those of these pixels."""
    feedback = feedback or Feedback()
    common.check_whole_image_size("HySure", hr.shape[1] * hr.shape[2], MAX_PIXELS)
    rows, cols = lr.shape[1] * ratio, lr.shape[2] * ratio
    response, psf = common.degradation_model(lr, lr_valid, hr, hr_valid, ratio, response, sigma, mtf_gain)
    z, y, lr_keep, hr_keep, coupling, scale, non_negative = _scaled_inputs(lr, lr_valid, hr, hr_valid, ratio,
                                                                           response, psf, bounds)
    basis = _subspace(z, lr_keep, subspace if subspace > 0 else hr.shape[0])
    z_pad, observed, y_pad, ms_valid, pad_hr = _mirrored(z, y, lr_keep, hr_keep, psf, ratio)
    u = _solve(z_pad, observed, y_pad, ms_valid, basis, coupling @ basis, psf, ratio, lambda_phi=lambda_phi,
               lambda_m=lambda_m, mu=mu, iterations=iterations, feedback=feedback)
    u = u[:, pad_hr[0][0]:pad_hr[0][0] + rows, pad_hr[1][0]:pad_hr[1][0] + cols]
    # float32 product: the output is the largest array (S values per HR pixel).
    fused = across_bands((basis * scale).astype(np.float32), u.astype(np.float32))
    if non_negative:
        # Non-negative data have a non-negative HR-HSI; the subspace fit can undershoot on dark pixels.
        np.maximum(fused, 0.0, out=fused)
    return fused
