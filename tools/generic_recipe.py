"""How the generic models (weights/<method>_generic.pt, nets/generic.py) are trained: `make weights`.

Every training example is a sensor pair drawn at random and simulated from a development scene:

- HS sensor: the scene's own bands (30 %), or 15–240 Gaussian bands spread over 60–100 % of its range;
- MS sensor: 3–10 Gaussian bands, centres anywhere in the HS range, FWHM 20–150 nm, applied to the
  scene's original spectra, so no exact R links the two;
- ratio 2–8, Gaussian PSF with MTF gain 0.15–0.45, and noise at 30–45 dB SNR on half the examples;
- R as the plugin would use it: fitted to the pair by least squares (MS against HS spectra).

Each simulated pair is put into the generic form as the plugin would (principal components of
all its LR pixels, MS lifted into them), and the network learns the reference's coefficients on
crops of it. The loss is the spectral squared error with every band relative to its RMS
(:func:`band_metric`), so that dim bands count as they do in PSNR and SAM.
"""
from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(ROOT))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

SCENES = ("enmap_potsdam.tif", "aviris_santa_barbara.tif", "muufl_gulfport.tif", "pavia_university.tif")
# ROSIS-03: the Pavia file has no wavelengths (tools/bench_generalisation.py gives the same).
SCENE_WAVELENGTHS = {"pavia_university.tif": [430.0 + i * (860.0 - 430.0) / 102 for i in range(103)]}
HR_PATCH = 48                   # HR pixels per side of an example (the development scenes are 50–128 pixels)
EXAMPLES_PER_RATIO = 40
VALIDATION_PER_RATIO = 4
VALIDATION_CROPS = 8            # per ratio
STEPS = 1500
BATCH = 6
LEARNING_RATE = 1e-3
SEED = 0


@dataclass
class Scene:
    name: str
    values: np.ndarray          # bands × rows × cols, reflectance
    valid: np.ndarray
    wavelengths: np.ndarray


def load_scenes(data_dir: str, names=SCENES) -> list:
    import weights_recipe
    from hyperfuse.core.storage.raster_io import open_raster, read_raster

    folder, scenes = tempfile.mkdtemp(prefix="hyperfuse-generic-"), []
    for name in names:
        info = open_raster(weights_recipe.development_scene(os.path.join(data_dir, name), folder))
        values, valid = read_raster(info, info.good_bands)
        wavelengths = SCENE_WAVELENGTHS.get(name) or info.wavelengths_nm
        scenes.append(Scene(name, values.astype(np.float32), valid,
                            np.asarray([wavelengths[b] for b in info.good_bands], dtype=float)))
    return scenes


def _gaussian_matrix(centres, fwhm, wavelengths) -> np.ndarray:
    sigma = np.asarray(fwhm)[:, None] / (2 * math.sqrt(2 * math.log(2)))
    matrix = np.exp(-0.5 * ((wavelengths[None, :] - np.asarray(centres)[:, None]) / sigma) ** 2)
    return matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1e-12)


def random_hs_matrix(rng, wavelengths) -> np.ndarray | None:
    """A random HS sensor as a matrix over the scene's bands, or None for the scene's own bands."""
    if rng.random() < 0.3:
        return None
    low, high = wavelengths.min(), wavelengths.max()
    span = (high - low) * rng.uniform(0.6, 1.0)
    start = rng.uniform(low, high - span)
    count = int(rng.integers(15, min(len(wavelengths), 240) + 1))
    centres = np.linspace(start, start + span, count)
    spacing = span / max(count - 1, 1)
    fwhm = np.full(count, max(spacing * rng.uniform(1.0, 1.6), 2.0 * np.median(np.diff(wavelengths))))
    return _gaussian_matrix(centres, fwhm, wavelengths)


def random_ms_matrix(rng, hs_low: float, hs_high: float, wavelengths) -> np.ndarray:
    count = int(rng.integers(3, 11))
    centres = np.sort(rng.uniform(hs_low + 10, hs_high - 10, count))
    fwhm = rng.uniform(20, 150, count)
    return _gaussian_matrix(centres, fwhm, wavelengths)


def fitted_response(hs: np.ndarray, ms: np.ndarray) -> np.ndarray:
    """R (MS × HS) by ridge-regularised least squares over the pixels, as an estimate from the pair would give."""
    x, y = hs.reshape(hs.shape[0], -1).astype(np.float64), ms.reshape(ms.shape[0], -1).astype(np.float64)
    gram = x @ x.T
    gram += 1e-6 * np.trace(gram) / gram.shape[0] * np.eye(gram.shape[0])
    return np.linalg.solve(gram, x @ y.T).T.astype(np.float32)


def _noisy(values, rng, snr_db):
    if snr_db is None:
        return values
    rms = np.sqrt(np.mean(values.astype(np.float64) ** 2, axis=(1, 2), keepdims=True))
    return (values + rng.normal(size=values.shape) * rms / 10 ** (snr_db / 20)).astype(np.float32)


