"""SSJCN: spatial-spectral joint correction network for HS/MS fusion.

Paper: T. Wang, Y. Xu, Z. Wu, Z. Wei, "Spatial-Spectral Joint Correction Network for
Hyperspectral and Multispectral Image Fusion", EasyChair preprint, 2021
(shared/papers/001_dca8e27797b6892b.txt).

Mapping to the paper
- §3.2: Z⁰ is the bicubic up-sampling of the LR-HSI (:func:`bicubic_upsample`).
- §3.2, eqs. 4–7, degradation block (:class:`DegradationBlock`): D_spe, a convolution and
  an activation, maps Z to X̂ (MS bands, HR grid); D_spa, the same structure with spatial
  down-sampling by r, maps Z to Ŷ (HS bands, LR grid). The error maps are
  X_res = X − X̂ and Y_res = Y − Ŷ.
- §3.3, Fig. 2, error-map fusion block Φ (:class:`ErrorMapFusionBlock`):
  "feature map size alignment": Y_res is up-sampled by a deconvolution to the HR grid and
  passed through a down-sampling layer; X_res passes through a convolution + PReLU and a
  down-sampling layer. "Fusion": the two are concatenated along channels, two convolution
  layers with activations follow, with channel attention on the first one's output, and
  the result is down-sampled again. "Error map reconstruction": two sets of (convolution,
  deconvolution, activation), each followed by a skip connection (concatenation), then
  two convolutions give Ê.
- §3.4, reconstruction block (:class:`ReconstructionBlock`): spectral (channel) and
  spatial attention on Ê, then eq. 9, Z¹ = Z⁰ + Ê¹.
- eq. 10 and Fig. 3: the three blocks are applied again to Z¹, Z² = Z¹ + Φ(D_spe(Z¹),
  D_spa(Z¹)); ``iterations`` generalises this (default 2, Table 3).
- §3.5, eq. 11: L1 loss between Z^(iterations) and the reference.

Choices where the paper is silent (no widths, kernel sizes or attention designs are given)
- Separate weights for every iteration. Fig. 3 and §4.4 name the blocks of each iteration
  apart (DB (1), DB (2), RB (1)), and the second pass corrects a much smaller, different
  error than the first, so sharing would force one block to do two jobs. Weights cost
  memory only; the compute is the same either way.
- D_spe is a 1 × 1 convolution: eq. 1 is a per-pixel spectral response P.
- D_spa is a per-band (depthwise) strided convolution: eq. 2 blurs and decimates every
  band with the same kind of operator, independently. Its kernel spans r + 2·⌊r/2⌋ HR
  pixels with stride r, centred on each LR pixel (LR pixel i is centred on HR
  i·r + (r − 1)/2), which leaves room for a PSF wider than one LR pixel. It starts as a
  normalised tent (area-weighted) average, so Ŷ begins as a sensible degradation; a full
  S × S kernel of that size would cost 51 M weights at 224 bands and r = 16.
- The activations of D_spe and D_spa are PReLUs that start with slope 1 (identity), so
  the degradation starts linear, as in eqs. 1–2, and learns a non-linearity if it helps.
- The deconvolution that up-samples Y_res is per band, as §3.3 says the learnable up-
  sampling improves "each channel"; it has the same kernel footprint as D_spa and starts
  as the tent kernel, i.e. bilinear interpolation.
- Down-sampling layers are 3 × 3 convolutions with stride 2 and PReLU, and the two
  deconvolutions of the reconstruction subnetwork are 4 × 4 with stride 2: Φ works at
  HR, HR/2 and HR/4 whatever r is. The paper's CAVE experiments use r = 4; stride 2
  keeps the same two-level encoder for every ratio (odd ones included).
- Skip connections: after the first deconvolution (HR/2), the concatenated X and Y
  features; after the second (HR), the X_res features. These are the low-level features
  at matching sizes; concatenation because §3.3 speaks of "concatenated feature maps".
- Width 32 everywhere inside Φ, 3 × 3 kernels, PReLU activations (the one activation
  the paper names); the last of the two final convolutions is 1 × 1: it is the widest
  layer (it maps to all S bands) and a 3 × 3 kernel there would dominate the cost.
- Attention is squeeze-and-excitation for channels (hidden width max(4, C/8), Leaky ReLU
  0.2 in the bottleneck so that no hidden unit dies) and, for space, a sigmoid map from a
  3 × 3 convolution of the band mean and band maximum (as in CBAM), applied one after the
  other (channel first). A convolution over all S bands to one map was the slowest layer
  on CPU.
- The squeeze is a LOCAL mean (5 × 5 at HR/2 in Φ, 9 × 9 at HR in the reconstruction
  block) instead of a global one: a global mean would make every output pixel depend on
  the whole image, so tiled inference could not equal whole-image inference and no
  receptive field would bound it.
- Gates are 2·sigmoid, in (0, 2), so the untrained attention is about the identity
  instead of halving its input. With plain sigmoids the two gates scale Ê by about 1/4
  at the start, which under Adam makes Ê grow four times slower: after 150 training
  steps (60 bands, r = 3) SAM was still worse than bicubic (2.91° vs 2.58°); with
  2·sigmoid it is 1.7°.
- Φ pads its inputs at the bottom/right to a multiple of lcm(r, 4) HR pixels (edge
  values) and crops Ê back; :meth:`SSJCN.alignment` returns lcm(r, 4) so the stride-2
  phases of a block equal those of the whole image.
- :meth:`SSJCN.receptive_field` traces, layer by layer, the interval of pixels each layer
  reads, from an output pixel at every phase of the block alignment back to the inputs
  (nets/reach.py), bicubic included.
- The last convolution of Φ in every iteration starts at zero, so an untrained network
  returns exactly Z⁰ (bicubic) and a short training can only start from bicubic.
- The loss is the L1 over valid pixels of standardised bands (see ``FusionModel``), so
  that bands with large values do not dominate.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from . import reach
from .blocks import bicubic_upsample, masked_l1, pad_to_multiple
from .streaming import HR, LR, RowStage

PAPER = "Spatial-Spectral Joint Correction Network for Hyperspectral and Multispectral Image Fusion"

# Φ halves the HR grid twice.
PHI_SCALE = 4
# Radii of the local squeeze of the channel attentions, in pixels of the grid they run on.
FUSION_POOL_RADIUS = 2          # on HR/2
RECONSTRUCTION_POOL_RADIUS = 4  # on HR
# At inference, the reconstruction block makes Ê and its gate this many HR pixels at a time (ReconstructionBlock
# .corrected): two images of the HS bands of 64 Ki pixels, 57 MB each with 218 bands.
CORRECTION_CHUNK_PIXELS = 65536


def _margin(ratio: int) -> int:
    """Extra HR pixels on each side of an LR pixel that D_spa and the Y deconvolution reach."""
    return ratio // 2


def _tent_kernel(ratio: int) -> torch.Tensor:
    """2-D tent of half-width r over r + 2·margin taps: bilinear interpolation as a deconvolution."""
    size = ratio + 2 * _margin(ratio)
    # On the CPU: torch.arange on the meta device (the weights check) costs a second of imports.
    offsets = torch.arange(size, dtype=torch.float32, device="cpu") - (size - 1) / 2
    tent = (1 - offsets.abs() / ratio).clamp_min(0)
    return tent[:, None] * tent[None, :]


def _conv3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1)


class ChannelAttention(nn.Module):
    """Squeeze-and-excitation with a local mean over (2·radius + 1)² pixels as the squeeze.

    The gate is 2·sigmoid, so the block starts as the identity (see the module docstring).
    """

    def __init__(self, channels: int, radius: int):
        super().__init__()
        hidden = max(4, channels // 8)
        self.radius = radius
        self.reduce = nn.Conv2d(channels, hidden, 1)
        # Leaky, without a learnable slope: with only a few hidden units a ReLU can die on all
        # of them, and a PReLU slope gets no gradient when they are all positive.
        self.expand = nn.Sequential(nn.LeakyReLU(0.2), nn.Conv2d(hidden, channels, 1), nn.Sigmoid())

    def local_mean(self, x: torch.Tensor) -> torch.Tensor:
        # count_include_pad=False: at image edges the mean covers only real pixels, the same
        # in a block clipped at the edge as in the whole image. The window is separable.
        size, r = 2 * self.radius + 1, self.radius
        x = F.avg_pool2d(x, (size, 1), stride=1, padding=(r, 0), count_include_pad=False)
        return F.avg_pool2d(x, (1, size), stride=1, padding=(0, r), count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The mean and the 1 × 1 reduction are both linear, so averaging after the reduction
        # gives the same squeeze as averaging before it, on far fewer channels.
        if torch.is_grad_enabled():
            return x * (2 * self.expand(self.local_mean(self.reduce(x))))
        return self.half_product(x).mul_(2)

    def half_product(self, x: torch.Tensor) -> torch.Tensor:
        """Inference: half the attention's output, x times the sigmoid, made in place of the gate without the
        temporary images of the channels that the product with 2·sigmoid takes; on the HS bands of the
        reconstruction block that was 13 % of SSJCN's forward pass (docs/performance.md). Doubling is exact, so
        twice this is the forward pass's result to the bit."""
        return self.expand[:-1](self.local_mean(self.reduce(x))).sigmoid_().mul_(x)


