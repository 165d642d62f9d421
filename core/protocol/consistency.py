"""Consistency of a fused image with its two observations, and the projection that restores it.

PROTOCOL.md's observation model: the LR-HSI is the HR-HSI blurred by the PSF and decimated by
r (Z = D X), the HR-MSI is the HR-HSI through the spectral responses (Y = R X). A fused image
X̂ rarely reproduces its own inputs. :func:`project_onto_observations` returns the image
nearest to X̂ (least squares) whose observations equal Z and Y, up to a small ridge that
absorbs what the two observations disagree on (noise, misregistration, an imperfect R or PSF):

    minimise ‖X − X̂‖² subject to D X = Z and R X = Y,

solved in its dual, X = X̂ + Dᵀμ + Rᵀν with (A Aᵀ + ε) [μ; ν] = [Z − D X̂; Y − R X̂], A = [D; R],
by conjugate gradients with a block-diagonal preconditioner. D is PROTOCOL.md's degradation
(core/protocol/degradation.py) written as one matrix per axis, so D and Dᵀ are exact, borders
included. Arrays are (bands, rows, cols); invalid pixels of either input carry no constraint.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .degradation import PointSpread, _degrade_axis

# A cap: the solver stops at TOLERANCE, within a few dozen iterations for a well-conditioned R (300 × 300 × 200
# bands: 6.4 s at either cap). An R estimated without smoothness from a scene of few materials can need more; at a
# cap of 60 such blocks stopped early, and tiled results differed from the whole image by 0.6 % of the signal.
DEFAULT_ITERATIONS = 300
DEFAULT_RIDGE = 1e-3     # ε relative to each block's diagonal: constraints are met to about this share
TOLERANCE = 1e-6         # relative residual at which conjugate gradients stop


def axis_matrix(length: int, ratio: int, psf: PointSpread) -> np.ndarray:
    """(length // ratio) × length matrix of the blur-and-decimate along one axis (symmetric borders)."""
    return _degrade_axis(np.eye(length), 0, ratio, psf)


@dataclass
class ObservationModel:
    """D (per-axis matrices of the separable PSF) and R (MS bands × HS bands) for one image size."""

    rows_matrix: np.ndarray
    cols_matrix: np.ndarray
    response: np.ndarray

    @staticmethod
    def build(rows: int, cols: int, ratio: int, psf: PointSpread, response: np.ndarray) -> "ObservationModel":
        return ObservationModel(axis_matrix(rows, ratio, psf), axis_matrix(cols, ratio, psf),
                                np.asarray(response, dtype=np.float64))

    def spatial(self, x: np.ndarray) -> np.ndarray:
        return np.einsum("ir,brc,jc->bij", self.rows_matrix, x, self.cols_matrix, optimize=True)

    def spatial_adjoint(self, z: np.ndarray) -> np.ndarray:
        return np.einsum("ir,bij,jc->brc", self.rows_matrix, z, self.cols_matrix, optimize=True)

    def lr_pixels_made_from_valid(self, lr_valid: np.ndarray, hr_valid: np.ndarray) -> np.ndarray:
        """The valid LR pixels whose PSF reaches only valid HR pixels. Any other was not made by D from the HR
        image (the sensor's nodata and the simulation both leave invalid pixels out), so it constrains nothing."""
        return lr_valid & ~(self.spatial((~hr_valid)[None].astype(np.float64))[0] > 1e-9)

    def spectral(self, x: np.ndarray) -> np.ndarray:
        return np.einsum("mb,brc->mrc", self.response, x, optimize=True)

    def spectral_adjoint(self, y: np.ndarray) -> np.ndarray:
        return np.einsum("mb,mrc->brc", self.response, y, optimize=True)


@dataclass(frozen=True)
class Consistency:
    """RMS misfit of a fused image's observations, relative to the RMS of the observations themselves."""

    spatial: float      # ‖D X − Z‖ / ‖Z‖ over valid LR pixels
    spectral: float     # ‖R X − Y‖ / ‖Y‖ over valid HR pixels

    def describe(self) -> str:
        return (f"blurred and decimated, it misses the LR-HSI by {100 * self.spatial:.3f} %; through the spectral "
                f"responses, it misses the HR-MSI by {100 * self.spectral:.3f} % (RMS, relative)")


def _relative(difference: np.ndarray, reference: np.ndarray, valid: np.ndarray) -> float:
    norm = float(np.sqrt(np.sum(reference[:, valid] ** 2)))
    return float(np.sqrt(np.sum(difference[:, valid] ** 2))) / norm if norm > 0 else 0.0


def consistency(fused: np.ndarray, lr, lr_valid, hr, hr_valid, model: ObservationModel) -> Consistency:
    """How far ``fused`` is from reproducing its inputs (see :class:`Consistency`)."""
    fused = np.asarray(fused, dtype=np.float64)
    return Consistency(_relative(model.spatial(fused) - lr, lr, lr_valid),
                       _relative(model.spectral(fused) - hr, hr, hr_valid))


def _block_diagonals(model: ObservationModel) -> tuple:
    """Typical diagonal of D Dᵀ (one value) and of R Rᵀ (one per MS band): the preconditioner's scales."""
    spatial = float(np.median(np.sum(model.rows_matrix ** 2, axis=1))) * float(np.median(
        np.sum(model.cols_matrix ** 2, axis=1)))
    spectral = np.sum(model.response ** 2, axis=1)
    return spatial, np.maximum(spectral, 1e-12 * max(float(spectral.max()), 1e-30))


def _dual_operator(model: ObservationModel, lr_mask: np.ndarray, hr_mask: np.ndarray, ridges: tuple, diagonals):
    """(μ, ν) ↦ (A Aᵀ + ε) (μ, ν) on the valid constraints, without forming an HR image of every HS band.

    D acts on space and R on bands, so they commute: D Rᵀ ν = Rᵀ (D ν) and R Dᵀ μ = Dᵀ (R μ), and
    D Dᵀ and R Rᵀ are small matrices. One application costs a few MS-band HR images, not S of them.
    """
    rows_gram, cols_gram = model.rows_matrix @ model.rows_matrix.T, model.cols_matrix @ model.cols_matrix.T
    spectral_gram = model.response @ model.response.T
    spatial_diag, spectral_diag = diagonals
    spatial_ridge, spectral_ridge = ridges

    def apply(mu, nu):
        mu, nu = mu * lr_mask, nu * hr_mask
        spatial = (np.einsum("ij,bjk,lk->bil", rows_gram, mu, cols_gram, optimize=True)
                   + np.einsum("mb,mij->bij", model.response, model.spatial(nu), optimize=True))
        spectral = (model.spatial_adjoint(np.einsum("mb,bij->mij", model.response, mu, optimize=True))
                    + np.einsum("mn,nrc->mrc", spectral_gram, nu, optimize=True))
        return ((spatial + spatial_ridge * spatial_diag * mu) * lr_mask,
                (spectral + spectral_ridge * spectral_diag * nu) * hr_mask)
    return apply


def project_onto_observations(fused: np.ndarray, lr: np.ndarray, lr_valid: np.ndarray, hr: np.ndarray,
                              hr_valid: np.ndarray, model: ObservationModel, *, ridge: float = DEFAULT_RIDGE,
                              spectral_ridge: float | None = None,
                              iterations: int = DEFAULT_ITERATIONS) -> np.ndarray:
    """The image nearest to ``fused`` whose observations are ``lr`` and ``hr`` (module docstring).

    ``spectral_ridge`` (default ``ridge``) softens the HR-MSI constraint alone: with ridge ρ a
    well-conditioned misfit is corrected by a share 1/(1 + ρ), for an R known less well than the PSF.
    """
    return project_and_measure(fused, lr, lr_valid, hr, hr_valid, model, ridge=ridge, spectral_ridge=spectral_ridge,
                               iterations=iterations).image


@dataclass(frozen=True)
class Projected:
    """A projection's result, with the squared misfits (LR-HSI, HR-MSI) over the constrained pixels before and
    after it, taken from the solver's own residuals instead of degrading the images again."""

    image: np.ndarray
    misfit_before: tuple
    misfit_after: tuple


def project_and_measure(fused: np.ndarray, lr: np.ndarray, lr_valid: np.ndarray, hr: np.ndarray,
                        hr_valid: np.ndarray, model: ObservationModel, *, ridge: float = DEFAULT_RIDGE,
                        spectral_ridge: float | None = None, iterations: int = DEFAULT_ITERATIONS) -> Projected:
    """:func:`project_onto_observations`, with the misfits before and after (:class:`Projected`)."""
    x0 = np.asarray(fused, dtype=np.float64)
    lr_mask, hr_mask = lr_valid[None].astype(np.float64), hr_valid[None].astype(np.float64)
    spatial_diag, spectral_diag = _block_diagonals(model)
    spectral_diag = spectral_diag[:, None, None]
    ridges = (ridge, ridge if spectral_ridge is None else spectral_ridge)
    apply = _dual_operator(model, lr_mask, hr_mask, ridges, (spatial_diag, spectral_diag))
    r_mu = (np.asarray(lr, np.float64) - model.spatial(x0)) * lr_mask
    r_nu = (np.asarray(hr, np.float64) - model.spectral(x0)) * hr_mask
    (mu, nu), (left_mu, left_nu) = _preconditioned_cg(apply, (r_mu, r_nu), (spatial_diag, spectral_diag), iterations)
    projected = x0 + model.spatial_adjoint(mu * lr_mask) + model.spectral_adjoint(nu * hr_mask)
    # The solver's residual is r − (A Aᵀ + ε)λ; adding the ridge term back gives r − A Aᵀλ, the misfit after.
    after_mu = (left_mu + ridges[0] * spatial_diag * mu) * lr_mask
    after_nu = (left_nu + ridges[1] * spectral_diag * nu) * hr_mask
    return Projected(projected.astype(np.float32), (float(np.sum(r_mu ** 2)), float(np.sum(r_nu ** 2))),
                     (float(np.sum(after_mu ** 2)), float(np.sum(after_nu ** 2))))


def _preconditioned_cg(apply, rhs: tuple, diagonals: tuple, iterations: int) -> tuple:
    """Conjugate gradients on a pair of arrays, Jacobi-preconditioned by one scale per block: (solution, residual)."""
    residual = list(rhs)
    solution = [np.zeros_like(r) for r in residual]
    preconditioned = [r / d for r, d in zip(residual, diagonals)]
    direction = [z.copy() for z in preconditioned]
    rz = sum(float(np.sum(r * z)) for r, z in zip(residual, preconditioned))
    start = np.sqrt(sum(float(np.sum(r ** 2)) for r in residual))
    for _ in range(iterations):
        if start == 0 or np.sqrt(sum(float(np.sum(r ** 2)) for r in residual)) <= TOLERANCE * start:
            break
        product = apply(*direction)
        alpha = rz / sum(float(np.sum(p * q)) for p, q in zip(direction, product))
        solution = [x + alpha * p for x, p in zip(solution, direction)]
        residual = [r - alpha * q for r, q in zip(residual, product)]
        preconditioned = [r / d for r, d in zip(residual, diagonals)]
        rz_next = sum(float(np.sum(r * z)) for r, z in zip(residual, preconditioned))
        direction = [z + (rz_next / rz) * p for z, p in zip(preconditioned, direction)]
        rz = rz_next
    return tuple(solution), tuple(residual)
