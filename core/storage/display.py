"""Which bands show a raster in colour, chosen from its wavelengths (QGIS-free; algorithms/rendering.py applies it).

A hyperspectral raster opened with bands 1, 2, 3 as red, green, blue shows three almost equal
blue bands: a grey picture. Every raster the plugin writes carries each band's wavelength, so
the bands that the eye would see as red, green and blue can be chosen instead, and the
near-infrared band that makes vegetation stand out in a colour-infrared composite.
"""
from __future__ import annotations

from typing import NamedTuple

# Centres of the composites' channels: the usual true-colour targets (Sentinel-2 B4/B3/B2 lie
# within 25 nm of them) and the NIR band of colour-infrared composites (Sentinel-2 B8A, Landsat B5).
TRUE_COLOUR_NM = (640.0, 550.0, 470.0)
NIR_NM = 860.0
# A band further than this from a channel's target shows another colour: such a raster (a SWIR-only
# sensor, say) gets no composite rather than a misleading one. Sentinel-2 B8 (833 nm) still counts as NIR.
MAX_OFFSET_NM = 50.0


class Composite(NamedTuple):
    """Three bands shown as red, green and blue: 1-based band numbers, as GDAL and QGIS count them."""

    name: str
    red: int
    green: int
    blue: int
    wavelengths_nm: tuple   # of the red, green and blue bands

    @property
    def bands(self) -> tuple:
        return self.red, self.green, self.blue

    def describe(self) -> str:
        return (f"{self.name} (R {self.wavelengths_nm[0]:.0f} nm, G {self.wavelengths_nm[1]:.0f} nm, "
                f"B {self.wavelengths_nm[2]:.0f} nm)")


def nearest_band(wavelengths_nm, target_nm: float, unusable=()) -> int | None:
    """The 1-based number of the usable band nearest ``target_nm``, or None when none is within MAX_OFFSET_NM."""
    candidates = [(abs(w - target_nm), band) for band, w in enumerate(wavelengths_nm, start=1)
                  if band not in unusable and abs(w - target_nm) <= MAX_OFFSET_NM]
    return min(candidates)[1] if candidates else None


def _composite(name: str, wavelengths_nm, targets, unusable) -> Composite | None:
    bands = [nearest_band(wavelengths_nm, target, unusable) for target in targets]
    if None in bands or len(set(bands)) < 3:
        return None
    return Composite(name, *bands, tuple(float(wavelengths_nm[b - 1]) for b in bands))


def composites(wavelengths_nm, unusable=()) -> list:
    """The composites a raster's bands allow, the one to show first first: true colour, then colour infrared.

    ``unusable`` holds 1-based bands that must not be shown (nodata everywhere). Empty without
    wavelengths or with fewer than three bands: such a raster keeps QGIS's default rendering.
    """
    if not wavelengths_nm or len(wavelengths_nm) < 3:
        return []
    red, green, _ = TRUE_COLOUR_NM
    found = [_composite("True colour", wavelengths_nm, TRUE_COLOUR_NM, unusable),
             _composite("Colour infrared", wavelengths_nm, (NIR_NM, red, green), unusable)]
    return [composite for composite in found if composite is not None]
