import os
import shutil

import numpy as np
import pytest
import rasterio
from hyperfuse.core.errors import UserInputError
from hyperfuse.core.layout import bands_innermost, rows_of_pixels
from hyperfuse.core.storage import files
from hyperfuse.core.storage.raster_io import (COMPRESSION_CHOICES, RasterWriter, open_raster, read_raster,
                                             write_raster)
from rasterio.crs import CRS

UTM = CRS.from_epsg(32633).to_wkt()
TRANSFORM = (10.0, 0.0, 365000.0, 0.0, -10.0, 5810000.0)


def _write_raw(path, data, dtype, nodata=None, scale=1.0, offset=0.0, tags=None):
    count, rows, cols = data.shape
    with rasterio.open(path, "w", driver="GTiff", width=cols, height=rows, count=count, dtype=dtype,
                       transform=rasterio.Affine(*TRANSFORM), crs=UTM, nodata=nodata) as dst:
        dst.write(data.astype(dtype))
        dst.scales = [scale] * count
        dst.offsets = [offset] * count
        for band in range(count):
            dst.update_tags(band + 1, **(tags[band] if tags else {}))


def test_scale_offset_applied_and_nodata_masked(tmp_path):
    raw = np.arange(2 * 4 * 5).reshape(2, 4, 5) + 100
    raw[:, 1, 2] = 65535
    path = str(tmp_path / "u16.tif")
    _write_raw(path, raw, "uint16", nodata=65535, scale=1e-4, offset=0.01)
    info = open_raster(path)
    values, valid = read_raster(info)
    assert values.dtype == np.float32
    assert not valid[1, 2] and valid.sum() == 19
    expected = raw * 1e-4 + 0.01
    assert np.allclose(values[:, valid], expected[:, valid], atol=1e-7)
    assert np.all(values[:, ~valid] == 0)


def test_nan_and_inf_are_invalid(tmp_path):
    data = np.ones((3, 4, 4), dtype=np.float32)
    data[0, 0, 0] = np.nan
    data[2, 3, 3] = np.inf
    path = str(tmp_path / "f.tif")
    _write_raw(path, data, "float32")
    values, valid = read_raster(open_raster(path))
    assert valid.sum() == 14 and not valid[0, 0] and not valid[3, 3]
    assert np.isfinite(values).all()


def test_bad_bands_found_and_wavelength_units_converted(tmp_path):
    data = np.random.default_rng(0).random((4, 6, 6)).astype(np.float32)
    data[1] = -32768
    tags = [{"wavelength": f"{0.4 + 0.1 * b}", "wavelength_units": "Micrometers"} for b in range(4)]
    path = str(tmp_path / "bad.tif")
    _write_raw(path, data, "float32", nodata=-32768, tags=tags)
    info = open_raster(path)
    assert info.bad_bands == [1]
    assert info.good_bands == [0, 2, 3]
    assert np.allclose(info.wavelengths_nm, [400, 500, 600, 700])
    values, valid = read_raster(info)
    assert values.shape == (3, 6, 6) and valid.all()  # a bad band does not invalidate pixels


def test_writer_leaves_nothing_on_error(tmp_path):
    path = str(tmp_path / "out.tif")
    with pytest.raises(RuntimeError):
        with RasterWriter(path, 8, 8, 2, TRANSFORM, UTM) as writer:
            writer.write(np.zeros((2, 4, 8), np.float32), 0, 0)
            raise RuntimeError("boom")
    assert os.listdir(tmp_path) == []


def test_writer_is_atomic_and_georeferenced(tmp_path):
    path = str(tmp_path / "out.tif")
    values = np.random.default_rng(1).random((2, 8, 8)).astype(np.float32)
    write_raster(path, values, TRANSFORM, UTM, band_names=["a", "b"],
                 band_tags=[{"wavelength": "500"}, {"wavelength": "600"}])
    assert os.listdir(tmp_path) == ["out.tif"]
    with rasterio.open(path) as src:
        assert tuple(src.transform)[:6] == TRANSFORM
        assert src.crs.to_epsg() == 32633
        assert src.descriptions == ("a", "b")
        assert src.tags(2)["wavelength"] == "600"
        assert np.array_equal(src.read(), values)


def test_blocks_with_their_bands_innermost_are_written_as_they_lie(tmp_path):
    """A block whose pixels hold their bands side by side (a channels-last network output seen bands first) goes
    to the file without a change of layout, and reads back as the same values as a block laid out band by band."""
    values = np.random.default_rng(3).random((5, 32, 48)).astype(np.float32)
    by_pixel = np.ascontiguousarray(values.transpose(1, 2, 0)).transpose(2, 0, 1)
    assert bands_innermost(by_pixel) and not bands_innermost(values)
    for name, block in (("bands.tif", values), ("pixels.tif", by_pixel)):
        with RasterWriter(str(tmp_path / name), 96, 32, 5, TRANSFORM, UTM, tile_size=(32, 48)) as writer:
            writer.write(block[:, :, :48], 0, 0)
            writer.write(block[:, :, :48].copy(order="K"), 0, 48)
    with rasterio.open(str(tmp_path / "bands.tif")) as bands, rasterio.open(str(tmp_path / "pixels.tif")) as pixels:
        assert np.array_equal(pixels.read(), bands.read())
        assert np.array_equal(pixels.read()[:, :, 48:], values[:, :, :48])
        assert tuple(pixels.transform)[:6] == TRANSFORM


