"""Classical baselines (core/classical): quality, nodata, tiling, size limits, and their algorithms."""
import numpy as np
import pytest
import rasterio
from hyperfuse.core import registry, synthetic
from hyperfuse.core.classical import cnmf, hysure
from hyperfuse.core.classical.run import fuse_classical
from hyperfuse.core.errors import UserInputError
from hyperfuse.core.feedback import Feedback
from hyperfuse.core.inference.tiling import lr_mask_on_hr
from hyperfuse.core.protocol import metrics
from hyperfuse.core.protocol.degradation import PointSpread, spatial_degrade, spectral_degrade
from hyperfuse.core.protocol.grids import open_pair, read_common_area
from hyperfuse.core.protocol.srf import preset, response_matrix
from hyperfuse.core.storage.raster_io import open_raster, read_raster

RATIO = 3
BASELINES = [("gsa", {}), ("glp", {"lowpass": "mtf"}), ("glp", {"lowpass": "box"}), ("cnmf", {}), ("hysure", {})]
IDS = ["gsa", "glp-mtf", "glp-box (SFIM)", "cnmf", "hysure"]


@pytest.fixture(scope="module")
def scene():
    """A 60 × 60 generated scene with 40 bands and its LR-HSI / HR-MSI at ratio 3 (PROTOCOL.md)."""
    wavelengths = np.linspace(420, 1000, 40)
    reference = synthetic.generate_scene(60, 60, wavelengths, seed=7)
    valid = np.ones(reference.shape[1:], dtype=bool)
    lr, lr_valid = spatial_degrade(reference, valid, RATIO, PointSpread.gaussian(RATIO, 0.25))
    matrix = response_matrix(preset("s2a_10m").load(), wavelengths, 1.1 * np.gradient(wavelengths))
    return reference, lr, lr_valid, spectral_degrade(reference, matrix), valid.copy()


def _psnr(reference, estimate):
    return metrics.assess(reference, estimate, np.ones(reference.shape[1:], dtype=bool), RATIO)["PSNR"]


def test_registry_entries():
    assert list(registry.CLASSICAL_METHODS) == ["bicubic", "gsa", "glp", "cnmf", "hysure"]
    for method in registry.CLASSICAL_METHODS.values():
        assert method.paper and method.summary and callable(method.predict)
        if method.tiled:
            assert method.max_pixels is None and method.receptive_field(RATIO) >= 2 * RATIO
        else:
            assert method.max_pixels >= 1024 * 1024


@pytest.mark.parametrize("method_id,options", BASELINES, ids=IDS)
def test_baseline_beats_bicubic(scene, method_id, options):
    reference, lr, lr_valid, ms, ms_valid = scene
    method = registry.method(method_id)
    fused = method.predict(lr, lr_valid, ms, ms_valid, RATIO, **{**method.defaults, **options})
    assert fused.shape == reference.shape and fused.dtype == np.float32
    bicubic = registry.method("bicubic").predict(lr, lr_valid, ms, ms_valid, RATIO)
    assert _psnr(reference, fused) > _psnr(reference, bicubic) + 3


@pytest.mark.parametrize("method_id,options", BASELINES, ids=IDS)
def test_invalid_pixels_never_leak(scene, method_id, options):
    reference, lr, lr_valid, ms, ms_valid = scene
    lr, lr_valid, ms, ms_valid = lr.copy(), lr_valid.copy(), ms.copy(), ms_valid.copy()
    lr_valid[2:5, 3:9] = False
    lr[:, ~lr_valid] = np.nan
    lr_valid[15, 15] = False
    lr[:, 15, 15] = 1e30
    ms_valid[40:52, 30:41] = False
    ms[:, ~ms_valid] = np.nan
    ms_valid[:, 0] = False
    ms[:, :, 0] = -1e30
    method = registry.method(method_id)
    fused = method.predict(lr, lr_valid, ms, ms_valid, RATIO, **{**method.defaults, **options})
    valid = ms_valid & lr_mask_on_hr(lr_valid, RATIO)
    assert np.isfinite(fused[:, valid]).all()
    assert np.abs(fused[:, valid]).max() < 10 * np.abs(reference).max()


