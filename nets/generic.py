"""Generic models: any network of the registry, independent of the sensors' bands and of the ratio.

A sensor-specific model has one input channel per HS and per MS band and one ratio, so it
fuses only the pair it was trained for. A generic model puts every pair into one form first,
and its network is trained on that form over many simulated sensor pairs and ratios
(tools/generic_recipe.py):

- **HS side: the scene's leading spectral components.** The LR-HSI spectra, less their mean
  μ, are expressed in their first ``COMPONENTS`` principal directions E (taken from the pair's
  own LR pixels when the model is bound to it), each divided by its standard deviation σₖ.
- **MS side: the MS expressed in those components.** With the pair's spectral responses R,
  the MS sees the components through G = R E. Each HR pixel's lifted coefficients are the
  bicubic-upsampled LR coefficients a_up plus the detail its MS spectrum shows, estimated by
  ridge regression in standardised coefficients (the detail's prior covariance is the
  components' own, diag(σ²)): with Gₛ = G diag(σ), b = b_up + Gₛᵀ(GₛGₛᵀ + εI)⁻¹(y − Rμ − Gₛ b_up).
  The first ``MS_CHANNELS`` of them are the network's "HR-MSI" (MHF-net needs fewer MS than
  HS channels).
- **Ratio: the network works at INNER_RATIO.** At another ratio r, its HR input is resampled
  to INNER_RATIO times the LR grid and its correction back to r times.
- **The network corrects the lift where the MS is blind.** Its output less the bicubic
  upsampling of its LR input is projected onto what the MS does not see, I − Gₛᵀ(GₛGₛᵀ + εI)⁻¹Gₛ, and
  added to the lifted coefficients: the lift's reproduction of the MS is kept, detail finer
  than the network's grid (r above INNER_RATIO) still comes from the MS, and a network that
  only upsamples leaves the lift unchanged.

The output is μ + E (σ · coefficients), plus the bicubic-upsampled part of the LR-HSI outside
the components, so nothing of the LR-HSI is dropped. The network inside keeps its paper's
architecture; the projection onto both observations (core/inference/adaptation.py) follows
as for any model. docs/methods.md gives the measured effect.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .blocks import BICUBIC_LR_RADIUS, FusionModel, bicubic_upsample, pad_to_multiple

COMPONENTS = 12        # HS coefficients the network sees
MS_CHANNELS = 6        # lifted coefficients it sees as its HR-MSI
INNER_RATIO = 4        # the ratio its layers are built for
RATIOS = (2, 8)        # the ratios the generic models are trained for, inclusive
# ε of the lift relative to the mean MS band's variance that the components explain: small, so the MS
# is reproduced where it sees a component and the upsampled LR coefficients decide where it does not.
LIFT_RIDGE = 1e-2
# Resampling between the inner and the real HR grid reaches this many LR pixels.
RESAMPLE_LR_RADIUS = 2


def resize(x: torch.Tensor, size: tuple) -> torch.Tensor:
    """Bicubic up, antialiased bilinear down, to ``size`` (rows, cols)."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    if size[0] > x.shape[-2]:
        return F.interpolate(x, size=size, mode="bicubic", align_corners=False)
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)


def principal_basis(pixels: torch.Tensor, components: int = COMPONENTS) -> tuple:
    """(mean μ, basis E bands × components, σ per component) of ``pixels`` (bands × n).

    Components that the pixels do not span (fewer pixels than components, or a flat scene) get
    a zero column and σ = 1, so they carry nothing. Signs are fixed (largest entry positive)
    so that a model sees the same form of the same scene every time.
    """
    pixels = pixels.double()
    bands, count = pixels.shape
    mean = pixels.mean(dim=1)
    centred = pixels - mean[:, None]
    basis = torch.zeros(bands, components, dtype=torch.float64)
    sigma = torch.ones(components, dtype=torch.float64)
    if count >= 2:
        u, singular, _ = torch.linalg.svd(centred, full_matrices=False)
        usable = min(components, int((singular > 1e-6 * max(float(singular[0]), 1e-30)).sum()))
        u = u[:, :usable]
        signs = torch.sign(u.gather(0, u.abs().argmax(dim=0, keepdim=True)))
        basis[:, :usable] = u * torch.where(signs == 0, torch.ones_like(signs), signs)
        sigma[:usable] = singular[:usable] / math.sqrt(count - 1)
    return mean.float(), basis.float(), sigma.float()


