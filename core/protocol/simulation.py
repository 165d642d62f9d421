"""Simulate an LR-HSI / HR-MSI pair from a reference HR-HSI (PROTOCOL.md, Wald's protocol).

Z = spatial degradation of X (PSF, decimation by r), Y = R X (spectral response), with
optional seeded noise. The reference is cropped to a multiple of r from its origin, and
the LR grid is the HR grid with the pixel size multiplied by r, from the same origin.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, replace

import numpy as np

from ..errors import UserInputError
from ..feedback import Feedback
from ..i18n import QT_TRANSLATE_NOOP
from ..storage.files import ensure_writable, write_text
from ..storage.raster_io import OUTPUT_NODATA, RasterInfo, band_metadata, open_raster, read_raster, write_raster
from .degradation import DEFAULT_MTF_GAIN, KernelPSF, PointSpread, add_noise, spatial_degrade, spectral_degrade
from .srf import SpectralResponse, response_matrix

# The point-spread functions by name, each with the description a model card records (in English; the PSF
# options show it translated).
PSF_KINDS = {"gaussian": QT_TRANSLATE_NOOP("HyperFuse", "Gaussian (MTF gain at Nyquist)"),
             "box": QT_TRANSLATE_NOOP("HyperFuse", "Box average over the r × r footprint"),
             "kernel": QT_TRANSLATE_NOOP("HyperFuse", "Kernel file (PSF_FILE)")}


@dataclass
class SimulationSettings:
    """How an LR-HSI / HR-MSI pair is simulated from a reference: the parameters of
    ``hyperfuse:simulate_degradation``, which supervised training uses too."""

    ratio: int
    srf: SpectralResponse
    mtf_gain: float = DEFAULT_MTF_GAIN
    psf: str = "gaussian"           # a key of PSF_KINDS
    psf_file: str | None = None     # the kernel CSV, for psf = "kernel"
    snr_hs: float = 0.0
    snr_ms: float = 0.0
    wavelengths_nm: list | None = None   # the reference's band centres, when its file has none
    seed: int = 0
    hs_response: SpectralResponse | None = None   # resample the reference to another HS sensor first

    def __post_init__(self):
        if self.psf not in PSF_KINDS:
            raise ValueError(f"Unknown PSF kind {self.psf!r}; expected one of {', '.join(PSF_KINDS)}.")

    def describe(self) -> dict:
        return {"ratio": self.ratio, "srf": self.srf.name, "ms_bands": list(self.srf.band_names),
                "hs_resampled_to": None if self.hs_response is None else self.hs_response.name,
                "psf": PSF_KINDS[self.psf], "mtf_gain": self.mtf_gain, "psf_file": self.psf_file,
                "snr_hs_db": self.snr_hs, "snr_ms_db": self.snr_ms, "seed": self.seed}


def make_psf(kind: str, ratio: int, mtf_gain: float = DEFAULT_MTF_GAIN, psf_file: str | None = None):
    """The PSF of ``kind`` (a key of PSF_KINDS) at ``ratio``."""
    if kind == "box":
        return PointSpread.box(ratio)
    if kind == "kernel":
        if not psf_file:
            raise UserInputError("PSF is 'kernel file' but no PSF_FILE was given. Choose a CSV with one kernel row "
                                 "per line.")
        return KernelPSF.from_csv(psf_file, ratio)
    if kind == "gaussian":
        return PointSpread.gaussian(ratio, mtf_gain)
    raise ValueError(f"Unknown PSF kind {kind!r}; expected one of {', '.join(PSF_KINDS)}.")


def parse_wavelengths(text: str | None) -> list | None:
    """WAVELENGTHS: a comma-separated list in nm, or the path of a CSV/text file holding them."""
    text = (text or "").strip()
    if not text:
        return None
    if os.path.isfile(text):
        try:
            values = np.loadtxt(text, delimiter=",", comments="#", ndmin=1, dtype=float).ravel()
        except ValueError:
            try:  # one column with a header line, e.g. "wavelength_nm"
                values = np.loadtxt(text, delimiter=",", comments="#", ndmin=1, dtype=float, skiprows=1).ravel()
            except ValueError as exc:
                raise UserInputError(f"The wavelength file '{text}' holds something other than numbers ({exc}).") from exc
    else:
        try:
            values = np.array([float(v) for v in text.replace(";", ",").split(",") if v.strip()])
        except ValueError as exc:
            raise UserInputError(f"WAVELENGTHS must be numbers in nm separated by commas, or a CSV file; got "
                                 f"'{text[:60]}'.") from exc
    # NaN passes every comparison, so it would slip past the unit guess below and every later
    # check, and surface only as a "coverage (nan–nan nm)" message.
    bad = np.flatnonzero(~np.isfinite(values) | (values <= 0))
    if bad.size:
        where = f" of the file '{text}'" if os.path.isfile(text) else ""
        raise UserInputError(f"WAVELENGTHS entry {bad[0] + 1}{where} is {values[bad[0]]:g}; every wavelength must "
                             "be a positive number in nm (or µm). Correct that entry.")
    if values.size and values.max() < 30:      # given in micrometres
        values = values * 1000.0
    return values.tolist()


def write_response_csv(path: str, srf: SpectralResponse, matrix: np.ndarray, wavelengths_nm) -> None:
    """The s × S response matrix: one row per MS band, one column per HS band (its wavelength)."""
    lines = [f"# Spectral response matrix R of {srf.name}: rows are MS bands, columns HS bands (nm). "
             f"Source: {srf.source}",
             "ms_band," + ",".join(f"{w:.4f}" for w in wavelengths_nm)]
    lines += [name + "," + ",".join(f"{v:.8g}" for v in row) for name, row in zip(srf.band_names, matrix)]
    write_text(path, "\n".join(lines) + "\n")


@dataclass
class SimulationResult:
    ratio: int
    reference_shape: tuple
    lr_shape: tuple
    ms_bands: list
    response: np.ndarray


def _full_bands(info: RasterInfo, good_values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    out = np.full((info.count,) + valid.shape, OUTPUT_NODATA, dtype=np.float32)
    out[info.good_bands] = np.where(valid[None], good_values, OUTPUT_NODATA)
    return out


@dataclass
class SimulatedPair:
    """A reference cropped to a multiple of r and the inputs simulated from it, in memory."""

    info: RasterInfo          # the reference raster (wavelengths filled in where given)
    reference: np.ndarray     # good bands, cropped
    reference_valid: np.ndarray
    lr: np.ndarray
    lr_valid: np.ndarray
    ms: np.ndarray
    ms_valid: np.ndarray
    full_matrix: np.ndarray   # s × all bands of the reference (zero columns for bad bands)
    matrix: np.ndarray        # s × good bands
    reference_wavelengths_nm: list   # of the reference's (good or resampled) bands

    @property
    def ratio(self) -> int:
        return self.reference.shape[1] // self.lr.shape[1]


def simulate_arrays(input_path: str, settings: SimulationSettings, feedback: Feedback | None = None) -> SimulatedPair:
    """The protocol's degradation of one reference raster, without writing files.

    ``settings.hs_response`` resamples the reference to another hyperspectral sensor's bands
    first (Y = R_hs X, e.g. Sentinel-3 OLCI from an airborne scene); the MS bands are still
    simulated from the original spectra.
    """
    feedback = feedback or Feedback()
    ratio, srf, hs_response, wavelengths_nm = (settings.ratio, settings.srf, settings.hs_response,
                                               settings.wavelengths_nm)
    info = open_raster(input_path)
    if wavelengths_nm is not None:
        if len(wavelengths_nm) != info.count:
            raise UserInputError(f"{len(wavelengths_nm)} wavelengths were given for {info.count} bands.")
        info.wavelengths_nm = list(wavelengths_nm)
    if info.wavelengths_nm is None:
        raise UserInputError(
            f"'{input_path}' has no wavelength metadata, so the MS bands cannot be simulated. Give the band centre "
            "wavelengths (WAVELENGTHS), or add 'wavelength' and 'wavelength_units' metadata to each band.")
    if ratio < 2:
        raise UserInputError(f"RATIO must be an integer of at least 2 (got {ratio}).")
    if ratio > min(info.width, info.height):
        raise UserInputError(f"RATIO {ratio} is larger than the image ({info.width} × {info.height} pixels): the LR "
                             "image would have no pixel. Use a smaller ratio or a larger image.")
    kernel = make_psf(settings.psf, ratio, settings.mtf_gain, settings.psf_file)
    full_matrix = response_matrix(srf, info.wavelengths_nm, info.fwhm_nm, info.good_bands)
    matrix = full_matrix[:, info.good_bands]
    feedback.info(f"Simulating {len(srf.band_names)} MS bands ({srf.name}) and an LR-HSI at ratio {ratio}.")
    values, valid = read_raster(info)
    feedback.progress(0.2)
    rows, cols = (info.height // ratio) * ratio, (info.width // ratio) * ratio
    values, valid = values[:, :rows, :cols], valid[:rows, :cols]
    ms = spectral_degrade(values, matrix)
    if hs_response is not None:
        values = spectral_degrade(values, response_matrix(hs_response, info.wavelengths_nm, info.fwhm_nm,
                                                          info.good_bands)[:, info.good_bands])
    lr, lr_valid = spatial_degrade(values, valid, ratio, kernel)
    feedback.progress(0.5)
    rng = np.random.default_rng(settings.seed)
    lr = add_noise(lr, lr_valid, settings.snr_hs, rng)
    ms = add_noise(ms, valid, settings.snr_ms, rng)
    feedback.check_cancelled()
    wavelengths = ([float(c) for c in hs_response.centres_nm()] if hs_response is not None
                   else [info.wavelengths_nm[b] for b in info.good_bands])
    return SimulatedPair(info, values, valid, lr, lr_valid, ms, valid.copy(), full_matrix, matrix, wavelengths)


def simulate(input_path: str, settings: SimulationSettings, out_lr: str, out_ms: str, out_reference: str,
             out_srf: str | None = None, feedback: Feedback | None = None) -> SimulationResult:
    """Write the LR-HSI, HR-MSI and cropped reference (and optionally R as CSV) for one scene.

    With ``settings.hs_response`` the reference and the LR-HSI have that sensor's bands (see
    :func:`simulate_arrays`), named and with wavelengths from the response.
    """
    feedback = feedback or Feedback()
    for path in (out_lr, out_ms, out_reference) + ((out_srf,) if out_srf else ()):
        ensure_writable(path)
    sim = simulate_arrays(input_path, settings, feedback)
    ratio, srf, hs_response = settings.ratio, settings.srf, settings.hs_response
    info, values, valid = sim.info, sim.reference, sim.reference_valid
    a, b, c, d, e, f = info.transform
    lr_transform = (a * ratio, b * ratio, c, d * ratio, e * ratio, f)
    hs_tags, hs_names = band_metadata(info), info.band_names
    if hs_response is not None:
        info = replace(info, count=len(hs_response.band_names), bad_bands=[])
        hs_names = hs_response.band_names
        hs_tags = [{"wavelength": f"{w:.4f}", "wavelength_units": "Nanometers"} for w in sim.reference_wavelengths_nm]
    ms_names = srf.labelled_band_names()
    centres = srf.centres_nm()
    ms_tags = [{"wavelength": f"{c:.4f}", "wavelength_units": "Nanometers"} for c in centres]
    common = {"hyperfuse_ratio": ratio, "hyperfuse_srf": srf.name, "hyperfuse_seed": settings.seed}
    write_raster(out_reference, _full_bands(info, values, valid), info.transform, info.crs_wkt,
                 band_names=hs_names, band_tags=hs_tags, dataset_tags=common)
    feedback.progress(0.7)
    write_raster(out_lr, _full_bands(info, sim.lr, sim.lr_valid), lr_transform, info.crs_wkt,
                 band_names=hs_names, band_tags=hs_tags, dataset_tags=common)
    feedback.progress(0.85)
    write_raster(out_ms, np.where(valid[None], sim.ms, OUTPUT_NODATA).astype(np.float32), info.transform,
                 info.crs_wkt, band_names=ms_names, band_tags=ms_tags, dataset_tags=common)
    if out_srf:
        write_response_csv(out_srf, srf, sim.full_matrix, sim.info.wavelengths_nm)
    feedback.progress(1.0)
    return SimulationResult(ratio, values.shape[1:], sim.lr.shape[1:], list(srf.band_names), sim.matrix)
