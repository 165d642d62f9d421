"""The recipe that trains the bundled models (`make weights`): development only, never imported by the plugin.

Every file ``weights/<method>_<preset>.pt`` is reproduced by :func:`train_preset`:
supervised training on every development scene (``../shared/data``) whose wavelengths cover
the preset (core/inference/bundled.py holds the presets: sensor pair, bands, ratio). The
inputs are simulated from each scene exactly as "Simulate degradation" does (PROTOCOL.md:
Gaussian PSF with MTF gain 0.25, spectral responses of the presets). The preset's
hyperspectral bands are the EnMAP scene's own bands, or the Sentinel-3 OLCI bands simulated
from each scene with the OLCI responses. Scenes are read in reflectance, with areas outside
the flight strip as nodata (:func:`development_scene`). The trainer holds out the last fifth
of every scene for validation (core/training/trainer.py), draws training patches from every
scene equally often, and the card records the metrics on the held-out parts.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field

from hyperfuse.core.errors import UserInputError
from hyperfuse.core.inference import bundled
from hyperfuse.core.inference.bundled import BundledPreset
from hyperfuse.core.protocol.simulation import SimulationSettings
from hyperfuse.core.registry import NetworkMethod
from hyperfuse.core.training.runs import TrainingData, data_from_reference, run_training
from hyperfuse.core.training.trainer import TrainingConfig

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_DATA = os.path.join(ROOT, "..", "shared", "data")
SEED = 0
# Scenes whose files hold reflectance × 10⁴ without a GDAL scale (AVIRIS: median 1212 counts,
# 0.12 reflectance). The bundled models work in reflectance, the unit of EnMAP L2A (scale
# 0.0001 in the file) and of the CASI scene, so these are read through a scale of 1e-4.
REFLECTANCE_SCALE = {"aviris_santa_barbara.tif": 1e-4}
# Scenes with an area outside the flight strip that the file fills with one constant spectrum
# instead of nodata: (row, column) of a pixel in it. The MUUFL crop's lower right corner (604
# pixels, a third of its held-out part) holds the same 72 values, negative in some bands; it is
# not ground, so it is read as nodata and neither trained on nor scored.
FILL_SPECTRUM_PIXEL = {"muufl_gulfport.tif": (50, 87)}


@dataclass(frozen=True)
class Recipe:
    """How one bundled preset is trained: on which development scenes, for how many steps."""

    preset: BundledPreset
    scenes: tuple           # development scenes whose wavelengths cover both sensors
    steps: int = 400
    method_steps: dict = field(default_factory=dict)   # method id: steps, where a method needs other than ``steps``


RECIPES = (
    # The AVIRIS scene spans EnMAP's range but its 43 water-vapour bands are zeroed, which
    # leaves EnMAP bands near 1260–1320 and 1940–1970 nm without signal: EnMAP's own scene only.
    Recipe(bundled.preset("enmap_s2_r3"), ("enmap_potsdam.tif",)),
    # 21 bands make a step about ten times cheaper than EnMAP's 218, and the two small scenes
    # (18 × 18 and 10 × 17 OLCI pixels) need more passes: validation still rose at 400 steps.
    Recipe(bundled.preset("olci_s2_r5"), ("aviris_santa_barbara.tif", "muufl_gulfport.tif"), steps=1200,
           # Still improving at 1200 steps: MLPLN's SAM on the MUUFL part (1.633°, not yet below
           # bicubic's 1.628°; after 2400, 1.542°) and MHF-net's mean PSNR on the two parts
           # (35.31 dB, best step 1200; after 2400, 35.56 dB, best step 2040).
           method_steps={"mlpln": 2400, "mhfnet": 2400}),
)


def development_scene(path: str, folder: str) -> str:
    """``path``, or a VRT in ``folder`` that reads it as reflectance (REFLECTANCE_SCALE) with its
    fill spectrum as nodata (FILL_SPECTRUM_PIXEL)."""
    name = os.path.basename(path)
    scale, fill_pixel = REFLECTANCE_SCALE.get(name), FILL_SPECTRUM_PIXEL.get(name)
    if scale is None and fill_pixel is None:
        return path
    from osgeo import gdal

    vrt = os.path.join(folder, os.path.splitext(name)[0] + ".vrt")
    gdal.Translate(vrt, path, format="VRT", options=["-a_scale", repr(scale)] if scale is not None else [])
    if fill_pixel is not None:
        dataset = gdal.Open(vrt, gdal.GA_Update)
        row, col = fill_pixel
        # Every band's nodata is its fill value: only the fill pixels match in any band.
        for index, value in enumerate(dataset.ReadAsArray(col, row, 1, 1)[:, 0, 0], start=1):
            dataset.GetRasterBand(index).SetNoDataValue(float(value))
        dataset = None
    return vrt


def training_data(recipe: Recipe, data_dir: str = SHARED_DATA) -> TrainingData:
    """The preset's training pairs from every scene its recipe lists."""
    preset = recipe.preset
    missing = [s for s in recipe.scenes if not os.path.exists(os.path.join(data_dir, s))]
    if missing:
        raise UserInputError(f"The development scenes {', '.join(missing)} are missing from {data_dir}; the bundled "
                             "models are trained on them.")
    pairs, first = [], None
    folder = tempfile.mkdtemp(prefix="hyperfuse-weights-")
    for scene in recipe.scenes:
        settings = SimulationSettings(ratio=preset.ratio, srf=preset.ms_response(), seed=SEED,
                                      hs_response=preset.hs_response())
        data = data_from_reference(development_scene(os.path.join(data_dir, scene), folder), settings)
        first = first or data
        pairs += data.pairs
    return TrainingData(pairs, preset.ratio, first.hs_wavelengths, first.ms_description, first.ms_wavelengths,
                        f"{first.mode}; bundled preset '{preset.label}'", list(recipe.scenes), first.simulation)


def train_preset(method: NetworkMethod, recipe: Recipe, output: str | None, data_dir: str = SHARED_DATA,
                 data: TrainingData | None = None, feedback=None, steps: int | None = None,
                 hyperparameters: dict | None = None):
    """Train ``method`` for the recipe's preset (``steps`` shortens it; ``hyperparameters`` default to
    the method's current ones); returns (model, card, report)."""
    steps = steps or recipe.method_steps.get(method.id, recipe.steps)
    # Every scene is drawn from equally often, as the benchmark weighs every held-out part the
    # same: drawn by size, the MUUFL scene (a third of the OLCI pixels) got MS-SSFNet's SAM there
    # no better than bicubic's.
    config = TrainingConfig.for_method(method, steps=steps, seed=SEED, pairs_equally=True)
    data = data or training_data(recipe, data_dir)
    return run_training(method, data, config, output, device_name="cpu", feedback=feedback,
                        hyperparameters=hyperparameters)
