"""One training run from files to a weights file (``hyperfuse:train_model``).

Modes: self-supervised on a real LR-HSI/HR-MSI pair (Wald protocol), or supervised from a
reference HR-HSI whose inputs are simulated exactly as ``hyperfuse:simulate_degradation``
does with the same settings. Either can fine-tune existing weights. The weights are
written with a model card (:func:`training_card`) and, optionally, an HTML training log.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass

from . import weights as weights_io
from .degradation import DEFAULT_MTF_GAIN
from .errors import UserInputError
from .feedback import Feedback
from .files import ensure_writable
from .grids import open_pair, read_common_area
from .registry import Method
from .simulation import PSF_CHOICES, PSF_GAUSSIAN, simulate_arrays
from .srf import SpectralResponse
from .torch_support import numeric_platform, select_device
from .training import TrainingConfig, TrainingReport, simulated_pair, train, wald_pair
from .training_log import write_training_log

# The order is public: it is the MODE enum of hyperfuse:train_model.
MODE_CHOICES = ["Self-supervised on LR_HSI + HR_MSI (Wald protocol)",
                "Supervised from REFERENCE (inputs simulated from it)"]
MODE_SELF_SUPERVISED, MODE_SUPERVISED = range(2)


@dataclass
class SimulationSettings:
    """The parameters of ``hyperfuse:simulate_degradation`` that define supervised training data."""

    ratio: int
    srf: SpectralResponse
    mtf_gain: float = DEFAULT_MTF_GAIN
    psf: int = PSF_GAUSSIAN
    psf_file: str | None = None
    snr_hs: float = 0.0
    snr_ms: float = 0.0
    wavelengths_nm: list | None = None
    seed: int = 0
    hs_response: SpectralResponse | None = None   # resample the reference to another HS sensor first

    def describe(self) -> dict:
        return {"ratio": self.ratio, "srf": self.srf.name, "ms_bands": list(self.srf.band_names),
                "hs_resampled_to": None if self.hs_response is None else self.hs_response.name,
                "psf": PSF_CHOICES[self.psf], "mtf_gain": self.mtf_gain, "psf_file": self.psf_file,
                "snr_hs_db": self.snr_hs, "snr_ms_db": self.snr_ms, "seed": self.seed}


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


def data_from_inputs(lr_path: str, hr_path: str, mtf_gain: float = DEFAULT_MTF_GAIN) -> TrainingData:
    """A real pair, degraded once more by r (Wald protocol): the LR-HSI is the target."""
    lr, hr, grid = open_pair(lr_path, hr_path)
    lr_values, lr_valid, hr_values, hr_valid = read_common_area(lr, hr, grid)
    pair = wald_pair(lr_values, lr_valid, hr_values, hr_valid, grid.ratio, mtf_gain, os.path.basename(lr_path))
    return TrainingData(
        [pair], grid.ratio, _good(lr.wavelengths_nm, lr.good_bands),
        ", ".join(hr.band_names[b] for b in hr.good_bands), _good(hr.wavelengths_nm, hr.good_bands),
        "self-supervised (Wald protocol): inputs degraded by the ratio, the LR-HSI as target",
        [os.path.basename(lr_path), os.path.basename(hr_path)])


def data_from_reference(reference_path: str, settings: SimulationSettings,
                        feedback: Feedback | None = None) -> TrainingData:
    """A reference HR-HSI and the inputs simulated from it: the reference is the target."""
    sim = simulate_arrays(reference_path, settings.ratio, settings.srf, settings.mtf_gain, settings.psf,
                          settings.seed, settings.snr_hs, settings.snr_ms, settings.wavelengths_nm,
                          settings.psf_file, feedback, settings.hs_response)
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


def training_card(method: Method, hyperparameters: dict | None, data: TrainingData, config: TrainingConfig,
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
    validation = {"on": report.validated_on, "mean": report.validation, "parts": report.validation_parts,
                  "window_units": "[first row, first column, rows, columns] in pixels of the target: the "
                                  "reference (supervised) or the LR-HSI (self-supervised)"}
    return weights_io.make_card(
        method.id, {**method.hyperparameters, **(hyperparameters or {})}, first.lr.shape[0], data.hs_wavelengths,
        first.hr.shape[0], data.ms_description, data.ratio, training, validation, config.seed, data.ms_wavelengths)


def run_training(method: Method, data: TrainingData, config: TrainingConfig, output_weights: str,
                 output_log: str | None = None, initial_weights: str | None = None, device_name: str = "auto",
                 hyperparameters: dict | None = None, feedback: Feedback | None = None):
    """Train, then write the weights (atomically) and the log; returns (model, card, report)."""
    feedback = feedback or Feedback()
    for path in (output_weights, output_log):
        if path:
            ensure_writable(path)
    device = select_device(device_name)
    initial_model = None
    hs_bands, ms_bands = data.pairs[0].lr.shape[0], data.pairs[0].hr.shape[0]
    if initial_weights:
        initial_model, initial_card = weights_io.build_model(method, initial_weights, hs_bands, ms_bands, data.ratio,
                                                             data.hs_wavelengths)
        hyperparameters = initial_card.get("hyperparameters", {})
        feedback.info(f"Fine-tuning {os.path.basename(initial_weights)}.")
    model, report = train(method, data.pairs, data.ratio, config, device, feedback, hyperparameters, initial_model)
    card = training_card(method, hyperparameters, data, config, report, device, initial_weights)
    if output_weights:
        weights_io.save_weights(output_weights, model, card)
        feedback.info(f"Weights written to {output_weights}.")
    if output_log:
        write_training_log(output_log, card, report)
    return model, card, report
