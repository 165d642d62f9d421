"""Quality assessment as a user runs it: progress, a cancel that stops it at once and leaves nothing, outputs
that exist without being asked for, RATIO inferred from the grids; and the strip-by-strip metrics against
the whole-image ones they replace."""
import json
import os
import re
import threading
import time

import numpy as np
import pytest
import rasterio
from helpers import CancelAfter
from hyperfuse.core.assessment import blockwise
from hyperfuse.core.assessment import quality as assessment
from hyperfuse.core.errors import Cancelled
from hyperfuse.core.feedback import Feedback
from hyperfuse.core.protocol import metrics
from hyperfuse.core.storage.raster_io import open_raster, read_raster
from rasterio.transform import from_origin

CANCEL_AFTER_S = 1.0
CANCEL_LATENCY_S = 2.0


@pytest.fixture(scope="module")
def processing(qgis_app):
    import processing as qgis_processing

    return qgis_processing


def _write(path, values):
    profile = dict(driver="GTiff", width=values.shape[2], height=values.shape[1], count=values.shape[0],
                   dtype="float32", transform=from_origin(365000, 5810000, 10, 10), crs="EPSG:32633")
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values)
    return path


@pytest.fixture(scope="module")
def large_pair(tmp_path_factory):
    """A 600 × 600, 200-band reference and a noisy copy (uncompressed, so writing them takes a second or two)."""
    folder = tmp_path_factory.mktemp("large")
    rng = np.random.default_rng(0)
    rows, cols, bands = 600, 600, 200
    yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float32) / 37.0
    components = np.stack([np.sin(yy + k) * np.cos(xx * (k + 1) / 3) + 1.5 for k in range(4)]).reshape(4, -1)
    reference = (rng.random((bands, 4), dtype=np.float32) * 0.2 @ components).reshape(bands, rows, cols)
    fused = reference + rng.normal(0, 0.01, reference.shape).astype(np.float32)
    return {"ref": _write(str(folder / "ref.tif"), reference), "fused": _write(str(folder / "fused.tif"), fused)}


def recording_feedback():
    """A QgsProcessingFeedback that records every progress value, and can cancel itself from another thread."""
    from qgis.core import QgsProcessingFeedback

    class Recording(QgsProcessingFeedback):
        def __init__(self):
            super().__init__()
            self.values, self.cancelled_at = [], None

        def setProgress(self, value):  # noqa: N802 (QGIS API name)
            self.values.append(value)
            super().setProgress(value)

        def cancel_now(self):
            self.cancelled_at = time.monotonic()
            self.cancel()
    return Recording()


def _outputs(folder):
    return {"OUTPUT_JSON": str(folder / "q.json"), "OUTPUT_CSV": str(folder / "bands.csv"),
            "OUTPUT_HTML": str(folder / "report.html"), "OUTPUT_SAM_MAP": str(folder / "sam.tif")}


def test_cancel_after_one_second_returns_at_once_and_writes_nothing(processing, large_pair, tmp_path):
    from qgis.core import QgsProcessingContext, QgsProcessingException

    outputs = _outputs(tmp_path)
    feedback = recording_feedback()
    timer = threading.Timer(CANCEL_AFTER_S, feedback.cancel_now)
    timer.start()
    try:
        with pytest.raises(QgsProcessingException, match="cancelled; no output was written"):
            processing.run("hyperfuse:quality_assessment", {"REFERENCE": large_pair["ref"],
                                                            "FUSED": [large_pair["fused"]], "RATIO": 4, **outputs},
                           context=QgsProcessingContext(), feedback=feedback)
        returned = time.monotonic()
    finally:
        timer.cancel()
    assert feedback.cancelled_at is not None, "the run ended before the cancel: the input is too small to test it"
    assert returned - feedback.cancelled_at < CANCEL_LATENCY_S
    assert not any(os.path.exists(path) for path in outputs.values())
    assert os.listdir(tmp_path) == []          # no temporary file either


