"""Blocks shared by several networks."""
from __future__ import annotations

import dataclasses

import torch
from torch import nn
from torch.nn import functional as F

from ..core.protocol.upsample import BICUBIC_LR_RADIUS, phase_taps
from .contract import DataInitialised, FusionNetwork
from .streaming import HR, LR, RowStage


def bicubic_upsample(lr_hsi: torch.Tensor, ratio: int) -> torch.Tensor:
    """Bicubic up-sampling on the grid of PROTOCOL.md: LR pixel i is centred on HR i·r + (r−1)/2, borders repeat
    the edge pixel. The same interpolation as ``F.interpolate(mode="bicubic", align_corners=False)`` and the
    protocol's own bicubic (core/protocol/upsample.py), whose polyphase kernel it applies one axis at a time.

    Each HR phase of an axis is a weighted sum of four LR neighbours, on the pixels laid out with the bands last
    (as the networks' inputs are, channels last), so that every operation runs over contiguous bands. On a 142² ×
    218-band block at ratio 3 it took 0.10 s against 0.26 s for ``F.interpolate``, whose float32 result also
    strayed from the exact one by up to 1e-4 of unit-scale values (this one by 6e-7).
    """
    radius = BICUBIC_LR_RADIUS
    upsampled = _upsampled_padded(F.pad(lr_hsi, (radius, radius, radius, radius), mode="replicate"), ratio)
    return upsampled if lr_hsi.is_contiguous(memory_format=torch.channels_last) else upsampled.contiguous()


def _upsampled_padded(padded: torch.Tensor, ratio: int) -> torch.Tensor:
    """:func:`bicubic_upsample` of LR pixels ``padded`` by BICUBIC_LR_RADIUS at every side (N, C, rows, cols), as a
    channels-last view."""
    pixels = padded.permute(0, 2, 3, 1).contiguous()      # (N, rows, cols, bands): a view for channels-last input
    taps = phase_taps(ratio)
    return _upsample_axis(_upsample_axis(pixels, 1, taps), 2, taps).permute(0, 3, 1, 2)


def add_shifted_upsamplings(out: torch.Tensor, mixed: torch.Tensor, size: int, ratio: int) -> torch.Tensor:
    """``out`` (N, C, rows, cols; channels last) plus, for each tap (dy, dx) of a ``size`` × ``size`` kernel, the LR
    channels ``mixed[:, t·C:(t + 1)·C]`` of its index t = (dy + size // 2)·size + dx + size // 2, up-sampled as by
    :func:`bicubic_upsample` and shifted by the tap (out[i, j] += up[i + dy, j + dx], zeros beyond the image); in
    place, in inference mode. Up-sampling is linear and separable: the columns' pass runs once over every tap on the
    LR rows, the taps of a kernel row add up there, and the rows' pass runs once per kernel row instead of once per
    tap."""
    channels, rows, cols = out.shape[1], out.shape[2], out.shape[3]
    radius, taps, half = BICUBIC_LR_RADIUS, phase_taps(ratio), size // 2
    padded = F.pad(mixed, (radius, radius, radius, radius), mode="replicate").permute(0, 2, 3, 1).contiguous()
    across = _upsample_axis(padded, 2, taps)            # (N, LR rows + 2·radius, cols, size² · C)
    pixels = out.permute(0, 2, 3, 1)                    # a view of channels-last ``out``
    for row_tap in range(size):
        row_sum = across.new_zeros(across.shape[:3] + (channels,))
        for col_tap in range(size):
            dx, tap = col_tap - half, row_tap * size + col_tap
            row_sum[:, :, max(0, -dx):cols - max(0, dx)] += (
                across[:, :, max(0, dx):cols - max(0, -dx), tap * channels:(tap + 1) * channels])
        dy, upsampled = row_tap - half, _upsample_axis(row_sum, 1, taps)
        pixels[:, max(0, -dy):rows - max(0, dy)] += upsampled[:, max(0, dy):rows - max(0, -dy)]
    return out


def _upsample_axis(pixels: torch.Tensor, axis: int, taps: list) -> torch.Tensor:
    """``pixels`` (N, rows, cols, bands), padded by BICUBIC_LR_RADIUS at both ends of ``axis`` (1 or 2), up-sampled
    along it by the ``taps`` of :func:`phase_taps`. In inference mode every phase is written into its place of the
    result; elsewhere (autograd, forward-mode too, has no ``out=``) the phases are stacked: the same operations, so
    the same values."""
    length = pixels.shape[axis] - 2 * BICUBIC_LR_RADIUS
    shape = list(pixels.shape)
    shape[axis] = length * len(taps)
    if not torch.is_inference_mode_enabled():
        stacked = [_phase(pixels, axis, first, weights) for first, weights in taps]
        return torch.stack(stacked, dim=axis + 1).reshape(shape)
    out = pixels.new_empty(pixels.shape[:axis] + (length, len(taps)) + pixels.shape[axis + 1:])
    for phase, (first, weights) in enumerate(taps):
        _phase(pixels, axis, first, weights, out=out.select(axis + 1, phase))
    return out.reshape(shape)