@pytest.mark.parametrize("module,name", [(cnmf, "CNMF"), (hysure, "HySure")])
def test_whole_image_predict_refuses_arrays_beyond_its_limit(module, name, scene, monkeypatch):
    monkeypatch.setattr(module, "MAX_PIXELS", 1000)
    assert registry.method(name.lower()).max_pixels == 1000
    reference, lr, lr_valid, ms, ms_valid = scene
    with pytest.raises(UserInputError, match=rf"{name} processes the whole image at once and handles at most 1,000 "
                                             r"HR pixels .*3,600.*fuse_classical.*overlapping blocks"):
        module.predict(lr, lr_valid, ms, ms_valid, RATIO)


@pytest.fixture(scope="module")
def wide_pair(tmp_path_factory):
    """A 192 × 192 generated scene (40 bands) and its simulated inputs at ratio 3."""
    from hyperfuse.core.protocol import simulation, srf

    folder = tmp_path_factory.mktemp("wide")
    paths = {k: str(folder / f"{k}.tif") for k in ("scene", "lr", "ms", "ref")}
    synthetic.write_scene(paths["scene"], 192, 192, wavelengths_nm=np.linspace(420, 1000, 40), seed=11)
    simulation.simulate(paths["scene"], simulation.SimulationSettings(ratio=RATIO, srf=preset("s2a_10m").load()),
                        paths["lr"], paths["ms"], paths["ref"])
    return paths


@pytest.mark.parametrize("module,settings", [(cnmf, {"inner": 40}), (hysure, {"iterations": 100})],
                         ids=["cnmf", "hysure"])
def test_areas_beyond_the_limit_are_fused_in_overlapping_blocks(module, settings, wide_pair, tmp_path, monkeypatch):
    from hyperfuse.core.assessment import quality as assessment

    method = registry.method(module.__name__.rsplit(".", 1)[1])
    whole = fuse_classical(method, wide_pair["lr"], wide_pair["ms"], str(tmp_path / "whole.tif"), **settings)
    monkeypatch.setattr(module, "MAX_PIXELS", 144 * 144)
    messages = []
    feedback = Feedback()
    feedback.info = messages.append
    blocks = fuse_classical(method, wide_pair["lr"], wide_pair["ms"], str(tmp_path / "blocks.tif"),
                            feedback=feedback, **settings)
    assert whole.blocks == 1 and blocks.blocks == 4        # blocks of 96² with 24 pixels of overlap: 144² windows
    assert any("overlapping blocks" in message for message in messages)
    scores = {name: assessment.assess_files(wide_pair["ref"], str(tmp_path / f"{name}.tif"), RATIO)["PSNR"]
              for name in ("whole", "blocks")}
    bicubic = registry.method("bicubic")
    fuse_classical(bicubic, wide_pair["lr"], wide_pair["ms"], str(tmp_path / "bicubic.tif"))
    baseline = assessment.assess_files(wide_pair["ref"], str(tmp_path / "bicubic.tif"), RATIO)["PSNR"]
    assert scores["blocks"] > scores["whole"] - 0.5 and scores["blocks"] > baseline + 3, (scores, baseline)
    with rasterio.open(tmp_path / "blocks.tif") as fused, rasterio.open(wide_pair["ms"]) as ms:
        assert fused.transform == ms.transform and fused.crs == ms.crs and fused.count == 40
    with pytest.raises(UserInputError, match=r"BLOCK_SIZE 144 gives blocks of up to 28,224 HR pixels with their "
                                             r"halo of 24, and this method fuses at most 20,736 at once. Set "
                                             r"BLOCK_SIZE to 0"):
        fuse_classical(method, wide_pair["lr"], wide_pair["ms"], str(tmp_path / "big.tif"), block_size=144,
                       **settings)
    assert not (tmp_path / "big.tif").exists()


