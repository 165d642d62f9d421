"""Network fusion algorithms: one shared base, one class per entry of the method registry."""
from __future__ import annotations

from qgis.core import (QgsProcessingOutputString, QgsProcessingParameterEnum, QgsProcessingParameterFile,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterDestination, QgsProcessingParameterRasterLayer)

from ..core.inference import adaptation, fusion
from ..core.inference.tiling import DEFAULT_BLOCK_SIZE, MAX_BLOCK_SIZE, MIN_BLOCK_SIZE
from ..core.inference.torch_support import DEVICES
from ..core.registry import METHODS, NetworkMethod
from .base import HyperFuseAlgorithm, add_projection_parameters, add_settings, read_projection, read_settings
from .parameters import (BLOCK_SIZE, BLOCK_SIZE_HELP, BLOCK_SIZE_LABEL, DEVICE, DEVICE_HELP, DEVICE_LABEL,
                         FUSED_OUTPUT_HELP, FUSED_OUTPUT_LABEL, FUSION_GROUP, HR_MSI, HR_MSI_HELP, HR_MSI_LABEL,
                         LR_HSI, LR_HSI_HELP, LR_HSI_LABEL, OUTPUT, OUTPUT_WEIGHTS, PROJECTION, PROJECTION_HELP,
                         PROJECTION_MTF_GAIN, PROJECTION_MTF_GAIN_HELP, SEED, SEED_LABEL, ADAPT_STEPS,
                         ADAPT_STEPS_HELP, ADAPT_STEPS_LABEL)


class NetworkFusionAlgorithm(HyperFuseAlgorithm):
    """Shared by every deep-network fusion algorithm; subclasses only set ``METHOD``."""

    METHOD: NetworkMethod = None
    GROUP = FUSION_GROUP

    COMMON_HELP = {
        LR_HSI: LR_HSI_HELP,
        HR_MSI: HR_MSI_HELP,
        "MODEL": "0 auto: a sensor-specific bundled model that matches the inputs' bands and ratio; else the "
                 "generic bundled model, which fuses any bands at ratios 2–8 in seconds and needs no minimum size "
                 "(at other ratios, training on the inputs); 1 weights file: use WEIGHTS (a generic weights file "
                 "works for any bands); 2 train on the inputs (Wald protocol: both inputs are degraded by "
                 "r and the network learns to restore the LR-HSI, then fuses the full-resolution pair; needs an "
                 "LR-HSI of at least 4r × 4r pixels). With a bundled model or a weights file, inputs whose values "
                 "are a power of ten away from the training data's (reflectance × 10⁴ against reflectance) are "
                 "converted for the network and back.",
        "WEIGHTS": "A HyperFuse weights file (.pt) for this method, these band counts and this ratio (MODEL 1).",
        "TRAIN_STEPS": "Optimiser steps when training on the inputs. More steps take longer and usually fuse "
                       "better; the default 300 take one to a few minutes on two CPU cores for a scene a few "
                       "hundred pixels across.",
        DEVICE: DEVICE_HELP,
        BLOCK_SIZE: BLOCK_SIZE_HELP,
        OUTPUT: FUSED_OUTPUT_HELP,
        OUTPUT_WEIGHTS: "Optional: write the model used (trained or loaded) with its model card, to reuse it "
                          "with MODEL 1.",
        SEED: "Random seed of training: the same seed and inputs give the same weights on the CPU.",
        PROJECTION: PROJECTION_HELP,
        PROJECTION_MTF_GAIN: PROJECTION_MTF_GAIN_HELP,
        ADAPT_STEPS: ADAPT_STEPS_HELP,
    }

    @property
    def PARAMETER_HELP(self):  # noqa: N802
        return {**self.COMMON_HELP, **{p.name: p.help or p.label for p in self.METHOD.parameters}}

    @property
    def ALGORITHM_ID(self):  # noqa: N802
        return f"fuse_{self.METHOD.id}"

    @property
    def DISPLAY_NAME(self):  # noqa: N802
        return self.METHOD.name

    @property
    def SUMMARY(self):  # noqa: N802
        return (f"Fuses a low-resolution hyperspectral raster with a high-resolution multispectral raster using "
                f"{self.METHOD.name}. {self.METHOD.summary} Paper: {self.METHOD.paper}. Requires PyTorch.")

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add(QgsProcessingParameterRasterLayer(LR_HSI, LR_HSI_LABEL))
        self.add(QgsProcessingParameterRasterLayer(HR_MSI, HR_MSI_LABEL))
        self.add(QgsProcessingParameterEnum("MODEL", "Model", options=fusion.MODEL_CHOICES,
                                            defaultValue=fusion.MODEL_CHOICES.index(fusion.MODEL_AUTO)))
        self.add(QgsProcessingParameterFile("WEIGHTS", "Weights file", extension="pt", optional=True))
        self.add(QgsProcessingParameterNumber("TRAIN_STEPS", "Training steps (when training on the inputs)",
                                              QgsProcessingParameterNumber.Integer, fusion.DEFAULT_TRAIN_STEPS,
                                              minValue=1))
        self.add(QgsProcessingParameterEnum(DEVICE, DEVICE_LABEL, options=DEVICES, defaultValue=0))
        self.add(QgsProcessingParameterNumber(BLOCK_SIZE, BLOCK_SIZE_LABEL, QgsProcessingParameterNumber.Integer,
                                              DEFAULT_BLOCK_SIZE, minValue=MIN_BLOCK_SIZE, maxValue=MAX_BLOCK_SIZE),
                 advanced=True)
        self.add(QgsProcessingParameterNumber(SEED, SEED_LABEL, QgsProcessingParameterNumber.Integer, 0, minValue=0),
                 advanced=True)
        add_projection_parameters(self, adaptation.PROJECTION_BOTH)
        self.add(QgsProcessingParameterNumber(ADAPT_STEPS, ADAPT_STEPS_LABEL, QgsProcessingParameterNumber.Integer,
                                              fusion.DEFAULT_ADAPT_STEPS, minValue=0), advanced=True)
        add_settings(self, self.METHOD.parameters)
        self.add(QgsProcessingParameterRasterDestination(OUTPUT, FUSED_OUTPUT_LABEL))
        self.add(QgsProcessingParameterFileDestination(OUTPUT_WEIGHTS, "Weights of the model used",
                                                       fileFilter="HyperFuse weights (*.pt)", optional=True,
                                                       createByDefault=False))
        self.addOutput(QgsProcessingOutputString("MODEL_USED", "Model used"))

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
            hyperparameters=read_settings(self, self.METHOD.parameters, parameters, context))
        result = fusion.fuse_with_network(self.METHOD, self.raster_path(parameters, LR_HSI, context),
                                          self.raster_path(parameters, HR_MSI, context), output,
                                          settings=settings, feedback=feedback)
        feedback.info(f"Model: {result.model_source}; {result.blocks} block(s); "
                      f"training {result.seconds_training:.1f} s, inference {result.seconds_inference:.1f} s.")
        return {OUTPUT: output, OUTPUT_WEIGHTS: output_weights, "MODEL_USED": result.model_source}



def network_fusion_algorithms() -> list:
    """One algorithm class per network in the registry."""
    return [type(f"Fuse{m.name.replace('-', '')}Algorithm", (NetworkFusionAlgorithm,), {"METHOD": m})
            for m in METHODS.values()]