def lift_matrices(response: torch.Tensor, basis: torch.Tensor, sigma: torch.Tensor) -> tuple:
    """(P, Q) with lifted = P (y − Rμ) + Q a_up: the regression of the module docstring, on raw coefficients.

    The detail a − a_up is given the prior covariance of the components themselves, diag(σ²): in
    standardised coefficients b = a / σ the lift is a plain ridge regression with Gₛ = G diag(σ),
    b = b_up + Gₛᵀ(GₛGₛᵀ + εI)⁻¹ (y − Rμ − Gₛ b_up). Where one MS band sees several components, its
    detail goes to them in proportion to their variance in the scene, as a minimum-mean-square-error
    estimate does, rather than evenly. ε is LIFT_RIDGE times the mean MS band's variance explained."""
    scale = sigma.double()
    g = response.double() @ basis.double() * scale[None, :]       # Gₛ: MS bands × components
    outer = g @ g.T
    ridge = LIFT_RIDGE * max(float(torch.trace(outer)) / outer.shape[0], 1e-30)
    gain = g.T @ torch.linalg.inv(outer + ridge * torch.eye(outer.shape[0], dtype=torch.float64))
    keep = torch.eye(g.shape[1], dtype=torch.float64) - gain @ g
    return (scale[:, None] * gain).float(), (scale[:, None] * keep / scale[None, :]).float()


def fuse_coefficients(model: FusionModel, lr_coefficients: torch.Tensor, lifted: torch.Tensor, ratio: int,
                      unseen: torch.Tensor) -> torch.Tensor:
    """The network on standardised coefficients: (N, K, h, w) LR and (N, K, r·h, r·w) lifted → (N, K, r·h, r·w).

    The network's correction, its output less the bicubic upsampling of its LR input, is added to the
    lifted coefficients after ``unseen`` (K × K, or N × K × K) keeps only its part that the MS does not
    see: the lift already reproduces the MS, and a correction there could only spoil it. Shared by
    inference and by the recipe that trains the generic models."""
    rows, cols = lr_coefficients.shape[-2:]
    inner_size = (INNER_RATIO * rows, INNER_RATIO * cols)
    inner = model(lr_coefficients, resize(lifted[:, :MS_CHANNELS], inner_size))
    correction = resize(inner - bicubic_upsample(lr_coefficients, INNER_RATIO), (ratio * rows, ratio * cols))
    equation = "kj,njhw->nkhw" if unseen.dim() == 2 else "nkj,njhw->nkhw"
    return lifted + torch.einsum(equation, unseen, correction)


