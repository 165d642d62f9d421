"""How the rasters the algorithms write look in QGIS: colour from their wavelengths, and names that say what they are.

Every raster output of every algorithm goes through :func:`present_raster_outputs` once, from
``HyperFuseAlgorithm.processAlgorithm``, in the worker thread where statistics cost the GUI nothing:

- the composites of core/storage/display.py (true colour, colour infrared) become multiband
  colour renderers stretched on each band's 2–98 % cumulative count cut;
- the first, true colour, is saved as ``<name>.qml`` next to the file. QGIS loads that file as
  the layer's default style whenever the GeoTIFF is opened (Add Raster Layer, drag and drop,
  another project); it reads no renderer from GDAL's .aux.xml;
- Processing loads its results without their default style, so a layer post-processor applies
  the composites to the layer it loads (true colour shown, colour infrared one click away in
  the layer's Styles menu).

The layer name comes from the algorithm (``HyperFuseAlgorithm.name_layer``) through the
load-on-completion details, which is where QGIS itself takes the name from.
"""
from __future__ import annotations

import math
import os

from qgis.core import (QgsContrastEnhancement, QgsMapLayerStyle, QgsMultiBandColorRenderer,
                       QgsProcessingLayerPostProcessorInterface, QgsProcessingParameterRasterDestination,
                       QgsRasterLayer, QgsRasterMinMaxOrigin, QgsRectangle)

from ..core.errors import UserInputError
from ..core.storage import display
from ..core.storage.raster_io import open_raster

# QGIS's own sample size for layer statistics (QgsRasterLayer::SAMPLE_SIZE): a large raster is
# sampled, not read whole, so styling costs about the same for any raster size.
SAMPLE_SIZE = 250000
CUMULATIVE_CUT = (0.02, 0.98)


def style_path(raster_path: str) -> str:
    """Where QGIS looks for a file's default style: its name with ``.qml`` for the last extension."""
    return os.path.splitext(raster_path)[0] + ".qml"


def _open_without_style(path: str) -> QgsRasterLayer:
    options = QgsRasterLayer.LayerOptions()
    options.loadDefaultStyle = False   # the .qml of an earlier file of this name describes other bands
    return QgsRasterLayer(path, os.path.basename(path), "gdal", options)


def _cumulative_cut(layer: QgsRasterLayer, band: int) -> tuple | None:
    """(low, high) of a band's 2–98 % cut, or None for a band with no valid pixel."""
    low, high = layer.dataProvider().cumulativeCut(band, *CUMULATIVE_CUT, QgsRectangle(), SAMPLE_SIZE)
    return (low, high) if math.isfinite(low) and math.isfinite(high) and low <= high else None


def _renderer(layer: QgsRasterLayer, composite: display.Composite, cuts: dict) -> QgsMultiBandColorRenderer:
    provider = layer.dataProvider()
    renderer = QgsMultiBandColorRenderer(provider, *composite.bands)
    origin = QgsRasterMinMaxOrigin()
    # Recorded so that QGIS's layer properties show the stretch as the cumulative cut it is.
    origin.setLimits(QgsRasterMinMaxOrigin.CumulativeCut)
    origin.setCumulativeCutLower(CUMULATIVE_CUT[0])
    origin.setCumulativeCutUpper(CUMULATIVE_CUT[1])
    origin.setExtent(QgsRasterMinMaxOrigin.WholeRaster)
    origin.setStatAccuracy(QgsRasterMinMaxOrigin.Estimated)
    renderer.setMinMaxOrigin(origin)
    setters = (renderer.setRedContrastEnhancement, renderer.setGreenContrastEnhancement,
               renderer.setBlueContrastEnhancement)
    for band, setter in zip(composite.bands, setters):
        enhancement = QgsContrastEnhancement(provider.dataType(band))
        enhancement.setContrastEnhancementAlgorithm(QgsContrastEnhancement.StretchToMinimumMaximum)
        enhancement.setMinimumValue(cuts[band][0])
        enhancement.setMaximumValue(cuts[band][1])
        setter(enhancement)
    return renderer


