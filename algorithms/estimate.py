"""hyperfuse:estimate_responses — the spectral response matrix R and the PSF from a real pair."""
from __future__ import annotations

from qgis.core import (QgsProcessingOutputNumber, QgsProcessingParameterBoolean, QgsProcessingParameterFileDestination,
                       QgsProcessingParameterNumber, QgsProcessingParameterRasterLayer)

from ..core.protocol import responses
from .base import HyperFuseAlgorithm
from .i18n import QT_TRANSLATE_NOOP, translate
from .parameters import (HR_MSI, HR_MSI_HELP, HR_MSI_LABEL, LR_HSI, LR_HSI_HELP, LR_HSI_LABEL, MTF_GAIN, OUTPUT_JSON,
                         OUTPUT_SRF, TOOLS_GROUP)


class EstimateResponsesAlgorithm(HyperFuseAlgorithm):
    ALGORITHM_ID = "estimate_responses"
    DISPLAY_NAME = QT_TRANSLATE_NOOP("HyperFuse", "Estimate sensor responses")
    GROUP = TOOLS_GROUP
    ICON = "tools.svg"
    SUMMARY = QT_TRANSLATE_NOOP(
        "HyperFuse", "Estimates, from an LR-HSI and an HR-MSI of the same scene, the spectral response matrix R "
                     "(how each MS band combines the HS bands; rows non-negative, summing to 1) and the σ of the "
                     "Gaussian PSF that relates the two resolutions, using D_σ(Y) = R Z: σ minimises the misfit of "
                     "the degraded HR-MSI with combinations of HS bands, R is its non-negative least-squares fit. "
                     "Pairs larger than 256 × 256 LR pixels are estimated on their central 256 × 256 LR pixels.")
    INPUTS = QT_TRANSLATE_NOOP(
        "HyperFuse", "An LR-HSI and an HR-MSI of the same scene on grids that line up (the LR pixel an integer "
                     "multiple r ≥ 2 of the HR pixel). Wavelength metadata on the LR-HSI is needed for OUTPUT_SRF.")
    OUTPUTS = QT_TRANSLATE_NOOP(
        "HyperFuse", "SIGMA: the PSF σ in HR pixels; MTF_GAIN: the equivalent response at the LR Nyquist frequency, "
                     "for Simulate degradation and the classical fusions; OUTPUT_SRF: R as an SRF CSV usable as "
                     "SRF_FILE of Simulate degradation and of the classical fusions; OUTPUT_JSON: everything, "
                     "including per-band residuals.")
    CITATION = QT_TRANSLATE_NOOP(
        "HyperFuse", "The identity D_σ(Y) = R Z from which M. Simões, J. Bioucas-Dias, L. B. Almeida, J. Chanussot "
                     "estimate both responses (A convex formulation for hyperspectral image superresolution via "
                     "subspace-based regularization, IEEE TGRS 53(6), 2015, Sec. IV); R by non-negative least "
                     "squares (C. L. Lawson, R. J. Hanson, Solving Least Squares Problems, 1974).")
    RUN_TIME = QT_TRANSLATE_NOOP(
        "HyperFuse", "About 0.4 s for the 128 × 128-pixel, 224-band EnMAP development scene simulated at ratio 3 "
                     "(measured once on 2 CPU cores shared with another job); larger pairs are estimated on their "
                     "central 256 × 256 LR pixels, which bounds the time. It runs on the CPU only (NumPy and "
                     "SciPy), never on a GPU.")
    PARAMETER_HELP = {
        LR_HSI: LR_HSI_HELP,
        HR_MSI: HR_MSI_HELP,
        "OFFSET": QT_TRANSLATE_NOOP(
            "HyperFuse", "Also fit a per-MS-band additive offset (e.g. path radiance or a calibration difference "
                         "between the sensors). Off for simulated pairs and surface-reflectance products."),
        "SMOOTHNESS": QT_TRANSLATE_NOOP(
            "HyperFuse", "Weight of a penalty on differences between neighbouring HS bands in each row of R, "
                         "relative to the data; 0 (default) fits R freely, which is exact for noise-free pairs. Try "
                         "1e-4 to 1e-3 for noisy pairs."),
        OUTPUT_SRF: QT_TRANSLATE_NOOP(
            "HyperFuse", "CSV of R as response curves: a 'wavelength_nm' column (the LR-HSI band centres) and one "
                         "column per HR-MSI band. Needs wavelength metadata on the LR-HSI; leave empty without it."),
        OUTPUT_JSON: QT_TRANSLATE_NOOP(
            "HyperFuse", "JSON with σ, MTF gain, ratio, R (one row per MS band, one column per LR-HSI band), the "
                         "gains between MS and HS units, offsets, per-band relative residuals and the σ search."),
    }

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add(QgsProcessingParameterRasterLayer(LR_HSI, LR_HSI_LABEL))
        self.add(QgsProcessingParameterRasterLayer(HR_MSI, HR_MSI_LABEL))
        self.add(QgsProcessingParameterBoolean("OFFSET", QT_TRANSLATE_NOOP("HyperFuse", "Fit a per-band offset"),
                                               False), advanced=True)
        self.add(QgsProcessingParameterNumber(
            "SMOOTHNESS", QT_TRANSLATE_NOOP("HyperFuse", "Smoothness of R across HS bands"),
            QgsProcessingParameterNumber.Double, 0.0, minValue=0.0), advanced=True)
        self.add(QgsProcessingParameterFileDestination(
            OUTPUT_SRF, QT_TRANSLATE_NOOP("HyperFuse", "Spectral responses (CSV)"), fileFilter="CSV (*.csv)",
            optional=True))
        self.add(QgsProcessingParameterFileDestination(
            OUTPUT_JSON, QT_TRANSLATE_NOOP("HyperFuse", "Estimate (JSON)"), fileFilter="JSON (*.json)", optional=True))
        self.addOutput(QgsProcessingOutputNumber("SIGMA", translate("HyperFuse", "PSF σ (HR pixels)")))
        self.addOutput(QgsProcessingOutputNumber(MTF_GAIN,
                                                 translate("HyperFuse", "MTF gain at the LR Nyquist frequency")))

    def process(self, parameters, context, feedback):
        out_srf = self.parameterAsFileOutput(parameters, OUTPUT_SRF, context) or None
        out_json = self.parameterAsFileOutput(parameters, OUTPUT_JSON, context) or None
        estimate = responses.estimate_from_files(
            self.raster_path(parameters, LR_HSI, context), self.raster_path(parameters, HR_MSI, context),
            out_srf, out_json, offset=self.parameterAsBool(parameters, "OFFSET", context),
            smoothness=self.parameterAsDouble(parameters, "SMOOTHNESS", context), feedback=feedback)
        return {OUTPUT_SRF: out_srf, OUTPUT_JSON: out_json, "SIGMA": estimate.sigma, MTF_GAIN: estimate.mtf_gain}
