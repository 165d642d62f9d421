"""The base class every HyperFuse algorithm shares, and the feedback bridge into the core."""
from __future__ import annotations

from qgis.core import QgsProcessingAlgorithm, QgsProcessingException
from qgis.PyQt.QtCore import QCoreApplication

from ..core.errors import Cancelled, UserInputError
from ..core.feedback import Feedback


class QgisFeedback(Feedback):
    """The core's feedback object on top of a ``QgsProcessingFeedback``."""

    def __init__(self, qgs_feedback):
        super().__init__()
        self.qgs_feedback = qgs_feedback

    def _report_progress(self, percent: float) -> None:
        if self.qgs_feedback is not None:
            self.qgs_feedback.setProgress(percent)

    def _report_message(self, text: str) -> None:
        if self.qgs_feedback is not None:
            self.qgs_feedback.pushInfo(text)

    def is_cancelled(self) -> bool:
        return self.qgs_feedback is not None and self.qgs_feedback.isCanceled()


def tr(text: str) -> str:
    return QCoreApplication.translate("HyperFuse", text)


class HyperFuseAlgorithm(QgsProcessingAlgorithm):
    """Declares id, names, group and help; turns core errors into ``QgsProcessingException``.

    Subclasses set the class attributes, declare parameters in ``initAlgorithm`` and do
    their work in ``process(parameters, context, feedback)`` with a core :class:`Feedback`.
    ``PARAMETER_HELP`` maps each parameter name to its help text; it feeds both the
    parameter's tooltip and the algorithm's help, so every parameter is documented.
    """

    ALGORITHM_ID = ""
    DISPLAY_NAME = ""
    GROUP = ""
    GROUP_ID = ""
    SUMMARY = ""
    PARAMETER_HELP: dict = {}

    def name(self):
        return self.ALGORITHM_ID

    def displayName(self):  # noqa: N802 (QGIS API name)
        return tr(self.DISPLAY_NAME)

    def group(self):
        return tr(self.GROUP)

    def groupId(self):  # noqa: N802
        return self.GROUP_ID

    def shortHelpString(self):  # noqa: N802
        items = "".join(f"<li><b>{name}</b>: {tr(text)}</li>" for name, text in self.PARAMETER_HELP.items())
        return f"<p>{tr(self.SUMMARY)}</p><h3>{tr('Parameters')}</h3><ul>{items}</ul>"

    def createInstance(self):  # noqa: N802
        return type(self)()

    def add(self, parameter, advanced: bool = False):
        """Add a parameter with its help text from ``PARAMETER_HELP``."""
        help_text = self.PARAMETER_HELP.get(parameter.name())
        if help_text and hasattr(parameter, "setHelp"):
            parameter.setHelp(tr(help_text))
        if advanced:
            parameter.setFlags(parameter.flags() | parameter.FlagAdvanced)
        self.addParameter(parameter)
        return parameter

    def raster_path(self, parameters, name: str, context) -> str:
        return self.layer_path(self.parameterAsRasterLayer(parameters, name, context), name)

    @staticmethod
    def layer_path(layer, name: str) -> str:
        """The file behind a raster layer, which the core reads with GDAL."""
        if layer is None:
            raise QgsProcessingException(tr(f"{name}: no raster layer was given."))
        if layer.providerType() != "gdal":
            raise QgsProcessingException(tr(
                f"{name}: the layer '{layer.name()}' is not a file GDAL can read (provider {layer.providerType()}). "
                "Export it to GeoTIFF first."))
        return layer.source().split("|")[0]

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        core_feedback = QgisFeedback(feedback)
        try:
            return self.process(parameters, context, core_feedback)
        except UserInputError as exc:
            raise QgsProcessingException(str(exc)) from exc
        except Cancelled as exc:
            raise QgsProcessingException(tr("The run was cancelled; no output was written.")) from exc

    def process(self, parameters, context, feedback: Feedback) -> dict:
        raise NotImplementedError
