"""What every fusion network provides to the tiling engine and the trainer.

The registry (core/registry.py) builds networks by name; the engine and the trainer use them
only through :class:`FusionNetwork`, and call :meth:`DataInitialised.initialise_from_data`
only on the networks that declare it. tests/test_network_contract.py checks every
registered network against both.

Tensors are (N, S, h, w) for the LR-HSI and (N, s, r·h, r·w) for the HR-MSI and the
HR-HSI; ``mask`` is (N, 1, r·h, r·w) with 1 on the pixels a loss counts.
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch


@runtime_checkable
class FusionNetwork(Protocol):
    def forward(self, lr_hsi: torch.Tensor, hr_msi: torch.Tensor) -> torch.Tensor:
        """The fused HR-HSI."""

    def receptive_field(self, ratio: int) -> int:
        """Halo in HR pixels that tiled inference reads around each block at ``ratio``: no output
        pixel depends on an input pixel farther away (measured to the nearest HR pixel of an LR
        pixel's footprint)."""

    def alignment(self, ratio: int) -> int:
        """HR pixels that block origins must be multiples of at ``ratio`` (r, or more for strided layers)."""

    def training_loss(self, lr_hsi: torch.Tensor, hr_msi: torch.Tensor, target: torch.Tensor,
                      mask: torch.Tensor) -> torch.Tensor:
        """The loss of the network's paper against ``target`` over the pixels of ``mask``."""


@runtime_checkable
class DataInitialised(Protocol):
    """A network that sets some of its parts from training data before training (MHF-net's
    A and B, MLPLN's SVD basis)."""

    def initialise_from_data(self, lr_hsi: torch.Tensor, hr_msi: torch.Tensor, target: torch.Tensor,
                             valid: torch.Tensor) -> None:
        """Arguments are standardised (bands, rows, cols) tensors of one training pair, or pixels of
        several pooled in one row, and the (rows, cols) bool validity of ``target``: an
        implementation must use them pixel by pixel."""
