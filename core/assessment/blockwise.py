"""The reference-based metrics of core/protocol/metrics.py, computed from windows of whole tiles.

:func:`assess_blocks` returns what ``metrics.assess`` returns for the whole rasters while
holding one window of each at a time (whole tiles of the files, about STRIP_VALUES values;
core/storage/raster_io.py ``tile_windows``), so memory depends on the window and not on the
raster (DESIGN.md), each tile of the files is decoded about once per pass, and a cancel is seen
within one band or one Q2n tile. Two passes over the windows: the first gathers what the
windowed indices need from the whole image (every band's minimum, maximum and mean, which fix
the SSIM data range and the CC centring), the second computes them. SSIM reads SSIM_RADIUS
pixels of halo around a window; windows are a whole number of UIQI/Q2n tiles wide and high, so
no tile straddles two windows.

Per-pixel and per-tile values are those of the whole-image computation, and UIQI and Q2n
average the same tile values in the same order (sorted back into row-major order), so they are
identical; the other means add the same terms in another order, which moves them by a few
units in the last place.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from ..errors import UserInputError
from ..feedback import Feedback
from ..protocol import metrics
from ..storage.raster_io import RasterInfo, block_reader, tile_windows

# Values of one raster a window holds, unless one tile of the file holds more (then up to 4 times as many,
# raster_io.TILE_WINDOW_LIMIT): 16 MB as float32, about 4 times that in float64 temporaries; a window takes
# seconds to read and sum on a busy 2-core machine, which bounds the delay of a cancel.
STRIP_VALUES = 4_000_000
# Threads computing SSIM maps, one band each.
SSIM_THREADS = max(1, min(4, os.cpu_count() or 1))
# Share of the progress of the first pass; the second windows every band and every tile.
FIRST_PASS_SHARE = 0.15


class ComparedRegion:
    """Two rasters' compared region (``window``, less ``border``), read by windows in its own coordinates."""

    def __init__(self, readers: tuple, bands: list, window: tuple, border: int):
        self.readers, self.bands, self.border = readers, bands, border
        self.row0, self.col0, self.rows, self.cols = window
        self.tile = max(1, min(metrics.UIQI_BLOCK, self.rows, self.cols))

    def read_window(self, top: int, left: int, rows: int, cols: int) -> tuple:
        """(reference, fused, valid in both, compared) of a window of the compared region."""
        args = (self.row0 + top, self.col0 + left, rows, cols, self.bands)
        (reference, reference_valid), (fused, fused_valid) = self.readers[0](*args), self.readers[1](*args)
        valid = reference_valid & fused_valid
        compared = valid
        if self.border:
            row = np.arange(top, top + rows)[:, None]
            col = np.arange(left, left + cols)[None]
            b = self.border
            compared = valid & (row >= b) & (row < self.rows - b) & (col >= b) & (col < self.cols - b)
        return reference, fused, valid, compared


@dataclass
class FirstPass:
    """Sums over the compared pixels that need no window."""

    bands: int
    valid: int = 0            # pixels valid in both rasters, border included
    pixels: int = 0           # compared pixels
    minimum: np.ndarray = None
    maximum: np.ndarray = None
    reference_sum: np.ndarray = None
    fused_sum: np.ndarray = None
    squared_error: np.ndarray = None
    angle_sum: float = 0.0
    angles: int = 0
    zero_norm: int = 0

    def __post_init__(self):
        self.minimum, self.maximum = np.full(self.bands, np.inf), np.full(self.bands, -np.inf)
        self.reference_sum, self.fused_sum, self.squared_error = (np.zeros(self.bands) for _ in range(3))

    def add(self, reference, fused, valid, compared) -> None:
        self.valid += int(valid.sum())
        count = int(compared.sum())
        if not count:
            return
        self.pixels += count
        for group in metrics.band_groups(self.bands):       # float64 copies of a few bands at a time
            ref, est = reference[group][:, compared].astype(np.float64), fused[group][:, compared].astype(np.float64)
            self.minimum[group] = np.minimum(self.minimum[group], ref.min(axis=1))
            self.maximum[group] = np.maximum(self.maximum[group], ref.max(axis=1))
            self.reference_sum[group] += ref.sum(axis=1)
            self.fused_sum[group] += est.sum(axis=1)
            self.squared_error[group] += ((ref - est) ** 2).sum(axis=1)
        angles, skipped = metrics.sam_angles(reference, fused, compared)
        self.angle_sum += float(angles.sum())
        self.angles += angles.size
        self.zero_norm += skipped