class DegradationBlock(nn.Module):
    """§3.2: D_spe (Z → X̂, MS bands on the HR grid) and D_spa (Z → Ŷ, HS bands on the LR grid)."""

    def __init__(self, hs_bands: int, ms_bands: int, ratio: int):
        super().__init__()
        margin = _margin(ratio)
        self.spectral = nn.Sequential(nn.Conv2d(hs_bands, ms_bands, 1), nn.PReLU(ms_bands, init=1.0))
        self.spatial = nn.Sequential(
            nn.Conv2d(hs_bands, hs_bands, ratio + 2 * margin, stride=ratio, padding=margin, groups=hs_bands,
                      padding_mode="replicate"),
            nn.PReLU(hs_bands, init=1.0))
        with torch.no_grad():
            blur = self.spatial[0]
            blur.weight.copy_((_tent_kernel(ratio) / ratio ** 2).expand_as(blur.weight))
            blur.bias.zero_()

    def forward(self, z: torch.Tensor) -> tuple:
        return self.spectral(z), self.spatial[1](self.blurred(z))

    def blurred(self, z: torch.Tensor) -> torch.Tensor:
        """D_spa's convolution, before its activation. Its replicated border copies Z whole before the convolution;
        at inference only the first and last LR rows and columns read that border, so the rest runs with zeros
        there (no copy) and those four lines come from thin replicated strips: on 384² × 218 bands, 0.03 s against
        0.10 s."""
        conv = self.spatial[0]
        ratio, margin = conv.stride[0], conv.padding[0]
        rows, cols = z.shape[-2:]
        if not torch.is_inference_mode_enabled() or rows % ratio or cols % ratio or min(rows, cols) < 2 * ratio:
            return conv(z)
        out = F.conv2d(z, conv.weight, conv.bias, stride=ratio, padding=margin, groups=conv.groups)
        reach = ratio + margin                          # HR lines the first or last LR line reads inside Z

        def line(strip, pad):
            return F.conv2d(F.pad(strip, pad, mode="replicate"), conv.weight, conv.bias, stride=ratio,
                            groups=conv.groups)
        out[..., 0, :] = line(z[..., :reach, :], (margin, margin, margin, 0))[..., 0, :]
        out[..., -1, :] = line(z[..., -reach:, :], (margin, margin, 0, margin))[..., 0, :]
        out[..., :, 0] = line(z[..., :, :reach], (margin, 0, margin, margin))[..., :, 0]
        out[..., :, -1] = line(z[..., :, -reach:], (0, margin, margin, margin))[..., :, 0]
        return out


