"""The one trainer every network uses, and the training data it learns from.

Training data are :class:`TrainingPair` objects: network inputs (LR-HSI, HR-MSI) and the
HR-HSI target they should fuse to, each with its validity mask. They come from

- :func:`wald_pair`: a real LR-HSI Z and HR-MSI Y alone (self-supervised, PROTOCOL.md
  "Reduced-resolution protocol"): both are degraded by r and the target is Z itself;
- :func:`simulated_pair`: a reference HR-HSI X with inputs simulated from it by the
  protocol (supervised), exactly as ``hyperfuse:simulate_degradation`` would write them.

:func:`train` holds out the last part of every pair (along its longer side, whole LR
pixels) for validation, draws random aligned patches from the rest, optimises the
network's own loss (``training_loss`` of each module: the paper's loss), checks the
validation part every few steps, keeps the weights that scored best, stops early when
validation stops improving or the time budget is spent, and can be cancelled between any
two steps. The same seed and inputs give the same weights on the CPU.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field

import numpy as np

from ..errors import UserInputError
from ..feedback import Feedback
from ..inference.torch_support import network_input, network_output, require_torch
from ..protocol import metrics
from ..protocol.degradation import DEFAULT_MTF_GAIN, PointSpread, spatial_degrade
from ..protocol.upsample import bicubic
from ..registry import NetworkMethod

MIN_VALID_FRACTION = 0.5      # patches with fewer valid target pixels are drawn again
VALIDATION_KEYS = ("PSNR", "SAM", "ERGAS", "SSIM")
MIN_TRAIN_LR_PIXELS = 2       # along the split axis, after the validation part is taken
# Self-supervised training needs the inputs degraded once more to keep at least this many LR
# pixels a side. With fewer, a network has nearly nothing to learn from: on the MUUFL scene
# at ratio 5 (2 × 3 such pixels) all five networks trained on its inputs had a worse SAM than
# bicubic (16–34° against 13°), three of them a worse PSNR too.
MIN_WALD_LR_PIXELS = 4
# Weights that already fit are disturbed by the full rate: on EnMAP, fine-tuning at the
# paper's rate never beat its starting point (docs/benchmark_training.md).
FINE_TUNING_RATE_FACTOR = 0.1
# Early stopping waits for this share of the steps: a network that starts at bicubic often
# gets worse for a while before it gets better.
WARM_UP = 1 / 3


@dataclass
class TrainingConfig:
    steps: int = 300
    batch_size: int = 16
    patch_size: int = 32              # HR pixels of the training grid
    learning_rate: float = 3e-4
    betas: tuple = (0.92, 0.95)
    seed: int = 0
    mtf_gain: float = DEFAULT_MTF_GAIN
    validation_fraction: float = 0.2  # of each pair, held out; 0 validates on the training data
    validate_every: int = 0           # steps; 0 = about twenty checks per run
    patience: int = 5                 # checks without improvement before stopping (after WARM_UP); 0 never
    time_budget_minutes: float = 0.0  # 0 = no limit
    pairs_equally: bool = False       # draw patches from every pair equally often, not by their size
    lr_decay: float = 0.0             # Keras-style decay: update k uses lr / (1 + lr_decay · (k − 1)); 0 none

    @classmethod
    def for_method(cls, method: NetworkMethod, fine_tuning: bool = False, **overrides) -> "TrainingConfig":
        """The method's (paper) settings; fine-tuning starts from a tenth of its learning rate."""
        paper = {k: v for k, v in method.training.items() if k in cls.__dataclass_fields__}
        if fine_tuning:
            paper["learning_rate"] = paper.get("learning_rate", cls.learning_rate) * FINE_TUNING_RATE_FACTOR
        return cls(**{**paper, **{k: v for k, v in overrides.items() if v is not None}})

    @property
    def check_interval(self) -> int:
        return self.validate_every or max(5, math.ceil(self.steps / 20))