@dataclass
class SecondPass:
    """Sums of the windowed and centred indices, on the bands where they are defined."""

    varying: np.ndarray
    cross: np.ndarray = None
    reference_square: np.ndarray = None
    fused_square: np.ndarray = None
    ssim_sum: np.ndarray = None
    ssim_pixels: int = 0
    uiqi: list = field(default_factory=list)     # per tile, row-major: the varying bands' UIQI values
    q2n: list = field(default_factory=list)      # per tile, row-major

    def __post_init__(self):
        self.cross, self.reference_square, self.fused_square, self.ssim_sum = (
            np.zeros(self.varying.size) for _ in range(4))


def _first_pass(region: ComparedRegion, infos: list, feedback: Feedback) -> FirstPass:
    """The sums that need no neighbours, from windows of whole tiles (each tile decoded about once)."""
    totals = FirstPass(len(region.bands))
    windows = tile_windows(infos, region.rows, region.cols, len(region.bands), STRIP_VALUES)
    for index, window in enumerate(windows):
        feedback.check_cancelled()
        totals.add(*region.read_window(*window))
        feedback.progress((index + 1) / len(windows))
    return totals


def _second_pass(region: ComparedRegion, infos: list, totals: FirstPass, varying: np.ndarray, extended: bool,
                 feedback: Feedback) -> SecondPass:
    sums = SecondPass(varying)
    means = (totals.reference_sum / totals.pixels, totals.fused_sum / totals.pixels)
    data_range = totals.maximum - totals.minimum
    windows = tile_windows(infos, region.rows, region.cols, len(region.bands), STRIP_VALUES, multiple=region.tile)
    radius, ssim_share = metrics.SSIM_RADIUS, (0.2 if extended else 1.0)
    tiles = {}                      # (tile row, tile column) → (UIQI of the varying bands, Q2n)
    for index, (top, left, rows, cols) in enumerate(windows):
        part = feedback.span(index / len(windows), (index + 1) / len(windows))
        feedback.check_cancelled()
        read_top, read_left = max(0, top - radius), max(0, left - radius)
        reference, fused, _, compared = region.read_window(read_top, read_left,
                                                           min(region.rows, top + rows + radius) - read_top,
                                                           min(region.cols, left + cols + radius) - read_left)
        centre = (slice(top - read_top, top - read_top + rows), slice(left - read_left, left - read_left + cols))
        inside = (reference[(slice(None),) + centre], fused[(slice(None),) + centre], compared[centre])
        _add_correlation(sums, *inside, means)
        _add_ssim(sums, region, (read_top, read_left, top, left, rows, cols), (reference, fused, compared), data_range,
                  part.span(0.0, ssim_share))
        if extended:
            _add_tiles(tiles, sums.varying, region, (top, left), inside, part.span(ssim_share, 1.0))
        part.progress(1.0)
    for key in sorted(tiles):        # the whole image's row-major order of the tiles
        uiqi, q2n = tiles[key]
        if uiqi is not None:
            sums.uiqi.append(uiqi[:, None])
        if q2n is not None:
            sums.q2n.append(q2n)
    return sums


def _add_correlation(sums: SecondPass, reference, fused, compared, means) -> None:
    if not sums.varying.size or not compared.any():
        return
    for group in metrics.band_groups(sums.varying.size):
        bands = sums.varying[group]
        ref = reference[bands][:, compared].astype(np.float64) - means[0][bands, None]
        est = fused[bands][:, compared].astype(np.float64) - means[1][bands, None]
        sums.cross[group] += (ref * est).sum(axis=1)
        sums.reference_square[group] += (ref ** 2).sum(axis=1)
        sums.fused_square[group] += (est ** 2).sum(axis=1)


