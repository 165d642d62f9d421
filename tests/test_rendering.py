"""Rasters that look right in QGIS: colour composites from the wavelengths, a .qml next to the file, names.

The algorithm runs load their outputs into a project the way the Processing dialog does: each raster
destination is a QgsProcessingOutputLayerDefinition with a project, and on completion QGIS's own
processing.gui.Postprocessing.handleAlgorithmResults loads the layers and runs their post-processors.
"""
import gc
import os

import numpy as np
import pytest
import rasterio
from hyperfuse.core.storage import display

S2_10M_NM = [492.4, 559.8, 664.6, 832.8]


def test_true_colour_and_colour_infrared_bands_of_sentinel2_10m():
    true_colour, infrared = display.composites(S2_10M_NM)
    assert true_colour.bands == (3, 2, 1) and true_colour.name == "True colour"
    assert infrared.bands == (4, 3, 2) and infrared.name == "Colour infrared"
    assert true_colour.describe() == "True colour (R 665 nm, G 560 nm, B 492 nm)"


def test_hyperspectral_bands_nearest_the_targets_and_unusable_bands_passed_over():
    wavelengths = list(np.linspace(420, 1000, 40))
    true_colour, infrared = display.composites(wavelengths)
    nearest = [1 + int(np.argmin(np.abs(np.array(wavelengths) - t))) for t in (640, 550, 470, 860)]
    assert true_colour.bands == tuple(nearest[:3]) and infrared.bands == (nearest[3], nearest[0], nearest[1])
    red = nearest[0]
    again = display.composites(wavelengths, unusable={red})[0]
    assert again.red != red and abs(wavelengths[again.red - 1] - 640) < 20


def test_rasters_without_a_usable_composite_keep_qgis_default():
    assert display.composites(None) == [] and display.composites([]) == []
    assert display.composites([560.0, 665.0]) == []                    # fewer than three bands
    assert display.composites([1000.0, 1600.0, 2200.0]) == []          # SWIR only: no band near a colour
    # Green, red and NIR without blue: no true colour, but colour infrared.
    assert [c.name for c in display.composites([560.0, 665.0, 842.0])] == ["Colour infrared"]


@pytest.fixture(scope="module")
def processing(qgis_app):
    import processing as qgis_processing

    return qgis_processing


def _wavelengths(path):
    with rasterio.open(path) as src:
        return np.array([float(src.tags(b)["wavelength"]) for b in range(1, src.count + 1)])


def _nearest(path, targets=(640.0, 550.0, 470.0)):
    """Expected red, green, blue band numbers, from the file's own metadata."""
    wavelengths = _wavelengths(path)
    return tuple(1 + int(np.argmin(np.abs(wavelengths - t))) for t in targets)


def _bands(renderer):
    from qgis.core import QgsMultiBandColorRenderer

    assert isinstance(renderer, QgsMultiBandColorRenderer), type(renderer)
    return renderer.redBand(), renderer.greenBand(), renderer.blueBand()


def _stretch(renderer):
    enhancements = (renderer.redContrastEnhancement(), renderer.greenContrastEnhancement(),
                    renderer.blueContrastEnhancement())
    return [(round(e.minimumValue(), 6), round(e.maximumValue(), 6)) for e in enhancements]


def _run_and_load(processing, algorithm, parameters, outputs):
    """Run ``algorithm`` as the Processing dialog does and load its raster ``outputs`` into a fresh project."""
    from processing.gui.Postprocessing import handleAlgorithmResults
    from qgis.core import (QgsProcessing, QgsProcessingContext, QgsProcessingFeedback,
                           QgsProcessingOutputLayerDefinition, QgsProject)

    project = QgsProject()
    context, feedback = QgsProcessingContext(), QgsProcessingFeedback()
    context.setProject(project)
    parameters = {**parameters, **{name: QgsProcessingOutputLayerDefinition(QgsProcessing.TEMPORARY_OUTPUT, project)
                                   for name in outputs}}
    loaded = []

    def load(alg, context, feedback):
        gc.collect()   # a post-processor kept alive only by Processing would be gone now (the PyQGIS pitfall)
        loaded.append(handleAlgorithmResults(alg, context, feedback))

    results = processing.run(algorithm, parameters, context=context, feedback=feedback, onFinish=load)
    assert loaded == [True]
    layers = {name: _layer_of(project, results[name]) for name in outputs}
    return results, layers, project


