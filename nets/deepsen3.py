"""DeepSen3: deep multi-scale residual-inception CNN for Sentinel-2/Sentinel-3 fusion.

Paper: "DeepSen3: Deep multi-scale learning model for spatial-spectral fusion of
Sentinel-2 and Sentinel-3 remote sensing images" (shared/papers/004_d2cd3407ca29f6ed.txt).

Mapping to the paper
- §2.1: the LR-HSI is up-sampled by bicubic interpolation and concatenated with the
  HR-MSI; that stack is the network input (:func:`bicubic_upsample`).
- §2.2: a 3 × 3 convolution with Leaky ReLU extracts low-level features; three
  multi-scale inception residual modules (Fig. 3 "residual modules 1, 2, 3") follow, each
  with three branches of two convolutions (3 × 3 and 5 × 5 kernels, 16, 32 and 64
  channels), Leaky ReLU after every convolution, a 1 × 1 convolution that reduces the
  concatenated branches back to the module width (48 channels), and an identity skip.
  No pooling anywhere.
- Fig. 3 "residual module global": a long skip adds the low-level features to the output
  of the three modules; two 3 × 3 convolutions reconstruct the HS bands.
- §2.3: MSE loss; Adam with lr 3e-4, β1 0.92, β2 0.95, batch 16, 64 × 64 patches, and
  Keras' learning-rate decay 1e-9 (lr₀ / (1 + 1e-9 · updates), ``lr_decay`` in the registry).

Choices where the paper is silent (Fig. 4 is not in the text)
- Branch composition: (3 × 3, 3 × 3) with 16, (5 × 5, 5 × 5) with 32 and (3 × 3, 3 × 3)
  with 64 channels. This uses every kernel size and channel count the text names, with
  the widest branch on the cheaper kernel so that CPU training stays practical.
- Module width 48 (the fourth channel count the text quotes, "16, 32, 64 and 48").
- The Leaky ReLU slope is learnable, as §2.2 says ("it uses a learnable slope parameter
  instead of a constant slope parameter"): PReLU with one slope per channel, so the network
  stays independent of the image size (Keras' PReLU default, one slope per element, would
  tie it to the 64 × 64 training patches). The paper gives no starting value; the slopes
  start at 0.2, the fixed slope used before (Keras' PReLU would start at 0, a ReLU).
- ``learnable_slope = 0`` builds the earlier network with a fixed Leaky ReLU slope of 0.2:
  the registry's ``card_defaults`` reads a model card without the key that way.
- The global residual also adds the bicubic LR-HSI to the reconstruction, so the network
  learns only the missing high-frequency detail (the same choice as the residual
  pan-sharpening networks the paper builds on).
- The last reconstruction convolution starts at zero, so an untrained network returns the
  bicubic up-sampling and training only adds detail to it.
- The loss is the MSE over valid pixels of standardised bands (see ``FusionModel``), so
  that bands with large values do not dominate.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .blocks import (BICUBIC_LR_RADIUS, add_bicubic_upsampling, add_shifted_upsamplings, bicubic_upsample,
                     masked_mse)
from .fast_conv import conv2d_nchw, row_strips, takes_nnpack
from .streaming import HR, LR, OutputRows, RowStage

PAPER = ("DeepSen3: Deep multi-scale learning model for spatial-spectral fusion of Sentinel-2 "
         "and Sentinel-3 remote sensing images")


def _conv(cin: int, cout: int, kernel: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel, padding=kernel // 2)


def _leaky(channels: int, slope: float, learnable: bool) -> nn.Module:
    """The paper's learnable Leaky ReLU (PReLU, one slope per channel, starting at ``slope``), or the
    fixed-slope one of models trained before it."""
    return nn.PReLU(channels, init=slope) if learnable else nn.LeakyReLU(slope)


def _pixels(x: torch.Tensor) -> torch.Tensor:
    """A channels-last (N, C, H, W) tensor as its (N·H·W, C) matrix of pixels, without a copy."""
    return x.permute(0, 2, 3, 1).reshape(-1, x.shape[1])


class InceptionResidualModule(nn.Module):
    """Three two-convolution branches at different scales, 1 × 1 fusion, identity skip."""

    BRANCHES = ((3, 16), (5, 32), (3, 64))   # (kernel size, channels) of each branch

    def __init__(self, width: int, slope: float = 0.2, learnable: bool = True):
        super().__init__()
        self.branches = nn.ModuleList(
            nn.Sequential(_conv(width, ch, k), _leaky(ch, slope, learnable), _conv(ch, ch, k),
                          _leaky(ch, slope, learnable))
            for k, ch in self.BRANCHES)
        self.fuse = nn.Conv2d(sum(ch for _, ch in self.BRANCHES), width, 1)

    @classmethod
    def radius(cls) -> int:
        return max(2 * (k // 2) for k, _ in cls.BRANCHES)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled() or not x.is_contiguous(memory_format=torch.channels_last):
            return x + self.fuse(torch.cat([branch(x) for branch in self.branches], dim=1))
        # Inference on channels-last pixels: the 1 × 1 fusion is one matrix product per branch, added up with the
        # skip, without concatenating the branches (on 240 × 600 pixels 19 ms instead of 31 ms). The wide branches
        # run through NNPACK (nets/fast_conv.py): on 204 × 570 pixels the 5 × 5 branch took 48 ms instead of 81 ms,
        # and the module 159–186 ms instead of 206–209 ms.
        weight, first, by_band = self.fuse.weight[:, :, 0, 0], 0, []
        out = _pixels(x).add(self.fuse.bias)
        for branch in self.branches:
            if x.device.type == "cpu" and x.shape[0] == 1 and takes_nnpack(branch[0]) and takes_nnpack(branch[2]):
                by_band.append((branch, first))
            else:
                y = branch(x)
                out.addmm_(_pixels(y), weight[:, first:first + y.shape[1]].t())
            first += branch[2].out_channels
        if by_band:
            _add_branches_by_band(out, x, by_band, weight)
        return out.view(x.shape[0], x.shape[2], x.shape[3], x.shape[1]).permute(0, 3, 1, 2)


def _add_branches_by_band(out: torch.Tensor, x: torch.Tensor, branches: list, weight: torch.Tensor) -> None:
    """``out`` (the pixels of channels-last ``x``, one row each) plus the 1 × 1 fusion (``weight``) of the
    ``branches`` ((branch, its first channel in the fusion)) on ``x``, through NNPACK: strip by strip
    (:func:`~.fast_conv.row_strips`), each a band-by-band copy of its rows of ``x``, the branches' outputs read as
    transposed matrices of pixels."""
    reach = max(branch[0].padding[0] + branch[2].padding[0] for branch, _ in branches)
    cols = x.shape[3]
    for first_row, stop, low, high in row_strips(x.shape[2], cols, reach):
        strip, target = x[:, :, low:high].contiguous(), out[first_row * cols:stop * cols]
        for branch, first in branches:
            y = _branch_by_band(branch, strip)[0, :, first_row - low:stop - low]
            target.addmm_(y.reshape(y.shape[0], -1).t(), weight[:, first:first + y.shape[0]].t())


def _branch_by_band(branch: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    """A branch (convolution, activation, convolution, activation) on ``x`` laid out band by band, at inference,
    through :func:`~.fast_conv.conv2d_nchw`; the result is laid out band by band too."""
    first, first_activation, second, second_activation = branch
    return _activated(second_activation, conv2d_nchw(_activated(first_activation, conv2d_nchw(x, first)), second))


def _written(into: OutputRows | None, fused: torch.Tensor) -> torch.Tensor:
    """``fused``, or, for a step that writes ``into`` the stream's rows, its part written there."""
    if into is None:
        return fused
    out = into.target(fused.shape[1])
    return out.copy_(fused[:, :, into.row0:into.row0 + into.rows, into.col0:into.col0 + into.cols])


