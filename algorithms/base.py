"""The base class every HyperFuse algorithm shares, and the feedback bridge into the core."""
from __future__ import annotations

import html
import os
import re

from qgis.core import (QgsProcessing, QgsProcessingAlgorithm, QgsProcessingException,
                       QgsProcessingOutputLayerDefinition, QgsProcessingParameterEnum, QgsProcessingParameterFile,
                       QgsProcessingParameterFileDestination, QgsProcessingParameterMultipleLayers,
                       QgsProcessingParameterNumber, QgsProcessingParameterRasterDestination,
                       QgsProcessingParameterRasterLayer, QgsProcessingParameterString, QgsProperty)
from qgis.PyQt.QtGui import QIcon

from ..core.errors import Cancelled, UserInputError
from ..core.feedback import Feedback
from ..core.registry import Setting
from ..core.storage.files import RASTER_EXTENSIONS, check_destinations
from ..core.storage.gdal_cache import bounded_gdal_cache
from ..core.storage.raster_io import COMPRESSION_CHOICES, DEFAULT_COMPRESSION, check_readable
from .i18n import QT_TRANSLATE_NOOP, tr, translate
from .parameters import (DASK_SCHEDULER, DASK_SCHEDULER_LABEL, OUTPUT_COMPRESSION, OUTPUT_COMPRESSION_LABEL, PROJECTION,
                         PROJECTION_LABEL, PROJECTION_MTF_GAIN, PROJECTION_MTF_GAIN_LABEL, Group)
from .rendering import present_raster_outputs


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


def _is_temporary(value) -> bool:
    """A destination left empty or set to QGIS's temporary output (which makes a new name on every read)."""
    if isinstance(value, QgsProcessingOutputLayerDefinition):
        value = value.sink.staticValue() if value.sink.propertyType() == QgsProperty.StaticProperty else "expr"
    return value in (None, "", QgsProcessing.TEMPORARY_OUTPUT)


def icon_path(name: str) -> str:
    """The path of ``name`` in the plugin's icons/ folder."""
    from ..core.environment import PLUGIN_DIR

    return os.path.join(PLUGIN_DIR, "icons", name)


def help_html(text: str) -> str:
    """``text`` translated and escaped for HTML.

    Processing renders the algorithm help and the parameter tooltips (which embed the
    parameter's help) as rich text, where a bare '<' opens a tag and hides the rest
    ("(s < S bands)" showed as "(s "). Every help text goes through here.
    """
    return html.escape(tr(text), quote=False)


# The help's sections after the summary: (attribute of the algorithm, title); an empty one is left out.
# CITATION, not REFERENCE: in a class body that attribute would shadow the REFERENCE parameter name.
HELP_SECTIONS = (("INPUTS", QT_TRANSLATE_NOOP("HyperFuse", "Inputs")),
                 ("OUTPUTS", QT_TRANSLATE_NOOP("HyperFuse", "Outputs")),
                 ("CITATION", QT_TRANSLATE_NOOP("HyperFuse", "Reference")),
                 ("RUN_TIME", QT_TRANSLATE_NOOP("HyperFuse", "Run time")))


PARAMETERS_TITLE = QT_TRANSLATE_NOOP("HyperFuse", "Parameters")


def help_string(algorithm) -> str:
    """The Processing help of ``algorithm``: its SUMMARY, the :data:`HELP_SECTIONS` it fills, then its
    PARAMETER_HELP. Any QgsProcessingAlgorithm with those attributes can return this as its
    shortHelpString, so that all HyperFuse help is escaped and laid out alike."""
    sections = "".join(f"<h3>{help_html(title)}</h3><p>{help_html(getattr(algorithm, attribute, ''))}</p>"
                       for attribute, title in HELP_SECTIONS if getattr(algorithm, attribute, ""))
    items = "".join(f"<li><b>{help_html(name)}</b>{_help_label(algorithm, name)}: {help_html(text)}</li>"
                    for name, text in getattr(algorithm, "PARAMETER_HELP", {}).items())
    parameters = f"<h3>{help_html(PARAMETERS_TITLE)}</h3><ul>{items}</ul>" if items else ""
    return f"<p>{help_html(algorithm.SUMMARY)}</p>{sections}{parameters}"


def _help_label(algorithm, name: str) -> str:
    """' (label)' of parameter ``name`` as the dialog shows it, so that the help's NAME and the dialog's
    label can be matched; empty before the parameters are declared."""
    definition = algorithm.parameterDefinition(name)
    # The description is translated already (HyperFuseAlgorithm.add).
    return f" ({html.escape(definition.description(), quote=False)})" if definition is not None else ""


