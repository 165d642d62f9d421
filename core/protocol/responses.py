"""Estimating the spectral response matrix R and the Gaussian PSF from an LR-HSI / HR-MSI pair.

Real pairs come without their degradation model, yet CNMF, HySure and the grouping of
GSA / GLP need R (s × S) and the PSF. The estimate rests on the observation model of
PROTOCOL.md, Z = D_σ(X) and Y = R X: the spatial degradation D_σ is linear and acts band
by band, so

    D_σ(Y) = R D_σ(X) = R Z,

i.e. the HR-MSI degraded with the right PSF is, on the LR grid, an exact non-negative
combination of the HS bands. This is the identity Simões, Bioucas-Dias, Almeida and
Chanussot (2015, "A convex formulation for hyperspectral image superresolution via
subspace-based regularization", IEEE TGRS 53(6), Sec. IV) estimate both responses from;
here the PSF is the protocol's Gaussian, so it has one parameter, σ (HR pixels).

- Pixels: LR pixels valid in Z whose PSF (at the widest σ searched) sees only valid
  HR-MSI pixels; near invalid ones the normalised convolution re-weights the PSF and
  the identity above does not hold. Wild pixels (core/protocol/robust.py: outside a far-out fence
  around each band's 1–99 % range, e.g. a saturated or corrupted pixel) count as invalid
  here, in either image: one of them would otherwise dominate both least-squares fits.
- σ needs spatial detail: when the LR-HSI or the HR-MSI is constant or nearly so (every
  band's std / rms over the used pixels below ``MIN_SPATIAL_VARIATION``), every σ fits
  alike, and the estimate is refused (:class:`SigmaNotIdentifiable`) instead of
  reporting an arbitrary point of the search. With σ given, R is still estimated (only
  its action on the spectra present is determined, as below).
- σ minimises the relative residual of the least-squares fit of D_σ(Y) on Z, over
  σ/r ∈ [0.05, 0.95] (MTF gains 0.99 … 0.01): a log-spaced grid, then Brent's method in
  the bracket around the best grid point. The fit for a given σ is a projection onto the
  column space of Z (one SVD for all σ).
- R: at that σ, non-negative least squares of each degraded MS band on the HS bands
  (Lawson–Hanson NNLS on the QR factor, so the cost does not grow with the pixel count).
  No smoothness penalty by default: on real scenes (many materials, full spectral rank)
  the unpenalised NNLS recovers R exactly from a noise-free pair, and any penalty biases
  the sharp edges of real responses; ``smoothness`` > 0 adds λ‖D₁r‖² (first differences
  across HS bands, λ relative to the mean squared band) for noisy pairs.
  With fewer LR pixels than HS bands (a 6 × 6-pixel LR-HSI with 200 bands) R is
  underdetermined; with σ given it is still estimated, with the penalty at least
  ``UNDERDETERMINED_SMOOTHNESS``, and the log says so. σ itself is then not estimated.
  A scene that is an exact mixture of few materials (rank < S) does not determine R: only
  R's action on the scene's spectra is determined, which is all that the fusion methods
  use.
- Each row is normalised to sum to 1 (PROTOCOL.md); its sum before normalisation is
  reported as the gain between MS and HS units (1 for a simulated pair).
- ``offset=True`` also fits a free per-MS-band offset (e.g. path radiance or calibration
  differences) by centring both sides; it is reported, not part of R. Off by default:
  simulated pairs and surface-reflectance products have none.

σ is reported with the equivalent MTF gain g = exp(−(π σ / r)² / 2) (the inverse of
σ = r·sqrt(−2 ln g)/π). Large pairs are estimated on their central window of at most
``MAX_ESTIMATION_LR_PIXELS`` LR pixels (:func:`estimation_window`): responses are global
properties of the sensors, and the same window is used wherever a method needs global
statistics, so a tiled run and a whole-image run see the same numbers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import lapack
from scipy.ndimage import binary_dilation
from scipy.optimize import minimize_scalar, nnls

from ..errors import UserInputError
from ..feedback import Feedback
from ..linalg import matmul
from . import robust
from .degradation import PointSpread, spatial_degrade

MAX_ESTIMATION_LR_PIXELS = 256 * 256
SIGMA_RANGE = (0.05, 0.95)        # σ / r searched; gains 0.99 … 0.01
SIGMA_GRID = 15                   # log-spaced grid points before Brent's refinement
# Below this relative spatial variation (std / rms of every band) an image holds no detail that could
# tell one σ from another: 1e-4 is below the quantisation step of 16-bit reflectance products.
MIN_SPATIAL_VARIATION = 1e-4
# Fewer LR pixels than HS bands leave R underdetermined; with σ known it is still estimated, with this smoothness
# penalty, from at least MIN_ESTIMATION_PIXELS pixels (an LR-HSI of 6 × 6 pixels with 200 bands, say).
UNDERDETERMINED_SMOOTHNESS = 1e-2
MIN_ESTIMATION_PIXELS = 4


class SigmaNotIdentifiable(UserInputError):
    """The inputs carry no spatial information, so σ cannot be estimated (R can, given σ)."""


class TooFewPixelsForSigma(SigmaNotIdentifiable):
    """Fewer LR pixels than HS bands: R could be estimated at a given σ, but σ cannot be estimated."""


def sigma_to_gain(sigma: float, ratio: int) -> float:
    """MTF gain at the LR Nyquist frequency of a Gaussian PSF of ``sigma`` HR pixels."""
    return float(math.exp(-0.5 * (math.pi * sigma / ratio) ** 2))


def gaussian_psf(ratio: int, sigma: float) -> PointSpread:
    """The protocol's Gaussian PSF given by its σ instead of its gain."""
    return PointSpread.gaussian(ratio, sigma_to_gain(sigma, ratio))


