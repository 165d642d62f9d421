"""Quality assessment from files: scales, nodata, grids, ranking, report, QNR."""
import re

import numpy as np
import pytest
import rasterio
from hyperfuse.core.assessment import quality as assessment
from hyperfuse.core.errors import UserInputError
from hyperfuse.core.protocol import metrics
from hyperfuse.core.protocol.upsample import bicubic
from hyperfuse.core.storage.raster_io import open_raster, read_raster, write_raster


def _copy(src_path, dst_path, transform_values=None, **profile_changes):
    with rasterio.open(src_path) as src:
        profile, data = src.profile, src.read()
        tags = [src.tags(b + 1) for b in range(src.count)]
    profile.update(profile_changes)
    if transform_values is not None:
        data = transform_values(data)
    with rasterio.open(dst_path, "w", **profile) as dst:
        dst.write(data.astype(profile["dtype"]))
        for b, t in enumerate(tags):
            dst.update_tags(b + 1, **t)
    return dst_path


@pytest.fixture(scope="module")
def bicubic_fused(small_pair, tmp_path_factory):
    lr_info, ref_info = open_raster(small_pair["lr"]), open_raster(small_pair["ref"])
    lr, _ = read_raster(lr_info)
    path = str(tmp_path_factory.mktemp("fused") / "bicubic.tif")
    write_raster(path, bicubic(lr, 3), ref_info.transform, ref_info.crs_wkt, band_tags=[{}] * lr.shape[0])
    return path


def test_integer_rasters_with_scale_and_offset_match_float(small_pair, bicubic_fused, tmp_path):
    reference = assessment.assess_files(small_pair["ref"], bicubic_fused, 3)
    for dtype, scale, offset in (("uint16", 1e-5, 0.0), ("int16", 2e-5, -0.1)):
        def to_counts(data, scale=scale, offset=offset):
            return np.round((data - offset) / scale)
        ref_int = _copy(small_pair["ref"], str(tmp_path / f"ref_{dtype}.tif"), to_counts, dtype=dtype, nodata=None)
        fused_int = _copy(bicubic_fused, str(tmp_path / f"fused_{dtype}.tif"), to_counts, dtype=dtype, nodata=None)
        for path in (ref_int, fused_int):
            with rasterio.open(path, "r+") as dst:
                dst.scales = [scale] * dst.count
                dst.offsets = [offset] * dst.count
        result = assessment.assess_files(ref_int, fused_int, 3)
        for key in ("PSNR", "SAM", "ERGAS", "SSIM", "CC"):
            assert result[key] == pytest.approx(reference[key], rel=2e-3), (dtype, key)


def test_all_invalid_band_is_excluded_and_reported(small_pair, bicubic_fused, tmp_path):
    def blank_band(data):
        data = data.copy()
        data[3] = -9999
        return data
    fused = _copy(bicubic_fused, str(tmp_path / "blank.tif"), blank_band, nodata=-9999)
    result = assessment.assess_files(small_pair["ref"], fused, 3)
    assert result["bands_excluded"] == [4] and 4 not in result["bands_used"]
    assert np.isfinite(result["PSNR"])


def test_different_grids_fail_clearly(small_pair, bicubic_fused, tmp_path):
    with rasterio.open(bicubic_fused) as src:
        a, b, c, d, e, f = tuple(src.transform)[:6]
    shifted = _copy(bicubic_fused, str(tmp_path / "shifted.tif"), transform=rasterio.Affine(a, b, c + a, d, e, f))
    with pytest.raises(UserInputError, match="is not on the reference grid: geotransform"):
        assessment.assess_files(small_pair["ref"], shifted, 3)


def test_uiqi_against_a_hand_computed_block():
    rng = np.random.default_rng(0)
    x, y = rng.random((16, 16)) + 0.5, rng.random((16, 16)) + 0.5
    q = (4 * np.cov(x.ravel(), y.ravel(), bias=True)[0, 1] * x.mean() * y.mean()
         / ((x.var() + y.var()) * (x.mean() ** 2 + y.mean() ** 2)))
    assert metrics.uiqi_band(x, y, np.ones((16, 16), bool)) == pytest.approx(q)
    assert metrics.uiqi_band(x, x, np.ones((16, 16), bool)) == pytest.approx(1.0)


def test_qnr_is_one_for_a_perfect_fusion_and_drops_for_blur(small_pair, bicubic_fused):
    perfect = assessment.assess_no_reference(small_pair["ref"], small_pair["lr"], small_pair["ms"])
    assert perfect["QNR"] == pytest.approx(1.0, abs=1e-6)
    blurred = assessment.assess_no_reference(bicubic_fused, small_pair["lr"], small_pair["ms"])
    assert blurred["QNR"] == pytest.approx(0.90, abs=0.01) and blurred["D_s"] > 0.01


