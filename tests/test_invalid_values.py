"""Non-finite values, float32 fill values and GDAL mask bands are nodata on input; no output holds NaN or Inf."""
import os

import numpy as np
import pytest
import rasterio
from helpers import save_random_weights
from hyperfuse.core import registry
from hyperfuse.core.classical.run import fuse_classical
from hyperfuse.core.errors import UserInputError
from hyperfuse.core.inference import fusion
from hyperfuse.core.inference.fusion import MODEL_WEIGHTS, NetworkFusionSettings
from hyperfuse.core.storage.raster_io import OUTPUT_NODATA, NonFiniteResult, RasterWriter, open_raster

RATIO = 3
BAD_LR_PIXEL = (5, 7)  # row, column in the LR-HSI
BAD_HR_PIXEL = (40, 50)


def _rewrite(source, target, edit, **profile_changes):
    """Copy a raster with its band tags, letting ``edit`` change the pixels."""
    with rasterio.open(source) as src:
        profile, data = src.profile, src.read()
        tags = [src.tags(b + 1) for b in range(src.count)]
        descriptions = src.descriptions
    profile.update(profile_changes)
    with rasterio.open(target, "w", **profile) as dst:
        dst.write(edit(data))
        for band, band_tags in enumerate(tags):
            dst.update_tags(band + 1, **band_tags)
            dst.set_band_description(band + 1, descriptions[band] or "")
    return target


def _with_value(value, pixel):
    def edit(data):
        data = data.copy()
        data[:, pixel[0], pixel[1]] = value
        return data
    return edit


@pytest.fixture(scope="module")
def weights_file(small_pair, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("weights") / "deepsen3.pt")
    save_random_weights(path, open_raster(small_pair["lr"]).count, open_raster(small_pair["ms"]).count, RATIO)
    return path


def _fuse(method, lr, ms, out, weights_file):
    if method == "deepsen3":
        fusion.fuse_with_network(registry.method("deepsen3"), lr, ms, out,
                                 settings=NetworkFusionSettings(model=MODEL_WEIGHTS, weights_path=weights_file))
    else:
        fuse_classical(method, lr, ms, out)
    with rasterio.open(out) as src:
        return src.read()


@pytest.mark.parametrize("method", ["bicubic", "gsa", "glp", "cnmf", "hysure", "deepsen3"])
@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan, 3.4e38, -3.4e38, np.float32(3.4028235e38)],
                         ids=["inf", "-inf", "nan", "3.4e38", "-3.4e38", "flt_max"])
def test_non_finite_and_fill_values_become_nodata(small_pair, tmp_path, weights_file, method, value):
    lr = _rewrite(small_pair["lr"], str(tmp_path / "lr.tif"), _with_value(value, BAD_LR_PIXEL))
    ms = _rewrite(small_pair["ms"], str(tmp_path / "ms.tif"), _with_value(value, BAD_HR_PIXEL))
    fused = _fuse(method, lr, ms, str(tmp_path / "fused.tif"), weights_file)
    expected_nodata = np.zeros(fused.shape[1:], dtype=bool)
    row, col = BAD_LR_PIXEL
    expected_nodata[row * RATIO:(row + 1) * RATIO, col * RATIO:(col + 1) * RATIO] = True
    expected_nodata[BAD_HR_PIXEL] = True
    assert np.isfinite(fused).all()
    assert ((fused == OUTPUT_NODATA).all(axis=0) == expected_nodata).all()
    assert not (fused[:, ~expected_nodata] == OUTPUT_NODATA).any()
    assert np.abs(fused[:, ~expected_nodata]).max() < 10  # reflectance-like scene: nothing exploded


