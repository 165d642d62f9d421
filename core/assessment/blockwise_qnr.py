"""QNR (:func:`core.protocol.metrics.qnr`) from strips of rows, so that memory depends on the strip and not on
the raster.

Three passes:

1. The fused raster and the HR-MSI, by strips of a whole number of D_λ blocks of LR rows with the PSF's reach
   around them: both are blurred and decimated as the whole image would be (rows beyond the image's own edges
   reflected, normalised convolution over the valid pixels), the fused raster's D_λ block values are taken
   against the LR-HSI, and the degraded HR-MSI (a few bands on the LR grid) is kept.
2. The LR-HSI, by strips: the robust fence of core/protocol/robust.py from the same sampled pixels as the
   whole-image fit, then ZZᵀ and ZY↓ᵀ summed over the pixels inside it, and R̂ from them.
3. The fused raster and the HR-MSI again, by strips of whole UIQI blocks: R̂F against the HR-MSI for D_s.

Degraded values and block values are those of the whole-image computation, and the block means add the same
values in the same order; R̂'s moments are summed strip by strip, which moves R̂, and D_s, by rounding only.
"""
from __future__ import annotations

import numpy as np

from ..feedback import Feedback
from ..linalg import matmul
from ..protocol import metrics, robust
from ..protocol.degradation import PointSpread, _degrade_axis, check_degradable
from ..protocol.grids import GridPair
from ..storage.raster_io import RasterInfo, block_reader
from .blockwise import STRIP_VALUES


class _Inputs:
    """Row windows of the fused raster (``bands``), the HR-MSI (its usable bands) and the LR-HSI (``bands``), in
    the coordinates of the fused raster and of the LR common area."""

    def __init__(self, readers: tuple, bands: list, hr: RasterInfo, pair: GridPair, fused: RasterInfo):
        self.read_fused, self.read_lr, self.read_hr = readers
        self.bands, self.hr_bands, self.pair = bands, hr.good_bands, pair
        self.rows, self.cols = fused.height, fused.width

    def high(self, start: int, stop: int) -> tuple:
        """(fused values, HR-MSI values, pixels valid in both) of fused rows start..stop."""
        fused, fused_valid = self.read_fused(start, 0, stop - start, self.cols, self.bands)
        row0, col0 = self.pair.hr_window[:2]
        ms, ms_valid = self.read_hr(row0 + start, col0, stop - start, self.cols, self.hr_bands)
        return fused, ms, fused_valid & ms_valid

    def low(self, start: int, stop: int, cols: int) -> tuple:
        """(LR-HSI values, valid) of LR rows start..stop and the first ``cols`` columns of the common area."""
        row0, col0 = self.pair.lr_window[:2]
        return self.read_lr(row0 + start, col0, stop - start, cols, self.bands)