def test_progress_increases_during_the_run(processing, small_pair, tmp_path):
    from qgis.core import QgsProcessingContext

    feedback = recording_feedback()
    processing.run("hyperfuse:quality_assessment", {
        "REFERENCE": small_pair["ref"], "FUSED": [small_pair["ref"], small_pair["ref"]],
        "LR_HSI": small_pair["lr"], "HR_MSI": small_pair["ms"], **_outputs(tmp_path)},
        context=QgsProcessingContext(), feedback=feedback)
    values = feedback.values
    assert values == sorted(values), "progress went backwards"
    assert values[-1] == pytest.approx(100.0)
    # Many steps on the way, not one jump at the end.
    assert len({round(v) for v in values if 0 < v < 100}) >= 20
    assert any(0 < v < 20 for v in values) and any(40 < v < 60 for v in values)


def test_without_output_parameters_the_report_is_written(processing, small_pair):
    result = processing.run("hyperfuse:quality_assessment", {
        "REFERENCE": small_pair["ref"], "FUSED": [small_pair["ref"]], "LR_HSI": small_pair["lr"],
        "HR_MSI": small_pair["ms"]})
    assert os.path.isfile(result["OUTPUT_HTML"]) and result["OUTPUT_HTML"].endswith(".html")
    with open(result["OUTPUT_HTML"], encoding="utf-8") as handle:
        page = handle.read()
    table = re.search(r'<table class="summary">.*?</table>', page, re.S)
    assert table and "PSNR" in table.group(0) and "QNR" in table.group(0) and table.group(0).count("<tr>") == 2
    with open(result["OUTPUT_JSON"], encoding="utf-8") as handle:
        content = json.load(handle)
    assert content["ratio"] == 3 and content["layers"][0]["PSNR"] == float("inf")    # RATIO 0 was inferred
    assert result["OUTPUT_CSV"] is None and result["OUTPUT_SAM_MAP"] is None


def test_contradicting_ratio_is_refused_and_zero_infers(processing, small_pair):
    from qgis.core import QgsProcessingException

    parameters = {"REFERENCE": small_pair["ref"], "FUSED": [small_pair["ref"]], "LR_HSI": small_pair["lr"]}
    with pytest.raises(QgsProcessingException, match=r"RATIO is 4, but the LR_HSI grid and the grid of the fused "
                                                     r"raster '.*ref\.tif' give a ratio of 3\. Set RATIO to 0 to "
                                                     r"infer it, or to 3\."):
        processing.run("hyperfuse:quality_assessment", {**parameters, "RATIO": 4})
    result = processing.run("hyperfuse:quality_assessment", {**parameters, "RATIO": 0})
    with open(result["OUTPUT_JSON"], encoding="utf-8") as handle:
        assert json.load(handle)["ratio"] == 3
    assert np.isfinite(result["ERGAS"])


def test_without_lr_hsi_ratio_zero_leaves_out_only_ergas(processing, small_pair, tmp_path):
    result = processing.run("hyperfuse:quality_assessment", {
        "REFERENCE": small_pair["ref"], "FUSED": [small_pair["ref"]],
        "OUTPUT_HTML": str(tmp_path / "r.html"), "OUTPUT_JSON": str(tmp_path / "q.json")})
    assert np.isnan(result["ERGAS"]) and result["PSNR"] == float("inf")
    with open(result["OUTPUT_JSON"], encoding="utf-8") as handle:
        layer = json.load(handle)["layers"][0]
    assert layer["ERGAS"] is None and "Set RATIO to the fusion's resolution ratio" in layer["ERGAS_reason"]
    with open(result["OUTPUT_HTML"], encoding="utf-8") as handle:
        assert "ERGAS not computed" in handle.read()


def _with_holes(path, out_path):
    """A noisy copy of ``path`` on its grid, with a few rows and a pixel of nodata."""
    with rasterio.open(path) as src:
        profile, values = src.profile, src.read()
    values = values + np.random.default_rng(2).normal(0, 0.01, values.shape).astype(np.float32)
    values[:, 20:23, 5:40] = -9999
    values[:, 60, 60] = -9999
    profile.update(dtype="float32", nodata=-9999)
    with rasterio.open(out_path, "w", **profile) as dst:
        dst.write(values)
    return out_path