def draw_pair(rng, scene: Scene, ratio: int):
    """One random sensor pair simulated from a whole scene and put into the generic form, as the plugin would
    at inference: the form is fitted to all the scene's LR pixels. Returns standardised LR and lifted
    coefficients, the target's, the HR validity, the :func:`band_metric` and the form's projector onto what
    the MS does not see (tensors)."""
    import torch
    from hyperfuse.core.protocol.degradation import PointSpread, spatial_degrade
    from hyperfuse.nets.generic import GenericForm

    rows, cols = (s // ratio * ratio for s in scene.values.shape[1:])
    original, valid = scene.values[:, :rows, :cols], scene.valid[:rows, :cols]
    hs_matrix = random_hs_matrix(rng, scene.wavelengths)
    reference = original if hs_matrix is None else np.einsum("kc,chw->khw", hs_matrix, original)
    hs_centres = scene.wavelengths if hs_matrix is None else hs_matrix @ scene.wavelengths
    ms = np.einsum("kc,chw->khw", random_ms_matrix(rng, hs_centres.min(), hs_centres.max(), scene.wavelengths),
                   original)
    lr, lr_valid = spatial_degrade(reference, valid, ratio,
                                   PointSpread.gaussian(ratio, float(rng.uniform(0.15, 0.45))))
    snr = float(rng.uniform(30, 45)) if rng.random() < 0.5 else None
    reference, ms = reference.astype(np.float32), ms.astype(np.float32)
    lr, ms = _noisy(lr.astype(np.float32), rng, snr), _noisy(ms, rng, snr)
    response = fitted_response(reference[:, valid], ms[:, valid])
    form = GenericForm()
    form.bind(lr[:, lr_valid], response, ratio)
    lr_fill = np.where(lr_valid[None], lr, form.hs_mean.numpy()[:, None, None])
    ms_fill = np.where(valid[None], ms, form.ms_offset.numpy()[:, None, None])
    lr_coefficients, lifted, _ = form.coefficients(torch.from_numpy(lr_fill)[None], torch.from_numpy(ms_fill)[None])
    target = form.standardised_target(torch.from_numpy(reference)[None])
    return (lr_coefficients[0], lifted[0], target[0], torch.from_numpy(valid), band_metric(form, reference, valid),
            form.unseen)


def band_metric(form, reference: np.ndarray, valid: np.ndarray):
    """H (K × K) with dᵀ H d the mean over bands of a coefficient error d's squared spectral error, each band
    relative to its RMS: the loss then weighs every band as PSNR and SAM do, dim bands included."""
    import torch

    rms = np.sqrt(np.mean(reference[:, valid].astype(np.float64) ** 2, axis=1))
    scaled = (form.basis.double() * form.sigma.double()[None]) / torch.from_numpy(np.maximum(rms, 1e-12))[:, None]
    return (scaled.T @ scaled / scaled.shape[0]).float()


def crop(pair: tuple, ratio: int, rng):
    """A random crop of HR_PATCH HR pixels (LR-aligned) whose target is valid throughout, or None."""
    lr, lifted, target, valid, metric, unseen = pair
    size = HR_PATCH // ratio
    for _ in range(20):
        row, col = (int(rng.integers(n - size + 1)) for n in lr.shape[1:])
        hr = (slice(None), slice(row * ratio, (row + size) * ratio), slice(col * ratio, (col + size) * ratio))
        if bool(valid[hr[1:]].all()):
            return lr[:, row:row + size, col:col + size], lifted[hr], target[hr], metric, unseen
    return None


def example_pool(scenes: list, seed: int, per_ratio: int) -> dict:
    """``per_ratio`` simulated pairs per ratio, scenes in turn."""
    from hyperfuse.nets.generic import RATIOS

    rng = np.random.default_rng(seed)
    return {r: [draw_pair(rng, scenes[i % len(scenes)], r) for i in range(per_ratio)]
            for r in range(RATIOS[0], RATIOS[1] + 1)}


def crops(pool: dict, ratio: int, count: int, rng) -> list:
    found = []
    while len(found) < count:
        example = crop(pool[ratio][int(rng.integers(len(pool[ratio])))], ratio, rng)
        if example is not None:
            found.append(example)
    return found


def _batch(examples: list):
    import torch

    return tuple(torch.stack([e[i] for e in examples]) for i in range(5))


def weighted_loss(output, target, metric):
    """The band-relative spectral mean squared error of coefficients, through each example's :func:`band_metric`."""
    import torch

    error = output - target
    return torch.einsum("nkhw,nkj,njhw->n", error, metric, error).mean() / (error.shape[-2] * error.shape[-1])


def new_inner_model(method, seed: int, pool: dict):
    """The network for the generic form, its data-dependent parts initialised from the ratio-4 examples."""
    import torch
    from hyperfuse.nets.blocks import FusionModel
    from hyperfuse.nets.generic import COMPONENTS, INNER_RATIO, MS_CHANNELS

    torch.manual_seed(seed)
    model = FusionModel(method.build(COMPONENTS, MS_CHANNELS, INNER_RATIO), COMPONENTS, MS_CHANNELS)
    examples = pool[INNER_RATIO]
    lr = torch.cat([e[0].reshape(COMPONENTS, -1) for e in examples], dim=1)[:, None]
    hr = torch.cat([e[1][:MS_CHANNELS][:, e[3]] for e in examples], dim=1)[:, None]
    target = torch.cat([e[2][:, e[3]] for e in examples], dim=1)[:, None]
    with torch.no_grad():
        model.initialise_from_data(lr.numpy(), hr.numpy(), target.numpy(), np.ones(target.shape[1:], bool))
    return model


def validation_loss(model, validation: dict) -> float:
    """The loss over ``validation`` (ratio → list of crops) of ``model``, or of the lift alone for None."""
    import torch
    from hyperfuse.nets.generic import fuse_coefficients

    total, count = 0.0, 0
    with torch.inference_mode():
        for ratio, examples in validation.items():
            lr, lifted, target, metric, unseen = _batch(examples)
            output = lifted if model is None else fuse_coefficients(model, lr, lifted, ratio, unseen)
            total += float(weighted_loss(output, target, metric)) * len(examples)
            count += len(examples)
    return total / count


def train_generic(method, pool: dict, validation: dict, steps: int = STEPS, seed: int = SEED, log=print):
    """(model, report) of one network trained on the generic form; the best validation state is kept."""
    import copy

    import torch
    from hyperfuse.nets.generic import fuse_coefficients

    model = new_inner_model(method, seed, pool)
    validation = {r: crops(validation, r, VALIDATION_CROPS, np.random.default_rng(seed + 1)) for r in validation}
    optimiser = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, LEARNING_RATE, total_steps=steps, pct_start=0.1)
    rng, ratios = np.random.default_rng(seed), sorted(pool)
    best, best_state, started = validation_loss(model, validation), copy.deepcopy(model.state_dict()), time.time()
    lift_loss = validation_loss(None, validation)
    for step in range(1, steps + 1):
        ratio = ratios[int(rng.integers(len(ratios)))]
        lr, lifted, target, metric, unseen = _batch(crops(pool, ratio, BATCH, rng))
        model.train()
        loss = weighted_loss(fuse_coefficients(model, lr, lifted, ratio, unseen), target, metric)
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        if step % 100 == 0 or step == steps:
            model.eval()
            current = validation_loss(model, validation)
            if current < best:
                best, best_state = current, copy.deepcopy(model.state_dict())
            log(f"{method.id} step {step}: training {float(loss.detach()):.4f}, validation {current:.4f} "
                f"(the lift alone {lift_loss:.4f}, best {best:.4f}), {time.time() - started:.0f} s")
    model.load_state_dict(best_state)
    model.eval()
    return model, {"steps": steps, "validation_lift": lift_loss, "validation_best": best,
                   "seconds": time.time() - started}


