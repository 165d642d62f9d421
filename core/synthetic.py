"""A deterministic synthetic hyperspectral scene for demos and tests.

The scene is a linear mixture of physically plausible reflectance spectra (vegetation with
a red edge and leaf-water absorptions, soils with a clay feature, water, asphalt,
concrete, tile and metal roofs) over a landscape with the structures fusion must
preserve: straight-edged fields with row texture, forest with crown texture, a meandering
river and a lake with soft shores, roads and a town of buildings with sharp edges.
The same seed always gives the same scene, georeferenced in UTM zone 33N.
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

from .linalg import across_bands

DEFAULT_CRS = "EPSG:32633"
DEFAULT_ORIGIN = (365000.0, 5810000.0)
DEFAULT_BAND_SPACING_NM = 10.0   # FWHM basis of a single band, or of bands with no increasing neighbour


def default_wavelengths(count: int = 120, low: float = 400.0, high: float = 2500.0) -> np.ndarray:
    return np.linspace(low, high, count)


def _gauss(wl, centre, width):
    return np.exp(-0.5 * ((wl - centre) / width) ** 2)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def vegetation(wl, vigour=1.0):
    """Green leaves: chlorophyll absorption, red edge near 715 nm, NIR plateau, water bands."""
    visible = 0.035 + 0.065 * vigour * _gauss(wl, 550, 35) - 0.012 * _gauss(wl, 670, 25)
    plateau = np.interp(wl, [700, 1300, 1650, 1800, 2200, 2500], [0.50, 0.45, 0.32, 0.30, 0.17, 0.10])
    plateau *= (1 - 0.06 * _gauss(wl, 970, 25) - 0.12 * _gauss(wl, 1200, 35)
                - 0.55 * _gauss(wl, 1450, 55) - 0.75 * _gauss(wl, 1940, 65))
    edge = _sigmoid((wl - 712) / 11)
    return np.maximum(visible, 0.02) * (1 - edge) + (0.15 + 0.85 * vigour) * plateau * edge


def dry_vegetation(wl):
    """Senescent leaves and stubble: weak red edge, cellulose-lignin feature near 2100 nm."""
    base = np.interp(wl, [400, 550, 700, 1100, 1650, 2000, 2200, 2500], [0.05, 0.10, 0.20, 0.34, 0.40, 0.28, 0.30, 0.22])
    return base * (1 - 0.25 * _gauss(wl, 1450, 50) - 0.35 * _gauss(wl, 1940, 60) - 0.10 * _gauss(wl, 2100, 40))


def soil(wl, brightness=1.0):
    """Mineral soil: rising reflectance, iron shoulder near 900 nm, clay absorption at 2200 nm."""
    base = np.interp(wl, [400, 600, 800, 1000, 1600, 2100, 2500], [0.07, 0.14, 0.22, 0.25, 0.33, 0.34, 0.30])
    base *= (1 - 0.05 * _gauss(wl, 900, 60) - 0.20 * _gauss(wl, 1420, 40)
             - 0.28 * _gauss(wl, 1920, 50) - 0.12 * _gauss(wl, 2205, 25))
    return brightness * base


def water(wl):
    """Clear water: low blue-green reflectance, almost black beyond the red."""
    return 0.010 + 0.040 * _gauss(wl, 490, 60) * _sigmoid((680 - wl) / 30) + 0.004 * np.exp(-(wl - 400) / 600)


def asphalt(wl):
    return 0.06 + 0.05 * (wl - 400) / 2100 + 0.01 * _gauss(wl, 1700, 200)


def concrete(wl):
    return (0.22 + 0.12 * _sigmoid((wl - 500) / 80) - 0.04 * (wl - 1000).clip(0) / 1500
            - 0.05 * _gauss(wl, 2330, 40))


def tile_roof(wl):
    """Red clay tiles: iron absorption in the blue and green, bright from 600 nm on."""
    return 0.07 + 0.28 * _sigmoid((wl - 580) / 25) - 0.04 * _gauss(wl, 880, 80) - 0.05 * _gauss(wl, 1940, 60)


def metal_roof(wl):
    return 0.30 + 0.04 * np.sin((wl - 400) / 700) + 0.02 * _gauss(wl, 450, 60)


MATERIALS = ["vegetation", "vegetation_sparse", "dry_vegetation", "forest", "soil_dark", "soil_bright",
             "water", "asphalt", "concrete", "tile_roof", "metal_roof"]


def material_spectra(wl: np.ndarray) -> np.ndarray:
    """(materials, bands) reflectance in the order of :data:`MATERIALS`."""
    forest = 0.8 * vegetation(wl, 0.9) + 0.2 * vegetation(wl, 0.5) * 0.6
    return np.stack([vegetation(wl, 1.0), vegetation(wl, 0.45), dry_vegetation(wl), forest,
                     soil(wl, 0.75), soil(wl, 1.25), water(wl), asphalt(wl), concrete(wl),
                     tile_roof(wl), metal_roof(wl)]).astype(np.float64)


def _smooth_noise(rng, shape, sigma):
    field = gaussian_filter(rng.standard_normal(shape), sigma, mode="wrap")
    return field / (field.std() + 1e-12)


def _line_coverage(distance, half_width):
    """Anti-aliased coverage of a band of given half width: sharp but sub-pixel exact edges."""
    return np.clip(half_width + 0.5 - np.abs(distance), 0.0, 1.0)


MATERIAL_INDEX = {name: i for i, name in enumerate(MATERIALS)}


def _set_field_cover(rng, ab, inside, texture, rows_pattern, kind):
    """Cover fractions of one field of ``kind``; the remainder becomes the field's soil."""
    k = MATERIAL_INDEX
    local = np.clip(0.5 + 0.15 * texture, 0, 1)
    background = "soil_bright" if kind in ("grass", "stubble") or rng.random() < 0.3 else "soil_dark"
    if kind == "crop":
        cover = np.clip(rng.uniform(0.75, 1.0) - 0.3 * rows_pattern * rng.uniform(0.3, 1.0), 0, 1)
        share = np.clip(0.92 + 0.3 * (local - 0.5), 0, 1)
        ab[k["vegetation"]][inside] = (cover * share)[inside]
        ab[k["vegetation_sparse"]][inside] = (cover * (1 - share))[inside]
    elif kind == "grass":
        ab[k["vegetation_sparse"]][inside] = np.clip(0.7 + 0.2 * texture, 0, 1)[inside]
        ab[k["dry_vegetation"]][inside] = np.clip(0.2 - 0.1 * texture, 0, 0.3)[inside]
    elif kind == "bare":
        ab[k["soil_dark"]][inside] = (0.3 * rows_pattern)[inside]
    elif kind == "stubble":
        ab[k["dry_vegetation"]][inside] = (0.4 + 0.3 * rows_pattern)[inside]
    else:  # forest: crowns of a few pixels with shadowed gaps
        crowns = _smooth_noise(rng, inside.shape, 1.2)
        ab[k["forest"]][inside] = np.clip(0.75 + 0.25 * crowns, 0.2, 1.0)[inside]
    ab[:, inside] = np.minimum(ab[:, inside], 1.0)
    ab[k[background]][inside] += np.clip(1.0 - ab[:, inside].sum(axis=0), 0, None)