def psf_reach(psf: PointSpread, ratio: int) -> int:
    """HR pixels by which the PSF of one LR pixel reaches beyond its r × r footprint."""
    return max(0, -psf.first, psf.first + psf.taps.size - ratio)


def estimation_window(rows: int, cols: int, max_pixels: int = MAX_ESTIMATION_LR_PIXELS) -> tuple:
    """(row0, col0, rows, cols) in LR pixels: the whole area, or its central window of ≤ ``max_pixels``."""
    if rows * cols <= max_pixels:
        return 0, 0, rows, cols
    side = int(math.isqrt(max_pixels))
    h, w = min(rows, side), min(cols, side)
    h, w = min(rows, max_pixels // w), min(cols, max_pixels // h)
    return (rows - h) // 2, (cols - w) // 2, h, w


def crop_to_window(lr, lr_valid, hr, hr_valid, ratio: int, max_pixels: int = MAX_ESTIMATION_LR_PIXELS):
    """The arrays restricted to :func:`estimation_window` (views; no copy when already small)."""
    row0, col0, h, w = estimation_window(lr.shape[1], lr.shape[2], max_pixels)
    r = ratio
    return (lr[:, row0:row0 + h, col0:col0 + w], lr_valid[row0:row0 + h, col0:col0 + w],
            hr[:, row0 * r:(row0 + h) * r, col0 * r:(col0 + w) * r],
            hr_valid[row0 * r:(row0 + h) * r, col0 * r:(col0 + w) * r])


@dataclass
class ResponseEstimate:
    ratio: int
    sigma: float                  # HR pixels
    mtf_gain: float
    response: np.ndarray          # s × S, rows non-negative and summing to 1
    gains: np.ndarray             # row sums before normalisation
    offsets: np.ndarray           # per MS band, zeros unless fitted
    residuals: np.ndarray         # relative RMS residual ‖R Z − D_σ(Y)‖ / ‖D_σ(Y)‖ per MS band
    pixels: int                   # LR pixels used
    sigma_search: list = field(default_factory=list)   # (σ, relative residual of the unconstrained fit)

    def as_dict(self) -> dict:
        return {"ratio": self.ratio, "sigma_hr_pixels": self.sigma, "mtf_gain": self.mtf_gain,
                "response": self.response.tolist(), "gains": self.gains.tolist(), "offsets": self.offsets.tolist(),
                "relative_residuals": self.residuals.tolist(), "lr_pixels_used": self.pixels,
                "sigma_search": [{"sigma": s, "relative_residual": e} for s, e in self.sigma_search]}


def _zeroed(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Invalid pixels may hold NaN or huge numbers; the normalised convolution must never see them."""
    return np.where(valid[None], values, 0.0).astype(np.float32)


def _estimation_pixels(lr, lr_valid, hr, hr_valid, ratio: int, sigma: float | None):
    """(Y zeroed where unusable, its mask, LR pixels used): valid, not wild (core/protocol/robust.py), PSF on valid HR only."""
    h, w = lr.shape[1:]
    hr_valid = robust.inliers(hr[:, :h * ratio, :w * ratio], hr_valid[:h * ratio, :w * ratio])
    hr = _zeroed(hr[:, :h * ratio, :w * ratio], hr_valid)
    # Only LR pixels whose PSF sees valid HR pixels alone: near invalid (or wild) ones the normalised
    # convolution re-weights the PSF, and D_σ(Y) = R Z no longer holds. The margin covers the widest σ
    # searched, so that one pixel set serves every σ.
    footprint = hr_valid.reshape(h, ratio, w, ratio).all(axis=(1, 3))
    widest = sigma if sigma is not None else SIGMA_RANGE[1] * ratio
    margin = int(math.ceil(psf_reach(gaussian_psf(ratio, widest), ratio) / ratio))
    clean = ~binary_dilation(~footprint, np.ones((2 * margin + 1,) * 2, dtype=bool)) if margin else footprint
    return hr, hr_valid, robust.inliers(lr, lr_valid) & clean


def spatial_variation(values: np.ndarray, valid: np.ndarray) -> float:
    """Largest relative spatial variation of a band over ``valid`` pixels: std / rms (0 for a constant image)."""
    samples = values[:, valid].astype(np.float64)
    rms = np.sqrt((samples ** 2).mean(axis=1))
    return float(np.max(np.where(rms > 0, samples.std(axis=1) / np.maximum(rms, 1e-300), 0.0)))


def check_spatial_information(z_variation: float, y_variation: float) -> None:
    """Refuse to estimate σ from inputs without spatial detail: every σ would fit them equally well."""
    flat = [f"the {name} (std / rms {v:.1e})" for name, v in (("LR-HSI", z_variation), ("HR-MSI", y_variation))
            if v < MIN_SPATIAL_VARIATION]
    if not flat:
        return
    raise SigmaNotIdentifiable(
        f"The PSF σ cannot be estimated from these inputs: {' and '.join(flat)} "
        f"{'are' if len(flat) > 1 else 'is'} constant or nearly so over the valid pixels (every band's std / rms "
        f"below {MIN_SPATIAL_VARIATION:.0e}), so every σ blurs the HR-MSI alike and none fits the LR-HSI better "
        "than another. Use an area of the scene with spatial detail (fields, roads, shores), or, to fuse, give the "
        "PSF (MTF_GAIN above 0, e.g. the protocol's 0.25). With a given PSF the responses R are still estimated, "
        "but from such inputs only their effect on the few spectra present is determined: give an SRF_FILE where "
        "the true responses matter.")


def _search_sigma(design, degraded_ms, centred, ratio: int, feedback: Feedback) -> tuple:
    """(σ, search): the σ whose D_σ(Y) is best explained by Z (grid, then Brent), see the module docstring."""
    # Least-squares residual for every σ from one orthonormal basis of Z's column space.
    u, singular, _ = np.linalg.svd(design, full_matrices=False)
    basis = u[:, singular > singular[0] * 1e-10] if singular[0] > 0 else u[:, :0]
    search = []

    def residual(log_sigma: float) -> float:
        feedback.check_cancelled()
        s = float(np.exp(log_sigma))
        target = centred(degraded_ms(s))
        misfit = target - matmul(basis, matmul(basis.T, target))
        value = float((misfit ** 2).sum() / max((target ** 2).sum(), 1e-300))
        search.append((s, value))
        return value

    low, high = math.log(SIGMA_RANGE[0] * ratio), math.log(SIGMA_RANGE[1] * ratio)
    grid = np.linspace(low, high, SIGMA_GRID)
    values = [residual(g) for g in grid]
    best = int(np.argmin(values))
    bracket = (grid[max(best - 1, 0)], grid[min(best + 1, SIGMA_GRID - 1)])
    found = minimize_scalar(residual, bounds=bracket, method="bounded", options={"xatol": 1e-4})
    sigma = float(np.exp(found.x)) if found.fun <= values[best] else float(np.exp(grid[best]))
    return sigma, sorted(search)


def _fit_response(design: np.ndarray, target: np.ndarray, smoothness: float) -> np.ndarray:
    """Raw R (s × S, rows not normalised): NNLS of each degraded MS band on the HS bands."""
    bands, pixels = design.shape[1], design.shape[0]
    penalty_rows = bands - 1 if smoothness > 0 else 0
    # NNLS on the QR factor: ‖A r − b‖² = ‖R_A r − Qᵀb‖² + const, an S × S problem. The triangular factor of [A b]
    # holds both R_A and Qᵀb, without forming Q: 1.1 s instead of 1.55 s for 65 536 pixels × 218 bands. With the
    # work space LAPACK asks for, it factors by blocks (matrix products): 0.41 s instead of 1.1 s (with scipy's
    # default work space, 3 columns, it factored column by column). [A b] is built in LAPACK's column order, which
    # LAPACK then factors in place; scipy copied a row-ordered one first (0.9 → 0.5 s with building it).
    stacked = np.empty((pixels + penalty_rows, bands + target.shape[1]), order="F")
    stacked[:pixels, :bands], stacked[:pixels, bands:] = design, target
    if penalty_rows:
        # λ‖D₁ r‖², λ relative to the mean squared HS band so that it does not depend on the units.
        scale = (design ** 2).sum() / bands
        stacked[pixels:, :bands] = math.sqrt(smoothness * scale) * np.diff(np.eye(bands), axis=0)
        stacked[pixels:, bands:] = 0.0
    work, _ = lapack.dgeqrf_lwork(*stacked.shape)
    factor = np.triu(lapack.dgeqrf(stacked, lwork=int(work), overwrite_a=True)[0][:bands])
    upper, projected = factor[:, :bands], factor[:, bands:]
    raw = np.array([nnls(upper, projected[:, k], maxiter=50 * bands)[0] for k in range(target.shape[1])])
    gains = raw.sum(axis=1)
    if np.any(gains <= 0):
        zero = ", ".join(str(k + 1) for k in np.flatnonzero(gains <= 0))
        raise UserInputError(
            f"MS band(s) {zero} cannot be explained as a non-negative combination of the HS bands (the estimated "
            "response is zero). Check that the MS band lies inside the HS wavelength range, and that the two "
            "rasters show the same scene on aligned grids.")
    return raw


def _smoothness_for(count: int, bands: int, sigma: float | None, smoothness: float, feedback: Feedback) -> float:
    """The smoothness to fit R with: as asked, or UNDERDETERMINED_SMOOTHNESS when fewer pixels than bands leave
    R underdetermined (σ given); refuses when neither R nor σ can be estimated."""
    if count >= bands + 2:
        return smoothness
    if count < MIN_ESTIMATION_PIXELS or sigma is None:
        error = TooFewPixelsForSigma if count >= MIN_ESTIMATION_PIXELS else UserInputError
        raise error(
            f"Only {count} LR pixels are valid in both rasters, too few to estimate the responses of {bands} HS "
            f"bands together with the PSF σ (that needs at least one more pixel than bands, many more for a good "
            f"estimate). Give the PSF (MTF_GAIN above 0): R is then estimated with a smoothness penalty from as few "
            f"as {MIN_ESTIMATION_PIXELS} pixels. Or use a larger common area, or inputs with fewer nodata pixels.")
    feedback.info(f"Only {count} LR pixels for {bands} HS bands: R is underdetermined, so it is estimated with a "
                  f"smoothness penalty across neighbouring HS bands (λ = {max(smoothness, UNDERDETERMINED_SMOOTHNESS):g}).")
    return max(smoothness, UNDERDETERMINED_SMOOTHNESS)


def estimate_responses(lr: np.ndarray, lr_valid: np.ndarray, hr: np.ndarray, hr_valid: np.ndarray, ratio: int, *,
                       sigma: float | None = None, offset: bool = False, smoothness: float = 0.0,
                       feedback: Feedback | None = None) -> ResponseEstimate:
    """Estimate σ (unless given) and R from an aligned pair; see the module docstring."""
    feedback = feedback or Feedback()
    lr, lr_valid, hr, hr_valid = crop_to_window(lr, lr_valid, hr, hr_valid, ratio)
    if sigma is not None and not 0 < sigma < ratio:
        raise UserInputError(f"The PSF σ must lie between 0 and the ratio ({ratio}) HR pixels; got {sigma}.")
    hr, hr_valid, use = _estimation_pixels(lr, lr_valid, hr, hr_valid, ratio, sigma)
    bands, count = lr.shape[0], int(use.sum())
    smoothness = _smoothness_for(count, bands, sigma, smoothness, feedback)
    design = lr[:, use].T.astype(np.float64)                 # n × S
    column_mean = design.mean(axis=0) if offset else np.zeros(bands)
    if offset:
        design -= column_mean

    def degraded_ms(s: float) -> np.ndarray:
        values, _ = spatial_degrade(hr, hr_valid, ratio, gaussian_psf(ratio, s))
        return values[:, use].T.astype(np.float64)          # n × s

    def centred(target: np.ndarray) -> np.ndarray:
        return target - target.mean(axis=0) if offset else target

    search = []
    if sigma is None:
        check_spatial_information(spatial_variation(lr, use), spatial_variation(hr, hr_valid))
        sigma, search = _search_sigma(design, degraded_ms, centred, ratio, feedback)
    feedback.progress(0.6)
    uncentred = degraded_ms(sigma)
    target = centred(uncentred)
    raw = _fit_response(design, target, smoothness)
    gains = raw.sum(axis=1)
    fitted = matmul(design, raw.T)
    misfit = np.sqrt(((fitted - target) ** 2).sum(axis=0) / np.maximum((target ** 2).sum(axis=0), 1e-300))
    # With offset, Y↓ ≈ R Z + o: o is what the centred fit leaves at the means.
    offsets = uncentred.mean(axis=0) - raw @ column_mean if offset else np.zeros(target.shape[1])
    feedback.progress(1.0)
    return ResponseEstimate(ratio, float(sigma), sigma_to_gain(sigma, ratio), raw / gains[:, None], gains,
                            offsets, misfit, count, [(float(s), float(e)) for s, e in search])


def full_band_response(estimate: ResponseEstimate, band_count: int, good_bands: list) -> np.ndarray:
    """R over every band of the LR-HSI: bad bands (nodata everywhere) get zero columns."""
    full = np.zeros((estimate.response.shape[0], band_count))
    full[:, good_bands] = estimate.response
    return full


def response_curves(matrix: np.ndarray, wavelengths_nm, band_names: list, source: str):
    """R as sampled response curves over the HS band centres, in the form of an SRF CSV.

    The CSV needs strictly increasing wavelengths: columns are sorted, and HS bands that
    share a centre (e.g. where two spectrometers overlap) are averaged.
    """
    from .srf import SpectralResponse

    centres = np.asarray(wavelengths_nm, dtype=float)
    unique, index = np.unique(np.round(centres, 4), return_inverse=True)
    curves = np.zeros((matrix.shape[0], unique.size))
    np.add.at(curves.T, index, matrix.T)
    curves /= np.bincount(index)[None, :]
    return SpectralResponse("Estimated responses", list(band_names), unique, curves, source)


def window_note(pair) -> str | None:
    """What the log says of the estimation window where it is smaller than the common area (None otherwise)."""
    rows, cols = pair.lr_window[2:]
    h, w = estimation_window(rows, cols)[2:]
    return None if (h, w) == (rows, cols) else \
        f"Global statistics from the central {w} × {h} LR pixels of the {cols} × {rows} common area."


def read_window(lr, hr, pair, feedback: Feedback | None = None):
    """Read the estimation window (:func:`estimation_window`) of an aligned pair's common area."""
    from ..storage.raster_io import read_block

    lr_row0, lr_col0, rows, cols = pair.lr_window
    hr_row0, hr_col0 = pair.hr_window[:2]
    r0, c0, h, w = estimation_window(rows, cols)
    note = window_note(pair)
    if feedback is not None and note:
        feedback.info(note)
    r = pair.ratio
    z, z_valid = read_block(lr, lr_row0 + r0, lr_col0 + c0, h, w)
    y, y_valid = read_block(hr, hr_row0 + r0 * r, hr_col0 + c0 * r, h * r, w * r)
    return z, z_valid, y, y_valid


def estimate_from_files(lr_path: str, hr_path: str, out_srf: str | None = None, out_json: str | None = None,
                        offset: bool = False, smoothness: float = 0.0,
                        feedback: Feedback | None = None) -> ResponseEstimate:
    """Estimate R and σ from two rasters; optionally write R as an SRF CSV and everything as JSON."""
    from ..assessment.quality import write_json
    from ..storage.files import ensure_writable
    from .grids import open_pair
    from .srf import write_srf_csv

    feedback = feedback or Feedback()
    for path in (out_srf, out_json):
        if path:
            ensure_writable(path)
    lr, hr, pair = open_pair(lr_path, hr_path)
    if out_srf and lr.wavelengths_nm is None:
        raise UserInputError(
            "The LR-HSI has no wavelength metadata, so R cannot be written as a spectral response CSV (its "
            "columns are HS band wavelengths). Leave OUTPUT_SRF empty to get R in the JSON only, or add "
            "'wavelength' and 'wavelength_units' metadata to the LR-HSI bands.")
    z, z_valid, y, y_valid = read_window(lr, hr, pair, feedback)
    r = pair.ratio
    estimate = estimate_responses(z, z_valid, y, y_valid, r, offset=offset, smoothness=smoothness,
                                  feedback=feedback)
    ms_names = [hr.band_names[b] for b in hr.good_bands]
    feedback.info(f"PSF σ = {estimate.sigma:.3f} HR pixels (MTF gain {estimate.mtf_gain:.3f} at ratio {r}); "
                  "relative residual per MS band: " + ", ".join(f"{e:.2e}" for e in estimate.residuals))
    matrix = full_band_response(estimate, lr.count, lr.good_bands)
    if out_srf:
        source = (f"Estimated by HyperFuse (core/protocol/responses.py) from LR-HSI {lr_path} and HR-MSI {hr_path}: "
                  f"non-negative least squares of the MS bands degraded with a Gaussian PSF of sigma "
                  f"{estimate.sigma:.4f} HR pixels (MTF gain {estimate.mtf_gain:.4f}, ratio {r}) on the HS bands; "
                  "sampled at the HS band centres, rows normalised to sum to 1.")
        write_srf_csv(out_srf, response_curves(matrix, lr.wavelengths_nm, ms_names, source))
    if out_json:
        write_json(out_json, {**estimate.as_dict(), "response": matrix.tolist(), "lr_hsi": lr_path,
                              "hr_msi": hr_path, "ms_bands": ms_names, "hs_wavelengths_nm": lr.wavelengths_nm,
                              "hs_bad_bands": [b + 1 for b in lr.bad_bands],
                              "note": "response: one row per MS band, one column per LR-HSI band (bad bands are "
                                      "zero); gains: row sums before normalisation (MS units per HS unit)"})
    return estimate