def generic_card(method, scenes: list, report: dict, seed: int = SEED) -> dict:
    """The model card of a generic model: what it is for, how it was trained, and the randomisation ranges."""
    from hyperfuse.core.inference import weights as weights_io
    from hyperfuse.nets.generic import COMPONENTS, INNER_RATIO, MS_CHANNELS, RATIOS

    card = weights_io.make_card(
        method.id, method.hyperparameters, COMPONENTS, None, MS_CHANNELS,
        f"generic form: the MS lifted into the scene's {COMPONENTS} leading spectral components", INNER_RATIO,
        training={"mode": "generic: random sensor pairs simulated from the development scenes",
                  "data": [s.name for s in scenes], "steps": report["steps"], "seconds": round(report["seconds"]),
                  "randomisation": {"hs_bands": "scene's own (30 %) or 15-240 Gaussian bands over 60-100 % of its "
                                                "range",
                                    "ms_bands": "3-10 Gaussian bands in the HS range, FWHM 20-150 nm",
                                    "ratios": list(RATIOS), "mtf_gain": [0.15, 0.45],
                                    "snr_db": "30-45 on half the examples, none on the others"}},
        validation={"loss_of_the_lift": report["validation_lift"], "loss": report["validation_best"]},
        seed=seed)
    card["generic"] = {"components": COMPONENTS, "ms_channels": MS_CHANNELS, "inner_ratio": INNER_RATIO,
                       "ratios": list(RATIOS)}
    return card


def train_generic_weights(method, output: str | None, data_dir: str, *, exclude: tuple = (), steps: int = STEPS,
                          log=print) -> tuple:
    """(model, card) of ``method``'s generic model trained on every development scene but ``exclude``; written
    to ``output`` when given."""
    from hyperfuse.core.inference import weights as weights_io

    scenes = load_scenes(data_dir, [s for s in SCENES if s not in exclude])
    pool = example_pool(scenes, SEED, EXAMPLES_PER_RATIO)
    validation = example_pool(scenes, SEED + 1, VALIDATION_PER_RATIO)
    model, report = train_generic(method, pool, validation, steps=steps, log=log)
    card = generic_card(method, scenes, report)
    if output:
        weights_io.save_weights(output, model, card)
    return model, card
