"""Classical fusion algorithms (bicubic, GSA, GLP/SFIM, CNMF, HySure): one class per classical registry entry."""
from __future__ import annotations

from qgis.core import (QgsProcessingParameterFile, QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterDestination, QgsProcessingParameterRasterLayer)

from ..core.classical.run import fuse_classical
from ..core.inference.adaptation import PROJECTION_NONE
from ..core.inference.tiling import DEFAULT_BLOCK_SIZE, MAX_BLOCK_SIZE, MIN_BLOCK_SIZE
from ..core.registry import CLASSICAL_METHODS, ClassicalMethod
from .base import HyperFuseAlgorithm, add_projection_parameters, add_settings, read_projection, read_settings
from .parameters import (BLOCK_SIZE, BLOCK_SIZE_HELP, BLOCK_SIZE_LABEL, FUSED_OUTPUT_HELP, FUSED_OUTPUT_LABEL,
                         FUSION_GROUP, HR_MSI, HR_MSI_HELP, HR_MSI_LABEL, LR_HSI, LR_HSI_HELP, LR_HSI_LABEL, OUTPUT,
                         PROJECTION, PROJECTION_HELP, PROJECTION_MTF_GAIN, PROJECTION_MTF_GAIN_HELP, SRF_FILE)

SRF_FILE_HELP = ("Optional CSV of the MS sensor's spectral responses (a 'wavelength_nm' column, then one column per "
                 "HR-MSI band, e.g. OUTPUT_SRF of Estimate responses or a sensor file). Needs wavelength metadata "
                 "on the LR-HSI. Empty: R is estimated from the inputs.")


class ClassicalFusionAlgorithm(HyperFuseAlgorithm):
    """Shared by the classical fusion algorithms; subclasses only set ``METHOD``."""

    METHOD: ClassicalMethod = None
    GROUP = FUSION_GROUP

    @property
    def ALGORITHM_ID(self):  # noqa: N802
        return f"fuse_{self.METHOD.id}"

    @property
    def DISPLAY_NAME(self):  # noqa: N802
        return f"{self.METHOD.name} (baseline)" if self.METHOD.id == "bicubic" else f"{self.METHOD.name} (classical)"

    @property
    def SUMMARY(self):  # noqa: N802
        m = self.METHOD
        if m.tiled:
            scope = "It works block by block, so rasters of any size can be fused."
        else:
            side = int(m.max_pixels ** 0.5)
            scope = (f"It processes the whole image at once: the common area may have at most {m.max_pixels:,} HR "
                     f"pixels (about {side} × {side}); crop larger inputs or use GSA or GLP.")
        return f"{m.summary} {scope} Paper: {m.paper}. Needs no PyTorch."

    @property
    def PARAMETER_HELP(self):  # noqa: N802
        block = BLOCK_SIZE_HELP if self.METHOD.tiled else (
            "Side of the square blocks in which the result is written, in HR pixels. The method itself always sees "
            "the whole image; the result does not depend on this.")
        help_ = {LR_HSI: LR_HSI_HELP, HR_MSI: HR_MSI_HELP, BLOCK_SIZE: block, OUTPUT: FUSED_OUTPUT_HELP,
                 PROJECTION: PROJECTION_HELP + " For the classical methods it is off by default, so that they stay "
                                               "the published baselines.",
                 PROJECTION_MTF_GAIN: PROJECTION_MTF_GAIN_HELP}
        if self.METHOD.uses_response:
            help_[SRF_FILE] = SRF_FILE_HELP
        help_.update({setting.name: setting.help for setting in self.METHOD.parameters})
        return help_

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add(QgsProcessingParameterRasterLayer(LR_HSI, LR_HSI_LABEL))
        self.add(QgsProcessingParameterRasterLayer(HR_MSI, HR_MSI_LABEL))
        add_settings(self, self.METHOD.parameters)
        if self.METHOD.uses_response:
            self.add(QgsProcessingParameterFile(SRF_FILE, "MS spectral responses (CSV; empty = estimate)",
                                                extension="csv", optional=True), advanced=True)
        self.add(QgsProcessingParameterNumber(BLOCK_SIZE, BLOCK_SIZE_LABEL, QgsProcessingParameterNumber.Integer,
                                              DEFAULT_BLOCK_SIZE, minValue=MIN_BLOCK_SIZE, maxValue=MAX_BLOCK_SIZE),
                 advanced=True)
        add_projection_parameters(self, PROJECTION_NONE)
        self.add(QgsProcessingParameterRasterDestination(OUTPUT, FUSED_OUTPUT_LABEL))

    def process(self, parameters, context, feedback):
        output = self.parameterAsOutputLayer(parameters, OUTPUT, context)
        options = read_settings(self, self.METHOD.parameters, parameters, context)
        srf_file = (self.parameterAsFile(parameters, SRF_FILE, context) or None) if self.METHOD.uses_response \
            else None
        projection, projection_mtf_gain = read_projection(self, parameters, context)
        result = fuse_classical(self.METHOD, self.raster_path(parameters, LR_HSI, context),
                                self.raster_path(parameters, HR_MSI, context), output,
                                self.parameterAsInt(parameters, BLOCK_SIZE, context), feedback,
                                srf_file=srf_file, projection=projection, projection_mtf_gain=projection_mtf_gain,
                                **options)
        feedback.info(f"{result.blocks} block(s) written; {result.seconds_inference:.1f} s.")
        return {OUTPUT: output}


def classical_fusion_algorithms() -> list:
    """One algorithm class per classical method, bicubic (hyperfuse:fuse_bicubic) included."""
    return [type(f"Fuse{m.id.capitalize()}Algorithm", (ClassicalFusionAlgorithm,), {"METHOD": m})
            for m in CLASSICAL_METHODS.values()]