def _masked_copies(small_pair, tmp_path, mask_kind):
    """The LR-HSI with zeros under a mask (no nodata value), and the same data with nodata 0 instead."""
    zero_block = (slice(2, 6), slice(3, 9))

    def zeros(data):
        data = data.copy()
        data[:, zero_block[0], zero_block[1]] = 0
        return data
    with_nodata = _rewrite(small_pair["lr"], str(tmp_path / "lr_nodata.tif"), zeros, nodata=0)
    masked = _rewrite(small_pair["lr"], str(tmp_path / "lr_masked.tif"), zeros, nodata=None)
    env = {"GDAL_TIFF_INTERNAL_MASK": "YES" if mask_kind == "internal" else "NO"}
    with rasterio.Env(**env), rasterio.open(masked, "r+") as dst:
        mask = np.full((dst.height, dst.width), 255, dtype=np.uint8)
        mask[zero_block] = 0
        dst.write_mask(mask)
    assert os.path.exists(masked + ".msk") == (mask_kind == "msk")
    return masked, with_nodata


@pytest.mark.parametrize("mask_kind", ["internal", "msk"])
@pytest.mark.parametrize("method", ["bicubic", "gsa", "deepsen3"])
def test_gdal_mask_band_is_honoured_like_nodata(small_pair, tmp_path, weights_file, mask_kind, method):
    masked, with_nodata = _masked_copies(small_pair, tmp_path, mask_kind)
    info = open_raster(masked)
    assert info.nodata[0] is None and info.masked_bands == list(range(info.count))
    from_mask = _fuse(method, masked, small_pair["ms"], str(tmp_path / "from_mask.tif"), weights_file)
    from_nodata = _fuse(method, with_nodata, small_pair["ms"], str(tmp_path / "from_nodata.tif"), weights_file)
    assert (from_mask == OUTPUT_NODATA).any()
    np.testing.assert_array_equal(from_mask, from_nodata)


def test_a_block_holding_nan_is_never_written(tmp_path):
    path = str(tmp_path / "out.tif")
    block = np.ones((2, 16, 16), dtype=np.float32)
    block[1, 3, 4] = np.nan
    with pytest.raises(NonFiniteResult, match=r"produced 1 non-finite value\(s\).*was not written"):
        with RasterWriter(path, 16, 16, 2, (1, 0, 0, 0, -1, 16), None) as writer:
            writer.write(block, 0, 0)
    assert os.listdir(tmp_path) == []


def test_a_network_producing_nan_is_an_error_and_writes_nothing(small_pair, tmp_path, monkeypatch):
    """Whatever the cause, a non-finite network output stops the run with a message, not a NaN raster."""
    import torch
    from hyperfuse.core.inference import streamed, torch_support

    weights_path = str(tmp_path / "w.pt")
    save_random_weights(weights_path, open_raster(small_pair["lr"]).count, open_raster(small_pair["ms"]).count,
                        RATIO)
    # Every network's output as a fusion takes it, whole or streamed by rows.
    output = torch_support.network_output

    def poisoned(batch, **options):
        return output(batch * torch.tensor(np.nan), **options)
    monkeypatch.setattr(fusion, "network_output", poisoned)
    monkeypatch.setattr(streamed, "network_output", poisoned)
    out = str(tmp_path / "fused.tif")
    with pytest.raises(UserInputError, match="DeepSen3 produced .* non-finite value.*weights may be damaged"):
        fusion.fuse_with_network(registry.method("deepsen3"), small_pair["lr"], small_pair["ms"], out,
                                 settings=NetworkFusionSettings(model=MODEL_WEIGHTS, weights_path=weights_path))
    assert sorted(os.listdir(tmp_path)) == ["w.pt"]


def test_a_raster_truncated_after_its_header_fails_with_a_message(small_pair, tmp_path):
    truncated = str(tmp_path / "truncated.tif")
    with rasterio.open(small_pair["lr"]) as src:
        profile = {**src.profile, "compress": None, "tiled": False}
        data = src.read()
    with rasterio.open(truncated, "w", **profile) as dst:
        dst.write(data)
    size = os.path.getsize(truncated)
    with open(truncated, "r+b") as handle:
        handle.truncate(size // 2)
    out = str(tmp_path / "fused.tif")
    with pytest.raises(UserInputError, match="GDAL failed while reading rows .* probably truncated or damaged"):
        fuse_classical("bicubic", truncated, small_pair["ms"], out)
    assert not os.path.exists(out)
    assert sorted(os.listdir(tmp_path)) == ["truncated.tif"]