def test_three_layers_are_ranked_and_reported(qgis_app, small_pair, bicubic_fused, tmp_path):
    import processing

    def noisy(data, sigma):
        return data + np.random.default_rng(1).normal(0, sigma, data.shape)
    layers = [small_pair["ref"], bicubic_fused,
              _copy(bicubic_fused, str(tmp_path / "worse.tif"), lambda d: noisy(d, 0.05))]
    html_path, csv_path = str(tmp_path / "report.html"), str(tmp_path / "bands.csv")
    result = processing.run("hyperfuse:quality_assessment", {
        "REFERENCE": small_pair["ref"], "FUSED": layers, "LR_HSI": small_pair["lr"], "HR_MSI": small_pair["ms"],
        "RATIO": 0, "OUTPUT_JSON": str(tmp_path / "q.json"), "OUTPUT_CSV": csv_path, "OUTPUT_HTML": html_path,
        "OUTPUT_SAM_MAP": str(tmp_path / "sam.tif")})
    import json

    with open(result["OUTPUT_JSON"], encoding="utf-8") as handle:
        content = json.load(handle)
    assert content["ratio"] == 3 and len(content["layers"]) == 3
    for key in ("PSNR", "SAM", "SSIM", "QNR"):
        assert content["ranking"][key] == [1, 2, 3], key
    assert result["QNR"] == pytest.approx(1.0, abs=1e-6) and result["PSNR"] == float("inf")
    with open(html_path, encoding="utf-8") as handle:
        page = handle.read()
    table = re.search(r'<table class="summary">.*?</table>', page, re.S)
    assert table and table.group(0).count("<tr>") == 4
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,[A-Za-z0-9+/=]{100,}"', page)) >= 4
    with open(csv_path, encoding="utf-8") as handle:
        rows = handle.read().splitlines()
    assert rows[0].startswith("band,wavelength_nm,") and len(rows) == 1 + 40
    sam = open_raster(str(tmp_path / "sam.tif"))
    assert sam.count == 1 and sam.transform == open_raster(small_pair["ref"]).transform


def test_a_map_is_drawn_pixel_for_pixel_and_a_large_one_averaged_down():
    import base64
    import io

    from hyperfuse.core.assessment import report
    from matplotlib import colormaps
    from PIL import Image

    image = np.linspace(0.0, 2.0, 50 * 30).reshape(50, 30)
    image[3, 4] = np.nan
    tag = report._map_figure(image, "SAM map of x", "degrees")
    png = base64.b64decode(re.search(r'src="data:image/png;base64,([^"]+)"', tag).group(1))
    pixels = np.asarray(Image.open(io.BytesIO(png)))
    top = np.nanpercentile(image, 99)
    expected = colormaps["magma"](np.clip(np.nan_to_num(image) / top, 0, 1), bytes=True)[..., :3]
    expected[3, 4] = 255                                    # no value: white
    np.testing.assert_array_equal(pixels, expected)
    assert f"{top:.4g} degrees and above" in tag and "SAM map of x" in tag
    large = np.arange(2000 * 1000, dtype=float).reshape(2000, 1000)
    large[:3, :3] = np.nan
    large[3:6, :2] = np.nan
    reduced = report._averaged_down(large, report.MAP_SIDE)
    assert reduced.shape == (667, 334) and max(reduced.shape) <= report.MAP_SIDE
    assert np.isnan(reduced[0, 0]) and reduced[1, 0] == large[3:6, 2].mean()
    assert reduced[5, 7] == large[15:18, 21:24].mean() and reduced[-1, -1] == large[1998:, 999:].mean()


def test_no_reference_needs_the_inputs(small_pair, bicubic_fused):
    with pytest.raises(UserInputError, match="REFERENCE.*LR_HSI and HR_MSI"):
        assessment.assess_layers([bicubic_fused])
    result = assessment.assess_layers([bicubic_fused], lr_path=small_pair["lr"], hr_path=small_pair["ms"])
    assert result["ratio"] == 3 and "QNR" in result["layers"][0] and "PSNR" not in result["layers"][0]


def test_q2n_reduces_to_uiqi_and_to_complex_arithmetic():
    rng = np.random.default_rng(3)
    valid = np.ones((16, 16), bool)
    x, y = rng.random((1, 16, 16)) + 0.5, rng.random((1, 16, 16)) + 0.5
    assert metrics.q2n(x, y, valid)[0] == pytest.approx(metrics.uiqi_band(x[0], y[0], valid))
    # Two bands are complex numbers: check against NumPy's complex arithmetic.
    x2, y2 = rng.random((2, 16, 16)) + 0.2, rng.random((2, 16, 16)) + 0.2
    z, w = (x2[0] + 1j * x2[1]).ravel(), (y2[0] + 1j * y2[1]).ravel()
    dz, dw = z - z.mean(), w - w.mean()
    expected = (4 * abs(np.mean(dz * np.conj(dw))) * abs(z.mean()) * abs(w.mean())
                / ((np.mean(abs(dz) ** 2) + np.mean(abs(dw) ** 2)) * (abs(z.mean()) ** 2 + abs(w.mean()) ** 2)))
    assert metrics.q2n(x2, y2, valid)[0] == pytest.approx(expected)
    five = rng.random((5, 16, 16))
    value, padded = metrics.q2n(five, five, valid)
    assert padded == 8 and value == pytest.approx(1.0)
    assert metrics.q2n(five, five + rng.normal(0, 0.3, five.shape), valid)[0] < 0.9


