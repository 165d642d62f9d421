import pytest
from hyperfuse.core.errors import UserInputError
from hyperfuse.core.protocol.grids import check_grids, check_same_grid
from hyperfuse.core.storage.raster_io import RasterInfo
from rasterio.crs import CRS

UTM33 = CRS.from_epsg(32633).to_wkt()
UTM32 = CRS.from_epsg(32632).to_wkt()


def info(width, height, transform, crs=UTM33, count=4, georeferenced=True):
    return RasterInfo(path="x.tif", width=width, height=height, count=count, transform=transform, crs_wkt=crs,
                      crs_label="EPSG:32633" if crs == UTM33 else "EPSG:32632", georeferenced=georeferenced,
                      dtype="float32", nodata=[None] * count, scales=[1.0] * count, offsets=[0.0] * count,
                      wavelengths_nm=None, fwhm_nm=None, band_names=[f"b{i}" for i in range(count)])


HR = info(120, 90, (10.0, 0.0, 365000.0, 0.0, -10.0, 5810000.0))


def test_aligned_pair_gives_ratio_and_whole_area():
    lr = info(40, 30, (30.0, 0.0, 365000.0, 0.0, -30.0, 5810000.0), count=50)
    pair = check_grids(lr, HR)
    assert pair.ratio == 3
    assert pair.lr_window == (0, 0, 30, 40) and pair.hr_window == (0, 0, 90, 120)
    assert pair.transform == HR.transform


def test_common_area_when_extents_differ():
    # LR starts 2 HR pixels right of the HR origin and 3 rows up: a multiple of the HR pixel but not of r.
    lr = info(50, 40, (30.0, 0.0, 365020.0, 0.0, -30.0, 5810030.0), count=50)
    pair = check_grids(lr, HR)
    row0, col0, rows, cols = pair.hr_window
    assert pair.ratio == 3 and rows == pair.lr_window[2] * 3 and cols == pair.lr_window[3] * 3
    # Output origin is the origin of the first LR pixel inside the HR raster.
    lr_row0, lr_col0 = pair.lr_window[:2]
    assert pair.transform[2] == pytest.approx(365020.0 + 30.0 * lr_col0)
    assert pair.transform[5] == pytest.approx(5810030.0 - 30.0 * lr_row0)
    assert col0 == 2 + 3 * lr_col0 and row0 == -3 + 3 * lr_row0
    assert row0 >= 0 and row0 + rows <= 90 and col0 + cols <= 120


def test_different_crs_is_rejected_with_a_fix():
    lr = info(40, 30, (30.0, 0.0, 365000.0, 0.0, -30.0, 5810000.0), crs=UTM32)
    with pytest.raises(UserInputError, match=r"EPSG:32632 but the HR-MSI is in EPSG:32633.*gdalwarp -t_srs"):
        check_grids(lr, HR)


def test_non_integer_ratio_is_rejected_with_a_fix():
    lr = info(40, 30, (25.0, 0.0, 365000.0, 0.0, -25.0, 5810000.0))
    with pytest.raises(UserInputError, match=r"not an integer multiple.*2\.5.*gdalwarp -tr"):
        check_grids(lr, HR)


def test_origin_offset_is_rejected_with_a_fix():
    lr = info(40, 30, (30.0, 0.0, 365004.0, 0.0, -30.0, 5810000.0))
    with pytest.raises(UserInputError, match=r"offset from the HR-MSI grid by \(0\.400, 0\.000\).*gdalwarp -tr 10 10 -te"):
        check_grids(lr, HR)


def test_no_overlap_is_rejected():
    lr = info(40, 30, (30.0, 0.0, 465000.0, 0.0, -30.0, 5810000.0))
    with pytest.raises(UserInputError, match="do not overlap"):
        check_grids(lr, HR)


def test_ratio_within_tolerance_is_accepted():
    lr = info(40, 30, (30.0 * (1 + 5e-7), 0.0, 365000.0, 0.0, -30.0 * (1 + 5e-7), 5810000.0))
    assert check_grids(lr, HR).ratio == 3


def test_ungeoreferenced_pair_uses_sizes():
    identity = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    pair = check_grids(info(30, 20, identity, None, georeferenced=False), info(120, 80, identity, None, georeferenced=False))
    assert pair.ratio == 4
    with pytest.raises(UserInputError, match="integer multiple"):
        check_grids(info(30, 20, identity, None, georeferenced=False), info(100, 80, identity, None, georeferenced=False))
    # A pair simulated from an ungeoreferenced scene: r-unit LR pixels over the identity grid.
    pair = check_grids(info(30, 20, (3.0, 0.0, 0.0, 0.0, 3.0, 0.0), None), info(90, 60, identity, None, georeferenced=False))
    assert pair.ratio == 3 and pair.hr_window == (0, 0, 60, 90)
    with pytest.raises(UserInputError, match="Only the LR-HSI is georeferenced"):
        check_grids(info(30, 20, (30.0, 0.0, 365000.0, 0.0, -30.0, 5810000.0)), info(90, 60, identity, None, georeferenced=False))


def test_swapped_layers_are_reported():
    lr = info(40, 30, (30.0, 0.0, 365000.0, 0.0, -30.0, 5810000.0))
    with pytest.raises(UserInputError, match="not larger than the HR-MSI pixel"):
        check_grids(HR, lr)


def test_same_grid_check_names_the_difference():
    other = info(120, 90, (10.0, 0.0, 365010.0, 0.0, -10.0, 5810000.0))
    with pytest.raises(UserInputError, match="geotransform"):
        check_same_grid(HR, other)
    check_same_grid(HR, info(120, 90, HR.transform))


def test_a_rotated_lr_hsi_is_told_to_warp_itself_not_the_hr_msi():
    lr = info(40, 30, (30.0, 2.0, 365000.0, 2.0, -30.0, 5810000.0), count=50)
    with pytest.raises(UserInputError, match="the LR-HSI has a rotated geotransform. Warp the LR-HSI") as error:
        check_grids(lr, HR)
    assert "<HR-MSI>" not in str(error.value)


def test_a_rotated_hr_msi_is_told_to_warp_onto_the_lr_grid():
    lr = info(40, 30, (30.0, 0.0, 365000.0, 0.0, -30.0, 5810000.0), count=50)
    hr = info(120, 90, (10.0, 1.0, 365000.0, 1.0, -10.0, 5810000.0))
    with pytest.raises(UserInputError, match="the HR-MSI has a rotated geotransform.*gdalwarp .*<HR-MSI>"):
        check_grids(lr, hr)
