"""QNR: the regularised R̂ ranks fusions by their quality, the reason when an index cannot be
computed (JSON, HTML report, algorithm log), and a RATIO that contradicts the grids."""
import json

import numpy as np
import pytest
import rasterio
from helpers import shared_scene
from hyperfuse.core import synthetic
from hyperfuse.core.assessment import quality as assessment
from hyperfuse.core.classical.run import fuse_classical
from hyperfuse.core.errors import UserInputError
from hyperfuse.core.protocol import metrics, simulation, srf
from hyperfuse.core.protocol.degradation import DEFAULT_MTF_GAIN, PointSpread, spatial_degrade
from hyperfuse.core.storage.raster_io import open_raster, read_raster


def _simulate_and_fuse(scene: str, folder, **noise) -> dict:
    paths = {k: str(folder / f"{k}.tif") for k in ("lr", "ms", "ref", "gsa", "bicubic")}
    settings = simulation.SimulationSettings(ratio=3, srf=srf.preset("s2a_10m").load(), seed=1, **noise)
    simulation.simulate(scene, settings, paths["lr"], paths["ms"], paths["ref"])
    for method in ("gsa", "bicubic"):
        fuse_classical(method, paths["lr"], paths["ms"], paths[method])
    return paths


@pytest.fixture(scope="module")
def noisy_ms_pair(tmp_path_factory):
    """A low-rank scene whose HR-MSI has 35 dB noise: the case where plain least squares gave
    GSA (39 dB) a QNR of −0.0001, below bicubic (24 dB)."""
    folder = tmp_path_factory.mktemp("noisy_ms")
    scene = str(folder / "scene.tif")
    synthetic.write_scene(scene, 72, 72, wavelengths_nm=np.linspace(420, 1000, 40), seed=3)
    return _simulate_and_fuse(scene, folder, snr_ms=35.0)


def test_qnr_ranks_gsa_above_bicubic_when_gsa_is_more_than_5_db_better(noisy_ms_pair):
    p = noisy_ms_pair
    result = assessment.assess_layers([p["gsa"], p["bicubic"]], p["ref"], p["lr"], p["ms"], ratio=0)
    gsa, cubic = result["layers"]
    assert gsa["PSNR"] - cubic["PSNR"] > 5.0
    assert result["ranking"]["QNR"] == [1, 2] and result["ranking"]["PSNR"] == [1, 2]
    assert gsa["QNR"] > 0.99 and cubic["QNR"] < 0.95
    assert not any(key.endswith("_reason") for key in (*gsa, *cubic))


def test_response_fit_ignores_a_wild_pixel(small_pair):
    lr, lr_valid = read_raster(open_raster(small_pair["lr"]))
    ms, ms_valid = read_raster(open_raster(small_pair["ms"]))
    ms_low, _ = spatial_degrade(ms, ms_valid, 3, PointSpread.gaussian(3, DEFAULT_MTF_GAIN))
    z, y = lr[:, lr_valid], ms_low[:, lr_valid]
    clean = metrics.estimate_response(z, y)
    wild = z.copy()
    wild[:, 100] *= 1000.0                     # a corrupted LR pixel the HR-MSI does not confirm
    fitted = metrics.estimate_response(wild, y)
    assert np.abs(fitted @ z - y).max() < 1e-3 * np.abs(y).max()
    assert np.abs(fitted @ z - clean @ z).max() < 1e-4 * np.abs(y).max()


def test_enmap_with_nodata_blocks_gets_a_number(tmp_path):
    """The LR-HSI simulated from the EnMAP scene is 42 × 42 with a quarter nodata: D_λ used to need
    a wholly valid 32 × 32 block of LR pixels, had none, and came out NaN without a word."""
    paths = _simulate_and_fuse(shared_scene("enmap_potsdam.tif"), tmp_path)
    _, lr_valid = read_raster(open_raster(paths["lr"]))
    assert lr_valid.shape == (42, 42) and 0.6 < lr_valid.mean() < 0.8
    gsa, cubic = (assessment.assess_no_reference(paths[m], paths["lr"], paths["ms"]) for m in ("gsa", "bicubic"))
    for result in (gsa, cubic):
        assert all(np.isfinite(result[k]) for k in ("QNR", "D_lambda", "D_s")), result
        assert not any(key.endswith("_reason") for key in result)
    assert gsa["QNR"] > cubic["QNR"]


@pytest.fixture(scope="module")
def arrays(small_pair):
    fused, fused_valid = read_raster(open_raster(small_pair["ref"]))
    lr, lr_valid = read_raster(open_raster(small_pair["lr"]))
    ms, _ = read_raster(open_raster(small_pair["ms"]))
    return fused, fused_valid, lr, lr_valid, ms


def _qnr(fused, fused_valid, lr, lr_valid, ms):
    return metrics.qnr(fused, fused_valid, lr, lr_valid, ms, 3, PointSpread.gaussian(3, DEFAULT_MTF_GAIN))