@dataclass
class TrainingPair:
    """Network inputs (lr, hr) and the target they should fuse to, with validity masks.

    ``origin`` is where the pair's HR grid starts in the ``name``d source (target pixels),
    so a validation part can be located again in the files it came from.
    """

    lr: np.ndarray
    lr_valid: np.ndarray
    hr: np.ndarray
    hr_valid: np.ndarray
    target: np.ndarray
    target_valid: np.ndarray
    name: str = "inputs"
    origin: tuple = (0, 0)

    def crop_lr(self, row0: int, col0: int, rows: int, cols: int, ratio: int) -> "TrainingPair":
        """The part under an LR window; HR arrays follow it at ``ratio``."""
        lr_win = (slice(row0, row0 + rows), slice(col0, col0 + cols))
        hr_win = (slice(row0 * ratio, (row0 + rows) * ratio), slice(col0 * ratio, (col0 + cols) * ratio))
        return TrainingPair(self.lr[(slice(None),) + lr_win], self.lr_valid[lr_win],
                            self.hr[(slice(None),) + hr_win], self.hr_valid[hr_win],
                            self.target[(slice(None),) + hr_win], self.target_valid[hr_win], self.name,
                            (self.origin[0] + row0 * ratio, self.origin[1] + col0 * ratio))

    @property
    def scored(self) -> np.ndarray:
        """Pixels a fusion of this pair is judged on: valid target, HR-MSI and covering LR pixel."""
        ratio = self.target.shape[1] // self.lr.shape[1]
        lr_on_hr = np.repeat(np.repeat(self.lr_valid, ratio, axis=0), ratio, axis=1)
        return self.target_valid & self.hr_valid & lr_on_hr


def too_small_to_train(lr_rows: int, lr_cols: int, ratio: int) -> bool:
    """Whether an LR-HSI of this size is too small for training on the inputs (:func:`wald_pair`)."""
    return lr_rows // ratio < MIN_WALD_LR_PIXELS or lr_cols // ratio < MIN_WALD_LR_PIXELS


def wald_pair(lr, lr_valid, hr, hr_valid, ratio: int, mtf_gain: float = DEFAULT_MTF_GAIN,
              name: str = "inputs") -> TrainingPair:
    """Degrade both inputs by ``ratio``; the LR-HSI (cropped to a multiple of r) is the target."""
    h, w = lr.shape[1] // ratio, lr.shape[2] // ratio
    if too_small_to_train(lr.shape[1], lr.shape[2], ratio):
        side = MIN_WALD_LR_PIXELS * ratio
        raise UserInputError(
            f"The LR-HSI ({lr.shape[2]} × {lr.shape[1]} pixels) is too small to train on at ratio {ratio}: "
            f"training degrades it once more by {ratio}, which needs at least {side} × {side} LR pixels. "
            "Use a bundled model or a weights file trained on other data, or a classical method.")
    psf = PointSpread.gaussian(ratio, mtf_gain)
    lr2, lr2_valid = spatial_degrade(lr[:, :h * ratio, :w * ratio], lr_valid[:h * ratio, :w * ratio], ratio, psf)
    hr2, hr2_valid = spatial_degrade(hr, hr_valid, ratio, psf)
    hr2, hr2_valid = hr2[:, :h * ratio, :w * ratio], hr2_valid[:h * ratio, :w * ratio]
    target = lr[:, :h * ratio, :w * ratio]
    target_valid = lr_valid[:h * ratio, :w * ratio] & hr2_valid
    return TrainingPair(lr2, lr2_valid, hr2, hr2_valid, target, target_valid, name)


def simulated_pair(simulation, name: str = "reference") -> TrainingPair:
    """A :class:`~.simulation.SimulatedPair` as training data: the reference is the target."""
    return TrainingPair(simulation.lr, simulation.lr_valid, simulation.ms, simulation.ms_valid,
                        simulation.reference, simulation.reference_valid, name)


