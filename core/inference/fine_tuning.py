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

from ..classical.common import filled
from ..feedback import Feedback
from ..protocol.consistency import ObservationModel
from ..protocol.responses import psf_reach
from ..storage.raster_io import rasters_kept_open
from ..training.trainer import TrainingConfig
from .adaptation import SPECTRAL_ERROR_SCALE, ObservationSource
from .tiling import PairReader, lr_mask_on_hr
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


def _patch(reader: PairReader, window: tuple, source: ObservationSource, ratio: int, margin_lr: int,
           device) -> dict | None:
    """One patch of the pool as tensors, with the masks of where each loss term is defined; None if empty."""
    torch = require_torch()
    row0, col0, rows, cols = window
    z, z_valid, y, y_valid = reader.read(row0, col0, rows, cols)
    lr_rows, lr_cols = z.shape[1:]
    m = min(margin_lr, (lr_rows - 1) // 2, (lr_cols - 1) // 2)
    observation = ObservationModel.build(rows, cols, ratio, source.psf, source.response)
    lr_scored = np.zeros_like(z_valid)
    lr_scored[m:lr_rows - m, m:lr_cols - m] = True
    lr_scored &= observation.lr_pixels_made_from_valid(z_valid, y_valid)
    hr_scored = np.zeros_like(y_valid)
    hr_scored[m * ratio:rows - m * ratio, m * ratio:cols - m * ratio] = True
    hr_scored &= y_valid & lr_mask_on_hr(z_valid, ratio)
    if not lr_scored.any() and not hr_scored.any():
        return None

    def as_tensor(array):
        return torch.as_tensor(np.ascontiguousarray(array), dtype=torch.float32, device=device)

    return {"z": as_tensor(filled(z, z_valid))[None], "y": as_tensor(filled(y, y_valid))[None],
            "lr_mask": as_tensor(lr_scored)[None, None], "hr_mask": as_tensor(hr_scored)[None, None],
            "rows": as_tensor(observation.rows_matrix), "cols": as_tensor(observation.cols_matrix),
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
    with rasters_kept_open():          # patches share the inputs' tiles: each is decoded once
        pool = [p for p in (_patch(reader, window, source, ratio, margin_lr, device)
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
            patch = pool[int(choice)]
            lr_error, hr_error = _misfits(patch, model(patch["z"], patch["y"]), response)
            loss = loss + lr_error + hr_weight * hr_error
        loss.backward()
        optimiser.step()
        feedback.progress((index + 1) / steps)
    after = _pool_misfits(model, pool, response)
    model.eval()
    return FineTuningReport(steps, time.perf_counter() - started, float(before[0]), float(before[1]),
                            float(after[0]), float(after[1]))


def fine_tune_on_pair(method, model, lr, hr, pair, source: ObservationSource, *, steps: int, seed: int, device,
                      feedback: Feedback) -> FineTuningReport:
    """:func:`fine_tune` at the method's fine-tuning rate, logged before and after: ADAPT_STEPS of the fusions
    and of train_model."""
    feedback.info(f"Fine-tuning the model on the inputs at full resolution for {steps} steps ({source.description}).")
    report = fine_tune(model, lr, hr, pair, source, steps=steps,
                       learning_rate=TrainingConfig.for_method(method, fine_tuning=True).learning_rate, seed=seed,
                       device=device, feedback=feedback)
    feedback.info(f"Fine-tuned: {report.describe()}.")
    return report
