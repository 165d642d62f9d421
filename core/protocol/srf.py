"""Spectral response presets and the spectral response matrix R of PROTOCOL.md.

Presets are CSV files in ``core/protocol/srf_data`` (written by ``tools/convert_srf.py`` from the
agencies' tables, each naming its source) or box functions defined here. A user CSV has
the same form: a ``wavelength_nm`` column, then one column per MS band; lines starting with
``#`` are comments.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass

import numpy as np

from ..errors import UserInputError
from ..i18n import QT_TRANSLATE_NOOP
from ..storage.files import write_text

DATA_DIR = os.path.join(os.path.dirname(__file__), "srf_data")
# Share of a band's response that must fall inside the HS coverage (PROTOCOL.md).
MIN_COVERAGE = 0.5


@dataclass
class SpectralResponse:
    """Sampled response curves of an MS sensor: ``responses[k]`` over ``wavelengths_nm``."""

    name: str
    band_names: list
    wavelengths_nm: np.ndarray
    responses: np.ndarray
    source: str

    def centres_nm(self) -> np.ndarray:
        """Response-weighted centre wavelength of each band."""
        weights = self.responses.sum(axis=1)
        return (self.responses * self.wavelengths_nm).sum(axis=1) / weights

    def subset(self, names: list) -> "SpectralResponse":
        missing = [n for n in names if n not in self.band_names]
        if missing:
            raise UserInputError(f"{self.name} has no band {', '.join(missing)}; "
                                 f"its bands are {', '.join(self.band_names)}.")
        rows = [self.band_names.index(n) for n in names]
        return SpectralResponse(f"{self.name} ({', '.join(names)})", list(names), self.wavelengths_nm,
                                self.responses[rows], self.source)

    def labelled_band_names(self) -> list:
        """Names such as ``B4 (665 nm)`` for output band descriptions."""
        return [f"{n} ({c:.0f} nm)" for n, c in zip(self.band_names, self.centres_nm())]


def read_srf_csv(path: str, name: str | None = None) -> SpectralResponse:
    """Read a response CSV: ``wavelength_nm`` then one column per band, ``#`` comments."""
    header, line_numbers, values, comments = _read_srf_table(path)
    if values.ndim != 2 or values.shape[1] != len(header) or len(header) < 2 or len(values) < 2:
        raise UserInputError(
            f"The spectral response file '{path}' needs a wavelength column and at least one band column "
            "with at least two rows of numbers.")
    _check_srf_values(path, header, line_numbers, values)
    source = " ".join(c.lstrip("#").strip() for c in comments) or path
    return SpectralResponse(name or os.path.basename(path), header[1:], values[:, 0], values[:, 1:].T.copy(), source)


def _read_srf_table(path: str) -> tuple:
    """(header, file line number of each row, values, comment lines) of a response CSV."""
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            lines = list(enumerate(handle, start=1))
        comments = [line for _, line in lines if line.startswith("#")]
        table = [(number, row) for number, line in lines if not line.startswith("#")
                 for row in csv.reader([line]) if row]
        header = [h.strip() for h in table[0][1]]
    except (OSError, UnicodeDecodeError, IndexError, ValueError, csv.Error) as exc:
        raise UserInputError(
            f"The spectral response file '{path}' cannot be read ({exc}). It must be a CSV with a header "
            "'wavelength_nm,<band 1>,<band 2>,…' and one numeric row per wavelength in nm.") from exc
    rows = []
    for number, row in table[1:]:
        if len(row) != len(header):
            raise UserInputError(f"The spectral response file '{path}' has {len(row)} values on line {number}, "
                                 f"but its header names {len(header)} columns. Give one value per column.")
        try:
            rows.append([float(v) for v in row])
        except ValueError as exc:
            raise UserInputError(f"The spectral response file '{path}' holds something other than a number on "
                                 f"line {number} ({exc}). Every row after the header must be numbers.") from exc
    values = np.array(rows, dtype=float).reshape(-1, len(header))
    return header, [number for number, _ in table[1:]], values, comments


def _check_srf_values(path: str, header: list, line_numbers: list, values: np.ndarray) -> None:
    """Finite, positive, increasing wavelengths and finite, non-negative responses, each band somewhere > 0.

    float() reads 'nan' and 'inf' without complaint, and a NaN passes every comparison, so
    without these checks a NaN cell becomes a NaN band in the simulated MS image.
    """
    bad = ~np.isfinite(values) | (values < 0)
    bad[:, 0] |= values[:, 0] <= 0
    if bad.any():
        row, column = np.argwhere(bad)[0]
        what = "a positive wavelength in nm" if column == 0 else "a finite response ≥ 0"
        raise UserInputError(f"The spectral response file '{path}' holds {values[row, column]:g} in column "
                             f"'{header[column]}' on line {line_numbers[row]}; expected {what}. Correct that cell.")
    steps = np.flatnonzero(np.diff(values[:, 0]) <= 0)
    if steps.size:
        raise UserInputError(f"The wavelengths in '{path}' must increase strictly from row to row; line "
                             f"{line_numbers[steps[0] + 1]} ({values[steps[0] + 1, 0]:g} nm) does not.")
    for column in range(1, len(header)):
        if not values[:, column].any():
            raise UserInputError(f"The spectral response file '{path}' has no positive value in column "
                                 f"'{header[column]}'; every band needs a response somewhere. Correct or remove "
                                 "that column.")