def assess_qnr(fused: RasterInfo, bands: list, lr: RasterInfo, hr: RasterInfo, pair: GridPair, psf: PointSpread,
               feedback: Feedback | None = None) -> dict:
    """What ``metrics.qnr`` gives for the whole rasters: ``bands`` of ``fused`` (on the HR common area of
    ``pair``) against the same bands of ``lr`` and the usable bands of ``hr``."""
    feedback = feedback or Feedback()
    ratio = pair.ratio
    check_degradable(fused.height, fused.width, ratio)
    low_shape = (fused.height // ratio, fused.width // ratio)
    common = (min(low_shape[0], pair.lr_window[2]), min(low_shape[1], pair.lr_window[3]))
    with block_reader(fused) as read_fused, block_reader(lr) as read_lr, block_reader(hr) as read_hr:
        inputs = _Inputs((read_fused, read_lr, read_hr), bands, hr, pair, fused)
        lambda_tiles, ms_low, low_valid = _degraded_pass(inputs, ratio, psf, common, feedback.span(0.0, 0.6))
        if not low_valid.any():
            return metrics.qnr_result(float("nan"), metrics.QNR_NO_OVERLAP, float("nan"), metrics.QNR_NO_OVERLAP)
        d_lambda = 1.0 - _mean_of_tiles(lambda_tiles)
        fit_pixels = int(low_valid.sum())
        d_s = float("nan")
        if fit_pixels >= metrics.QNR_MIN_FIT_PIXELS:
            response = _fit_response(inputs, ms_low, low_valid, feedback.span(0.6, 0.7))
            d_s = 1.0 - _mean_of_tiles(_spatial_tiles(inputs, response, feedback.span(0.7, 1.0)))
    feedback.progress(1.0)
    return metrics.qnr_result(d_lambda, metrics.qnr_lambda_reason(d_lambda, ratio), d_s,
                              metrics.qnr_spatial_reason(d_s, fit_pixels))


def _strip_height(unit: int, values_per_row: int, limit: int) -> int:
    """Rows per strip: a multiple of ``unit`` holding about STRIP_VALUES values, at least ``unit``."""
    return min(limit, max(unit, STRIP_VALUES // max(1, values_per_row) // unit * unit)) if limit else unit


def _degraded_pass(inputs: _Inputs, ratio: int, psf: PointSpread, common: tuple, feedback: Feedback) -> tuple:
    """(D_λ block values per band, degraded HR-MSI on the LR grid, LR pixels valid for D_λ and the R̂ fit)."""
    rows, cols = inputs.rows // ratio, inputs.cols // ratio
    block = min(metrics.qnr_lr_block(ratio), *common)
    height = _strip_height(block, ratio * inputs.cols * len(inputs.bands), rows)
    tiles = [[] for _ in inputs.bands]
    ms_low = np.zeros((len(inputs.hr_bands), rows, cols), dtype=np.float32)
    low_valid = np.zeros(common, dtype=bool)
    for start in range(0, rows, height):
        feedback.check_cancelled()
        stop = min(rows, start + height)
        first, last, source = strip_rows(start, stop, ratio, psf, inputs.rows)
        fused, ms, valid = inputs.high(first, last)
        strip = _StripDegrader(valid, source, (start * ratio - first, stop - start), ratio, psf)
        ms_low[:, start:stop] = strip.degrade(ms)
        if start < common[0]:
            end = min(stop, common[0])
            lr, lr_valid = inputs.low(start, end, common[1])
            low_valid[start:end] = strip.footprint[:end - start, :common[1]] & lr_valid
            for offset in range(0, len(inputs.bands), metrics.QNR_STEP_BANDS):
                feedback.check_cancelled()
                group = slice(offset, offset + metrics.QNR_STEP_BANDS)
                degraded = strip.degrade(fused[group])[:, :end - start, :common[1]]
                for k, band in enumerate(range(len(inputs.bands))[group]):
                    tiles[band].append(metrics.uiqi_tiles(degraded[k], lr[band], low_valid[start:end], block))
        feedback.progress(stop / rows)
    return tiles, ms_low, low_valid


def strip_rows(start: int, stop: int, ratio: int, psf: PointSpread, length: int) -> tuple:
    """(first, last, source): the HR rows first..last to read for LR rows start..stop of an image of ``length`` HR
    rows, and for each padded row the taps read (at least r per LR row, also for a PSF narrower than r) the row of
    that window holding it. The window also covers the LR rows' own footprint, which a PSF may start after."""
    reach = max(psf.taps.size, ratio)
    source = _reflected(np.arange(start * ratio + psf.first, (stop - 1) * ratio + psf.first + reach), length)
    first, last = min(int(source.min()), start * ratio), max(int(source.max()) + 1, stop * ratio)
    return first, last, source - first


def _reflected(index: np.ndarray, length: int) -> np.ndarray:
    """Row indices beyond 0 .. length − 1 mirrored as NumPy's 'symmetric' padding mirrors them."""
    period = 2 * length
    index = np.mod(index, period)
    return np.where(index < length, index, period - 1 - index)


class _StripDegrader:
    """``spatial_degrade`` of some LR rows from the HR rows read for them: ``source`` gives, for each position of
    the whole image's padded row axis that the rows' taps read, the row of the strip that holds it; ``rows``
    (first HR row of the LR rows in the strip, LR row count)."""

    def __init__(self, valid: np.ndarray, source: np.ndarray, rows: tuple, ratio: int, psf: PointSpread):
        self.source, self.ratio, self.psf = source, ratio, psf
        self.weight = valid.astype(np.float64)
        self.blurred_weight = self._blur(self.weight[None], rows[1])[0]
        offset, count = rows
        cols = valid.shape[1] // ratio
        self.count = count
        self.footprint = valid[offset:offset + count * ratio, :cols * ratio].reshape(
            count, ratio, cols, ratio).all(axis=(1, 3))

    def _blur(self, values: np.ndarray, count: int) -> np.ndarray:
        # The gathered rows are the whole image's padded rows from the strip's first tap on: the same taps starting
        # at offset 0 give its LR rows with the same sums; the rows past ``count`` read padding and are dropped.
        rows = _degrade_axis(values[:, self.source], 1, self.ratio, PointSpread(0, self.psf.taps))[:, :count]
        return _degrade_axis(rows, 2, self.ratio, self.psf)

    def degrade(self, values: np.ndarray) -> np.ndarray:
        blurred = self._blur(values * self.weight, self.count)
        bw = self.blurred_weight
        out = np.where(bw > 1e-12, blurred / np.maximum(bw, 1e-12), 0.0)
        out[:, ~self.footprint] = 0.0
        return out.astype(np.float32)


def _fit_response(inputs: _Inputs, ms_low: np.ndarray, fit: np.ndarray, feedback: Feedback) -> np.ndarray:
    """R̂ of ``metrics.estimate_response`` on the ``fit`` pixels, from two passes over the LR-HSI."""
    rows, cols = fit.shape
    height = _strip_height(1, cols * len(inputs.bands), rows)
    sampled = robust.sampled_pixels(fit)

    def pixels(start, stop, mask):
        lr, _ = inputs.low(start, stop, cols)
        return np.concatenate([lr[:, mask[start:stop]], ms_low[:, start:stop, :cols][:, mask[start:stop]]])

    strips = [(start, min(rows, start + height)) for start in range(0, rows, height)]
    feedback.check_cancelled()
    low, high = robust.fence_of_samples(np.concatenate([pixels(a, b, sampled) for a, b in strips], axis=1))
    feedback.progress(0.3)
    spectral = len(inputs.bands)
    gram, cross = np.zeros((spectral, spectral)), np.zeros((spectral, ms_low.shape[0]))
    for index, (start, stop) in enumerate(strips):
        feedback.check_cancelled()
        values = pixels(start, stop, fit)
        keep = np.all((values >= low[:, None]) & (values <= high[:, None]), axis=0)
        z, y = values[:spectral, keep].astype(np.float64), values[spectral:, keep].astype(np.float64)
        gram += matmul(z, z.T)
        cross += matmul(z, y.T)
        feedback.progress(0.3 + 0.7 * (index + 1) / len(strips))
    return metrics.response_from_moments(gram, cross)


def _spatial_tiles(inputs: _Inputs, response: np.ndarray, feedback: Feedback) -> list:
    """D_s block values per MS band: R̂F against the HR-MSI on UIQI blocks."""
    block = min(metrics.UIQI_BLOCK, inputs.rows, inputs.cols)
    height = _strip_height(block, inputs.cols * len(inputs.bands), inputs.rows)
    tiles = [[] for _ in range(response.shape[0])]
    for start in range(0, inputs.rows, height):
        feedback.check_cancelled()
        stop = min(inputs.rows, start + height)
        fused, ms, valid = inputs.high(start, stop)
        projected = metrics.project(response, fused)
        for band in range(response.shape[0]):
            tiles[band].append(metrics.uiqi_tiles(projected[band], ms[band], valid, block))
        feedback.progress(stop / inputs.rows)
    return tiles


def _mean_of_tiles(tiles: list) -> float:
    """``metrics._mean_uiqi`` from block values per band: the mean of each band's blocks, then over the bands that
    have any (NaN when none has)."""
    means = np.array([np.concatenate(band).mean() if sum(part.size for part in band) else np.nan for band in tiles])
    return float(np.nanmean(means)) if np.isfinite(means).any() else float("nan")
