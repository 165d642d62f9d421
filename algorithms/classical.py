"""Classical fusion algorithms (bicubic, GSA, GLP/SFIM, CNMF, HySure): one class per classical registry entry."""
from __future__ import annotations

from qgis.core import (QgsProcessingParameterFile, QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterDestination, QgsProcessingParameterRasterLayer)

from ..core.classical.common import BLOCK_OVERLAP_LR_PIXELS
from ..core.classical.run import fuse_classical
from ..core.inference.adaptation import PROJECTION_NONE
from ..core.inference.tiling import AUTO_BLOCK_SIZE, DEFAULT_BLOCK_SIZE, MAX_BLOCK_SIZE
from ..core.registry import CLASSICAL_METHODS, ClassicalMethod
from .base import (HyperFuseAlgorithm, add_compression_parameter, add_projection_parameters, add_scheduler_parameter,
                   add_settings, read_compression, read_projection, read_scheduler, read_settings)
from .i18n import QT_TRANSLATE_NOOP, Text, tr, translate
from .parameters import (BLOCK_SIZE, BLOCK_SIZE_HELP, BLOCK_SIZE_LABEL, DASK_SCHEDULER, DASK_SCHEDULER_HELP,
                         FUSED_OUTPUT_HELP, FUSED_OUTPUT_LABEL, OUTPUT_COMPRESSION, OUTPUT_COMPRESSION_HELP,
                         FUSION_GROUP, FUSION_INPUTS, HR_MSI, HR_MSI_HELP, HR_MSI_LABEL, LR_HSI, LR_HSI_HELP, LR_HSI_LABEL, OUTPUT,
                         PROJECTION, PROJECTION_HELP, PROJECTION_MTF_GAIN, PROJECTION_MTF_GAIN_HELP, SRF_FILE)

BASELINE_NAME = QT_TRANSLATE_NOOP("HyperFuse", "Baseline: {name}")
CLASSICAL_NAME = QT_TRANSLATE_NOOP("HyperFuse", "Classical: {name}")

SRF_FILE_HELP = QT_TRANSLATE_NOOP(
    "HyperFuse", "Optional CSV of the MS sensor's spectral responses (a 'wavelength_nm' column, then one column per "
                 "HR-MSI band, e.g. OUTPUT_SRF of Estimate responses or a sensor file). Needs wavelength metadata "
                 "on the LR-HSI. Empty: R is estimated from the inputs.")


