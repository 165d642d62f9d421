"""hyperfuse:estimate_responses — the spectral response matrix R and the PSF from a real pair."""
from __future__ import annotations

from qgis.core import (QgsProcessingOutputNumber, QgsProcessingParameterBoolean, QgsProcessingParameterFileDestination,
                       QgsProcessingParameterNumber, QgsProcessingParameterRasterLayer)

from ..core.protocol import responses
from .base import HyperFuseAlgorithm
from .parameters import (HR_MSI, HR_MSI_HELP, HR_MSI_LABEL, LR_HSI, LR_HSI_HELP, LR_HSI_LABEL, MTF_GAIN, OUTPUT_JSON,
                         OUTPUT_SRF, TOOLS_GROUP)


class EstimateResponsesAlgorithm(HyperFuseAlgorithm):
    ALGORITHM_ID = "estimate_responses"
    DISPLAY_NAME = "Estimate spectral and spatial responses"
    GROUP = TOOLS_GROUP
    SUMMARY = ("Estimates, from an LR-HSI and an HR-MSI of the same scene, the spectral response matrix R (how each "
               "MS band combines the HS bands; rows non-negative, summing to 1) and the σ of the Gaussian PSF that "
               "relates the two resolutions, using D_σ(Y) = R Z: σ minimises the misfit of the degraded HR-MSI with "
               "combinations of HS bands, R is its non-negative least-squares fit. Outputs: SIGMA (PSF σ in HR "
               "pixels), MTF_GAIN (the equivalent response at the LR Nyquist frequency, for Simulate degradation), "
               "R as an SRF CSV usable as SRF_FILE of Simulate degradation and of the classical fusions, and a "
               "JSON with everything including per-band residuals. Pairs larger than 256 × 256 LR pixels are "
               "estimated on their central 256 × 256 LR pixels.")
    PARAMETER_HELP = {
        LR_HSI: LR_HSI_HELP,
        HR_MSI: HR_MSI_HELP,
        "OFFSET": "Also fit a per-MS-band additive offset (e.g. path radiance or a calibration difference between "
                  "the sensors). Off for simulated pairs and surface-reflectance products.",
        "SMOOTHNESS": "Weight of a penalty on differences between neighbouring HS bands in each row of R, relative "
                      "to the data; 0 (default) fits R freely, which is exact for noise-free pairs. Try 1e-4 to "
                      "1e-3 for noisy pairs.",
        OUTPUT_SRF: "CSV of R as response curves: a 'wavelength_nm' column (the LR-HSI band centres) and one column "
                      "per HR-MSI band. Needs wavelength metadata on the LR-HSI; leave empty without it.",
        OUTPUT_JSON: "JSON with σ, MTF gain, ratio, R (one row per MS band, one column per LR-HSI band), the gains "
                       "between MS and HS units, offsets, per-band relative residuals and the σ search.",
    }

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add(QgsProcessingParameterRasterLayer(LR_HSI, LR_HSI_LABEL))
        self.add(QgsProcessingParameterRasterLayer(HR_MSI, HR_MSI_LABEL))
        self.add(QgsProcessingParameterBoolean("OFFSET", "Fit a per-band offset", False), advanced=True)
        self.add(QgsProcessingParameterNumber("SMOOTHNESS", "Smoothness of R across HS bands",
                                              QgsProcessingParameterNumber.Double, 0.0, minValue=0.0), advanced=True)
        self.add(QgsProcessingParameterFileDestination(OUTPUT_SRF, "Spectral responses (CSV)",
                                                       fileFilter="CSV (*.csv)", optional=True))
        self.add(QgsProcessingParameterFileDestination(OUTPUT_JSON, "Estimate (JSON)", fileFilter="JSON (*.json)",
                                                       optional=True))
        self.addOutput(QgsProcessingOutputNumber("SIGMA", "PSF σ (HR pixels)"))
        self.addOutput(QgsProcessingOutputNumber(MTF_GAIN, "MTF gain at the LR Nyquist frequency"))

    def process(self, parameters, context, feedback):
        out_srf = self.parameterAsFileOutput(parameters, OUTPUT_SRF, context) or None
        out_json = self.parameterAsFileOutput(parameters, OUTPUT_JSON, context) or None
        estimate = responses.estimate_from_files(
            self.raster_path(parameters, LR_HSI, context), self.raster_path(parameters, HR_MSI, context),
            out_srf, out_json, offset=self.parameterAsBool(parameters, "OFFSET", context),
            smoothness=self.parameterAsDouble(parameters, "SMOOTHNESS", context), feedback=feedback)
        return {OUTPUT_SRF: out_srf, OUTPUT_JSON: out_json, "SIGMA": estimate.sigma, MTF_GAIN: estimate.mtf_gain}
