"""MHF-net: the MS/HS fusion network that unfolds a proximal-gradient algorithm.

Paper: "Multispectral and Hyperspectral Image Fusion by MS/HS Fusion Net"
(shared/papers/002_7d83e47205f7c9d9.txt).

Mapping to the paper
- Theorem 1: X = Y A + Ŷ B, with Y the HR-MSI (s bands), Ŷ (rank − s) unknown HR bases,
  A (s × S) and B ((rank − s) × S) as 1 × 1 convolutions (``self.a``, ``self.b``).
- Eq. 19: X⁽ᵏ⁾ = Y ×₃ Aᵀ + Ŷ⁽ᵏ⁾ ×₃ Bᵀ; stage 1 starts from Ŷ⁽¹⁾ = 0, so X⁽¹⁾ = Y·A.
- Eq. 20: E⁽ᵏ⁾ = downSample(X⁽ᵏ⁾) − Z, channel-wise convolutions and average pooling
  (:class:`DownSampler`).
- Eq. 21: G⁽ᵏ⁾ = η · upSample(E⁽ᵏ⁾) ×₃ B, transposed convolutions (:class:`UpSampler`).
- Eq. 22: Ŷ⁽ᵏ⁺¹⁾ = proxNet(Ŷ⁽ᵏ⁾ − G⁽ᵏ⁾), a ResNet per stage (:class:`ProxNet`).
- Eq. 23: X̂ = resNet(X⁽ᴷ⁾) after the final stage.
- Eq. 24: L = ‖X̂ − X‖² + α Σₖ ‖X⁽ᵏ⁾ − X‖² + β ‖E⁽ᴷ⁾‖², α = 0.1, β = 0.01: the sums of
  squares, divided by one constant, the valid HR element count (:func:`eq24`).
- L, the residual units per ResNet (the paper's best (K, L) is (13, 2)): RESNET_LEVELS,
  1 by default (L = 2 did not win at our step budgets; docs/methods.md).
- A is initialised by least squares from training pixels, A = (YᵀY)⁻¹YᵀX
  (:meth:`MHFNet.initialise_from_data`), as in the authors' code.

Facts taken from the authors' public code (read, not copied): one B shared by all
stages; an up-sampler per stage made of transposed convolutions with the down-sampled
HR-MSI injected after each scale; residual units of three 3 × 3 convolutions; rank 12 for
3 MS bands.

Deviations from the paper (docs/methods.md gives the reasons)
- One depthwise down-sampler shared by all stages, as in the authors' code; the paper has
  one per stage (θ_d⁽ᵏ⁾, k = 1 … K).
- One learned η per stage; the paper writes a single η.
- The up-sampler projects E onto the basis (×₃ B) first and up-samples in the rank − s
  basis channels; eq. 21 up-samples E in its S channels, then projects.

Choices where the paper is silent
- Any ratio: one scale per prime factor of r (4 → ×2, ×2 as in the paper's code; 3 → ×3;
  6 → ×2, ×3). Down-sampling at a ×p scale is a depthwise 3 × 3 convolution then a p × p
  average pool; up-sampling is a transposed convolution with kernel p and stride p, so
  every LR pixel maps onto its own footprint.
- Rank: MS bands + 9 by default (the authors' code's 12 for 3 MS bands; the paper gives
  no value), at most S.
- Stages: 8 by default, a CPU-friendly depth (the paper finds K = 13 best, its code uses
  20); STAGES sets it.
- No batch normalisation in the residual units: the authors normalise with batch
  statistics even at test time, which would make a pixel's value depend on the block it
  is computed in and break tiled inference.
- Initialisation that makes an untrained network a sensible classical fusion: A by least
  squares, B from the leading principal components of the residual X − Y·A, the
  down-sampler as a small blur, the up-sampler as nearest-neighbour up-sampling, the prox
  and final ResNets as the identity and η = 1. Stage 2 is then
  X⁽²⁾ ≈ Y·A + up(Z − down(Y·A)) projected on B, a high-pass injection; training refines
  every part.
- Eq. 24 is written per training image; the sums here run over the batch, divided by
  the valid HR element count so that the value does not grow with batch or patch size.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from ..core.errors import UserInputError
from . import reach
from .streaming import HR, LR, RowStage
from .blocks import prime_factors

PAPER = "Multispectral and Hyperspectral Image Fusion by MS/HS Fusion Net"
ALPHA, BETA = 0.1, 0.01


def default_rank(hs_bands: int, ms_bands: int) -> int:
    return min(hs_bands, ms_bands + 9)


def eq24(final, stages, error, target, mask, lr_mask):
    """Eq. 24's sums of squares, all divided by the valid HR element count n_HR.

    One constant for the whole loss keeps the paper's relative weights (Adam is invariant
    to it) and makes the value independent of batch and patch size. E⁽ᴷ⁾ has r² fewer
    elements than X, so its term is β · (n_LR / n_HR) · its mean: the counts, not 1/r²,
    because masks remove HR and LR pixels in other proportions.
    """
    weight = mask.expand_as(target)
    lr_weight = lr_mask.expand_as(error)
    n_hr = weight.sum().clamp_min(1.0)
    total = (((final - target) ** 2) * weight).sum()
    total = total + ALPHA * sum((((x_k - target) ** 2) * weight).sum() for x_k in stages)
    return (total + BETA * ((error ** 2) * lr_weight).sum()) / n_hr


class ResidualUnit(nn.Module):
    """Three 3 × 3 convolutions with ReLU, added to the input."""

    def __init__(self, width: int):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(width, width, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(width, width, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(width, width, 3, padding=1))

    def forward(self, x):
        return x + self.body(x)


class ResNet(nn.Module):
    """x + conv_out(units(conv_in(x))); conv_out starts at zero, so it starts as the identity."""

    def __init__(self, channels: int, width: int, levels: int):
        super().__init__()
        self.conv_in = nn.Conv2d(channels, width, 3, padding=1)
        self.units = nn.Sequential(*[ResidualUnit(width) for _ in range(levels)])
        self.conv_out = nn.Conv2d(width, channels, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    @staticmethod
    def radius(levels: int) -> int:
        return 2 + 3 * levels

    def forward(self, x):
        return x + self.conv_out(self.units(F.relu(self.conv_in(x))))


ProxNet = ResNet


class DownSampler(nn.Module):
    """Eq. 20's C: per prime factor p, a depthwise 3 × 3 convolution then p × p average pooling."""

    def __init__(self, channels: int, factors: list):
        super().__init__()
        self.factors = factors
        self.convs = nn.ModuleList(nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False)
                                   for _ in factors)
        # Made on the CPU: under torch.device("meta") (the weights check) its arithmetic costs a second of imports.
        blur = torch.tensor([1.0, 2.0, 1.0], device="cpu")
        blur = (blur[:, None] * blur[None, :]) / 16.0
        for conv in self.convs:
            conv.weight.data.copy_(blur.expand_as(conv.weight))

    def forward(self, x):
        for p, conv in zip(reversed(self.factors), self.convs):
            x = F.avg_pool2d(conv(x), p)
        return x

    def after_mixing(self, inputs, mixing):
        """``self(F.conv2d(inputs, mixing))`` for a 1 × 1 ``mixing`` (S × C × 1 × 1) of few input channels C,
        without forming its S channels on the finer grid. The mixing, the first depthwise convolution (zero
        borders) and the p × p pooling after it are all linear, so together they are one convolution of stride p
        from the C channels, whose (p + 2)² kernel for output channel c is the mixing's weight times the 3 × 3
        kernel of channel c spread over the pool; the later steps run on a grid p² times smaller as before."""
        steps = list(zip(reversed(self.factors), self.convs))
        (p, first), rest = steps[0], steps[1:]
        spread = first.weight.new_zeros(first.weight.shape[0], 1, p + 2, p + 2)
        for row in range(p):
            for col in range(p):
                spread[..., row:row + 3, col:col + 3] += first.weight
        x = F.conv2d(inputs, mixing * (spread / (p * p)), stride=p, padding=1)
        for p, conv in rest:
            x = F.avg_pool2d(conv(x), p)
        return x


