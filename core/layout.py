"""How a block's (bands, rows, cols) array lies in memory.

Arrays are indexed bands first throughout. A network's output is channels last, each pixel's bands side by side;
seen bands first without a copy, it is an array with its bands innermost. The projection and the writer take both
layouts as they lie, so that no block changes layout on its way to the file.
"""
from __future__ import annotations

import numpy as np


def bands_innermost(x: np.ndarray) -> bool:
    """Whether a (bands, rows, cols) array lies in memory pixel by pixel, each pixel's bands side by side (a
    channels-last network output seen bands first, torch_support.network_output). A C-contiguous array lies band
    by band, and is not."""
    return x.ndim == 3 and not x.flags.c_contiguous and x.transpose(1, 2, 0).flags.c_contiguous


def rows_of_pixels(x: np.ndarray) -> bool:
    """Whether a (bands, rows, cols) array lies, row by row, as :func:`bands_innermost` says, with its rows
    perhaps apart: some columns of such an array too (a block's centre in the part computed around it). GDAL
    writes it as it lies, given the distance between rows."""
    itemsize = x.itemsize
    return (x.ndim == 3 and x.strides[0] == itemsize and x.strides[2] == x.shape[0] * itemsize
            and x.strides[1] >= x.shape[2] * x.strides[2])
