"""Quality metrics of PROTOCOL.md "Metrics", implemented once for the whole plugin.

Every function takes the reference X and the estimate X̂ as (bands, rows, cols) arrays in
physical units and a (rows, cols) mask of valid pixels; the caller passes good bands only.
Conventions (fixed by PROTOCOL.md, where toolboxes disagree): SAM in degrees, PSNR with a
per-band peak equal to the reference band's maximum, ERGAS with 100 / r, SSIM with an
11 × 11 Gaussian window (σ = 1.5), population covariance and a per-band data range.
"""
from __future__ import annotations

import functools

import numpy as np
from scipy.ndimage import binary_erosion, gaussian_filter

from ..linalg import across_bands, matmul
from . import robust

SSIM_SIGMA = 1.5
SSIM_TRUNCATE = 3.5          # gives the 11 × 11 window
SSIM_K1, SSIM_K2 = 0.01, 0.03
SSIM_RADIUS = int(SSIM_TRUNCATE * SSIM_SIGMA + 0.5)

HIGHER_IS_BETTER = {"PSNR": True, "SAM": False, "ERGAS": False, "SSIM": True, "RMSE": False, "CC": True,
                    "UIQI": True, "Q2n": True, "QNR": True, "D_lambda": False, "D_s": False}


def _pixels(array: np.ndarray, valid: np.ndarray) -> np.ndarray:
    return array[:, valid].astype(np.float64)


def rmse(reference, estimate, valid) -> float:
    diff = _pixels(reference, valid) - _pixels(estimate, valid)
    return float(np.sqrt(np.mean(diff ** 2)))


def band_mse(reference, estimate, valid) -> np.ndarray:
    diff = _pixels(reference, valid) - _pixels(estimate, valid)
    return np.mean(diff ** 2, axis=1)


def psnr_per_band(reference, estimate, valid) -> np.ndarray:
    peak = _pixels(reference, valid).max(axis=1)
    mse = band_mse(reference, estimate, valid)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(peak ** 2 / mse)


def psnr(reference, estimate, valid) -> float:
    return float(np.mean(psnr_per_band(reference, estimate, valid)))


def sam(reference, estimate, valid) -> tuple[float, int]:
    """Mean spectral angle in degrees and the number of pixels skipped for a zero norm."""
    angles, skipped = sam_angles(reference, estimate, valid)
    return (float(np.degrees(angles.mean())) if angles.size else float("nan")), skipped


def sam_angles(reference, estimate, valid) -> tuple[np.ndarray, int]:
    products, norms = _spectral_products(reference, estimate, valid)
    usable = norms > 0
    cosine = np.clip(products[usable] / norms[usable], -1.0, 1.0)
    return np.arccos(cosine), int((~usable).sum())


# Bands copied to float64 at a time by sums over pixels or over bands: a 3000-pixel-wide strip of 32 rows holds
# 770 kB per band in float64.
GROUP_BANDS = 16


def band_groups(count: int) -> list:
    """Slices of GROUP_BANDS bands covering ``count`` bands: per-band sums come out the same, in a fraction of
    the memory."""
    return [slice(start, min(count, start + GROUP_BANDS)) for start in range(0, count, GROUP_BANDS)]


def _spectral_products(reference, estimate, valid) -> tuple[np.ndarray, np.ndarray]:
    """(⟨x, y⟩, ‖x‖ ‖y‖) per valid pixel in float64, summed over the bands a group at a time."""
    count = int(np.count_nonzero(valid))
    products, ref_square, est_square = np.zeros(count), np.zeros(count), np.zeros(count)
    for group in band_groups(reference.shape[0]):
        ref, est = _pixels(reference[group], valid), _pixels(estimate[group], valid)
        products += (ref * est).sum(axis=0)
        ref_square += (ref ** 2).sum(axis=0)
        est_square += (est ** 2).sum(axis=0)
    return products, np.sqrt(ref_square) * np.sqrt(est_square)


