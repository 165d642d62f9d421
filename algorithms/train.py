"""hyperfuse:train_model — train any of the five networks and write a weights file with its card."""
from __future__ import annotations

from qgis.core import (QgsProcessingOutputNumber, QgsProcessingParameterEnum, QgsProcessingParameterFile,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterLayer)

from ..core.errors import UserInputError
from ..core.inference.torch_support import DEVICES
from ..core.protocol.grids import open_pair
from ..core.registry import METHODS
from ..core.training import runs as training_run
from ..core.training.trainer import TrainingConfig
from .base import HyperFuseAlgorithm, add_settings, read_settings
from .parameters import (ADAPT_STEPS, ADAPT_STEPS_LABEL, DEVICE, DEVICE_HELP, DEVICE_LABEL, HR_MSI, HR_MSI_HELP,
                         LR_HSI, LR_HSI_HELP, MTF_GAIN, OUTPUT_WEIGHTS, REFERENCE, SEED, SEED_LABEL, TRAINING_GROUP)
from .simulate import SIMULATION_HELP, add_simulation_parameters, read_simulation_settings

# The order is public: it is the METHOD enum.
METHOD_IDS = list(METHODS)
# The MODE enum: the core's training data modes, in the public option order, and their labels.
MODES = [training_run.MODE_SELF_SUPERVISED, training_run.MODE_SUPERVISED]
MODE_LABELS = ["Self-supervised on LR_HSI + HR_MSI (Wald protocol)",
               "Supervised from REFERENCE (inputs simulated from it)"]
DEFAULT_STEPS = 500


def _paper_defaults(key: str, unit: str = "") -> str:
    return "; ".join(f"{m.name} {m.training[key]:g}{unit}" for m in METHODS.values())


