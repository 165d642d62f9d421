"""Classical HS/MS fusion baselines (NumPy/SciPy, no torch) and their registry.

Each entry gives what the algorithms, the runner (:mod:`.run`) and the benchmarks need:

- ``id`` (algorithm ``hyperfuse:fuse_<id>``), ``name``, ``citation``, ``summary``;
- ``predict(lr, lr_valid, hr, hr_valid, ratio, **options)`` → fused (S, r·h, r·w) float32
  for the usable bands of an aligned pair (arrays as core.raster_io.read_block returns
  them; invalid pixels may hold anything);
- ``tiled``: True when the result at a pixel depends only on a neighbourhood, given the
  global settings from ``prepare(lr, lr_valid, hr, hr_valid, ratio, **options) -> dict``
  (computed once on the estimation window of core/responses.py and merged into the
  options); ``receptive_field(ratio, **options)`` is that neighbourhood in HR pixels;
- ``max_pixels``: for whole-image methods, the largest common area (HR pixels) handled;
- ``options``: method settings, shown as advanced Processing parameters.

Methods: bicubic (core.upsample), GSA, MTF-GLP-HS / SFIM-HS, CNMF and HySure; each module's
docstring cites its paper and states its choices.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..degradation import DEFAULT_MTF_GAIN
from ..upsample import BICUBIC_LR_RADIUS, bicubic
from . import cnmf, glp, gsa, hysure


@dataclass(frozen=True)
class Option:
    """A method setting: the Processing parameter ``name`` passes ``key`` to ``predict``."""

    name: str
    key: str
    label: str
    default: object
    kind: str = "float"          # int | float | enum
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple = ()          # enum: the values passed to predict, in the parameter's order
    labels: tuple = ()           # enum: what the user sees
    help: str = ""


class _Bicubic:
    """core.upsample.bicubic as a registry method (invalid LR pixels count as 0, like fuse_bicubic)."""

    @staticmethod
    def predict(lr, lr_valid, hr, hr_valid, ratio, **_):
        return bicubic(np.where(lr_valid[None], lr, 0.0), ratio)

    @staticmethod
    def receptive_field(ratio, **_):
        return BICUBIC_LR_RADIUS * ratio


@dataclass(frozen=True)
class ClassicalMethod:
    id: str
    name: str
    citation: str
    summary: str
    module: object
    tiled: bool
    uses_response: bool = True   # needs R (given as SRF_FILE or estimated)
    options: tuple = ()

    @property
    def predict(self):
        return self.module.predict

    @property
    def prepare(self):
        return getattr(self.module, "prepare", None)

    def receptive_field(self, ratio: int, **options) -> int:
        return self.module.receptive_field(ratio, **options)

    @property
    def max_pixels(self) -> int | None:
        """Read from the module each time, so that a test can lower the module's MAX_PIXELS."""
        return None if self.tiled else self.module.MAX_PIXELS

    @property
    def defaults(self) -> dict:
        return {o.key: o.default for o in self.options}


def _gain(default: float, estimate_default: bool) -> Option:
    note = ("0 (the default) estimates σ from the inputs (core/responses.py)" if estimate_default else
            "0 estimates σ from the inputs (core/responses.py); 0.25 is the protocol's default")
    return Option("MTF_GAIN", "mtf_gain", "MTF gain of the PSF at Nyquist (0 = estimate)", default, "float", 0.0,
                  0.999, help=f"Response of the Gaussian PSF at the LR Nyquist frequency, σ = r·sqrt(−2 ln g)/π HR "
                              f"pixels; {note}.")


