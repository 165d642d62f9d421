"""hyperfuse:quality_assessment — PROTOCOL.md metrics of fused rasters, ranked, with a report."""
from __future__ import annotations

import math

from qgis.core import (QgsProcessing, QgsProcessingOutputNumber, QgsProcessingParameterFileDestination,
                       QgsProcessingParameterMultipleLayers, QgsProcessingParameterNumber,
                       QgsProcessingParameterRasterDestination, QgsProcessingParameterRasterLayer)

from ..core.assessment import quality, report
from ..core.protocol.degradation import DEFAULT_MTF_GAIN
from ..core.storage.raster_io import open_raster
from .base import HyperFuseAlgorithm
from .parameters import HR_MSI, LR_HSI, MTF_GAIN, OUTPUT_JSON, REFERENCE, SIMULATION_GROUP

METRIC_HELP = {
    "PSNR": "peak signal-to-noise ratio in dB, mean over bands, peak = max of each reference band (higher is better)",
    "SAM": "spectral angle mapper in degrees, mean over pixels (lower is better)",
    "ERGAS": "relative dimensionless global error, (100/r)·sqrt(mean of RMSE²/mean²) (lower is better)",
    "SSIM": "structural similarity, 11 × 11 Gaussian window σ 1.5, mean over bands (higher is better)",
    "RMSE": "root mean square error in data units (lower is better)",
    "CC": "correlation coefficient, mean over bands (higher is better)",
    "QNR": "quality with no reference, (1 − D_λ)(1 − D_s), from LR_HSI and HR_MSI (higher is better, 1 is perfect)",
}