class UpSampler(nn.Module):
    """Eq. 21's Cᵀ in the basis channels: transposed convolutions, HR-MSI injected at every scale."""

    def __init__(self, basis: int, ms_bands: int, factors: list):
        super().__init__()
        self.factors = factors
        self.deconvs = nn.ModuleList(nn.ConvTranspose2d(basis, basis, p, stride=p, bias=False) for p in factors)
        self.mix = nn.ModuleList(nn.Conv2d(basis + ms_bands, basis, 3, padding=1) for _ in factors)
        with torch.no_grad():
            for deconv in self.deconvs:                   # nearest-neighbour up-sampling
                deconv.weight.zero_()
                for c in range(basis):
                    deconv.weight[c, c] = 1.0
            for mix in self.mix:                          # identity on the basis channels
                mix.weight.zero_()
                mix.bias.zero_()
                for c in range(basis):
                    mix.weight[c, c, 1, 1] = 1.0

    def forward(self, e_basis, hr_msi):
        x = e_basis
        remaining = 1
        for p in self.factors:
            remaining *= p
        for p, deconv, mix in zip(self.factors, self.deconvs, self.mix):
            remaining //= p
            guide = F.avg_pool2d(hr_msi, remaining) if remaining > 1 else hr_msi
            x = mix(torch.cat([deconv(x), guide], dim=1))
        return x