def test_some_columns_of_a_block_with_its_bands_innermost_are_written_as_they_lie(tmp_path):
    """A block's centre cut from the part computed around it (its rows apart in memory) goes to GDAL as it lies,
    with the rows' distance; the file holds exactly those values, and nothing between the rows."""
    part = np.random.default_rng(4).random((6, 40, 56)).astype(np.float32)
    by_pixel = np.ascontiguousarray(part.transpose(1, 2, 0)).transpose(2, 0, 1)
    centre = by_pixel[:, 4:36, 8:56]
    assert rows_of_pixels(centre) and not bands_innermost(centre) and not centre.flags.c_contiguous
    assert not rows_of_pixels(part) and not rows_of_pixels(part[:, :, ::2].transpose(0, 2, 1))
    path = str(tmp_path / "centre.tif")
    with RasterWriter(path, 48, 32, 6, TRANSFORM, UTM, tile_size=(32, 48)) as writer:
        writer.write(centre, 0, 0)
    with rasterio.open(path) as src:
        assert np.array_equal(src.read(), part[:, 4:36, 8:56])
        assert tuple(src.transform)[:6] == TRANSFORM


def test_output_compression_is_lossless_and_as_chosen(tmp_path):
    values = np.random.default_rng(2).normal(size=(3, 40, 40)).astype(np.float32)
    written = {}
    for name in COMPRESSION_CHOICES:
        path = str(tmp_path / f"{name}.tif")
        write_raster(path, values, TRANSFORM, UTM, compression=name)
        with rasterio.open(path) as src:
            written[name] = (src.tags(ns="IMAGE_STRUCTURE").get("COMPRESSION"), src.read())
    write_raster(str(tmp_path / "default.tif"), values, TRANSFORM, UTM)
    with rasterio.open(str(tmp_path / "default.tif")) as src:
        assert src.tags(ns="IMAGE_STRUCTURE")["COMPRESSION"] == "ZSTD"
        assert src.tags(ns="IMAGE_STRUCTURE")["PREDICTOR"] == "3"
    assert written["zstd"][0] == "ZSTD" and written["deflate"][0] == "DEFLATE" and written["none"][0] is None
    for compression, read_back in written.values():
        assert np.array_equal(read_back, values), compression
    with pytest.raises(UserInputError, match="Unknown output compression 'lzma'; use one of zstd, deflate, none"):
        write_raster(str(tmp_path / "lzma.tif"), values, TRANSFORM, UTM, compression="lzma")
    assert not os.path.exists(tmp_path / "lzma.tif")


def test_unwritable_output_is_rejected_before_work(tmp_path):
    with pytest.raises(UserInputError, match="does not exist"):
        write_raster(str(tmp_path / "missing" / "out.tif"), np.zeros((1, 2, 2), np.float32), TRANSFORM, UTM)
    # /proc refuses new files even for root, whose permission bits are never enforced.
    with pytest.raises(UserInputError, match="not writable|Cannot create"):
        write_raster("/proc/hyperfuse-test.tif", np.zeros((1, 2, 2), np.float32), TRANSFORM, UTM)
    assert not os.path.exists("/proc/hyperfuse-test.tif")


def test_missing_and_corrupt_rasters_get_clear_errors(tmp_path):
    with pytest.raises(UserInputError, match="does not exist"):
        open_raster(str(tmp_path / "nope.tif"))
    corrupt = tmp_path / "corrupt.tif"
    corrupt.write_bytes(b"II*\x00garbage")
    with pytest.raises(UserInputError, match="cannot read"):
        open_raster(str(corrupt))


def test_rasters_kept_open_reuses_one_dataset_per_file_and_closes_them(tmp_path, monkeypatch):
    import hyperfuse.core.storage.raster_io as raster_io
    from helpers import recorded_openings

    path = str(tmp_path / "image.tif")
    _write_raw(path, np.arange(2 * 5 * 6, dtype=np.float32).reshape(2, 5, 6) + 1, "float32")
    opened = recorded_openings(monkeypatch)
    plain = read_raster(open_raster(path))
    assert len(opened) == 2 and all(dataset.closed for _, dataset in opened)
    opened.clear()
    with raster_io.rasters_kept_open():
        info = open_raster(path)
        assert open_raster(path) is info
        with raster_io.rasters_kept_open():             # nested: the outer block keeps them
            first = read_raster(info)
        second = raster_io.read_block(info, 1, 2, 3, 4)
        assert len(opened) == 1 and not opened[0][1].closed
    assert opened[0][1].closed
    np.testing.assert_array_equal(first[0], plain[0])
    np.testing.assert_array_equal(second[0], plain[0][:, 1:4, 2:6])