def setting_parameter(setting: Setting):
    """The Processing parameter of a method setting (core.registry.Setting): an enum or a number."""
    if setting.kind == "enum":
        return QgsProcessingParameterEnum(setting.name, setting.label, options=list(setting.labels),
                                          defaultValue=setting.choices.index(setting.default))
    number_type = QgsProcessingParameterNumber.Integer if setting.kind == "int" else QgsProcessingParameterNumber.Double
    bounds = {key: value for key, value in (("minValue", setting.minimum), ("maxValue", setting.maximum))
              if value is not None}
    return QgsProcessingParameterNumber(setting.name, setting.label, number_type, setting.default, **bounds)


def add_settings(algorithm: HyperFuseAlgorithm, settings, advanced: bool = True) -> None:
    """Declare method settings as parameters of ``algorithm`` (advanced ones unless told otherwise)."""
    for setting in settings:
        algorithm.add(setting_parameter(setting), advanced=advanced)


def add_projection_parameters(algorithm: HyperFuseAlgorithm, default: str) -> None:
    """PROJECTION (the options of core/inference/adaptation.py, ``default`` first chosen) and its PSF's gain."""
    from ..core.inference.adaptation import PROJECTION_CHOICES
    from ..core.protocol.degradation import DEFAULT_MTF_GAIN

    algorithm.add(QgsProcessingParameterEnum(PROJECTION, PROJECTION_LABEL, options=PROJECTION_CHOICES,
                                             defaultValue=PROJECTION_CHOICES.index(default)), advanced=True)
    algorithm.add(QgsProcessingParameterNumber(PROJECTION_MTF_GAIN, PROJECTION_MTF_GAIN_LABEL,
                                               QgsProcessingParameterNumber.Double, DEFAULT_MTF_GAIN, minValue=0.01,
                                               maxValue=0.99), advanced=True)


def add_scheduler_parameter(algorithm: HyperFuseAlgorithm) -> None:
    """DASK_SCHEDULER (core/inference/distributed.py): an advanced text, empty for in-process."""
    algorithm.add(QgsProcessingParameterString(DASK_SCHEDULER, DASK_SCHEDULER_LABEL, defaultValue="", optional=True),
                  advanced=True)


def read_scheduler(algorithm: HyperFuseAlgorithm, parameters, context) -> str | None:
    """The DASK_SCHEDULER value checked (None: in-process); a bad one or a missing Dask is refused here."""
    from ..core.inference.distributed import checked

    return checked(algorithm.parameterAsString(parameters, DASK_SCHEDULER, context))


def add_compression_parameter(algorithm: HyperFuseAlgorithm) -> None:
    """OUTPUT_COMPRESSION: an advanced choice among raster_io.COMPRESSION_CHOICES, zstd first and the default."""
    algorithm.add(QgsProcessingParameterEnum(OUTPUT_COMPRESSION, OUTPUT_COMPRESSION_LABEL, options=COMPRESSION_CHOICES,
                                             defaultValue=COMPRESSION_CHOICES.index(DEFAULT_COMPRESSION)),
                  advanced=True)


def read_compression(algorithm: HyperFuseAlgorithm, parameters, context) -> str:
    return COMPRESSION_CHOICES[algorithm.parameterAsEnum(parameters, OUTPUT_COMPRESSION, context)]


def read_projection(algorithm: HyperFuseAlgorithm, parameters, context) -> tuple:
    """(projection name, MTF gain) from the parameters of :func:`add_projection_parameters`."""
    from ..core.inference.adaptation import PROJECTION_CHOICES

    return (PROJECTION_CHOICES[algorithm.parameterAsEnum(parameters, PROJECTION, context)],
            algorithm.parameterAsDouble(parameters, PROJECTION_MTF_GAIN, context))


def read_settings(algorithm: HyperFuseAlgorithm, settings, parameters, context) -> dict:
    """The method keywords (``setting.key`` → value) from the parameters that :func:`add_settings` declared."""
    values = {}
    for setting in settings:
        if setting.kind == "enum":
            values[setting.key] = setting.choices[algorithm.parameterAsEnum(parameters, setting.name, context)]
        elif setting.kind == "int":
            values[setting.key] = algorithm.parameterAsInt(parameters, setting.name, context)
        else:
            values[setting.key] = algorithm.parameterAsDouble(parameters, setting.name, context)
    return values


