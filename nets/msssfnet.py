"""MS-SSFNet: multi-level and multi-scale spatial and spectral fusion CNN.

Paper: "Multi-level and Multi-scale Spatial and Spectral Fusion CNN for Hyperspectral
Image Super-resolution" (shared/papers/003_0bd591e26c4b3f07.txt).

Mapping to the paper
- §3.2, eq. 3–4: the *spectral reservation pathway* starts from the LR-HSI; a block at
  each scale, and a deconvolution that enlarges the features between consecutive blocks.
- §3.2, eq. 5–6: the *spatial structure reservation pathway* starts from the HR-MSI; a
  block at each scale and max-pooling between blocks; it has no block at the LR scale
  ("no HR spatial structure is capable of being extracted" there).
- eq. 7: at every scale the up-sampled spectral features are stacked with the spatial
  features of the same size and feed the next spectral block; the last spectral block
  reconstructs the HR-HSI.
- "Each block in both pathways contains two convolutional layers following a PReLU layer
  after each convolutional layer": :class:`ConvBlock`.
- §3.3, eq. 8–10: the scales are grouped into L levels; a reconstruction layer at the end
  of every level but the last predicts the reference down-sampled to that level's
  resolution; the training loss is the sum of the levels' squared-error sums (eq. 9:
  "MSE_0 = Σ_{n=1}^N ‖Z_n − Ẑ_n‖²₂"), so a level at 1/f of the resolution weighs 1/f²
  of the output; these heads are not used at test time (:meth:`MSSSFNet.training_loss`).

Choices where the paper is silent
- Ratios that are not powers of two: one scale per prime factor of r, in ascending order
  (8 → ×2, ×2, ×2 exactly as the paper; 6 → ×2 then ×3; 5 → one ×5 scale). The
  deconvolution of a ×p scale has kernel p and stride p, so every LR pixel maps onto its
  own p × p footprint, whatever p is, and the max-pooling mirrors it.
- Levels: the n scales are split into L levels as evenly as possible, the boundaries
  after round(n·l/L) scales (the paper's ×16 in 2 levels gives its ×4 intermediate
  target). A ratio with a single prime factor has one scale, so one level.
- Intermediate targets: the reference averaged over the remaining factor (box
  down-sampling, aligned with the LR grid), standing in for eq. 8's blur and decimation.
- Channel widths 64 in every block, 3 × 3 kernels.
- Bicubic skip, not in the paper: its output is the last layer alone, and with its
  initialisation (§4.2, "initialized according to Gaussian distribution with standard
  deviation 0.001", zero biases in Caffe) an untrained network outputs nearly zero, not
  bicubic. Here the final reconstruction and each intermediate head add their output to
  the bicubic up-sampled LR-HSI, and the final one starts at zero: an untrained network
  returns the bicubic up-sampling exactly and training only adds detail, so a short run
  on the CPU starts from a usable fusion instead of from zero.
- Initialisation: every other layer keeps PyTorch's default (Kaiming-uniform, PReLU slope
  0.25) instead of N(0, 0.001²). With std 0.001 each 3 × 3 × 64 layer scales its input by
  about 0.001·√576 ≈ 0.02, so the signal and the gradients of the deep layers all but
  vanish; the paper's 2000 epochs can wait that out, our step budgets cannot. The default
  keeps them at unit scale, and the zero-initialised last layer alone fixes the start
  (150 steps on the generated scene: 27.1 dB against 26.2 dB, docs/methods.md).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .blocks import BICUBIC_LR_RADIUS, bicubic_upsample, masked_mse, prime_factors

PAPER = "Multi-level and Multi-scale Spatial and Spectral Fusion CNN for Hyperspectral Image Super-resolution"


class ConvBlock(nn.Sequential):
    """Two 3 × 3 convolutions, each followed by PReLU."""

    def __init__(self, cin: int, cout: int):
        super().__init__(nn.Conv2d(cin, cout, 3, padding=1), nn.PReLU(cout),
                         nn.Conv2d(cout, cout, 3, padding=1), nn.PReLU(cout))


def level_boundaries(scales: int, levels: int) -> list:
    """Scale counts (from the LR side) after which an intermediate level ends."""
    return sorted({round(scales * level / levels) for level in range(1, levels)} - {0, scales})


def halo(ratio: int) -> int:
    """HR pixels from an output pixel to the farthest input pixel that changes it, at ``ratio``.

    Distances run to the nearest HR pixel of an input pixel's footprint. Each pathway is
    followed as the reach of its features beyond their own footprint; at a scale whose
    pixels span P HR pixels:
    - a 3 × 3 convolution adds P, so a block adds 2P;
    - max-pooling adds nothing: a coarse pixel's footprint holds the fine pixels it pools;
    - the deconvolution (kernel = stride) adds P_coarse − P_fine: a fine pixel may lie
      anywhere in the footprint of the coarse pixel it comes from.
    The first spectral block reaches two LR pixels: r + 1 HR pixels to the nearest pixel of
    the farther one. The output adds the reconstruction's 3 × 3 to the spectral pathway,
    beside the bicubic residual's reach. tests/test_net_msssfnet.py checks that the bound
    holds and is reached.
    """
    sizes = [ratio]                                   # HR pixels per pixel after 0, 1, … n up-steps
    for p in prime_factors(ratio):
        sizes.append(sizes[-1] // p)
    scales = len(sizes) - 1
    spatial = {scales: 2 * sizes[scales]}             # spatial features' reach to HR-MSI pixels
    for steps in range(scales - 1, 0, -1):
        spatial[steps] = spatial[steps + 1] + 2 * sizes[steps]
    to_lr, to_hr = ratio + 1, None                    # spectral features' reach to LR-HSI / HR-MSI pixels
    for steps in range(1, scales + 1):
        enlarge = sizes[steps - 1] - sizes[steps]
        to_lr += enlarge + 2 * sizes[steps]
        stacked = spatial[steps] if to_hr is None else max(spatial[steps], to_hr + enlarge)
        to_hr = stacked + 2 * sizes[steps]
    return max(to_lr + 1, to_hr + 1, BICUBIC_LR_RADIUS * ratio)


class MSSSFNet(nn.Module):
    def __init__(self, hs_bands: int, ms_bands: int, ratio: int, levels: int = 2, width: int = 64):
        super().__init__()
        self.ratio = ratio
        self.factors = prime_factors(ratio)
        n = len(self.factors)
        self.spectral = nn.ModuleList([ConvBlock(hs_bands, width)] +
                                      [ConvBlock(2 * width, width) for _ in range(n)])
        self.deconvs = nn.ModuleList(nn.ConvTranspose2d(width, width, p, stride=p) for p in self.factors)
        # spatial[i] works at the scale reached after i + 1 up-steps; spatial[n - 1] is the HR scale.
        self.spatial = nn.ModuleList([ConvBlock(width, width) for _ in range(n - 1)] + [ConvBlock(ms_bands, width)])
        self.reconstruct = nn.Conv2d(width, hs_bands, 3, padding=1)
        nn.init.zeros_(self.reconstruct.weight)
        nn.init.zeros_(self.reconstruct.bias)
        self.boundaries = level_boundaries(n, levels)
        self.heads = nn.ModuleDict({str(b): nn.Conv2d(width, hs_bands, 3, padding=1) for b in self.boundaries})

    def scale_of(self, steps: int) -> int:
        """Up-sampling factor from the LR grid after ``steps`` up-steps."""
        factor = 1
        for p in self.factors[:steps]:
            factor *= p
        return factor

    def receptive_field(self, ratio: int | None = None) -> int:
        """Halo in HR pixels at ``ratio`` (by default the ratio the network was built for): :func:`halo`."""
        return halo(ratio or self.ratio)

    def alignment(self, ratio: int | None = None) -> int:
        """Block origins on multiples of r: the pooling and deconvolution steps multiply to r."""
        return ratio or self.ratio

    def _spatial_features(self, hr_msi: torch.Tensor) -> list:
        """Spatial-pathway features, indexed by the number of up-steps of their scale."""
        n = len(self.factors)
        features = [None] * (n + 1)
        x = self.spatial[n - 1](hr_msi)
        features[n] = x
        for steps in range(n - 1, 0, -1):
            x = self.spatial[steps - 1](F.max_pool2d(x, self.factors[steps]))
            features[steps] = x
        return features

    def _forward_levels(self, lr_hsi: torch.Tensor, hr_msi: torch.Tensor) -> tuple:
        spatial = self._spatial_features(hr_msi)
        x = self.spectral[0](lr_hsi)
        intermediate = {}
        for step, p in enumerate(self.factors, start=1):
            x = self.spectral[step](torch.cat([self.deconvs[step - 1](x), spatial[step]], dim=1))
            if step in self.boundaries:
                base = bicubic_upsample(lr_hsi, self.scale_of(step))
                intermediate[step] = base + self.heads[str(step)](x)
        final = bicubic_upsample(lr_hsi, self.ratio) + self.reconstruct(x)
        return final, intermediate

    def forward(self, lr_hsi: torch.Tensor, hr_msi: torch.Tensor) -> torch.Tensor:
        return self._forward_levels(lr_hsi, hr_msi)[0]

    def training_loss(self, lr_hsi, hr_msi, target, mask) -> torch.Tensor:
        """Eq. 9–10: the sum over levels of each level's sum of squared errors (the output against
        the reference, every intermediate level against the reference down-sampled to its
        resolution), divided by the output's valid element count. A level at 1/f of the resolution
        has 1/f² as many terms, so it weighs 1/f² of the output, as in the paper."""
        final, intermediate = self._forward_levels(lr_hsi, hr_msi)
        final_count = mask.sum().clamp_min(1.0)
        loss = masked_mse(final, target, mask)
        for step, estimate in intermediate.items():
            factor = self.ratio // self.scale_of(step)
            weight = F.avg_pool2d(mask, factor)
            level_target = F.avg_pool2d(target * mask, factor) / weight.clamp_min(1e-6)
            level_mask = (weight > 0.999).float()
            # A mean times its element count is the level's sum; over the output's count it is eq. 10's term.
            loss = loss + masked_mse(estimate, level_target, level_mask) * level_mask.sum() / final_count
        return loss
