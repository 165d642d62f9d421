"""Running a classical method on two rasters: tiled methods through core.inference.fusion, whole-image ones here.

- Tiled methods (bicubic, GSA, GLP): global settings (grouping, regression weights, fill
  values) are computed once by the method's ``prepare`` on the estimation window of
  core/protocol/responses.py, then :func:`core.inference.fusion.fuse_with_function` runs ``predict`` block by
  block with a halo of the method's receptive field; peak memory depends on the block size.
- Whole-image methods (CNMF, HySure): :func:`fuse_whole_image` reads the common area, predicts
  and writes the result with the same writer, tags and nodata rule as fuse_with_function. A
  common area larger than the method's ``max_pixels`` runs through :func:`fuse_tiled` instead:
  overlapping blocks, each fused by the method itself with the area's R, PSF and screening.

:func:`fuse_classical` opens the pair once; both runners take the opened rasters.
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import UserInputError
from ..feedback import Feedback
from ..inference import adaptation, distributed
from ..inference.adaptation import PROJECTION_NONE
from ..inference.fusion import CLASSICAL_BLOCKS_SHARED_EVENLY, FusionResult, fuse_with_function, tiled_to_file
from ..inference.tiling import DEFAULT_BLOCK_SIZE
from ..protocol.degradation import DEFAULT_MTF_GAIN
from ..protocol.grids import GridPair, open_pair, read_common_area
from ..protocol.responses import read_window
from ..protocol.srf import read_srf_csv, response_matrix
from ..storage.files import ensure_writable
from ..registry import ClassicalMethod
from ..registry import method as lookup
from ..storage.raster_io import DEFAULT_COMPRESSION, RasterInfo, compression_profile


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
                   srf_file: str | None = None, *, projection: str = PROJECTION_NONE,
                   projection_mtf_gain: float = DEFAULT_MTF_GAIN, scheduler=None,
                   compression: str = DEFAULT_COMPRESSION, **options) -> FusionResult:
    """Fuse two rasters with a classical method; ``options`` are the method's ``predict`` keywords,
    ``projection`` (core/inference/adaptation.py) an optional projection of the result onto both inputs,
    ``scheduler`` where a tiled method's blocks run (core/inference/distributed.py) and ``compression`` the
    output's (raster_io.COMPRESSION_CHOICES).

    The pair is opened here, once, and the opened rasters are passed down."""
    method = lookup(method) if isinstance(method, str) else method
    feedback = feedback or Feedback()
    options = {**method.defaults, **options}
    ensure_writable(output)
    compression_profile(compression)        # an unknown name is refused before any work
    scheduler = distributed.checked(scheduler)
    lr, hr, pair = open_pair(lr_path, hr_path)
    if srf_file:
        options["response"] = response_from_file(srf_file, lr, hr)
    tags = {}
    prepared = adaptation.prepare_projection(projection, projection_mtf_gain, lr, hr, pair, tags, feedback)
    runner = fuse_tiled if method.tiled else fuse_whole_image
    if not method.tiled and pair.hr_shape[0] * pair.hr_shape[1] > method.max_pixels:
        feedback.info(f"The common area has more than {method.max_pixels:,} HR pixels, the most {method.name} "
                      "fuses at once: it fuses the area in overlapping blocks, each by the paper's method "
                      "(docs/classical.md, 'Large areas').")
        runner = functools.partial(fuse_tiled, steps=method.windowed_steps)
    return runner(method, lr, hr, pair, output, block_size=block_size, feedback=feedback,
                  run_options=RunOptions(prepared, tags, scheduler, compression), **options)


@dataclass(frozen=True)
class RunOptions:
    """What a run adds around the method: a prepared projection, the tags that describe it, where the blocks
    run (core/inference/distributed.py) and how the output is compressed."""

    projection: "adaptation.Projection | None" = None
    tags: dict = field(default_factory=dict)
    scheduler: object = None
    compression: str = DEFAULT_COMPRESSION


def fuse_tiled(method: ClassicalMethod, lr: RasterInfo, hr: RasterInfo, pair: GridPair, output: str, *,
               block_size: int = DEFAULT_BLOCK_SIZE, feedback: Feedback | None = None,
               run_options: RunOptions = RunOptions(), steps: tuple | None = None, **options) -> FusionResult:
    """Global settings once (``prepare``), then block-wise ``predict`` through fuse_with_function. ``steps`` are
    other (prepare, predict, receptive_field) than the method's own: a whole-image method's windowed ones."""
    feedback = feedback or Feedback()
    started = time.perf_counter()
    prepare, predict, receptive_field = steps or (method.prepare, method.predict, method.receptive_field)
    if prepare is not None:
        window = read_window(lr, hr, pair, feedback)
        options = {**options, **prepare(*window, pair.ratio, **options)}
        feedback.check_cancelled()
    if steps and run_options.scheduler is None:
        # A whole-image method's block takes minutes: it checks for a cancel as the whole image does. (Blocks sent
        # to a Dask cluster take no feedback, which does not travel.)
        options["feedback"] = feedback.cancel_only()
    prepared = time.perf_counter() - started
    result = fuse_with_function(method.name, lr, hr, pair, output, functools.partial(predict, **options),
                                lambda ratio: receptive_field(ratio, **options), block_size=block_size,
                                feedback=feedback, projection=run_options.projection, tags=run_options.tags,
                                scheduler=run_options.scheduler, compression=run_options.compression,
                                largest_window=method.max_pixels)
    result.seconds_inference += prepared
    return result


class InMemoryPair:
    """The reader interface of core/inference/tiling.py over a common area already in memory, with the result
    of a whole-image method: ``result`` gives the window that ``read`` read last."""

    prefetch = False        # ``result`` answers for the window ``read`` read last

    def __init__(self, pair: GridPair, inputs: tuple, fused: np.ndarray):
        self.pair, self.inputs, self.fused, self.window = pair, inputs, fused, None

    @property
    def bands(self) -> int:
        return self.inputs[0].shape[0] + self.inputs[2].shape[0]

    def read(self, row0: int, col0: int, rows: int, cols: int):
        r = self.pair.ratio
        self.window = (slice(row0, row0 + rows), slice(col0, col0 + cols))
        lr_window = (slice(row0 // r, (row0 + rows) // r), slice(col0 // r, (col0 + cols) // r))
        lr, lr_valid, hr, hr_valid = self.inputs
        return lr[(slice(None),) + lr_window], lr_valid[lr_window], hr[(slice(None),) + self.window], \
            hr_valid[self.window]

    def result(self, *_):
        return self.fused[(slice(None),) + self.window]


def fuse_whole_image(method: ClassicalMethod, lr: RasterInfo, hr: RasterInfo, pair: GridPair, output: str, *,
                     block_size: int = DEFAULT_BLOCK_SIZE, feedback: Feedback | None = None,
                     run_options: RunOptions = RunOptions(), **options) -> FusionResult:
    """Read the whole common area (at most the method's ``max_pixels``: fuse_classical sends a larger one to
    :func:`fuse_tiled`), predict once, write block by block."""
    feedback = feedback or Feedback()
    rows, cols = pair.hr_shape
    if run_options.scheduler is not None:
        feedback.info(f"{method.name} computes a common area of up to {method.max_pixels:,} HR pixels at once, in "
                      "this process: DASK_SCHEDULER applies to the blocks of larger areas.")
    started = time.perf_counter()
    lr_values, lr_valid, hr_values, hr_valid = read_common_area(lr, hr, pair)
    feedback.info(f"{method.name}: fusing {cols} × {rows} HR pixels, {len(lr.good_bands)} HS and "
                  f"{len(hr.good_bands)} MS bands, ratio {pair.ratio}.")
    fused = method.predict(lr_values, lr_valid, hr_values, hr_valid, pair.ratio, feedback=feedback.span(0.0, 0.95),
                           **options)
    tags = {"hyperfuse_method": method.name, "hyperfuse_ratio": pair.ratio, **run_options.tags}
    # Written block by block like a tiled method, so that the projection, when asked for, also runs per block.
    reader = InMemoryPair(pair, (lr_values, lr_valid, hr_values, hr_valid), fused)
    predict, halo = reader.result, 0
    if run_options.projection is not None:
        predict, halo = run_options.projection.wrap(predict), run_options.projection.extra_halo
    blocks, stats = tiled_to_file(output, lr, pair, tags, reader, predict, halo, block_size=block_size,
                                  feedback=feedback.span(0.95, 1.0), compression=run_options.compression,
                                  share_evenly=CLASSICAL_BLOCKS_SHARED_EVENLY)
    if run_options.projection is not None:
        run_options.projection.report(feedback)
    return FusionResult(output, method.name, "none", pair.ratio, blocks,
                        seconds_inference=time.perf_counter() - started, io=stats)
