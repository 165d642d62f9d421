"""Training runs: training data from rasters, and the one training path.

Modes: self-supervised on a real LR-HSI/HR-MSI pair (Wald protocol), or supervised from a
reference HR-HSI whose inputs are simulated exactly as ``hyperfuse:simulate_degradation``
does with the same settings. Either can fine-tune existing weights.

:func:`train_model_on` is the one training path: ``hyperfuse:train_model``
(:func:`run_training`, which also writes the weights file and an optional HTML log) and
fusion with MODEL = train on the inputs (core/inference/fusion.py) both call it, with
data read from a pair that their run opened once.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass

from ..errors import UserInputError
from ..feedback import Feedback
from ..inference import weights as weights_io
from ..inference.tiling import PairReader
from ..inference.torch_support import numeric_platform, select_device
from ..protocol.degradation import DEFAULT_MTF_GAIN
from ..protocol.grids import GridPair
from ..protocol.simulation import SimulationSettings, simulate_arrays
from ..registry import NetworkMethod
from ..storage.files import ensure_writable
from ..storage.raster_io import RasterInfo
from .trainer import TrainingConfig, TrainingReport, simulated_pair, train, wald_pair

# Training on the inputs (training_windows): a common area up to 512² LR pixels is read whole; a larger one as
# 2 × 2 windows of 256² LR pixels spread over it (with 218 bands, 228 MB of LR-HSI whatever the scene's size).
WHOLE_AREA_LR_PIXELS = 512 * 512
TRAINING_WINDOW_LR_PIXELS, TRAINING_WINDOWS = 256, 2
# Where training data come from: data_from_inputs or data_from_reference.
MODE_SELF_SUPERVISED, MODE_SUPERVISED = "self-supervised", "supervised"


@dataclass
class TrainingData:
    """Training pairs with what the model card needs to know about their bands."""

    pairs: list
    ratio: int
    hs_wavelengths: list | None
    ms_description: str
    ms_wavelengths: list | None
    mode: str
    sources: list
    simulation: dict | None = None


def training_windows(lr_rows: int, lr_cols: int) -> list:
    """Windows (row0, col0, rows, cols) of the common area, in LR pixels, that training on the inputs reads.

    A common area of up to WHOLE_AREA_LR_PIXELS is read whole. A larger one gives TRAINING_WINDOWS² windows of
    TRAINING_WINDOW_LR_PIXELS a side, centred on a regular grid over the area, so that the training data and
    their memory stay the same whatever the scene's size (300 steps draw far fewer patches than those hold).
    """
    if lr_rows * lr_cols <= WHOLE_AREA_LR_PIXELS:
        return [(0, 0, lr_rows, lr_cols)]
    windows = []
    rows, cols = min(TRAINING_WINDOW_LR_PIXELS, lr_rows), min(TRAINING_WINDOW_LR_PIXELS, lr_cols)
    for i in range(TRAINING_WINDOWS):
        for j in range(TRAINING_WINDOWS):
            row0 = min(max(0, (2 * i + 1) * lr_rows // (2 * TRAINING_WINDOWS) - rows // 2), lr_rows - rows)
            col0 = min(max(0, (2 * j + 1) * lr_cols // (2 * TRAINING_WINDOWS) - cols // 2), lr_cols - cols)
            windows.append((row0, col0, rows, cols))
    return sorted(set(windows))


def data_from_inputs(lr: RasterInfo, hr: RasterInfo, grid: GridPair,
                     mtf_gain: float = DEFAULT_MTF_GAIN) -> TrainingData:
    """A real pair, as :func:`~..protocol.grids.open_pair` opened it, degraded once more by r (Wald
    protocol): the LR-HSI is the target. Read through :func:`training_windows`, one Wald pair each."""
    lr_name, hr_name = os.path.basename(lr.path), os.path.basename(hr.path)
    reader, r = PairReader(lr, hr, grid), grid.ratio
    pairs = [wald_pair(*reader.read(row0 * r, col0 * r, rows * r, cols * r), r, mtf_gain, lr_name)
             for row0, col0, rows, cols in training_windows(*grid.lr_window[2:])]
    return TrainingData(
        pairs, grid.ratio, _good(lr.wavelengths_nm, lr.good_bands),
        ", ".join(hr.band_names[b] for b in hr.good_bands), _good(hr.wavelengths_nm, hr.good_bands),
        "self-supervised (Wald protocol): inputs degraded by the ratio, the LR-HSI as target", [lr_name, hr_name])


def data_from_reference(reference_path: str, settings: SimulationSettings,
                        feedback: Feedback | None = None) -> TrainingData:
    """A reference HR-HSI and the inputs simulated from it: the reference is the target."""
    sim = simulate_arrays(reference_path, settings, feedback)
    if sim.reference.shape[0] <= sim.ms.shape[0]:
        raise UserInputError(f"The reference has {sim.reference.shape[0]} usable bands and the simulated MS "
                             f"{sim.ms.shape[0]}: the reference must have more bands than the MS sensor.")
    return TrainingData(
        [simulated_pair(sim, os.path.basename(reference_path))], settings.ratio,
        sim.reference_wavelengths_nm, ", ".join(settings.srf.labelled_band_names()),
        [float(c) for c in settings.srf.centres_nm()],
        "supervised: inputs simulated from the reference by the PROTOCOL degradation",
        [os.path.basename(reference_path)], settings.describe())


def _good(values, good_bands):
    return None if values is None else [values[b] for b in good_bands]


def training_card(method: NetworkMethod, hyperparameters: dict | None, data: TrainingData, config: TrainingConfig,
                  report: TrainingReport, device, initial_weights: str | None = None) -> dict:
    first = data.pairs[0]
    training = {"mode": data.mode, "data": data.sources, "platform": numeric_platform(device),
                "steps_run": report.steps, "stopped_because": report.stopped_because, "best_step": report.best_step,
                "seconds": round(report.seconds, 1), "config": {k: (list(v) if isinstance(v, tuple) else v)
                                                               for k, v in asdict(config).items()}}
    if data.simulation:
        training["simulation"] = data.simulation
    if initial_weights:
        training["fine_tuned_from"] = os.path.basename(initial_weights)
    if report.warning:
        training["warning"] = report.warning
    validation = {"on": report.validated_on, "mean": report.validation, "parts": report.validation_parts,
                  "window_units": "[first row, first column, rows, columns] in pixels of the target: the "
                                  "reference (supervised) or the LR-HSI (self-supervised)"}
    return weights_io.make_card(
        method.id, {**method.hyperparameters, **(hyperparameters or {})}, first.lr.shape[0], data.hs_wavelengths,
        first.hr.shape[0], data.ms_description, data.ratio, training=training, validation=validation,
        seed=config.seed, ms_wavelengths=data.ms_wavelengths)


def train_model_on(method: NetworkMethod, data: TrainingData, config: TrainingConfig, device, feedback: Feedback,
                   *, hyperparameters: dict | None = None, initial_weights: str | None = None):
    """The one training path: fine-tune ``initial_weights`` (keeping its settings) or build a new
    network, train it on ``data`` and describe it in a model card; returns (model, card, report)."""
    initial_model = None
    if initial_weights:
        hs_bands, ms_bands = data.pairs[0].lr.shape[0], data.pairs[0].hr.shape[0]
        initial_model, initial_card = weights_io.build_model(method, initial_weights, hs_bands, ms_bands, data.ratio,
                                                             data.hs_wavelengths)
        hyperparameters = method.card_hyperparameters(initial_card.get("hyperparameters", {}))
        feedback.info(f"Fine-tuning {os.path.basename(initial_weights)}.")
    model, report = train(method, data.pairs, data.ratio, config, device, feedback, hyperparameters, initial_model)
    return model, training_card(method, hyperparameters, data, config, report, device, initial_weights), report


@dataclass(frozen=True)
class FullResolutionAdaptation:
    """train_model's ADAPT option: after training, fine-tune on the opened pair at full resolution
    (core/inference/fine_tuning.py) for ``steps`` steps, with the projection's observation model."""

    lr: object
    hr: object
    pair: object
    steps: int
    mtf_gain: float


