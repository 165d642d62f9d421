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
from .base import HyperFuseAlgorithm, add_settings, raster_file, read_settings
from .i18n import QT_TRANSLATE_NOOP, Text, translate
from .parameters import (ADAPT_STEPS, ADAPT_STEPS_LABEL, DEVICE, DEVICE_HELP, DEVICE_LABEL, HR_MSI, HR_MSI_HELP,
                         LR_HSI, LR_HSI_HELP, MTF_GAIN, OUTPUT_WEIGHTS, REFERENCE, SEED, SEED_LABEL, TRAINING_GROUP)
from .simulate import SIMULATION_HELP, add_simulation_parameters, read_simulation_settings

# The order is public: it is the METHOD enum.
METHOD_IDS = list(METHODS)
# The MODE enum: the core's training data modes, in the public option order, and their labels.
MODES = [training_run.MODE_SELF_SUPERVISED, training_run.MODE_SUPERVISED]
MODE_LABELS = [QT_TRANSLATE_NOOP("HyperFuse", "Self-supervised on LR_HSI + HR_MSI (Wald protocol)"),
               QT_TRANSLATE_NOOP("HyperFuse", "Supervised from REFERENCE (inputs simulated from it)")]
DEFAULT_STEPS = 500


SELF_SUPERVISED_HELP = QT_TRANSLATE_NOOP("HyperFuse", "{help} Used in the self-supervised mode.")


def _paper_defaults(key: str, unit: str = "") -> str:
    return "; ".join(f"{m.name} {m.training[key]:g}{unit}" for m in METHODS.values())


