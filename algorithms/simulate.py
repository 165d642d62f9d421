"""hyperfuse:simulate_degradation — an LR-HSI / HR-MSI test pair from a reference HR-HSI.

The simulation parameters are declared and read here once; ``hyperfuse:train_model``
uses the same functions for its supervised mode, so both define inputs identically.
"""
from __future__ import annotations

from qgis.core import (QgsProcessingParameterEnum, QgsProcessingParameterFile, QgsProcessingParameterFileDestination,
                       QgsProcessingParameterNumber, QgsProcessingParameterRasterDestination,
                       QgsProcessingParameterRasterLayer, QgsProcessingParameterString)

from ..core.protocol import simulation
from ..core.protocol.degradation import DEFAULT_MTF_GAIN
from ..core.protocol.simulation import PSF_KINDS, SimulationSettings
from ..core.protocol.srf import PRESETS, load_response
from .base import HyperFuseAlgorithm
from .i18n import QT_TRANSLATE_NOOP, Text, joined, tr, translate
from .parameters import MTF_GAIN, OUTPUT_SRF, SEED, SEED_LABEL, SIMULATION_GROUP, SRF_FILE

# The order is public: it is the PSF enum. Its options are the core's PSF kinds in this order.
PSF_OPTIONS = ["gaussian", "box", "kernel"]

SIMULATION_HELP = {
    "RATIO": QT_TRANSLATE_NOOP("HyperFuse", "Integer resolution ratio r ≥ 2 between the LR and HR pixel sizes."),
    "SRF": Text(QT_TRANSLATE_NOOP("HyperFuse", "Spectral responses of the simulated MS sensor: a preset ({presets}), "
                                              "each of which names its source in OUTPUT_SRF, or {csv_file}, the "
                                              "responses read from SRF_FILE."),
                 presets=joined("; ", (p.label for p in PRESETS if p.key != "csv_file")),
                 csv_file=next(p.label for p in PRESETS if p.key == "csv_file")),
    SRF_FILE: QT_TRANSLATE_NOOP(
        "HyperFuse", "CSV of spectral responses for SRF = CSV file (SRF_FILE): a 'wavelength_nm' column, then one "
                     "column per MS band named in the header; lines starting with # are comments."),
    "MS_BANDS": QT_TRANSLATE_NOOP(
        "HyperFuse", "Optional subset of the sensor's bands, by name, e.g. B2,B3,B4,B8. Empty keeps every band."),
    "PSF": Text(QT_TRANSLATE_NOOP("HyperFuse", "Point-spread function of the spatial degradation: {gaussian}: the "
                                              "Gaussian whose response at the LR Nyquist frequency is MTF_GAIN, "
                                              "centred on the LR pixel centre; {box}: the mean over the r × r HR "
                                              "pixels of each LR pixel (the MHF-net protocol); {kernel}: a kernel "
                                              "read from PSF_FILE."), **PSF_KINDS),
    MTF_GAIN: QT_TRANSLATE_NOOP(
        "HyperFuse", "Response of the Gaussian PSF at the LR Nyquist frequency (0 < g < 1); σ = r·sqrt(−2 ln g)/π "
                     "HR pixels. 0.25 is typical of real sensors."),
    "PSF_FILE": QT_TRANSLATE_NOOP(
        "HyperFuse", "CSV kernel for PSF = Kernel file (PSF_FILE): a square matrix of non-negative weights in HR "
                     "pixels, one row per line, with a size of the same parity as RATIO so it centres on the LR "
                     "pixel centre."),
    "SNR_HS": QT_TRANSLATE_NOOP(
        "HyperFuse", "Signal-to-noise ratio of white Gaussian noise added to the LR-HSI, in dB; 0 adds none."),
    "SNR_MS": QT_TRANSLATE_NOOP(
        "HyperFuse", "Signal-to-noise ratio of white Gaussian noise added to the HR-MSI, in dB; 0 adds none."),
    "WAVELENGTHS": QT_TRANSLATE_NOOP(
        "HyperFuse", "Band centre wavelengths (nm) for an input without wavelength metadata: a comma-separated "
                     "list, or the path of a CSV holding one value per band."),
}