class ErrorMapFusionBlock(nn.Module):
    """§3.3, Fig. 2: Φ(X_res, Y_res) → Ê on the HR grid, with HS bands."""

    def __init__(self, hs_bands: int, ms_bands: int, ratio: int, width: int):
        super().__init__()
        self.ratio = ratio
        margin = _margin(ratio)
        # Feature map size alignment subnetwork.
        self.upsample_y = nn.ConvTranspose2d(hs_bands, hs_bands, ratio + 2 * margin, stride=ratio, padding=margin,
                                             groups=hs_bands)
        with torch.no_grad():
            self.upsample_y.weight.copy_(_tent_kernel(ratio).expand_as(self.upsample_y.weight))
            self.upsample_y.bias.zero_()
        self.down_y = nn.Sequential(_conv3(hs_bands, width, stride=2), nn.PReLU(width))
        self.features_x = nn.Sequential(_conv3(ms_bands, width), nn.PReLU(width))
        self.down_x = nn.Sequential(_conv3(width, width, stride=2), nn.PReLU(width))
        # Fusion subnetwork (HR/2), then down-sampling to HR/4.
        self.fuse_first = nn.Sequential(_conv3(2 * width, width), nn.PReLU(width))
        self.attention = ChannelAttention(width, FUSION_POOL_RADIUS)
        self.fuse_second = nn.Sequential(_conv3(width, width), nn.PReLU(width))
        self.down = nn.Sequential(_conv3(width, width, stride=2), nn.PReLU(width))
        # Error map reconstruction subnetwork: (conv, deconv, activation) twice, skips after each.
        self.up_first = nn.Sequential(_conv3(width, width), nn.ConvTranspose2d(width, width, 4, stride=2, padding=1),
                                      nn.PReLU(width))
        self.up_second = nn.Sequential(_conv3(3 * width, width),
                                       nn.ConvTranspose2d(width, width, 4, stride=2, padding=1), nn.PReLU(width))
        self.output = nn.Sequential(_conv3(2 * width, width), nn.PReLU(width), nn.Conv2d(width, hs_bands, 1))
        # Start with Ê = 0: the untrained network is bicubic up-sampling.
        nn.init.zeros_(self.output[-1].weight)
        nn.init.zeros_(self.output[-1].bias)

    def halved_y(self, y_res: torch.Tensor) -> torch.Tensor:
        """The stride-2 convolution of ``down_y`` applied to the up-sampled Y_res (HR grid), before its activation.

        At inference the two linear layers run as one (:func:`_halved_upsampling`), so that the HS bands of Y_res
        are never formed on the HR grid; elsewhere, and where its size is not even, layer after layer."""
        rows, cols = y_res.shape[-2:]
        if not torch.is_inference_mode_enabled() or (rows * self.ratio) % 2 or (cols * self.ratio) % 2:
            return self.down_y[0](self.upsample_y(y_res))
        return _halved_upsampling(self.upsample_y, self.down_y[0], y_res, self.ratio)

    def forward(self, x_res: torch.Tensor, y_res: torch.Tensor) -> torch.Tensor:
        return self.output[-1](self.features(x_res, y_res))

    def features(self, x_res: torch.Tensor, y_res: torch.Tensor) -> torch.Tensor:
        """Ê before its last layer, the 1 × 1 convolution to the HS bands (``output[-1]``)."""
        # Pad bottom/right so both stride-2 levels divide evenly; the top-left phase, which
        # tiling aligns to lcm(r, 4), is untouched.
        step = math.lcm(self.ratio, PHI_SCALE)
        x_res, rows, cols = pad_to_multiple(x_res, step)
        y_res, _, _ = pad_to_multiple(y_res, step // self.ratio)
        features_x = self.features_x(x_res)
        encoded = torch.cat([self.down_x(features_x), self.down_y[1](self.halved_y(y_res))], dim=1)
        fused = self.fuse_second(self.attention(self.fuse_first(encoded)))
        decoded = self.up_first(self.down(fused))
        decoded = self.up_second(torch.cat([decoded, encoded], dim=1))
        features = self.output[:-1](torch.cat([decoded, features_x], dim=1))
        return features[..., :rows, :cols]


def _axis_taps(ratio: int) -> tuple:
    """One axis of :func:`_halved_upsampling`: the period P of its phases, the LR step L between periods, the
    first LR offset, and for each phase φ (output P·a + φ), offset u of the 3-tap convolution and LR offset δ
    (LR input L·a + δ), the tap of the transposed convolution that links them (or −1)."""
    margin = _margin(ratio)
    size, period = ratio + 2 * margin, ratio // math.gcd(ratio, 2)
    links = {(phase, u, delta): 2 * phase + u + margin - ratio * delta
             for phase in range(period) for u in (-1, 0, 1) for delta in range(-size, size + 1)
             if 0 <= 2 * phase + u + margin - ratio * delta < size}
    first, last = min(key[2] for key in links), max(key[2] for key in links)
    taps = torch.full((period, 3, last - first + 1), -1, dtype=torch.long)
    for (phase, u, delta), tap in links.items():
        taps[phase, u + 1, delta - first] = tap
    return period, 2 * period // ratio, first, taps


def _halved_upsampling(upsample: nn.ConvTranspose2d, conv: nn.Conv2d, y: torch.Tensor, ratio: int) -> torch.Tensor:
    """``conv(upsample(y))`` for the per-band transposed convolution of stride r and the 3 × 3 convolution of
    stride 2 (zero borders) of Φ, as one convolution of the LR bands.

    Output pixel j of the half grid reads HR pixels 2j − 1 … 2j + 1, which read LR pixels near 2j / r; j = P·a + φ
    reads LR pixels L·a + δ through weights that depend on φ alone, so every phase pair (φ_y, φ_x) is a
    convolution of stride L whose kernel is the 3 × 3 weights times the band's transposed-convolution taps. They
    run as one convolution with P² × W outputs. The first output row and column read the zero border above and
    left of the HR grid, which this form would fill with the transposed convolution's extension; they are
    computed layer by layer from the LR pixels they read. On a 128² × 218-band block at ratio 3 (half grid 192²,
    32 channels): 0.09 s against 0.19 s, and no 384² × 218-band image."""
    period, step, first, taps = _axis_taps(ratio)
    spread = upsample.weight[:, 0]                                       # (bands, k, k)
    valid = (taps >= 0).to(device=spread.device, dtype=spread.dtype)     # (P, 3, D)
    index = taps.clamp_min(0).to(spread.device)
    # per band s: weight of LR offset (δy, δx) for phases (φy, φx) and taps (uy, ux)
    per_band = spread[:, index[:, :, :, None, None, None], index[None, None, None]]   # (S, P, 3, D, P, 3, D)
    per_band = per_band * (valid[:, :, :, None, None, None] * valid[None, None, None])
    kernel = torch.einsum("wsyx,sayebxf->abwsef", conv.weight, per_band)              # (P, P, W, S, D, D)
    width, bands, reach = conv.weight.shape[0], y.shape[1], taps.shape[-1]
    kernel = kernel.reshape(period * period * width, bands, reach, reach)
    bias = (conv.bias + torch.einsum("wsyx,s->w", conv.weight, upsample.bias)).repeat(period * period)
    rows, cols = y.shape[-2] * ratio // 2, y.shape[-1] * ratio // 2
    out_rows, out_cols = -(-rows // period), -(-cols // period)
    pad_rows = step * (out_rows - 1) + reach - (y.shape[-2] - first)
    pad_cols = step * (out_cols - 1) + reach - (y.shape[-1] - first)
    padded = F.pad(y, (-first, max(pad_cols, 0), -first, max(pad_rows, 0)))
    phases = F.conv2d(padded, kernel, bias, stride=step)[..., :out_rows, :out_cols]
    # Phases interleaved with the channels last, the layout the convolutions after it take.
    grid = phases.permute(0, 2, 3, 1).reshape(y.shape[0], out_rows, out_cols, period, period, width)
    out = (grid.permute(0, 1, 3, 2, 4, 5).reshape(y.shape[0], out_rows * period, out_cols * period, width)
           [:, :rows, :cols].permute(0, 3, 1, 2))
    lead = (1 + _margin(ratio)) // ratio + 1                           # LR pixels the first row and column read
    out[..., 0, :] = conv(upsample(y[..., :lead, :]))[..., 0, :]
    out[..., :, 0] = conv(upsample(y[..., :, :lead]))[..., :, 0]
    return out


class ReconstructionBlock(nn.Module):
    """§3.4: spectral then spatial attention on Ê."""

    def __init__(self, hs_bands: int):
        super().__init__()
        self.spectral = ChannelAttention(hs_bands, RECONSTRUCTION_POOL_RADIUS)
        # The spatial map is computed from the band mean and band maximum: a 3 × 3 convolution
        # over all S bands to one output channel was the slowest layer of the network on CPU.
        self.spatial = nn.Sequential(_conv3(2, 1), nn.Sigmoid())

    def forward(self, error: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled():
            error = self.spectral(error)
            return error * (2 * self.spatial(self.summary(error)))
        # Inference, in place: the spectral attention's output is 2·half exactly, so its band mean and maximum are
        # twice half's, and (2·half)·(2·map) is half·(4·map) to the bit; one pass over the bands fewer.
        half = self.spectral.half_product(error)
        return half.mul_(self.spatial(self.summary(half).mul_(2)).mul_(4))

    def corrected(self, z: torch.Tensor, features: torch.Tensor, to_bands: nn.Conv2d) -> torch.Tensor:
        """Inference: Z + RB(Ê) for Ê = ``to_bands(features)`` (Φ's last layer), with Ê and the spectral gate made a
        few rows at a time, so that besides Z only one image of the HS bands is whole: the result.

        The gate's squeeze reduces Ê by a 1 × 1 convolution; with Φ's, also 1 × 1, it is one convolution of Φ's
        features. As in :meth:`forward`, the spectral attention's output is 2·half and the result half·(4·map) + Z,
        to float rounding. Whole, Ê and the gate were, with Z, an iteration's largest images."""
        attention = self.spectral
        reduce = attention.reduce.weight.flatten(1)
        weight = (reduce @ to_bands.weight.flatten(1))[:, :, None, None]
        bias = reduce @ to_bands.bias + attention.reduce.bias
        squeeze = attention.expand[0](attention.local_mean(F.conv2d(features, weight, bias)))
        half = torch.empty_like(z)
        rows = max(1, CORRECTION_CHUNK_PIXELS // z.shape[-1])
        for top in range(0, z.shape[-2], rows):
            part = slice(top, top + rows)
            gate = attention.expand[1](squeeze[..., part, :]).sigmoid_()
            half[..., part, :] = gate.mul_(to_bands(features[..., part, :]))
        return half.mul_(self.spatial(self.summary(half).mul_(2)).mul_(4)).add_(z)

    @staticmethod
    def summary(error: torch.Tensor) -> torch.Tensor:
        """The spatial attention's input: every pixel's band mean and band maximum."""
        return torch.cat([error.mean(dim=1, keepdim=True), error.amax(dim=1, keepdim=True)], dim=1)


class CorrectionIteration(nn.Module):
    """One pass of Fig. 3: Z^(k+1) = Z^k + RB(Φ(X − D_spe(Z^k), Y − D_spa(Z^k)))."""

    def __init__(self, hs_bands: int, ms_bands: int, ratio: int, width: int):
        super().__init__()
        self.degradation = DegradationBlock(hs_bands, ms_bands, ratio)
        self.fusion = ErrorMapFusionBlock(hs_bands, ms_bands, ratio, width)
        self.reconstruction = ReconstructionBlock(hs_bands)

    def forward(self, z: torch.Tensor, lr_hsi: torch.Tensor, hr_msi: torch.Tensor) -> torch.Tensor:
        if not torch.is_grad_enabled():
            return self.corrected(z, self.error_features(z, lr_hsi, hr_msi))
        ms_estimate, hs_estimate = self.degradation(z)
        # In place: the correction's product is not needed by its gradient, and a block holds one image of the HS
        # bands fewer.
        return self.reconstruction(self.fusion(hr_msi - ms_estimate, lr_hsi - hs_estimate)).add_(z)

    def error_features(self, z: torch.Tensor, lr_hsi: torch.Tensor, hr_msi: torch.Tensor) -> torch.Tensor:
        """Φ's features of Z's error maps: Ê before Φ's last layer, a 1 × 1 convolution to the HS bands."""
        ms_estimate, hs_estimate = self.degradation(z)
        return self.fusion.features(hr_msi - ms_estimate, lr_hsi - hs_estimate)

    def corrected(self, z: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        """Inference: Z + RB(Ê) from Φ's :meth:`error_features`."""
        return self.reconstruction.corrected(z, features, self.fusion.output[-1])


def _phi_inputs(error: tuple, ratio: int) -> tuple:
    """(X_res on the HR grid, Y_res on the LR grid) that Φ reads for the Ê pixels ``error``; mirrors
    :meth:`ErrorMapFusionBlock.forward` from its output back."""
    margin = _margin(ratio)
    output = reach.widened(error, 1)                                  # 3 × 3 on (decoded, X features), then 1 × 1
    half = reach.widened(reach.through_transposed_conv(output, 4, 2, 1), 1)        # up_second: 3 × 3, ×2 deconv
    quarter = reach.widened(reach.through_transposed_conv(half, 4, 2, 1), 1)       # up_first: 3 × 3, ×2 deconv
    fused = reach.through_conv(quarter, 3, 2)                                       # down, stride 2
    encoded = reach.hull(half, reach.widened(fused, 1 + FUSION_POOL_RADIUS + 1))   # fuse_second, attention, fuse_first
    below_encoded = reach.through_conv(encoded, 3, 2)                 # down_x and down_y, stride 2, on the HR grid
    x_res = reach.widened(reach.hull(output, below_encoded), 1)       # X features: 3 × 3
    y_res = reach.through_transposed_conv(below_encoded, ratio + 2 * margin, ratio, margin)
    return x_res, y_res


def _correction_reads(z: tuple) -> tuple:
    """The Ê pixels that one iteration's outputs ``z`` read, Z_out = Z + RB(Ê): RB's local mean, then its 3 × 3
    spatial map."""
    return reach.widened(z, RECONSTRUCTION_POOL_RADIUS + 1)


def _error_reads(error: tuple, ratio: int) -> tuple:
    """(Z, HR-MSI, LR-HSI footprint): the HR pixels of each input that the Ê pixels ``error`` read, Ê = Φ(X −
    D_spe(Z), Y − D_spa(Z))."""
    margin = _margin(ratio)
    x_res, y_res = _phi_inputs(error, ratio)
    z_in = reach.hull(x_res, reach.through_conv(y_res, ratio + 2 * margin, ratio, margin))
    return z_in, x_res, reach.on_hr_grid(y_res, ratio)


def _iteration_reads(z: tuple, ratio: int) -> tuple:
    """(Z, HR-MSI, LR-HSI footprint): the HR pixels of each input that one iteration's outputs ``z`` read."""
    z_in, x_res, y_footprint = _error_reads(_correction_reads(z), ratio)
    return reach.hull(z, z_in), x_res, y_footprint


def _dependence(pixels: tuple, ratio: int, iterations: int) -> tuple:
    """(first, last) HR pixel, along one axis, of every input that the HR output ``pixels`` depend on (an LR pixel
    counts as its footprint); mirrors :meth:`SSJCN.forward` from its output back."""
    z, spans = pixels, []
    for _ in range(iterations):
        z, x_res, y_footprint = _iteration_reads(z, ratio)
        spans += [x_res, y_footprint]                               # the HR-MSI and the LR-HSI themselves
    spans.append(reach.on_hr_grid(reach.through_bicubic(z, ratio), ratio))   # Z⁰, bicubic of the LR-HSI
    return reach.hull(*spans)


class SSJCN(nn.Module):
    """SSJCN for ``hs_bands`` LR-HSI bands, ``ms_bands`` HR-MSI bands and ratio ``ratio``."""

    def __init__(self, hs_bands: int, ms_bands: int, ratio: int, iterations: int = 2, width: int = 32):
        super().__init__()
        if iterations < 1:
            raise ValueError("SSJCN needs at least one correction iteration.")
        self.ratio = int(ratio)
        self.iterations = int(iterations)
        self.stages = nn.ModuleList(CorrectionIteration(hs_bands, ms_bands, self.ratio, width)
                                    for _ in range(self.iterations))

    def receptive_field(self, ratio: int | None = None) -> int:
        """Halo in HR pixels: the farthest input pixel, LR-HSI or HR-MSI, that any output pixel depends on, traced
        exactly through the layers (:func:`_dependence`) for every phase of a pixel within the block alignment.
        Adding up the layers' reaches instead, whatever the phase, counted 72 HR pixels at ratio 3 where 70 are
        needed."""
        r = ratio or self.ratio
        return reach.farthest(lambda pixel: _dependence(pixel, r, self.iterations), math.lcm(r, PHI_SCALE))

    def alignment(self, ratio: int | None = None) -> int:
        """Block origins on multiples of r (whole LR pixels) and of 4 (Φ's two stride-2 levels)."""
        return math.lcm(ratio or self.ratio, PHI_SCALE)

    def forward(self, lr_hsi: torch.Tensor, hr_msi: torch.Tensor) -> torch.Tensor:
        z = bicubic_upsample(lr_hsi, self.ratio)
        for stage in self.stages:
            z = stage(z, lr_hsi, hr_msi)
        return z

    def row_stages(self, ratio: int | None = None) -> list:
        """:meth:`forward` as steps for row streaming (nets/streaming.py), two per iteration, with the radii traced
        as for :meth:`receptive_field`: Φ's features of the error maps (aligned as the network, radius 28 HR rows at
        ratio 3), then the correction Z + RB(Ê) (aligned on single rows, radius 5). As one step an iteration
        recomputed all of RB's bands over the features' rounded radius, 36 rows above and below every strip. The
        first iteration makes Z⁰, the bicubic LR-HSI, for its own rows in both of its steps: held between blocks as
        a step of its own, Z⁰'s rows took a third of what a stream held."""
        r = ratio or self.ratio
        phases = math.lcm(r, PHI_SCALE)
        bicubic = reach.farthest(lambda pixel: reach.on_hr_grid(reach.through_bicubic(pixel, r), r), phases)
        features = reach.farthest(lambda pixel: reach.hull(*_error_reads(pixel, r)), phases)
        correction = reach.farthest(_correction_reads, 1)
        first = self.stages[0]
        stages = [RowStage(("e1",), (LR, HR), bicubic + features,
                           lambda lr_hsi, hr_msi: (first.error_features(bicubic_upsample(lr_hsi, r), lr_hsi, hr_msi),)),
                  RowStage(("z1",), (LR, "e1"), max(bicubic, correction),
                           lambda lr_hsi, error: (first.corrected(bicubic_upsample(lr_hsi, r), error),), step=r)]
        for k, stage in enumerate(self.stages[1:], start=2):
            before, error = f"z{k - 1}", f"e{k}"
            stages += [RowStage((error,), (before, LR, HR), features,
                                lambda z, lr_hsi, hr_msi, stage=stage: (stage.error_features(z, lr_hsi, hr_msi),)),
                       RowStage((f"z{k}",), (before, error), correction,
                                lambda z, error, stage=stage: (stage.corrected(z, error),), step=1)]
        return stages

    def training_loss(self, lr_hsi, hr_msi, target, mask) -> torch.Tensor:
        """Eq. 11: L1 between the last iteration's output and the reference, over valid pixels."""
        return masked_l1(self(lr_hsi, hr_msi), target, mask)