def _dependence(factors: list, stages: int, levels: int, pixels: tuple) -> tuple:
    """(first, last) HR pixel, along one axis, of every input that the HR output ``pixels`` (first, last) depend
    on; an LR pixel i counts as its footprint i·r … i·r + r − 1. Mirrors :meth:`MHFNet.forward` from its output
    back, stage by stage: Ŷ⁽ᵏ⁾ = prox(Ŷ⁽ᵏ⁻¹⁾ − G⁽ᵏ⁻¹⁾) reads Ŷ⁽ᵏ⁻¹⁾ on fewer pixels than G⁽ᵏ⁻¹⁾ reads X⁽ᵏ⁻¹⁾, which
    holds Ŷ⁽ᵏ⁻¹⁾ itself, so following G alone gives the same pixels."""
    span = reach.widened(pixels, ResNet.radius(levels))   # the final ResNet on X⁽ᴷ⁾
    spans = [span]                               # X⁽ᵏ⁾ = Y·A + B(Ŷ⁽ᵏ⁾): 1 × 1, the HR-MSI on the HR grid
    for _ in range(stages - 1):
        span, reads = _stage_reads(factors, levels, span)
        spans += reads
    return reach.hull(*spans)


def _stage_reads(factors: list, levels: int, span: tuple) -> tuple:
    """(X⁽ᵏ⁻¹⁾'s HR pixels, [HR pixels of every input]) that one stage's Ŷ⁽ᵏ⁾ = prox(Ŷ⁽ᵏ⁻¹⁾ − G⁽ᵏ⁻¹⁾) on ``span``
    reads; X⁽ᵏ⁻¹⁾'s pixels are those of Ŷ⁽ᵏ⁻¹⁾ and the HR-MSI that it is made of."""
    ratio, spans = math.prod(factors), []
    span, pixel = reach.widened(span, ResNet.radius(levels)), 1   # prox: G = up(E ×₃ B), undone from HR to LR
    for p in reversed(factors):
        span = reach.widened(span, 1)                             # the 3 × 3 mix, with the pooled HR-MSI
        spans.append(reach.on_hr_grid(span, pixel))
        span, pixel = reach.through_transposed_conv(span, p, p), pixel * p   # nearest-neighbour, ×p
    spans.append(reach.on_hr_grid(span, ratio))                   # E = down(X) − Z: the LR-HSI
    for p in factors:                                            # undo the down-sampler from LR to HR
        span = reach.widened(reach.through_conv(span, p, p, 0), 1)   # p × p pooling after a 3 × 3 depthwise
    spans.append(span)                                           # X⁽ᵏ⁻¹⁾ and its HR-MSI
    return span, spans


