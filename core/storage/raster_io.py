"""Raster input through rasterio, output through GDAL's own bindings (both the same GDAL).

Reading applies each band's GDAL scale/offset, so the core always sees physical units as
float32, and turns nodata, NaN and Inf into a validity mask (PROTOCOL.md "Notation").
Bands that are nodata everywhere, or flagged bad in the file's metadata, are *bad bands*:
they are kept in place in every output as nodata and ignored by every computation.

Writing goes to a hidden temporary file next to the destination that is renamed only when
the whole raster is written, so an error or a cancel never leaves a half-written output.
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import math
import os
import threading
import warnings
from dataclasses import dataclass, field

import numpy as np
import rasterio
from rasterio._err import CPLE_BaseError
from rasterio.enums import MaskFlags
from rasterio.errors import NotGeoreferencedWarning, RasterioError, RasterioIOError
from rasterio.windows import Window

from ..errors import UserInputError
from ..layout import rows_of_pixels
from .files import commit_temporary, discard_temporary, ensure_writable, free_space, temporary_path

OUTPUT_NODATA = -9999.0
MAX_TILE_SIZE = 1024
# Bytes of one output tile at most (RasterWriter). GDAL and libtiff allocate each tile's buffers afresh, and buffers
# of several MB came as new memory from the kernel every time: writing 9 blocks of 240 × 384 × 218 bands in tiles
# of the block (80 MB) took 7.0–7.6 s and 560 000 page faults, in tiles of 48 × 128 (5.4 MB) or 80 × 64 (4.5 MB)
# 3.7–3.8 s and 31 000 (80 × 128, 8.9 MB: 4.7–5.0 s and 168 000), for files 0.5 % larger.
MAX_TILE_BYTES = 4 * 2 ** 20
_UNIT_TO_NM = {
    "nanometers": 1.0, "nanometer": 1.0, "nm": 1.0,
    "micrometers": 1000.0, "micrometer": 1000.0, "microns": 1000.0, "um": 1000.0, "µm": 1000.0,
    "millimeters": 1e6, "mm": 1e6,
}
# Values read at a time when a whole raster must be scanned (bad-band detection): 16 MB as float32, so that a wide
# raster with many bands is read in a few rows at a time.
_SCAN_VALUES = 4_000_000
# Magnitudes at or above this are fill values, not data: float32 rasters often mark nodata
# with ±3.4e38 (FLT_MAX) without declaring it, and no physical quantity comes near 1e38.
FILL_MAGNITUDE = 1e38


@dataclass
class RasterInfo:
    """What the core needs to know about a raster, without its pixels."""

    path: str
    width: int
    height: int
    count: int
    transform: tuple  # GDAL-order affine coefficients (a, b, c, d, e, f) as rasterio gives them
    crs_wkt: str | None
    crs_label: str
    georeferenced: bool
    dtype: str
    nodata: list
    scales: list
    offsets: list
    wavelengths_nm: list | None
    fwhm_nm: list | None
    band_names: list
    bad_bands: list = field(default_factory=list)
    # Bands (0-based) with a GDAL mask that is not derived from nodata: an internal or .msk
    # mask (per dataset or per band) or an alpha band. Their masked pixels are invalid.
    masked_bands: list = field(default_factory=list)

    @property
    def good_bands(self) -> list:
        bad = set(self.bad_bands)
        return [b for b in range(self.count) if b not in bad]

    @property
    def pixel_size(self) -> tuple:
        a, b, c, d, e, f = self.transform[:6]
        return a, e


def _wavelength_factor(units: str | None) -> float:
    if not units:
        return 1.0
    return _UNIT_TO_NM.get(units.strip().lower(), 1.0)


def _parse_float(text):
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _bad_bands_from_metadata(src, count: int) -> set:
    """Bands flagged bad by an ENVI-style ``bbl`` list or a per-band ``bbl=0`` tag."""
    bad = set()
    for domain in (None, "ENVI"):
        text = src.tags(ns=domain).get("bbl") if domain else src.tags().get("bbl")
        if text:
            flags = [t for t in text.replace("{", " ").replace("}", " ").replace(",", " ").split()]
            if len(flags) == count:
                bad |= {i for i, flag in enumerate(flags) if _parse_float(flag) == 0}
    for band in range(count):
        if _parse_float(src.tags(band + 1).get("bbl")) == 0:
            bad.add(band)
    return bad


def _validity(values: np.ndarray, nodata: list) -> np.ndarray:
    """Per value of ``values`` (bands, rows, cols): finite, below the fill magnitude and not its band's ``nodata``."""
    if values.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            valid = np.abs(values) < FILL_MAGNITUDE         # False for NaN and ±Inf as well
    else:
        valid = np.ones(values.shape, dtype=bool)
    declared = [None if value is None or (isinstance(value, float) and math.isnan(value)) else value
                for value in nodata]
    if len(set(declared)) == 1:
        if declared[0] is not None:
            valid &= values != declared[0]
        return valid
    for i, value in enumerate(declared):
        if value is not None:
            valid[i] &= values[i] != value
    return valid


