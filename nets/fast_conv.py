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

import torch
from torch import nn

# Narrower convolutions stay on oneDNN (table above).
NNPACK_MIN_CHANNELS = 32


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


def conv2d_nchw(x: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:
    """``conv(x)`` for a float32 CPU ``x`` laid out band by band (NCHW), by NNPACK where :func:`takes_nnpack`, in
    inference mode (NNPACK has no gradient here); the result is laid out band by band too."""
    if (not takes_nnpack(conv) or torch.is_grad_enabled() or x.device.type != "cpu" or x.dtype != torch.float32
            or not x.is_contiguous()):
        return conv(x)
    return torch._nnpack_spatial_convolution(x, conv.weight.contiguous(), conv.bias, list(conv.padding))