def pooled_statistics(parts) -> tuple[np.ndarray, np.ndarray]:
    """Per-band mean and standard deviation over the valid pixels of several (values, valid) arrays."""
    pixels = np.concatenate([values[:, valid].astype(np.float64) for values, valid in parts], axis=1)
    if pixels.shape[1] == 0:
        raise UserInputError("The inputs have no valid pixel to train on. Check their nodata values.")
    std = pixels.std(axis=1)
    return pixels.mean(axis=1), np.where(std > 0, std, 1.0)


def pooled_pixels(pairs: list) -> tuple:
    """The valid pixels of every pair as one pair a row of pixels high: (lr, hr, target, valid).

    The networks' data-dependent initialisation (MHF-net's A and B, MLPLN's SVD basis) works
    pixel by pixel, so it sees the spectra of every training scene, not of the largest alone.
    For a single pair it gets the same pixels in the same order as from the pair itself.
    """
    lr = np.concatenate([p.lr[:, p.lr_valid] for p in pairs], axis=1)[:, None]
    hr = np.concatenate([p.hr[:, p.target_valid] for p in pairs], axis=1)[:, None]
    target = np.concatenate([p.target[:, p.target_valid] for p in pairs], axis=1)[:, None]
    return lr, hr, target, np.ones(target.shape[1:], dtype=bool)


