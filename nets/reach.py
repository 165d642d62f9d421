"""Exact halos: which input pixels an output pixel depends on, traced layer by layer.

Each function maps an interval (first, last) of output indices of one layer, along one axis, to the interval of
input indices it reads, as PyTorch's layers index them (borders aside: the halo is about pixels inside the image).
A network's ``receptive_field`` chains them backwards from an output pixel at each phase its block origins allow
and takes the farthest input, so that the halo is exactly as wide as the dependence and not the sum of the layers'
reaches (nets/mhfnet.py, nets/ssjcn.py; their tests move single pixels and check both ways).
"""
from __future__ import annotations


def through_conv(span: tuple, kernel: int, stride: int = 1, padding: int | None = None) -> tuple:
    """Inputs of a convolution or pooling (``padding`` defaults to kernel // 2): output j reads
    stride·j − padding … stride·j − padding + kernel − 1."""
    padding = kernel // 2 if padding is None else padding
    first, last = span
    return stride * first - padding, stride * last - padding + kernel - 1


def through_transposed_conv(span: tuple, kernel: int, stride: int, padding: int = 0) -> tuple:
    """Inputs of a transposed convolution: input i writes outputs stride·i − padding … stride·i − padding + kernel − 1,
    so output o reads the inputs i with o + padding − kernel + 1 ≤ stride·i ≤ o + padding."""
    first, last = span
    return -((kernel - 1 - first - padding) // stride), (last + padding) // stride


def through_bicubic(span: tuple, ratio: int) -> tuple:
    """LR inputs of bicubic up-sampling by ``ratio`` (align_corners False): HR o reads the four LR pixels around
    (o + 0.5) / ratio − 0.5, from its floor − 1 to its floor + 2, or only that LR pixel where o falls on its centre
    (the cubic kernel is zero at the other whole offsets)."""
    def taps(pixel):
        source, offset = divmod(2 * pixel + 1 - ratio, 2 * ratio)
        return (source, source) if offset == 0 else (source - 1, source + 2)
    first, last = span
    ends = [taps(pixel) for pixel in {first, min(first + 1, last), max(last - 1, first), last}]
    return min(low for low, _ in ends), max(high for _, high in ends)


def widened(span: tuple, radius: int) -> tuple:
    """Inputs of a stride-1 window of ``radius`` (a (2·radius + 1)-wide convolution or local mean)."""
    return span[0] - radius, span[1] + radius


def hull(*spans: tuple) -> tuple:
    """The smallest interval that holds every one of ``spans``."""
    return min(span[0] for span in spans), max(span[1] for span in spans)


def on_hr_grid(span: tuple, pixel: int) -> tuple:
    """An interval of a grid whose pixels span ``pixel`` HR pixels, in HR pixels."""
    return span[0] * pixel, span[1] * pixel + pixel - 1


def farthest(dependence, phases: int) -> int:
    """The halo: for an output pixel at each phase 0 … phases − 1, ``dependence((p, p))`` is the HR interval of every
    input it reads; the largest distance from the pixel to either end."""
    reach = 0
    for phase in range(phases):
        first, last = dependence((phase, phase))
        reach = max(reach, phase - first, last - phase)
    return reach
