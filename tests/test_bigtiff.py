"""Outputs past 4 GB are written as BigTIFF and keep their exact georeferencing.

A classic TIFF addresses its data with 32-bit offsets, so a raster whose uncompressed size
passes 4 GiB must be a BigTIFF. RasterWriter (the writer every fusion uses) asks GDAL for
``BIGTIFF=IF_SAFER``, which decides from the uncompressed size. The test writes, through
RasterWriter, a one-band float32 raster of 40 000 × 30 000 pixels (4.8 GB uncompressed) of
which only five 256 × 256 blocks hold values (the four corners and the centre), and shows that:

- the file is a BigTIFF (version 43 in its header, not the classic 42);
- rasterio reads back the same six transform coefficients and the same CRS, exactly;
- the written blocks read back exactly and an unwritten region reads back as nodata;
- QGIS opens the file as a valid raster layer with the expected extent and CRS, exactly;
- the file stays small on disk (the unwritten tiles compress to almost nothing) and no
  temporary file is left next to it.
"""
from __future__ import annotations

import os
import struct

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.windows import Window

from hyperfuse.core.storage.raster_io import OUTPUT_NODATA, RasterWriter

WIDTH, HEIGHT = 40_000, 30_000
BLOCK = 256
# Pixel sizes and origin are exact binary fractions, so the expected extent is exact too.
TRANSFORM = (0.75, 0.0, 412_345.125, 0.0, -0.625, 5_678_901.875)
EPSG = 32633  # WGS 84 / UTM zone 33N
# (row, column) of the top-left pixel of each written block: the four corners and the centre.
BLOCK_ORIGINS = [
    (0, 0), (0, WIDTH - BLOCK), (HEIGHT - BLOCK, 0), (HEIGHT - BLOCK, WIDTH - BLOCK),
    (HEIGHT // 2 - BLOCK // 2, WIDTH // 2 - BLOCK // 2),
]


def _tiff_version(path: str) -> int:
    """The version number in a TIFF header: 42 for a classic TIFF, 43 for a BigTIFF."""
    with open(path, "rb") as handle:
        header = handle.read(4)
    byte_order = {b"II": "<", b"MM": ">"}[header[:2]]
    return struct.unpack(byte_order + "H", header[2:4])[0]


def test_output_past_4gb_is_bigtiff_with_exact_georeferencing(tmp_path, qgis_app):
    from qgis.core import QgsRasterLayer

    assert WIDTH * HEIGHT * 4 > 2 ** 32  # float32, one band: past what a classic TIFF can address
    path = str(tmp_path / "big.tif")
    rng = np.random.default_rng(7)
    blocks = [rng.uniform(-1000.0, 1000.0, (1, BLOCK, BLOCK)).astype(np.float32) for _ in BLOCK_ORIGINS]

    with RasterWriter(path, WIDTH, HEIGHT, 1, TRANSFORM, CRS.from_epsg(EPSG).to_wkt()) as writer:
        for (row0, col0), values in zip(BLOCK_ORIGINS, blocks):
            writer.write(values, row0, col0)

    assert os.listdir(tmp_path) == ["big.tif"]  # the temporary file was renamed, nothing else left
    assert os.path.getsize(path) < 50 * 1024 ** 2
    assert _tiff_version(path) == 43

    with rasterio.open(path) as src:
        assert (src.width, src.height, src.count) == (WIDTH, HEIGHT, 1)
        assert src.dtypes == ("float32",)
        assert src.nodatavals == (OUTPUT_NODATA,)
        assert tuple(src.transform)[:6] == TRANSFORM
        assert src.crs == CRS.from_epsg(EPSG)
        assert src.crs.to_epsg() == EPSG
        for (row0, col0), values in zip(BLOCK_ORIGINS, blocks):
            read = src.read(window=Window(col0, row0, BLOCK, BLOCK))
            np.testing.assert_array_equal(read, values)
        unwritten = src.read(1, window=Window(WIDTH // 4, HEIGHT // 4, BLOCK, BLOCK))
        assert (unwritten == np.float32(OUTPUT_NODATA)).all()

    layer = QgsRasterLayer(path, "big", "gdal")
    assert layer.isValid()
    assert (layer.width(), layer.height(), layer.bandCount()) == (WIDTH, HEIGHT, 1)
    assert layer.crs().authid() == f"EPSG:{EPSG}"
    extent = layer.extent()
    a, _, c, _, e, f = TRANSFORM
    assert (extent.xMinimum(), extent.xMaximum()) == (c, c + WIDTH * a)
    assert (extent.yMinimum(), extent.yMaximum()) == (f + HEIGHT * e, f)