def ergas(reference, estimate, valid, ratio: int) -> float:
    mean = _pixels(reference, valid).mean(axis=1)
    return float(100.0 / ratio * np.sqrt(np.mean(band_mse(reference, estimate, valid) / mean ** 2)))


def cc_per_band(reference, estimate, valid) -> np.ndarray:
    ref, est = _pixels(reference, valid), _pixels(estimate, valid)
    ref = ref - ref.mean(axis=1, keepdims=True)
    est = est - est.mean(axis=1, keepdims=True)
    denominator = np.sqrt((ref ** 2).sum(axis=1) * (est ** 2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (ref * est).sum(axis=1) / denominator


def ssim_band(reference: np.ndarray, estimate: np.ndarray, valid: np.ndarray) -> float:
    """SSIM of one band, averaged over valid pixels whose whole window is valid and inside the image."""
    pixels = reference[valid].astype(np.float64)
    values = ssim_map(reference, estimate, valid, pixels.max() - pixels.min())
    usable = ssim_usable(valid)
    usable[:SSIM_RADIUS] = usable[-SSIM_RADIUS:] = False
    usable[:, :SSIM_RADIUS] = usable[:, -SSIM_RADIUS:] = False
    return float(values[usable].mean()) if usable.any() else float("nan")


def ssim_map(reference: np.ndarray, estimate: np.ndarray, valid: np.ndarray, data_range: float) -> np.ndarray:
    """Per-pixel SSIM of one band with the band's ``data_range`` over the whole image.

    A pixel's value depends only on the pixels within SSIM_RADIUS of it, so rows read with a
    halo of SSIM_RADIUS give the same values as the whole image away from the halo.
    """
    ref = np.where(valid, reference, 0.0).astype(np.float64)
    est = np.where(valid, estimate, 0.0).astype(np.float64)
    c1, c2 = (SSIM_K1 * data_range) ** 2, (SSIM_K2 * data_range) ** 2

    def blur(image):
        return gaussian_filter(image, sigma=SSIM_SIGMA, truncate=SSIM_TRUNCATE, mode="reflect")

    # The variances enter only as their sum, so four blurs serve where the textbook form takes five.
    mu_x, mu_y = blur(ref), blur(est)
    mu_xy, mu_squares = mu_x * mu_y, mu_x ** 2 + mu_y ** 2
    variances = blur(ref * ref + est * est) - mu_squares
    cov = blur(ref * est) - mu_xy
    return ((2 * mu_xy + c1) * (2 * cov + c2)) / ((mu_squares + c1) * (variances + c2))


def ssim_usable(valid: np.ndarray) -> np.ndarray:
    """Valid pixels whose whole SSIM window is valid; the array's own edges are left to the caller."""
    return binary_erosion(valid, structure=np.ones((2 * SSIM_RADIUS + 1,) * 2), border_value=1)


def ssim_per_band(reference, estimate, valid) -> np.ndarray:
    return np.array([ssim_band(reference[b], estimate[b], valid) for b in range(reference.shape[0])])


def _compared_pixels(valid: np.ndarray, border: int) -> np.ndarray:
    """``valid`` without a ``border`` of pixels on every side; refuses an empty comparison."""
    valid = valid.copy()
    if border:
        valid[:border] = valid[-border:] = False
        valid[:, :border] = valid[:, -border:] = False
    if not valid.any():
        raise ValueError("no valid pixel is left to compare")
    return valid


def _on_bands(per_band, reference: np.ndarray, estimate: np.ndarray, valid: np.ndarray,
              bands: np.ndarray) -> np.ndarray:
    """``per_band`` evaluated on the listed bands; NaN on the others, where it is undefined."""
    values = np.full(reference.shape[0], np.nan)
    if bands.size:
        values[bands] = per_band(reference[bands], estimate[bands], valid)
    return values


def _mean_over(values: np.ndarray, bands: np.ndarray) -> float:
    return float(np.mean(values[bands])) if bands.size else float("nan")


def assess(reference: np.ndarray, estimate: np.ndarray, valid: np.ndarray, ratio: int,
           border: int = 0, extended: bool = True) -> dict:
    """All reference-based metrics of PROTOCOL.md for one estimate, with per-band tables.

    ``extended=False`` leaves out UIQI and Q2n (NaN), the slow block-wise indices, for
    checks that run often such as validation during training.

    Bands on which a metric is undefined are left out of that metric and listed: zero
    variance for SSIM and CC (PROTOCOL.md), a peak ≤ 0 for PSNR and a zero mean for ERGAS
    (such as the zeroed water-vapour bands of some AVIRIS products).
    """
    if reference.shape != estimate.shape:
        raise ValueError(f"reference {reference.shape} and estimate {estimate.shape} differ in shape")
    valid = _compared_pixels(valid, border)
    ref_pixels = _pixels(reference, valid)
    flat = ref_pixels.std(axis=1) == 0
    no_peak = ref_pixels.max(axis=1) <= 0
    zero_mean = ref_pixels.mean(axis=1) == 0
    has_peak, varying, with_mean = np.flatnonzero(~no_peak), np.flatnonzero(~flat), np.flatnonzero(~zero_mean)
    psnr_b = _on_bands(psnr_per_band, reference, estimate, valid, has_peak)
    ssim_b = _on_bands(ssim_per_band, reference, estimate, valid, varying)
    cc_b = _on_bands(cc_per_band, reference, estimate, valid, varying)
    uiqi_b = _on_bands(uiqi_per_band, reference, estimate, valid, varying if extended else varying[:0])
    q2n_value, q2n_bands = q2n(reference, estimate, valid) if extended else (float("nan"), 0)
    sam_deg, skipped = sam(reference, estimate, valid)
    return {
        "PSNR": _mean_over(psnr_b, has_peak),
        "SAM": sam_deg,
        "ERGAS": ergas(reference[with_mean], estimate[with_mean], valid, ratio) if with_mean.size else float("nan"),
        "SSIM": _mean_over(ssim_b, varying),
        "RMSE": rmse(reference, estimate, valid),
        "CC": _mean_over(cc_b, varying),
        "UIQI": float(np.nanmean(uiqi_b[varying])) if varying.size and np.isfinite(uiqi_b[varying]).any()
        else float("nan"),
        "Q2n": q2n_value,
        "q2n_padded_bands": q2n_bands,
        "valid_pixels": int(valid.sum()),
        "sam_zero_norm_pixels": skipped,
        "zero_variance_bands": np.flatnonzero(flat).tolist(),
        "zero_peak_bands": np.flatnonzero(no_peak).tolist(),
        "zero_mean_bands": np.flatnonzero(zero_mean).tolist(),
        "per_band": {"PSNR": psnr_b.tolist(), "SSIM": ssim_b.tolist(), "CC": cc_b.tolist(), "UIQI": uiqi_b.tolist(),
                     "RMSE": np.sqrt(band_mse(reference, estimate, valid)).tolist()},
    }


UIQI_BLOCK = 32


def uiqi_band(reference: np.ndarray, estimate: np.ndarray, valid: np.ndarray, block: int = UIQI_BLOCK) -> float:
    """Wang–Bovik universal image quality index of one band, averaged over non-overlapping
    ``block`` × ``block`` tiles that are wholly valid (one tile of the smaller side when the
    image is smaller than a block). Q = 4 σxy μx μy / ((σx² + σy²)(μx² + μy²)).
    """
    q = uiqi_tiles(reference, estimate, valid, min(block, *reference.shape))
    return float(q.mean()) if q.size else float("nan")


def uiqi_tiles(reference: np.ndarray, estimate: np.ndarray, valid: np.ndarray, block: int) -> np.ndarray:
    """UIQI of every wholly valid ``block`` × ``block`` tile, in row-major order of the tiles."""
    rows, cols = reference.shape
    nh, nw = rows // block, cols // block

    def tiles(a):
        return a[:nh * block, :nw * block].reshape(nh, block, nw, block).swapaxes(1, 2).reshape(nh * nw, block * block)

    x, y = tiles(reference.astype(np.float64)), tiles(estimate.astype(np.float64))
    usable = tiles(valid).all(axis=1)
    x, y = x[usable], y[usable]
    mx, my = x.mean(axis=1), y.mean(axis=1)
    vx, vy = x.var(axis=1), y.var(axis=1)
    cov = ((x - mx[:, None]) * (y - my[:, None])).mean(axis=1)
    numerator = 4 * cov * mx * my
    denominator = (vx + vy) * (mx ** 2 + my ** 2)
    # A flat tile identical in both images is perfect; a flat tile in one only is not.
    return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1.0),
                    np.where((vx == vy) & (mx == my), 1.0, 0.0))


