"""Products with banded matrices, such as one axis of the blur-and-decimate and its Gram matrix.

Each row of such a matrix touches a short run of columns (the PSF's reach), so a dense product spends most of
its work on zeros: on a 594-pixel block at ratio 3 about 95 %. :class:`BandedMatrix` cuts the rows into chunks and
multiplies each chunk by the columns it touches only, as a dense product that BLAS runs at full speed.
"""
from __future__ import annotations

from functools import cached_property

import numpy as np

from ..linalg import matmul

CHUNK_ROWS = 32
# Below this share of the dense work, chunks pay for their bookkeeping.
WORTHWHILE_SHARE = 0.5


class BandedMatrix:
    """A dense matrix applied along one axis of a stack of images, by chunks of rows when that saves work."""

    def __init__(self, dense: np.ndarray, chunk_rows: int = CHUNK_ROWS):
        self.dense = np.asarray(dense)
        rows, cols = self.dense.shape
        touched = self.dense != 0
        self.runs = []
        for start in range(0, rows, chunk_rows):
            stop = min(rows, start + chunk_rows)
            columns = np.flatnonzero(touched[start:stop].any(axis=0))
            if columns.size:
                self.runs.append((start, stop, int(columns[0]), int(columns[-1]) + 1))
        work = sum((stop - start) * (last - first) for start, stop, first, last in self.runs)
        self.chunked = work < WORTHWHILE_SHARE * rows * cols
        self._blocks = {}

    @property
    def shape(self) -> tuple:
        return self.dense.shape

    @cached_property
    def T(self) -> "BandedMatrix":  # noqa: N802 (as numpy's)
        return BandedMatrix(self.dense.T)

    def chunks(self, dtype) -> list:
        """(start, stop, first, last, block) per chunk, the block in ``dtype``: a product never upcasts the image."""
        dtype = np.dtype(dtype)
        if dtype not in self._blocks:
            self._blocks[dtype] = [(start, stop, first, last,
                                    np.ascontiguousarray(self.dense[start:stop, first:last], dtype=dtype))
                                   for start, stop, first, last in self.runs]
        return self._blocks[dtype]

    def left(self, x: np.ndarray) -> np.ndarray:
        """self @ x along the rows axis of ``x`` (..., columns, k)."""
        if not self.chunked:
            return matmul(self.dense.astype(x.dtype, copy=False), x)
        out = np.zeros(x.shape[:-2] + (self.shape[0], x.shape[-1]), dtype=x.dtype)
        for start, stop, first, last, block in self.chunks(x.dtype):
            out[..., start:stop, :] = matmul(block, x[..., first:last, :])
        return out

    def right(self, x: np.ndarray) -> np.ndarray:
        """x @ selfᵀ along the last axis of ``x`` (..., k, columns)."""
        if not self.chunked:
            return matmul(x, self.dense.T.astype(x.dtype, copy=False))
        out = np.zeros(x.shape[:-1] + (self.shape[0],), dtype=x.dtype)
        for start, stop, first, last, block in self.chunks(x.dtype):
            out[..., start:stop] = matmul(x[..., first:last], block.T)
        return out