class MHFNet(nn.Module):
    # A tiled run of MHF-net hands its freed memory back to the system after every block, where the other networks
    # keep it for the next one (RETAINED_BUDGETS in core/inference/tiling.py). Kept, it let a long run climb: its
    # weights-file fusion of 6000² × 100 bands peaked at 1.84–1.90 GB, the blocks right after a hand-back at most at
    # 1.73 GB; handed back after every block, two runs peaked at 1.63 and 1.76 GB. It costs about 8 % of MHF-net's time
    # (1500² × 100 bands: 22.2 s against 20.5 s on average over four runs each; docs/performance.md).
    KEEPS_FREED_MEMORY = False

    def __init__(self, hs_bands: int, ms_bands: int, ratio: int, stages: int = 8, rank: int = 0,
                 levels: int = 1, width: int = 32):
        super().__init__()
        rank = rank or default_rank(hs_bands, ms_bands)
        if not ms_bands < rank <= hs_bands:
            raise UserInputError(f"MHF-net's RANK must be larger than the MS band count ({ms_bands}) and at most the "
                                 f"HS band count ({hs_bands}); got {rank}. Use 0 for the automatic rank.")
        self.ratio, self.stages, self.levels = ratio, stages, levels
        self.factors = prime_factors(ratio)
        basis = rank - ms_bands
        self.a = nn.Conv2d(ms_bands, hs_bands, 1, bias=False)
        self.b = nn.Conv2d(basis, hs_bands, 1, bias=False)
        # One down-sampler for all K stages (paper: one per stage): it stands for the single
        # sensor degradation that links X to Z, as in the authors' code.
        self.down = DownSampler(hs_bands, self.factors)
        self.up = nn.ModuleList(UpSampler(basis, ms_bands, self.factors) for _ in range(stages - 1))
        self.prox = nn.ModuleList(ProxNet(basis, width, levels) for _ in range(stages - 1))
        self.step = nn.Parameter(torch.ones(max(stages - 1, 1)))   # η, one per stage (paper: one η)
        self.final = ResNet(hs_bands, width, levels)
        nn.init.orthogonal_(self.b.weight)

    def receptive_field(self, ratio: int | None = None) -> int:
        """Halo in HR pixels: the farthest input pixel, LR-HSI or HR-MSI, that any output pixel depends on.

        Traced exactly through the layers (:func:`_dependence`), for each HR pixel's phase within its LR pixel,
        since block origins are whole LR pixels. A stage goes down to LR and back up with nearest-neighbour
        transposed convolutions, which land on the LR pixel's own footprint: adding the down- and up-samplers'
        reaches separately counted 107 HR pixels at ratio 3 with 8 stages, where the outputs reach 68.
        """
        ratio = ratio or self.ratio
        factors = prime_factors(ratio)
        return reach.farthest(lambda pixel: _dependence(factors, self.stages, self.levels, pixel), ratio)

    def alignment(self, ratio: int | None = None) -> int:
        """Block origins on multiples of r: the down- and up-sampling steps multiply to r."""
        return ratio or self.ratio

    def _basis_transpose(self, x):
        """x ×₃ B: S channels onto the rank − s basis channels."""
        return F.conv2d(x, self.b.weight.transpose(0, 1))

    def _stages(self, lr_hsi, hr_msi):
        """Every stage's X⁽ᵏ⁾ (eq. 24 needs them all) and the last E."""
        y_a = self.a(hr_msi)
        outputs, y_hat = [], None
        for k in range(self.stages):
            x_k = y_a if y_hat is None else y_a + self.b(y_hat)                 # eq. 19
            error = self.down(x_k) - lr_hsi                                    # eq. 20
            outputs.append(x_k)
            if k == self.stages - 1:
                break
            # Eq. 21 with ×₃ B moved before the up-sampler: the projection runs on the LR grid and
            # the transposed convolutions on rank − s channels instead of S.
            g = self.step[k] * self.up[k](self._basis_transpose(error), hr_msi)  # eq. 21
            y_hat = self.prox[k]((0.0 if y_hat is None else y_hat) - g)         # eq. 22
        return outputs, error

    def _last_stage(self, lr_hsi, hr_msi):
        """X⁽ᴷ⁾ alone, by the stages of :meth:`_stages` in another order of the same linear steps. Before the last
        stage, X⁽ᵏ⁾ = Y·A + Ŷ⁽ᵏ⁾·B enters only eq. 20, down-sampled, so its S bands are never formed on the HR grid:
        the down-sampler takes Y with A as its mixing once and Ŷ⁽ᵏ⁾ with B in every stage, and the two add (it is
        linear; DownSampler.after_mixing). On a 384² block of the bundled EnMAP model this took the forward pass from 2.1 s to 1.2 s, and most of the
        S-band HR images out of the memory a block needs."""
        y_hat, down_y_a = None, self.down.after_mixing(hr_msi, self.a.weight)   # the same in every stage
        for k in range(self.stages - 1):
            y_hat = self._stage(k, y_hat, lr_hsi, hr_msi, down_y_a)
        return self._mixed(y_hat, hr_msi)

    def _mixed(self, y_hat, hr_msi):
        """Eq. 19, X = Y·A + Ŷ·B (Y·A alone before the first stage)."""
        return self.a(hr_msi) if y_hat is None else self.a(hr_msi) + self.b(y_hat)

    def forward(self, lr_hsi, hr_msi):
        return self.final(self._last_stage(lr_hsi, hr_msi))                    # eq. 23

    def _stage(self, k: int, y_hat, lr_hsi, hr_msi, down_y_a=None):
        """Ŷ⁽ᵏ⁺¹⁾ from Ŷ⁽ᵏ⁾ (None before the first stage) for :meth:`_last_stage`; ``down_y_a`` is Y·A down-sampled,
        computed here where not given."""
        down = self.down.after_mixing(hr_msi, self.a.weight) if down_y_a is None else down_y_a
        if y_hat is not None:
            down = down + self.down.after_mixing(y_hat, self.b.weight)
        g = self.step[k] * self.up[k](self._basis_transpose(down - lr_hsi), hr_msi)   # eqs. 20, 21
        return self.prox[k]((0.0 if y_hat is None else y_hat) - g)                     # eq. 22

    def row_stages(self, ratio: int | None = None) -> list:
        """:meth:`forward` as steps for row streaming (nets/streaming.py): each stage's Ŷ⁽ᵏ⁾, and X⁽ᴷ⁾ with the final
        ResNet, with the radii traced as for :meth:`receptive_field`. Each stage down-samples Y·A again, which the
        whole forward pass does once (about 2 % of a stage's multiply-adds at ratio 3)."""
        factors = prime_factors(ratio or self.ratio)
        radius = reach.farthest(lambda pixel: reach.hull(*_stage_reads(factors, self.levels, pixel)[1]),
                                math.prod(factors))
        names = [f"y{k}" for k in range(self.stages)]
        stages = [RowStage((names[1],), (LR, HR), radius,
                           lambda lr_hsi, hr_msi: (self._stage(0, None, lr_hsi, hr_msi),))] if self.stages > 1 else []
        stages += [RowStage((after,), (before, LR, HR), radius,
                            lambda y_hat, lr_hsi, hr_msi, k=k: (self._stage(k, y_hat, lr_hsi, hr_msi),))
                   for k, (before, after) in enumerate(zip(names[1:], names[2:]), start=1)]

        def fused(*inputs):
            *y_hat, hr_msi = inputs
            return (self.final(self._mixed(y_hat[0] if y_hat else None, hr_msi)),)                 # eq. 23
        last = (names[-1], HR) if self.stages > 1 else (HR,)
        return stages + [RowStage(("fused",), last, ResNet.radius(self.levels), fused)]

    def training_loss(self, lr_hsi, hr_msi, target, mask):
        """Eq. 24 (:func:`eq24`) with α = 0.1 and β = 0.01."""
        outputs, error = self._stages(lr_hsi, hr_msi)
        lr_mask = (F.avg_pool2d(mask, self.ratio) > 0.999).float()
        return eq24(self.final(outputs[-1]), outputs, error, target, mask, lr_mask)

    @torch.no_grad()
    def initialise_from_data(self, lr_hsi, hr_msi, target, valid):
        """A = (YᵀY)⁻¹YᵀX by least squares on valid training pixels; B from the residual's principal axes."""
        y = hr_msi[:, valid].T.double()                 # pixels × s
        x = target[:, valid].T.double()                 # pixels × S
        if y.shape[0] < y.shape[1]:
            return
        a = torch.linalg.lstsq(y, x).solution          # s × S
        self.a.weight.copy_(a.T[:, :, None, None].to(self.a.weight))
        residual = x - y @ a
        _, singular, vh = torch.linalg.svd(residual, full_matrices=False)
        # Singular vectors have an arbitrary sign; fix it (largest entry positive) so runs repeat.
        signs = torch.sign(vh.gather(1, vh.abs().argmax(dim=1, keepdim=True)))
        vh = vh * torch.where(signs == 0, torch.ones_like(signs), signs)
        # Directions of (numerically) zero residual are arbitrary rounding noise: those bases
        # keep their seeded initialisation.
        usable = min(self.b.weight.shape[1], int((singular > 1e-6 * singular[0]).sum()))
        self.b.weight[:, :usable] = vh[:usable].T[:, :, None, None].to(self.b.weight)