def _layer_of(project, path):
    matches = [layer for layer in project.mapLayers().values() if layer.source() == path]
    assert len(matches) == 1, (path, [layer.source() for layer in project.mapLayers().values()])
    return matches[0]


def _fresh(path):
    from qgis.core import QgsRasterLayer

    layer = QgsRasterLayer(path, "fresh", "gdal")
    assert layer.isValid()
    return layer


@pytest.fixture(scope="module")
def simulated(processing, small_pair):
    return _run_and_load(processing, "hyperfuse:simulate_degradation",
                         {"INPUT": small_pair["scene"], "RATIO": 3, "SRF": 0, "SEED": 1},
                         ("OUTPUT_LR_HSI", "OUTPUT_HR_MSI", "OUTPUT_REFERENCE"))


def test_simulated_hyperspectral_layers_show_true_colour(simulated):
    from hyperfuse.algorithms.rendering import OutputLayerPresenter

    results, layers, _ = simulated
    for name in ("OUTPUT_LR_HSI", "OUTPUT_REFERENCE"):
        expected = _nearest(results[name])
        assert expected != (1, 2, 3)
        assert _bands(layers[name].renderer()) == expected
        # The stretch is each band's 2-98 % cut, not the full range.
        low, high = _stretch(layers[name].renderer())[0]
        with rasterio.open(results[name]) as src:
            red = src.read(expected[0]).ravel()
        assert red.min() < low < high < red.max()
    assert not any(path in OutputLayerPresenter._alive for path in results.values() if isinstance(path, str))


def test_simulated_hr_msi_shows_b4_b3_b2_and_offers_colour_infrared(simulated):
    from qgis.core import QgsMapLayerStyle, QgsRasterLayer

    results, layers, _ = simulated
    with rasterio.open(results["OUTPUT_HR_MSI"]) as src:
        names = [d.split(" ")[0] for d in src.descriptions]
    assert names == ["B2", "B3", "B4", "B8"]
    layer = layers["OUTPUT_HR_MSI"]
    assert _bands(layer.renderer()) == (names.index("B4") + 1, names.index("B3") + 1, names.index("B2") + 1)
    manager = layer.styleManager()
    assert manager.currentStyle().startswith("True colour")
    infrared = [name for name in manager.styles() if name.startswith("Colour infrared")]
    assert len(infrared) == 1
    copy = QgsRasterLayer(results["OUTPUT_HR_MSI"], "copy", "gdal")
    QgsMapLayerStyle(manager.style(infrared[0]).xmlData()).writeToLayer(copy)
    assert _bands(copy.renderer()) == (4, 3, 2)


def test_a_fresh_layer_of_the_file_has_the_same_renderer(simulated):
    results, layers, _ = simulated
    for name, layer in layers.items():
        path = results[name]
        assert os.path.isfile(os.path.splitext(path)[0] + ".qml")
        fresh = _fresh(path)
        assert _bands(fresh.renderer()) == _bands(layer.renderer())
        assert _stretch(fresh.renderer()) == _stretch(layer.renderer())


def test_simulated_layers_are_named_for_what_they_are(simulated):
    _, layers, _ = simulated
    assert layers["OUTPUT_LR_HSI"].name() == "Simulated LR-HSI (ratio 3)"
    assert layers["OUTPUT_HR_MSI"].name().startswith("Simulated HR-MSI (ratio 3) – Sentinel-2A")
    assert layers["OUTPUT_REFERENCE"].name() == "Reference, cropped (ratio 3)"


def test_fused_layers_show_true_colour_and_runs_of_different_methods_differ_in_name(processing, small_pair):
    pair = {"LR_HSI": small_pair["lr"], "HR_MSI": small_pair["ms"]}
    runs = {algorithm: _run_and_load(processing, algorithm, pair, ("OUTPUT",))
            for algorithm in ("hyperfuse:fuse_gsa", "hyperfuse:fuse_bicubic", "hyperfuse:fuse_mhfnet")}
    names = {algorithm: layers["OUTPUT"].name() for algorithm, (_, layers, _) in runs.items()}
    assert names == {"hyperfuse:fuse_gsa": "GSA fused (ratio 3)", "hyperfuse:fuse_bicubic": "Bicubic upsampling (ratio 3)",
                     "hyperfuse:fuse_mhfnet": "MHF-net fused (ratio 3, generic bundled model)"}
    for results, layers, _ in runs.values():
        expected = _nearest(results["OUTPUT"])
        assert _bands(layers["OUTPUT"].renderer()) == expected
        assert _bands(_fresh(results["OUTPUT"]).renderer()) == expected


