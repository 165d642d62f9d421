"""Training a fusion network on the inputs themselves (Wald protocol, PROTOCOL.md).

With only a real LR-HSI Z and HR-MSI Y, the LR-HSI is the reference: Y and Z are both
degraded by r with the protocol's Gaussian PSF, the network learns to fuse those back
into Z, and the trained network is then applied to the full-resolution pair.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from . import metrics
from .degradation import DEFAULT_MTF_GAIN, PointSpread, spatial_degrade
from .errors import UserInputError
from .feedback import Feedback
from .registry import Method
from .torch_support import require_torch
from .upsample import bicubic

MIN_VALID_FRACTION = 0.5      # patches with fewer valid target pixels are drawn again


@dataclass
class TrainingConfig:
    steps: int = 300
    batch_size: int = 16
    patch_size: int = 32
    learning_rate: float = 3e-4
    betas: tuple = (0.92, 0.95)
    seed: int = 0
    mtf_gain: float = DEFAULT_MTF_GAIN

    @classmethod
    def for_method(cls, method: Method, **overrides) -> "TrainingConfig":
        paper = {k: v for k, v in method.training.items() if k in cls.__dataclass_fields__}
        return cls(**{**paper, **{k: v for k, v in overrides.items() if v is not None}})


@dataclass
class WaldPair:
    """Reduced-resolution training data: inputs (lr, hr) and the target, with masks."""

    lr: np.ndarray
    lr_valid: np.ndarray
    hr: np.ndarray
    hr_valid: np.ndarray
    target: np.ndarray
    target_valid: np.ndarray


def wald_pair(lr, lr_valid, hr, hr_valid, ratio: int, mtf_gain: float = DEFAULT_MTF_GAIN) -> WaldPair:
    """Degrade both inputs by ``ratio``; the LR-HSI (cropped to a multiple of r) is the target."""
    h, w = lr.shape[1] // ratio, lr.shape[2] // ratio
    if h < 2 or w < 2:
        raise UserInputError(
            f"The LR-HSI ({lr.shape[2]} × {lr.shape[1]} pixels) is too small to train on at ratio {ratio}: "
            f"training degrades it once more by {ratio}, which needs at least {2 * ratio} × {2 * ratio} LR pixels. "
            "Use larger inputs or a weights file.")
    psf = PointSpread.gaussian(ratio, mtf_gain)
    lr2, lr2_valid = spatial_degrade(lr[:, :h * ratio, :w * ratio], lr_valid[:h * ratio, :w * ratio], ratio, psf)
    hr2, hr2_valid = spatial_degrade(hr, hr_valid, ratio, psf)
    hr2, hr2_valid = hr2[:, :h * ratio, :w * ratio], hr2_valid[:h * ratio, :w * ratio]
    target = lr[:, :h * ratio, :w * ratio]
    target_valid = lr_valid[:h * ratio, :w * ratio] & hr2_valid
    return WaldPair(lr2, lr2_valid, hr2, hr2_valid, target, target_valid)


def band_statistics(values: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pixels = values[:, valid].astype(np.float64)
    if pixels.shape[1] == 0:
        raise UserInputError("The inputs have no valid pixel to train on. Check their nodata values.")
    std = pixels.std(axis=1)
    return pixels.mean(axis=1), np.where(std > 0, std, 1.0)


def fill_invalid(values: np.ndarray, valid: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """Invalid pixels take the band mean so they look like neutral data to a network."""
    out = values.copy()
    out[:, ~valid] = np.asarray(fill, dtype=np.float32)[:, None]
    return out


@dataclass
class TrainingReport:
    steps: int
    seconds: float
    losses: list = field(default_factory=list)
    reduced_resolution: dict = field(default_factory=dict)


class _PatchSampler:
    """Random aligned patches (LR, HR, target, mask) with flips and quarter turns."""

    def __init__(self, pair: WaldPair, ratio: int, patch_size: int, rng: np.random.Generator):
        self.pair, self.ratio, self.rng = pair, ratio, rng
        h, w = pair.lr.shape[1:]
        patch_lr = max(1, math.ceil(patch_size / ratio))
        self.patch_lr = min(patch_lr, h, w)

    def sample(self, batch: int):
        p, r, pair = self.patch_lr, self.ratio, self.pair
        h, w = pair.lr.shape[1:]
        lrs, hrs, targets, masks = [], [], [], []
        for _ in range(batch):
            for _attempt in range(20):
                i, j = self.rng.integers(0, h - p + 1), self.rng.integers(0, w - p + 1)
                mask = pair.target_valid[i * r:(i + p) * r, j * r:(j + p) * r]
                if mask.mean() >= MIN_VALID_FRACTION:
                    break
            turns, flip = int(self.rng.integers(4)), bool(self.rng.integers(2))

            def augment(a):
                a = np.rot90(a, turns, axes=(-2, -1))
                return np.ascontiguousarray(a[..., ::-1] if flip else a)

            lrs.append(augment(pair.lr[:, i:i + p, j:j + p]))
            hrs.append(augment(pair.hr[:, i * r:(i + p) * r, j * r:(j + p) * r]))
            targets.append(augment(pair.target[:, i * r:(i + p) * r, j * r:(j + p) * r]))
            masks.append(augment(mask[None].astype(np.float32)))
        return [np.stack(a) for a in (lrs, hrs, targets, masks)]


def train_on_inputs(method: Method, lr, lr_valid, hr, hr_valid, ratio: int, config: TrainingConfig,
                    device, feedback: Feedback, hyperparameters: dict | None = None):
    """Train ``method`` on an LR-HSI/HR-MSI pair by the Wald protocol; returns (model, report)."""
    torch = require_torch()
    from ..nets.blocks import FusionModel

    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    hs_mean, hs_std = band_statistics(lr, lr_valid)
    ms_mean, ms_std = band_statistics(hr, hr_valid)
    pair = wald_pair(lr, lr_valid, hr, hr_valid, ratio, config.mtf_gain)
    if pair.target_valid.sum() == 0:
        raise UserInputError("No pixel of the inputs is valid in both rasters after degradation, so there is "
                             "nothing to train on. Check the nodata values and that the layers overlap.")
    pair.lr = fill_invalid(pair.lr, pair.lr_valid, hs_mean)
    pair.hr = fill_invalid(pair.hr, pair.hr_valid, ms_mean)

    net = method.build(lr.shape[0], hr.shape[0], ratio, **(hyperparameters or {}))
    model = FusionModel(net, lr.shape[0], hr.shape[0])
    model.set_statistics(hs_mean, hs_std, ms_mean, ms_std)
    model.to(device)
    model.initialise_from_data(pair.lr, pair.hr, pair.target, pair.target_valid)
    model.train()
    optimiser = torch.optim.Adam(model.parameters(), lr=config.learning_rate, betas=tuple(config.betas))
    sampler = _PatchSampler(pair, ratio, config.patch_size, rng)
    report = TrainingReport(steps=config.steps, seconds=0.0)
    started = time.perf_counter()
    feedback.info(f"Training {method.name} on the inputs (Wald protocol, ratio {ratio}): {config.steps} steps, "
                  f"batch {config.batch_size}, patches of {sampler.patch_lr * ratio} px, device {device}.")
    for step in range(config.steps):
        feedback.check_cancelled()
        lr_b, hr_b, target_b, mask_b = (torch.from_numpy(a).to(device) for a in sampler.sample(config.batch_size))
        loss = model.training_loss(lr_b, hr_b, target_b, mask_b)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        report.losses.append(float(loss.detach()))
        feedback.progress((step + 1) / config.steps)
        if (step + 1) % max(1, config.steps // 10) == 0:
            feedback.info(f"  step {step + 1}/{config.steps}: loss {np.mean(report.losses[-10:]):.4f}")
    report.seconds = time.perf_counter() - started
    model.eval()
    report.reduced_resolution = reduced_resolution_quality(model, pair, ratio, device)
    feedback.info("Reduced-resolution check on the inputs: " + ", ".join(
        f"{k} {report.reduced_resolution[k]:.3f} (bicubic {report.reduced_resolution['bicubic_' + k]:.3f})"
        for k in ("PSNR", "SAM")))
    return model, report


def reduced_resolution_quality(model, pair: WaldPair, ratio: int, device) -> dict:
    """PSNR/SAM/ERGAS/SSIM of the model and of bicubic on the Wald pair it was trained on."""
    torch = require_torch()
    with torch.inference_mode():
        fused = model(torch.from_numpy(pair.lr)[None].to(device), torch.from_numpy(pair.hr)[None].to(device))
    fused = fused[0].cpu().numpy()
    valid = pair.target_valid
    result = {}
    for prefix, estimate in (("", fused), ("bicubic_", bicubic(pair.lr, ratio))):
        scores = metrics.assess(pair.target, estimate, valid, ratio)
        for key in ("PSNR", "SAM", "ERGAS", "SSIM"):
            result[prefix + key] = scores[key]
    return result