def test_rasters_opened_together_are_those_opened_one_by_one(tmp_path, monkeypatch):
    import hyperfuse.core.storage.raster_io as raster_io
    from helpers import recorded_openings

    rng = np.random.default_rng(3)
    with_empty_band = rng.random((3, 40, 30)).astype(np.float32)
    with_empty_band[1] = -32768
    paths = [str(tmp_path / "empty_band.tif"), str(tmp_path / "scaled.tif"), str(tmp_path / "plain.tif")]
    _write_raw(paths[0], with_empty_band, "float32", nodata=-32768)
    _write_raw(paths[1], rng.integers(0, 1000, (2, 40, 30)), "uint16", nodata=0, scale=1e-4, offset=0.01)
    _write_raw(paths[2], rng.random((4, 40, 30)), "float32")
    one_by_one = [open_raster(path) for path in paths]
    assert one_by_one[0].bad_bands == [1]
    opened = recorded_openings(monkeypatch)
    monkeypatch.chdir(tmp_path)
    with raster_io.rasters_kept_open():
        raster_io.open_kept_together([*paths, "plain.tif"], workers=3)      # the last one twice, spelled apart
        assert len(opened) == 3
        together = [open_raster(path) for path in paths]
        assert open_raster("plain.tif") is together[2]
        assert len(opened) == 3
        np.testing.assert_array_equal(read_raster(together[0])[0], read_raster(one_by_one[0])[0])
    assert together == one_by_one


def test_rasters_opened_together_fail_as_the_first_of_them_would(tmp_path):
    import hyperfuse.core.storage.raster_io as raster_io

    good, empty, corrupt = (str(tmp_path / name) for name in ("good.tif", "empty.tif", "corrupt.tif"))
    _write_raw(good, np.ones((2, 8, 8)), "float32")
    _write_raw(empty, np.full((2, 8, 8), -1.0), "float32", nodata=-1)
    open(corrupt, "wb").write(b"II*\x00garbage")
    cases = [([good, str(tmp_path / "nope.tif"), corrupt], "does not exist"), ([good, corrupt, empty], "cannot read"),
             ([empty, good], "Every band of '.*empty.tif' is nodata everywhere")]
    for paths, message in cases:
        with raster_io.rasters_kept_open(), pytest.raises(UserInputError, match=message):
            raster_io.open_kept_together(paths)


def test_validity_follows_each_bands_nodata():
    import hyperfuse.core.storage.raster_io as raster_io

    values = np.array([[[1.0, 5.0, np.nan]], [[5.0, 7.0, 2e38]], [[7.0, -np.inf, 0.0]]], dtype=np.float32)
    np.testing.assert_array_equal(raster_io._validity(values, [5.0, 7.0, None])[:, 0],
                                  [[True, False, False], [True, False, False], [True, False, True]])
    np.testing.assert_array_equal(raster_io._validity(values, [float("nan")] * 3)[:, 0],
                                  [[True, True, False], [True, True, False], [True, False, True]])


def test_each_block_is_compressed_and_stored_when_written(tmp_path):
    # Stored at once (FlushCache), a block's tiles no longer wait in GDAL's cache for the file to close.
    path = str(tmp_path / "out.tif")
    values = np.random.default_rng(3).random((3, 32, 64)).astype(np.float32)
    with RasterWriter(path, 64, 64, 3, TRANSFORM, UTM, tile_size=(32, 64)) as writer:
        sizes = [os.path.getsize(writer.temp_path)]
        for row0 in (0, 32):
            writer.write(values + row0, row0, 0)
            sizes.append(os.path.getsize(writer.temp_path))
    # Random float32 values hardly compress: each block adds most of its 24 KiB.
    assert sizes[1] - sizes[0] > 16_000 and sizes[2] - sizes[1] > 16_000
    with rasterio.open(path) as src:
        np.testing.assert_array_equal(src.read(window=((32, 64), (0, 64))), values + 32)
        assert src.nodata == -9999.0 and tuple(src.transform)[:6] == TRANSFORM


class _FailingDataset:
    """A dataset whose writes fail the way a full disk makes GDAL's fail."""

    def WriteRaster(self, *args, **kwargs):
        from osgeo import gdal
        gdal.Error(gdal.CE_Failure, gdal.CPLE_FileIO, "No space left on device")
        return gdal.CE_Failure


def test_a_failed_write_names_the_output_and_the_room_left_and_leaves_nothing(tmp_path, monkeypatch):
    path = str(tmp_path / "out.tif")
    room = shutil.disk_usage(tmp_path)._replace(free=474_312_000)
    asked = []
    monkeypatch.setattr(files.shutil, "disk_usage", lambda folder: asked.append(folder) or room)
    with pytest.raises(UserInputError, match=r"Cannot write the output '.*out\.tif': No space left on device "
                                             r"\(474 MB free on its disk\)\. "
                                             r"Choose a folder you can write to, on a disk with room"):
        with RasterWriter(path, 8, 8, 2, TRANSFORM, UTM) as writer:
            opened, writer._dst = writer._dst, _FailingDataset()
            writer.write(np.zeros((2, 8, 8), np.float32), 0, 0)
    del opened
    assert asked == [str(tmp_path)]
    assert os.listdir(tmp_path) == []
