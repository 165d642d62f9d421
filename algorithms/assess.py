"""hyperfuse:quality_assessment — PROTOCOL.md metrics of fused rasters, ranked, with a report."""
from __future__ import annotations

import math

from qgis.core import (QgsProcessing, QgsProcessingOutputNumber, QgsProcessingParameterFileDestination,
                       QgsProcessingParameterMultipleLayers, QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterDestination, QgsProcessingParameterRasterLayer)

from ..core.assessment import quality
from ..core.protocol.degradation import DEFAULT_MTF_GAIN
from ..core.storage.raster_io import rasters_kept_open
from .base import HyperFuseAlgorithm
from .i18n import QT_TRANSLATE_NOOP, Text, joined, tr, translate
from .parameters import HR_MSI, LR_HSI, MTF_GAIN, OUTPUT_JSON, REFERENCE, SIMULATION_GROUP

METRIC_HELP = {
    "PSNR": QT_TRANSLATE_NOOP(
        "HyperFuse", "peak signal-to-noise ratio in dB, mean over bands, peak = max of each reference band (higher "
                     "is better)"),
    "SAM": QT_TRANSLATE_NOOP("HyperFuse", "spectral angle mapper in degrees, mean over pixels (lower is better)"),
    "ERGAS": QT_TRANSLATE_NOOP(
        "HyperFuse", "relative dimensionless global error, (100/r)·sqrt(mean of RMSE²/mean²) (lower is better)"),
    "SSIM": QT_TRANSLATE_NOOP(
        "HyperFuse", "structural similarity, 11 × 11 Gaussian window σ 1.5, mean over bands (higher is better)"),
    "RMSE": QT_TRANSLATE_NOOP("HyperFuse", "root mean square error in data units (lower is better)"),
    "CC": QT_TRANSLATE_NOOP("HyperFuse", "correlation coefficient, mean over bands (higher is better)"),
    "QNR": QT_TRANSLATE_NOOP(
        "HyperFuse", "quality with no reference, (1 − D_λ)(1 − D_s), from LR_HSI and HR_MSI (higher is better, 1 is "
                     "perfect)"),
}

METRIC_ITEM = QT_TRANSLATE_NOOP("HyperFuse", "{metric}: {help}")