def _activated(activation: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """A fixed-slope Leaky ReLU in place (the convolution's output is the activation's alone), else ``activation``."""
    if isinstance(activation, nn.LeakyReLU):
        return F.leaky_relu_(x, activation.negative_slope)
    return activation(x)


class DeepSen3(nn.Module):
    """DeepSen3 for ``hs_bands`` LR-HSI bands, ``ms_bands`` HR-MSI bands and ratio ``ratio``."""

    def __init__(self, hs_bands: int, ms_bands: int, ratio: int, width: int = 48, modules: int = 3,
                 slope: float = 0.2, learnable_slope: int = 1):
        super().__init__()
        self.ratio = ratio
        learnable = bool(learnable_slope)
        self.head = nn.Sequential(_conv(hs_bands + ms_bands, width, 3), _leaky(width, slope, learnable))
        self.body = nn.Sequential(*[InceptionResidualModule(width, slope, learnable) for _ in range(modules)])
        self.reconstruct = nn.Sequential(_conv(width, width, 3), _leaky(width, slope, learnable),
                                         _conv(width, hs_bands, 3))
        self._conv_radius = 1 + modules * InceptionResidualModule.radius() + 2
        # Start as plain bicubic: the residual branch begins at zero and training only adds detail.
        nn.init.zeros_(self.reconstruct[-1].weight)
        nn.init.zeros_(self.reconstruct[-1].bias)

    def receptive_field(self, ratio: int | None = None) -> int:
        """Halo in HR pixels: the convolution stack plus the reach of bicubic up-sampling."""
        return self._conv_radius + BICUBIC_LR_RADIUS * (ratio or self.ratio)

    def alignment(self, ratio: int | None = None) -> int:
        """Block origins on multiples of r (whole LR pixels): every layer works at HR resolution."""
        return ratio or self.ratio

    def low_level_features(self, lr_hsi: torch.Tensor, hr_msi: torch.Tensor, ratio: int) -> torch.Tensor:
        """The head on the stack [bicubic LR-HSI; HR-MSI] (§2.1), without forming the stack.

        The head's 3 × 3 convolution is the sum of one over the HS bands and one over the MS bands. At inference the
        HS part runs on the LR grid: bicubic up-sampling works band by band, so it commutes with mixing the bands,
        and the convolution of the up-sampled bands is, for each of its nine taps, the tap's 218 → 48 mixing on the
        LR pixels, up-sampled and shifted by the tap (zeros beyond the image, as the convolution pads; the taps of a
        kernel row add up between the two passes of the up-sampling, :func:`add_shifted_upsamplings`). No image of
        the HS bands is formed on the HR grid: on a window of 600 × 210 HR pixels, with 218 bands, the head and its
        bicubic input took 0.27 s and a peak of 270–280 MiB, and now take 0.17 s and 120–135 MiB (one up-sampling
        per tap; summed by kernel rows, 0.147 → 0.120 s on a window of 378²)."""
        conv, bands = self.head[0], lr_hsi.shape[1]
        features = F.conv2d(hr_msi, conv.weight[:, bands:], conv.bias, padding=conv.padding)
        if torch.is_grad_enabled():
            return self.head[1](features.add_(F.conv2d(bicubic_upsample(lr_hsi, ratio), conv.weight[:, :bands],
                                                       padding=conv.padding)))
        width, size = features.shape[1], conv.weight.shape[-1]
        per_tap = conv.weight[:, :bands].permute(2, 3, 0, 1).reshape(size * size * width, bands, 1, 1)
        return self.head[1](add_shifted_upsamplings(features, F.conv2d(lr_hsi, per_tap), size, ratio))

    def forward(self, lr_hsi: torch.Tensor, hr_msi: torch.Tensor) -> torch.Tensor:
        features = self.low_level_features(lr_hsi, hr_msi, self.ratio)
        # In place: the convolution's output is not needed by its gradient. The bicubic LR-HSI is added last, so
        # that it is not held through the modules.
        return add_bicubic_upsampling(self.reconstruct(self.body(features) + features), lr_hsi, self.ratio)

    # FusionModel.row_stages hands over each HS band's (std, mean): the last step returns physical units itself.
    ROW_STAGES_TAKE_UNITS = True

    def row_stages(self, ratio: int | None = None, units: tuple | None = None) -> list:
        """:meth:`forward` as steps for row streaming (nets/streaming.py): the low-level features, each inception
        module, and the reconstruction with both skips (the bicubic LR-HSI made there again, for its own rows).

        With ``units``, the (std, mean) of each HS band, the reconstruction returns the bands in physical units,
        std · output + mean, without a pass over them for each: std scales the last convolution, and the bicubic
        skip up-samples the LR-HSI in physical units (its weights add up to one, so it commutes with the scaling and
        the shift). On a 1500² × 218-band fusion the two passes took 2–3 s."""
        r = ratio or self.ratio
        names = ["features"] + [f"module{index + 1}" for index in range(len(self.body))]

        def reconstruction(body, features, lr_hsi, into=None):
            if units is None:
                return (_written(into, add_bicubic_upsampling(self.reconstruct(body + features), lr_hsi, r)),)
            std, mean = units
            lr_physical = lr_hsi * std[:, None, None] + mean[:, None, None]
            *hidden, last = self.reconstruct
            weight, bias = last.weight * std[:, None, None, None], last.bias * std
            x = body + features
            if into is not None and self._reconstructs_by_band(x, into, r):
                return (self._reconstructed_by_band(x, weight, bias, lr_physical, r, into),)
            for layer in hidden:
                x = layer(x)
            scaled = F.conv2d(x, weight, bias, padding=last.padding)
            return (_written(into, add_bicubic_upsampling(scaled, lr_physical, r)),)

        return ([RowStage(("features",), (LR, HR), BICUBIC_LR_RADIUS * r + 1,
                          lambda lr_hsi, hr_msi: (self.low_level_features(lr_hsi, hr_msi, r),))]
                + [RowStage((after,), (before,), module.radius(), lambda x, module=module: (module(x),))
                   for before, after, module in zip(names, names[1:], self.body)]
                + [RowStage(("fused",), (names[-1], "features", LR), max(2, BICUBIC_LR_RADIUS * r), reconstruction,
                            writes_into=True)])

    def _reconstructs_by_band(self, x: torch.Tensor, into: OutputRows, ratio: int) -> bool:
        """Whether the reconstruction of ``x`` can run through NNPACK (:meth:`_reconstructed_by_band`): on one
        float32 CPU image at inference, its part in ``into`` on whole LR pixels."""
        conv, _, last = self.reconstruct
        return (x.device.type == "cpu" and x.dtype == torch.float32 and x.shape[0] == 1
                and not torch.is_grad_enabled() and takes_nnpack(conv) and takes_nnpack(last)
                and all(value % ratio == 0 for value in (into.row0, into.col0, into.rows, into.cols)))

    def _reconstructed_by_band(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                               lr_physical: torch.Tensor, ratio: int, into: OutputRows) -> torch.Tensor:
        """The reconstruction of ``x`` (channels last) with its last convolution's ``weight`` and ``bias``, plus the
        bicubic ``lr_physical``, written into ``into``'s part: both convolutions through NNPACK, strip by strip
        (:func:`~.fast_conv.row_strips`), on a band-by-band copy of the strip's rows; each strip's result changes
        layout as it is cut into the part. On 252 × 504 pixels the last convolution (48 → 218 bands) took 106–132
        ms through NNPACK and 184–226 ms through oneDNN, and the change of layout of its result 16–19 ms. The part
        is the stream's rows, so they are not cut out and joined again (streaming.OutputRows)."""
        conv, activation, last = self.reconstruct
        out = into.target(weight.shape[0])
        reach, cols = conv.padding[0] + last.padding[0], x.shape[3]
        for strip_first, strip_stop, _, _ in row_strips(into.rows, cols, reach):
            first, stop = into.row0 + strip_first, into.row0 + strip_stop
            low, high = max(0, first - reach), min(x.shape[2], stop + reach)
            hidden = _activated(activation, conv2d_nchw(x[:, :, low:high].contiguous(), conv))
            fused = conv2d_nchw(hidden, last, weight, bias)
            out[:, :, strip_first:strip_stop].copy_(fused[:, :, first - low:stop - low,
                                                          into.col0:into.col0 + into.cols])
        return add_bicubic_upsampling(out, lr_physical, ratio, (into.row0 // ratio, into.col0 // ratio))

    def training_loss(self, lr_hsi, hr_msi, target, mask) -> torch.Tensor:
        """The paper's loss: mean squared error against the reference."""
        return masked_mse(self(lr_hsi, hr_msi), target, mask)