def composite_renderers(layer: QgsRasterLayer, wavelengths_nm) -> list:
    """(composite, renderer) for each composite of the layer's bands, true colour first.

    A band that is nodata everywhere (a bad band of the inputs, kept in place) would show as a
    black channel: it is passed over for the next nearest band."""
    cuts, empty = {}, set()
    while True:
        built = []
        for composite in display.composites(wavelengths_nm, empty):
            for band in composite.bands:
                if band not in cuts:
                    cuts[band] = _cumulative_cut(layer, band)
            newly_empty = {band for band in composite.bands if cuts[band] is None}
            if newly_empty:
                empty |= newly_empty
                break
            built.append((composite, _renderer(layer, composite, cuts)))
        else:
            return built


def save_display_styles(raster_path: str) -> list:
    """(style name, QML) of each composite of a raster, true colour first; also saves true colour as its .qml.

    Empty for a raster without wavelengths, with fewer than three bands or without bands near the
    composites' colours: it keeps QGIS's default rendering, and no .qml is written."""
    try:
        wavelengths_nm = open_raster(raster_path, scan_bad_bands=False).wavelengths_nm
    except UserInputError:
        return []
    layer = _open_without_style(raster_path)
    if not layer.isValid():
        return []
    styles = []
    # Built in reverse so that the layer is left with true colour, the style saved next to the file.
    for composite, renderer in reversed(composite_renderers(layer, wavelengths_nm)):
        layer.setRenderer(renderer)
        style = QgsMapLayerStyle()
        style.readFromLayer(layer)
        styles.insert(0, (composite.describe(), style.xmlData()))
    if styles:
        message, saved = layer.saveNamedStyle(style_path(raster_path))
        if not saved:
            raise OSError(message)
    return styles


def apply_styles(layer: QgsRasterLayer, styles: list) -> None:
    """Show the first style on ``layer`` and offer the others in its style manager."""
    manager = layer.styleManager()
    QgsMapLayerStyle(styles[0][1]).writeToLayer(layer)
    manager.renameStyle(manager.currentStyle(), styles[0][0])
    for name, xml in styles[1:]:
        manager.addStyle(name, QgsMapLayerStyle(xml))


class OutputLayerPresenter(QgsProcessingLayerPostProcessorInterface):
    """Applies an output's composites to the layer Processing loads when the algorithm completes."""

    # Processing holds only the C++ side of a post-processor: the Python object must be referenced
    # here, or it is collected before the layer loads and QGIS calls into a dead object (a crash).
    # Each one lets go of itself once it has run.
    _alive: dict = {}

    def __init__(self, layer_id: str, styles: list):
        super().__init__()
        self.layer_id, self.styles = layer_id, styles

    @classmethod
    def attach(cls, context, layer_id: str, styles: list) -> "OutputLayerPresenter":
        presenter = cls(layer_id, styles)
        cls._alive[layer_id] = presenter
        context.layerToLoadOnCompletionDetails(layer_id).setPostProcessor(presenter)
        return presenter

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802 (QGIS API name)
        if isinstance(layer, QgsRasterLayer):
            apply_styles(layer, self.styles)
        OutputLayerPresenter._alive.pop(self.layer_id, None)


def present_raster_outputs(algorithm, results: dict, layer_names: dict, context, feedback) -> None:
    """Style, and name, every raster destination of ``algorithm`` that the run wrote (``results``)."""
    for definition in algorithm.destinationParameterDefinitions():
        if not isinstance(definition, QgsProcessingParameterRasterDestination):
            continue
        path = results.get(definition.name())
        if not path or not os.path.isfile(path):
            continue
        try:
            styles = save_display_styles(path)
        except OSError as exc:
            styles = []
            feedback.pushWarning(f"{definition.name()}: no colour style was saved next to the raster ({exc}).")
        if not context.willLoadLayerOnCompletion(path):
            continue
        details = context.layerToLoadOnCompletionDetails(path)
        name = layer_names.get(definition.name())
        # Processing names a layer after its output's description unless the user or a model
        # gave the destination a name; only that generic name is replaced.
        if name and details.name == definition.description():
            details.name = name
        if styles:
            OutputLayerPresenter.attach(context, path, styles)