class TrainModelAlgorithm(HyperFuseAlgorithm):
    ALGORITHM_ID = "train_model"
    DISPLAY_NAME = QT_TRANSLATE_NOOP("HyperFuse", "Train a fusion model")
    GROUP = TRAINING_GROUP
    ICON = "training.svg"
    SUMMARY = QT_TRANSLATE_NOOP(
        "HyperFuse", "Trains one of the five fusion networks and writes a weights file that any HyperFuse fusion "
                     "algorithm of the same method loads with MODEL = weights file. Training data are either a real "
                     "LR-HSI/HR-MSI pair (self-supervised by Wald's protocol: both are degraded by the ratio and "
                     "the network learns to restore the LR-HSI) or a reference HR-HSI from which the inputs are "
                     "simulated with the settings of Simulate degradation. The last part of the data "
                     "(VALIDATION_FRACTION of the longer side) is held out: it is checked every few steps, the best "
                     "weights are kept, and training stops early when it no longer improves. The weights file "
                     "carries a model card (method, settings, bands and wavelengths, ratio, data, validation "
                     "metrics, seed, plugin version, date); OUTPUT_LOG shows the loss and validation curves. "
                     "Requires PyTorch.")
    INPUTS = QT_TRANSLATE_NOOP(
        "HyperFuse", "Self-supervised mode: a real LR-HSI and HR-MSI of the same scene (LR_HSI, HR_MSI). Supervised "
                     "mode: a reference HR-HSI with wavelength metadata (REFERENCE), from which the inputs are "
                     "simulated as Simulate degradation does. Optionally weights of the same method, bands and "
                     "ratio to fine-tune (INIT_WEIGHTS).")
    OUTPUTS = QT_TRANSLATE_NOOP(
        "HyperFuse", "OUTPUT_WEIGHTS: the weights file with its model card, for MODEL = weights file of the fusion "
                     "algorithms; optionally OUTPUT_LOG, an HTML training log; VALIDATION_PSNR and VALIDATION_SAM "
                     "of the weights kept, and STEPS_RUN.")
    CITATION = QT_TRANSLATE_NOOP(
        "HyperFuse", "Self-supervised mode: Wald's protocol (L. Wald, T. Ranchin, M. Mangolini, PE&RS 63(6), 1997). "
                     "Each network's paper is in its fusion algorithm's help; the training settings and where they "
                     "depart from the papers: docs/methods.md and docs/training.md. Optimiser: Adam (D. P. Kingma, "
                     "J. Ba, ICLR, 2015).")
    RUN_TIME = QT_TRANSLATE_NOOP(
        "HyperFuse", "Measured on 2 CPU threads (AMD EPYC): DeepSen3's 300 steps took 74 s self-supervised on the "
                     "90 × 90-pixel AVIRIS scene and 138 s supervised on half of the 218-band EnMAP scene "
                     "(docs/benchmark_training.md). The networks differ per step: MHF-net's 400 steps took about 25 "
                     "minutes on two cores shared with other jobs (docs/methods.md). TIME_BUDGET_MINUTES caps a "
                     "run. On a GPU (DEVICE = cuda): not yet measured.")
    PARAMETER_HELP = {
        "METHOD": Text(QT_TRANSLATE_NOOP("HyperFuse", "Network to train: {methods}."),
                       methods=", ".join(m.name for m in METHODS.values())),
        "MODE": Text(QT_TRANSLATE_NOOP(
            "HyperFuse", "{self_supervised}: both inputs are degraded by the ratio, read from their grids, and the "
                         "network learns to restore the LR-HSI; {supervised}: the network learns to fuse inputs "
                         "simulated from REFERENCE by RATIO, SRF, PSF … (as in Simulate degradation) back into it."),
            self_supervised=MODE_LABELS[0], supervised=MODE_LABELS[1]),
        LR_HSI: Text(SELF_SUPERVISED_HELP, help=LR_HSI_HELP),
        HR_MSI: Text(SELF_SUPERVISED_HELP, help=HR_MSI_HELP),
        REFERENCE: QT_TRANSLATE_NOOP(
            "HyperFuse", "High-resolution hyperspectral raster with wavelength metadata (supervised mode). The "
                         "model learns to fuse the inputs simulated from it back into it."),
        **{key: Text(QT_TRANSLATE_NOOP("HyperFuse", "{help} (Supervised mode only.)"), help=text)
           for key, text in SIMULATION_HELP.items()},
        # The Wald degradation of the self-supervised mode is the Gaussian of this gain too.
        MTF_GAIN: Text(QT_TRANSLATE_NOOP("HyperFuse", "{help} In both modes: the PSF of the simulation (supervised) "
                                                      "or of Wald's degradation (self-supervised)."),
                       help=SIMULATION_HELP[MTF_GAIN]),
        "STEPS": QT_TRANSLATE_NOOP(
            "HyperFuse", "Largest number of optimiser steps; training may stop earlier (PATIENCE, "
                         "TIME_BUDGET_MINUTES)."),
        "BATCH_SIZE": Text(QT_TRANSLATE_NOOP("HyperFuse", "Patches per step; 0 uses the method's default "
                                                          "({defaults})."), defaults=_paper_defaults("batch_size")),
        "PATCH_SIZE": Text(QT_TRANSLATE_NOOP("HyperFuse", "Side of the training patches in HR pixels; 0 uses the "
                                                          "method's default ({defaults})."),
                           defaults=_paper_defaults("patch_size", " px")),
        "LEARNING_RATE": Text(QT_TRANSLATE_NOOP("HyperFuse", "Adam learning rate; 0 uses the method's default "
                                                             "({defaults}), or a tenth of it when fine-tuning "
                                                             "INIT_WEIGHTS."),
                              defaults=_paper_defaults("learning_rate")),
        "TIME_BUDGET_MINUTES": QT_TRANSLATE_NOOP(
            "HyperFuse", "Stop after this many minutes and keep the best weights so far; 0 sets no limit."),
        SEED: QT_TRANSLATE_NOOP(
            "HyperFuse", "Seed of patch sampling, initialisation and simulated noise: the same seed and inputs give "
                         "the same weights on the CPU."),
        DEVICE: DEVICE_HELP,
        "INIT_WEIGHTS": QT_TRANSLATE_NOOP(
            "HyperFuse", "Optional weights file of the same method, bands and ratio to fine-tune instead of "
                         "starting from scratch; its settings and band statistics are kept."),
        "VALIDATION_FRACTION": QT_TRANSLATE_NOOP(
            "HyperFuse", "Part of the data held out for validation, taken from the end of the longer side in whole "
                         "LR pixels; 0 validates on the training data (no over-fitting check)."),
        "VALIDATE_EVERY": QT_TRANSLATE_NOOP(
            "HyperFuse", "Steps between validation checks; 0 checks about twenty times per run."),
        "PATIENCE": QT_TRANSLATE_NOOP(
            "HyperFuse", "Validation checks without a better PSNR before training stops; 0 never stops early."),
        **{setting.name: Text(QT_TRANSLATE_NOOP("HyperFuse", "({method} only) {help}"), method=m.name,
                              help=setting.help or setting.label)
           for m in METHODS.values() for setting in m.parameters},
        ADAPT_STEPS: QT_TRANSLATE_NOOP(
            "HyperFuse", "Self-supervised mode only: after training at reduced resolution, fine-tune the model on "
                         "LR_HSI and HR_MSI themselves for this many steps, so that its result, blurred and "
                         "decimated, gives back the LR-HSI and, through the spectral responses estimated from the "
                         "pair, the HR-MSI (as ADAPT_STEPS of the fusion algorithms). The model card records the "
                         "consistency before and after. 0, the default, skips it."),
        OUTPUT_WEIGHTS: QT_TRANSLATE_NOOP(
            "HyperFuse", "The weights file (.pt) with its model card, written only when training completes."),
        "OUTPUT_LOG": QT_TRANSLATE_NOOP(
            "HyperFuse", "Optional HTML log: loss curve, validation curve and metrics against bicubic, model card."),
    }

    def initAlgorithm(self, config=None):  # noqa: N802
        self._add_data_parameters()
        self._add_training_parameters()
        self._add_outputs()

    def _add_data_parameters(self):
        """METHOD, MODE and what the model learns from: the pair, or the reference and its simulation."""
        self.add(QgsProcessingParameterEnum("METHOD", QT_TRANSLATE_NOOP("HyperFuse", "Method"),
                                            options=[m.name for m in METHODS.values()],
                                            defaultValue=METHOD_IDS.index("deepsen3")))
        self.add(QgsProcessingParameterEnum("MODE", QT_TRANSLATE_NOOP("HyperFuse", "Training data"),
                                            options=MODE_LABELS,
                                            defaultValue=MODES.index(training_run.MODE_SELF_SUPERVISED)))
        self.add(QgsProcessingParameterRasterLayer(
            LR_HSI, QT_TRANSLATE_NOOP("HyperFuse", "Low-resolution hyperspectral image (self-supervised)"),
            optional=True))
        self.add(QgsProcessingParameterRasterLayer(
            HR_MSI, QT_TRANSLATE_NOOP("HyperFuse", "High-resolution multispectral image (self-supervised)"),
            optional=True))
        self.add(QgsProcessingParameterRasterLayer(
            REFERENCE, QT_TRANSLATE_NOOP("HyperFuse", "Reference HR-HSI (supervised)"), optional=True))
        add_simulation_parameters(self, with_seed=False)

    def _add_training_parameters(self):
        integer, double = QgsProcessingParameterNumber.Integer, QgsProcessingParameterNumber.Double
        self.add(QgsProcessingParameterNumber("STEPS", QT_TRANSLATE_NOOP("HyperFuse", "Training steps (at most)"),
                                              integer, DEFAULT_STEPS, minValue=1))
        self.add(QgsProcessingParameterNumber(
            "BATCH_SIZE", QT_TRANSLATE_NOOP("HyperFuse", "Batch size (0 = method default)"), integer, 0, minValue=0))
        self.add(QgsProcessingParameterNumber(
            "PATCH_SIZE", QT_TRANSLATE_NOOP("HyperFuse", "Patch size in HR pixels (0 = method default)"), integer, 0,
            minValue=0))
        self.add(QgsProcessingParameterNumber(
            "LEARNING_RATE", QT_TRANSLATE_NOOP("HyperFuse", "Learning rate (0 = method default)"), double, 0.0,
            minValue=0.0))
        self.add(QgsProcessingParameterNumber(
            "TIME_BUDGET_MINUTES", QT_TRANSLATE_NOOP("HyperFuse", "Time budget in minutes (0 = none)"), double, 0.0,
            minValue=0.0))
        self.add(QgsProcessingParameterNumber(SEED, SEED_LABEL, integer, 0, minValue=0))
        self.add(QgsProcessingParameterEnum(DEVICE, DEVICE_LABEL, options=DEVICES, defaultValue=0))
        self.add(QgsProcessingParameterFile(
            "INIT_WEIGHTS", QT_TRANSLATE_NOOP("HyperFuse", "Weights to fine-tune (optional)"), extension="pt",
            optional=True))
        defaults = TrainingConfig()
        self.add(QgsProcessingParameterNumber(
            "VALIDATION_FRACTION", QT_TRANSLATE_NOOP("HyperFuse", "Validation fraction"), double,
            defaults.validation_fraction, minValue=0.0, maxValue=0.5), advanced=True)
        self.add(QgsProcessingParameterNumber(
            "VALIDATE_EVERY", QT_TRANSLATE_NOOP("HyperFuse", "Steps between validation checks (0 = automatic)"),
            integer, 0, minValue=0), advanced=True)
        self.add(QgsProcessingParameterNumber(
            "PATIENCE", QT_TRANSLATE_NOOP("HyperFuse", "Early-stopping patience (checks, 0 = off)"), integer,
            defaults.patience, minValue=0), advanced=True)
        add_settings(self, [setting for m in METHODS.values() for setting in m.parameters])
        self.add(QgsProcessingParameterNumber(ADAPT_STEPS, ADAPT_STEPS_LABEL, integer, 0, minValue=0), advanced=True)

    def _add_outputs(self):
        self.add(QgsProcessingParameterFileDestination(
            OUTPUT_WEIGHTS, QT_TRANSLATE_NOOP("HyperFuse", "Weights file"),
            fileFilter=translate("HyperFuse", "HyperFuse weights (*.pt)")))
        self.add(QgsProcessingParameterFileDestination(
            "OUTPUT_LOG", QT_TRANSLATE_NOOP("HyperFuse", "Training log (HTML)"), fileFilter="HTML (*.html)",
            optional=True, createByDefault=False))
        self.addOutput(QgsProcessingOutputNumber(
            "VALIDATION_PSNR", translate("HyperFuse", "Validation PSNR of the weights kept (dB)")))
        self.addOutput(QgsProcessingOutputNumber(
            "VALIDATION_SAM", translate("HyperFuse", "Validation SAM of the weights kept (degrees)")))
        self.addOutput(QgsProcessingOutputNumber("STEPS_RUN", translate("HyperFuse", "Steps run")))

    def _optional_path(self, parameters, name, context):
        return raster_file(self, parameters, name, context)

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
                raise UserInputError(translate(
                    "HyperFuse", "ADAPT_STEPS fine-tunes the trained model on LR_HSI and HR_MSI at full resolution, "
                    "so it needs MODE 0 (self-supervised). Set ADAPT_STEPS to 0, or train on LR_HSI and HR_MSI."))
            reference = self._optional_path(parameters, REFERENCE, context)
            if reference is None:
                raise UserInputError(translate(
                    "HyperFuse", "MODE is 'supervised from REFERENCE' but no REFERENCE layer was given. Choose a "
                    "high-resolution hyperspectral raster, or use MODE 0 with LR_HSI and HR_MSI."))
            settings = read_simulation_settings(self, parameters, context)
            data = training_run.data_from_reference(reference, settings, feedback)
        else:
            lr_path = self._optional_path(parameters, LR_HSI, context)
            hr_path = self._optional_path(parameters, HR_MSI, context)
            if lr_path is None or hr_path is None:
                raise UserInputError(translate(
                    "HyperFuse", "MODE is 'self-supervised' but LR_HSI or HR_MSI is missing. Give both, or use MODE 1 "
                    "with a REFERENCE."))
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
