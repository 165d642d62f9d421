"""The ``hyperfuse`` Processing provider: lists the algorithms, fusion ones from the method registry."""
import os

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

from ..algorithms.assess import QualityAssessmentAlgorithm
from ..algorithms.classical import classical_fusion_algorithms
from ..algorithms.compare_model import CompareFusionMethodsModel
from ..algorithms.estimate import EstimateResponsesAlgorithm
from ..algorithms.fusion import network_fusion_algorithms
from ..algorithms.i18n import translate
from ..algorithms.simulate import SimulateDegradationAlgorithm
from ..algorithms.train import TrainModelAlgorithm
from ..core.environment import PLUGIN_DIR

ICON = os.path.join(PLUGIN_DIR, "icon.svg")


class HyperFuseProvider(QgsProcessingProvider):
    def id(self):
        return "hyperfuse"

    def name(self):
        return "HyperFuse"

    def longName(self):  # noqa: N802 (QGIS API name)
        return translate("HyperFuse", "HyperFuse: hyperspectral and multispectral image fusion")

    def icon(self):
        return QIcon(ICON)

    def svgIconPath(self):  # noqa: N802
        return ICON

    def supportedOutputRasterLayerExtensions(self):  # noqa: N802
        return ["tif"]

    def loadAlgorithms(self):  # noqa: N802
        algorithms = [SimulateDegradationAlgorithm(), QualityAssessmentAlgorithm()]
        algorithms += [cls() for cls in network_fusion_algorithms()]
        algorithms += [cls() for cls in classical_fusion_algorithms()] + [EstimateResponsesAlgorithm()]
        algorithms += [TrainModelAlgorithm(), CompareFusionMethodsModel()]
        for algorithm in algorithms:
            self.addAlgorithm(algorithm)
