"""Blocks shared by several networks."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ..core.upsample import BICUBIC_LR_RADIUS  # noqa: F401 (the reach of bicubic_upsample)


def bicubic_upsample(lr_hsi: torch.Tensor, ratio: int) -> torch.Tensor:
    """Bicubic up-sampling on the grid of PROTOCOL.md: LR pixel i is centred on HR i·r + (r−1)/2.

    ``align_corners=False`` maps exactly that way; borders repeat the edge pixel.
    """
    return F.interpolate(lr_hsi, scale_factor=ratio, mode="bicubic", align_corners=False)


def masked_mse(prediction: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the pixels where ``mask`` (N, 1, H, W) is 1."""
    weight = mask.expand_as(prediction)
    return ((prediction - target) ** 2 * weight).sum() / weight.sum().clamp_min(1.0)


class FusionModel(nn.Module):
    """A network wrapped with the per-band normalisation it was trained with.

    Inputs and outputs are in physical units; the network sees standardised bands. The
    statistics are buffers, saved with the weights, so tiles of any size are normalised
    identically and tiled inference equals whole-image inference.
    """

    def __init__(self, net: nn.Module, hs_bands: int, ms_bands: int):
        super().__init__()
        self.net = net
        self.register_buffer("hs_mean", torch.zeros(hs_bands))
        self.register_buffer("hs_std", torch.ones(hs_bands))
        self.register_buffer("ms_mean", torch.zeros(ms_bands))
        self.register_buffer("ms_std", torch.ones(ms_bands))

    def set_statistics(self, hs_mean, hs_std, ms_mean, ms_std) -> None:
        for name, value in (("hs_mean", hs_mean), ("hs_std", hs_std), ("ms_mean", ms_mean), ("ms_std", ms_std)):
            getattr(self, name).copy_(torch.as_tensor(value, dtype=torch.float32))

    @staticmethod
    def _norm(x, mean, std):
        return (x - mean[None, :, None, None]) / std[None, :, None, None]

    def receptive_field(self, ratio: int) -> int:
        return self.net.receptive_field(ratio)

    def forward(self, lr_hsi: torch.Tensor, hr_msi: torch.Tensor) -> torch.Tensor:
        out = self.net(self._norm(lr_hsi, self.hs_mean, self.hs_std), self._norm(hr_msi, self.ms_mean, self.ms_std))
        return out * self.hs_std[None, :, None, None] + self.hs_mean[None, :, None, None]

    def training_loss(self, lr_hsi, hr_msi, target, mask) -> torch.Tensor:
        return self.net.training_loss(self._norm(lr_hsi, self.hs_mean, self.hs_std),
                                      self._norm(hr_msi, self.ms_mean, self.ms_std),
                                      self._norm(target, self.hs_mean, self.hs_std), mask)
