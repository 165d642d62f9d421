"""Bundled models: the sensor pairs that weights/ covers, and the recipe that trains them.

Every file ``weights/<method>_<preset>.pt`` is reproduced by ``make weights`` with
:func:`train_preset`: supervised training on every development scene
(``../shared/data``) whose wavelengths cover the preset. The inputs are simulated from each
scene exactly as "Simulate degradation" does (PROTOCOL.md: Gaussian PSF with MTF gain
0.25, spectral responses of the presets). The preset's hyperspectral bands are the EnMAP
scene's own bands, or the Sentinel-3 OLCI bands simulated from each scene with the OLCI
responses. Scenes are read in reflectance, with areas outside the flight strip as nodata
(:func:`development_scene`). The trainer holds out the last fifth of every scene for
validation (core/training.py), draws training patches from every scene equally often, and
the card records the metrics on the held-out parts.

MODEL = auto in the fusion algorithms finds these files by their cards
(:func:`find_bundled_model`): the HS band count and wavelengths, the MS band count and
wavelengths, and the ratio must all match.
"""
from __future__ import annotations

import glob
import os
import tempfile
from dataclasses import dataclass, field

from . import weights as weights_io
from .errors import UserInputError
from .registry import Method
from .srf import SpectralResponse, preset as srf_preset
from .training import TrainingConfig
from .training_run import SimulationSettings, TrainingData, data_from_reference, run_training

BUNDLED_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "weights")
SHARED_DATA = os.path.join(os.path.dirname(BUNDLED_DIR), "..", "shared", "data")
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
class BundledPreset:
    id: str                 # weights/<method>_<id>.pt
    label: str
    ratio: int
    ms_preset: str          # key of a spectral response preset (core/srf.py)
    ms_bands: tuple         # subset of its bands; empty keeps all
    hs_sensor: str | None   # a response preset key, or None: the scenes' own bands
    scenes: tuple           # development scenes whose wavelengths cover both sensors
    steps: int = 400
    method_steps: dict = field(default_factory=dict)   # method id: steps, where a method needs other than ``steps``

    def ms_response(self) -> SpectralResponse:
        response = srf_preset(self.ms_preset).load()
        return response.subset(list(self.ms_bands)) if self.ms_bands else response


PRESETS = (
    # The AVIRIS scene spans EnMAP's range but its 43 water-vapour bands are zeroed, which
    # leaves EnMAP bands near 1260–1320 and 1940–1970 nm without signal: EnMAP's own scene only.
    BundledPreset("enmap_s2_r3", "EnMAP + Sentinel-2 10 m (B2, B3, B4, B8), ratio 3", 3, "s2a_10m", (), None,
                  ("enmap_potsdam.tif",)),
    # 21 bands make a step about ten times cheaper than EnMAP's 218, and the two small scenes
    # (18 × 18 and 10 × 17 OLCI pixels) need more passes: validation still rose at 400 steps.
    BundledPreset("olci_s2_r5", "Sentinel-3 OLCI 21 bands + Sentinel-2 (B2, B3, B4), ratio 5", 5, "s2a_all",
                  ("B2", "B3", "B4"), "s3a_olci", ("aviris_santa_barbara.tif", "muufl_gulfport.tif"), steps=1200,
                  # Still improving at 1200 steps: MLPLN's SAM on the MUUFL part (1.633°, not yet below
                  # bicubic's 1.628°; after 2400, 1.542°) and MHF-net's mean PSNR on the two parts
                  # (35.31 dB, best step 1200; after 2400, 35.56 dB, best step 2040).
                  method_steps={"mlpln": 2400, "mhfnet": 2400}),
)


def weights_path(method: Method, preset: BundledPreset) -> str:
    return os.path.join(BUNDLED_DIR, f"{method.id}_{preset.id}.pt")


def _hs_response(preset: BundledPreset) -> SpectralResponse | None:
    """The preset's HS sensor as responses to simulate, or None when the scenes are that sensor."""
    return None if preset.hs_sensor is None else srf_preset(preset.hs_sensor).load()


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


def training_data(preset: BundledPreset, data_dir: str = SHARED_DATA) -> TrainingData:
    """The preset's training pairs from every scene it lists."""
    missing = [s for s in preset.scenes if not os.path.exists(os.path.join(data_dir, s))]
    if missing:
        raise UserInputError(f"The development scenes {', '.join(missing)} are missing from {data_dir}; the bundled "
                             "models are trained on them.")
    pairs, first = [], None
    folder = tempfile.mkdtemp(prefix="hyperfuse-weights-")
    for scene in preset.scenes:
        settings = SimulationSettings(ratio=preset.ratio, srf=preset.ms_response(), seed=SEED,
                                      hs_response=_hs_response(preset))
        data = data_from_reference(development_scene(os.path.join(data_dir, scene), folder), settings)
        first = first or data
        pairs += data.pairs
    return TrainingData(pairs, preset.ratio, first.hs_wavelengths, first.ms_description, first.ms_wavelengths,
                        f"{first.mode}; bundled preset '{preset.label}'", list(preset.scenes), first.simulation)


def train_preset(method: Method, preset: BundledPreset, output: str | None, data_dir: str = SHARED_DATA,
                 data: TrainingData | None = None, feedback=None, steps: int | None = None):
    """Train ``method`` for ``preset`` by the bundled recipe (``steps`` shortens it); returns (model, card, report)."""
    steps = steps or preset.method_steps.get(method.id, preset.steps)
    # Every scene is drawn from equally often, as the benchmark weighs every held-out part the
    # same: drawn by size, the MUUFL scene (a third of the OLCI pixels) got MS-SSFNet's SAM there
    # no better than bicubic's.
    config = TrainingConfig.for_method(method, steps=steps, seed=SEED, pairs_equally=True)
    data = data or training_data(preset, data_dir)
    return run_training(method, data, config, output, device_name="cpu", feedback=feedback)


def find_bundled_model(method: Method, hs_bands: int, ms_bands: int, ratio: int, hs_wavelengths,
                       ms_wavelengths=None, folder: str = BUNDLED_DIR) -> str | None:
    """The first bundled weights file whose card fits the inputs, if any."""
    for path in sorted(glob.glob(os.path.join(folder, f"{method.id}_*.pt"))):
        try:
            _, card = weights_io.load_weights(path)
            weights_io.check_card(card, method.id, hs_bands, ms_bands, ratio, hs_wavelengths, ms_wavelengths)
        except weights_io.InvalidWeightsFile:
            raise  # a damaged bundled file is an installation problem to report, not a model that does not fit
        except UserInputError:
            continue
        return path
    return None