class QualityAssessmentAlgorithm(HyperFuseAlgorithm):
    ALGORITHM_ID = "quality_assessment"
    DISPLAY_NAME = QT_TRANSLATE_NOOP("HyperFuse", "Quality assessment")
    GROUP = SIMULATION_GROUP
    ICON = "assessment.svg"
    SUMMARY = Text(QT_TRANSLATE_NOOP(
        "HyperFuse", "Compares fused rasters with a reference on the same grid by the metrics of the HyperFuse "
                     "protocol, over pixels valid in both and over bands that are not nodata everywhere (those are "
                     "reported), and ranks several fused rasters on every metric. Given the LR-HSI and HR-MSI a "
                     "fusion used, it also computes the no-reference QNR, for real pairs without a reference. The "
                     "numeric outputs are those of the first fused layer: {metrics}."),
        metrics=joined("; ", (Text(METRIC_ITEM, metric=key, help=text) for key, text in METRIC_HELP.items())))
    INPUTS = QT_TRANSLATE_NOOP(
        "HyperFuse", "One or more fused rasters (FUSED) on the grid of the reference, with the same bands; "
                     "optionally the reference HR-HSI (REFERENCE); optionally the LR-HSI and HR-MSI the fusion "
                     "used, for QNR.")
    OUTPUTS = Text(QT_TRANSLATE_NOOP(
        "HyperFuse", "The metrics of the first fused layer as numeric outputs ({metrics}) and in the log for every "
                     "layer; optionally OUTPUT_JSON (every metric, per-band tables, excluded bands, the ranking), "
                     "OUTPUT_CSV (per-band metrics), OUTPUT_HTML (a report with plots) and OUTPUT_SAM_MAP (a raster "
                     "of the per-pixel spectral angle)."), metrics=", ".join(METRIC_HELP))
    CITATION = QT_TRANSLATE_NOOP(
        "HyperFuse", "Wald's protocol: L. Wald, T. Ranchin, M. Mangolini, PE&RS 63(6), 1997. ERGAS: L. Wald, Fusion "
                     "of Earth Data, 2000. SAM: R. H. Yuhas, A. F. H. Goetz, J. W. Boardman, 1992. SSIM: Z. Wang, "
                     "A. C. Bovik, H. R. Sheikh, E. P. Simoncelli, IEEE TIP 13(4), 2004. UIQI: Z. Wang, A. C. "
                     "Bovik, IEEE SPL 9(3), 2002. Q2n: A. Garzelli, F. Nencini, IEEE GRSL 6(4), 2009. QNR: L. "
                     "Alparone et al., PE&RS 74(2), 2008. Definitions and the choices HyperFuse makes: "
                     "docs/protocol.md.")
    RUN_TIME = QT_TRANSLATE_NOOP(
        "HyperFuse", "About 5 s for one fused layer of the 128 × 128-pixel, 224-band EnMAP development scene with "
                     "reference, QNR and the HTML report (measured once on 2 CPU cores shared with another job); "
                     "each further fused layer adds its metrics. It runs on the CPU only (NumPy and SciPy), never "
                     "on a GPU.")
    PARAMETER_HELP = {
        REFERENCE: QT_TRANSLATE_NOOP(
            "HyperFuse", "Optional reference high-resolution hyperspectral raster, e.g. OUTPUT_REFERENCE of "
                         "Simulate degradation. Without it only QNR is computed."),
        "FUSED": QT_TRANSLATE_NOOP(
            "HyperFuse", "One or more fused rasters on the reference grid with the same bands; several are ranked."),
        LR_HSI: QT_TRANSLATE_NOOP(
            "HyperFuse", "Optional LR-HSI the fusion used: with HR_MSI it gives the no-reference QNR and can infer "
                         "RATIO."),
        HR_MSI: QT_TRANSLATE_NOOP("HyperFuse", "Optional HR-MSI the fusion used (see LR_HSI)."),
        "RATIO": QT_TRANSLATE_NOOP(
            "HyperFuse", "Resolution ratio r of the fusion; ERGAS is scaled by 100/r. 0 infers it from LR_HSI and "
                         "HR_MSI."),
        "BORDER": QT_TRANSLATE_NOOP("HyperFuse", "Pixels to leave out along every edge of the image (0 keeps all)."),
        MTF_GAIN: QT_TRANSLATE_NOOP(
            "HyperFuse", "MTF gain of the Gaussian PSF that relates the two scales, for QNR (the simulation's, 0.25 "
                         "by default)."),
        OUTPUT_JSON: QT_TRANSLATE_NOOP(
            "HyperFuse", "JSON file with all metrics, per-band tables, excluded bands and the ranking; a temporary "
                         "file unless a path is given."),
        "OUTPUT_CSV": QT_TRANSLATE_NOOP(
            "HyperFuse", "Optional CSV with one row per band: wavelength, then PSNR, SSIM, CC, UIQI and RMSE of "
                         "every fused layer."),
        "OUTPUT_HTML": QT_TRANSLATE_NOOP(
            "HyperFuse", "Self-contained HTML report: ranking table, per-band PSNR and SSIM against wavelength, SAM "
                         "and error maps, and reference against fused spectra; a temporary file unless a path is "
                         "given, listed in the Results Viewer."),
        "OUTPUT_SAM_MAP": QT_TRANSLATE_NOOP(
            "HyperFuse", "Optional georeferenced raster of the per-pixel spectral angle (degrees) of the first "
                         "fused layer."),
    }

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add(QgsProcessingParameterRasterLayer(REFERENCE, QT_TRANSLATE_NOOP("HyperFuse", "Reference HR-HSI"),
                                                   optional=True))
        self.add(QgsProcessingParameterMultipleLayers("FUSED", QT_TRANSLATE_NOOP("HyperFuse", "Fused HR-HSI layers"),
                                                      QgsProcessing.TypeRaster))
        self.add(QgsProcessingParameterRasterLayer(
            LR_HSI, QT_TRANSLATE_NOOP("HyperFuse", "LR-HSI used by the fusion (for QNR)"), optional=True))
        self.add(QgsProcessingParameterRasterLayer(
            HR_MSI, QT_TRANSLATE_NOOP("HyperFuse", "HR-MSI used by the fusion (for QNR)"), optional=True))
        self.add(QgsProcessingParameterNumber("RATIO", QT_TRANSLATE_NOOP("HyperFuse", "Resolution ratio (0 = infer)"),
                                              QgsProcessingParameterNumber.Integer, 0, minValue=0))
        self.add(QgsProcessingParameterNumber("BORDER", QT_TRANSLATE_NOOP("HyperFuse", "Border to leave out (pixels)"),
                                              QgsProcessingParameterNumber.Integer, 0, minValue=0), advanced=True)
        self.add(QgsProcessingParameterNumber(MTF_GAIN, QT_TRANSLATE_NOOP("HyperFuse", "MTF gain at Nyquist (for QNR)"),
                                              QgsProcessingParameterNumber.Double, DEFAULT_MTF_GAIN, minValue=0.001,
                                              maxValue=0.999), advanced=True)
        for name, label, file_filter in (
                (OUTPUT_JSON, QT_TRANSLATE_NOOP("HyperFuse", "Metrics (JSON)"), "JSON (*.json)"),
                ("OUTPUT_CSV", QT_TRANSLATE_NOOP("HyperFuse", "Per-band metrics (CSV)"), "CSV (*.csv)"),
                ("OUTPUT_HTML", QT_TRANSLATE_NOOP("HyperFuse", "Report (HTML)"), "HTML (*.html)")):
            # The JSON and the report go to temporary files unless told otherwise, so that a run with the defaults
            # lists them in the Results Viewer; an HTML file destination is declared as an HTML output, which
            # QGIS offers to open. They stay "optional" only because QGIS 3.22 refuses a missing value for a
            # required destination in processing.run and qgis_process instead of taking its default; an empty
            # value still means the temporary file. The CSV and the SAM map are for those who ask.
            by_default = name != "OUTPUT_CSV"
            self.add(QgsProcessingParameterFileDestination(
                name, label, fileFilter=file_filter, optional=True, createByDefault=by_default,
                defaultValue=QgsProcessing.TEMPORARY_OUTPUT if by_default else None))
        self.add(QgsProcessingParameterRasterDestination("OUTPUT_SAM_MAP", QT_TRANSLATE_NOOP("HyperFuse", "SAM map"),
                                                         optional=True, createByDefault=False))
        for key, text in METRIC_HELP.items():
            self.addOutput(QgsProcessingOutputNumber(key, f"{key}: {tr(text)}"))

    def _optional_path(self, parameters, name, context):
        return self.raster_path(parameters, name, context) if parameters.get(name) else None

    def process(self, parameters, context, feedback):
        with rasters_kept_open():       # the report reads the rasters the metrics decoded
            return self._assess_and_write(parameters, context, feedback)

    def _assess_and_write(self, parameters, context, feedback):
        fused = self.raster_paths(parameters, "FUSED", context)
        reference = self._optional_path(parameters, REFERENCE, context)
        result = quality.assess_layers(
            fused, reference, self._optional_path(parameters, LR_HSI, context),
            self._optional_path(parameters, HR_MSI, context), self.parameterAsInt(parameters, "RATIO", context),
            self.parameterAsInt(parameters, "BORDER", context), self.parameterAsDouble(parameters, MTF_GAIN, context),
            feedback=feedback.span(0.0, 0.8))
        paths = {key: self.parameterAsFileOutput(parameters, name, context) or None
                 for key, name in (("json", OUTPUT_JSON), ("csv", "OUTPUT_CSV"), ("html", "OUTPUT_HTML"))}
        paths["sam_map"] = self.parameterAsOutputLayer(parameters, "OUTPUT_SAM_MAP", context) if parameters.get(
            "OUTPUT_SAM_MAP") else None
        if (paths["csv"] or paths["sam_map"]) and not reference:
            feedback.info(translate("HyperFuse", "The per-band CSV, the maps and the spectra need a REFERENCE; only "
                                                 "QNR is reported."))
        written = quality.write_outputs(result, paths, feedback.span(0.8, 1.0))
        outputs = {name: written.get(key) for key, name in (("json", OUTPUT_JSON), ("csv", "OUTPUT_CSV"),
                                                            ("html", "OUTPUT_HTML"), ("sam_map", "OUTPUT_SAM_MAP"))}
        feedback.progress(1.0)
        for layer in result["layers"]:
            feedback.info(layer["name"] + ": " + ", ".join(
                f"{k} {layer[k]:.4f}" for k in METRIC_HELP if k in layer and math.isfinite(layer[k])))
            for reason in ("ERGAS_reason", "QNR_reason"):
                if layer.get(reason):
                    feedback.info("  " + layer[reason])
            if layer.get("bands_excluded"):
                feedback.info("  " + translate("HyperFuse", "bands excluded (nodata everywhere): {bands}").format(
                    bands=layer["bands_excluded"]))
        first = result["layers"][0]
        outputs.update({key: first.get(key) for key in METRIC_HELP})
        return outputs
