"""Network fusion algorithms: one shared base, one class per entry of the method registry."""
from __future__ import annotations

from qgis.core import (QgsProcessingOutputString, QgsProcessingParameterEnum, QgsProcessingParameterFile,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterDestination, QgsProcessingParameterRasterLayer)

from ..core import fusion
from ..core.registry import METHODS, Method
from ..core.tiling import DEFAULT_BLOCK_SIZE, MAX_BLOCK_SIZE, MIN_BLOCK_SIZE
from ..core.torch_support import DEVICES
from .base import HyperFuseAlgorithm

INPUT_HELP = {
    "LR_HSI": "Low-resolution hyperspectral raster (S bands). Its grid must line up with the HR-MSI: "
              "the LR pixel is an integer multiple r ≥ 2 of the HR pixel, from an origin on the HR grid.",
    "HR_MSI": "High-resolution multispectral raster (s < S bands) of the same scene.",
}
OUTPUT_HELP = {
    "BLOCK_SIZE": "Side of the square blocks processed at a time, in HR pixels (rounded to whole LR pixels, or to "
                  "the alignment a network's strided layers need). Smaller blocks need less memory; the result "
                  "does not depend on it.",
    "OUTPUT": "Fused high-resolution hyperspectral GeoTIFF (float32) on the HR-MSI grid, with the LR-HSI's band "
              "names and wavelengths. Pixels invalid in either input are nodata (-9999).",
}


def add_hyperparameters(algorithm: HyperFuseAlgorithm, hyperparameters) -> None:
    """Declare a method's settings (registry ``HyperParameter``) as advanced parameters."""
    for hp in hyperparameters:
        kind = QgsProcessingParameterNumber.Integer if hp.kind == "int" else QgsProcessingParameterNumber.Double
        bounds = {"minValue": hp.minimum} if hp.maximum is None else {"minValue": hp.minimum, "maxValue": hp.maximum}
        algorithm.add(QgsProcessingParameterNumber(hp.name, hp.label, kind, hp.default, **bounds), advanced=True)


def read_hyperparameters(algorithm: HyperFuseAlgorithm, method: Method, parameters, context) -> dict:
    """The constructor keywords of ``method`` from its declared parameters."""
    values = {}
    for hp in method.parameters:
        read = algorithm.parameterAsInt if hp.kind == "int" else algorithm.parameterAsDouble
        values[hp.key] = read(parameters, hp.name, context)
    return values


class NetworkFusionAlgorithm(HyperFuseAlgorithm):
    """Shared by every deep-network fusion algorithm; subclasses only set ``METHOD``."""

    METHOD: Method = None
    GROUP, GROUP_ID = "Fusion", "fusion"

    COMMON_HELP = {
        **INPUT_HELP,
        "MODEL": "0 auto: a bundled model that matches the inputs' bands and ratio, else train on the inputs; "
                 "1 weights file: use WEIGHTS; 2 train on the inputs (Wald protocol: both inputs are degraded by "
                 "r and the network learns to restore the LR-HSI, then fuses the full-resolution pair; needs an "
                 "LR-HSI of at least 4r × 4r pixels). With a bundled model or a weights file, inputs whose values "
                 "are a power of ten away from the training data's (reflectance × 10⁴ against reflectance) are "
                 "converted for the network and back.",
        "WEIGHTS": "A HyperFuse weights file (.pt) for this method, these band counts and this ratio (MODEL 1).",
        "TRAIN_STEPS": "Optimiser steps when training on the inputs. More steps take longer and usually fuse "
                       "better; the default 300 take one to a few minutes on two CPU cores for a scene a few "
                       "hundred pixels across.",
        "DEVICE": "0 auto (CUDA when PyTorch sees a GPU, else CPU), 1 cpu, 2 cuda.",
        "BLOCK_SIZE": OUTPUT_HELP["BLOCK_SIZE"],
        "OUTPUT": OUTPUT_HELP["OUTPUT"],
        "OUTPUT_WEIGHTS": "Optional: write the model used (trained or loaded) with its model card, to reuse it "
                          "with MODEL 1.",
        "SEED": "Random seed of training: the same seed and inputs give the same weights on the CPU.",
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
        self.add(QgsProcessingParameterRasterLayer("LR_HSI", "Low-resolution hyperspectral image (LR-HSI)"))
        self.add(QgsProcessingParameterRasterLayer("HR_MSI", "High-resolution multispectral image (HR-MSI)"))
        self.add(QgsProcessingParameterEnum("MODEL", "Model", options=fusion.MODEL_CHOICES,
                                            defaultValue=fusion.MODEL_AUTO))
        self.add(QgsProcessingParameterFile("WEIGHTS", "Weights file", extension="pt", optional=True))
        self.add(QgsProcessingParameterNumber("TRAIN_STEPS", "Training steps (when training on the inputs)",
                                              QgsProcessingParameterNumber.Integer, fusion.DEFAULT_TRAIN_STEPS,
                                              minValue=1))
        self.add(QgsProcessingParameterEnum("DEVICE", "Device", options=DEVICES, defaultValue=0))
        self.add(QgsProcessingParameterNumber("BLOCK_SIZE", "Block size (HR pixels)",
                                              QgsProcessingParameterNumber.Integer, DEFAULT_BLOCK_SIZE,
                                              minValue=MIN_BLOCK_SIZE, maxValue=MAX_BLOCK_SIZE),
                 advanced=True)
        self.add(QgsProcessingParameterNumber("SEED", "Random seed", QgsProcessingParameterNumber.Integer, 0,
                                              minValue=0), advanced=True)
        add_hyperparameters(self, self.METHOD.parameters)
        self.add(QgsProcessingParameterRasterDestination("OUTPUT", "Fused HR-HSI"))
        self.add(QgsProcessingParameterFileDestination("OUTPUT_WEIGHTS", "Weights of the model used",
                                                       fileFilter="HyperFuse weights (*.pt)", optional=True,
                                                       createByDefault=False))
        self.addOutput(QgsProcessingOutputString("MODEL_USED", "Model used"))

    def process(self, parameters, context, feedback):
        output = self.parameterAsOutputLayer(parameters, "OUTPUT", context)
        output_weights = self.parameterAsFileOutput(parameters, "OUTPUT_WEIGHTS", context) or None
        result = fusion.fuse_with_network(
            self.METHOD,
            self.raster_path(parameters, "LR_HSI", context),
            self.raster_path(parameters, "HR_MSI", context),
            output,
            model_choice=self.parameterAsEnum(parameters, "MODEL", context),
            weights_path=self.parameterAsFile(parameters, "WEIGHTS", context) or None,
            train_steps=self.parameterAsInt(parameters, "TRAIN_STEPS", context),
            device_name=DEVICES[self.parameterAsEnum(parameters, "DEVICE", context)],
            block_size=self.parameterAsInt(parameters, "BLOCK_SIZE", context),
            output_weights=output_weights,
            seed=self.parameterAsInt(parameters, "SEED", context),
            hyperparameters=read_hyperparameters(self, self.METHOD, parameters, context),
            feedback=feedback,
        )
        feedback.info(f"Model: {result.model_source}; {result.blocks} block(s); training {result.seconds_training:.1f} s, "
                      f"inference {result.seconds_inference:.1f} s.")
        return {"OUTPUT": output, "OUTPUT_WEIGHTS": output_weights, "MODEL_USED": result.model_source}



def network_fusion_algorithms() -> list:
    """One algorithm class per method in the registry."""
    return [type(f"Fuse{m.name.replace('-', '')}Algorithm", (NetworkFusionAlgorithm,), {"METHOD": m})
            for m in METHODS.values()]