def add_simulation_parameters(algorithm: HyperFuseAlgorithm, with_seed: bool = True) -> None:
    """Declare RATIO … WAVELENGTHS (and SEED when ``with_seed``) on ``algorithm``."""
    add = algorithm.add
    add(QgsProcessingParameterNumber("RATIO", QT_TRANSLATE_NOOP("HyperFuse", "Resolution ratio"),
                                     QgsProcessingParameterNumber.Integer, 3, minValue=2))
    add(QgsProcessingParameterEnum("SRF", QT_TRANSLATE_NOOP("HyperFuse", "MS spectral responses"),
                                   options=[p.label for p in PRESETS], defaultValue=0))
    add(QgsProcessingParameterFile(SRF_FILE, QT_TRANSLATE_NOOP("HyperFuse", "Spectral response CSV (SRF = CSV file)"),
                                   extension="csv", optional=True))
    add(QgsProcessingParameterString("MS_BANDS", QT_TRANSLATE_NOOP("HyperFuse", "MS band subset (e.g. B2,B3,B4,B8)"),
                                     optional=True))
    add(QgsProcessingParameterEnum("PSF", QT_TRANSLATE_NOOP("HyperFuse", "Point-spread function"),
                                   options=[PSF_KINDS[k] for k in PSF_OPTIONS],
                                   defaultValue=PSF_OPTIONS.index("gaussian")))
    add(QgsProcessingParameterNumber(MTF_GAIN, QT_TRANSLATE_NOOP("HyperFuse", "MTF gain at Nyquist"),
                                     QgsProcessingParameterNumber.Double, DEFAULT_MTF_GAIN, minValue=0.001,
                                     maxValue=0.999))
    add(QgsProcessingParameterFile("PSF_FILE", QT_TRANSLATE_NOOP("HyperFuse", "PSF kernel CSV (PSF = kernel file)"),
                                   extension="csv", optional=True))
    if with_seed:
        add(QgsProcessingParameterNumber(SEED, SEED_LABEL, QgsProcessingParameterNumber.Integer, 0,
                                         minValue=0))
    add(QgsProcessingParameterNumber("SNR_HS", QT_TRANSLATE_NOOP("HyperFuse", "LR-HSI noise SNR (dB, 0 = none)"),
                                     QgsProcessingParameterNumber.Double, 0.0, minValue=0.0), advanced=True)
    add(QgsProcessingParameterNumber("SNR_MS", QT_TRANSLATE_NOOP("HyperFuse", "HR-MSI noise SNR (dB, 0 = none)"),
                                     QgsProcessingParameterNumber.Double, 0.0, minValue=0.0), advanced=True)
    add(QgsProcessingParameterString(
        "WAVELENGTHS", QT_TRANSLATE_NOOP("HyperFuse", "Wavelengths (nm) when the reference has none"),
        optional=True), advanced=True)


def read_simulation_settings(algorithm: HyperFuseAlgorithm, parameters, context) -> SimulationSettings:
    srf = load_response(PRESETS[algorithm.parameterAsEnum(parameters, "SRF", context)].key,
                        algorithm.parameterAsFile(parameters, SRF_FILE, context) or None,
                        algorithm.parameterAsString(parameters, "MS_BANDS", context))
    return SimulationSettings(
        ratio=algorithm.parameterAsInt(parameters, "RATIO", context), srf=srf,
        mtf_gain=algorithm.parameterAsDouble(parameters, MTF_GAIN, context),
        psf=PSF_OPTIONS[algorithm.parameterAsEnum(parameters, "PSF", context)],
        psf_file=algorithm.parameterAsFile(parameters, "PSF_FILE", context) or None,
        snr_hs=algorithm.parameterAsDouble(parameters, "SNR_HS", context),
        snr_ms=algorithm.parameterAsDouble(parameters, "SNR_MS", context),
        wavelengths_nm=simulation.parse_wavelengths(algorithm.parameterAsString(parameters, "WAVELENGTHS", context)),
        seed=algorithm.parameterAsInt(parameters, SEED, context))


