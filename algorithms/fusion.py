"""Network fusion algorithms: one shared base, one class per entry of the method registry."""
from __future__ import annotations

import os
import re

from qgis.core import (QgsProcessingOutputString, QgsProcessingParameterEnum, QgsProcessingParameterFile,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterDestination, QgsProcessingParameterRasterLayer)

from ..core.inference import adaptation, bundled, fusion
from ..core.inference.tiling import AUTO_BLOCK_SIZE, DEFAULT_BLOCK_SIZE, MAX_BLOCK_SIZE
from ..core.inference.torch_support import DEVICES
from ..core.registry import METHODS, NetworkMethod
from .base import (HyperFuseAlgorithm, add_compression_parameter, add_projection_parameters, add_scheduler_parameter,
                   add_settings, read_compression, read_projection, read_scheduler, read_settings)
from .i18n import QT_TRANSLATE_NOOP, Text, tr, translate
from .parameters import (BLOCK_SIZE, BLOCK_SIZE_HELP, BLOCK_SIZE_LABEL, DASK_SCHEDULER, DASK_SCHEDULER_HELP, DEVICE, DEVICE_HELP, DEVICE_LABEL,
                         FUSED_OUTPUT_HELP, FUSED_OUTPUT_LABEL, FUSION_GROUP, FUSION_INPUTS, HR_MSI, HR_MSI_HELP,
                         HR_MSI_LABEL,
                         LR_HSI, LR_HSI_HELP, LR_HSI_LABEL, OUTPUT, OUTPUT_COMPRESSION, OUTPUT_COMPRESSION_HELP,
                         OUTPUT_WEIGHTS, PROJECTION, PROJECTION_HELP,
                         PROJECTION_MTF_GAIN, PROJECTION_MTF_GAIN_HELP, SEED, SEED_LABEL, ADAPT_STEPS,
                         ADAPT_STEPS_HELP, ADAPT_STEPS_LABEL)


