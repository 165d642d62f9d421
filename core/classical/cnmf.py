"""CNMF — coupled non-negative matrix factorisation unmixing.

Reference: N. Yokoya, T. Yairi, A. Iwasaki, "Coupled nonnegative matrix factorization
unmixing for hyperspectral and multispectral data fusion", IEEE TGRS 50(2), 2012.

Both images are linear mixtures of the same endmembers: Z ≈ W_h H_h (HS endmember spectra
W_h, S × M; LR abundances H_h) and Y ≈ W_m H_m (MS endmembers W_m = R W_h; HR abundances
H_m). With the multiplicative updates of Lee and Seung (H ← H ⊙ WᵀV / WᵀWH,
W ← W ⊙ VHᵀ / WHHᵀ), Sec. III of the paper:

1. HS unmixing: W_h from the data (see below), H_h = 1/M; update H_h with W_h fixed,
   then W_h and H_h alternately.
2. MS unmixing: W_m = R W_h; H_m from H_h interpolated (first pass) or the previous H_m;
   update H_m with W_m fixed, then W_m and H_m alternately.
3. HS unmixing: H_h = H_m degraded by the PSF (spatial coupling); update W_h with H_h
   fixed, then both alternately. Steps 2–3 are repeated ``outer`` times.
4. Fused image X̂ = W_h H_m.

Abundances are kept close to summing to one by the paper's augmentation of V and W with a
row of δ (``DELTA`` after scaling the data to a mean of 1).

Choices made here (the paper leaves them open or uses randomness):
- Initial endmembers: the successive projection algorithm (SPA; Araújo et al. 2001,
  Gillis & Vavasis 2014), which picks the LR pixel of largest residual norm M times,
  projecting it out each time. It is deterministic, where the paper's VCA is random.
- Fixed iteration counts (``inner`` per update loop, ``outer`` coupling rounds) instead of
  a convergence threshold, so run time is predictable and results repeat exactly.
- R and the PSF: given, or estimated from the pair (core/protocol/responses.py); R is scaled per
  MS band by the least-squares gain between R Z and the degraded HR-MSI so that W_m is in
  MS units. Negative input values are clipped to 0 (NMF needs non-negative data).
- Invalid pixels, and wild ones (core/protocol/robust.py: far outside each band's 1–99 % range),
  are filled with the band means of the others. SPA picks the pixel of largest norm and
  the updates are least squares, so one wild pixel would otherwise become an endmember,
  scale the data and pull every endmember spectrum, i.e. change the whole image.

Whole-image method: the abundances of every HR pixel are coupled through the endmembers.
Memory is dominated by H_m and its updates (about 3·M float64 values per HR pixel) and
the S-band float32 output, so ``predict`` handles at most ``MAX_PIXELS`` HR pixels
(1024 × 1024; measured at 513 × 513 with 224 bands and M = 20: 0.4 GB, and 21 s with 50
inner iterations on two CPU cores, so about 1.6 GB and 5 minutes with the default 200 at
the limit). A larger common area is fused in overlapping blocks, each by ``predict`` with its
own endmembers (core/classical/run.py; the paper fuses one image as a whole).
"""
from __future__ import annotations

import numpy as np

from ..feedback import Feedback
from ..linalg import matmul
from ..protocol.upsample import bicubic
from . import common

MAX_PIXELS = 1024 * 1024
DELTA = 0.5
TINY = 1e-12


def successive_projection(data: np.ndarray, count: int) -> np.ndarray:
    """Indices of ``count`` columns of ``data`` (bands × pixels) picked by SPA."""
    residual = data.astype(np.float64, copy=True)
    picked = []
    for _ in range(count):
        norms = (residual ** 2).sum(axis=0)
        j = int(np.argmax(norms))
        if norms[j] <= 0:
            break
        picked.append(j)
        u = residual[:, j] / np.sqrt(norms[j])
        residual -= np.outer(u, matmul(u, residual))
    return np.array(picked, dtype=int)


def _augment(matrix: np.ndarray, delta: float) -> np.ndarray:
    return np.vstack([matrix, np.full((1, matrix.shape[1]), delta)])


def update_abundances(data, endmembers, abundances, iterations, delta=DELTA, feedback=None):
    """H ← H ⊙ WₐᵀVₐ / WₐᵀWₐH with W fixed (Wₐ, Vₐ: augmented by the sum-to-one row)."""
    wa = _augment(endmembers, delta)
    numerator = matmul(wa.T, _augment(data, delta))
    gram = wa.T @ wa
    for _ in range(iterations):
        if feedback:
            feedback.check_cancelled()
        abundances *= numerator / np.maximum(matmul(gram, abundances), TINY)
    return abundances


