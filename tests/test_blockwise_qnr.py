"""QNR from strips (core/assessment/blockwise_qnr.py) equals the whole-image QNR of core/protocol/metrics.py."""
import numpy as np
import pytest
import rasterio
from hyperfuse.core.assessment import blockwise_qnr, quality
from hyperfuse.core.protocol import metrics
from hyperfuse.core.protocol.degradation import DEFAULT_MTF_GAIN, PointSpread
from hyperfuse.core.storage.raster_io import open_raster, read_raster


def _rewrite(source: str, path: str, change) -> str:
    with rasterio.open(source) as src:
        profile, data = src.profile, src.read()
        tags = [src.tags(b + 1) for b in range(src.count)]
    profile.update(nodata=-9999.0)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(change(data.copy()))
        for band, band_tags in enumerate(tags):
            dst.update_tags(band + 1, **band_tags)
    return path


def _whole_image_qnr(fused_path, lr_path, ms_path, ratio=3):
    fused, fused_valid = read_raster(open_raster(fused_path))
    lr, lr_valid = read_raster(open_raster(lr_path))
    ms, ms_valid = read_raster(open_raster(ms_path))
    return metrics.qnr(fused, fused_valid & ms_valid, lr, lr_valid, ms, ratio,
                       PointSpread.gaussian(ratio, DEFAULT_MTF_GAIN))


@pytest.fixture(scope="module")
def imperfect_pair(small_pair, tmp_path_factory):
    """A fused raster with noise, a nodata hole and a hole at an edge; an LR-HSI with a nodata line; an HR-MSI
    with a few nodata pixels."""
    folder = tmp_path_factory.mktemp("imperfect")
    rng = np.random.default_rng(8)

    def fused(data):
        data = data * (1 + 0.02 * rng.standard_normal(data.shape)).astype(np.float32)
        data[:, 20:31, 40:47] = -9999.0
        data[:, :, :4] = -9999.0
        return data

    def lr(data):
        data[:, 23, :] = -9999.0
        return data

    def ms(data):
        data[:, [3, 70, 71], [60, 2, 71]] = -9999.0
        return data

    return {"fused": _rewrite(small_pair["ref"], str(folder / "fused.tif"), fused),
            "lr": _rewrite(small_pair["lr"], str(folder / "lr.tif"), lr),
            "ms": _rewrite(small_pair["ms"], str(folder / "ms.tif"), ms)}


@pytest.mark.parametrize("strip_values", [1, 50_000, 10 ** 9])
def test_strips_give_the_whole_image_qnr(imperfect_pair, monkeypatch, strip_values):
    """From one-block strips to one strip: D_λ exactly, D_s and QNR to rounding (R̂'s moments are summed by
    strips)."""
    p = imperfect_pair
    monkeypatch.setattr(blockwise_qnr, "STRIP_VALUES", strip_values)
    strips = quality.assess_no_reference(p["fused"], p["lr"], p["ms"])
    whole = _whole_image_qnr(p["fused"], p["lr"], p["ms"])
    assert np.isfinite(whole["QNR"]) and 0.5 < whole["QNR"] < 1.0
    assert strips["D_lambda"] == whole["D_lambda"]
    assert strips["D_s"] == pytest.approx(whole["D_s"], rel=1e-9, abs=1e-12)
    assert strips["QNR"] == pytest.approx(whole["QNR"], rel=1e-9)


def test_strips_give_the_reasons_of_the_whole_image_qnr(small_pair, tmp_path):
    """An LR-HSI with nodata on every 8th row leaves no wholly valid 11 × 11 LR block: D_λ is NaN with the same
    reason either way, and D_s still comes out."""
    def striped(data):
        data[:, ::8] = -9999.0
        return data

    lr = _rewrite(small_pair["lr"], str(tmp_path / "striped.tif"), striped)
    strips = quality.assess_no_reference(small_pair["ref"], lr, small_pair["ms"])
    whole = _whole_image_qnr(small_pair["ref"], lr, small_pair["ms"])
    assert np.isnan(strips["D_lambda"]) and np.isnan(whole["D_lambda"])
    assert strips["QNR_reason"] == whole["QNR_reason"] and "11 × 11" in strips["QNR_reason"]
    assert strips["D_s"] == pytest.approx(whole["D_s"], rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("ratio, mtf_gain", [(3, 0.25), (4, 0.5), (5, 0.999), (2, 0.9)])
def test_a_strip_degrades_to_the_rows_of_the_whole_image(ratio, mtf_gain):
    """The strips' blur and decimation, edges included, also for a PSF narrower than r that starts after the LR
    pixel's first HR row (MTF gain 0.999 at r = 5)."""
    from hyperfuse.core.protocol.degradation import spatial_degrade

    rng = np.random.default_rng(ratio)
    psf = PointSpread.gaussian(ratio, mtf_gain)
    rows, cols = 10 * ratio + 2, 7 * ratio
    values, valid = rng.random((3, rows, cols)), rng.random((rows, cols)) > 0.05
    whole, footprint = spatial_degrade(values, valid, ratio, psf)
    for start, stop in ((0, 4), (4, 10)):
        first, last, source = blockwise_qnr.strip_rows(start, stop, ratio, psf, rows)
        strip = blockwise_qnr._StripDegrader(valid[first:last], source, (start * ratio - first, stop - start), ratio,
                                             psf)
        np.testing.assert_array_equal(strip.degrade(values[:, first:last]), whole[:, start:stop])
        np.testing.assert_array_equal(strip.footprint, footprint[start:stop])