def adapt_to_inputs(method: NetworkMethod, model, card: dict, adaptation: FullResolutionAdaptation, seed: int,
                    device, feedback: Feedback) -> None:
    """Fine-tune a trained ``model`` on the pair at full resolution; the card records it."""
    from ..inference.adaptation import observation_source
    from ..inference.fine_tuning import fine_tune_on_pair

    source = observation_source(adaptation.lr, adaptation.hr, adaptation.pair, mtf_gain=adaptation.mtf_gain,
                                feedback=feedback)
    report = fine_tune_on_pair(method, model, adaptation.lr, adaptation.hr, adaptation.pair, source,
                               steps=adaptation.steps, seed=seed, device=device, feedback=feedback)
    card["training"]["adaptation"] = f"fine-tuned on the inputs at full resolution: {report.describe()}"


def run_training(method: NetworkMethod, data: TrainingData, config: TrainingConfig, output_weights: str,
                 output_log: str | None = None, *, initial_weights: str | None = None, device_name: str = "auto",
                 hyperparameters: dict | None = None, feedback: Feedback | None = None,
                 adaptation: FullResolutionAdaptation | None = None):
    """``hyperfuse:train_model``: train (:func:`train_model_on`), optionally adapt at full resolution
    (:func:`adapt_to_inputs`), then write the weights (atomically) and the log; returns (model, card, report)."""
    feedback = feedback or Feedback()
    for path in (output_weights, output_log):
        if path:
            ensure_writable(path)
    device = select_device(device_name)
    adapting = adaptation is not None and adaptation.steps > 0
    model, card, report = train_model_on(method, data, config, device, feedback.span(0.0, 0.8) if adapting else feedback,
                                         hyperparameters=hyperparameters, initial_weights=initial_weights)
    if adapting:
        adapt_to_inputs(method, model, card, adaptation, config.seed, device, feedback.span(0.8, 1.0))
    if output_weights:
        weights_io.save_weights(output_weights, model, card)
        feedback.info(f"Weights written to {output_weights}.")
    if output_log:
        # Imported here: the log draws with matplotlib, which took 0.3 s of every fusion's start.
        from .log import write_training_log
        write_training_log(output_log, card, report)
    return model, card, report