def test_layers_of_one_file_name_are_told_apart_by_their_method(tmp_path):
    """A Processing model writes every fusion as OUTPUT.tif in a folder of its own."""
    import rasterio
    from hyperfuse.core.assessment.quality import layer_names

    paths = []
    for folder, method in (("a", "GSA (Gram-Schmidt adaptive)"), ("b", "CNMF"), ("c", "CNMF"), ("d", None)):
        (tmp_path / folder).mkdir()
        path = str(tmp_path / folder / "OUTPUT.tif")
        with rasterio.open(path, "w", driver="GTiff", width=2, height=2, count=1, dtype="float32") as dataset:
            if method:
                dataset.update_tags(hyperfuse_method=method)
        paths.append(path)
    assert layer_names(paths) == ["GSA (Gram-Schmidt adaptive) (OUTPUT)", "CNMF (OUTPUT) #1", "CNMF (OUTPUT) #2",
                                  "OUTPUT"]
    assert layer_names([paths[0], str(tmp_path / "fused.tif")]) == ["OUTPUT", "fused"]


def _tiled(path, values, tile, nodata=None):
    profile = dict(driver="GTiff", width=values.shape[2], height=values.shape[1], count=values.shape[0],
                   dtype="float32", tiled=True, blockxsize=tile, blockysize=tile, nodata=nodata)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values)
    return open_raster(str(path), scan_bad_bands=False)


def test_pixel_maps_from_windows_of_whole_tiles_equal_the_whole_image(tmp_path):
    from hyperfuse.core.assessment.blockwise import pixel_maps
    from hyperfuse.core.feedback import Feedback
    from hyperfuse.core.storage.raster_io import tile_windows

    rng = np.random.default_rng(3)
    reference = (1.0 + rng.random((5, 100, 90))).astype(np.float32)
    fused = (reference + 0.05 * rng.standard_normal(reference.shape)).astype(np.float32)
    fused[:, 40, 50] = -9999.0
    infos = _tiled(tmp_path / "ref.tif", reference, 32), _tiled(tmp_path / "fused.tif", fused, 16, nodata=-9999.0)
    windows = tile_windows(list(infos), 100, 90, 5, 12_000)
    # Whole 32² tiles of the reference (the larger), 64 rows at a time within the values allowed, each pixel once.
    assert windows[:3] == [(0, 0, 64, 32), (0, 32, 64, 32), (0, 64, 64, 26)]
    # Tiles far larger than the values asked for are read in parts.
    assert tile_windows(list(infos), 100, 90, 5, 1000)[:2] == [(0, 0, 16, 32), (0, 32, 16, 32)]
    covered = np.zeros((100, 90), int)
    for row0, col0, rows, cols in windows:
        covered[row0:row0 + rows, col0:col0 + cols] += 1
    assert (covered == 1).all()
    maps = pixel_maps(*infos, list(range(5)), Feedback())
    valid = np.ones((100, 90), bool)
    valid[40, 50] = False
    np.testing.assert_array_equal(maps["valid"], valid)
    np.testing.assert_allclose(maps["sam"][valid], metrics.sam_map(reference, fused, valid)[valid], rtol=1e-12)
    error = np.sqrt(np.mean((reference - fused) ** 2, axis=0))
    np.testing.assert_allclose(maps["error"][valid], error[valid], rtol=1e-6)
    assert np.isnan(maps["sam"][40, 50]) and np.isnan(maps["error"][40, 50])
    # The metrics read the same windows; with a border they still equal the whole image's.
    from hyperfuse.core.assessment.blockwise import assess_blocks

    blocks = assess_blocks(*infos, list(range(5)), 3, border=5)
    whole = metrics.assess(reference, fused, valid, 3, 5)
    for key in ("PSNR", "SAM", "ERGAS", "RMSE", "CC", "SSIM"):
        assert blocks[key] == pytest.approx(whole[key], rel=1e-12), key
    # Windows 32 wide side by side, each SSIM halo crossing into its neighbours; the same tiles in the same order.
    np.testing.assert_equal([blocks["UIQI"], blocks["Q2n"]], [whole["UIQI"], whole["Q2n"]])
    assert blocks["valid_pixels"] == whole["valid_pixels"]
