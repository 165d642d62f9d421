"""hyperfuse:quality_assessment — PROTOCOL.md metrics of a fused raster against a reference."""
from __future__ import annotations

from qgis.core import (QgsProcessingOutputNumber, QgsProcessingParameterFileDestination,
                       QgsProcessingParameterNumber, QgsProcessingParameterRasterLayer)

from ..core import assessment
from .base import HyperFuseAlgorithm

METRIC_HELP = {
    "PSNR": "peak signal-to-noise ratio in dB, mean over bands, peak = max of each reference band (higher is better)",
    "SAM": "spectral angle mapper in degrees, mean over pixels (lower is better)",
    "ERGAS": "relative dimensionless global error, (100/r)·sqrt(mean of RMSE²/mean²) (lower is better)",
    "SSIM": "structural similarity, 11 × 11 Gaussian window σ 1.5, mean over bands (higher is better)",
    "RMSE": "root mean square error in data units (lower is better)",
}


class QualityAssessmentAlgorithm(HyperFuseAlgorithm):
    ALGORITHM_ID = "quality_assessment"
    DISPLAY_NAME = "Quality assessment"
    GROUP, GROUP_ID = "Simulation and assessment", "simulation"
    SUMMARY = ("Compares a fused raster with a reference on the same grid by the metrics of the HyperFuse protocol, "
               "over pixels valid in both and over bands that are not nodata everywhere (those are reported). "
               "Outputs: " + "; ".join(f"{k}: {v}" for k, v in METRIC_HELP.items()) + ".")
    PARAMETER_HELP = {
        "REFERENCE": "Reference high-resolution hyperspectral raster, e.g. OUTPUT_REFERENCE of Simulate degradation.",
        "FUSED": "Fused raster on the reference grid with the same bands.",
        "RATIO": "Resolution ratio r of the fusion; ERGAS is scaled by 100/r.",
        "OUTPUT_JSON": "Optional JSON file with all metrics, per-band tables and the excluded bands.",
    }

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add(QgsProcessingParameterRasterLayer("REFERENCE", "Reference HR-HSI"))
        self.add(QgsProcessingParameterRasterLayer("FUSED", "Fused HR-HSI"))
        self.add(QgsProcessingParameterNumber("RATIO", "Resolution ratio", QgsProcessingParameterNumber.Integer, 3,
                                              minValue=2))
        self.add(QgsProcessingParameterFileDestination("OUTPUT_JSON", "Metrics (JSON)", fileFilter="JSON (*.json)",
                                                       optional=True, createByDefault=False))
        for key, text in METRIC_HELP.items():
            self.addOutput(QgsProcessingOutputNumber(key, f"{key}: {text}"))

    def process(self, parameters, context, feedback):
        result = assessment.assess_files(self.raster_path(parameters, "REFERENCE", context),
                                         self.raster_path(parameters, "FUSED", context),
                                         self.parameterAsInt(parameters, "RATIO", context))
        json_path = self.parameterAsFileOutput(parameters, "OUTPUT_JSON", context)
        if json_path:
            assessment.write_json(json_path, result)
        feedback.info(", ".join(f"{k} {result[k]:.4f}" for k in METRIC_HELP))
        if result["bands_excluded"]:
            feedback.info(f"Bands excluded (nodata everywhere): {result['bands_excluded']}")
        outputs = {key: result[key] for key in METRIC_HELP}
        outputs["OUTPUT_JSON"] = json_path or None
        return outputs