def _bands_with_gdal_masks(src) -> list:
    """Bands whose GDAL mask is a real mask (per dataset, per band or alpha), not just their nodata."""
    masked = []
    for band, flags in enumerate(src.mask_flag_enums):
        if MaskFlags.all_valid in flags or MaskFlags.nodata in flags:
            continue
        masked.append(band)
    return masked


def _read_window(src, info: "RasterInfo", bands: list, window: Window) -> tuple[np.ndarray, np.ndarray]:
    """Raw values of ``bands`` in ``window`` and their per-band validity (nodata, NaN, Inf, fill, GDAL masks)."""
    try:
        raw = src.read([b + 1 for b in bands], window=window)
        valid = _validity(raw, [info.nodata[band] for band in bands])
        masked = [i for i, band in enumerate(bands) if band in info.masked_bands]
        if masked:
            masks = src.read_masks([bands[i] + 1 for i in masked], window=window)
            for j, i in enumerate(masked):
                valid[i] &= masks[j] > 0
    except (RasterioError, RasterioIOError, CPLE_BaseError) as exc:
        raise UserInputError(
            f"GDAL failed while reading rows {window.row_off}–{window.row_off + window.height - 1} of "
            f"'{info.path}' ({exc}). The file is probably truncated or damaged: copy or export it again "
            "(e.g. with gdal_translate) and rerun. Nothing was written.") from exc
    return raw, valid


_kept = threading.local()


@contextlib.contextmanager
def rasters_kept_open():
    """Within this block, in this thread, rasters opened by path stay open and their metadata is kept.

    GDAL keeps the tiles it has decoded per open dataset, up to its cache's size: a job that reads
    the same rasters several times (the assessment's two passes, its report's maps and single-pixel
    spectra) decodes each compressed tile once instead of at every opening. Blocks nest; the
    outermost one closes the datasets.
    """
    if getattr(_kept, "datasets", None) is not None:
        yield
        return
    _kept.datasets, _kept.infos = {}, {}
    try:
        yield
    finally:
        datasets, _kept.datasets, _kept.infos = _kept.datasets, None, None
        for dataset in datasets.values():
            dataset.close()