def fill_invalid(values: np.ndarray, valid: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """Invalid pixels take the band mean so they look like neutral data to a network."""
    out = values.copy()
    out[:, ~valid] = np.asarray(fill, dtype=np.float32)[:, None]
    return out


def validation_window(lr_rows: int, lr_cols: int, fraction: float):
    """LR window (row0, col0, rows, cols) held out for validation, or None: the last ``fraction``
    of the longer side, in whole LR pixels, leaving at least MIN_TRAIN_LR_PIXELS to train on."""
    along_cols = lr_cols >= lr_rows
    length = lr_cols if along_cols else lr_rows
    held = int(round(length * fraction))
    if fraction <= 0 or held < 1 or length - held < MIN_TRAIN_LR_PIXELS:
        return None
    cut = length - held
    return (0, cut, lr_rows, held) if along_cols else (cut, 0, held, lr_cols)


def split_for_validation(pair: TrainingPair, ratio: int, fraction: float):
    """(training part, validation part or None) by :func:`validation_window`."""
    rows, cols = pair.lr.shape[1:]
    window = validation_window(rows, cols, fraction)
    if window is None:
        return pair, None
    row0, col0, held_rows, held_cols = window
    validation = pair.crop_lr(*window, ratio)
    train = pair.crop_lr(0, 0, rows - held_rows if row0 else rows, cols - held_cols if col0 else cols, ratio)
    if not validation.scored.any() or not train.target_valid.any():
        return pair, None
    return train, validation


@dataclass
class TrainingReport:
    steps: int                                   # steps run
    seconds: float
    stopped_because: str = "all steps run"
    losses: list = field(default_factory=list)   # one per step
    curve: list = field(default_factory=list)    # one dict per validation check
    best_step: int = 0
    validated_on: str = "held-out part"          # or "training data" when nothing could be held out
    validation: dict = field(default_factory=dict)         # mean over the validation parts
    validation_parts: list = field(default_factory=list)   # per part: name, window, metrics
    warning: str = ""                            # plain words when the kept weights are no better than the start


class _PatchSampler:
    """Random aligned patches (LR, HR, target, mask) from several pairs, with flips and quarter turns."""

    def __init__(self, pairs: list, ratio: int, patch_size: int, rng: np.random.Generator, equally: bool = False):
        self.pairs, self.ratio, self.rng = pairs, ratio, rng
        smallest = min(min(p.lr.shape[1:]) for p in pairs)
        self.patch_lr = min(max(1, math.ceil(patch_size / ratio)), smallest)
        weights = np.array([1.0 if equally else p.target_valid.sum() for p in pairs], dtype=np.float64)
        self.weights = weights / weights.sum()

    def sample(self, batch: int):
        p, r = self.patch_lr, self.ratio
        lrs, hrs, targets, masks = [], [], [], []
        for _ in range(batch):
            pair = self.pairs[int(self.rng.choice(len(self.pairs), p=self.weights))] if len(self.pairs) > 1 \
                else self.pairs[0]
            h, w = pair.lr.shape[1:]
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


def predict_pair(model, pair: TrainingPair, device) -> np.ndarray:
    """One forward pass over a whole (filled) pair, as a fusion algorithm runs one block."""
    torch = require_torch()
    with torch.inference_mode():
        return network_output(model(network_input(pair.lr, device), network_input(pair.hr, device)))


def score_pair(model, pair: TrainingPair, ratio: int, device, with_bicubic: bool = False) -> dict:
    """PROTOCOL metrics of the model (and of bicubic) on a pair's scored pixels."""
    estimates = [("", predict_pair(model, pair, device))]
    if with_bicubic:
        estimates.append(("bicubic_", bicubic(pair.lr, ratio)))
    result = {}
    for prefix, estimate in estimates:
        scores = metrics.assess(pair.target, estimate, pair.scored, ratio, extended=False)
        result.update({prefix + key: scores[key] for key in VALIDATION_KEYS})
    return result


def _mean_scores(parts: list) -> dict:
    return {key: float(np.mean([p[key] for p in parts])) for key in parts[0]}


def _build_model(method: NetworkMethod, hs_bands: int, ms_bands: int, ratio: int, hyperparameters: dict | None):
    from ...nets.blocks import FusionModel

    return FusionModel(method.build(hs_bands, ms_bands, ratio, **(hyperparameters or {})), hs_bands, ms_bands)


def _band_statistics(pairs: list, initial_model) -> tuple:
    """(hs_mean, hs_std, ms_mean, ms_std) of the training inputs; a model being fine-tuned keeps its own
    means (and its standard deviations, which are then not needed)."""
    if initial_model is not None:
        return initial_model.hs_mean.cpu().numpy(), None, initial_model.ms_mean.cpu().numpy(), None
    hs_mean, hs_std = pooled_statistics([(p.lr, p.lr_valid) for p in pairs])
    ms_mean, ms_std = pooled_statistics([(p.hr, p.hr_valid) for p in pairs])
    return hs_mean, hs_std, ms_mean, ms_std


def _split_pairs(pairs: list, ratio: int, config: TrainingConfig, statistics: tuple, feedback: Feedback):
    """(training parts, validation parts, what is validated on): invalid inputs filled with the band means,
    every pair split by :func:`split_for_validation`."""
    hs_mean, _, ms_mean, _ = statistics
    train_parts, validation_parts = [], []
    for pair in pairs:
        if not pair.target_valid.any():
            continue
        pair = TrainingPair(fill_invalid(pair.lr, pair.lr_valid, hs_mean), pair.lr_valid,
                            fill_invalid(pair.hr, pair.hr_valid, ms_mean), pair.hr_valid,
                            pair.target, pair.target_valid, pair.name, pair.origin)
        train_part, validation_part = split_for_validation(pair, ratio, config.validation_fraction)
        train_parts.append(train_part)
        if validation_part is not None:
            validation_parts.append(validation_part)
    if not train_parts:
        raise UserInputError("No pixel of the inputs is valid in both rasters after degradation, so there is "
                             "nothing to train on. Check the nodata values and that the layers overlap.")
    if validation_parts:
        return train_parts, validation_parts, "held-out part"
    if config.validation_fraction > 0:
        feedback.info("The training data are too small to hold a part out for validation; validation uses "
                      "the training data, so it cannot detect over-fitting.")
    return train_parts, train_parts, "training data"


def _network_to_train(method: NetworkMethod, ratio: int, statistics: tuple, train_parts: list, device,
                      hyperparameters: dict | None, initial_model):
    """The model being fine-tuned, or a new network with the data's statistics and data-dependent initialisation."""
    if initial_model is not None:
        return initial_model.to(device)
    hs_bands, ms_bands = train_parts[0].lr.shape[0], train_parts[0].hr.shape[0]
    model = _build_model(method, hs_bands, ms_bands, ratio, hyperparameters)
    model.set_statistics(*statistics)
    model.to(device)
    model.initialise_from_data(*pooled_pixels(train_parts))
    return model


@dataclass
class _TrainingState:
    """What changes during a run: the model, the report, and the best validated weights so far."""

    model: object
    validation_parts: list
    ratio: int
    device: object
    report: TrainingReport
    best_score: float = -math.inf
    best_state: dict | None = None
    checks_without_gain: int = 0


def _validation_check(state: _TrainingState, step: int, config: TrainingConfig, feedback: Feedback) -> None:
    """Score the validation parts, extend the curve, and keep the weights when they score best so far."""
    model, report = state.model, state.report
    model.eval()
    scores = _mean_scores([score_pair(model, part, state.ratio, state.device) for part in state.validation_parts])
    model.train()
    recent = report.losses[-config.check_interval:]
    report.curve.append({"step": step, "loss": float(np.mean(recent)) if recent else float("nan"), **scores})
    score = scores["PSNR"]
    if state.best_state is None or (np.isfinite(score) and not score <= state.best_score):  # NaN never counts as better
        state.best_score, state.best_state, state.checks_without_gain = score, copy.deepcopy(model.state_dict()), 0
        report.best_step = step
    else:
        state.checks_without_gain += 1
    loss_text = f"loss {report.curve[-1]['loss']:.4f}, " if recent else ""
    feedback.info(f"  step {step}/{config.steps}: {loss_text}validation PSNR {scores['PSNR']:.2f} dB, "
                  f"SAM {scores['SAM']:.3f}°")


def _optimise(state: _TrainingState, sampler: _PatchSampler, config: TrainingConfig, feedback: Feedback) -> None:
    """Adam steps on random patches with a validation check every ``config.check_interval`` steps, until the
    steps, the patience (after WARM_UP) or the time budget run out, or a cancel."""
    torch = require_torch()
    model, report = state.model, state.report
    optimiser = torch.optim.Adam(model.parameters(), lr=config.learning_rate, betas=tuple(config.betas))
    # Only a method that asks for a decay gets a scheduler, so the others train exactly as before.
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda done: 1 / (1 + config.lr_decay * done)) \
        if config.lr_decay else None
    budget = config.time_budget_minutes * 60.0
    started = time.perf_counter()
    _validation_check(state, 0, config, feedback)
    model.train()
    for step in range(1, config.steps + 1):
        feedback.check_cancelled()
        lr_b, hr_b, target_b, mask_b = (torch.from_numpy(a).to(state.device)
                                        for a in sampler.sample(config.batch_size))
        loss = model.training_loss(lr_b, hr_b, target_b, mask_b)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        if scheduler is not None:
            scheduler.step()
        report.losses.append(float(loss.detach()))
        report.steps = step
        feedback.progress(step / config.steps)
        out_of_time = budget > 0 and time.perf_counter() - started >= budget
        if step % config.check_interval == 0 or step == config.steps or out_of_time:
            _validation_check(state, step, config, feedback)
            if config.patience and state.checks_without_gain >= config.patience and step >= config.steps * WARM_UP:
                report.stopped_because = (f"early stopping: validation PSNR did not improve in {config.patience} "
                                          f"checks after step {report.best_step}")
                break
        if out_of_time:
            report.stopped_because = f"time budget of {config.time_budget_minutes:g} min spent"
            break
    report.seconds = time.perf_counter() - started