def destination_files(algorithm: QgsProcessingAlgorithm, parameters, context) -> dict:
    """Every file ``algorithm`` writes, by parameter name, with the extensions its writer produces (for
    check_destinations; also used by the shipped model, which is not a HyperFuseAlgorithm)."""
    files = {}
    for definition in algorithm.destinationParameterDefinitions():
        name = definition.name()
        if _is_temporary(parameters.get(name, definition.defaultValue())):
            continue  # a fresh name in QGIS's temporary folder: nothing to collide with
        if isinstance(definition, QgsProcessingParameterRasterDestination):
            files[name] = (algorithm.parameterAsOutputLayer(parameters, name, context), RASTER_EXTENSIONS)
        elif isinstance(definition, QgsProcessingParameterFileDestination):
            extensions = tuple("." + e for e in re.findall(r"\*\.(\w+)", definition.fileFilter()))
            files[name] = (algorithm.parameterAsFileOutput(parameters, name, context), extensions)
    return files


def _existing_file(value) -> bool:
    return isinstance(value, str) and os.path.isfile(value)


def _raster_files(definition, value) -> list | None:
    """The files a raster or multiple-layer parameter's ``value`` names, when every item is the path of a file;
    None otherwise (a layer, a layer id, nothing)."""
    if not isinstance(definition, (QgsProcessingParameterRasterLayer, QgsProcessingParameterMultipleLayers)):
        return None
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    return values if values and all(_existing_file(v) for v in values) else None


def raster_file(algorithm: QgsProcessingAlgorithm, parameters, name: str, context) -> str | None:
    """The file behind raster parameter ``name``, None when it is not given.

    A value that is the path of a file (scripts through processing.run, a model's intermediate outputs) is that
    file: loading it as a QGIS layer computes the default style's statistics, decoding the raster (0.3 s for 240 ×
    240 × 218 bands in one compressed tile) unless statistics lie beside it, for a run that reads it through GDAL
    anyway; checkParameterValues has checked that GDAL can. A layer of the project is asked for its file.
    (qgis_process of QGIS 3.22 loads every layer parameter once itself, to find missing ones, before any
    algorithm code runs.)"""
    value = parameters.get(name)
    if _existing_file(value):
        return value
    layer = algorithm.parameterAsRasterLayer(parameters, name, context)
    return None if layer is None else HyperFuseAlgorithm.layer_path(layer, name)


