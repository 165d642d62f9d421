"""Fine-tuning a network on the pair it is about to fuse, at full resolution (ADAPT_STEPS).

There is no reference at full resolution, only the observation model: the fused image,
blurred by the PSF and decimated, should give the LR-HSI (Z = X B S), and through the
spectral responses it should give the HR-MSI (Y = R X). A few gradient steps on these two
consistency terms move a model trained on other scenes or other sensors towards the pair
(the third stage of ZS-Pan, Cao et al., Information Fusion 2024; ZSL, Dian et al., TPAMI
2023). R and the PSF are those of the projection (core/inference/adaptation.py): R estimated
from the pair, the Gaussian PSF of PROJECTION_MTF_GAIN.

Patches are read through windowed reads of the pair, so memory does not grow with the
raster. Each loss term is relative to its observation's energy; the HR-MSI term is weighted
down as R explains the pair less well (as the projection softens it), because an inexact R
would otherwise be learned into the network. The loss is taken only where it is defined:
LR pixels whose PSF lies inside the patch and the network's output away from the patch edge.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from ..feedback import Feedback
from ..protocol.consistency import axis_matrix
from ..protocol.responses import psf_reach
from .adaptation import SPECTRAL_ERROR_SCALE, ObservationSource
from .tiling import PairReader
from .torch_support import require_torch

PATCH_LR_PIXELS = 16          # LR pixels a side of a patch's scored centre
PATCH_POOL = 16               # patches read once and drawn from at every step
BATCH = 4


@dataclass
class FineTuningReport:
    steps: int
    seconds: float
    lr_misfit_before: float   # relative RMS misfits on the patch pool
    hr_misfit_before: float
    lr_misfit_after: float
    hr_misfit_after: float

    def describe(self) -> str:
        return (f"{self.steps} steps in {self.seconds:.1f} s; relative misfit to the LR-HSI "
                f"{100 * self.lr_misfit_before:.3f} % → {100 * self.lr_misfit_after:.3f} %, to the HR-MSI "
                f"{100 * self.hr_misfit_before:.3f} % → {100 * self.hr_misfit_after:.3f} % (on the fine-tuning patches)")


def _patch_windows(pair, margin_lr: int, step: int, rng: np.random.Generator) -> list:
    """HR windows (row0, col0, rows, cols) of the pool: whole LR pixels, origins on multiples of ``step``."""
    ratio = pair.ratio
    rows, cols = pair.hr_shape
    side = ratio * (PATCH_LR_PIXELS + 2 * margin_lr)
    height, width = min(side, rows // ratio * ratio), min(side, cols // ratio * ratio)
    windows = []
    for _ in range(PATCH_POOL):
        row0 = int(rng.integers(0, (rows - height) // step + 1)) * step
        col0 = int(rng.integers(0, (cols - width) // step + 1)) * step
        windows.append((row0, col0, height, width))
        if height == rows // ratio * ratio and width == cols // ratio * ratio:
            break        # the whole common area fits in one patch
    return windows


def _patch(reader: PairReader, window: tuple, psf, ratio: int, margin_lr: int, device) -> dict | None:
    """One patch of the pool as tensors, with the masks of where each loss term is defined; None if empty."""
    torch = require_torch()
    row0, col0, rows, cols = window
    z, z_valid, y, y_valid = reader.read(row0, col0, rows, cols)
    lr_rows, lr_cols = z.shape[1:]
    m = min(margin_lr, (lr_rows - 1) // 2, (lr_cols - 1) // 2)
    rows_matrix, cols_matrix = axis_matrix(rows, ratio, psf), axis_matrix(cols, ratio, psf)
    lr_scored = np.zeros_like(z_valid)
    lr_scored[m:lr_rows - m, m:lr_cols - m] = True
    # An LR pixel whose PSF reaches invalid HR pixels was not made from them (as in the projection).
    touches_invalid = np.einsum("ir,rc,jc->ij", rows_matrix, (~y_valid).astype(np.float64), cols_matrix) > 1e-9
    lr_scored &= z_valid & ~touches_invalid
    hr_scored = np.zeros_like(y_valid)
    hr_scored[m * ratio:rows - m * ratio, m * ratio:cols - m * ratio] = True
    hr_scored &= y_valid & np.repeat(np.repeat(z_valid, ratio, axis=0), ratio, axis=1)
    if not lr_scored.any() and not hr_scored.any():
        return None
    z_filled, y_filled = z.copy(), y.copy()
    z_filled[:, ~z_valid] = (z[:, z_valid].mean(axis=1) if z_valid.any() else np.zeros(z.shape[0]))[:, None]
    y_filled[:, ~y_valid] = (y[:, y_valid].mean(axis=1) if y_valid.any() else np.zeros(y.shape[0]))[:, None]

    def as_tensor(array):
        return torch.as_tensor(np.ascontiguousarray(array), dtype=torch.float32, device=device)

    return {"z": as_tensor(z_filled)[None], "y": as_tensor(y_filled)[None],
            "lr_mask": as_tensor(lr_scored)[None, None], "hr_mask": as_tensor(hr_scored)[None, None],
            "rows": as_tensor(rows_matrix), "cols": as_tensor(cols_matrix),
            "z_energy": float(np.mean(z[:, lr_scored] ** 2)) if lr_scored.any() else 1.0,
            "y_energy": float(np.mean(y[:, hr_scored] ** 2)) if hr_scored.any() else 1.0}


def _misfits(patch: dict, fused, response):
    """Squared misfits of ``fused`` to the patch's LR-HSI and HR-MSI, each relative to its observation's energy."""
    torch = require_torch()
    blurred = torch.einsum("ir,nbrc,jc->nbij", patch["rows"], fused, patch["cols"])
    spectral = torch.einsum("mb,nbrc->nmrc", response, fused)
    lr_error = ((blurred - patch["z"]) ** 2 * patch["lr_mask"]).sum() / (
        patch["lr_mask"].sum().clamp_min(1.0) * patch["z"].shape[1] * patch["z_energy"])
    hr_error = ((spectral - patch["y"]) ** 2 * patch["hr_mask"]).sum() / (
        patch["hr_mask"].sum().clamp_min(1.0) * patch["y"].shape[1] * patch["y_energy"])
    return lr_error, hr_error


def _pool_misfits(model, pool: list, response) -> np.ndarray:
    """Relative RMS misfits (LR-HSI, HR-MSI) of the model's output over the patch pool."""
    torch = require_torch()
    model.eval()
    totals = np.zeros(2)
    with torch.no_grad():
        for patch in pool:
            lr_error, hr_error = _misfits(patch, model(patch["z"], patch["y"]), response)
            totals += (float(lr_error), float(hr_error))
    return np.sqrt(totals / len(pool))


