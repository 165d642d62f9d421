"""One fusion run, from two raster paths to a fused GeoTIFF (DESIGN.md "Data flow").

open both rasters → grid check → model (bundled, weights file, or trained on the inputs)
→ model converted to the inputs' units where they differ by a power of ten (input_units.py)
→ tiled inference → output GeoTIFF written to a temporary file and renamed on success.
The algorithms call :func:`fuse_with_network` and :func:`fuse_with_function`; nothing else
decides how a fusion is run.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np

from . import input_units
from . import weights as weights_io
from .bundled import find_bundled_model
from .errors import UserInputError
from .feedback import Feedback
from .files import ensure_writable
from .grids import GridPair, open_pair
from .raster_io import OUTPUT_NODATA, RasterInfo, RasterWriter, band_metadata
from .registry import Method
from .tiling import DEFAULT_BLOCK_SIZE, PairReader, run_tiled
from .torch_support import require_torch, select_device
from .training import TrainingConfig, fill_invalid, train
from .training_run import data_from_inputs, training_card

DEFAULT_TRAIN_STEPS = 300
MODEL_CHOICES = ["auto", "weights file", "train on the inputs"]
MODEL_AUTO, MODEL_WEIGHTS, MODEL_TRAIN = range(3)


@dataclass
class FusionResult:
    output: str
    method: str
    model_source: str
    ratio: int
    blocks: int
    seconds_training: float = 0.0
    seconds_inference: float = 0.0
    training: dict = field(default_factory=dict)


NETWORK_NON_FINITE_HINT = ("The network's weights may be damaged, or the inputs far outside the range it was "
                           "trained on: check the inputs' units and nodata values, or choose another model.")


def output_writer(output: str, lr: RasterInfo, pair: GridPair, tags: dict, **writer_options) -> RasterWriter:
    rows, cols = pair.hr_shape
    return RasterWriter(output, cols, rows, lr.count, pair.transform, pair.crs_wkt, band_names=lr.band_names,
                        band_tags=band_metadata(lr), dataset_tags=tags,
                        producer=tags.get("hyperfuse_method", "The fusion"), **writer_options)


def block_sink(writer: RasterWriter, lr: RasterInfo):
    good = lr.good_bands

    def sink(values: np.ndarray, valid: np.ndarray, row0: int, col0: int) -> None:
        block = np.full((lr.count,) + valid.shape, OUTPUT_NODATA, dtype=np.float32)
        block[good] = np.where(valid[None], values, OUTPUT_NODATA)
        writer.write(block, row0, col0)
    return sink


def fuse_with_function(name: str, lr_path: str, hr_path: str, output: str, predict, receptive_field: int,
                       block_size: int = DEFAULT_BLOCK_SIZE, feedback: Feedback | None = None) -> FusionResult:
    """Tiled fusion with a NumPy ``predict(lr, lr_valid, hr, hr_valid, ratio)`` (classical methods)."""
    feedback = feedback or Feedback()
    ensure_writable(output)
    lr, hr, pair = open_pair(lr_path, hr_path)
    started = time.perf_counter()
    tags = {"hyperfuse_method": name, "hyperfuse_ratio": pair.ratio}
    with output_writer(output, lr, pair, tags) as writer:
        blocks = run_tiled(PairReader(lr, hr, pair), lambda *a: predict(*a, pair.ratio), block_sink(writer, lr),
                           receptive_field(pair.ratio), block_size, feedback)
    return FusionResult(output, name, "none", pair.ratio, blocks, seconds_inference=time.perf_counter() - started)


def fuse_with_network(method: Method, lr_path: str, hr_path: str, output: str, model_choice: int = MODEL_AUTO,
                      weights_path: str | None = None, train_steps: int = DEFAULT_TRAIN_STEPS, device_name: str = "auto",
                      block_size: int = DEFAULT_BLOCK_SIZE, output_weights: str | None = None,
                      feedback: Feedback | None = None, seed: int = 0, hyperparameters: dict | None = None,
                      training_overrides: dict | None = None) -> FusionResult:
    """Fuse with one of the registry's networks; see the module docstring for the steps."""
    feedback = feedback or Feedback()
    torch = require_torch()
    ensure_writable(output)
    if output_weights:
        ensure_writable(output_weights)
    lr, hr, pair = open_pair(lr_path, hr_path)
    device = select_device(device_name)
    hs_bands, ms_bands = len(lr.good_bands), len(hr.good_bands)
    good_wavelengths = None if lr.wavelengths_nm is None else [lr.wavelengths_nm[b] for b in lr.good_bands]
    ms_wavelengths = None if hr.wavelengths_nm is None else [hr.wavelengths_nm[b] for b in hr.good_bands]
    if lr.bad_bands:
        feedback.info(f"{len(lr.bad_bands)} LR-HSI band(s) are nodata everywhere (bad bands {', '.join(str(b + 1) for b in lr.bad_bands)}); "
                      "they stay in place in the output as nodata.")

    if model_choice == MODEL_AUTO:
        weights_path = None
        if good_wavelengths is None:
            feedback.info("The LR-HSI has no wavelength metadata, so no bundled model can be matched to it; "
                          "training on the inputs.")
        else:
            weights_path = find_bundled_model(method, hs_bands, ms_bands, pair.ratio, good_wavelengths,
                                              ms_wavelengths)
            if weights_path:
                feedback.info(f"Using the bundled model {os.path.basename(weights_path)}.")
            else:
                feedback.info(f"No bundled {method.name} model matches {hs_bands} HS bands at "
                              f"{min(good_wavelengths):.0f}–{max(good_wavelengths):.0f} nm, {ms_bands} MS bands and "
                              f"ratio {pair.ratio}; training on the inputs.")
    elif model_choice == MODEL_WEIGHTS and not weights_path:
        raise UserInputError("MODEL is 'weights file' but no WEIGHTS file was given. Choose a weights file, or set "
                             "MODEL to auto or train on the inputs.")

    training_info, seconds_training = {}, 0.0
    inference_span = feedback
    from_weights = bool(weights_path) and model_choice != MODEL_TRAIN
    if from_weights:
        model, card = weights_io.build_model(method, weights_path, hs_bands, ms_bands, pair.ratio, good_wavelengths,
                                             ms_wavelengths)
        source = os.path.basename(weights_path)
    else:
        if train_steps < 1:
            raise UserInputError("TRAIN_STEPS must be at least 1 to train on the inputs.")
        config = TrainingConfig.for_method(method, steps=train_steps, seed=seed, **(training_overrides or {}))
        data = data_from_inputs(lr_path, hr_path, config.mtf_gain)
        model, report = train(method, data.pairs, pair.ratio, config, device, feedback.span(0.0, 0.8),
                              hyperparameters)
        seconds_training = report.seconds
        source = "trained on the inputs"
        training_info = {"steps": report.steps, "seconds": report.seconds, "final_loss": report.losses[-1],
                         "stopped_because": report.stopped_because, "validation": report.validation}
        card = training_card(method, hyperparameters, data, config, report, device)
        inference_span = feedback.span(0.8, 1.0)
    if output_weights:
        weights_io.save_weights(output_weights, model, card)
        feedback.info(f"Weights written to {output_weights}.")

    model.to(device).eval()
    # A model trained on these inputs has their units already.
    unit_factors = input_units.match_model_to_inputs(model, lr, hr, feedback) if from_weights else (1.0, 1.0)
    hs_fill, ms_fill = model.hs_mean.cpu().numpy(), model.ms_mean.cpu().numpy()

    def predict(lr_block, lr_valid, hr_block, hr_valid):
        lr_t = torch.from_numpy(fill_invalid(lr_block, lr_valid, hs_fill))[None].to(device)
        hr_t = torch.from_numpy(fill_invalid(hr_block, hr_valid, ms_fill))[None].to(device)
        with torch.inference_mode():
            return model(lr_t, hr_t)[0].float().cpu().numpy()

    started = time.perf_counter()
    training = card.get("training", {})
    tags = {"hyperfuse_method": method.name, "hyperfuse_model": source, "hyperfuse_ratio": pair.ratio,
            "hyperfuse_model_training": f"{training.get('mode', 'unknown')}; data: "
                                        f"{', '.join(training.get('data', [])) or 'unknown'}"}
    if unit_factors != (1.0, 1.0):
        tags["hyperfuse_input_unit_factors"] = f"LR-HSI {unit_factors[0]:g}, HR-MSI {unit_factors[1]:g}"
    with output_writer(output, lr, pair, tags, non_finite_hint=NETWORK_NON_FINITE_HINT) as writer:
        blocks = run_tiled(PairReader(lr, hr, pair), predict, block_sink(writer, lr),
                           model.receptive_field(pair.ratio), block_size, inference_span,
                           alignment=model.alignment(pair.ratio))
    return FusionResult(output, method.name, source, pair.ratio, blocks, seconds_training,
                        time.perf_counter() - started, training_info)