def _final_validation(state: _TrainingState, feedback: Feedback) -> None:
    """The kept weights' metrics, and bicubic's, on every validation part and on average."""
    report = state.report
    for part in state.validation_parts:
        scores = score_pair(state.model, part, state.ratio, state.device, with_bicubic=True)
        rows, cols = part.target.shape[1:]
        report.validation_parts.append({"name": part.name, "window": [*part.origin, rows, cols], **scores})
    report.validation = _mean_scores([{k: v for k, v in p.items() if k not in ("name", "window")}
                                      for p in report.validation_parts])
    feedback.info("Validation (" + report.validated_on + "): " + ", ".join(
        f"{k} {report.validation[k]:.3f} (bicubic {report.validation['bicubic_' + k]:.3f})"
        for k in ("PSNR", "SAM")))


def _no_gain_warning(method: NetworkMethod, report: TrainingReport, fine_tuning: bool) -> str:
    """Plain words when the kept weights are the starting ones or lose to bicubic on validation, else "".

    Four networks start as exact bicubic and the best check may be step 0, so without this a run
    that learned nothing would pass bicubic off as the network's fusion.
    """
    psnr, bicubic_psnr = report.validation.get("PSNR", math.nan), report.validation.get("bicubic_PSNR", math.nan)
    where = "the validation part" if report.validated_on == "held-out part" else "the training data"
    advice = ("Train longer (more steps or a larger time budget), on more data, or use a bundled model, "
              "a weights file trained elsewhere or a classical method.")
    if report.best_step == 0:
        if fine_tuning:
            start = "the weights it was fine-tuned from"
        elif abs(psnr - bicubic_psnr) < 0.01:
            start = "bicubic up-sampling"
        else:
            start = "its untrained weights"
        consequence = ("the fused raster is no better than bicubic" if start == "bicubic up-sampling" else
                       f"the weights kept are {start}")
        return (f"The trained {method.name} did not improve on its starting point ({start}) on {where}: "
                f"{consequence}. {advice}")
    if not psnr > bicubic_psnr:
        return (f"The trained {method.name} did not beat bicubic up-sampling on {where} (PSNR {psnr:.2f} dB "
                f"against {bicubic_psnr:.2f} dB for bicubic): the fused raster is no better than bicubic. {advice}")
    return ""


