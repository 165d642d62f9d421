"""The grid check of PROTOCOL.md "Grids": how an LR raster and an HR raster line up.

LR pixel (i, j) must cover exactly HR pixels [i·r, (i+1)·r) × [j·r, (j+1)·r) for an
integer ratio r ≥ 2. Inputs that do not line up are rejected with a message that names
the failed check and gives a ``gdalwarp`` command that fixes it. Where both grids line up
but their extents differ, the work is done on the common area.

Every algorithm that takes an LR/HR pair, and every comparison of two rasters, calls this
module; no other place decides whether two grids match.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from rasterio.crs import CRS

from ..errors import UserInputError
from ..storage.raster_io import RasterInfo, open_raster, read_block

RATIO_TOLERANCE = 1e-6      # relative, on the pixel-size ratio (PROTOCOL.md)
OFFSET_TOLERANCE = 1e-3     # in HR pixels, on the origin offset


@dataclass(frozen=True)
class GridPair:
    """Where an aligned LR/HR pair overlaps. Windows are (row0, col0, rows, cols)."""

    ratio: int
    lr_window: tuple
    hr_window: tuple
    transform: tuple          # affine of the HR common area
    crs_wkt: str | None

    @property
    def hr_shape(self) -> tuple:
        return self.hr_window[2], self.hr_window[3]


def _same_crs(a: RasterInfo, b: RasterInfo) -> bool:
    if a.crs_wkt is None or b.crs_wkt is None:
        return a.crs_wkt is None and b.crs_wkt is None
    return CRS.from_wkt(a.crs_wkt) == CRS.from_wkt(b.crs_wkt)


def _number(value: float) -> str:
    """A coordinate as gdalwarp takes it: plain decimals, no exponent, no trailing zeros."""
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _warp_hint(lr: RasterInfo, ratio: int, crs: bool) -> str:
    a, _, c, _, e, f = lr.transform
    size_x, size_y = abs(a) / ratio, abs(e) / ratio
    xmin, xmax = sorted((c, c + a * lr.width))
    ymin, ymax = sorted((f, f + e * lr.height))
    target = f"-t_srs '{lr.crs_label}' " if crs and lr.crs_wkt else ""
    extent = " ".join(_number(v) for v in (xmin, ymin, xmax, ymax))
    return (f"gdalwarp {target}-tr {_number(size_x)} {_number(size_y)} -te {extent} "
            f"-r cubic <HR-MSI> <HR-MSI aligned>.tif")


def check_grids(lr: RasterInfo, hr: RasterInfo) -> GridPair:
    """Check that ``lr`` and ``hr`` line up per PROTOCOL.md and return their common area."""
    if not lr.georeferenced and not hr.georeferenced:
        return _pair_from_sizes(lr, hr)
    # Without a CRS on either side, an identity geotransform is a grid of 1-unit pixels
    # from the origin, as GDAL reads it: that is how a simulated pair from an
    # ungeoreferenced scene lines up (the LR-HSI gets r-unit pixels).
    if lr.georeferenced != hr.georeferenced and (lr.crs_wkt or hr.crs_wkt):
        which = "LR-HSI" if lr.georeferenced else "HR-MSI"
        other = "HR-MSI" if lr.georeferenced else "LR-HSI"
        raise UserInputError(
            f"Only the {which} is georeferenced; the {other} has no geotransform, so the two cannot be "
            f"placed on one grid. Georeference the {other} (e.g. with the Georeferencer or gdal_translate "
            f"-a_ullr … -a_srs …) onto the {which}'s grid.")
    if not _same_crs(lr, hr):
        raise UserInputError(
            f"The grids do not line up: the LR-HSI is in {lr.crs_label} but the HR-MSI is in {hr.crs_label}. "
            f"Reproject the HR-MSI onto the LR-HSI grid, e.g. {_warp_hint(lr, _rough_ratio(lr, hr), True)}")
    la, lb, lc, ld, le, lf = lr.transform
    ha, hb, hc, hd, he, hf = hr.transform
    if lb or ld:
        raise UserInputError(
            "The grids do not line up: the LR-HSI has a rotated geotransform. Warp the LR-HSI to a north-up grid "
            "first, keeping its pixel size, e.g. gdalwarp -r near <LR-HSI> <LR-HSI north-up>.tif, and then align "
            "the HR-MSI with the result.")
    if hb or hd:
        raise UserInputError(
            "The grids do not line up: the HR-MSI has a rotated geotransform. Warp it onto a north-up grid aligned "
            f"with the LR-HSI, e.g. {_warp_hint(lr, _rough_ratio(lr, hr), False)}")
    ratio_x, ratio_y = la / ha, le / he
    if ratio_x <= 0 or ratio_y <= 0:
        raise UserInputError("The grids do not line up: the two rasters have opposite axis orientations. "
                             "Warp the HR-MSI onto a north-up grid with gdalwarp.")
    if ratio_x < 1.5 or ratio_y < 1.5:
        raise UserInputError(
            f"The LR-HSI pixel ({abs(la):g}) is not larger than the HR-MSI pixel ({abs(ha):g}): the ratio must be "
            "an integer of at least 2. Check that the layers are given in the right order.")
    ratio = round(ratio_x)
    if (abs(ratio_x - ratio) > RATIO_TOLERANCE * ratio_x or abs(ratio_y - ratio) > RATIO_TOLERANCE * ratio_y
            or abs(ratio_x - ratio_y) > RATIO_TOLERANCE * ratio_x):
        raise UserInputError(
            f"The grids do not line up: the LR pixel ({abs(la):g} × {abs(le):g}) is not an integer multiple of "
            f"the HR pixel ({abs(ha):g} × {abs(he):g}); the ratio is {ratio_x:.4g} × {ratio_y:.4g}. Resample the "
            f"HR-MSI so that the ratio is an integer, e.g. {_warp_hint(lr, max(2, ratio), False)}")
    offset_x, offset_y = (lc - hc) / ha + 0.0, (lf - hf) / he + 0.0
    if (abs(offset_x - round(offset_x)) > OFFSET_TOLERANCE or abs(offset_y - round(offset_y)) > OFFSET_TOLERANCE):
        raise UserInputError(
            f"The grids do not line up: the LR-HSI origin is offset from the HR-MSI grid by "
            f"({offset_x:.3f}, {abs(offset_y) if abs(offset_y) < 5e-4 else offset_y:.3f}) HR pixels, not a whole number. Resample the HR-MSI onto a grid "
            f"aligned with the LR-HSI, e.g. {_warp_hint(lr, ratio, False)}")
    return _common_area(lr, hr, ratio, round(offset_y), round(offset_x))


def _rough_ratio(lr: RasterInfo, hr: RasterInfo) -> int:
    try:
        return max(2, round(abs(lr.transform[0] / hr.transform[0])))
    except ZeroDivisionError:
        return 2


def _pair_from_sizes(lr: RasterInfo, hr: RasterInfo) -> GridPair:
    ratio_y, ratio_x = hr.height / lr.height, hr.width / lr.width
    if ratio_x != ratio_y or ratio_x != int(ratio_x) or ratio_x < 2:
        raise UserInputError(
            f"Neither raster is georeferenced, so the HR-MSI ({hr.width} × {hr.height}) must be exactly an integer "
            f"multiple (≥ 2) of the LR-HSI ({lr.width} × {lr.height}) in both directions, and it is not. "
            "Georeference both rasters, or crop the HR-MSI to r times the LR-HSI size.")
    ratio = int(ratio_x)
    return GridPair(ratio, (0, 0, lr.height, lr.width), (0, 0, hr.height, hr.width), tuple(hr.transform), hr.crs_wkt)


def _common_area(lr: RasterInfo, hr: RasterInfo, ratio: int, offset_row: int, offset_col: int) -> GridPair:
    """LR pixels whose r × r footprint lies wholly inside the HR raster."""
    row0 = max(0, math.ceil(-offset_row / ratio))
    col0 = max(0, math.ceil(-offset_col / ratio))
    row1 = min(lr.height, math.floor((hr.height - offset_row) / ratio))
    col1 = min(lr.width, math.floor((hr.width - offset_col) / ratio))
    if row1 <= row0 or col1 <= col0:
        raise UserInputError(
            "The LR-HSI and the HR-MSI do not overlap (no LR pixel lies wholly inside the HR-MSI). "
            "Check that both layers show the same area and are in the same CRS.")
    hr_row0, hr_col0 = offset_row + row0 * ratio, offset_col + col0 * ratio
    ha, hb, hc, hd, he, hf = hr.transform
    transform = (ha, hb, hc + hr_col0 * ha, hd, he, hf + hr_row0 * he)
    return GridPair(ratio, (row0, col0, row1 - row0, col1 - col0),
                    (hr_row0, hr_col0, (row1 - row0) * ratio, (col1 - col0) * ratio), transform, hr.crs_wkt)


def check_same_grid(reference: RasterInfo, other: RasterInfo, what: str = "fused raster") -> None:
    """Two rasters that are compared pixel by pixel must share size, CRS and geotransform."""
    problems = []
    if (reference.width, reference.height) != (other.width, other.height):
        problems.append(f"size {other.width} × {other.height} instead of {reference.width} × {reference.height}")
    if not _same_crs(reference, other):
        problems.append(f"CRS {other.crs_label} instead of {reference.crs_label}")
    if any(abs(a - b) > 1e-6 * max(1.0, abs(a)) for a, b in zip(reference.transform, other.transform)):
        problems.append(f"geotransform {tuple(round(v, 6) for v in other.transform)} instead of "
                        f"{tuple(round(v, 6) for v in reference.transform)}")
    if problems:
        raise UserInputError(
            f"The {what} '{other.path}' is not on the reference grid: " + "; ".join(problems) +
            ". Compare rasters on the same grid, e.g. the reference written by Simulate degradation and a fusion "
            "of its simulated inputs, or warp one onto the other with gdalwarp.")


def open_pair(lr_path: str, hr_path: str) -> tuple[RasterInfo, RasterInfo, GridPair]:
    """Open an LR-HSI/HR-MSI pair and check that the grids line up."""
    lr, hr = open_raster(lr_path), open_raster(hr_path)
    pair = check_grids(lr, hr)
    if len(lr.good_bands) <= len(hr.good_bands):
        raise UserInputError(
            f"The LR-HSI has {len(lr.good_bands)} usable bands and the HR-MSI {len(hr.good_bands)}: the hyperspectral "
            "input must have more bands than the multispectral one. Check that the layers are not swapped.")
    return lr, hr, pair


def read_common_area(lr: RasterInfo, hr: RasterInfo, pair: GridPair):
    """(lr values, lr valid, hr values, hr valid) of the good bands over the pair's common area."""
    lr_values, lr_valid = read_block(lr, *pair.lr_window)
    hr_values, hr_valid = read_block(hr, *pair.hr_window)
    return lr_values, lr_valid, hr_values, hr_valid