class QualityAssessmentAlgorithm(HyperFuseAlgorithm):
    ALGORITHM_ID = "quality_assessment"
    DISPLAY_NAME = "Quality assessment"
    GROUP = SIMULATION_GROUP
    SUMMARY = ("Compares fused rasters with a reference on the same grid by the metrics of the HyperFuse protocol, "
               "over pixels valid in both and over bands that are not nodata everywhere (those are reported), and "
               "ranks several fused rasters on every metric. Given the LR-HSI and HR-MSI a fusion used, it also "
               "computes the no-reference QNR, for real pairs without a reference. The numeric outputs are those "
               "of the first fused layer: " + "; ".join(f"{k}: {v}" for k, v in METRIC_HELP.items()) + ".")
    PARAMETER_HELP = {
        REFERENCE: "Optional reference high-resolution hyperspectral raster, e.g. OUTPUT_REFERENCE of Simulate "
                     "degradation. Without it only QNR is computed.",
        "FUSED": "One or more fused rasters on the reference grid with the same bands; several are ranked.",
        LR_HSI: "Optional LR-HSI the fusion used: with HR_MSI it gives the no-reference QNR and can infer RATIO.",
        HR_MSI: "Optional HR-MSI the fusion used (see LR_HSI).",
        "RATIO": "Resolution ratio r of the fusion; ERGAS is scaled by 100/r. 0 infers it from LR_HSI and HR_MSI.",
        "BORDER": "Pixels to leave out along every edge of the image (0 keeps all).",
        MTF_GAIN: "MTF gain of the Gaussian PSF that relates the two scales, for QNR (the simulation's, 0.25 "
                    "by default).",
        OUTPUT_JSON: "Optional JSON file with all metrics, per-band tables, excluded bands and the ranking.",
        "OUTPUT_CSV": "Optional CSV with one row per band: wavelength, then PSNR, SSIM, CC, UIQI and RMSE of "
                      "every fused layer.",
        "OUTPUT_HTML": "Optional self-contained HTML report: ranking table, per-band PSNR and SSIM against "
                       "wavelength, SAM and error maps, and reference against fused spectra.",
        "OUTPUT_SAM_MAP": "Optional georeferenced raster of the per-pixel spectral angle (degrees) of the first "
                          "fused layer.",
    }

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add(QgsProcessingParameterRasterLayer(REFERENCE, "Reference HR-HSI", optional=True))
        self.add(QgsProcessingParameterMultipleLayers("FUSED", "Fused HR-HSI layers", QgsProcessing.TypeRaster))
        self.add(QgsProcessingParameterRasterLayer(LR_HSI, "LR-HSI used by the fusion (for QNR)", optional=True))
        self.add(QgsProcessingParameterRasterLayer(HR_MSI, "HR-MSI used by the fusion (for QNR)", optional=True))
        self.add(QgsProcessingParameterNumber("RATIO", "Resolution ratio (0 = infer)",
                                              QgsProcessingParameterNumber.Integer, 3, minValue=0))
        self.add(QgsProcessingParameterNumber("BORDER", "Border to leave out (pixels)",
                                              QgsProcessingParameterNumber.Integer, 0, minValue=0), advanced=True)
        self.add(QgsProcessingParameterNumber(MTF_GAIN, "MTF gain at Nyquist (for QNR)",
                                              QgsProcessingParameterNumber.Double, DEFAULT_MTF_GAIN, minValue=0.001,
                                              maxValue=0.999), advanced=True)
        for name, label, file_filter in ((OUTPUT_JSON, "Metrics (JSON)", "JSON (*.json)"),
                                         ("OUTPUT_CSV", "Per-band metrics (CSV)", "CSV (*.csv)"),
                                         ("OUTPUT_HTML", "Report (HTML)", "HTML (*.html)")):
            self.add(QgsProcessingParameterFileDestination(name, label, fileFilter=file_filter, optional=True,
                                                           createByDefault=False))
        self.add(QgsProcessingParameterRasterDestination("OUTPUT_SAM_MAP", "SAM map", optional=True,
                                                         createByDefault=False))
        for key, text in METRIC_HELP.items():
            self.addOutput(QgsProcessingOutputNumber(key, f"{key}: {text}"))

    def _optional_path(self, parameters, name, context):
        return self.raster_path(parameters, name, context) if parameters.get(name) else None

    def process(self, parameters, context, feedback):
        fused = [self.layer_path(layer, "FUSED") for layer in self.parameterAsLayerList(parameters, "FUSED", context)]
        reference = self._optional_path(parameters, REFERENCE, context)
        result = quality.assess_layers(
            fused, reference, self._optional_path(parameters, LR_HSI, context),
            self._optional_path(parameters, HR_MSI, context), self.parameterAsInt(parameters, "RATIO", context),
            self.parameterAsInt(parameters, "BORDER", context), self.parameterAsDouble(parameters, MTF_GAIN, context))
        feedback.progress(0.6)
        outputs = {}
        for name in (OUTPUT_JSON, "OUTPUT_CSV", "OUTPUT_HTML"):
            outputs[name] = self.parameterAsFileOutput(parameters, name, context) or None
        sam_map = self.parameterAsOutputLayer(parameters, "OUTPUT_SAM_MAP", context) if parameters.get(
            "OUTPUT_SAM_MAP") else None
        if (outputs["OUTPUT_CSV"] or outputs["OUTPUT_HTML"] or sam_map) and not reference:
            feedback.info("The per-band CSV, the maps and the spectra need a REFERENCE; only QNR is reported.")
        if outputs[OUTPUT_JSON]:
            quality.write_json(outputs[OUTPUT_JSON], result)
        if reference and outputs["OUTPUT_CSV"]:
            quality.write_band_csv(outputs["OUTPUT_CSV"], result, open_raster(reference).wavelengths_nm)
        if outputs["OUTPUT_HTML"]:
            report.write_html(outputs["OUTPUT_HTML"], result)
        if reference and sam_map:
            quality.write_sam_map(sam_map, reference, fused[0])
            outputs["OUTPUT_SAM_MAP"] = sam_map
        feedback.progress(1.0)
        for layer in result["layers"]:
            feedback.info(layer["name"] + ": " + ", ".join(
                f"{k} {layer[k]:.4f}" for k in METRIC_HELP if k in layer and math.isfinite(layer[k])))
            if layer.get("QNR_reason"):
                feedback.info("  " + layer["QNR_reason"])
            if layer.get("bands_excluded"):
                feedback.info(f"  bands excluded (nodata everywhere): {layer['bands_excluded']}")
        first = result["layers"][0]
        outputs.update({key: first.get(key) for key in METRIC_HELP})
        return outputs
