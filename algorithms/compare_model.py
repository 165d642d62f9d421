"""hyperfuse:compare_fusion_methods — the shipped model models/compare_fusion_methods.model3 as an algorithm.

The model file is what a user opens, copies and edits in the graphical modeler
(tools/make_compare_model.py rebuilds it); this class only gives it the provider's id, name,
group and help, so that it is listed and run like every other HyperFuse algorithm.
"""
from __future__ import annotations

import os

from qgis.core import QgsProcessingException, QgsProcessingModelAlgorithm, QgsProcessingParameterEnum
from qgis.PyQt.QtGui import QIcon

from ..core.environment import PLUGIN_DIR
from ..core.errors import UserInputError
from ..core.protocol.srf import PRESETS
from ..core.storage.files import check_destinations
from .base import destination_files, help_html, help_string, icon_path, raster_file
from .i18n import QT_TRANSLATE_NOOP, Text, joined, tr
from .parameters import SIMULATION_GROUP

MODEL_FILE = os.path.join(PLUGIN_DIR, "models", "compare_fusion_methods.model3")
# The labels the model file holds (tools/make_compare_model.py writes them), marked for pylupdate5: the model
# shows them translated (CompareFusionMethodsModel._translate_labels). Its SRF options are the presets' labels.
MODEL_LABELS = (QT_TRANSLATE_NOOP("HyperFuse", "Reference HR-HSI (a hyperspectral scene)"),
                QT_TRANSLATE_NOOP("HyperFuse", "Resolution ratio"),
                QT_TRANSLATE_NOOP("HyperFuse", "MS spectral responses"),
                QT_TRANSLATE_NOOP("HyperFuse", "Quality report (HTML)"),
                QT_TRANSLATE_NOOP("HyperFuse", "Metrics and ranking (JSON)"))


class CompareFusionMethodsModel(QgsProcessingModelAlgorithm):
    ALGORITHM_ID = "compare_fusion_methods"
    DISPLAY_NAME = QT_TRANSLATE_NOOP("HyperFuse", "Compare fusion methods")
    SUMMARY = QT_TRANSLATE_NOOP(
        "HyperFuse", "A shipped model: simulates an LR-HSI and an HR-MSI from a reference hyperspectral scene, "
                     "fuses them with the five networks (MODEL = auto: a matching sensor-specific bundled model, "
                     "else the generic one) and with GSA, MTF-GLP-HS, CNMF and bicubic upsampling, then ranks every "
                     "result with Quality assessment. Open models/compare_fusion_methods.model3 in the graphical "
                     "modeler to change the methods or their settings.")
    INPUTS = QT_TRANSLATE_NOOP(
        "HyperFuse", "A hyperspectral raster with band wavelengths, taken as the truth; the ratio and the "
                     "multispectral sensor of the simulated pair.")
    OUTPUTS = QT_TRANSLATE_NOOP(
        "HyperFuse", "assess:REPORT: the HTML report, with the ranked quality table, per-band curves, error maps "
                     "and spectra; assess:METRICS: every metric and the ranking as JSON.")
    CITATION = QT_TRANSLATE_NOOP(
        "HyperFuse", "Simulation and scoring by Wald's protocol: L. Wald, T. Ranchin, M. Mangolini, Fusion of "
                     "satellite images of different spatial resolutions: assessing the quality of resulting images, "
                     "Photogrammetric Engineering and Remote Sensing, 1997. Each method's paper is in its own help.")
    RUN_TIME = QT_TRANSLATE_NOOP(
        "HyperFuse", "Measured once on 2 CPU cores: 27 s for a 48 × 48-pixel scene of 30 bands at ratio 3 through "
                     "qgis_process; the sum of its fusions' times on larger scenes (see each algorithm's help).")
    PARAMETER_HELP = {
        "REFERENCE": QT_TRANSLATE_NOOP(
            "HyperFuse", "A hyperspectral raster with band wavelengths, taken as the truth: the inputs are "
                         "simulated from it and every fusion is scored against it."),
        "RATIO": QT_TRANSLATE_NOOP(
            "HyperFuse", "Resolution ratio r of the simulated pair: the LR-HSI has r times fewer pixels along each "
                         "side."),
        "SRF": Text(QT_TRANSLATE_NOOP(
            "HyperFuse", "Spectral responses of the simulated multispectral sensor, a preset: {presets}. The CSV file "
                         "option needs Simulate degradation's SRF_FILE, which this model does not ask for: add it in "
                         "the graphical modeler."),
            presets=joined("; ", (p.label for p in PRESETS if p.key != "csv_file"))),
        "assess:REPORT": QT_TRANSLATE_NOOP(
            "HyperFuse", "The HTML report of Quality assessment, with the ranked quality table."),
        "assess:METRICS": QT_TRANSLATE_NOOP(
            "HyperFuse", "Every metric of every fused raster and the ranking, as JSON."),
    }

    def __init__(self):
        super().__init__()
        if not self.fromFile(MODEL_FILE):
            raise RuntimeError(f"The shipped model {MODEL_FILE} could not be read: reinstall the plugin.")

    def initAlgorithm(self, config=None):  # noqa: N802
        # While the provider loads its algorithms, the model's children (its own algorithms) could not be found
        # when the file was read: attach them now, or the model has no outputs.
        for child_id in self.childAlgorithms():
            self.childAlgorithm(child_id).reattach()
        self.updateDestinationParameters()
        self._translate_labels()
        for definition in self.parameterDefinitions():
            if definition.name() in self.PARAMETER_HELP:
                definition.setHelp(help_html(self.PARAMETER_HELP[definition.name()]))

    def _translate_labels(self):
        for definition in self.parameterDefinitions():
            definition.setDescription(tr(definition.description()))
            if isinstance(definition, QgsProcessingParameterEnum):
                definition.setOptions([tr(option) for option in definition.options()])
        for output in self.outputDefinitions():
            output.setDescription(tr(output.description()))

    def checkParameterValues(self, parameters, context):  # noqa: N802
        # The children check their outputs against their own inputs only; the scene the user gave must not be
        # overwritten by the model's outputs either.
        try:
            check_destinations({"REFERENCE": raster_file(self, parameters, "REFERENCE", context)},
                               destination_files(self, parameters, context))
        except (UserInputError, QgsProcessingException) as error:      # the latter: a REFERENCE GDAL cannot read
            return False, str(error)
        return super().checkParameterValues(parameters, context)

    def name(self):
        return self.ALGORITHM_ID

    def displayName(self):  # noqa: N802 (QGIS API name)
        return tr(self.DISPLAY_NAME)

    def group(self):
        return tr(SIMULATION_GROUP.name)

    def groupId(self):  # noqa: N802
        return SIMULATION_GROUP.id

    def shortHelpString(self):  # noqa: N802
        return help_string(self)

    def icon(self):
        return QIcon(self.svgIconPath())

    def svgIconPath(self):  # noqa: N802
        return icon_path("compare.svg")

    def createInstance(self):  # noqa: N802
        return type(self)()