@pytest.fixture(scope="module")
def pair_with_nodata(small_pair, tmp_path_factory):
    """The small pair with a few nodata pixels in both inputs."""
    folder = tmp_path_factory.mktemp("nodata")
    paths = {}
    for key, window in (("lr", (slice(4, 7), slice(9, 12))), ("ms", (slice(50, 58), slice(3, 9)))):
        with rasterio.open(small_pair[key]) as src:
            profile, data = src.profile, src.read()
        data[:, window[0], window[1]] = profile["nodata"]
        paths[key] = str(folder / f"{key}.tif")
        with rasterio.open(paths[key], "w", **profile) as dst:
            dst.write(data)
    return paths


@pytest.mark.parametrize("method_id,options", [("gsa", {}), ("glp", {"lowpass": "mtf"}), ("glp", {"lowpass": "box"}),
                                                ("glp", {"mtf_gain": 0.0}), ("bicubic", {})],
                         ids=["gsa", "glp-mtf", "glp-box", "glp-estimated-psf", "bicubic"])
def test_tiled_equals_whole_image(pair_with_nodata, tmp_path, method_id, options):
    method = registry.method(method_id)
    output = str(tmp_path / "tiled.tif")
    result = fuse_classical(method, pair_with_nodata["lr"], pair_with_nodata["ms"], output, block_size=24, **options)
    assert result.blocks == 9
    lr, hr, pair = open_pair(pair_with_nodata["lr"], pair_with_nodata["ms"])
    lr_values, lr_valid, hr_values, hr_valid = read_common_area(lr, hr, pair)
    whole = method.predict(lr_values, lr_valid, hr_values, hr_valid, RATIO, **{**method.defaults, **options})
    tiled, tiled_valid = read_raster(open_raster(output))
    expected_valid = hr_valid & lr_mask_on_hr(lr_valid, RATIO)
    assert np.array_equal(tiled_valid, expected_valid) and not expected_valid.all()
    assert np.abs(tiled[:, expected_valid] - whole[:, expected_valid]).max() < 1e-4


@pytest.fixture(scope="module")
def processing(qgis_app):
    import processing as qgis_processing

    return qgis_processing


def test_algorithms_document_every_parameter(qgis_app):
    from qgis.core import QgsApplication

    registry = QgsApplication.processingRegistry()
    for algorithm_id in ("fuse_gsa", "fuse_glp", "fuse_cnmf", "fuse_hysure", "estimate_responses"):
        algorithm = registry.algorithmById(f"hyperfuse:{algorithm_id}")
        assert algorithm is not None, algorithm_id
        for parameter in algorithm.parameterDefinitions():
            assert len(algorithm.PARAMETER_HELP.get(parameter.name(), "")) > 20, (algorithm_id, parameter.name())
    assert registry.algorithmById("hyperfuse:fuse_glp").group() == "Fusion"


def test_fusion_algorithms_through_processing(processing, small_pair, tmp_path):
    from hyperfuse.core.assessment import quality as assessment

    scores = {}
    runs = (("fuse_bicubic", {}), ("fuse_glp", {"LOWPASS": 1}), ("fuse_cnmf", {"INNER_ITERATIONS": 50}))
    for algorithm, extra in runs:
        result = processing.run(f"hyperfuse:{algorithm}", {"LR_HSI": small_pair["lr"], "HR_MSI": small_pair["ms"],
                                                            "OUTPUT": str(tmp_path / f"{algorithm}.tif"), **extra})
        fused = open_raster(result["OUTPUT"])
        assert fused.count == 40 and fused.wavelengths_nm is not None
        scores[algorithm] = assessment.assess_files(small_pair["ref"], result["OUTPUT"], RATIO)["PSNR"]
    assert scores["fuse_glp"] > scores["fuse_bicubic"] and scores["fuse_cnmf"] > scores["fuse_bicubic"]


@pytest.mark.parametrize("module,settings", [(cnmf, {"inner": 20}), (hysure, {"iterations": 20})],
                         ids=["cnmf", "hysure"])