def _phase(pixels: torch.Tensor, axis: int, first: int, weights: list, out: torch.Tensor | None = None):
    """One phase of :func:`_upsample_axis`: the weighted sum of the LR neighbours each of its HR pixels reads (into
    ``out`` where given)."""
    length = pixels.shape[axis] - 2 * BICUBIC_LR_RADIUS
    (term, weight), *rest = [(pixels.narrow(axis, BICUBIC_LR_RADIUS + first + k, length), weight)
                             for k, weight in enumerate(weights) if weight != 0]
    total = torch.mul(term, weight) if out is None else torch.mul(term, weight, out=out)
    for term, weight in rest:
        total = torch.add(total, term, alpha=weight) if out is None else total.add_(term, alpha=weight)
    return total


def add_bicubic_upsampling(out: torch.Tensor, lr_hsi: torch.Tensor, ratio: int, offset: tuple = (0, 0)
                           ) -> torch.Tensor:
    """``out`` plus :func:`bicubic_upsample` of ``lr_hsi``, in place; with an ``offset`` (LR rows, LR columns),
    ``out`` is the part of the up-sampled image from HR row ``offset[0]·ratio`` and column ``offset[1]·ratio`` (its
    rows and columns multiples of ``ratio``). In inference mode, on a channels-last ``out``, the pass along the
    columns adds each HR column phase into ``out`` through one buffer of a phase, instead of forming the up-sampled
    image (an image of every band, on fresh memory, and one more pass over ``out``)."""
    radius, taps = BICUBIC_LR_RADIUS, phase_taps(ratio)
    padded = F.pad(lr_hsi, (radius, radius, radius, radius), mode="replicate")
    # The LR pixels that ``out``'s part reads, with the up-sampling's reach at each side.
    padded = padded[:, :, offset[0]:offset[0] + out.shape[2] // ratio + 2 * radius,
                    offset[1]:offset[1] + out.shape[3] // ratio + 2 * radius]
    if not torch.is_inference_mode_enabled() or not out.is_contiguous(memory_format=torch.channels_last):
        return out.add_(_upsampled_padded(padded, ratio))
    along_rows = _upsample_axis(padded.permute(0, 2, 3, 1).contiguous(), 1, taps)   # (N, HR rows, LR cols + 2R, C)
    target = out.permute(0, 2, 3, 1)                                                # a view of ``out``
    buffer = along_rows.new_empty(along_rows.shape[:2] + (along_rows.shape[2] - 2 * radius,) + along_rows.shape[3:])
    for phase, (first, weights) in enumerate(taps):
        target[:, :, phase::len(taps)].add_(_phase(along_rows, 2, first, weights, out=buffer))
    return out


def masked_mse(prediction: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the pixels where ``mask`` (N, 1, H, W) is 1."""
    weight = mask.expand_as(prediction)
    return ((prediction - target) ** 2 * weight).sum() / weight.sum().clamp_min(1.0)


def masked_l1(prediction: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean absolute error over the pixels where ``mask`` (N, 1, H, W) is 1."""
    weight = mask.expand_as(prediction)
    return ((prediction - target).abs() * weight).sum() / weight.sum().clamp_min(1.0)


def prime_factors(ratio: int) -> list:
    """Prime factors of ``ratio`` in ascending order (8 → [2, 2, 2], 6 → [2, 3], 5 → [5]).

    Networks defined for powers of two use one scale step per prime factor, so that any
    integer ratio ≥ 2 works and powers of two give exactly the paper's ×2 steps.
    """
    factors, n, p = [], int(ratio), 2
    while n > 1:
        while n % p == 0:
            factors.append(p)
            n //= p
        p += 1
    return factors


def pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple:
    """Pad bottom and right (edge values) to a multiple of ``multiple``; returns (padded, rows, cols)."""
    rows, cols = x.shape[-2:]
    pad_rows, pad_cols = (-rows) % multiple, (-cols) % multiple
    if pad_rows or pad_cols:
        x = F.pad(x, (0, pad_cols, 0, pad_rows), mode="replicate")
    return x, rows, cols


class FusionModel(nn.Module):
    """A network wrapped with the per-band normalisation it was trained with.

    Inputs and outputs are in physical units; the network sees standardised bands. The
    statistics are buffers, saved with the weights, so tiles of any size are normalised
    identically and tiled inference equals whole-image inference.
    """

    def __init__(self, net: nn.Module, hs_bands: int, ms_bands: int):
        if not isinstance(net, FusionNetwork):
            raise TypeError(f"{type(net).__name__} does not provide the network contract of nets/contract.py")
        super().__init__()
        self.net = net
        self.register_buffer("hs_mean", torch.zeros(hs_bands))
        self.register_buffer("hs_std", torch.ones(hs_bands))
        self.register_buffer("ms_mean", torch.zeros(ms_bands))
        self.register_buffer("ms_std", torch.ones(ms_bands))

    def set_statistics(self, hs_mean, hs_std, ms_mean, ms_std) -> None:
        for name, value in (("hs_mean", hs_mean), ("hs_std", hs_std), ("ms_mean", ms_mean), ("ms_std", ms_std)):
            getattr(self, name).copy_(torch.as_tensor(value, dtype=torch.float32))

    def convert_units(self, hs_factor: float, ms_factor: float) -> None:
        """Take and return values in a unit ``factor`` times smaller than the training unit.

        An input x in that unit is x · factor in the training unit; folding the factor into
        the statistics gives the same result as scaling every input and the output.
        """
        with torch.no_grad():
            self.hs_mean /= hs_factor
            self.hs_std /= hs_factor
            self.ms_mean /= ms_factor
            self.ms_std /= ms_factor

    @staticmethod
    def _norm(x, mean, std):
        return (x - mean[None, :, None, None]) / std[None, :, None, None]

    def receptive_field(self, ratio: int) -> int:
        return self.net.receptive_field(ratio)

    def alignment(self, ratio: int) -> int:
        """HR pixels that block origins must be multiples of (strided layers need more than r)."""
        return self.net.alignment(ratio)

    def initialise_from_data(self, lr_hsi, hr_msi, target, valid) -> None:
        """Let the network set data-dependent parts (MHF-net's A, MLPLN's SVD basis) from training data.

        Arguments are physical-unit numpy arrays (bands, rows, cols) and the (rows, cols)
        validity of ``target``: one training pair, or the pixels of several pooled in one row
        (core/training/trainer.py ``pooled_pixels``), so an implementation must use them pixel by
        pixel. The network sees them standardised, as in training, and ``valid`` as a bool
        tensor.
        """
        if not isinstance(self.net, DataInitialised):
            return

        def standardise(values, mean, std):
            t = torch.as_tensor(values, dtype=torch.float32, device=mean.device)[None]
            return self._norm(t, mean, std)[0]
        self.net.initialise_from_data(standardise(lr_hsi, self.hs_mean, self.hs_std),
                                      standardise(hr_msi, self.ms_mean, self.ms_std),
                                      standardise(target, self.hs_mean, self.hs_std),
                                      torch.as_tensor(valid, dtype=torch.bool, device=self.hs_mean.device))

    def forward(self, lr_hsi: torch.Tensor, hr_msi: torch.Tensor) -> torch.Tensor:
        return self._physical(self.net(*self.standardised(lr_hsi, hr_msi)))

    def standardised(self, lr_hsi: torch.Tensor, hr_msi: torch.Tensor) -> tuple:
        """The inputs as the network sees them."""
        return self._norm(lr_hsi, self.hs_mean, self.hs_std), self._norm(hr_msi, self.ms_mean, self.ms_std)

    def _physical(self, out: torch.Tensor) -> torch.Tensor:
        std, mean = self.hs_std[None, :, None, None], self.hs_mean[None, :, None, None]
        if not torch.is_grad_enabled():
            # Inference: back to physical units in place, without two more images of the HS bands in memory.
            return out.mul_(std).add_(mean)
        return out * std + mean

    def row_stages(self, ratio: int) -> list:
        """The network's steps for row streaming (nets/streaming.py), on :meth:`standardised` inputs and with the
        last one's output in physical units. A network that offers none is one step, as wide as its halo: a strip
        then computes the network's halo but not the rows around the block that the projection reads again. A
        network whose ``ROW_STAGES_TAKE_UNITS`` is true returns physical units from its last step itself, given
        each HS band's (std, mean)."""
        if getattr(self.net, "ROW_STAGES_TAKE_UNITS", False):
            return self.net.row_stages(ratio, units=(self.hs_std, self.hs_mean))
        if hasattr(self.net, "row_stages"):
            *stages, last = self.net.row_stages(ratio)
        else:
            stages, last = [], RowStage(("fused",), (LR, HR), self.net.receptive_field(ratio),
                                        lambda lr_hsi, hr_msi: (self.net(lr_hsi, hr_msi),))

        def physical(*inputs):
            fused, *rest = last.run(*inputs)
            return (self._physical(fused), *rest)
        return stages + [dataclasses.replace(last, run=physical)]

    def training_loss(self, lr_hsi, hr_msi, target, mask) -> torch.Tensor:
        return self.net.training_loss(self._norm(lr_hsi, self.hs_mean, self.hs_std),
                                      self._norm(hr_msi, self.ms_mean, self.ms_std),
                                      self._norm(target, self.hs_mean, self.hs_std), mask)