METHODS = {m.id: m for m in [
    ClassicalMethod(
        "bicubic", "Bicubic upsampling", "Cubic convolution, R. Keys, IEEE TASSP 29(6), 1981 (a = −0.75)",
        "Up-samples the LR-HSI, ignoring the HR-MSI: the baseline every method must beat.", _Bicubic, True,
        uses_response=False),
    ClassicalMethod(
        "gsa", "GSA (Gram-Schmidt adaptive)",
        "B. Aiazzi, S. Baronti, M. Selva, Improving component substitution pansharpening through multivariate "
        "regression of MS+Pan data, IEEE TGRS 45(10), 2007",
        "Component substitution: each MS band sharpens the HS bands of its group; the intensity is the "
        "non-negative regression of the group's up-sampled HS bands on the degraded MS band, and each HS band "
        "gets the detail with the gain cov(HS, I)/var(I).", gsa, True,
        options=(_gain(DEFAULT_MTF_GAIN, False),)),
    ClassicalMethod(
        "glp", "MTF-GLP-HS / SFIM-HS",
        "B. Aiazzi, L. Alparone, S. Baronti, A. Garzelli, M. Selva, MTF-tailored multiscale fusion of "
        "high-resolution MS and Pan imagery, PE&RS 72(5), 2006; M. Selva et al., Hyper-sharpening: a first approach "
        "on SIM-GA data, IEEE JSTARS 8(6), 2015",
        "Multi-resolution analysis: each HS band is modulated by the ratio of its group's MS band to that band's "
        "low-pass (MTF-matched Gaussian, or a box for SFIM), decimated and interpolated back.", glp, True,
        options=(Option("LOWPASS", "lowpass", "Low-pass filter", "mtf", "enum", choices=glp.LOWPASS,
                        labels=("MTF-matched Gaussian (MTF-GLP)", "Box r × r (SFIM)"),
                        help="0 the Gaussian whose response at the LR Nyquist frequency is MTF_GAIN (MTF-GLP-HS); "
                             "1 the r × r box average (SFIM-HS)."),
                 _gain(DEFAULT_MTF_GAIN, False))),
    ClassicalMethod(
        "cnmf", "CNMF",
        "N. Yokoya, T. Yairi, A. Iwasaki, Coupled nonnegative matrix factorization unmixing for hyperspectral and "
        "multispectral data fusion, IEEE TGRS 50(2), 2012",
        "Alternating non-negative unmixing of both images with shared endmembers (MS endmembers = R × HS "
        "endmembers) and abundances coupled through the PSF; fused = HS endmembers × HR abundances.", cnmf, False,
        options=(Option("ENDMEMBERS", "endmembers", "Endmembers", 20, "int", 2, 100,
                        help="Number of endmembers M of the unmixing (initialised by the successive projection "
                             "algorithm); more capture more materials but take longer."),
                 Option("INNER_ITERATIONS", "inner", "Inner iterations", 200, "int", 1, 5000,
                        help="Multiplicative-update iterations of each NMF step (the paper runs to convergence)."),
                 Option("OUTER_ITERATIONS", "outer", "Coupling rounds", 2, "int", 1, 20,
                        help="Rounds of MS unmixing then HS unmixing that couple the two factorisations."),
                 _gain(0.0, True))),
    ClassicalMethod(
        "hysure", "HySure",
        "M. Simões, J. Bioucas-Dias, L. B. Almeida, J. Chanussot, A convex formulation for hyperspectral image "
        "superresolution via subspace-based regularization, IEEE TGRS 53(6), 2015",
        "Convex fusion in a p-dimensional spectral subspace with vector-total-variation regularisation, solved by "
        "ADMM with FFT-based steps.", hysure, False,
        options=(Option("SUBSPACE", "subspace", "Subspace dimension p (0 = MS bands)", 0, "int", 0, 100,
                        help="Dimension of the spectral subspace (SVD of the LR-HSI). 0 uses the number of MS "
                             "bands, so that the HR-MSI observes every coefficient at high resolution; larger p "
                             "keeps more spectral detail, reconstructed from the LR-HSI with the TV prior alone."),
                 Option("LAMBDA_PHI", "lambda_phi", "TV weight λφ", 1e-3, "float", 0.0, 10.0,
                        help="Weight of the vector total variation, for data scaled to a mean of 1: larger values "
                             "give smoother, less noisy results."),
                 Option("LAMBDA_M", "lambda_m", "MS data weight λm", 10.0, "float", 1e-3, 1e4,
                        help="Weight of the HR-MSI fit relative to the LR-HSI fit."),
                 Option("ITERATIONS", "iterations", "ADMM iterations", 200, "int", 1, 5000,
                        help="Iterations of the ADMM solver (each costs eight FFTs of p bands)."),
                 _gain(0.0, True))),
]}


def method(method_id: str) -> ClassicalMethod:
    try:
        return METHODS[method_id]
    except KeyError:
        raise KeyError(f"unknown classical method '{method_id}'; known: {', '.join(METHODS)}") from None