def uiqi_per_band(reference, estimate, valid, block: int = UIQI_BLOCK) -> np.ndarray:
    return np.array([uiqi_band(reference[b], estimate[b], valid, block) for b in range(reference.shape[0])])


QNR_RIDGE = 1e-6             # ridge penalty of the R̂ fit, relative to the mean eigenvalue of ZZᵀ
QNR_MIN_FIT_PIXELS = 25      # LR pixels needed to fit R̂ (a 5 × 5 LR window)


def qnr_lr_block(ratio: int) -> int:
    """UIQI block of D_λ in LR pixels: the ground area of the 32 × 32 HR blocks of D_s."""
    return max(4, round(UIQI_BLOCK / ratio))


def estimate_response(lr_pixels: np.ndarray, ms_pixels: np.ndarray) -> np.ndarray:
    """R̂ (MS bands × HS bands) with Y↓ ≈ R̂ Z, from pixels as columns (bands × pixels).

    Ridge regression, R̂ = Y↓Zᵀ(ZZᵀ + λI)⁻¹ with λ = QNR_RIDGE · trace(ZZᵀ) / S: HS bands of
    a real or simulated scene are so collinear (ZZᵀ has a condition number of 1e8 and
    beyond) that plain least squares fits the MS noise with coefficients of ±1e5, and R̂F
    then amplifies any small error of the fused image F into garbage. λ is relative to the
    mean eigenvalue, so it does not depend on units; directions carrying less than 1e-6 of
    the mean energy (float32 rounding, noise) are damped, the scene's signal is not.
    Pixels that are wild in either image (core/protocol/robust.py) are left out of the fit, so a
    saturated or corrupted pixel cannot steer R̂.
    """
    keep = robust.inliers(np.concatenate([lr_pixels, ms_pixels]), np.ones(lr_pixels.shape[1], bool))
    z, y = lr_pixels[:, keep].astype(np.float64), ms_pixels[:, keep].astype(np.float64)
    return response_from_moments(matmul(z, z.T), matmul(z, y.T))