class NetworkFusionAlgorithm(HyperFuseAlgorithm):
    """Shared by every deep-network fusion algorithm; subclasses only set ``METHOD``."""

    METHOD: NetworkMethod = None
    GROUP = FUSION_GROUP

    COMMON_HELP = {
        LR_HSI: LR_HSI_HELP,
        HR_MSI: HR_MSI_HELP,
        "MODEL": QT_TRANSLATE_NOOP(
            "HyperFuse", "auto: a sensor-specific bundled model when one matches the inputs' bands, wavelengths and "
                         "ratio (which needs wavelength metadata on the LR-HSI), else the generic bundled model, "
                         "which fuses any bands at ratios 2–8 and needs no minimum size, and at other ratios "
                         "training on the inputs; weights file: the model in WEIGHTS (a generic weights file works "
                         "for any bands); train on the inputs: self-supervised training by Wald's protocol (both "
                         "inputs are degraded by r and the network learns to restore the LR-HSI), then fusion of "
                         "the full-resolution pair; it needs an LR-HSI of at least 4r × 4r pixels. With a "
                         "sensor-specific bundled model or a weights file, inputs whose values are a power of ten "
                         "away from the training data's (reflectance × 10⁴ against reflectance) are converted for "
                         "the network and back."),
        "WEIGHTS": QT_TRANSLATE_NOOP(
            "HyperFuse", "A HyperFuse weights file (.pt) for this method, these band counts and this ratio, for "
                         "MODEL = weights file."),
        "TRAIN_STEPS": QT_TRANSLATE_NOOP(
            "HyperFuse", "Optimiser steps when the network is trained on the inputs (MODEL = train on the inputs, "
                         "or auto at a ratio outside 2–8). More steps take longer and usually fuse better; the "
                         "default 300 take one to a few minutes on two CPU cores for a scene a few hundred pixels "
                         "across."),
        DEVICE: DEVICE_HELP,
        BLOCK_SIZE: BLOCK_SIZE_HELP,
        OUTPUT: FUSED_OUTPUT_HELP,
        OUTPUT_WEIGHTS: QT_TRANSLATE_NOOP(
            "HyperFuse", "Optional: write the model used (trained or loaded) with its model card, to reuse it with "
                         "MODEL = weights file."),
        SEED: QT_TRANSLATE_NOOP(
            "HyperFuse", "Random seed of training: the same seed and inputs give the same weights on the CPU."),
        PROJECTION: PROJECTION_HELP,
        PROJECTION_MTF_GAIN: PROJECTION_MTF_GAIN_HELP,
        ADAPT_STEPS: ADAPT_STEPS_HELP,
        DASK_SCHEDULER: DASK_SCHEDULER_HELP,
        OUTPUT_COMPRESSION: OUTPUT_COMPRESSION_HELP,
    }

    @property
    def PARAMETER_HELP(self):  # noqa: N802
        return {**self.COMMON_HELP, **{p.name: p.help or p.label for p in self.METHOD.parameters}}

    @property
    def ALGORITHM_ID(self):  # noqa: N802
        return f"fuse_{self.METHOD.id}"

    @property
    def DISPLAY_NAME(self):  # noqa: N802
        return Text(QT_TRANSLATE_NOOP("HyperFuse", "Network: {name}"), name=self.METHOD.name)

    @property
    def SUMMARY(self):  # noqa: N802
        return Text(QT_TRANSLATE_NOOP(
            "HyperFuse", "Fuses a low-resolution hyperspectral raster with a high-resolution multispectral raster of "
                         "the same scene using {name}. {summary} With MODEL = auto it needs no training: it uses a "
                         "sensor-specific bundled model when one matches the inputs, else the generic bundled model "
                         "(ratios 2–8), and trains on the inputs only at other ratios. Requires PyTorch."),
            name=self.METHOD.name, summary=self.METHOD.summary)

    INPUTS = Text(QT_TRANSLATE_NOOP(
        "HyperFuse", "{inputs} Wavelength metadata on the LR-HSI lets MODEL = auto match a sensor-specific bundled "
                     "model. MODEL = weights file reads a HyperFuse weights file (.pt)."), inputs=FUSION_INPUTS)
    OUTPUTS = Text(QT_TRANSLATE_NOOP(
        "HyperFuse", "OUTPUT: {output} The raster's metadata names the model used. OUTPUT_WEIGHTS (optional): the "
                     "model used, as a weights file with its model card. MODEL_USED: the name of the weights file "
                     "used, or 'trained on the inputs'."), output=FUSED_OUTPUT_HELP)
    RUN_TIME = QT_TRANSLATE_NOOP(
        "HyperFuse", "Measured on 2 CPU cores (AMD EPYC): a sensor-specific bundled model fused each development "
                     "scene (up to 128 × 128 HR pixels and 218 bands) in 0.1–3.5 s, the projection onto the inputs "
                     "included (docs/benchmark.md); a generic model fuses a 300 × 300 HR-MSI with a 100 × 100 × "
                     "200-band LR-HSI (ratio 3) in about 15–20 s (docs/methods.md); training on the inputs with the "
                     "default 300 steps took about 1–4 minutes on the 128 × 128-pixel EnMAP scene "
                     "(docs/benchmark.md). Time grows with the number of pixels and of HS bands. On a GPU (DEVICE = "
                     "cuda): not yet measured.")

    @property
    def CITATION(self):  # noqa: N802
        return Text(QT_TRANSLATE_NOOP("HyperFuse", "{paper}. How HyperFuse implements it, and where it departs from "
                                                 "the paper: docs/methods.md."), paper=self.METHOD.paper)

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add(QgsProcessingParameterRasterLayer(LR_HSI, LR_HSI_LABEL))
        self.add(QgsProcessingParameterRasterLayer(HR_MSI, HR_MSI_LABEL))
        self.add(QgsProcessingParameterEnum("MODEL", QT_TRANSLATE_NOOP("HyperFuse", "Model"),
                                            options=fusion.MODEL_CHOICES,
                                            defaultValue=fusion.MODEL_CHOICES.index(fusion.MODEL_AUTO)))
        self.add(QgsProcessingParameterFile("WEIGHTS", QT_TRANSLATE_NOOP("HyperFuse", "Weights file"), extension="pt",
                                            optional=True))
        self.add(QgsProcessingParameterNumber(
            "TRAIN_STEPS", QT_TRANSLATE_NOOP("HyperFuse", "Training steps (when training on the inputs)"),
            QgsProcessingParameterNumber.Integer, fusion.DEFAULT_TRAIN_STEPS, minValue=1))
        self.add(QgsProcessingParameterEnum(DEVICE, DEVICE_LABEL, options=DEVICES, defaultValue=0))
        self.add(QgsProcessingParameterNumber(BLOCK_SIZE, BLOCK_SIZE_LABEL, QgsProcessingParameterNumber.Integer,
                                              DEFAULT_BLOCK_SIZE, minValue=AUTO_BLOCK_SIZE, maxValue=MAX_BLOCK_SIZE),
                 advanced=True)
        self.add(QgsProcessingParameterNumber(SEED, SEED_LABEL, QgsProcessingParameterNumber.Integer, 0, minValue=0),
                 advanced=True)
        add_projection_parameters(self, adaptation.PROJECTION_BOTH)
        self.add(QgsProcessingParameterNumber(ADAPT_STEPS, ADAPT_STEPS_LABEL, QgsProcessingParameterNumber.Integer,
                                              fusion.DEFAULT_ADAPT_STEPS, minValue=0), advanced=True)
        add_scheduler_parameter(self)
        add_compression_parameter(self)
        add_settings(self, self.METHOD.parameters)
        self.add(QgsProcessingParameterRasterDestination(OUTPUT, FUSED_OUTPUT_LABEL))
        self.add(QgsProcessingParameterFileDestination(
            OUTPUT_WEIGHTS, QT_TRANSLATE_NOOP("HyperFuse", "Weights of the model used"),
            fileFilter=translate("HyperFuse", "HyperFuse weights (*.pt)"), optional=True, createByDefault=False))
        self.addOutput(QgsProcessingOutputString("MODEL_USED", translate("HyperFuse", "Model used")))

    def process(self, parameters, context, feedback):
        output = self.parameterAsOutputLayer(parameters, OUTPUT, context)
        output_weights = self.parameterAsFileOutput(parameters, OUTPUT_WEIGHTS, context) or None
        # The MODEL and DEVICE options are in the order of the core's names.
        projection, projection_mtf_gain = read_projection(self, parameters, context)
        settings = fusion.NetworkFusionSettings(
            model=fusion.MODEL_CHOICES[self.parameterAsEnum(parameters, "MODEL", context)],
            weights_path=self.parameterAsFile(parameters, "WEIGHTS", context) or None,
            train_steps=self.parameterAsInt(parameters, "TRAIN_STEPS", context),
            device=DEVICES[self.parameterAsEnum(parameters, DEVICE, context)],
            block_size=self.parameterAsInt(parameters, BLOCK_SIZE, context),
            output_weights=output_weights,
            seed=self.parameterAsInt(parameters, SEED, context),
            projection=projection, mtf_gain=projection_mtf_gain,
            adapt_steps=self.parameterAsInt(parameters, ADAPT_STEPS, context),
            scheduler=read_scheduler(self, parameters, context),
            compression=read_compression(self, parameters, context),
            hyperparameters=read_settings(self, self.METHOD.parameters, parameters, context))
        result = fusion.fuse_with_network(self.METHOD, self.raster_path(parameters, LR_HSI, context),
                                          self.raster_path(parameters, HR_MSI, context), output,
                                          settings=settings, feedback=feedback)
        feedback.info(translate("HyperFuse", "Model: {model}; {blocks} block(s); training {training:.1f} s, inference "
                                            "{inference:.1f} s.").format(
            model=result.model_source, blocks=result.blocks, training=result.seconds_training,
            inference=result.seconds_inference))
        self.name_layer(OUTPUT, translate("HyperFuse", "{method} fused (ratio {ratio}, {model})").format(
            method=self.METHOD.name, ratio=result.ratio,
            model=model_label(self.METHOD, settings.model, result.model_source)))
        return {OUTPUT: output, OUTPUT_WEIGHTS: output_weights, "MODEL_USED": result.model_source}