def update_endmembers(data, endmembers, abundances, iterations):
    """W ← W ⊙ VHᵀ / WHHᵀ with H fixed."""
    numerator = matmul(data, abundances.T)
    gram = matmul(abundances, abundances.T)
    for _ in range(iterations):
        endmembers *= numerator / np.maximum(matmul(endmembers, gram), TINY)
    return endmembers


def alternate(data, endmembers, abundances, iterations, delta=DELTA, feedback=None):
    """W and H updated in turn, one step each per iteration."""
    for _ in range(iterations):
        if feedback:
            feedback.check_cancelled()
        update_endmembers(data, endmembers, abundances, 1)
        update_abundances(data, endmembers, abundances, 1, delta)
    return endmembers, abundances


def predict(lr, lr_valid, hr, hr_valid, ratio: int, *, endmembers: int = 20, inner: int = 200, outer: int = 2,
            mtf_gain: float = 0.0, response=None, sigma=None, bounds: tuple | None = None,
            feedback: Feedback | None = None, **_) -> np.ndarray:
    """Fused (S, r·h, r·w) float32 of the whole image; see the module docstring. ``bounds`` are the (LR, HR)
    fences that screen wild pixels (core/protocol/robust.py), by default those of these pixels."""
    feedback = feedback or Feedback()
    common.check_whole_image_size("CNMF", hr.shape[1] * hr.shape[2], MAX_PIXELS)
    bands, h, w = lr.shape
    rows, cols = h * ratio, w * ratio
    response, psf = common.degradation_model(lr, lr_valid, hr, hr_valid, ratio, response, sigma, mtf_gain)
    # Wild pixels (core/protocol/robust.py) are filled like invalid ones: SPA would pick one as an endmember, and
    # the least-squares updates of the endmembers and the scale would follow it.
    lr_keep, hr_keep = common.screened(lr, lr_valid, hr[:, :rows, :cols], hr_valid[:rows, :cols], bounds)
    z = np.maximum(common.filled(lr, lr_keep), 0.0).astype(np.float64)
    y = np.maximum(common.filled(hr[:, :rows, :cols], hr_keep), 0.0).astype(np.float64)
    coupling = common.unit_gains(response, z, lr_keep, y, hr_keep, ratio, psf)[:, None] * response
    scale = max(float(z[:, lr_keep].mean()) if lr_keep.any() else float(z.mean()), TINY)
    z_flat, y_flat = z.reshape(bands, -1) / scale, y.reshape(y.shape[0], -1) / scale
    feedback.progress(0.05)

    count = min(endmembers, bands, z_flat.shape[1])
    picked = successive_projection(z_flat[:, lr_keep.ravel()] if lr_keep.any() else z_flat, count)
    pool = np.flatnonzero(lr_keep.ravel()) if lr_keep.any() else np.arange(z_flat.shape[1])
    hs_endmembers = np.maximum(z_flat[:, pool[picked]], TINY)
    count = hs_endmembers.shape[1]
    if count == 0:
        # No spectrum to unmix (a block of a large area without valid LR pixels, or all zero): the result is 0,
        # and nodata wherever the LR-HSI is.
        return np.zeros((bands, rows, cols), dtype=np.float32)
    lr_abundances = np.full((count, z_flat.shape[1]), 1.0 / count)
    update_abundances(z_flat, hs_endmembers, lr_abundances, inner, feedback=feedback)
    alternate(z_flat, hs_endmembers, lr_abundances, inner, feedback=feedback)
    hr_abundances = None
    for round_ in range(outer):
        ms_endmembers = np.maximum(coupling @ hs_endmembers, TINY)
        if hr_abundances is None:
            grid = bicubic(lr_abundances.reshape(count, h, w), ratio).reshape(count, -1)
            hr_abundances = np.maximum(grid.astype(np.float64), 1e-6)
        update_abundances(y_flat, ms_endmembers, hr_abundances, inner, feedback=feedback)
        alternate(y_flat, ms_endmembers, hr_abundances, inner, feedback=feedback)
        feedback.progress(0.1 + 0.85 * (round_ + 0.5) / outer)
        lr_abundances = common.degrade_filled(hr_abundances.reshape(count, rows, cols), ratio, psf)
        lr_abundances = np.maximum(lr_abundances.reshape(count, -1).astype(np.float64), 1e-6)
        update_endmembers(z_flat, hs_endmembers, lr_abundances, inner)
        alternate(z_flat, hs_endmembers, lr_abundances, inner, feedback=feedback)
        feedback.progress(0.1 + 0.85 * (round_ + 1) / outer)
    # float32 product: the output is the largest array (S values per HR pixel).
    fused = matmul((hs_endmembers * scale).astype(np.float32), hr_abundances.astype(np.float32))
    return fused.reshape(bands, rows, cols)