def _add_fields(rng, ab, yy, xx):
    """Fields: a Voronoi tessellation gives straight, sharp boundaries between parcels."""
    rows, cols = yy.shape
    n_fields = max(6, rows * cols // 1400)
    seeds = rng.uniform([0, 0], [rows, cols], size=(n_fields, 2))
    dist = (yy[None] - seeds[:, 0, None, None]) ** 2 + (xx[None] - seeds[:, 1, None, None]) ** 2
    field_id = dist.argmin(axis=0)
    texture = _smooth_noise(rng, (rows, cols), 3.0)
    for f in range(n_fields):
        kind = rng.choice(["crop", "crop", "grass", "bare", "stubble", "forest"])
        angle = rng.uniform(0, np.pi)
        rows_pattern = 0.5 + 0.5 * np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * 2 * np.pi / rng.uniform(3, 7))
        _set_field_cover(rng, ab, field_id == f, texture, rows_pattern, kind)
    ab /= ab.sum(axis=0, keepdims=True)


def _overlay(ab, material, coverage):
    """Lay ``material`` over the scene with the given per-pixel coverage."""
    ab *= (1.0 - coverage)[None]
    ab[MATERIAL_INDEX[material]] += coverage


def _add_water(rng, ab, yy, xx):
    """A meandering river with soft shores and a lake."""
    rows, cols = yy.shape
    centre_line = (rows * 0.3 + rows * 0.08 * np.sin(xx / cols * 5.0 + rng.uniform(0, 6))
                   + 3 * _smooth_noise(rng, (rows, cols), 20))
    river = gaussian_filter(_line_coverage(yy - centre_line, max(2.0, rows / 60)), 0.8)
    _overlay(ab, "water", np.clip(river, 0, 1))
    lake_field = gaussian_filter(rng.standard_normal((rows, cols)), min(rows, cols) / 12, mode="wrap")
    lake_field = lake_field / lake_field.std() - 0.5 * ((yy / rows - 0.75) ** 2 + (xx / cols - 0.2) ** 2) * 30
    _overlay(ab, "water", np.clip((lake_field - 1.2) * 2.0, 0, 1))