class SimulateDegradationAlgorithm(HyperFuseAlgorithm):
    ALGORITHM_ID = "simulate_degradation"
    DISPLAY_NAME = QT_TRANSLATE_NOOP("HyperFuse", "Simulate degradation")
    GROUP = SIMULATION_GROUP
    ICON = "simulation.svg"
    SUMMARY = QT_TRANSLATE_NOOP(
        "HyperFuse", "Builds a test pair from a reference hyperspectral raster by the protocol every HyperFuse "
                     "number follows: the LR-HSI is the reference blurred by a Gaussian PSF and decimated by RATIO; "
                     "the HR-MSI is the reference seen through the spectral responses of an MS sensor. The "
                     "reference is cropped to a multiple of RATIO, and the LR grid is the HR grid with the pixel "
                     "size multiplied by RATIO from the same origin, so the outputs feed any fusion algorithm and "
                     "then Quality assessment.")
    INPUTS = QT_TRANSLATE_NOOP(
        "HyperFuse", "A reference high-resolution hyperspectral raster with per-band wavelength metadata (or "
                     "WAVELENGTHS); for SRF = CSV file (SRF_FILE), a CSV of spectral responses; for PSF = Kernel "
                     "file (PSF_FILE), a CSV kernel.")
    OUTPUTS = QT_TRANSLATE_NOOP(
        "HyperFuse", "OUTPUT_LR_HSI, the simulated LR-HSI; OUTPUT_HR_MSI, the simulated HR-MSI; OUTPUT_REFERENCE, "
                     "the reference cropped to a multiple of RATIO (all GeoTIFFs on grids that line up); optionally "
                     "OUTPUT_SRF, the spectral response matrix R as CSV.")
    CITATION = QT_TRANSLATE_NOOP(
        "HyperFuse", "Wald's protocol: L. Wald, T. Ranchin, M. Mangolini, Fusion of satellite images of different "
                     "spatial resolutions: assessing the quality of resulting images, PE&RS 63(6), 1997. The "
                     "Gaussian PSF is set by its MTF gain at the LR Nyquist frequency, as in B. Aiazzi et al., "
                     "MTF-tailored multiscale fusion of high-resolution MS and Pan imagery, PE&RS 72(5), 2006. The "
                     "rules as implemented: docs/protocol.md.")
    RUN_TIME = QT_TRANSLATE_NOOP(
        "HyperFuse", "About 1.3 s for the 128 × 128-pixel, 224-band EnMAP development scene at ratio 3 (measured "
                     "once on 2 CPU cores shared with another job). Time grows with the number of pixels and of "
                     "bands. It runs on the CPU only (NumPy), never on a GPU.")
    PARAMETER_HELP = {
        "INPUT": QT_TRANSLATE_NOOP(
            "HyperFuse", "Reference high-resolution hyperspectral raster with per-band 'wavelength' metadata."),
        **SIMULATION_HELP,
        SEED: QT_TRANSLATE_NOOP(
            "HyperFuse", "Seed of the noise generator: the same seed gives the same output bit for bit."),
        "OUTPUT_LR_HSI": QT_TRANSLATE_NOOP("HyperFuse", "Simulated low-resolution hyperspectral raster."),
        "OUTPUT_HR_MSI": QT_TRANSLATE_NOOP(
            "HyperFuse", "Simulated high-resolution multispectral raster, bands named like 'B4 (665 nm)'."),
        "OUTPUT_REFERENCE": QT_TRANSLATE_NOOP(
            "HyperFuse", "The reference cropped to a multiple of RATIO: compare fusions with this one."),
        OUTPUT_SRF: QT_TRANSLATE_NOOP(
            "HyperFuse", "Optional CSV of the s × S spectral response matrix R used (rows MS bands, columns HS "
                         "bands)."),
    }

    def initAlgorithm(self, config=None):  # noqa: N802
        self.add(QgsProcessingParameterRasterLayer("INPUT", QT_TRANSLATE_NOOP("HyperFuse", "Reference HR-HSI")))
        add_simulation_parameters(self)
        self.add(QgsProcessingParameterRasterDestination("OUTPUT_LR_HSI",
                                                         QT_TRANSLATE_NOOP("HyperFuse", "Simulated LR-HSI")))
        self.add(QgsProcessingParameterRasterDestination("OUTPUT_HR_MSI",
                                                         QT_TRANSLATE_NOOP("HyperFuse", "Simulated HR-MSI")))
        self.add(QgsProcessingParameterRasterDestination("OUTPUT_REFERENCE",
                                                         QT_TRANSLATE_NOOP("HyperFuse", "Reference (cropped)")))
        self.add(QgsProcessingParameterFileDestination(
            OUTPUT_SRF, QT_TRANSLATE_NOOP("HyperFuse", "Spectral response matrix (CSV)"), fileFilter="CSV (*.csv)",
            optional=True, createByDefault=False))

    def process(self, parameters, context, feedback):
        outputs = {name: self.parameterAsOutputLayer(parameters, name, context)
                   for name in ("OUTPUT_LR_HSI", "OUTPUT_HR_MSI", "OUTPUT_REFERENCE")}
        settings = read_simulation_settings(self, parameters, context)
        out_srf = self.parameterAsFileOutput(parameters, OUTPUT_SRF, context) or None
        simulation.simulate(
            self.raster_path(parameters, "INPUT", context), settings,
            outputs["OUTPUT_LR_HSI"], outputs["OUTPUT_HR_MSI"], outputs["OUTPUT_REFERENCE"],
            out_srf=out_srf, feedback=feedback)
        outputs[OUTPUT_SRF] = out_srf
        self.name_layer("OUTPUT_LR_HSI", translate("HyperFuse", "Simulated LR-HSI (ratio {ratio})").format(
            ratio=settings.ratio))
        self.name_layer("OUTPUT_HR_MSI", translate("HyperFuse", "Simulated HR-MSI (ratio {ratio}) – {sensor}").format(
            ratio=settings.ratio, sensor=tr(settings.srf.name)))
        self.name_layer("OUTPUT_REFERENCE", translate("HyperFuse", "Reference, cropped (ratio {ratio})").format(
            ratio=settings.ratio))
        return outputs
