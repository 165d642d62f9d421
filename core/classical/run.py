"""Running a classical method on two rasters: tiled methods through core.inference.fusion, whole-image ones here.

- Tiled methods (bicubic, GSA, GLP): global settings (grouping, regression weights, fill
  values) are computed once by the method's ``prepare`` on the estimation window of
  core/protocol/responses.py, then :func:`core.inference.fusion.fuse_with_function` runs ``predict`` block by
  block with a halo of the method's receptive field; peak memory depends on the block size.
- Whole-image methods (CNMF, HySure): :func:`fuse_whole_image` refuses a common area larger
  than the method's ``max_pixels`` before reading anything, reads the common area, predicts
  and writes the result with the same writer, tags and nodata rule as fuse_with_function.

:func:`fuse_classical` opens the pair once; both runners take the opened rasters.
"""
from __future__ import annotations

import functools
import time

import numpy as np

from ..errors import UserInputError
from ..feedback import Feedback
from ..inference.fusion import FusionResult, block_sink, fuse_with_function, output_writer
from ..inference.tiling import DEFAULT_BLOCK_SIZE, aligned_blocks, lr_mask_on_hr
from ..protocol.grids import GridPair, open_pair, read_common_area
from ..protocol.responses import read_window
from ..protocol.srf import read_srf_csv, response_matrix
from ..storage.files import ensure_writable
from ..registry import ClassicalMethod
from ..registry import method as lookup
from ..storage.raster_io import RasterInfo
from .common import check_whole_image_size


def response_from_file(path: str, lr: RasterInfo, hr: RasterInfo) -> np.ndarray:
    """R (MS bands × usable HS bands) from an SRF CSV (e.g. OUTPUT_SRF of Estimate responses)."""
    if lr.wavelengths_nm is None:
        raise UserInputError(
            "SRF_FILE gives responses over wavelength, but the LR-HSI has no wavelength metadata. Add "
            "'wavelength' and 'wavelength_units' metadata to its bands, or leave SRF_FILE empty to estimate R.")
    srf = read_srf_csv(path)
    if len(srf.band_names) != len(hr.good_bands):
        raise UserInputError(
            f"SRF_FILE '{path}' has {len(srf.band_names)} band(s) ({', '.join(srf.band_names)}) but the HR-MSI has "
            f"{len(hr.good_bands)} usable band(s). Give one response column per HR-MSI band, in band order.")
    return response_matrix(srf, lr.wavelengths_nm, lr.fwhm_nm, lr.good_bands)[:, lr.good_bands]


def fuse_classical(method: "ClassicalMethod | str", lr_path: str, hr_path: str, output: str,
                   block_size: int = DEFAULT_BLOCK_SIZE, feedback: Feedback | None = None,
                   srf_file: str | None = None, **options) -> FusionResult:
    """Fuse two rasters with a classical method; ``options`` are the method's ``predict`` keywords.

    The pair is opened here, once, and the opened rasters are passed down."""
    method = lookup(method) if isinstance(method, str) else method
    feedback = feedback or Feedback()
    options = {**method.defaults, **options}
    ensure_writable(output)
    lr, hr, pair = open_pair(lr_path, hr_path)
    if srf_file:
        options["response"] = response_from_file(srf_file, lr, hr)
    runner = fuse_tiled if method.tiled else fuse_whole_image
    return runner(method, lr, hr, pair, output, block_size=block_size, feedback=feedback, **options)


def fuse_tiled(method: ClassicalMethod, lr: RasterInfo, hr: RasterInfo, pair: GridPair, output: str, *,
               block_size: int = DEFAULT_BLOCK_SIZE, feedback: Feedback | None = None, **options) -> FusionResult:
    """Global settings once (``prepare``), then block-wise ``predict`` through fuse_with_function."""
    feedback = feedback or Feedback()
    started = time.perf_counter()
    if method.prepare is not None:
        window = read_window(lr, hr, pair, feedback)
        options = {**options, **method.prepare(*window, pair.ratio, **options)}
        feedback.check_cancelled()
    prepared = time.perf_counter() - started
    result = fuse_with_function(method.name, lr, hr, pair, output, functools.partial(method.predict, **options),
                                lambda ratio: method.receptive_field(ratio, **options), block_size=block_size,
                                feedback=feedback)
    result.seconds_inference += prepared
    return result


def fuse_whole_image(method: ClassicalMethod, lr: RasterInfo, hr: RasterInfo, pair: GridPair, output: str, *,
                     block_size: int = DEFAULT_BLOCK_SIZE, feedback: Feedback | None = None,
                     **options) -> FusionResult:
    """Read the whole common area, predict once, write block by block."""
    feedback = feedback or Feedback()
    rows, cols = pair.hr_shape
    check_whole_image_size(method.name, rows * cols, method.max_pixels)
    started = time.perf_counter()
    lr_values, lr_valid, hr_values, hr_valid = read_common_area(lr, hr, pair)
    feedback.info(f"{method.name}: fusing {cols} × {rows} HR pixels, {len(lr.good_bands)} HS and "
                  f"{len(hr.good_bands)} MS bands, ratio {pair.ratio}.")
    fused = method.predict(lr_values, lr_valid, hr_values, hr_valid, pair.ratio, feedback=feedback.span(0.0, 0.95),
                           **options)
    valid = hr_valid & lr_mask_on_hr(lr_valid, pair.ratio)
    tags = {"hyperfuse_method": method.name, "hyperfuse_ratio": pair.ratio}
    blocks = 0
    with output_writer(output, lr, pair, tags) as writer:
        sink = block_sink(writer, lr)
        for row0, col0, nrows, ncols in aligned_blocks(rows, cols, block_size, pair.ratio):
            feedback.check_cancelled()
            sink(fused[:, row0:row0 + nrows, col0:col0 + ncols], valid[row0:row0 + nrows, col0:col0 + ncols],
                 row0, col0)
            blocks += 1
    feedback.progress(1.0)
    return FusionResult(output, method.name, "none", pair.ratio, blocks,
                        seconds_inference=time.perf_counter() - started)
