"""Matrix products at the optimised BLAS's speed inside QGIS as well as in plain Python.

QGIS's programs (the desktop and qgis_process) link GSL, and with it GSL's reference CBLAS, before Python starts.
NumPy's ``@``, ``dot`` and ``tensordot`` call ``cblas_sgemm``/``cblas_dgemm``, and the dynamic linker binds those
names to the first library that defines them: GSL's unoptimised loops, not OpenBLAS. Measured in qgis_process on
this project's 2-core reference machine, a 1024 × 256 by 256 × 4000 float32 product took 0.57 s through NumPy
against 0.014 s in plain Python. SciPy's BLAS wrappers call the Fortran names (``sgemm_``, ``dgemm_``), which GSL
does not define, so they reach OpenBLAS in both: 0.019 s in qgis_process. Every large product of the core goes
through :func:`matmul`, and so does every product on a block's path, small ones too: GSL's loops round differently
from OpenBLAS, and a block that a Dask worker (plain Python) computes must equal the one QGIS would compute to the
bit (a few R Rᵀ products of the projection through ``@`` moved single values by one float32 step).
"""
from __future__ import annotations

import numpy as np
from scipy.linalg import blas

from .layout import bands_innermost

_GEMM = {np.dtype(np.float32): blas.sgemm, np.dtype(np.float64): blas.dgemm}


def matmul(a, b) -> np.ndarray:
    """``np.matmul(a, b)`` for float32 and float64 operands, through SciPy's BLAS.

    Handles two matrices, a stack of matrices times one matrix (one product over the stack)
    and one matrix times a stack (one product per matrix of the stack), and vectors on
    either side; other cases, and other types, go to NumPy.
    """
    a, b = np.asarray(a), np.asarray(b)
    dtype = np.result_type(a, b)
    if dtype not in _GEMM or a.ndim == 0 or b.ndim == 0 or a.size == 0 or b.size == 0:
        return np.matmul(a, b)
    a, b = a.astype(dtype, copy=False), b.astype(dtype, copy=False)
    if b.ndim == 1:
        return matmul(a, b[:, None])[..., 0]
    if a.ndim == 1:
        return matmul(a[None], b)[..., 0, :]
    if b.ndim == 2:
        return _gemm(a.reshape(-1, a.shape[-1]), b).reshape(a.shape[:-1] + (b.shape[1],))
    if a.ndim == 2:
        out = np.empty(b.shape[:-2] + (a.shape[0], b.shape[-1]), dtype=dtype)
        flat_b, flat_out = b.reshape((-1,) + b.shape[-2:]), out.reshape((-1,) + out.shape[-2:])
        for index in range(flat_b.shape[0]):
            flat_out[index] = _gemm(a, flat_b[index])
        return out
    return np.matmul(a, b)


def _gemm(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b for two matrices of one float type. BLAS is column-major: it computes (a b)ᵀ = bᵀ aᵀ, whose operands
    are the C-ordered inputs seen as column-major without a copy, and whose column-major result read row-major is
    a b."""
    return _GEMM[a.dtype](1.0, b.T, a.T).T


def matmul_add(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out += a @ b`` in place, for matrices of one float type and a C-contiguous ``out``: one BLAS product that
    adds into ``out`` (its beta), without an array for ``a @ b`` or another pass over ``out``."""
    dtype = out.dtype
    if out.ndim != 2 or not out.flags.c_contiguous or dtype not in _GEMM:
        raise ValueError("matmul_add needs a C-contiguous float32 or float64 matrix to add into")
    a, b = np.asarray(a, dtype=dtype), np.asarray(b, dtype=dtype)
    # Column-major, as in _gemm: outᵀ += bᵀ aᵀ, and outᵀ is ``out`` seen column-major.
    result = _GEMM[dtype](1.0, b.T, a.T, beta=1.0, c=out.T, overwrite_c=True)
    if not np.shares_memory(result, out):
        out[...] = result.T
    return out


def across_bands(matrix, x) -> np.ndarray:
    """``matrix`` (out bands × bands) applied to the spectrum of every pixel of ``x`` (bands, rows, cols): the
    ``np.tensordot(matrix, x, axes=1)`` of an image, as one product (on the pixels' spectra, as they lie, where
    ``x`` has its bands innermost). The result is C-contiguous."""
    x = np.asarray(x)
    out_shape = (np.shape(matrix)[0],) + x.shape[1:]
    if bands_innermost(x):
        return _times_spectra(matrix, x.transpose(1, 2, 0).reshape(-1, x.shape[0])).reshape(out_shape)
    pixels = int(np.prod(x.shape[1:]))
    return matmul(matrix, x.reshape(x.shape[0], pixels)).reshape(out_shape)


def _times_spectra(matrix, spectra: np.ndarray) -> np.ndarray:
    """``matrix`` (out × bands) times every row of ``spectra`` (pixels × bands, C-contiguous): (out × pixels),
    C-contiguous. BLAS computes spectra · matrixᵀ, with ``spectra`` read as the transpose of its column-major view:
    asked for matrix · spectraᵀ instead (a product with a few rows), OpenBLAS took 210 MB of its own for 600² × 218
    bands."""
    dtype = np.result_type(matrix, spectra)
    if dtype not in _GEMM:
        return np.ascontiguousarray(np.matmul(spectra, np.asarray(matrix).T).T)
    matrix = np.ascontiguousarray(matrix, dtype=dtype)
    return _GEMM[dtype](1.0, spectra.astype(dtype, copy=False).T, matrix.T, trans_a=1).T