class TrainModelAlgorithm(HyperFuseAlgorithm):
    ALGORITHM_ID = "train_model"
    DISPLAY_NAME = "Train a fusion model"
    GROUP = TRAINING_GROUP
    SUMMARY = ("Trains one of the five fusion networks and writes a weights file that any HyperFuse fusion algorithm "
               "of the same method loads with MODEL = weights file. Training data are either a real LR-HSI/HR-MSI "
               "pair (self-supervised by Wald's protocol: both are degraded by the ratio and the network learns to "
               "restore the LR-HSI) or a reference HR-HSI from which the inputs are simulated with the settings of "
               "Simulate degradation. The last part of the data (VALIDATION_FRACTION of the longer side) is held "
               "out: it is checked every few steps, the best weights are kept, and training stops early when it "
               "no longer improves. The weights file carries a model card (method, settings, bands and "
               "wavelengths, ratio, data, validation metrics, seed, plugin version, date); OUTPUT_LOG shows the "
               "loss and validation curves. Requires PyTorch.")
    PARAMETER_HELP = {
        "METHOD": "Network to train: " + "; ".join(f"{i} {m.name}" for i, m in enumerate(METHODS.values())) + ".",
        "MODE": "0 self-supervised on LR_HSI + HR_MSI (Wald protocol; RATIO is read from the grids); "
                "1 supervised from REFERENCE, with inputs simulated by RATIO, SRF, PSF … as in Simulate degradation.",
        LR_HSI: LR_HSI_HELP + " Used in MODE 0.",
        HR_MSI: HR_MSI_HELP + " Used in MODE 0.",
        REFERENCE: "High-resolution hyperspectral raster with wavelength metadata (MODE 1). The model learns to "
                     "fuse the inputs simulated from it back into it.",
        **{key: text + " (MODE 1)" for key, text in SIMULATION_HELP.items()},
        "STEPS": "Largest number of optimiser steps; training may stop earlier (PATIENCE, TIME_BUDGET_MINUTES).",
        "BATCH_SIZE": "Patches per step; 0 uses the method's default (" + _paper_defaults("batch_size") + ").",
        "PATCH_SIZE": "Side of the training patches in HR pixels; 0 uses the method's default (" +
                      _paper_defaults("patch_size", " px") + ").",
        "LEARNING_RATE": "Adam learning rate; 0 uses the method's default (" + _paper_defaults("learning_rate") +
                         "), or a tenth of it when fine-tuning INIT_WEIGHTS.",
        "TIME_BUDGET_MINUTES": "Stop after this many minutes and keep the best weights so far; 0 sets no limit.",
        SEED: "Seed of patch sampling, initialisation and simulated noise: the same seed and inputs give the same "
                "weights on the CPU.",
        DEVICE: DEVICE_HELP,
        "INIT_WEIGHTS": "Optional weights file of the same method, bands and ratio to fine-tune instead of starting "
                        "from scratch; its settings and band statistics are kept.",
        "VALIDATION_FRACTION": "Part of the data held out for validation, taken from the end of the longer side in "
                               "whole LR pixels; 0 validates on the training data (no over-fitting check).",
        "VALIDATE_EVERY": "Steps between validation checks; 0 checks about twenty times per run.",
        "PATIENCE": "Validation checks without a better PSNR before training stops; 0 never stops early.",
        **{setting.name: f"({m.name} only) {setting.help or setting.label}"
           for m in METHODS.values() for setting in m.parameters},
        ADAPT_STEPS: "MODE 0 only: after training at reduced resolution, fine-tune the model on LR_HSI and HR_MSI "
                     "themselves for this many steps, so that its result, blurred and decimated, gives back the "
                     "LR-HSI and, through the spectral responses estimated from the pair, the HR-MSI (as ADAPT_STEPS "
                     "of the fusion algorithms). The model card records the consistency before and after. 0, the "
                     "default, skips it.",
        OUTPUT_WEIGHTS: "The weights file (.pt) with its model card, written only when training completes.",
        "OUTPUT_LOG": "Optional HTML log: loss curve, validation curve and metrics against bicubic, model card.",
    }

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add(QgsProcessingParameterEnum("METHOD", "Method", options=[m.name for m in METHODS.values()],
                                            defaultValue=METHOD_IDS.index("deepsen3")))
        self.add(QgsProcessingParameterEnum("MODE", "Training data", options=MODE_LABELS,
                                            defaultValue=MODES.index(training_run.MODE_SELF_SUPERVISED)))
        self.add(QgsProcessingParameterRasterLayer(LR_HSI, "Low-resolution hyperspectral image (MODE 0)",
                                                   optional=True))
        self.add(QgsProcessingParameterRasterLayer(HR_MSI, "High-resolution multispectral image (MODE 0)",
                                                   optional=True))
        self.add(QgsProcessingParameterRasterLayer(REFERENCE, "Reference HR-HSI (MODE 1)", optional=True))
        add_simulation_parameters(self, with_seed=False)
        self.add(QgsProcessingParameterNumber("STEPS", "Training steps (at most)", QgsProcessingParameterNumber.Integer,
                                              DEFAULT_STEPS, minValue=1))
        self.add(QgsProcessingParameterNumber("BATCH_SIZE", "Batch size (0 = method default)",
                                              QgsProcessingParameterNumber.Integer, 0, minValue=0))
        self.add(QgsProcessingParameterNumber("PATCH_SIZE", "Patch size in HR pixels (0 = method default)",
                                              QgsProcessingParameterNumber.Integer, 0, minValue=0))
        self.add(QgsProcessingParameterNumber("LEARNING_RATE", "Learning rate (0 = method default)",
                                              QgsProcessingParameterNumber.Double, 0.0, minValue=0.0))
        self.add(QgsProcessingParameterNumber("TIME_BUDGET_MINUTES", "Time budget in minutes (0 = none)",
                                              QgsProcessingParameterNumber.Double, 0.0, minValue=0.0))
        self.add(QgsProcessingParameterNumber(SEED, SEED_LABEL, QgsProcessingParameterNumber.Integer, 0, minValue=0))
        self.add(QgsProcessingParameterEnum(DEVICE, DEVICE_LABEL, options=DEVICES, defaultValue=0))
        self.add(QgsProcessingParameterFile("INIT_WEIGHTS", "Weights to fine-tune (optional)", extension="pt",
                                            optional=True))
        defaults = TrainingConfig()
        self.add(QgsProcessingParameterNumber("VALIDATION_FRACTION", "Validation fraction",
                                              QgsProcessingParameterNumber.Double, defaults.validation_fraction,
                                              minValue=0.0, maxValue=0.5), advanced=True)
        self.add(QgsProcessingParameterNumber("VALIDATE_EVERY", "Steps between validation checks (0 = automatic)",
                                              QgsProcessingParameterNumber.Integer, 0, minValue=0), advanced=True)
        self.add(QgsProcessingParameterNumber("PATIENCE", "Early-stopping patience (checks, 0 = off)",
                                              QgsProcessingParameterNumber.Integer, defaults.patience, minValue=0),
                 advanced=True)
        add_settings(self, [setting for m in METHODS.values() for setting in m.parameters])
        self.add(QgsProcessingParameterNumber(ADAPT_STEPS, ADAPT_STEPS_LABEL, QgsProcessingParameterNumber.Integer, 0,
                                              minValue=0), advanced=True)
        self.add(QgsProcessingParameterFileDestination(OUTPUT_WEIGHTS, "Weights file",
                                                       fileFilter="HyperFuse weights (*.pt)"))
        self.add(QgsProcessingParameterFileDestination("OUTPUT_LOG", "Training log (HTML)",
                                                       fileFilter="HTML (*.html)", optional=True,
                                                       createByDefault=False))
        self.addOutput(QgsProcessingOutputNumber("VALIDATION_PSNR", "Validation PSNR of the weights kept (dB)"))
        self.addOutput(QgsProcessingOutputNumber("VALIDATION_SAM", "Validation SAM of the weights kept (degrees)"))
        self.addOutput(QgsProcessingOutputNumber("STEPS_RUN", "Steps run"))

    def _optional_path(self, parameters, name, context):
        layer = self.parameterAsRasterLayer(parameters, name, context)
        return None if layer is None else self.layer_path(layer, name)

    def process(self, parameters, context, feedback):
        method = METHODS[METHOD_IDS[self.parameterAsEnum(parameters, "METHOD", context)]]
        mode = MODES[self.parameterAsEnum(parameters, "MODE", context)]
        seed = self.parameterAsInt(parameters, SEED, context)
        initial_weights = self.parameterAsFile(parameters, "INIT_WEIGHTS", context) or None
        config = TrainingConfig.for_method(
            method, fine_tuning=initial_weights is not None,
            steps=self.parameterAsInt(parameters, "STEPS", context), seed=seed,
            batch_size=self.parameterAsInt(parameters, "BATCH_SIZE", context) or None,
            patch_size=self.parameterAsInt(parameters, "PATCH_SIZE", context) or None,
            learning_rate=self.parameterAsDouble(parameters, "LEARNING_RATE", context) or None,
            time_budget_minutes=self.parameterAsDouble(parameters, "TIME_BUDGET_MINUTES", context),
            validation_fraction=self.parameterAsDouble(parameters, "VALIDATION_FRACTION", context),
            validate_every=self.parameterAsInt(parameters, "VALIDATE_EVERY", context),
            patience=self.parameterAsInt(parameters, "PATIENCE", context),
            mtf_gain=self.parameterAsDouble(parameters, MTF_GAIN, context))
        output_weights = self.parameterAsFileOutput(parameters, OUTPUT_WEIGHTS, context)
        output_log = self.parameterAsFileOutput(parameters, "OUTPUT_LOG", context) or None
        adapt_steps, adaptation = self.parameterAsInt(parameters, ADAPT_STEPS, context), None
        if mode == training_run.MODE_SUPERVISED:
            if adapt_steps > 0:
                raise UserInputError("ADAPT_STEPS fine-tunes the trained model on LR_HSI and HR_MSI at full "
                                     "resolution, so it needs MODE 0 (self-supervised). Set ADAPT_STEPS to 0, or "
                                     "train on LR_HSI and HR_MSI.")
            reference = self._optional_path(parameters, REFERENCE, context)
            if reference is None:
                raise UserInputError("MODE is 'supervised from REFERENCE' but no REFERENCE layer was given. Choose "
                                     "a high-resolution hyperspectral raster, or use MODE 0 with LR_HSI and HR_MSI.")
            settings = read_simulation_settings(self, parameters, context)
            data = training_run.data_from_reference(reference, settings, feedback)
        else:
            lr_path = self._optional_path(parameters, LR_HSI, context)
            hr_path = self._optional_path(parameters, HR_MSI, context)
            if lr_path is None or hr_path is None:
                raise UserInputError("MODE is 'self-supervised' but LR_HSI or HR_MSI is missing. Give both, or use "
                                     "MODE 1 with a REFERENCE.")
            lr, hr, grid = open_pair(lr_path, hr_path)
            data = training_run.data_from_inputs(lr, hr, grid, config.mtf_gain)
            adaptation = training_run.FullResolutionAdaptation(lr, hr, grid, adapt_steps, config.mtf_gain)
        _, card, report = training_run.run_training(
            method, data, config, output_weights, output_log,
            initial_weights=initial_weights, adaptation=adaptation,
            device_name=DEVICES[self.parameterAsEnum(parameters, DEVICE, context)],
            hyperparameters=read_settings(self, method.parameters, parameters, context), feedback=feedback)
        return {OUTPUT_WEIGHTS: output_weights, "OUTPUT_LOG": output_log, "STEPS_RUN": report.steps,
                "VALIDATION_PSNR": report.validation["PSNR"], "VALIDATION_SAM": report.validation["SAM"]}
