import numpy as np
import rasterio
from hyperfuse.core import synthetic
from hyperfuse.core.storage.raster_io import open_raster


def test_same_seed_same_scene_other_seed_other_scene():
    a = synthetic.generate_scene(48, 48, seed=1)
    assert np.array_equal(a, synthetic.generate_scene(48, 48, seed=1))
    assert not np.array_equal(a, synthetic.generate_scene(48, 48, seed=2))


def test_scene_is_georeferenced_with_wavelengths(tmp_path):
    path = str(tmp_path / "scene.tif")
    synthetic.write_scene(path, 40, 50, wavelengths_nm=np.linspace(400, 2500, 30), seed=0)
    info = open_raster(path)
    assert (info.width, info.height, info.count) == (50, 40, 30)
    with rasterio.open(path) as src:
        assert src.crs.to_epsg() == 32633
    assert info.pixel_size == (10.0, -10.0)
    assert np.allclose(info.wavelengths_nm, np.linspace(400, 2500, 30), atol=1e-3)


def test_spectra_are_physically_plausible():
    wl = np.arange(400.0, 2501.0, 10.0)
    at = lambda s, w: s[np.argmin(abs(wl - w))]  # noqa: E731
    veg = synthetic.vegetation(wl)
    assert at(veg, 850) > 4 * at(veg, 670)                      # red edge
    assert at(veg, 550) > at(veg, 480) and at(veg, 550) > at(veg, 670)  # green peak
    assert at(veg, 1450) < 0.7 * at(veg, 1650)                  # leaf water absorption
    water = synthetic.water(wl)
    assert at(water, 900) < 0.02 and at(water, 490) > 2 * at(water, 900)
    soil = synthetic.soil(wl)
    assert at(soil, 1600) > at(soil, 500) and at(soil, 2200) < at(soil, 2100)  # rising, clay feature
    spectra = synthetic.material_spectra(wl)
    assert spectra.min() >= 0 and spectra.max() <= 1


def test_scene_has_sharp_and_smooth_structures():
    abundances = synthetic.generate_abundances(120, 120, seed=0)
    assert np.allclose(abundances.sum(axis=0), 1.0)
    names = synthetic.MATERIALS
    for material in ("vegetation", "water", "asphalt", "tile_roof"):
        assert abundances[names.index(material)].max() > 0.9, material
    scene = synthetic.generate_scene(120, 120, seed=0)
    gradient = np.abs(np.diff(scene[60], axis=1))
    assert gradient.max() > 0.1                     # sharp man-made edges
    assert np.median(gradient) < 0.02               # mostly smooth surfaces