class HyperFuseAlgorithm(QgsProcessingAlgorithm):
    """Declares id, names, group and help; turns core errors into ``QgsProcessingException``.

    Subclasses set the class attributes, declare parameters in ``initAlgorithm`` and do
    their work in ``process(parameters, context, feedback)`` with a core :class:`Feedback`.
    ``PARAMETER_HELP`` maps each parameter name to its help text; it feeds both the
    parameter's tooltip and the algorithm's help, so every parameter is documented.
    The help is the ``SUMMARY``, then the sections of :data:`HELP_SECTIONS`, then the
    parameters. Every text is plain text (never HTML): :func:`help_html` escapes it.
    Options are named by the labels the dialog shows, not by number.
    """

    ALGORITHM_ID = ""
    DISPLAY_NAME = ""
    GROUP: Group = None
    ICON = "network.svg"            # in icons/: one picture per kind of algorithm
    SUMMARY = ""
    INPUTS = ""
    OUTPUTS = ""
    CITATION = ""       # the method's paper or protocol, with its year
    RUN_TIME = ""       # measured times, with where they were measured
    PARAMETER_HELP: dict = {}

    def name(self):
        return self.ALGORITHM_ID

    def displayName(self):  # noqa: N802 (QGIS API name)
        return tr(self.DISPLAY_NAME)

    def group(self):
        return tr(self.GROUP.name)

    def groupId(self):  # noqa: N802
        return self.GROUP.id

    def shortHelpString(self):  # noqa: N802
        return help_string(self)

    def icon(self):
        return QIcon(self.svgIconPath())

    def svgIconPath(self):  # noqa: N802
        return icon_path(self.ICON)

    def createInstance(self):  # noqa: N802
        return type(self)()

    def add(self, parameter, advanced: bool = False):
        """Add a parameter with its help text from ``PARAMETER_HELP``, its label and options translated (the
        code declares them in English, marked for pylupdate5)."""
        parameter.setDescription(tr(parameter.description()))
        if isinstance(parameter, QgsProcessingParameterEnum):
            parameter.setOptions([tr(option) for option in parameter.options()])
        help_text = self.PARAMETER_HELP.get(parameter.name())
        if help_text and hasattr(parameter, "setHelp"):
            parameter.setHelp(help_html(help_text))
        if advanced:
            parameter.setFlags(parameter.flags() | parameter.FlagAdvanced)
        self.addParameter(parameter)
        return parameter

    def raster_path(self, parameters, name: str, context) -> str:
        """The file behind raster parameter ``name`` (see :func:`raster_file`); refused when none was given."""
        return raster_file(self, parameters, name, context) or self.layer_path(None, name)

    def raster_paths(self, parameters, name: str, context) -> list:
        """The files behind multiple-layer parameter ``name``, as :func:`raster_file` finds them."""
        paths = _raster_files(self.parameterDefinition(name), parameters.get(name))
        if paths is not None:
            return paths
        return [self.layer_path(layer, name) for layer in self.parameterAsLayerList(parameters, name, context)]

    @staticmethod
    def layer_path(layer, name: str) -> str:
        """The file behind a raster layer, which the core reads with GDAL."""
        if layer is None:
            raise QgsProcessingException(translate("HyperFuse", "{name}: no raster layer was given.").format(name=name))
        if layer.providerType() != "gdal":
            raise QgsProcessingException(translate(
                "HyperFuse", "{name}: the layer '{layer}' is not a file GDAL can read (provider {provider}). "
                "Export it to GeoTIFF first.").format(name=name, layer=layer.name(), provider=layer.providerType()))
        return layer.source().split("|")[0]

    def checkParameterValues(self, parameters, context):  # noqa: N802
        """QGIS's check of every value, but a raster given as the path of a file is opened through GDAL, as the core
        opens it, and not loaded as a QGIS layer.

        QGIS's own check loads such a path as a layer, which decodes the raster for the default style's
        statistics (0.3 s and 100 MB for a 240 × 240 × 218-band GeoTIFF in one compressed tile without statistics
        beside it), and reports a file that GDAL cannot read as 'not found'; GDAL says why."""
        for definition in self.parameterDefinitions():
            name, value = definition.name(), parameters.get(definition.name())
            paths = _raster_files(definition, value)
            if paths is None:
                if definition.checkValueIsAcceptable(value, context):
                    continue
                if isinstance(definition, QgsProcessingParameterRasterLayer):
                    return False, self.invalidRasterError(parameters, name)
                return False, translate("HyperFuse", "Incorrect parameter value for {name}").format(name=name)
            for path in paths:
                try:
                    check_readable(path)
                except UserInputError as exc:
                    return False, f"{name}: {exc}"
        return True, ""

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        core_feedback = QgisFeedback(feedback)
        self._layer_names = {}
        try:
            check_destinations(self.input_files(parameters, context), self.output_files(parameters, context))
            with bounded_gdal_cache():
                results = self.process(parameters, context, core_feedback)
        except UserInputError as exc:
            raise QgsProcessingException(str(exc)) from exc
        except Cancelled as exc:
            raise QgsProcessingException(
                translate("HyperFuse", "The run was cancelled; no output was written.")) from exc
        present_raster_outputs(self, results, self._layer_names, context, feedback)
        return results

    def name_layer(self, output: str, name: str) -> None:
        """Name the layer of raster output ``output`` when Processing loads it, e.g. 'GSA fused (ratio 4)':
        every run of an algorithm would otherwise give its layer the same name, the output's label."""
        self.__dict__.setdefault("_layer_names", {})[output] = name

    def process(self, parameters, context, feedback: Feedback) -> dict:
        raise NotImplementedError

    def input_files(self, parameters, context) -> dict:
        """Every file the run reads, by parameter name: raster layers, layer lists and plain files."""
        files = {}
        for definition in self.parameterDefinitions():
            name = definition.name()
            if parameters.get(name) in (None, ""):
                continue
            if isinstance(definition, QgsProcessingParameterRasterLayer):
                files[name] = raster_file(self, parameters, name, context)
            elif isinstance(definition, QgsProcessingParameterMultipleLayers):
                files[name] = self.raster_paths(parameters, name, context)
            elif isinstance(definition, QgsProcessingParameterFile):
                files[name] = self.parameterAsFile(parameters, name, context)
        return files

    def output_files(self, parameters, context) -> dict:
        """Every file the run writes, by parameter name, with the extensions its writer produces."""
        return destination_files(self, parameters, context)
