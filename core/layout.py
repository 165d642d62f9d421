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
