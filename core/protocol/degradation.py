"""Spatial, spectral and noise degradation of PROTOCOL.md, implemented once.

Used by "Simulate degradation", by self-supervised training (Wald protocol) and by every
benchmark. Arrays are (bands, rows, cols) float32 in physical units with a (rows, cols)
validity mask.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import UserInputError
from ..linalg import across_bands

DEFAULT_MTF_GAIN = 0.25


def gaussian_sigma(ratio: int, mtf_gain: float = DEFAULT_MTF_GAIN) -> float:
    """σ (HR pixels) of the Gaussian PSF whose response at the LR Nyquist frequency is ``mtf_gain``."""
    if not 0.0 < mtf_gain < 1.0:
        raise UserInputError(f"MTF_GAIN must lie strictly between 0 and 1 (got {mtf_gain}); 0.25 is typical.")
    return ratio * math.sqrt(-2.0 * math.log(mtf_gain)) / math.pi


@dataclass(frozen=True)
class PointSpread:
    """A separable PSF: weights ``taps`` at HR offsets ``first .. first+len-1`` from i·r."""

    first: int
    taps: np.ndarray

    @staticmethod
    def gaussian(ratio: int, mtf_gain: float = DEFAULT_MTF_GAIN) -> "PointSpread":
        sigma = gaussian_sigma(ratio, mtf_gain)
        centre = (ratio - 1) / 2.0          # the LR pixel centre, between HR pixels for even r
        first = math.floor(centre - 3.0 * sigma)
        last = math.ceil(centre + 3.0 * sigma)
        offsets = np.arange(first, last + 1, dtype=float)
        taps = np.exp(-0.5 * ((offsets - centre) / sigma) ** 2)
        return PointSpread(first, taps / taps.sum())

    @staticmethod
    def box(ratio: int) -> "PointSpread":
        return PointSpread(0, np.full(ratio, 1.0 / ratio))

    def frequency_response(self, frequency: float) -> float:
        """|H(f)| of the 1-D kernel at ``frequency`` cycles per HR pixel."""
        offsets = self.first + np.arange(self.taps.size)
        return float(abs(np.sum(self.taps * np.exp(-2j * np.pi * frequency * offsets))))


@dataclass(frozen=True)
class KernelPSF:
    """A non-separable PSF: ``kernel[a, b]`` weighs HR offset (first + a, first + b) from (i·r, j·r)."""

    first: int
    kernel: np.ndarray

    @staticmethod
    def from_csv(path: str, ratio: int) -> "KernelPSF":
        """A square kernel from a CSV of numbers (one kernel row per line), centred on the LR pixel centre."""
        try:
            kernel = np.loadtxt(path, delimiter=",", comments="#", ndmin=2, dtype=float)
        except (OSError, ValueError) as exc:
            raise UserInputError(f"The PSF kernel file '{path}' cannot be read ({exc}). It must be a CSV of numbers, "
                                 "one kernel row per line, e.g. 9 rows of 9 comma-separated weights.") from exc
        size = kernel.shape[0]
        if kernel.shape != (size, size) or size < 1:
            raise UserInputError(f"The PSF kernel in '{path}' is {kernel.shape[0]} × {kernel.shape[1]}; it must be square.")
        if np.any(kernel < 0) or not np.isfinite(kernel).all() or kernel.sum() <= 0:
            raise UserInputError(f"The PSF kernel in '{path}' must hold finite, non-negative weights with a positive sum.")
        if (size - ratio) % 2:
            raise UserInputError(
                f"A {size} × {size} kernel cannot be centred on the LR pixel centre at ratio {ratio} (the centre lies "
                f"{'between' if ratio % 2 == 0 else 'on'} HR pixels). Use a kernel size with the same parity as the "
                f"ratio, e.g. {size + 1} × {size + 1}.")
        return KernelPSF((ratio - size) // 2, kernel / kernel.sum())


def _degrade_2d(values: np.ndarray, psf: KernelPSF, ratio: int) -> np.ndarray:
    """Filter with a 2-D kernel (reflect borders) and keep one sample per LR pixel."""
    rows, cols = values.shape[-2:]
    h, w = rows // ratio, cols // ratio
    size = psf.kernel.shape[0]
    pad_low = max(0, -psf.first)
    pad_high = max(0, psf.first + size - ratio)
    padded = np.pad(values, [(0, 0)] * (values.ndim - 2) + [(pad_low, pad_high)] * 2, mode="symmetric")
    out = np.zeros(values.shape[:-2] + (h, w))
    for a in range(size):
        for b in range(size):
            if psf.kernel[a, b] == 0:
                continue
            r0, c0 = pad_low + psf.first + a, pad_low + psf.first + b
            out += psf.kernel[a, b] * padded[..., r0:r0 + (h - 1) * ratio + 1:ratio, c0:c0 + (w - 1) * ratio + 1:ratio]
    return out


def _degrade_axis(values: np.ndarray, axis: int, ratio: int, psf: PointSpread) -> np.ndarray:
    """Filter along ``axis`` with half-sample-symmetric (reflect) borders, one sample per LR pixel."""
    length = values.shape[axis]
    count = length // ratio
    last = psf.first + psf.taps.size - 1
    pad_low = max(0, -psf.first)
    pad_high = max(0, (count - 1) * ratio + last - (length - 1))
    widths = [(0, 0)] * values.ndim
    widths[axis] = (pad_low, pad_high)
    padded = np.pad(values, widths, mode="symmetric")
    out_shape = list(values.shape)
    out_shape[axis] = count
    out = np.zeros(out_shape, dtype=np.float64)
    for k, weight in enumerate(psf.taps):
        start = pad_low + psf.first + k
        index = [slice(None)] * values.ndim
        index[axis] = slice(start, start + (count - 1) * ratio + 1, ratio)
        out += weight * padded[tuple(index)]
    return out


def check_degradable(rows: int, cols: int, ratio: int) -> None:
    """Refuse an image smaller than one LR pixel."""
    if rows < ratio or cols < ratio:
        raise UserInputError(f"The raster ({cols} × {rows} pixels) is smaller than one LR pixel at ratio {ratio}. "
                             "Use a larger raster or a smaller ratio.")


def spatial_degrade(values: np.ndarray, valid: np.ndarray, ratio: int,
                    psf: "PointSpread | KernelPSF") -> tuple[np.ndarray, np.ndarray]:
    """Blur with ``psf`` and decimate by ``ratio`` (PROTOCOL.md "Spatial degradation").

    Rows and columns beyond a multiple of ``ratio`` are dropped. Invalid pixels do not
    contribute (normalised convolution); an LR pixel is valid only when its whole r × r
    footprint is valid.
    """
    bands, rows, cols = values.shape
    check_degradable(rows, cols, ratio)
    weight = valid.astype(np.float64)
    masked = values * weight
    if isinstance(psf, KernelPSF):
        blurred_weight = _degrade_2d(weight, psf, ratio)
        blurred = _degrade_2d(masked, psf, ratio)
    else:
        blurred_weight = _degrade_axis(_degrade_axis(weight[None], 1, ratio, psf), 2, ratio, psf)[0]
        blurred = _degrade_axis(_degrade_axis(masked, 1, ratio, psf), 2, ratio, psf)
    h, w = rows // ratio, cols // ratio
    footprint = valid[:h * ratio, :w * ratio].reshape(h, ratio, w, ratio).all(axis=(1, 3))
    out = np.where(blurred_weight > 1e-12, blurred / np.maximum(blurred_weight, 1e-12), 0.0)
    out[:, ~footprint] = 0.0
    return out.astype(np.float32), footprint


def spectral_degrade(values: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Y = R X with R (s × S) applied along the band axis."""
    bands, rows, cols = values.shape
    if matrix.shape[1] != bands:
        raise UserInputError(f"The spectral response matrix has {matrix.shape[1]} columns but the image has "
                             f"{bands} bands.")
    return across_bands(matrix, values).astype(np.float32)


def add_noise(values: np.ndarray, valid: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """Additive white Gaussian noise with σ_b = rms(band b) / 10^(SNR/20); SNR ≤ 0 adds none."""
    if snr_db <= 0:
        return values
    out = values.copy()
    for band in range(values.shape[0]):
        pixels = values[band][valid]
        rms = float(np.sqrt(np.mean(pixels.astype(np.float64) ** 2))) if pixels.size else 0.0
        noise = rng.standard_normal(values.shape[1:]).astype(np.float32) * np.float32(rms / 10 ** (snr_db / 20))
        out[band] = np.where(valid, values[band] + noise, values[band])
    return out