def write_srf_csv(path: str, response: SpectralResponse) -> None:
    """Write ``response`` in the form :func:`read_srf_csv` reads; its source becomes the ``#`` comment."""
    names = [n.replace(",", " ").strip() or f"band {k + 1}" for k, n in enumerate(response.band_names)]
    lines = [f"# {line}" for line in (response.source or response.name).splitlines()]
    lines.append(",".join(["wavelength_nm"] + names))
    lines += [f"{w:.4f}," + ",".join(f"{v:.8g}" for v in column)
              for w, column in zip(response.wavelengths_nm, response.responses.T)]
    write_text(path, "\n".join(lines) + "\n")


def _box_preset(name: str, bands: list, source: str) -> SpectralResponse:
    grid = np.arange(350.0, 2551.0)
    responses = np.array([((grid >= low) & (grid <= high)).astype(float) for _, low, high in bands])
    return SpectralResponse(name, [b for b, _, _ in bands], grid, responses, source)


def _gaussian_preset(name: str, bands: list, source: str) -> SpectralResponse:
    return gaussian_response(name, [b for b, _, _ in bands], [c for _, c, _ in bands], [f for _, _, f in bands], source)


def gaussian_response(name: str, band_names: list, centres_nm, fwhm_nm, source: str) -> SpectralResponse:
    """Gaussian responses of given centres and FWHMs, e.g. a hyperspectral sensor's bands."""
    grid = np.arange(350.0, 2551.0, 0.5)
    sigma = np.asarray(fwhm_nm, dtype=float)[:, None] / (2.0 * np.sqrt(2.0 * np.log(2.0)))
    responses = np.exp(-0.5 * ((grid[None, :] - np.asarray(centres_nm, dtype=float)[:, None]) / sigma) ** 2)
    return SpectralResponse(name, list(band_names), grid, responses, source)


@dataclass(frozen=True)
class Preset:
    key: str
    label: str
    file: str | None = None
    bands: tuple | None = None
    boxes: tuple | None = None        # (band, low nm, high nm)
    gaussians: tuple | None = None    # (band, centre nm, FWHM nm)
    source: str = ""

    @property
    def from_file(self) -> bool:
        """The "CSV file" entry: responses come from the user's SRF_FILE."""
        return not (self.file or self.boxes or self.gaussians)

    def load(self, srf_file: str | None = None) -> SpectralResponse:
        if self.from_file:
            if not srf_file:
                raise UserInputError("SRF is 'CSV file' but no SRF_FILE was given. Choose a CSV with a "
                                     "'wavelength_nm' column and one column per MS band.")
            return read_srf_csv(srf_file)
        if self.boxes:
            return _box_preset(self.label, list(self.boxes), self.source)
        if self.gaussians:
            return _gaussian_preset(self.label, list(self.gaussians), self.source)
        srf = read_srf_csv(os.path.join(DATA_DIR, self.file), self.label)
        if self.bands:
            srf = srf.subset(list(self.bands))
            srf.name = self.label
        return srf


_S2_10M = ("B2", "B3", "B4", "B8")
# The order is public: it is the SRF enum of hyperfuse:simulate_degradation (and train_model), whose
# option index the algorithms turn into the preset's key. Append only.
# Labels with words in them are marked for translation (core/i18n.py); a sensor name is left as it is.
PRESETS = [
    Preset("s2a_10m", "Sentinel-2A MSI 10 m (B2, B3, B4, B8)", "sentinel2a_msi.csv", _S2_10M),
    Preset("s2b_10m", "Sentinel-2B MSI 10 m (B2, B3, B4, B8)", "sentinel2b_msi.csv", _S2_10M),
    Preset("s2a_all", QT_TRANSLATE_NOOP("HyperFuse", "Sentinel-2A MSI, all 13 bands"), "sentinel2a_msi.csv"),
    Preset("s2b_all", QT_TRANSLATE_NOOP("HyperFuse", "Sentinel-2B MSI, all 13 bands"), "sentinel2b_msi.csv"),
    Preset("l8_oli", "Landsat 8 OLI (B1–B9)", "landsat8_oli.csv"),
    Preset("l9_oli", "Landsat 9 OLI (B1–B9)", "landsat9_oli.csv"),
    Preset("mlpln_4band", QT_TRANSLATE_NOOP("HyperFuse", "MLPLN 4-band averaging (Blue, Green, Red, NIR)"),
           boxes=(("Blue", 445, 516), ("Green", 506, 595), ("Red", 632, 698), ("NIR", 757, 853)),
           source="MLPLN paper: average of the HS bands inside each range"),
    Preset("s3a_olci", "Sentinel-3A OLCI (Oa01–Oa21)", "sentinel3a_olci.csv"),
    Preset("s3b_olci", "Sentinel-3B OLCI (Oa01–Oa21)", "sentinel3b_olci.csv"),
    Preset("worldview2", QT_TRANSLATE_NOOP("HyperFuse", "WorldView-2 (8 bands)"),
           boxes=(("Coastal", 400, 450), ("Blue", 450, 510), ("Green", 510, 580), ("Yellow", 585, 625),
                  ("Red", 630, 690), ("RedEdge", 705, 745), ("NIR1", 770, 895), ("NIR2", 860, 1040)),
           source="WorldView-2 band edges of the DigitalGlobe specification, as box responses (the measured "
                  "curves are not freely redistributable); use SRF_FILE for measured curves"),
    Preset("rgb_camera", QT_TRANSLATE_NOOP("HyperFuse", "Generic RGB camera"),
           gaussians=(("Blue", 460, 80), ("Green", 540, 80), ("Red", 610, 70)),
           source="Gaussian responses typical of a consumer colour sensor (centres 460, 540, 610 nm)"),
    Preset("csv_file", QT_TRANSLATE_NOOP("HyperFuse", "CSV file (SRF_FILE)")),
]