def test_no_overlap_is_stated(arrays):
    fused, fused_valid, lr, lr_valid, ms = arrays
    result = _qnr(fused, np.zeros_like(fused_valid), lr, lr_valid, ms)
    assert all(np.isnan(result[k]) for k in ("QNR", "D_lambda", "D_s"))
    assert result["QNR_reason"].startswith("QNR not computed: the LR-HSI and HR-MSI do not overlap the fused "
                                           "raster's valid pixels")


def test_lr_nodata_stripes_leave_d_s_and_state_why_d_lambda_is_missing(arrays):
    fused, fused_valid, lr, lr_valid, ms = arrays
    striped = lr_valid.copy()
    striped[::8] = False                       # no 11 × 11 LR block is wholly valid
    result = _qnr(fused, fused_valid, lr, striped, ms)
    assert np.isnan(result["QNR"]) and np.isnan(result["D_lambda"]) and result["D_s"] < 1e-5
    assert result["D_lambda_reason"] == ("D_λ not computed: no 11 × 11 block of LR pixels (33 × 33 fused pixels) is "
                                         "wholly valid in both the LR-HSI and the fused raster.")
    assert result["QNR_reason"].endswith("fused raster, so D_λ is undefined.") and "D_s_reason" not in result


def test_too_few_pixels_for_the_response_is_stated(arrays):
    fused, fused_valid, lr, lr_valid, ms = arrays
    corner = np.zeros_like(lr_valid)
    corner[:4, :4] = True
    result = _qnr(fused, fused_valid, lr, corner, ms)
    assert result["D_s_reason"] == ("D_s not computed: fewer than 25 valid LR pixels (16) to estimate the spectral "
                                    "response that links the LR-HSI to the HR-MSI.")
    assert "so D_λ is undefined; fewer than 25 valid LR pixels (16)" in result["QNR_reason"]


def _with_lr_stripes(lr_path, out_path):
    with rasterio.open(lr_path) as src:
        profile, data = src.profile, src.read()
        tags = [src.tags(b + 1) for b in range(src.count)]
    data[:, ::8] = -9999.0
    profile.update(nodata=-9999.0)
    with rasterio.open(out_path, "w", **profile) as dst:
        dst.write(data)
        for band, band_tags in enumerate(tags):
            dst.update_tags(band + 1, **band_tags)
    return out_path


def test_reason_reaches_the_json_the_report_and_the_log(qgis_app, small_pair, tmp_path):
    import processing
    from qgis.core import QgsProcessingFeedback

    lr = _with_lr_stripes(small_pair["lr"], str(tmp_path / "lr_striped.tif"))
    feedback = QgsProcessingFeedback()
    result = processing.run("hyperfuse:quality_assessment", {
        "FUSED": [small_pair["ref"]], "LR_HSI": lr, "HR_MSI": small_pair["ms"], "RATIO": 0,
        "OUTPUT_JSON": str(tmp_path / "q.json"), "OUTPUT_HTML": str(tmp_path / "q.html")}, feedback=feedback)
    expected = "QNR not computed: no 11 × 11 block of LR pixels"
    with open(result["OUTPUT_JSON"], encoding="utf-8") as handle:
        layer = json.load(handle)["layers"][0]
    assert layer["QNR"] is None and layer["D_lambda"] is None and layer["D_s"] < 1e-5
    assert layer["QNR_reason"].startswith(expected) and layer["D_lambda_reason"].startswith("D_λ not computed")
    with open(result["OUTPUT_HTML"], encoding="utf-8") as handle:
        page = handle.read()
    assert "not computed" in page and expected in page and "n/a" not in page
    assert expected in feedback.textLog()


def test_ratio_that_contradicts_the_grids_is_refused(small_pair):
    with pytest.raises(UserInputError, match=r"RATIO is 4, but the LR_HSI and HR_MSI grids give a ratio of 3\. "
                                             r"Set RATIO to 0 to infer it"):
        assessment.assess_layers([small_pair["ref"]], small_pair["ref"], small_pair["lr"], small_pair["ms"], ratio=4)
    with pytest.raises(UserInputError, match=r"RATIO is 2, but the LR_HSI grid and the grid of the fused raster "
                                             r"'.*ref\.tif' give a ratio of 3\. Set RATIO to 0 to infer it"):
        assessment.assess_layers([small_pair["ref"]], small_pair["ref"], lr_path=small_pair["lr"], ratio=2)
    assert assessment.assess_layers([small_pair["ref"]], small_pair["ref"], lr_path=small_pair["lr"])["ratio"] == 3
    assert assessment.assess_layers([small_pair["ref"]], small_pair["ref"], small_pair["lr"], small_pair["ms"],
                                    ratio=3)["ratio"] == 3


def test_contradicting_ratio_reaches_the_user(qgis_app, small_pair):
    import processing
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match="RATIO is 2, but the LR_HSI and HR_MSI grids give a ratio of 3"):
        processing.run("hyperfuse:quality_assessment", {"REFERENCE": small_pair["ref"], "FUSED": [small_pair["ref"]],
                                                        "LR_HSI": small_pair["lr"], "HR_MSI": small_pair["ms"],
                                                        "RATIO": 2})
