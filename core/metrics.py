"""Quality metrics of PROTOCOL.md "Metrics", implemented once for the whole plugin.

Every function takes the reference X and the estimate X̂ as (bands, rows, cols) arrays in
physical units and a (rows, cols) mask of valid pixels; the caller passes good bands only.
Conventions (fixed by PROTOCOL.md, where toolboxes disagree): SAM in degrees, PSNR with a
per-band peak equal to the reference band's maximum, ERGAS with 100 / r, SSIM with an
11 × 11 Gaussian window (σ = 1.5), population covariance and a per-band data range.
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import binary_erosion, gaussian_filter

SSIM_SIGMA = 1.5
SSIM_TRUNCATE = 3.5          # gives the 11 × 11 window
SSIM_K1, SSIM_K2 = 0.01, 0.03
SSIM_RADIUS = int(SSIM_TRUNCATE * SSIM_SIGMA + 0.5)

HIGHER_IS_BETTER = {"PSNR": True, "SSIM": True, "CC": True, "SAM": False, "ERGAS": False, "RMSE": False}


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
    ref, est = _pixels(reference, valid), _pixels(estimate, valid)
    norms = np.linalg.norm(ref, axis=0) * np.linalg.norm(est, axis=0)
    usable = norms > 0
    cosine = np.clip((ref * est).sum(axis=0)[usable] / norms[usable], -1.0, 1.0)
    return np.arccos(cosine), int((~usable).sum())


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
    ref = np.where(valid, reference, 0.0).astype(np.float64)
    est = np.where(valid, estimate, 0.0).astype(np.float64)
    data_range = ref[valid].max() - ref[valid].min()
    c1, c2 = (SSIM_K1 * data_range) ** 2, (SSIM_K2 * data_range) ** 2

    def blur(image):
        return gaussian_filter(image, sigma=SSIM_SIGMA, truncate=SSIM_TRUNCATE, mode="reflect")

    mu_x, mu_y = blur(ref), blur(est)
    var_x = blur(ref * ref) - mu_x ** 2
    var_y = blur(est * est) - mu_y ** 2
    cov = blur(ref * est) - mu_x * mu_y
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x ** 2 + mu_y ** 2 + c1) * (var_x + var_y + c2))
    usable = binary_erosion(valid, structure=np.ones((2 * SSIM_RADIUS + 1,) * 2), border_value=1)
    usable[:SSIM_RADIUS] = usable[-SSIM_RADIUS:] = False
    usable[:, :SSIM_RADIUS] = usable[:, -SSIM_RADIUS:] = False
    return float(ssim_map[usable].mean()) if usable.any() else float("nan")


def ssim_per_band(reference, estimate, valid) -> np.ndarray:
    return np.array([ssim_band(reference[b], estimate[b], valid) for b in range(reference.shape[0])])


def assess(reference: np.ndarray, estimate: np.ndarray, valid: np.ndarray, ratio: int,
           border: int = 0) -> dict:
    """All reference-based metrics of PROTOCOL.md for one estimate, with per-band tables.

    Bands on which a metric is undefined are left out of that metric and listed: zero
    variance for SSIM and CC (PROTOCOL.md), a peak ≤ 0 for PSNR and a zero mean for ERGAS
    (such as the zeroed water-vapour bands of some AVIRIS products).
    """
    if reference.shape != estimate.shape:
        raise ValueError(f"reference {reference.shape} and estimate {estimate.shape} differ in shape")
    valid = valid.copy()
    if border:
        valid[:border] = valid[-border:] = False
        valid[:, :border] = valid[:, -border:] = False
    if not valid.any():
        raise ValueError("no valid pixel is left to compare")
    ref_pixels = _pixels(reference, valid)
    bands = reference.shape[0]
    flat = ref_pixels.std(axis=1) == 0
    no_peak = ref_pixels.max(axis=1) <= 0
    zero_mean = ref_pixels.mean(axis=1) == 0
    psnr_b = np.full(bands, np.nan)
    ssim_b = np.full(bands, np.nan)
    cc_b = np.full(bands, np.nan)
    has_peak, varying = np.flatnonzero(~no_peak), np.flatnonzero(~flat)
    psnr_b[has_peak] = psnr_per_band(reference[has_peak], estimate[has_peak], valid)
    if varying.size:
        ssim_b[varying] = ssim_per_band(reference[varying], estimate[varying], valid)
        cc_b[varying] = cc_per_band(reference[varying], estimate[varying], valid)
    with_mean = np.flatnonzero(~zero_mean)
    sam_deg, skipped = sam(reference, estimate, valid)

    def mean_of(values, used):
        return float(np.mean(values[used])) if used.size else float("nan")

    return {
        "PSNR": mean_of(psnr_b, has_peak),
        "SAM": sam_deg,
        "ERGAS": ergas(reference[with_mean], estimate[with_mean], valid, ratio) if with_mean.size else float("nan"),
        "SSIM": mean_of(ssim_b, varying),
        "RMSE": rmse(reference, estimate, valid),
        "CC": mean_of(cc_b, varying),
        "valid_pixels": int(valid.sum()),
        "sam_zero_norm_pixels": skipped,
        "zero_variance_bands": np.flatnonzero(flat).tolist(),
        "zero_peak_bands": np.flatnonzero(no_peak).tolist(),
        "zero_mean_bands": np.flatnonzero(zero_mean).tolist(),
        "per_band": {"PSNR": psnr_b.tolist(), "SSIM": ssim_b.tolist(), "CC": cc_b.tolist(),
                     "RMSE": np.sqrt(band_mse(reference, estimate, valid)).tolist()},
    }