def test_a_block_without_valid_pixels_is_nodata(module, settings, wide_pair, tmp_path, monkeypatch):
    # The LR-HSI is nodata over the first block and its overlap (HR 0–120), as at a swath's edge.
    with rasterio.open(wide_pair["lr"]) as src:
        profile, data = src.profile, src.read()
    data[:, :40, :40] = profile["nodata"]
    lr = str(tmp_path / "lr.tif")
    with rasterio.open(lr, "w", **profile) as dst:
        dst.write(data)
    monkeypatch.setattr(module, "MAX_PIXELS", 144 * 144)
    method = registry.method(module.__name__.rsplit(".", 1)[1])
    result = fuse_classical(method, lr, wide_pair["ms"], str(tmp_path / "out.tif"), **settings)
    fused, valid = read_raster(open_raster(str(tmp_path / "out.tif")))
    assert result.blocks == 4 and not valid[:120, :120].any() and valid[120:, :].all() and valid[:, 120:].all()
    assert np.isfinite(fused[:, valid]).all() and fused[:, valid].min() > -1


def test_a_cancel_stops_a_block_of_a_whole_image_method(wide_pair, tmp_path, monkeypatch):
    from hyperfuse.core.errors import Cancelled

    monkeypatch.setattr(cnmf, "MAX_PIXELS", 144 * 144)

    class CancelledSoon(Feedback):
        checks = 0

        def is_cancelled(self):
            # The run checks once before and once per block (four here): the sixth check is inside a block.
            self.checks += 1
            return self.checks > 5

    feedback = CancelledSoon()
    with pytest.raises(Cancelled):
        fuse_classical("cnmf", wide_pair["lr"], wide_pair["ms"], str(tmp_path / "out.tif"), feedback=feedback,
                       inner=2000)
    assert feedback.last_progress == 0.0 and not (tmp_path / "out.tif").exists()
    assert not [name for name in tmp_path.iterdir()]


def test_whole_image_limit_reaches_the_user(processing, small_pair, tmp_path, monkeypatch):
    from qgis.core import QgsProcessingException

    monkeypatch.setattr(hysure, "MAX_PIXELS", 4000)
    with pytest.raises(QgsProcessingException, match="BLOCK_SIZE 48 gives blocks of up to 5,184 HR pixels with their "
                                                     "halo of 24, and this method fuses at most 4,000 at once"):
        processing.run("hyperfuse:fuse_hysure", {"LR_HSI": small_pair["lr"], "HR_MSI": small_pair["ms"],
                                                 "BLOCK_SIZE": 48, "OUTPUT": str(tmp_path / "hysure.tif")})
    assert not (tmp_path / "hysure.tif").exists()


def test_estimated_responses_feed_simulation_and_fusion(processing, small_pair, tmp_path):
    from hyperfuse.core.protocol import srf

    estimate = processing.run("hyperfuse:estimate_responses", {
        "LR_HSI": small_pair["lr"], "HR_MSI": small_pair["ms"], "OUTPUT_SRF": str(tmp_path / "r.csv"),
        "OUTPUT_JSON": str(tmp_path / "r.json")})
    assert abs(estimate["SIGMA"] - 1.59) < 0.16 and abs(estimate["MTF_GAIN"] - 0.25) < 0.05
    simulated = processing.run("hyperfuse:simulate_degradation", {
        "INPUT": small_pair["ref"], "RATIO": 3, "SRF": srf.PRESETS.index(srf.preset("csv_file")),
        "SRF_FILE": estimate["OUTPUT_SRF"], "MTF_GAIN": estimate["MTF_GAIN"],
        "OUTPUT_LR_HSI": str(tmp_path / "lr.tif"), "OUTPUT_HR_MSI": str(tmp_path / "ms.tif"),
        "OUTPUT_REFERENCE": str(tmp_path / "ref.tif")})
    assert open_raster(simulated["OUTPUT_HR_MSI"]).count == 4
    fused = processing.run("hyperfuse:fuse_gsa", {"LR_HSI": small_pair["lr"], "HR_MSI": small_pair["ms"],
                                                  "SRF_FILE": estimate["OUTPUT_SRF"],
                                                  "OUTPUT": str(tmp_path / "gsa.tif")})
    assert open_raster(fused["OUTPUT"]).count == 40