def _add_roads(rng, ab, yy, xx):
    """Straight roads with sharp, anti-aliased edges."""
    rows, cols = yy.shape
    for _ in range(max(2, (rows + cols) // 150)):
        angle = rng.uniform(0, np.pi)
        y0, x0 = rng.uniform(0, rows), rng.uniform(0, cols)
        distance = (xx - x0) * np.sin(angle) - (yy - y0) * np.cos(angle)
        _overlay(ab, "asphalt", _line_coverage(distance, rng.uniform(0.8, 1.6)))


def _add_town(rng, ab):
    """A town: a street grid with rectangular buildings of several roof materials."""
    rows, cols = ab.shape[1:]
    town_rows = slice(int(rows * 0.55), int(rows * 0.95))
    town_cols = slice(int(cols * 0.5), int(cols * 0.95))
    town = np.zeros((rows, cols))
    town[town_rows, town_cols] = 1.0
    _overlay(ab, "concrete", town * 0.6)
    for _ in range(max(4, rows * cols // 900)):
        h, w = rng.integers(3, 10, size=2)
        r0 = rng.integers(town_rows.start, max(town_rows.start + 1, town_rows.stop - h))
        c0 = rng.integers(town_cols.start, max(town_cols.start + 1, town_cols.stop - w))
        building = np.zeros((rows, cols))
        building[r0:r0 + h, c0:c0 + w] = 1.0
        _overlay(ab, rng.choice(["tile_roof", "tile_roof", "metal_roof", "concrete"]), building)


def generate_abundances(rows: int, cols: int, seed: int = 0) -> np.ndarray:
    """(materials, rows, cols) abundances that sum to one per pixel."""
    rng = np.random.default_rng(seed)
    ab = np.zeros((len(MATERIALS), rows, cols))
    yy, xx = np.mgrid[0:rows, 0:cols].astype(float)
    _add_fields(rng, ab, yy, xx)
    _add_water(rng, ab, yy, xx)
    _add_roads(rng, ab, yy, xx)
    _add_town(rng, ab)
    return ab


def generate_scene(rows: int = 240, cols: int = 240, wavelengths_nm=None, seed: int = 0) -> np.ndarray:
    """(bands, rows, cols) float32 surface reflectance of a synthetic landscape."""
    wl = default_wavelengths() if wavelengths_nm is None else np.asarray(wavelengths_nm, dtype=float)
    abundances = generate_abundances(rows, cols, seed)
    spectra = material_spectra(wl)
    scene = across_bands(spectra.T, abundances)
    rng = np.random.default_rng(seed + 1)
    illumination = 1.0 + 0.04 * _smooth_noise(rng, (rows, cols), 6.0)
    return np.clip(scene * illumination[None], 0.0, 1.0).astype(np.float32)


def band_fwhm(wavelengths_nm) -> np.ndarray:
    """FWHM of each band: 1.1 × the band spacing within its run of increasing wavelengths.

    Sensors with two detectors list overlapping ranges one after the other (EnMAP: VNIR up to
    ~990 nm, then SWIR from ~900 nm), so np.gradient over the whole list is negative around
    the jump. Within a run the spacing is positive; a band alone in its run gets the median
    spacing of the others.
    """
    wl = np.asarray(wavelengths_nm, dtype=float)
    spacing = np.full(wl.size, np.nan)
    for run in np.split(np.arange(wl.size), np.flatnonzero(np.diff(wl) <= 0) + 1):
        if run.size > 1:
            spacing[run] = np.gradient(wl[run])
    known = spacing[np.isfinite(spacing)]
    spacing[~np.isfinite(spacing)] = np.median(known) if known.size else DEFAULT_BAND_SPACING_NM
    return 1.1 * spacing


def scene_transform(pixel_size: float = 10.0, origin=DEFAULT_ORIGIN) -> tuple:
    return (pixel_size, 0.0, origin[0], 0.0, -pixel_size, origin[1])


def write_scene(path: str, rows: int = 240, cols: int = 240, wavelengths_nm=None, seed: int = 0,
                pixel_size: float = 10.0) -> str:
    """Write :func:`generate_scene` as a georeferenced GeoTIFF with wavelength metadata."""
    from rasterio.crs import CRS

    from .storage.raster_io import write_raster

    wl = default_wavelengths() if wavelengths_nm is None else np.asarray(wavelengths_nm, dtype=float)
    scene = generate_scene(rows, cols, wl, seed)
    tags = [{"wavelength": f"{w:.4f}", "wavelength_units": "Nanometers", "fwhm": f"{f:.4f}"}
            for w, f in zip(wl, band_fwhm(wl))]
    write_raster(path, scene, scene_transform(pixel_size), CRS.from_string(DEFAULT_CRS).to_wkt(),
                 band_names=[f"band {i + 1} ({w:.1f} nm)" for i, w in enumerate(wl)], band_tags=tags,
                 dataset_tags={"hyperfuse_synthetic_seed": seed})
    return path