def parse_band_list(text: str | None) -> list:
    """``'B2,B3, B4'`` → ``['B2', 'B3', 'B4']``; empty text → ``[]`` (all bands)."""
    return [t.strip() for t in (text or "").replace(";", ",").split(",") if t.strip()]


def load_response(key: str, srf_file: str | None = None, band_subset: str | None = None) -> SpectralResponse:
    """The responses of preset ``key`` (for "csv_file", of ``srf_file``), optionally a band subset."""
    try:
        chosen = preset(key)
    except KeyError:
        raise UserInputError(f"There is no spectral response preset {key!r}; the presets are "
                             f"{', '.join(p.key for p in PRESETS)}.") from None
    response = chosen.load(srf_file)
    names = parse_band_list(band_subset)
    return response.subset(names) if names else response


def preset(key: str) -> Preset:
    for p in PRESETS:
        if p.key == key:
            return p
    raise KeyError(key)


def response_matrix(srf: SpectralResponse, hs_wavelengths_nm, hs_fwhm_nm=None, good_bands=None) -> np.ndarray:
    """R (s × S) for HS bands at ``hs_wavelengths_nm``; rows non-negative, summing to 1.

    With FWHMs, R[k, j] integrates MS response k against a Gaussian of HS band j's FWHM;
    without, it samples the response at the HS band centre. Bands outside ``good_bands``
    get a zero column. An MS band whose response lies mostly outside the HS coverage is an
    error that names it.
    """
    centres = np.asarray(hs_wavelengths_nm, dtype=float)
    count = centres.size
    good = np.ones(count, dtype=bool) if good_bands is None else np.isin(np.arange(count), good_bands)
    grid, responses = srf.wavelengths_nm, srf.responses
    if hs_fwhm_nm is not None:
        sigma = np.asarray(hs_fwhm_nm, dtype=float) / (2.0 * np.sqrt(2.0 * np.log(2.0)))
        fine = np.arange(grid[0], grid[-1] + 0.25, 0.25)
        fine_resp = np.array([np.interp(fine, grid, r, left=0.0, right=0.0) for r in responses])
        gauss = np.exp(-0.5 * ((fine[None, :] - centres[:, None]) / sigma[:, None]) ** 2)
        gauss /= np.maximum(sigma[:, None] * np.sqrt(2 * np.pi), 1e-12)
        matrix = fine_resp @ gauss.T * 0.25
        half_width = np.asarray(hs_fwhm_nm, dtype=float) / 2.0
    else:
        matrix = np.array([np.interp(centres, grid, r, left=0.0, right=0.0) for r in responses])
        half_width = np.zeros(count)
    matrix[:, ~good] = 0.0
    low = (centres[good] - half_width[good]).min()
    high = (centres[good] + half_width[good]).max()
    step = np.gradient(grid)
    outside = []
    for k, name in enumerate(srf.band_names):
        total = (responses[k] * step).sum()
        inside = (responses[k] * step)[(grid >= low) & (grid <= high)].sum()
        if total <= 0 or inside / total < MIN_COVERAGE or matrix[k].sum() <= 0:
            outside.append(f"{name} ({100 * inside / max(total, 1e-12):.0f} % covered)")
    if outside:
        raise UserInputError(
            f"MS band(s) {', '.join(outside)} of {srf.name} lie mostly outside the HS wavelength coverage "
            f"({low:.0f}–{high:.0f} nm). Choose MS bands inside the HS range (MS_BANDS) or another preset.")
    return matrix / matrix.sum(axis=1, keepdims=True)