def response_from_moments(gram: np.ndarray, cross: np.ndarray) -> np.ndarray:
    """R̂ of :func:`estimate_response` from ZZᵀ (S × S) and ZY↓ᵀ (S × s) over the pixels of the fit."""
    penalty = QNR_RIDGE * np.trace(gram) / gram.shape[0]
    return np.linalg.solve(gram + penalty * np.eye(gram.shape[0]), cross).T


def qnr(fused: np.ndarray, fused_valid: np.ndarray, lr_hsi: np.ndarray, lr_valid: np.ndarray,
        hr_msi: np.ndarray, ratio: int, psf, *, step=None) -> dict:
    """Quality with No Reference, QNR = (1 − D_λ)(1 − D_s) (Alparone et al., "Multispectral and
    panchromatic data fusion assessment without reference", PE&RS 74(2), 2008), adapted to
    HS/MS fusion through Wald's consistency properties:

    - D_λ, spectral distortion: 1 − mean over HS bands of UIQI(F↓, Z), the fused image
      degraded by the protocol PSF against the LR-HSI (the MTF-based index of Khan et al.,
      IEEE TGRS 47(11), 2009), on blocks of :func:`qnr_lr_block` LR pixels, the ground area
      of D_s's 32 × 32 HR blocks (Alparone et al. compare LR images on blocks of S / r too);
    - D_s, spatial distortion: 1 − mean over MS bands of UIQI(R̂F, Y), the fused image
      seen through a spectral response R̂ against the HR-MSI, on 32 × 32 blocks. R̂ is
      estimated at the LR scale, where Y↓ ≈ R̂ Z holds for any consistent pair, by ridge
      regression on the pixels that are not wild (:func:`estimate_response`).

    A perfect fusion of a simulated pair gives D_λ = D_s = 0 and QNR = 1; blur raises D_s
    and spectral errors raise D_λ. ``psf`` must be the one that relates the two scales.
    Where an index cannot be computed it is NaN and ``<key>_reason`` says why in plain words.
    ``step(fraction done)`` is called between the parts of the work; it may raise (a cancel).
    """
    from .degradation import spatial_degrade

    step = step or (lambda fraction: None)
    degraded, degraded_valid = _degrade_by_bands(fused, fused_valid, ratio, psf, lambda f: step(0.6 * f))
    h, w = min(degraded.shape[1], lr_hsi.shape[1]), min(degraded.shape[2], lr_hsi.shape[2])
    low_valid = degraded_valid[:h, :w] & lr_valid[:h, :w]
    if not low_valid.any():
        return qnr_result(float("nan"), QNR_NO_OVERLAP, float("nan"), QNR_NO_OVERLAP)
    block = qnr_lr_block(ratio)
    d_lambda = 1.0 - _mean_uiqi(degraded[:, :h, :w], lr_hsi[:, :h, :w], low_valid, block)
    step(0.65)
    ms_low, ms_low_valid = spatial_degrade(hr_msi, fused_valid, ratio, psf)
    fit = low_valid & ms_low_valid[:h, :w]
    d_s = float("nan")
    if fit.sum() >= QNR_MIN_FIT_PIXELS:
        response = estimate_response(lr_hsi[:, :h, :w][:, fit], ms_low[:, :h, :w][:, fit])
        projected = _project_by_rows(response, fused, lambda f: step(0.7 + 0.25 * f))
        d_s = 1.0 - _mean_uiqi(projected, hr_msi, fused_valid, UIQI_BLOCK)
    return qnr_result(d_lambda, qnr_lambda_reason(d_lambda, ratio), d_s, qnr_spatial_reason(d_s, int(fit.sum())))


