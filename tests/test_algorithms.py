"""The algorithms through QGIS Processing (processing.run with a headless QgsApplication)."""
import os

import numpy as np
import pytest
import rasterio
from helpers import PROVIDER_ALGORITHMS
from hyperfuse.core import registry
from hyperfuse.core.storage.raster_io import open_raster


@pytest.fixture(scope="module")
def processing(qgis_app):
    import processing as qgis_processing

    return qgis_processing


def _feedback_cancelling_after(progress_calls):
    from qgis.core import QgsProcessingFeedback

    class Cancelling(QgsProcessingFeedback):
        def __init__(self):
            super().__init__()
            self.calls = 0
            self.progressChanged.connect(self._count)

        def _count(self, _):
            self.calls += 1
            if self.calls >= progress_calls:
                self.cancel()
    return Cancelling()


def test_provider_lists_the_algorithms(qgis_app):
    from qgis.core import QgsApplication

    provider = QgsApplication.processingRegistry().providerById("hyperfuse")
    ids = {a.id() for a in provider.algorithms()}
    assert ids == set(PROVIDER_ALGORITHMS)


def test_simulate_fuse_assess_chain(processing, tmp_path):
    from hyperfuse.core import synthetic

    scene = str(tmp_path / "scene.tif")
    synthetic.write_scene(scene, 60, 60, wavelengths_nm=np.linspace(420, 1000, 30), seed=5)
    sim = processing.run("hyperfuse:simulate_degradation", {
        "INPUT": scene, "RATIO": 4, "SRF": 0, "MTF_GAIN": 0.25, "SEED": 1,
        "OUTPUT_LR_HSI": str(tmp_path / "lr.tif"), "OUTPUT_HR_MSI": str(tmp_path / "ms.tif"),
        "OUTPUT_REFERENCE": str(tmp_path / "ref.tif")})
    lr, ms, ref = (open_raster(sim[k]) for k in ("OUTPUT_LR_HSI", "OUTPUT_HR_MSI", "OUTPUT_REFERENCE"))
    assert (ref.width, ref.height) == (60, 60) and (lr.width, lr.height) == (15, 15) and ms.count == 4
    assert lr.transform[0] == 4 * ref.transform[0] and lr.transform[2] == ref.transform[2]
    assert ms.band_names[2].startswith("B4 (66")
    fused = processing.run("hyperfuse:fuse_bicubic", {"LR_HSI": sim["OUTPUT_LR_HSI"], "HR_MSI": sim["OUTPUT_HR_MSI"],
                                                      "OUTPUT": str(tmp_path / "bicubic.tif")})
    quality = processing.run("hyperfuse:quality_assessment", {
        "REFERENCE": sim["OUTPUT_REFERENCE"], "FUSED": fused["OUTPUT"], "RATIO": 4,
        "OUTPUT_JSON": str(tmp_path / "q.json")})
    for key in ("PSNR", "SAM", "ERGAS", "SSIM", "RMSE"):
        assert np.isfinite(quality[key])
    assert 15 < quality["PSNR"] < 60 and os.path.exists(quality["OUTPUT_JSON"])


def test_output_compression_reaches_the_file(processing, small_pair, tmp_path):
    """OUTPUT_COMPRESSION of a classical and a network fusion: zstd by default, deflate when chosen (index 1),
    and the values do not depend on it."""
    values = {}
    for algorithm, extra in (("fuse_bicubic", {}), ("fuse_deepsen3", {"MODEL": 2, "TRAIN_STEPS": 2})):
        for compression in (None, 1):
            output = str(tmp_path / f"{algorithm}_{compression}.tif")
            chosen = {} if compression is None else {"OUTPUT_COMPRESSION": compression}
            processing.run(f"hyperfuse:{algorithm}", {"LR_HSI": small_pair["lr"], "HR_MSI": small_pair["ms"],
                                                      "OUTPUT": output, "BLOCK_SIZE": 36, **extra, **chosen})
            with rasterio.open(output) as src:
                assert src.tags(ns="IMAGE_STRUCTURE")["COMPRESSION"] == ("ZSTD" if compression is None
                                                                         else "DEFLATE"), algorithm
                values[compression] = src.read()
        assert np.array_equal(values[None], values[1]), algorithm


