"""Simulate an LR-HSI / HR-MSI pair from a reference HR-HSI (PROTOCOL.md, Wald's protocol).

Z = spatial degradation of X (PSF, decimation by r), Y = R X (spectral response), with
optional seeded noise. The reference is cropped to a multiple of r from its origin, and
the LR grid is the HR grid with the pixel size multiplied by r, from the same origin.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .degradation import DEFAULT_MTF_GAIN, PointSpread, add_noise, spatial_degrade, spectral_degrade
from .errors import UserInputError
from .feedback import Feedback
from .raster_io import OUTPUT_NODATA, RasterInfo, band_metadata, ensure_writable, open_raster, read_raster, write_raster
from .srf import SpectralResponse, response_matrix

PSF_GAUSSIAN, PSF_BOX = 0, 1


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


def simulate(input_path: str, ratio: int, srf: SpectralResponse, out_lr: str, out_ms: str, out_reference: str,
             mtf_gain: float = DEFAULT_MTF_GAIN, psf: int = PSF_GAUSSIAN, seed: int = 0, snr_hs: float = 0.0,
             snr_ms: float = 0.0, wavelengths_nm=None, feedback: Feedback | None = None) -> SimulationResult:
    feedback = feedback or Feedback()
    for path in (out_lr, out_ms, out_reference):
        ensure_writable(path)
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
    matrix = response_matrix(srf, info.wavelengths_nm, info.fwhm_nm, info.good_bands)[:, info.good_bands]
    feedback.info(f"Simulating {len(srf.band_names)} MS bands ({srf.name}) and an LR-HSI at ratio {ratio}.")
    values, valid = read_raster(info)
    feedback.progress(0.2)
    rows, cols = (info.height // ratio) * ratio, (info.width // ratio) * ratio
    values, valid = values[:, :rows, :cols], valid[:rows, :cols]
    kernel = PointSpread.box(ratio) if psf == PSF_BOX else PointSpread.gaussian(ratio, mtf_gain)
    lr, lr_valid = spatial_degrade(values, valid, ratio, kernel)
    feedback.progress(0.5)
    ms = spectral_degrade(values, matrix)
    rng = np.random.default_rng(seed)
    lr = add_noise(lr, lr_valid, snr_hs, rng)
    ms = add_noise(ms, valid, snr_ms, rng)
    feedback.check_cancelled()
    a, b, c, d, e, f = info.transform
    lr_transform = (a * ratio, b * ratio, c, d * ratio, e * ratio, f)
    hs_tags, hs_names = band_metadata(info), info.band_names
    ms_names = srf.labelled_band_names()
    centres = srf.centres_nm()
    ms_tags = [{"wavelength": f"{c:.4f}", "wavelength_units": "Nanometers"} for c in centres]
    common = {"hyperfuse_ratio": ratio, "hyperfuse_srf": srf.name, "hyperfuse_seed": seed}
    write_raster(out_reference, _full_bands(info, values, valid), info.transform, info.crs_wkt,
                 band_names=hs_names, band_tags=hs_tags, dataset_tags=common)
    feedback.progress(0.7)
    write_raster(out_lr, _full_bands(info, lr, lr_valid), lr_transform, info.crs_wkt,
                 band_names=hs_names, band_tags=hs_tags, dataset_tags=common)
    feedback.progress(0.85)
    write_raster(out_ms, np.where(valid[None], ms, OUTPUT_NODATA).astype(np.float32), info.transform, info.crs_wkt,
                 band_names=ms_names, band_tags=ms_tags, dataset_tags=common)
    feedback.progress(1.0)
    return SimulationResult(ratio, (rows, cols), lr.shape[1:], list(srf.band_names), matrix)