def _add_ssim(sums: SecondPass, region: ComparedRegion, place: tuple, arrays: tuple, data_range,
              feedback: Feedback) -> None:
    """SSIM sums of the window (top, left, rows, cols) of arrays read from (read_top, read_left) with its halo."""
    read_top, read_left, top, left, rows, cols = place
    reference, fused, compared = arrays
    radius = metrics.SSIM_RADIUS
    usable = metrics.ssim_usable(compared)
    image_rows = np.arange(read_top, read_top + compared.shape[0])
    image_cols = np.arange(read_left, read_left + compared.shape[1])
    usable[(image_rows < max(top, radius)) | (image_rows >= min(top + rows, region.rows - radius))] = False
    usable[:, (image_cols < max(left, radius)) | (image_cols >= min(left + cols, region.cols - radius))] = False
    sums.ssim_pixels += int(usable.sum())
    if not usable.any():
        return

    def band_sum(band):
        if feedback.is_cancelled():       # the bands still queued return at once; the loop below raises
            return 0.0
        return metrics.ssim_map(reference[band], fused[band], compared, data_range[band])[usable].sum()

    # SciPy's filters release the GIL: the bands' maps run side by side, and each band's sum is the one of a
    # serial loop.
    with ThreadPoolExecutor(SSIM_THREADS) as pool:
        for k, value in enumerate(pool.map(band_sum, sums.varying)):
            feedback.check_cancelled()
            sums.ssim_sum[k] += value
            feedback.progress((k + 1) / sums.varying.size)