def fine_tune(model, lr, hr, pair, source: ObservationSource, *, steps: int, learning_rate: float, seed: int,
              device, feedback: Feedback) -> FineTuningReport:
    """Fine-tune ``model`` (a FusionModel in the inputs' units) on the consistency terms for ``steps`` steps."""
    torch = require_torch()
    started = time.perf_counter()
    ratio = pair.ratio
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    # Output pixels within the receptive field of the patch edge see padding, and LR pixels within the PSF's
    # reach of it are blurred from outside the patch: neither is scored.
    margin_lr = math.ceil(model.receptive_field(ratio) / ratio) + psf_reach(source.psf, ratio)
    step = math.lcm(ratio, model.alignment(ratio))
    reader = PairReader(lr, hr, pair)
    pool = [p for p in (_patch(reader, window, source.psf, ratio, margin_lr, device)
                        for window in _patch_windows(pair, margin_lr, step, rng)) if p is not None]
    if not pool:
        feedback.info("No patch of the inputs has valid pixels to fine-tune on; the model is used as it is.")
        return FineTuningReport(0, 0.0, 0.0, 0.0, 0.0, 0.0)
    response = torch.as_tensor(source.response, dtype=torch.float32, device=device)
    hr_weight = 1.0 / (1.0 + (source.response_error / SPECTRAL_ERROR_SCALE) ** 2)
    before = _pool_misfits(model, pool, response)
    optimiser = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=learning_rate)
    model.train()
    for index in range(steps):
        feedback.check_cancelled()
        optimiser.zero_grad()
        loss = 0.0
        for choice in rng.integers(0, len(pool), min(BATCH, len(pool))):
            lr_error, hr_error = _misfits(pool[int(choice)], model(pool[int(choice)]["z"], pool[int(choice)]["y"]),
                                          response)
            loss = loss + lr_error + hr_weight * hr_error
        loss.backward()
        optimiser.step()
        feedback.progress((index + 1) / steps)
    after = _pool_misfits(model, pool, response)
    model.eval()
    return FineTuningReport(steps, time.perf_counter() - started, float(before[0]), float(before[1]),
                            float(after[0]), float(after[1]))