class ClassicalFusionAlgorithm(HyperFuseAlgorithm):
    """Shared by the classical fusion algorithms; subclasses only set ``METHOD``."""

    METHOD: ClassicalMethod = None
    GROUP = FUSION_GROUP
    ICON = "classical.svg"

    @property
    def ALGORITHM_ID(self):  # noqa: N802
        return f"fuse_{self.METHOD.id}"

    @property
    def DISPLAY_NAME(self):  # noqa: N802
        return self._display_name(str)

    def displayName(self):  # noqa: N802 (QGIS API name)
        return self._display_name(tr)

    def _display_name(self, translated) -> str:
        # A kind prefix rather than a suffix: the Toolbox sorts by name, so the kinds stay together, and a
        # suffix after a name that already ends in brackets was doubled and cut off.
        # 'GSA' for 'GSA (Gram-Schmidt adaptive)', 'MTF-GLP-HS' for 'MTF-GLP-HS / SFIM-HS': the Toolbox's
        # default width cuts longer names.
        short_name = translated(self.METHOD.name.split(" (")[0].split(" / ")[0])
        if self.METHOD.id == "bicubic":
            return translated(BASELINE_NAME).format(name=short_name.lower())
        return translated(CLASSICAL_NAME).format(name=short_name)

    @property
    def SUMMARY(self):  # noqa: N802
        m = self.METHOD
        if m.tiled:
            scope = QT_TRANSLATE_NOOP("HyperFuse", "It works block by block, so rasters of any size can be fused.")
        else:
            scope = Text(QT_TRANSLATE_NOOP(
                "HyperFuse", "It processes the whole image at once up to {pixels:,} HR pixels (about {side} × {side}); "
                             "a larger common area is fused in overlapping blocks, each by the paper's method, so "
                             "rasters of any size can be fused."),
                pixels=m.max_pixels, side=int(m.max_pixels ** 0.5))
        return Text(QT_TRANSLATE_NOOP("HyperFuse", "{summary} {scope} Needs no PyTorch."), summary=m.summary,
                    scope=scope)

    OUTPUTS = Text(QT_TRANSLATE_NOOP("HyperFuse", "OUTPUT: {output}"), output=FUSED_OUTPUT_HELP)

    @property
    def INPUTS(self):  # noqa: N802
        if not self.METHOD.uses_response:
            return Text(QT_TRANSLATE_NOOP("HyperFuse", "{inputs} Only the LR-HSI's values are up-sampled; the HR-MSI "
                                                       "sets the output grid."), inputs=FUSION_INPUTS)
        return Text(QT_TRANSLATE_NOOP("HyperFuse", "{inputs} The method needs the MS sensor's spectral responses R: "
                                                   "read from SRF_FILE when given, else estimated from the pair, as "
                                                   "Estimate sensor responses does."), inputs=FUSION_INPUTS)

    @property
    def CITATION(self):  # noqa: N802
        return Text(QT_TRANSLATE_NOOP("HyperFuse", "{paper}. How HyperFuse implements it: docs/classical.md."),
                    paper=self.METHOD.paper)

    @property
    def RUN_TIME(self):  # noqa: N802
        if self.METHOD.tiled:
            measured = QT_TRANSLATE_NOOP(
                "HyperFuse", "under a second for each development scene (up to 128 × 128 HR pixels and 218 bands), "
                             "up to 2 s with the projection onto the inputs")
        else:
            measured = QT_TRANSLATE_NOOP(
                "HyperFuse", "0.3–5 s for each development scene (up to 128 × 128 HR pixels and 218 bands) with the "
                             "default settings, the projection onto the inputs included or not; the time also grows "
                             "with the method's iterations")
        return Text(QT_TRANSLATE_NOOP(
            "HyperFuse", "Measured on 2 CPU cores (AMD EPYC): {measured} (docs/benchmark.md). Time grows with the "
                         "number of pixels and of HS bands. It runs on the CPU only (NumPy and SciPy), never on a "
                         "GPU."), measured=measured)

    @property
    def PARAMETER_HELP(self):  # noqa: N802
        block, scheduler = BLOCK_SIZE_HELP, DASK_SCHEDULER_HELP
        if not self.METHOD.tiled:
            block = Text(QT_TRANSLATE_NOOP(
                "HyperFuse", "Up to {pixels:,} HR pixels the method sees the whole image, and this is the side of the "
                             "blocks in which the result is written. On a larger common area it is the side of the "
                             "blocks fused one by one, each with an overlap of {overlap} LR pixels on every side "
                             "(0: sized from the available memory and kept within that limit); the result then "
                             "depends on it."),
                pixels=self.METHOD.max_pixels, overlap=BLOCK_OVERLAP_LR_PIXELS)
            scheduler = Text(QT_TRANSLATE_NOOP(
                "HyperFuse", "{scheduler} Up to {pixels:,} HR pixels the method computes the whole image in this "
                             "process whatever is set here."), scheduler=DASK_SCHEDULER_HELP,
                pixels=self.METHOD.max_pixels)
        help_ = {LR_HSI: LR_HSI_HELP, HR_MSI: HR_MSI_HELP, BLOCK_SIZE: block, OUTPUT: FUSED_OUTPUT_HELP,
                 PROJECTION: Text(QT_TRANSLATE_NOOP("HyperFuse", "{projection} For the classical methods it is off by "
                                                                 "default, so that they stay the published baselines."),
                                  projection=PROJECTION_HELP),
                 PROJECTION_MTF_GAIN: PROJECTION_MTF_GAIN_HELP,
                 DASK_SCHEDULER: scheduler,
                 OUTPUT_COMPRESSION: OUTPUT_COMPRESSION_HELP}
        if self.METHOD.uses_response:
            help_[SRF_FILE] = SRF_FILE_HELP
        help_.update({setting.name: setting.help for setting in self.METHOD.parameters})
        return help_

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add(QgsProcessingParameterRasterLayer(LR_HSI, LR_HSI_LABEL))
        self.add(QgsProcessingParameterRasterLayer(HR_MSI, HR_MSI_LABEL))
        add_settings(self, self.METHOD.parameters)
        if self.METHOD.uses_response:
            self.add(QgsProcessingParameterFile(
                SRF_FILE, QT_TRANSLATE_NOOP("HyperFuse", "MS spectral responses (CSV; empty = estimate)"),
                extension="csv", optional=True), advanced=True)
        self.add(QgsProcessingParameterNumber(BLOCK_SIZE, BLOCK_SIZE_LABEL, QgsProcessingParameterNumber.Integer,
                                              DEFAULT_BLOCK_SIZE, minValue=AUTO_BLOCK_SIZE, maxValue=MAX_BLOCK_SIZE),
                 advanced=True)
        add_projection_parameters(self, PROJECTION_NONE)
        add_scheduler_parameter(self)
        add_compression_parameter(self)
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
                                scheduler=read_scheduler(self, parameters, context),
                                compression=read_compression(self, parameters, context), **options)
        feedback.info(translate("HyperFuse", "{blocks} block(s) written; {seconds:.1f} s.").format(
            blocks=result.blocks, seconds=result.seconds_inference))
        short_name = tr(self.METHOD.name.split(" (")[0])     # 'GSA', not 'GSA (Gram-Schmidt adaptive)'
        self.name_layer(OUTPUT, (translate("HyperFuse", "{method} (ratio {ratio})") if self.METHOD.id == "bicubic"
                                 else translate("HyperFuse", "{method} fused (ratio {ratio})")).format(
            method=short_name, ratio=result.ratio))
        return {OUTPUT: output}


def classical_fusion_algorithms() -> list:
    """One algorithm class per classical method, bicubic (hyperfuse:fuse_bicubic) included."""
    return [type(f"Fuse{m.id.capitalize()}Algorithm", (ClassicalFusionAlgorithm,), {"METHOD": m})
            for m in CLASSICAL_METHODS.values()]