QNR_NO_OVERLAP = ("the LR-HSI and HR-MSI do not overlap the fused raster's valid pixels (no LR pixel is valid in the "
                  "LR-HSI and wholly covered by valid fused and HR-MSI pixels)")


def qnr_lambda_reason(d_lambda: float, ratio: int) -> str | None:
    """Why D_λ is NaN (no wholly valid LR block), or None."""
    block = qnr_lr_block(ratio)
    return None if np.isfinite(d_lambda) else (
        f"no {block} × {block} block of LR pixels ({block * ratio} × {block * ratio} fused pixels) is wholly valid in "
        "both the LR-HSI and the fused raster")


def qnr_spatial_reason(d_s: float, fit_pixels: int) -> str | None:
    """Why D_s is NaN (too few pixels to fit R̂, or no wholly valid block), or None."""
    if fit_pixels < QNR_MIN_FIT_PIXELS:
        return (f"fewer than {QNR_MIN_FIT_PIXELS} valid LR pixels ({fit_pixels}) to estimate the spectral response "
                "that links the LR-HSI to the HR-MSI")
    return None if np.isfinite(d_s) else (
        f"no {UIQI_BLOCK} × {UIQI_BLOCK} block of pixels is wholly valid in both the fused raster and the HR-MSI")


# Bands degraded, and rows projected, between two calls of qnr's ``step``: well under a second each.
QNR_STEP_BANDS = 16
QNR_STEP_ROWS = 64