def test_model_labels_name_the_bundled_sensor():
    from hyperfuse.algorithms.fusion import model_label
    from hyperfuse.core import registry
    from hyperfuse.core.inference import fusion

    mhfnet = registry.method("mhfnet")
    assert model_label(mhfnet, fusion.MODEL_AUTO, "mhfnet_enmap_s2_r3.pt") == "bundled EnMAP model"
    assert model_label(mhfnet, fusion.MODEL_AUTO, "mhfnet_olci_s2_r5.pt") == "bundled Sentinel-3 OLCI model"
    assert model_label(mhfnet, fusion.MODEL_AUTO, "mhfnet_generic.pt") == "generic bundled model"
    assert model_label(mhfnet, fusion.MODEL_WEIGHTS, "mine.pt") == "weights mine.pt"
    assert model_label(mhfnet, fusion.MODEL_TRAIN, "trained on the inputs") == "trained on the inputs"


def test_a_name_the_user_gave_the_destination_is_kept(processing, small_pair):
    from processing.gui.Postprocessing import handleAlgorithmResults
    from qgis.core import (QgsProcessing, QgsProcessingContext, QgsProcessingFeedback,
                           QgsProcessingOutputLayerDefinition, QgsProject)

    project, context, feedback = QgsProject(), QgsProcessingContext(), QgsProcessingFeedback()
    context.setProject(project)
    output = QgsProcessingOutputLayerDefinition(QgsProcessing.TEMPORARY_OUTPUT, project)
    output.destinationName = "my GSA"
    processing.run("hyperfuse:fuse_gsa", {"LR_HSI": small_pair["lr"], "HR_MSI": small_pair["ms"], "OUTPUT": output},
                   context=context, feedback=feedback, onFinish=handleAlgorithmResults)
    assert [layer.name() for layer in project.mapLayers().values()] == ["my GSA"]


def _write(path, values, wavelengths=None, nodata=-9999.0):
    count, rows, cols = values.shape
    with rasterio.open(path, "w", driver="GTiff", width=cols, height=rows, count=count, dtype="float32",
                       nodata=nodata, transform=rasterio.Affine(10, 0, 0, 0, -10, 0)) as dst:
        dst.write(values.astype(np.float32))
        for band, wavelength in enumerate(wavelengths or [], start=1):
            dst.update_tags(band, wavelength=str(wavelength), wavelength_units="Nanometers")


def test_a_band_with_no_valid_pixel_is_passed_over(qgis_app, tmp_path):
    from hyperfuse.algorithms.rendering import save_display_styles

    wavelengths = [470.0, 545.0, 550.0, 640.0, 650.0]
    values = np.random.default_rng(0).uniform(0.1, 0.5, (5, 20, 20))
    values[2] = -9999.0       # the band nearest 550 nm is nodata everywhere (a bad band of the inputs)
    path = str(tmp_path / "bad_band.tif")
    _write(path, values, wavelengths)
    styles = save_display_styles(path)
    assert [name.split(" (")[0] for name, _ in styles] == ["True colour"]
    assert _bands(_fresh(path).renderer()) == (4, 2, 1)


def test_rasters_without_wavelengths_or_with_one_band_keep_qgis_default(qgis_app, tmp_path):
    from hyperfuse.algorithms.rendering import save_display_styles

    values = np.random.default_rng(1).uniform(0.1, 0.5, (5, 20, 20))
    for name, array, wavelengths in (("plain.tif", values, None), ("single.tif", values[:1], [550.0])):
        path = str(tmp_path / name)
        _write(path, array, wavelengths)
        assert save_display_styles(path) == []
        assert not os.path.exists(os.path.splitext(path)[0] + ".qml")