def model_label(method: NetworkMethod, model_choice: str, model_source: str) -> str:
    """The model of a run in a few words for its layer name: 'bundled EnMAP model', 'generic bundled model',
    'weights my.pt' or 'trained on the inputs'. ``model_source`` is FusionResult.model_source."""
    if model_source == fusion.PATH_TRAINED:
        return tr(fusion.PATH_TRAINED)
    if model_choice == fusion.MODEL_AUTO:
        preset_id = os.path.splitext(model_source)[0][len(method.id) + 1:]
        if preset_id == bundled.GENERIC_ID:
            return tr(fusion.PATH_GENERIC)
        try:
            label = bundled.preset(preset_id).label
        except KeyError:
            return translate("HyperFuse", "bundled model {file}").format(file=model_source)
        # The preset's HS sensor, as its label names it first: 'EnMAP + Sentinel-2 …', 'Sentinel-3 OLCI 21 bands
        # + …'.
        return translate("HyperFuse", "bundled {sensor} model").format(
            sensor=re.sub(r' [0-9]+ bands$', '', label.split(' + ')[0]))
    return translate("HyperFuse", "weights {file}").format(file=model_source)


def network_fusion_algorithms() -> list:
    """One algorithm class per network in the registry."""
    return [type(f"Fuse{m.name.replace('-', '')}Algorithm", (NetworkFusionAlgorithm,), {"METHOD": m})
            for m in METHODS.values()]
