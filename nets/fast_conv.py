"""Convolutions through NNPACK where it outruns oneDNN on the CPU, at inference.

torch runs a CPU convolution through oneDNN, directly on channels-last tensors. NNPACK, which torch's x86 and ARM
builds carry, computes 3 × 3 kernels by Winograd's transform and larger ones by FFT, with fewer multiplications;
torch takes it on its own only for batches of 16 images or more, and a fusion computes one block at a time. On 2
threads of an AMD EPYC with AVX2, one 204 × 570 image (GFLOP/s counted as a direct convolution's):

| kernel, channels | oneDNN, channels last | NNPACK |
|---|---|---|
| 5 × 5, 48 → 32 | 152 | 343 |
| 5 × 5, 32 → 32 | 101 | 363 |
| 3 × 3, 48 → 64 | 111–119 | 174–204 |
| 3 × 3, 64 → 64 | 144–152 | 194–199 |
| 3 × 3, 48 → 16 | 143–149 | 78–83 |

So :func:`takes_nnpack` keeps the narrow convolutions on oneDNN. NNPACK works on images laid out band by band
(NCHW). Its results differ from oneDNN's by float32 rounding: relative to the largest output value, up to 2e-6 by
FFT and 1.5e-5 by Winograd's transform with unit-scale random weights (oneDNN: 1e-6), and 7e-7 for a module of
DeepSen3's bundled model (tests/test_fast_conv.py).
"""
from __future__ import annotations

import functools
import math

import torch
from torch import nn

# Narrower convolutions stay on oneDNN (table above).
NNPACK_MIN_CHANNELS = 32
# Pixels of an image that one NNPACK call takes at most (row_strips). NNPACK's work buffer grows to the largest call
# and torch keeps it for the life of the thread: on a whole 600² image, DeepSen3's run peaked 0.3 GiB higher than
# with oneDNN. A streamed block's steps (about 200 × 570 pixels at 1500²) take one strip.
STRIP_PIXELS = 2 ** 17


@functools.lru_cache(maxsize=1)
def nnpack_ready() -> bool:
    """Whether this torch build has NNPACK and it initialised. Asking also initialises it: before that, every
    NNPACK convolution fails."""
    try:
        return bool(torch._nnpack_available())
    except (AttributeError, RuntimeError):
        return False


def takes_nnpack(conv: nn.Conv2d) -> bool:
    """Whether :func:`conv2d_nchw` gives ``conv`` to NNPACK at inference: a plain, 'same'-padded convolution with at
    least NNPACK_MIN_CHANNELS channels in and out."""
    return (nnpack_ready() and conv.stride == (1, 1) and conv.dilation == (1, 1) and conv.groups == 1
            and conv.padding_mode == "zeros" and conv.padding == tuple(k // 2 for k in conv.kernel_size)
            and min(conv.in_channels, conv.out_channels) >= NNPACK_MIN_CHANNELS)


def conv2d_nchw(x: torch.Tensor, conv: nn.Conv2d, weight: torch.Tensor | None = None,
                bias: torch.Tensor | None = None) -> torch.Tensor:
    """``conv(x)`` for a float32 CPU ``x`` laid out band by band (NCHW), by NNPACK where :func:`takes_nnpack`, in
    inference mode (NNPACK has no gradient here); the result is laid out band by band too. ``weight`` and ``bias``,
    where given, stand for the convolution's own (rescaled ones, say)."""
    weight = conv.weight if weight is None else weight
    bias = conv.bias if bias is None else bias
    if (not takes_nnpack(conv) or torch.is_grad_enabled() or x.device.type != "cpu" or x.dtype != torch.float32
            or not x.is_contiguous()):
        return conv._conv_forward(x, weight, bias)
    return torch._nnpack_spatial_convolution(x, weight.contiguous(), bias, list(conv.padding))


def row_strips(rows: int, cols: int, reach: int, max_pixels: int | None = None):
    """(first, stop, low, high) for each strip of rows first … stop of an image ``rows`` × ``cols``, read over rows
    low … high: ``reach`` rows further at each side, within the image, at most ``max_pixels`` pixels read. A
    convolution 'same'-padded on a strip pads where the image does not, but that reaches only ``reach`` rows (its
    kernels' radii added up): the rows first … stop are the whole image's. Strips of even height; at most
    ``max_pixels`` (by default STRIP_PIXELS) pixels read, or one row and its reach."""
    height = max(1, (max_pixels or STRIP_PIXELS) // max(cols, 1) - 2 * reach)
    height = math.ceil(rows / math.ceil(rows / height))
    for first in range(0, rows, height):
        stop = min(rows, first + height)
        yield first, stop, max(0, first - reach), min(rows, stop + reach)
