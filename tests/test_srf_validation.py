"""Spectral responses, WAVELENGTHS and the synthetic scene's band metadata: bad numbers are refused by name."""
from __future__ import annotations

import os

import numpy as np
import pytest
from hyperfuse.core import synthetic
from hyperfuse.core.errors import UserInputError
from hyperfuse.core.protocol import simulation, srf
from hyperfuse.core.storage.raster_io import open_raster

HEADER = "# a made-up sensor\nwavelength_nm,Blue,Red\n"
GOOD_ROWS = ["450,1,0", "500,0.5,0", "600,0,1", "650,0,0.5"]


def _csv(tmp_path, rows, header=HEADER):
    path = tmp_path / "srf.csv"
    path.write_text(header + "\n".join(rows) + "\n")
    return str(path)


def _with_row(index, row):
    rows = list(GOOD_ROWS)
    rows[index] = row
    return rows


def _refused(call) -> str:
    with pytest.raises(UserInputError) as info:
        call()
    assert "\n" not in str(info.value)
    return str(info.value)


def test_a_good_csv_reads(tmp_path):
    response = srf.read_srf_csv(_csv(tmp_path, GOOD_ROWS))
    assert response.band_names == ["Blue", "Red"] and response.responses.shape == (2, 4)
    assert np.all(np.isfinite(response.centres_nm()))


# The header is line 2 (after a comment), so data row k is on line k + 3.
@pytest.mark.parametrize("rows,expected", [
    (_with_row(1, "500,nan,0"), "holds nan in column 'Blue' on line 4; expected a finite response ≥ 0"),
    (_with_row(2, "600,0,inf"), "holds inf in column 'Red' on line 5; expected a finite response ≥ 0"),
    (_with_row(3, "650,0,-0.2"), "holds -0.2 in column 'Red' on line 6; expected a finite response ≥ 0"),
    (_with_row(0, "nan,1,0"), "holds nan in column 'wavelength_nm' on line 3; expected a positive wavelength"),
    (_with_row(0, "-450,1,0"), "holds -450 in column 'wavelength_nm' on line 3; expected a positive wavelength"),
    (_with_row(2, "480,0,1"), "must increase strictly from row to row; line 5 (480 nm) does not"),
    (_with_row(2, "600,0"), "has 2 values on line 5, but its header names 3 columns"),
    (_with_row(2, "600,0,one"), "holds something other than a number on line 5"),
    ([r.rsplit(",", 1)[0] + ",0" for r in GOOD_ROWS], "has no positive value in column 'Red'"),
], ids=["nan-response", "inf-response", "negative-response", "nan-wavelength", "negative-wavelength",
        "not-increasing", "short-row", "text-cell", "all-zero-band"])
def test_bad_srf_csv_is_refused_naming_file_column_and_row(tmp_path, rows, expected):
    path = _csv(tmp_path, rows)
    message = _refused(lambda: srf.read_srf_csv(path))
    assert expected in message and path in message, message


def test_nan_srf_csv_is_refused_through_the_csv_preset(tmp_path):
    path = _csv(tmp_path, _with_row(1, "500,NaN,0"))
    message = _refused(lambda: srf.load_response("csv_file", path))
    assert "column 'Blue' on line 4" in message


@pytest.mark.parametrize("text,expected", [
    ("450, nan, 550", "WAVELENGTHS entry 2 is nan"),
    ("450,550,inf", "WAVELENGTHS entry 3 is inf"),
    ("0,450,550", "WAVELENGTHS entry 1 is 0"),
    ("450;-550", "WAVELENGTHS entry 2 is -550"),
])
def test_non_finite_or_non_positive_wavelengths_are_refused(text, expected):
    message = _refused(lambda: simulation.parse_wavelengths(text))
    assert expected in message and "must be a positive number in nm" in message


def test_nan_in_a_wavelength_file_names_the_entry_and_file(tmp_path):
    path = tmp_path / "wl.csv"
    path.write_text("wavelength_nm\n0.45\nnan\n0.55\n")
    message = _refused(lambda: simulation.parse_wavelengths(str(path)))
    assert f"WAVELENGTHS entry 2 of the file '{path}' is nan" in message


def test_simulation_with_nan_wavelengths_writes_nothing(qgis_app, tmp_path):
    import processing
    from qgis.core import QgsProcessingException

    scene = str(tmp_path / "scene.tif")
    synthetic.write_scene(scene, 12, 12, wavelengths_nm=np.linspace(420, 980, 6), seed=2)
    outputs = {key: str(tmp_path / f"{key}.tif") for key in ("OUTPUT_LR_HSI", "OUTPUT_HR_MSI", "OUTPUT_REFERENCE")}
    with pytest.raises(QgsProcessingException, match="WAVELENGTHS entry 3 is nan"):
        processing.run("hyperfuse:simulate_degradation", {
            "INPUT": scene, "RATIO": 2, "SRF": 0, "WAVELENGTHS": "420,530,nan,760,870,980", **outputs})
    assert not any(os.path.exists(path) for path in outputs.values())


def test_synthetic_scene_fwhm_is_positive_for_overlapping_detectors(tmp_path):
    # EnMAP-like: the VNIR detector ends at 990 nm, the SWIR one starts again at 900 nm.
    wavelengths = np.concatenate([np.linspace(420, 990, 40), np.linspace(900, 2450, 60)])
    assert np.gradient(wavelengths).min() < 0            # what the FWHMs used to be computed from
    path = str(tmp_path / "scene.tif")
    synthetic.write_scene(path, 8, 8, wavelengths_nm=wavelengths, seed=0)
    fwhm = np.array(open_raster(path).fwhm_nm)
    assert fwhm.shape == (100,) and np.all(fwhm > 0)
    assert fwhm[:40] == pytest.approx(1.1 * 570 / 39, rel=1e-3)   # each detector keeps its own spacing
    assert fwhm[40:] == pytest.approx(1.1 * 1550 / 59, rel=1e-3)


@pytest.mark.parametrize("wavelengths", [[500.0], [700.0, 600.0, 500.0], [400.0, 500.0, 500.0, 600.0],
                                         list(synthetic.default_wavelengths())])
def test_band_fwhm_is_positive_for_any_band_order(wavelengths):
    assert np.all(synthetic.band_fwhm(wavelengths) > 0)