def train(method: NetworkMethod, pairs: list, ratio: int, config: TrainingConfig, device, feedback: Feedback,
          hyperparameters: dict | None = None, initial_model=None):
    """Train ``method`` on ``pairs``; returns (model holding the best validated weights, report).

    ``initial_model`` fine-tunes: training starts from its weights and keeps the band
    statistics it was trained with, instead of building and initialising a new network.
    """
    torch = require_torch()
    if not pairs:
        raise UserInputError("There is no training data.")
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    statistics = _band_statistics(pairs, initial_model)
    train_parts, validation_parts, validated_on = _split_pairs(pairs, ratio, config, statistics, feedback)
    model = _network_to_train(method, ratio, statistics, train_parts, device, hyperparameters, initial_model)
    sampler = _PatchSampler(train_parts, ratio, config.patch_size, rng, config.pairs_equally)
    state = _TrainingState(model, validation_parts, ratio, device,
                           TrainingReport(steps=0, seconds=0.0, validated_on=validated_on))
    feedback.info(f"Training {method.name} at ratio {ratio}: up to {config.steps} steps, batch {config.batch_size}, "
                  f"patches of {sampler.patch_lr * ratio} px, learning rate {config.learning_rate:g}"
                  + (f" decaying as lr / (1 + {config.lr_decay:g} · updates)" if config.lr_decay else "") + ", "
                  f"device {device}; validation every {config.check_interval} steps on the {validated_on} "
                  f"({len(validation_parts)} part(s)).")
    _optimise(state, sampler, config, feedback)
    model.load_state_dict(state.best_state)
    model.eval()
    report = state.report
    feedback.info(f"Training stopped after {report.steps} steps ({report.stopped_because}); keeping the weights of "
                  f"step {report.best_step}, the best on validation.")
    _final_validation(state, feedback)
    report.warning = _no_gain_warning(method, report, initial_model is not None)
    if report.warning:
        feedback.info("Warning: " + report.warning)
    return model, report