def _degrade_by_bands(values, valid, ratio: int, psf, step) -> tuple:
    """spatial_degrade of a few bands at a time: every band is degraded on its own, so the values are the same."""
    from .degradation import spatial_degrade

    parts, footprint = [], None
    for start in range(0, values.shape[0], QNR_STEP_BANDS):
        step(start / values.shape[0])
        part, footprint = spatial_degrade(values[start:start + QNR_STEP_BANDS], valid, ratio, psf)
        parts.append(part)
    return np.concatenate(parts), footprint


def _project_by_rows(response: np.ndarray, values: np.ndarray, step) -> np.ndarray:
    """R̂ applied to every pixel, a few rows at a time (each pixel's sum is the same as at once)."""
    projected = np.empty((response.shape[0],) + values.shape[1:])
    for start in range(0, values.shape[1], QNR_STEP_ROWS):
        step(start / values.shape[1])
        rows = slice(start, start + QNR_STEP_ROWS)
        projected[:, rows] = project(response, values[:, rows])
    return projected


def project(response: np.ndarray, values: np.ndarray) -> np.ndarray:
    """R̂ applied to the spectrum of every pixel, in float64."""
    return across_bands(response, values.astype(np.float64))


def _mean_uiqi(reference, estimate, valid, block: int) -> float:
    """Mean UIQI over bands; NaN (without a warning) when no block is wholly valid."""
    values = uiqi_per_band(reference, estimate, valid, block)
    return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


def qnr_result(d_lambda: float, lambda_reason, d_s: float, spatial_reason) -> dict:
    result = {"QNR": (1.0 - d_lambda) * (1.0 - d_s), "D_lambda": d_lambda, "D_s": d_s}
    if lambda_reason:
        result["D_lambda_reason"] = f"D_λ not computed: {lambda_reason}."
    if spatial_reason:
        result["D_s_reason"] = f"D_s not computed: {spatial_reason}."
    if lambda_reason and lambda_reason == spatial_reason:
        result["QNR_reason"] = f"QNR not computed: {lambda_reason}."
    elif lambda_reason or spatial_reason:
        causes = [f"{cause}, so {name} is undefined" for name, cause in (("D_λ", lambda_reason),
                                                                         ("D_s", spatial_reason)) if cause]
        result["QNR_reason"] = "QNR not computed: " + "; ".join(causes) + "."
    return result


