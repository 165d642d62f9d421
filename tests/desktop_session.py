"""Run inside the real QGIS desktop (``qgis --code tests/desktop_session.py``) by tests/test_desktop.py.

It does what a user does from the GUI: runs a network fusion and the shipped model with
Processing's "run and load results", GSA in-process and on two local Dask workers, looks at the layers the project then holds and at the
Processing Toolbox, saves a screenshot of the main window, writes what it saw as JSON to
$HYPERFUSE_DESKTOP_RESULT and quits. The test makes the assertions.
"""
import json
import os
import traceback

from qgis.core import QgsApplication, QgsMultiBandColorRenderer, QgsProject
from qgis.PyQt.QtCore import QTimer
from qgis.PyQt.QtWidgets import QDockWidget
from qgis.utils import iface

INPUTS = json.loads(os.environ.get("HYPERFUSE_DESKTOP_INPUTS", "{}"))
RESULT = os.environ.get("HYPERFUSE_DESKTOP_RESULT", "")


def _layers() -> list:
    """Every raster layer of the project: name, file and the bands its renderer shows as R, G, B."""
    layers = []
    for layer in QgsProject.instance().mapLayers().values():
        renderer = layer.renderer() if hasattr(layer, "renderer") else None
        bands = ([renderer.redBand(), renderer.greenBand(), renderer.blueBand()]
                 if isinstance(renderer, QgsMultiBandColorRenderer) else None)
        layers.append({"name": layer.name(), "source": layer.source(), "rgb_bands": bands})
    return layers


def _toolbox() -> list:
    """(display name, fits in the view) of every HyperFuse algorithm as the Toolbox lists it."""
    from qgis.gui import QgsProcessingToolboxTreeView

    dock = iface.mainWindow().findChild(QDockWidget, "ProcessingToolbox")
    dock.show()
    dock.raise_()
    view = dock.findChild(QgsProcessingToolboxTreeView)
    model = view.model()
    view.expandAll()
    QgsApplication.processEvents()
    entries, pending = [], [model.index(row, 0) for row in range(model.rowCount())]
    while pending:
        index = pending.pop()
        pending += [model.index(row, 0, index) for row in range(model.rowCount(index))]
        algorithm = view.algorithmForIndex(index)
        if algorithm is None or algorithm.provider().id() != "hyperfuse":
            continue
        view.scrollTo(index)
        QgsApplication.processEvents()
        # The width the item's icon and full text need, against the room the view gives it: a name that
        # does not fit is drawn cut, with an ellipsis.
        needed = view.visualRect(index).left() + view.sizeHintForIndex(index).width()
        entries.append({"id": algorithm.id(), "name": index.data(), "fits": needed <= view.viewport().width()})
    return entries


def _screenshot(layer_name: str) -> None:
    canvas = iface.mapCanvas()
    layer = next(layer for layer in QgsProject.instance().mapLayers().values() if layer.name() == layer_name)
    iface.setActiveLayer(layer)
    canvas.setExtent(layer.extent())
    canvas.refresh()
    canvas.waitWhileRendering()
    QgsApplication.processEvents()
    iface.mainWindow().grab().save(INPUTS["screenshot"])


def run() -> None:
    import processing

    seen = {}
    try:
        fused = processing.runAndLoadResults("hyperfuse:fuse_deepsen3", {
            "LR_HSI": INPUTS["lr"], "HR_MSI": INPUTS["ms"], "OUTPUT": INPUTS["fused"]})
        compared = processing.runAndLoadResults("hyperfuse:compare_fusion_methods", {
            "REFERENCE": INPUTS["scene"], "RATIO": 3, "SRF": 0, "assess:REPORT": INPUTS["report"],
            "assess:METRICS": INPUTS["metrics"]})
        # The same fusion on two local Dask workers, which QGIS must start with its own Python.
        for name, scheduler in (("gsa_here", ""), ("gsa_dask", "local:2")):
            processing.run("hyperfuse:fuse_gsa", {"LR_HSI": INPUTS["lr"], "HR_MSI": INPUTS["ms"], "BLOCK_SIZE": 24,
                                                  "DASK_SCHEDULER": scheduler, "OUTPUT": INPUTS[name]})
        seen = {"fusion": {k: str(v) for k, v in fused.items()}, "model": {k: str(v) for k, v in compared.items()},
                "layers": _layers(), "toolbox": _toolbox()}
        fused_layer = next(layer["name"] for layer in seen["layers"] if layer["source"] == INPUTS["fused"])
        _screenshot(fused_layer)
    except Exception:  # noqa: BLE001 (everything goes to the test, which fails with it)
        seen["error"] = traceback.format_exc()
    with open(RESULT, "w", encoding="utf-8") as handle:
        json.dump(seen, handle, indent=1)
    # The test has all it needs: leave at once, without QGIS's questions and clean-up on the way out.
    os._exit(0)


# After the main window is up and the plugins are loaded.
QTimer.singleShot(2000, run)