@pytest.mark.parametrize("window, border", [(None, 0), (None, 4), ((7, 5, 60, 50), 3)])
def test_strips_give_the_whole_image_metrics(small_pair, tmp_path, monkeypatch, window, border):
    fused = _with_holes(small_pair["ref"], str(tmp_path / "holes.tif"))
    reference_info, fused_info = open_raster(small_pair["ref"]), open_raster(fused)
    bands = reference_info.good_bands
    ref, ref_valid = read_raster(reference_info, bands)
    est, est_valid = read_raster(fused_info, bands)
    valid = ref_valid & est_valid
    if window:
        rows, cols = slice(window[0], window[0] + window[2]), slice(window[1], window[1] + window[3])
        ref, est, valid = ref[:, rows, cols], est[:, rows, cols], valid[rows, cols]
    whole = metrics.assess(ref, est, valid, 3, border)
    # Strips of 32 rows: several strips, each SSIM halo crossing a strip boundary.
    monkeypatch.setattr(blockwise, "STRIP_VALUES", 32 * reference_info.width * len(bands))
    strips = assessment.assess_files(small_pair["ref"], fused, 3, border, window)
    for key in ("PSNR", "SAM", "ERGAS", "SSIM", "RMSE", "CC", "UIQI", "Q2n"):
        assert strips[key] == pytest.approx(whole[key], rel=1e-12, nan_ok=True), key
    np.testing.assert_equal([strips["UIQI"], strips["Q2n"]], [whole["UIQI"], whole["Q2n"]])  # same tiles, same order
    for key in ("valid_pixels", "sam_zero_norm_pixels", "zero_variance_bands", "q2n_padded_bands"):
        assert strips[key] == whole[key], key
    for key, values in whole["per_band"].items():
        np.testing.assert_allclose(strips["per_band"][key], values, rtol=1e-12, err_msg=key)


def test_q2n_covariance_from_moments_matches_the_hypercomplex_product():
    rng = np.random.default_rng(4)
    for size in (1, 2, 4, 8, 32, 256):
        a, b = rng.normal(size=(size, 300)), rng.normal(size=(size, 300))
        direct = metrics._hypercomplex_product(a, metrics._conjugate(b)).mean(axis=1)
        np.testing.assert_allclose(metrics._mean_product(a, metrics._conjugate(b)), direct, rtol=0,
                                   atol=1e-13 * np.abs(direct).max())
        given = max(1, size - size // 3)           # the components past these are zero (Q2n's band padding)
        padded_a, padded_b = np.zeros_like(a), np.zeros_like(b)
        padded_a[:given], padded_b[:given] = a[:given], b[:given]
        direct = metrics._hypercomplex_product(padded_a, metrics._conjugate(padded_b)).mean(axis=1)
        np.testing.assert_allclose(metrics._mean_product(a[:given], metrics._conjugate(b[:given]), size), direct,
                                   rtol=0, atol=1e-13 * np.abs(direct).max())


class CountingFeedback(Feedback):
    def __init__(self):
        super().__init__()
        self.checks = 0

    def is_cancelled(self) -> bool:
        self.checks += 1
        return False


def test_a_cancel_while_writing_the_outputs_leaves_none_of_them(small_pair, tmp_path):
    result = assessment.assess_layers([small_pair["ref"]], small_pair["ref"], small_pair["lr"], small_pair["ms"])
    paths = {"json": str(tmp_path / "q.json"), "csv": str(tmp_path / "b.csv"), "html": str(tmp_path / "r.html"),
             "sam_map": str(tmp_path / "sam.tif")}
    counting = CountingFeedback()
    written = assessment.write_outputs(result, paths, counting)
    assert written == paths and all(os.path.isfile(p) for p in paths.values())
    for path in paths.values():
        os.remove(path)
    for checks in (0, counting.checks // 2, counting.checks - 1):    # the last check comes after every file
        with pytest.raises(Cancelled):
            assessment.write_outputs(result, paths, CancelAfter(checks))
        assert os.listdir(tmp_path) == [], checks


def test_qnr_and_metrics_stop_at_a_cancel(small_pair):
    for run in (lambda f: assessment.assess_no_reference(small_pair["ref"], small_pair["lr"], small_pair["ms"],
                                                         feedback=f),
                lambda f: assessment.assess_files(small_pair["ref"], small_pair["ref"], 3, feedback=f)):
        counting = CountingFeedback()
        run(counting)
        assert counting.checks > 5
        with pytest.raises(Cancelled):
            run(CancelAfter(counting.checks // 2))
