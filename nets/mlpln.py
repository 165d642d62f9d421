"""MLPLN: Multi-Level Propagation Learning Network for HS/MS fusion.

Paper: "Multi-Level Propagation Learning Network for hyperspectral and multispectral
image fusion" (shared/papers/000_da384f772880dcc3.txt).

Mapping to the paper
- §2, concentric patch sequence: for every HR pixel, A_0 is the ``patch`` × ``patch``
  window around it and A_j is A_0 cropped by j·κ pixels on every side
  (size ``patch`` − 2jκ), for j = 0 … η − 1, so Λ = {A_0, …, A_{η−1}} has η members. The
  paper requires the smallest crop to be at least 2 × 2; the constructor enforces
  ``patch`` − 2κ(η − 1) ≥ 2 and says how to fix a violation.
- §2, "learns from the smallest patch and propagates the learned information … until it
  reaches the biggest patch": the sequence is read from A_{η−1} (smallest) to A_0
  (largest).
- §2 and §4, layers: input (sequence) → LSTM, sequence to sequence, with as many hidden
  units as there are features → fully connected layer → regression output.
- §4, "the images on a set are transformed as bands per pixel": every step's feature
  vector has one entry per input band (HR-MSI bands and SVD components), computed from the
  whole crop; how depends on the variant (below).
- §4, spectral reduction by SVD: A = U S Vᵀ on the pixel × band matrix of the HS image;
  Γ = U S carries the spatial information and the network works on its leading
  ``components`` columns ("Band" 6–20 in Tables 2 and 3); the spectrum is restored with the
  leading rows of Vᵀ, kept in the ``basis`` buffer (saved with the weights).
- §2, regression layer: the loss is the RMSE against the reference.
- §4, training on randomly drawn patches of the scene itself: the project's trainer draws
  random patches of the reduced-resolution pair (Wald protocol); the network sees them
  whole, and every pixel of a patch is one training sequence.

Variants (``variant``; the registry's VARIANT; cards without the key hold BOX_MEANS, the rule is
``card_defaults`` in core/registry.py)
- PAPER (1, the default): the crops keep their spatial content, as the paper's conclusion asks
  ("filtering the images is not necessary, and thus the loss of spatial content is avoided").
  Every crop A_j of [HR-MSI bands ‖ SVD components of the bicubic-up-sampled LR-HSI] is
  area-resampled to the smallest crop's size q × q (the smallest crop itself stays at native
  resolution, so the pixel's own neighbourhood is in the sequence) and mapped by one linear
  encoder W (F × F × q × q + bias, F = MS bands + components, "hidden units is the number of
  features"), shared by all steps. Resampling is linear and separable (R_k, q × k), so the
  encoder at every pixel is one exact convolution per crop size with the kernel
  Σ_uv W[o,i,u,v]·R_k[u,a]·R_k[v,b] (:meth:`crop_kernel`). The LSTM's last output feeds one
  linear layer that predicts the pixel's HR components ("the MLPLN learns the weights to
  predict the target data linearly"); the spectrum is restored with Vᵀ. No hidden layer,
  bypass or bicubic residual: the paper has none, so an untrained network is not bicubic.
  Crops are padded by edge replication; a tile clipped at the raster edge repeats the same
  pixels, so tiled = whole image.
- BOX_MEANS (0): the architecture of the earlier bundled models, kept for their weights files and
  because it wins at a few hundred training steps (EnMAP held-out part, 300 steps: 34.4 dB and SAM 2.87°,
  against 24.1 dB and 5.76° for PAPER and 24.3 dB and 4.57° for bicubic; docs/methods.md). The
  choices below describe it.

Choices of the box-means variant, where the paper is silent, and why
- What a step's features are: the mean over crop A_j of [HR-MSI bands ‖ SVD components of
  the bicubic-up-sampled LR-HSI]. A mean keeps one feature per band whatever the crop
  size (the paper's "bands per pixel"), and the HR-MSI is the only source of HR spatial
  detail, so it has to enter the sequence. Means are computed with ``avg_pool2d`` and
  ``count_include_pad=False``: near the image edge a crop averages only the pixels that
  exist, which a block clipped at the same edge reproduces exactly (tiled = whole image).
- Even crop sizes have no centre pixel: a crop of even size k covers k/2 pixels before
  the pixel and k/2 − 1 after it, on both axes, for every step, so all crops stay
  concentric (about the pixel's top-left corner). The half-pixel shift of the context is
  the same for every pixel and step, and the pixel's own, unshifted features also reach
  the fully connected layer (below); a centred even crop would need half-weighted edges.
- Which LSTM output feeds the fully connected layer: the LSTM runs sequence to sequence,
  and the fully connected layer reads its last output, the state after the largest crop,
  since that is where the propagated information arrives. The fully connected layer also
  reads the pixel's own features (the sequence holds only crop means), so the fine detail
  that separates a pixel from its neighbourhood reaches the output.
- The fully connected part has one hidden layer of ``HEAD_WIDTH`` = 256 units with ReLU
  before the linear output. Measured on the generated 60-band scene (ratio 4, 150 steps,
  Adam 1e-3): a single linear layer on the small LSTM (MS bands + components units)
  under-fits and loses to bicubic on SAM; 32 hidden units still lost (SAM 4.61 against
  3.24); 96, 128, 192 and 256 units gave SAM 2.25, 2.04, 1.84 and 1.61. The wide layer lets
  the zero-started output learn fast enough for trainings of a few hundred steps at little
  cost (150 steps took 19 s with 32 units, 22 s with 256). It keeps the paper's idea of a
  fully connected layer that maps the LSTM output "to a more separable space".
- Residual output: the network predicts the correction of the HR SVD components over
  the bicubic up-sampling, and the output is bicubic(LR-HSI) + (correction · scale) Vᵀ.
  The last layer starts at zero, so an untrained network returns exactly the bicubic
  up-sampling and a short training can only add detail to it.

Choices common to both variants
- Even crops cover k/2 pixels before the pixel and k/2 − 1 after it (above), in both variants.
- The LSTM's last output (after the largest crop) is what the head reads.
- How the paper counts η is ambiguous (Fig. 2's (η, κ) pairs fit η crops beyond A_0); here A_0
  counts, so η = |Λ| as in "|Λi| = η".
- Component scale: the LSTM gates saturate on large inputs, and the leading component of
  standardised bands is about √bands times larger than the others. Each component is
  therefore divided by its RMS over the training pixels (its singular value / √pixels),
  i.e. the network sees U (scaled) rather than U S; the scale is restored at the output.
- SVD data: the valid pixels of the training target (the reduced-resolution reference,
  i.e. the original LR-HSI), at most ``SVD_MAX_PIXELS`` of them evenly spaced so that large
  scenes stay fast. The bands are standardised but not centred, as the paper factorises
  A itself. Singular vectors get a fixed sign (largest entry positive) so that training is
  reproducible across LAPACK builds. Before :meth:`initialise_from_data` the basis is the
  first ``components`` identity rows with unit scale, so an untrained net still works.
- ``components`` = 0 means min(12, HS bands): 12 is inside the paper's 6–20 range and keeps
  the per-pixel LSTM cheap on a CPU.
- Optimiser settings are not in the paper: Adam at 1e-2 (the registry's value), since the paper
  variant, which starts from random outputs, learns slowly at 1e-3 (docs/methods.md).
- The loss is the RMSE over valid pixels of the standardised bands (see ``FusionModel``),
  so that bands with large values do not dominate.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ..core.errors import UserInputError
from .blocks import BICUBIC_LR_RADIUS, bicubic_upsample, masked_mse

PAPER = "Multi-Level Propagation Learning Network for hyperspectral and multispectral image fusion"

DEFAULT_MAX_COMPONENTS = 12
HEAD_WIDTH = 256                # hidden units of the fully connected part (see the module docstring)
LSTM_CHUNK = 65_536             # pixel sequences per LSTM call
SVD_MAX_PIXELS = 200_000        # more pixels do not change the leading singular vectors noticeably
MIN_SMALLEST_CROP = 2           # the paper: the smallest patch must stay at least 2 × 2
MIN_RELATIVE_SCALE = 1e-3       # floor of a component's scale, relative to the leading one
# The two variants (see the module docstring); the registry's VARIANT passes one of them.
PAPER = 1                       # concentric patches kept whole, linear regression head
BOX_MEANS = 0                   # box means, pixel bypass, 256-unit ReLU layer, bicubic residual
VARIANTS = (PAPER, BOX_MEANS)


def area_matrix(size: int, cells: int) -> torch.Tensor:
    """``cells`` × ``size`` area-resampling matrix: row u holds the share of every input pixel in output
    cell u (overlap length / cell width), so each row sums to 1 and a 2-D resampling is R·A·Rᵀ."""
    edges = torch.arange(cells + 1, dtype=torch.float64) * (size / cells)
    pixels = torch.arange(size + 1, dtype=torch.float64)
    overlap = (torch.minimum(edges[1:, None], pixels[None, 1:])
               - torch.maximum(edges[:-1, None], pixels[None, :-1])).clamp_min(0.0)
    return overlap * (cells / size)


def pad_for_crop(x: torch.Tensor, size: int) -> torch.Tensor:
    """``x`` padded so that a ``size`` × ``size`` window at every pixel is its crop (size/2 before,
    size/2 − 1 after for an even size); replicated edges, which a tile clipped at the same edge repeats."""
    before, after = size // 2, size - 1 - size // 2
    return F.pad(x, (before, after, before, after), mode="replicate")


def crop_mean(x: torch.Tensor, size: int) -> torch.Tensor:
    """Mean of ``x`` over the ``size`` × ``size`` crop around every pixel, over existing pixels only.

    An even size reaches size/2 pixels up/left and size/2 − 1 down/right. The two 1-D passes
    give the exact 2-D mean because the pixels that exist always form a rectangle.
    """
    rows, cols = x.shape[-2:]
    half = size // 2
    x = F.avg_pool2d(x, (size, 1), stride=1, padding=(half, 0), count_include_pad=False)[..., :rows, :]
    return F.avg_pool2d(x, (1, size), stride=1, padding=(0, half), count_include_pad=False)[..., :, :cols]


class MLPLN(nn.Module):
    """MLPLN for ``hs_bands`` LR-HSI bands, ``ms_bands`` HR-MSI bands and ratio ``ratio``."""

    def __init__(self, hs_bands: int, ms_bands: int, ratio: int, kappa: int = 1, eta: int = 4, patch: int = 12,
                 components: int = 0, variant: int = PAPER):
        super().__init__()
        kappa, eta, patch, components, variant = int(kappa), int(eta), int(patch), int(components), int(variant)
        if variant not in VARIANTS:
            raise UserInputError(f"MLPLN: variant {variant} is unknown; use {PAPER} (the paper's concentric "
                                 f"patches) or {BOX_MEANS} (box means with a bicubic residual).")
        if kappa < 1 or eta < 1 or patch < MIN_SMALLEST_CROP:
            raise UserInputError(
                f"MLPLN needs a padding factor κ ≥ 1, a scalability number η ≥ 1 and a patch size ≥ "
                f"{MIN_SMALLEST_CROP}; got κ = {kappa}, η = {eta}, patch {patch}.")
        smallest = patch - 2 * kappa * (eta - 1)
        if smallest < MIN_SMALLEST_CROP:
            largest_eta = (patch - MIN_SMALLEST_CROP) // (2 * kappa) + 1
            raise UserInputError(
                f"MLPLN: with padding factor κ = {kappa}, scalability number η = {eta} and patch size {patch}, the "
                f"smallest crop would be {patch} − 2·{kappa}·({eta} − 1) = {smallest} pixels wide, but the paper "
                f"requires at least {MIN_SMALLEST_CROP} × {MIN_SMALLEST_CROP}. Lower η to at most {largest_eta}, "
                f"lower κ, or raise the patch size to at least {2 * kappa * (eta - 1) + MIN_SMALLEST_CROP}.")
        components = components or min(DEFAULT_MAX_COMPONENTS, hs_bands)
        if not 1 <= components <= hs_bands:
            raise UserInputError(
                f"MLPLN: {components} SVD components were asked for, but the LR-HSI has {hs_bands} bands. Use "
                f"between 1 and {hs_bands} components, or 0 for automatic.")

        self.ratio, self.kappa, self.eta, self.patch, self.components = ratio, kappa, eta, patch, components
        self.variant = variant
        # Smallest crop first: the sequence propagates from the centre outwards.
        self.crop_sizes = tuple(patch - 2 * kappa * j for j in reversed(range(eta)))
        features = ms_bands + components
        # Leading rows of Vᵀ; torch.eye on the meta device (the weights check) costs a second of imports.
        self.register_buffer("basis", torch.zeros(components, hs_bands).fill_diagonal_(1.0))
        self.register_buffer("component_scale", torch.ones(components))
        if variant == PAPER:
            # One linear map of a crop resampled to the smallest crop's size, shared by all steps.
            self.crop_encoder = nn.Conv2d(features, features, self.crop_sizes[0])
        self.lstm = nn.LSTM(features, features, batch_first=True)   # hidden units = number of features
        if variant == PAPER:
            self.regression = nn.Linear(features, components)         # the paper's linear prediction
            return
        self.fully_connected = nn.Sequential(nn.Linear(2 * features, HEAD_WIDTH), nn.ReLU(),
                                             nn.Linear(HEAD_WIDTH, components))
        # Start as plain bicubic: the component correction begins at zero.
        nn.init.zeros_(self.fully_connected[-1].weight)
        nn.init.zeros_(self.fully_connected[-1].bias)

    def receptive_field(self, ratio: int | None = None) -> int:
        """Halo in HR pixels: half the largest crop plus the reach of bicubic up-sampling."""
        return self.patch // 2 + BICUBIC_LR_RADIUS * (ratio or self.ratio)

    def alignment(self, ratio: int | None = None) -> int:
        """Block origins on multiples of r (whole LR pixels): every layer works at HR resolution."""
        return ratio or self.ratio

    @torch.no_grad()
    def initialise_from_data(self, lr_hsi, hr_msi, target, valid) -> None:
        """SVD of the valid target pixels (pixel × band matrix): keep the leading rows of Vᵀ."""
        pixels = target[:, valid].T.double()
        if pixels.shape[0] > SVD_MAX_PIXELS:
            pixels = pixels[torch.linspace(0, pixels.shape[0] - 1, SVD_MAX_PIXELS, device=pixels.device).long()]
        if pixels.shape[0] == 0:
            return
        # With fewer pixels than bands only the full Vᵀ has a row for every component.
        _, singular, vt = torch.linalg.svd(pixels, full_matrices=pixels.shape[0] < pixels.shape[1])
        vt = vt[:self.components]
        signs = torch.sign(vt.gather(1, vt.abs().argmax(dim=1, keepdim=True)))
        scale = torch.zeros(self.components, dtype=singular.dtype, device=singular.device)
        kept = min(self.components, singular.shape[0])
        scale[:kept] = singular[:kept] / pixels.shape[0] ** 0.5
        scale = scale.clamp_min(MIN_RELATIVE_SCALE * float(scale[0]) if float(scale[0]) > 0 else 1.0)
        self.basis.copy_(vt * signs)
        self.component_scale.copy_(scale)

    def crop_kernel(self, size: int) -> torch.Tensor:
        """The encoder as one ``size`` × ``size`` kernel: K[o,i,a,b] = Σ_uv W[o,i,u,v]·R[u,a]·R[v,b], so that
        a convolution gives, at every pixel, W applied to its crop area-resampled to the smallest size."""
        weight = self.crop_encoder.weight
        resample = area_matrix(size, weight.shape[-1]).to(weight)
        return torch.einsum("oiuv,ua,vb->oiab", weight, resample, resample)

    def encode_crops(self, pixel_features: torch.Tensor) -> torch.Tensor:
        """(N, η, F, H, W): every pixel's crops, smallest first, each encoded by the shared linear map."""
        return torch.stack([F.conv2d(pad_for_crop(pixel_features, size), self.crop_kernel(size),
                                     self.crop_encoder.bias) for size in self.crop_sizes], dim=1)

    def last_lstm_output(self, sequence: torch.Tensor) -> torch.Tensor:
        """The LSTM's output after the last (largest) crop of every (pixel, step, feature) sequence."""
        # Chunks keep a whole-tile batch within cuDNN's RNN limits.
        return torch.cat([self.lstm(chunk)[0][:, -1] for chunk in sequence.split(LSTM_CHUNK)])

    def forward(self, lr_hsi: torch.Tensor, hr_msi: torch.Tensor) -> torch.Tensor:
        upsampled = bicubic_upsample(lr_hsi, self.ratio)
        scale = self.component_scale[None, :, None, None]
        components = torch.einsum("nbhw,cb->nchw", upsampled, self.basis) / scale
        pixel_features = torch.cat([hr_msi, components], dim=1)
        n, f, rows, cols = pixel_features.shape
        if self.variant == PAPER:
            sequence = self.encode_crops(pixel_features)
        else:
            sequence = torch.stack([crop_mean(pixel_features, size) for size in self.crop_sizes], dim=1)
        # Every pixel is one sequence.
        sequence = sequence.permute(0, 3, 4, 1, 2).reshape(n * rows * cols, len(self.crop_sizes), f)
        last = self.last_lstm_output(sequence)
        if self.variant == PAPER:
            predicted = self.regression(last).reshape(n, rows, cols, self.components).permute(0, 3, 1, 2)
            return torch.einsum("nchw,cb->nbhw", predicted * scale, self.basis)
        own = pixel_features.permute(0, 2, 3, 1).reshape(n * rows * cols, f)
        correction = self.fully_connected(torch.cat([last, own], dim=1))
        correction = correction.reshape(n, rows, cols, self.components).permute(0, 3, 1, 2) * scale
        return upsampled + torch.einsum("nchw,cb->nbhw", correction, self.basis)

    def training_loss(self, lr_hsi, hr_msi, target, mask) -> torch.Tensor:
        """The paper's loss: root mean squared error against the reference."""
        # The floor only keeps the gradient finite at a perfect fit.
        return masked_mse(self(lr_hsi, hr_msi), target, mask).clamp_min(1e-12).sqrt()