def _add_tiles(tiles: dict, varying: np.ndarray, region: ComparedRegion, origin: tuple, arrays: tuple,
               feedback: Feedback) -> None:
    """UIQI of the ``varying`` bands and Q2n of all bands on the whole tiles of a window at ``origin``, into
    ``tiles`` by (tile row, tile column)."""
    top, left = origin
    tile = region.tile
    height = min(arrays[2].shape[0], region.rows // tile * tile - top) // tile * tile
    width = min(arrays[2].shape[1], region.cols // tile * tile - left) // tile * tile
    if height <= 0 or width <= 0:
        return
    reference, fused, compared = (a[..., :height, :width] for a in arrays)
    whole = compared.reshape(height // tile, tile, width // tile, tile).all(axis=(1, 3))
    keys = [(top // tile + r, left // tile + c) for r, c in zip(*np.nonzero(whole))]
    uiqi = []
    for band in varying:
        feedback.check_cancelled()
        uiqi.append(metrics.uiqi_tiles(reference[band], fused[band], compared, tile))
    uiqi = np.array(uiqi).reshape(varying.size, len(keys))
    size = metrics.q2n_components(reference.shape[0])
    for index, (row, col) in enumerate(keys):
        feedback.check_cancelled()
        r, c = row * tile - top, col * tile - left
        q2n = metrics.q2n_tile(reference[:, r:r + tile, c:c + tile], fused[:, r:r + tile, c:c + tile], size)
        tiles[(row, col)] = (uiqi[:, index] if varying.size else None, q2n)
        feedback.progress((index + 1) / len(keys))


def assess_blocks(reference: RasterInfo, fused: RasterInfo, bands: list, ratio: int, border: int = 0,
                  window: tuple | None = None, feedback: Feedback | None = None, extended: bool = True) -> dict:
    """``metrics.assess`` of ``bands`` of two rasters on one grid, read window by window.

    ``window`` (first row, first column, rows, columns) limits the comparison to part of the
    grid; ``ratio`` 0 leaves ERGAS out with a reason. Adds ``invalid_pixels``, the pixels of
    the window not valid in both rasters.
    """
    feedback = feedback or Feedback()
    row0, col0, rows, cols = window or (0, 0, reference.height, reference.width)
    window = (row0, col0, max(0, min(rows, reference.height - row0)), max(0, min(cols, reference.width - col0)))
    with block_reader(reference) as read_reference, block_reader(fused) as read_fused:
        region = ComparedRegion((read_reference, read_fused), bands, window, border)
        totals = _first_pass(region, [reference, fused], feedback.span(0.0, FIRST_PASS_SHARE))
        if not totals.valid:
            raise UserInputError("The reference and the fused raster have no valid pixel in common.")
        if not totals.pixels:
            raise UserInputError(f"BORDER {border} leaves no valid pixel to compare in a {window[3]} × {window[2]}-"
                                 "pixel image. Set a smaller BORDER.")
        varying = np.flatnonzero(totals.maximum > totals.minimum)
        sums = _second_pass(region, [reference, fused], totals, varying, extended,
                            feedback.span(FIRST_PASS_SHARE, 1.0))
    result = _result(totals, sums, ratio, extended, region)
    result["invalid_pixels"] = window[2] * window[3] - totals.valid
    return result


def _per_band(values: np.ndarray, bands: np.ndarray, size: int) -> np.ndarray:
    out = np.full(size, np.nan)
    out[bands] = values
    return out


def _mean_over(values: np.ndarray, bands: np.ndarray) -> float:
    return float(np.mean(values[bands])) if bands.size else float("nan")


def _result(totals: FirstPass, sums: SecondPass, ratio: int, extended: bool, region: ComparedRegion) -> dict:
    """The dictionary of ``metrics.assess`` from the two passes' sums."""
    count = totals.bands
    mse = totals.squared_error / totals.pixels
    mean = totals.reference_sum / totals.pixels
    flat, no_peak, zero_mean = totals.maximum == totals.minimum, totals.maximum <= 0, totals.reference_sum == 0
    has_peak, varying, with_mean = np.flatnonzero(~no_peak), sums.varying, np.flatnonzero(~zero_mean)
    with np.errstate(divide="ignore", invalid="ignore"):
        psnr_b = _per_band(10.0 * np.log10(totals.maximum[has_peak] ** 2 / mse[has_peak]), has_peak, count)
        cc_b = _per_band(sums.cross / np.sqrt(sums.reference_square * sums.fused_square), varying, count)
        ssim_b = _per_band(sums.ssim_sum / sums.ssim_pixels, varying, count) if sums.ssim_pixels else \
            np.full(count, np.nan)
    uiqi_b = np.full(count, np.nan)
    if extended and varying.size:
        tiles = np.concatenate(sums.uiqi, axis=1) if sums.uiqi else np.empty((varying.size, 0))
        if tiles.shape[1]:
            uiqi_b[varying] = tiles.mean(axis=1)
    result = {
        "PSNR": _mean_over(psnr_b, has_peak),
        "SAM": float(np.degrees(totals.angle_sum / totals.angles)) if totals.angles else float("nan"),
        "ERGAS": float(100.0 / ratio * np.sqrt(np.mean(mse[with_mean] / mean[with_mean] ** 2)))
        if with_mean.size and ratio else float("nan"),
        "SSIM": _mean_over(ssim_b, varying),
        "RMSE": float(np.sqrt(totals.squared_error.sum() / (count * totals.pixels))),
        "CC": _mean_over(cc_b, varying),
        "UIQI": float(np.nanmean(uiqi_b[varying])) if varying.size and np.isfinite(uiqi_b[varying]).any()
        else float("nan"),
        "Q2n": (float(np.mean(sums.q2n)) if sums.q2n else float("nan")) if extended else float("nan"),
        "q2n_padded_bands": metrics.q2n_components(count) if extended else 0,
        "valid_pixels": totals.pixels,
        "sam_zero_norm_pixels": totals.zero_norm,
        "zero_variance_bands": np.flatnonzero(flat).tolist(),
        "zero_peak_bands": np.flatnonzero(no_peak).tolist(),
        "zero_mean_bands": np.flatnonzero(zero_mean).tolist(),
        "per_band": {"PSNR": psnr_b.tolist(), "SSIM": ssim_b.tolist(), "CC": cc_b.tolist(), "UIQI": uiqi_b.tolist(),
                     "RMSE": np.sqrt(mse).tolist()},
    }
    if not ratio:
        result["ERGAS_reason"] = ("ERGAS not computed: it is scaled by 100/r, and RATIO is 0 (infer it) with no LR_HSI "
                                  "to infer the ratio from. Set RATIO to the fusion's resolution ratio, or give LR_HSI.")
    return result


def pixel_maps(reference: RasterInfo, fused: RasterInfo, bands: list, feedback: Feedback) -> dict:
    """Per-pixel SAM (degrees) and RMSE over ``bands`` of ``fused`` against ``reference``, NaN where either is
    invalid, and the pixels valid in both: what the report maps and the SAM raster show, window by window of whole
    tiles (:func:`~..storage.raster_io.tile_windows`)."""
    shape = (reference.height, reference.width)
    maps = {"sam": np.full(shape, np.nan), "error": np.full(shape, np.nan), "valid": np.zeros(shape, bool)}
    windows = tile_windows([reference, fused], shape[0], shape[1], len(bands), STRIP_VALUES)
    with block_reader(reference) as read_reference, block_reader(fused) as read_fused:
        for index, (row0, col0, rows, cols) in enumerate(windows):
            feedback.check_cancelled()
            args = (row0, col0, rows, cols, bands)
            (ref, ref_valid), (est, est_valid) = read_reference(*args), read_fused(*args)
            valid = ref_valid & est_valid
            error = np.sqrt(np.mean((ref - est) ** 2, axis=0))
            error[~valid] = np.nan
            where = (slice(row0, row0 + rows), slice(col0, col0 + cols))
            maps["sam"][where] = metrics.sam_map(ref, est, valid)
            maps["error"][where], maps["valid"][where] = error, valid
            feedback.progress((index + 1) / len(windows))
    return maps