def sam_map(reference: np.ndarray, estimate: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Per-pixel spectral angle in degrees; NaN where invalid or where a norm is zero."""
    out = np.full(valid.shape, np.nan)
    products, norms = _spectral_products(reference, estimate, valid)
    with np.errstate(invalid="ignore", divide="ignore"):
        cosine = np.clip(products / norms, -1.0, 1.0)
    out[valid] = np.where(norms > 0, np.degrees(np.arccos(cosine)), np.nan)
    return out


def _conjugate(a: np.ndarray) -> np.ndarray:
    out = -a
    out[0] = a[0]
    return out


def _hypercomplex_product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cayley–Dickson product of hypercomplex numbers stored as (2^n components, pixels)."""
    if a.shape[0] == 1:
        return a * b
    half = a.shape[0] // 2
    a1, a2, b1, b2 = a[:half], a[half:], b[:half], b[half:]
    return np.concatenate([_hypercomplex_product(a1, b1) - _hypercomplex_product(_conjugate(b2), a2),
                           _hypercomplex_product(b2, a1) + _hypercomplex_product(a2, _conjugate(b1))])


def _product_signs(size: int) -> np.ndarray:
    """S with e_i e_j = S[i, j] e_(i xor j) for the basis of :func:`_hypercomplex_product`.

    From (a1, a2)(b1, b2) = (a1 b1 − b2* a2, b2 a1 + a2 b1*) on basis elements, where the
    conjugate keeps e_0 and negates every other e_k.
    """
    signs = np.ones((1, 1))
    while signs.shape[0] < size:
        half = signs.shape[0]
        conjugate = np.where(np.arange(half) == 0, 1.0, -1.0)
        signs = np.block([[signs, signs.T], [signs * conjugate[None, :], -signs.T * conjugate[None, :]]])
    return signs


@functools.lru_cache(maxsize=4)
def _product_terms(size: int) -> tuple:
    """(partner, signs) of :func:`_mean_product`: partner[i, k] is the j with i xor j = k, signs[i, k] the sign
    of e_i e_partner[i, k]."""
    rows = np.arange(size)[:, None]
    partner = rows ^ np.arange(size)[None, :]
    return partner, _product_signs(size)[rows, partner]


def _mean_product(a: np.ndarray, b: np.ndarray, size: int = 0) -> np.ndarray:
    """Mean over pixels of the hypercomplex product of ``a`` and ``b`` (components × pixels), of ``size``
    components (default: ``a``'s); components past those given are zero.

    The product is bilinear and maps e_i e_j to ±e_(i xor j), so its mean is a signed sum of
    the components' cross-moments: one matrix product, where the product pixel by pixel
    takes size² NumPy calls (65536 for 200 bands), minutes on a large raster. The zero components
    take no part in the matrix product.
    """
    size = size or a.shape[0]
    moments = np.zeros((size, size))
    moments[:a.shape[0], :b.shape[0]] = matmul(a, b.T) / a.shape[1]
    partner, signs = _product_terms(size)
    return (signs * moments[np.arange(size)[:, None], partner]).sum(axis=0)


def q2n(reference: np.ndarray, estimate: np.ndarray, valid: np.ndarray, block: int = UIQI_BLOCK) -> tuple:
    """Q2n (Garzelli & Nencini, "Hypercomplex quality assessment of multi/hyperspectral images",
    IEEE GRSL 6(4), 2009): every pixel's spectrum is a hypercomplex number of 2^n components,
    Q2n = 4 |σ_zẑ| |z̄| |ẑ̄| / ((σ_z² + σ_ẑ²)(|z̄|² + |ẑ̄|²)) per block, averaged over wholly
    valid ``block`` × ``block`` tiles, with σ_zẑ the hypercomplex covariance E[(z − z̄)(ẑ − ẑ̄)*].

    Band padding rule: with a band count that is not a power of two, both images get bands
    of zeros up to the next power of two (zeros add nothing to any modulus). Returns
    (Q2n, padded band count). With one band Q2n is UIQI.
    """
    bands, rows, cols = reference.shape
    size = q2n_components(bands)
    block = min(block, rows, cols)
    values = [q2n_tile(reference[:, r0:r0 + block, c0:c0 + block], estimate[:, r0:r0 + block, c0:c0 + block], size)
              for r0 in range(0, rows - block + 1, block) for c0 in range(0, cols - block + 1, block)
              if valid[r0:r0 + block, c0:c0 + block].all()]
    return (float(np.mean(values)) if values else float("nan")), size


def q2n_components(bands: int) -> int:
    """The hypercomplex dimension of Q2n: ``bands`` rounded up to a power of two."""
    return 1 << max(0, (bands - 1).bit_length())


def q2n_tile(reference: np.ndarray, estimate: np.ndarray, size: int) -> float:
    """Q2n of one wholly valid (bands, block, block) tile, its bands padded with zeros to ``size`` (the zeros
    add nothing to any sum below, so they are left out)."""
    bands = reference.shape[0]
    z = reference.reshape(bands, -1).astype(np.float64)
    w = estimate.reshape(bands, -1).astype(np.float64)
    mz, mw = z.mean(axis=1, keepdims=True), w.mean(axis=1, keepdims=True)
    dz, dw = z - mz, w - mw
    covariance = _mean_product(dz, _conjugate(dw), size)
    var_z, var_w = (dz ** 2).sum(axis=0).mean(), (dw ** 2).sum(axis=0).mean()
    norm_z, norm_w = np.sqrt((mz ** 2).sum()), np.sqrt((mw ** 2).sum())
    denominator = (var_z + var_w) * (norm_z ** 2 + norm_w ** 2)
    return (4 * np.linalg.norm(covariance) * norm_z * norm_w / denominator if denominator > 0
            else float(np.array_equal(z, w)))