@contextlib.contextmanager
def _dataset(path: str):
    """The open dataset of ``path``: kept open inside :func:`rasters_kept_open`, else closed on leaving."""
    kept = getattr(_kept, "datasets", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        if kept is None:
            with rasterio.open(path) as src:
                yield src
            return
        key = os.path.abspath(path)
        if key not in kept:
            kept[key] = rasterio.open(path)
        yield kept[key]


def open_raster(path: str, scan_bad_bands: bool = True) -> RasterInfo:
    """Read a raster's metadata; with ``scan_bad_bands`` also find bands that are nodata everywhere."""
    _check_exists(path)
    infos = getattr(_kept, "infos", None)
    key = (os.path.abspath(path), scan_bad_bands)
    if infos is not None and key in infos:
        return infos[key]
    with _raster_dataset(path) as src:
        info = _raster_info(path, src)
        if scan_bad_bands:
            _add_empty_bands(info, _scan_empty_bands(src, info))
    _check_some_band_has_data(info)
    if infos is not None:
        infos[key] = info
    return info


def open_kept_together(paths: list, workers: int = 2) -> None:
    """Open ``paths`` as :func:`open_raster` does, into this thread's :func:`rasters_kept_open` block (outside one
    this does nothing), scanning ``workers`` rasters at a time for empty bands.

    The scan decodes a raster's first tiles, and a sixth of an assessment of small rasters is that first decoding
    (a 240² × 218-band raster in one deflate tile: about 0.35 s); GDAL decodes different datasets in parallel. The
    datasets are opened and their metadata read in this thread (rasterio's warnings filter is not thread-safe);
    the workers only read pixels, then the datasets are used from this thread alone. A file that is missing or not
    a raster is refused first, then a scan's error, each in the order of ``paths``."""
    datasets, infos = getattr(_kept, "datasets", None), getattr(_kept, "infos", None)
    if datasets is None:
        return
    pending = {}                    # by file: a second spelling of the same path is not scanned twice
    for path in paths:
        key = (os.path.abspath(path), True) if path else None
        if key is None or key in infos or key in pending:
            continue
        _check_exists(path)
        with _raster_dataset(path) as src:
            pending[key] = (src, _raster_info(path, src))
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        empty = list(pool.map(lambda opened: _scan_empty_bands(*opened), pending.values()))
    for (key, (_, info)), bands in zip(pending.items(), empty):
        _add_empty_bands(info, bands)
        _check_some_band_has_data(info)
        infos[key] = info


def _check_exists(path: str) -> None:
    if not path or not os.path.exists(path):
        raise UserInputError(f"The raster '{path}' does not exist. Check the path or the layer's source.")


def _add_empty_bands(info: RasterInfo, empty: set) -> None:
    info.bad_bands = sorted(set(info.bad_bands) | empty)


def _check_some_band_has_data(info: RasterInfo) -> None:
    if len(info.bad_bands) == info.count:
        raise UserInputError(f"Every band of '{info.path}' is nodata everywhere: there is nothing to process. "
                             "Check the layer's nodata value.")


def check_readable(path: str) -> None:
    """Refuse, as :func:`open_raster` would, a file that GDAL cannot open as a raster; read nothing more."""
    with _raster_dataset(path):
        pass


@contextlib.contextmanager
def _raster_dataset(path: str):
    """:func:`_dataset` of ``path``; GDAL's failure to read it as a raster is the user's error."""
    try:
        with _dataset(path) as src:
            yield src
    except RasterioIOError as exc:
        raise _not_a_raster(path, exc) from exc


def _not_a_raster(path: str, exc: Exception) -> UserInputError:
    return UserInputError(f"GDAL cannot read '{path}' as a raster ({exc}). Check that the file is a complete raster "
                          "in a format GDAL supports, such as GeoTIFF.")


def _raster_info(path: str, src) -> RasterInfo:
    """Metadata and the bands flagged bad in it; :func:`_scan_empty_bands` finds the bands with no data."""
    count = src.count
    wavelengths, fwhms, names = [], [], []
    for band in range(1, count + 1):
        tags = src.tags(band)
        factor = _wavelength_factor(tags.get("wavelength_units") or src.tags().get("wavelength_units"))
        wl = _parse_float(tags.get("wavelength"))
        fw = _parse_float(tags.get("fwhm"))
        wavelengths.append(None if wl is None else wl * factor)
        fwhms.append(None if fw is None else fw * factor)
        names.append(src.descriptions[band - 1] or f"band {band}")
    has_wavelengths = all(w is not None for w in wavelengths)
    has_fwhm = has_wavelengths and all(f is not None for f in fwhms)
    georeferenced = src.crs is not None or not src.transform.is_identity
    info = RasterInfo(
        path=path, width=src.width, height=src.height, count=count,
        transform=tuple(src.transform)[:6],
        crs_wkt=src.crs.to_wkt() if src.crs else None,
        crs_label=(src.crs.to_string() if src.crs else "no CRS"),
        georeferenced=georeferenced,
        dtype=src.dtypes[0], nodata=list(src.nodatavals),
        scales=[float(s) for s in src.scales], offsets=[float(o) for o in src.offsets],
        wavelengths_nm=wavelengths if has_wavelengths else None,
        fwhm_nm=fwhms if has_fwhm else None,
        band_names=names,
    )
    info.masked_bands = _bands_with_gdal_masks(src)
    info.bad_bands = sorted(_bad_bands_from_metadata(src, count))
    return info


def _scan_empty_bands(src, info: RasterInfo) -> set:
    has_data = np.zeros(info.count, dtype=bool)
    row0 = 0
    while row0 < info.height:
        pending = np.flatnonzero(~has_data).tolist()
        rows = min(max(1, _SCAN_VALUES // (info.width * len(pending))), info.height - row0)
        _, valid = _read_window(src, info, pending, Window(0, row0, info.width, rows))
        has_data[pending] = valid.reshape(len(pending), -1).any(axis=1)
        if has_data.all():
            break
        row0 += rows
    return set(np.flatnonzero(~has_data).tolist())


def read_block(info: RasterInfo, row0: int, col0: int, rows: int, cols: int,
               bands: list | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Read a window of the good bands (or ``bands``), in physical units.

    Returns ``(values, valid)``: float32 ``(B, rows, cols)`` and a boolean ``(rows, cols)``
    mask that is False where any of the read bands is nodata, NaN or Inf. Invalid values
    are set to 0 so that they can never leak NaN into a computation.
    """
    with block_reader(info) as read:
        return read(row0, col0, rows, cols, bands)


# A window of whole tiles may hold this many times the values asked for (one 256² tile of 218 bands is 3.6 times
# the 4 million values of the assessment's windows), no more.
TILE_WINDOW_LIMIT = 4


def tile_shape(info: RasterInfo) -> tuple:
    """(rows, cols) of the file's tiles or strips, as GDAL stores them."""
    with _dataset(info.path) as src:
        return tuple(src.block_shapes[0])


def tile_windows(infos: list, height: int, width: int, bands: int, values: int, multiple: int = 1) -> list:
    """(row0, col0, rows, cols) windows over ``height`` × ``width`` pixels, row by row, made of whole tiles of the
    ``infos``' files where their tiles agree, of about ``values`` values of ``bands`` bands or one tile each; their
    sides are multiples of ``multiple`` (but at the far edges).

    GDAL decodes a whole tile to read any part of it and keeps few decoded tiles (its cache is capped during a
    run): strips of rows thinner than the tiles, across a raster whose row of tiles does not fit the cache, decode
    every tile once per strip (at 3000 × 3000 × 218 bands in 256² tiles, 43 times for strips of 6 rows)."""
    shapes = [tile_shape(info) for info in infos]
    rows, cols = (math.ceil(max(shape[axis] for shape in shapes) / multiple) * multiple for axis in (0, 1))
    cols = min(width, cols)
    # Tiles far larger than ``values`` (a writer's 2048² blocks of 218 bands: 3.6 GB) are read in parts.
    while rows * cols * bands > TILE_WINDOW_LIMIT * values and max(rows, cols) > multiple:
        if rows >= cols:
            rows = max(multiple, rows // 2 // multiple * multiple)
        else:
            cols = max(multiple, cols // 2 // multiple * multiple)
    rows = max(rows, values // max(1, cols * bands) // rows * rows)
    return [(row0, col0, min(rows, height - row0), min(cols, width - col0))
            for row0 in range(0, height, rows) for col0 in range(0, width, cols)]


@contextlib.contextmanager
def block_reader(info: RasterInfo):
    """Yield ``read(row0, col0, rows, cols, bands=None)``, which returns what :func:`read_block` does.

    All reads go through one open dataset: GDAL keeps the tiles it decoded for an open
    dataset, so strips thinner than the file's tiles do not decode every tile again.
    """
    with contextlib.ExitStack() as stack:
        try:
            src = stack.enter_context(_dataset(info.path))
        except (RasterioError, RasterioIOError, CPLE_BaseError) as exc:
            raise UserInputError(f"GDAL can no longer open '{info.path}' ({exc}). Check that the file was not "
                                 "moved or changed during the run, and rerun. Nothing was written.") from exc

        def read(row0: int, col0: int, rows: int, cols: int, bands: list | None = None):
            bands = info.good_bands if bands is None else list(bands)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", NotGeoreferencedWarning)
                raw, band_valid = _read_window(src, info, bands, Window(col0, row0, cols, rows))
            return _physical_values(info, bands, raw, band_valid)
        yield read


def _physical_values(info: RasterInfo, bands: list, raw: np.ndarray, band_valid: np.ndarray) -> tuple:
    """Raw values in physical units (scale, offset) and the pixels valid in every band, invalid ones zeroed.

    ``raw`` was read for this call alone, so float32 values without scale or offset (fused rasters, most
    reflectances) are used as they are: their fill check was :func:`_band_validity`'s."""
    valid = band_valid.all(axis=0)
    if raw.dtype == np.float32 and all(info.scales[b] == 1 and info.offsets[b] == 0 for b in bands):
        values = raw
    else:
        values = np.empty(raw.shape, dtype=np.float32)
        with np.errstate(over="ignore", invalid="ignore"):
            for i, band in enumerate(bands):
                values[i] = raw[i].astype(np.float32) * np.float32(info.scales[band]) + np.float32(info.offsets[band])
        valid &= (np.abs(values) < FILL_MAGNITUDE).all(axis=0)
    if not valid.all():
        values[:, ~valid] = 0.0
    return values, valid


def read_raster(info: RasterInfo, bands: list | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The whole raster as :func:`read_block` returns it."""
    return read_block(info, 0, 0, info.height, info.width, bands)


def band_metadata(info: RasterInfo) -> list:
    """Per-band tags that follow a band into outputs (wavelength, units, FWHM)."""
    tags = []
    for band in range(info.count):
        entry = {}
        if info.wavelengths_nm is not None:
            entry["wavelength"] = f"{info.wavelengths_nm[band]:.4f}"
            entry["wavelength_units"] = "Nanometers"
        if info.fwhm_nm is not None:
            entry["fwhm"] = f"{info.fwhm_nm[band]:.4f}"
        tags.append(entry)
    return tags


DEFAULT_NON_FINITE_HINT = ("Check the inputs for extreme values that are not declared as nodata, and set their "
                           "nodata value.")


class NonFiniteResult(UserInputError):
    """A result block held NaN or Inf: writing stops so that no silently wrong raster is produced."""


def output_tiles(width: int, height: int, tile_size=None, bands: int = 1) -> tuple:
    """(rows, cols) of an output's GeoTIFF tiles: the blocks written (``tile_size``, a side or (rows, cols)) where
    they are multiples of 16 that fit the raster, else 256² (smaller rasters: the largest multiple of 16 that fits);
    blocks of more than MAX_TILE_BYTES of ``bands`` float32 bands are divided into whole tiles of at most that.

    A tile written in two parts is compressed and stored twice once GDAL's cache has let it go (12.7 s and 535 MB
    against 8.0 s and 393 MB for a 900² × 218-band result in 384² blocks over 256² tiles). Blocks as wide as the
    raster (strips) fill whole tiles of any width, so their tiles are as high as the strips and 256 wide."""
    default = 256 if min(width, height) >= 256 else 16 * max(1, min(width, height) // 16)
    if not tile_size:
        return default, default
    rows, cols = tile_size if isinstance(tile_size, tuple) else (tile_size, tile_size)

    def fits(size, extent):
        return size % 16 == 0 and size <= min(extent, MAX_TILE_SIZE)
    if fits(rows, height) and fits(cols, width):
        return _within_tile_bytes(rows, cols, bands, whole_columns=True)
    if fits(rows, height) and cols >= width:
        return _within_tile_bytes(rows, min(default, 16 * max(1, width // 16)), bands, whole_columns=False)
    return default, default


def _within_tile_bytes(rows: int, cols: int, bands: int, whole_columns: bool) -> tuple:
    """The largest tile of at most MAX_TILE_BYTES (the squarest of equals), 16 × 16 at least, whose rows divide
    ``rows`` and, where ``whole_columns``, whose columns divide ``cols`` (else at most ``cols``): so that a block
    of ``rows`` × ``cols`` is written as whole tiles. Sides are multiples of 16, as GeoTIFF tiles must be."""
    pixels = max(256, MAX_TILE_BYTES // (4 * bands))
    best = (16, 16)
    for tile_rows in range(16, rows + 1, 16):
        for tile_cols in range(16, cols + 1, 16):
            if rows % tile_rows or (whole_columns and cols % tile_cols) or tile_rows * tile_cols > pixels:
                continue
            if (tile_rows * tile_cols, -abs(tile_rows - tile_cols)) > (best[0] * best[1], -abs(best[0] - best[1])):
                best = (tile_rows, tile_cols)
    return best


# How outputs are compressed (OUTPUT_COMPRESSION; the names and their order are public). Both codecs run at level 1
# with the floating-point predictor. A 600² × 218-band result, encoding alone: ZSTD 1.5 s, deflate 3.6 s, for files
# of the same size (184 MB; 514 MB uncompressed). ZSTD needs GDAL ≥ 2.3 (QGIS ≥ 3.4) to read it; deflate is
# read by almost every GeoTIFF reader; "none" writes fastest and largest.
COMPRESSION_ZSTD, COMPRESSION_DEFLATE, COMPRESSION_NONE = "zstd", "deflate", "none"
COMPRESSION_CHOICES = [COMPRESSION_ZSTD, COMPRESSION_DEFLATE, COMPRESSION_NONE]
DEFAULT_COMPRESSION = COMPRESSION_ZSTD
_COMPRESSION_PROFILES = {COMPRESSION_ZSTD: dict(compress="zstd", predictor=3, zstd_level=1),
                         COMPRESSION_DEFLATE: dict(compress="deflate", predictor=3, zlevel=1),
                         COMPRESSION_NONE: dict(compress="none")}


def compression_profile(compression: str) -> dict:
    """The GeoTIFF creation options of one of COMPRESSION_CHOICES."""
    if compression not in _COMPRESSION_PROFILES:
        raise UserInputError(f"Unknown output compression '{compression}'; use one of "
                             f"{', '.join(COMPRESSION_CHOICES)}.")
    return dict(_COMPRESSION_PROFILES[compression])


def _gdal():
    """GDAL's own Python bindings (the writer flushes each block, which rasterio cannot ask for)."""
    from osgeo import gdal
    return gdal


def _creation_options(profile: dict) -> list:
    return [f"{key.upper()}={'YES' if value is True else value}" for key, value in profile.items()]


class RasterWriter:
    """A float32 GeoTIFF written block by block into a temporary file, renamed on success.

    Every value written must be finite: invalid pixels are written as ``nodata``, never as
    NaN, so a block holding NaN or Inf is an error (:class:`NonFiniteResult`), not data.

    Use as a context manager: leaving the block with an exception (a cancel included)
    removes the temporary file, so the destination is either complete or untouched.
    ``tile_size`` (a side, or (rows, cols); multiples of 16) makes the GeoTIFF's tiles the blocks the caller
    writes (:func:`output_tiles`); ``compression`` is one of COMPRESSION_CHOICES.

    Each block is compressed and stored when it is written (GDAL's ``FlushCache``), in the caller's thread (tiling.py
    writes from a thread of its own). Left in GDAL's block cache, a run's tiles were compressed whenever the cache
    overflowed, by whichever thread read or wrote next, pushed the input tiles out of the cache, and the rest waited
    for the file to close: 0.7 s of a 600² × 218-band fusion in which nothing else ran.
    """

    def __init__(self, path: str, width: int, height: int, count: int, transform, crs_wkt, *,
                 band_names=None, band_tags=None, dataset_tags=None, nodata: float = OUTPUT_NODATA,
                 producer: str = "The computation", non_finite_hint: str = DEFAULT_NON_FINITE_HINT,
                 tile_size: int | tuple | None = None, compression: str = DEFAULT_COMPRESSION):
        ensure_writable(path)
        self.path = path
        self.producer, self.non_finite_hint = producer, non_finite_hint
        self.temp_path = temporary_path(path)
        self.nodata = nodata
        self.shape = (count, height, width)
        tile_rows, tile_cols = output_tiles(width, height, tile_size, count)
        # Level 1 (compression_profile): deflate at level 6 took 7.0 s instead of 3.9 s for a 600² × 218-band
        # result, for a file 3 % smaller. GDAL's compression threads (NUM_THREADS) would hold about 500 MB of tile
        # buffers with 218 bands; compression already runs in tiling.py's writer thread.
        options = dict(bigtiff="IF_SAFER", **compression_profile(compression))
        if tile_rows >= 16:
            options.update(tiled=True, blockxsize=tile_cols, blockysize=tile_rows)
        self._options = _creation_options(options)
        a, b, c, d, e, f = tuple(transform)[:6]
        self._geotransform = (c, a, b, f, d, e)
        self._crs_wkt = crs_wkt
        self._band_names = band_names
        self._band_tags = band_tags
        self._dataset_tags = dataset_tags or {}
        self._dst = None

    def _failed(self, doing: str, error: str) -> UserInputError:
        return UserInputError(f"Cannot {doing} the output '{self.path}': {error or 'GDAL gave no reason'} "
                              f"({free_space(self.temp_path)}). Choose a folder you can write to, on a disk with "
                              "room for the output, and rerun. Nothing was written.")

    def __enter__(self) -> "RasterWriter":
        gdal = _gdal()
        count, height, width = self.shape
        try:
            self._dst = gdal.GetDriverByName("GTiff").Create(self.temp_path, width, height, count,
                                                              gdal.GDT_Float32, self._options)
        except RuntimeError as exc:             # GDAL with exceptions on (gdal.UseExceptions())
            raise self._failed("create", str(exc)) from exc
        if self._dst is None:
            raise self._failed("create", gdal.GetLastErrorMsg())
        self._dst.SetGeoTransform(self._geotransform)
        if self._crs_wkt:
            self._dst.SetProjection(self._crs_wkt)
        for band in range(count):
            target = self._dst.GetRasterBand(band + 1)
            target.SetNoDataValue(self.nodata)
            if self._band_names:
                target.SetDescription(self._band_names[band])
            if self._band_tags and self._band_tags[band]:
                target.SetMetadata({str(k): str(v) for k, v in self._band_tags[band].items()})
        if self._dataset_tags:
            self._dst.SetMetadata({str(k): str(v) for k, v in self._dataset_tags.items()})
        return self

    def write(self, values: np.ndarray, row0: int, col0: int) -> None:
        """Write ``values`` (count, rows, cols) at the given pixel offset; refuse any non-finite value. Values with
        their bands innermost (core.layout.rows_of_pixels: some columns of such an array too) are handed to GDAL as
        they lie, pixel by pixel: the GeoTIFF stores its pixels that way too (GDAL's default for several bands)."""
        count, rows, cols = values.shape
        by_pixel = values.dtype == np.float32 and rows_of_pixels(values)
        if not by_pixel:
            values = np.ascontiguousarray(values, dtype=np.float32)
        finite = np.isfinite(values)
        if not finite.all():
            raise NonFiniteResult(
                f"{self.producer} produced {int((~finite).sum())} non-finite value(s) (NaN or Inf, or beyond the "
                f"float32 range) in the block at rows {row0}–{row0 + rows - 1}, columns {col0}–{col0 + cols - 1}; "
                f"the run stopped and '{self.path}' was not written. {self.non_finite_hint}")
        gdal = _gdal()
        gdal.ErrorReset()
        try:
            if by_pixel:
                pixels = values.transpose(1, 2, 0)
                code = self._dst.WriteRaster(col0, row0, cols, rows, _memory_spanned(pixels),
                                             buf_type=gdal.GDT_Float32, buf_pixel_space=4 * count,
                                             buf_line_space=pixels.strides[0], buf_band_space=4)
            else:
                code = self._dst.WriteRaster(col0, row0, cols, rows, memoryview(values).cast("B"),
                                             buf_type=gdal.GDT_Float32)
            if code == gdal.CE_None:
                self._dst.FlushCache()
        except RuntimeError as exc:
            raise self._failed("write", str(exc)) from exc
        if code != gdal.CE_None or gdal.GetLastErrorType() >= gdal.CE_Failure:
            raise self._failed("write", gdal.GetLastErrorMsg())

    def _close(self) -> str | None:
        """Close the file; GDAL's message when storing its last parts (the tile index) failed."""
        gdal = _gdal()
        gdal.ErrorReset()
        dataset, self._dst = self._dst, None
        del dataset
        return gdal.GetLastErrorMsg() if gdal.GetLastErrorType() >= gdal.CE_Failure else None

    def __exit__(self, exc_type, exc, tb) -> bool:
        error = self._close() if self._dst is not None else None
        if exc_type is None and error is None:
            commit_temporary(self.temp_path, self.path)
            return False
        discard_temporary(self.temp_path)
        if exc_type is None:
            raise self._failed("finish", error)
        return False


def _memory_spanned(pixels: np.ndarray) -> memoryview:
    """The bytes from the first to the last value of ``pixels`` (rows, cols, bands), each row's values side by side,
    the rows perhaps apart: a buffer that GDAL reads with the rows' distance, the bytes between rows unread."""
    rows, cols, bands = pixels.shape
    span = ((rows - 1) * pixels.strides[0] + cols * bands * pixels.itemsize) // pixels.itemsize
    return memoryview(np.lib.stride_tricks.as_strided(pixels, shape=(span,), strides=(pixels.itemsize,),
                                                      writeable=False)).cast("B")


def write_raster(path: str, values: np.ndarray, transform, crs_wkt, **kwargs) -> None:
    """Write a whole (count, rows, cols) array as a GeoTIFF (atomically, like RasterWriter)."""
    count, rows, cols = values.shape
    with RasterWriter(path, cols, rows, count, transform, crs_wkt, **kwargs) as writer:
        writer.write(values, 0, 0)