class GenericForm(nn.Module):
    """One pair's generic form (μ, E, σ, the lift and the ratio), set by :meth:`bind` and not saved."""

    def __init__(self):
        super().__init__()
        self.ratio = 0
        for name in ("hs_mean", "basis", "sigma", "ms_offset", "lift_ms", "lift_up"):
            self.register_buffer(name, torch.zeros(0), persistent=False)

    @property
    def bound(self) -> bool:
        return self.basis.numel() > 0

    def bind(self, lr_pixels, response, ratio: int) -> None:
        """Fit the form to one pair: ``lr_pixels`` (HS bands × n) valid LR-HSI spectra, ``response`` R (MS × HS)
        and the pair's ratio."""
        pixels = torch.as_tensor(lr_pixels, dtype=torch.float32)
        response = torch.as_tensor(response, dtype=torch.float32)
        mean, basis, sigma = principal_basis(pixels)
        lift_ms, lift_up = lift_matrices(response, basis, sigma)
        self.ratio = int(ratio)
        for name, value in (("hs_mean", mean), ("basis", basis), ("sigma", sigma), ("ms_offset", response @ mean),
                            ("lift_ms", lift_ms), ("lift_up", lift_up)):
            setattr(self, name, value.to(self.basis.device))

    def _project(self, spectra: torch.Tensor) -> tuple:
        """(spectra less μ, their coefficients on E) of (N, S, H, W) spectra."""
        centred = spectra - self.hs_mean[None, :, None, None]
        return centred, torch.einsum("ck,nchw->nkhw", self.basis, centred)

    def coefficients(self, lr_hsi: torch.Tensor, hr_msi: torch.Tensor) -> tuple:
        """(standardised LR coefficients, standardised lifted coefficients, LR residual outside the components)
        of (N, S, h, w) and (N, s, r·h, r·w) inputs."""
        centred, lr_coefficients = self._project(lr_hsi)
        residual = centred - torch.einsum("ck,nkhw->nchw", self.basis, lr_coefficients)
        upsampled = bicubic_upsample(lr_coefficients, self.ratio)
        lifted = (torch.einsum("km,nmhw->nkhw", self.lift_ms, hr_msi - self.ms_offset[None, :, None, None])
                  + torch.einsum("kj,njhw->nkhw", self.lift_up, upsampled))
        scale = self.sigma[None, :, None, None]
        return lr_coefficients / scale, lifted / scale, residual

    @property
    def unseen(self) -> torch.Tensor:
        """The projector, on standardised coefficients, onto what the MS does not see:
        I − Gₛᵀ(GₛGₛᵀ + εI)⁻¹Gₛ (the lift's Q with the standardisation folded in)."""
        return self.lift_up / self.sigma[:, None] * self.sigma[None, :]

    def standardised_target(self, hr_hsi: torch.Tensor) -> torch.Tensor:
        """The coefficients a perfect fusion would give for the (N, S, H, W) reference ``hr_hsi`` (training)."""
        return self._project(hr_hsi)[1] / self.sigma[None, :, None, None]

    def spectra(self, coefficients: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        """Standardised HR coefficients back to spectra, with the LR residual upsampled."""
        fused = coefficients * self.sigma[None, :, None, None]
        # In place: a product's output is not needed by its gradient, and a block holds two images of the HS bands
        # fewer.
        return (torch.einsum("ck,nkhw->nchw", self.basis, fused).add_(bicubic_upsample(residual, self.ratio))
                .add_(self.hs_mean[None, :, None, None]))


class GenericFusionModel(nn.Module):
    """A network trained on the generic form, bound to one pair by :meth:`bind` before it runs.

    ``inner`` is a :class:`FusionModel` for COMPONENTS HS and MS_CHANNELS MS channels at
    INNER_RATIO; its weights are the generic weights file. ``form`` is the pair's generic form,
    set once per run so that every block of a tiled run is transformed identically.
    """

    def __init__(self, inner: FusionModel):
        super().__init__()
        self.inner = inner
        self.form = GenericForm()

    @property
    def hs_mean(self) -> torch.Tensor:
        return self.form.hs_mean

    @property
    def ms_mean(self) -> torch.Tensor:
        return self.form.ms_offset

    def bind(self, lr_pixels, response, ratio: int) -> None:
        self.form.bind(lr_pixels, response, ratio)

    def receptive_field(self, ratio: int) -> int:
        inner = self.inner.receptive_field(INNER_RATIO)
        return math.ceil(inner * ratio / INNER_RATIO) + (BICUBIC_LR_RADIUS + RESAMPLE_LR_RADIUS + 1) * ratio

    def alignment(self, ratio: int) -> int:
        inner = self.inner.alignment(INNER_RATIO)
        return ratio * (math.lcm(inner, INNER_RATIO) // INNER_RATIO)

    def forward(self, lr_hsi: torch.Tensor, hr_msi: torch.Tensor) -> torch.Tensor:
        if not self.form.bound:
            raise RuntimeError("GenericFusionModel.bind must be called before the model runs")
        ratio, (rows, cols) = self.form.ratio, hr_msi.shape[-2:]
        # The network needs exactly r times the LR grid: an HR block clipped by the raster edge is padded.
        hr_msi = pad_to_multiple(hr_msi, ratio)[0][..., :ratio * lr_hsi.shape[-2], :ratio * lr_hsi.shape[-1]]
        lr_coefficients, lifted, residual = self.form.coefficients(lr_hsi, hr_msi)
        fused = fuse_coefficients(self.inner, lr_coefficients, lifted, ratio, self.form.unseen)
        spectra = self.form.spectra(fused, residual)
        if spectra.shape[-2:] == (rows, cols):
            return spectra
        return F.pad(spectra, (0, max(0, cols - spectra.shape[-1]), 0, max(0, rows - spectra.shape[-2])),
                     mode="replicate")[..., :rows, :cols]