def test_grid_errors_reach_the_user(processing, small_pair, tmp_path):
    from qgis.core import QgsProcessingException

    shifted = str(tmp_path / "shifted.tif")
    with rasterio.open(small_pair["ms"]) as src:
        profile = src.profile
        a, b, c, d, e, f = tuple(src.transform)[:6]
        profile["transform"] = rasterio.Affine(a, b, c + 0.5 * a, d, e, f)
        with rasterio.open(shifted, "w", **profile) as dst:
            dst.write(src.read())
    with pytest.raises(QgsProcessingException, match="offset from the HR-MSI grid.*gdalwarp"):
        processing.run("hyperfuse:fuse_deepsen3", {"LR_HSI": small_pair["lr"], "HR_MSI": shifted, "MODEL": 2,
                                                   "TRAIN_STEPS": 1, "OUTPUT": str(tmp_path / "out.tif")})
    assert not os.path.exists(str(tmp_path / "out.tif"))


def test_weights_file_mode_without_a_file_is_explained(processing, small_pair, tmp_path):
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match="no WEIGHTS file was given"):
        processing.run("hyperfuse:fuse_deepsen3", {"LR_HSI": small_pair["lr"], "HR_MSI": small_pair["ms"],
                                                   "MODEL": 1, "OUTPUT": str(tmp_path / "out.tif")})


def test_cancelled_fusion_leaves_no_output(processing, small_pair, tmp_path):
    from qgis.core import QgsProcessingContext, QgsProcessingException

    out = str(tmp_path / "out.tif")
    feedback = _feedback_cancelling_after(3)
    with pytest.raises(QgsProcessingException, match="cancelled; no output was written"):
        processing.run("hyperfuse:fuse_deepsen3", {"LR_HSI": small_pair["lr"], "HR_MSI": small_pair["ms"],
                                                   "MODEL": 2, "TRAIN_STEPS": 40, "OUTPUT": out,
                                                   "OUTPUT_WEIGHTS": str(tmp_path / "w.pt")},
                       context=QgsProcessingContext(), feedback=feedback)
    assert feedback.isCanceled() and os.listdir(tmp_path) == []


def test_input_files_are_read_without_loading_them_as_qgis_layers(processing, small_pair, tmp_path):
    """A path is read through GDAL as given: loading it as a layer would decode it for the default style's
    statistics. A layer of the project is read from its file, to the same result."""
    from qgis.core import QgsProcessingContext, QgsProject, QgsRasterLayer

    inputs = {os.path.abspath(small_pair["lr"]), os.path.abspath(small_pair["ms"])}
    context = QgsProcessingContext()
    by_path = processing.run("hyperfuse:fuse_bicubic", {"LR_HSI": small_pair["lr"], "HR_MSI": small_pair["ms"],
                                                        "OUTPUT": str(tmp_path / "by_path.tif")}, context=context)
    quality = processing.run("hyperfuse:quality_assessment", {
        "REFERENCE": by_path["OUTPUT"], "FUSED": [by_path["OUTPUT"], by_path["OUTPUT"]], "LR_HSI": small_pair["lr"],
        "HR_MSI": small_pair["ms"], "OUTPUT_JSON": str(tmp_path / "q.json")}, context=context)
    loaded = {os.path.abspath(layer.source().split("|")[0])
              for layer in context.temporaryLayerStore().mapLayers().values()}
    assert not loaded & (inputs | {os.path.abspath(by_path["OUTPUT"])})
    assert quality["PSNR"] == float("inf") and 0.5 < quality["QNR"] <= 1
    layers = [QgsRasterLayer(small_pair[key], key) for key in ("lr", "ms")]
    QgsProject.instance().addMapLayers(layers)
    try:
        by_layer = processing.run("hyperfuse:fuse_bicubic", {"LR_HSI": layers[0].id(), "HR_MSI": layers[1],
                                                             "OUTPUT": str(tmp_path / "by_layer.tif")})
    finally:
        QgsProject.instance().removeMapLayers([layer.id() for layer in layers])
    with rasterio.open(by_path["OUTPUT"]) as first, rasterio.open(by_layer["OUTPUT"]) as second:
        np.testing.assert_array_equal(first.read(), second.read())


def test_every_algorithm_has_its_own_svg_icon(qgis_app):
    from qgis.core import QgsApplication
    from qgis.PyQt.QtSvg import QSvgRenderer

    provider = QgsApplication.processingRegistry().providerById("hyperfuse")
    icons = {}
    for algorithm in provider.algorithms():
        path = algorithm.svgIconPath()
        assert os.path.isfile(path) and QSvgRenderer(path).isValid(), (algorithm.id(), path)
        assert not algorithm.icon().isNull()
        icons.setdefault(os.path.basename(path), []).append(algorithm.id())
    # One picture per kind: networks, classical methods, simulation, assessment, training, tools, the model.
    assert len(icons) == 7
    assert sorted(icons["classical.svg"]) == sorted(f"hyperfuse:fuse_{m}" for m in registry.CLASSICAL_METHODS)
