"""One fusion run, from two raster paths to a fused GeoTIFF (DESIGN.md "Data flow").

open both rasters → grid check → model (bundled, weights file, or trained on the inputs)
→ model converted to the inputs' units where they differ by a power of ten (input_units.py)
→ tiled inference → output GeoTIFF written to a temporary file and renamed on success.
The algorithms call :func:`fuse_with_network` (networks) and core/classical/run.py, which runs
tiled classical methods through :func:`fuse_with_function`; nothing else decides how a fusion is
run. Each run opens its pair once (:func:`~..protocol.grids.open_pair`) and passes the opened
rasters down, to training too.
"""
from __future__ import annotations

import dataclasses
import functools
import os
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from ..errors import UserInputError
from ..feedback import Feedback
from ..i18n import QT_TRANSLATE_NOOP
from ..protocol.degradation import DEFAULT_MTF_GAIN
from ..protocol.grids import GridPair, open_pair
from ..registry import NetworkMethod
from ..storage.files import ensure_writable
from ..storage.raster_io import (DEFAULT_COMPRESSION, OUTPUT_NODATA, RasterInfo, RasterWriter, band_metadata,
                                 compression_profile)
from ..training import runs as training_runs
from ..training.trainer import TrainingConfig, fill_invalid
from . import adaptation, distributed, input_units
from .adaptation import PROJECTION_BOTH
from . import weights as weights_io
from .bundled import find_bundled_model, find_generic_model
from .fine_tuning import fine_tune_on_pair
from .tiling import (AUTO_BLOCK_SIZE, DEFAULT_BLOCK_SIZE, RETAINED_BUDGETS, PairReader, TilingStats, block_geometry,
                     run_tiled)
from .torch_support import load_torch_ahead, network_input, network_output, require_torch, select_device

DEFAULT_TRAIN_STEPS = 300
DEFAULT_ADAPT_STEPS = 0
# Where the model comes from: a matching sensor-specific bundled model, else the generic bundled model
# (training on the inputs at ratios it does not cover); a weights file; or training on the inputs.
# They are also the MODEL options' labels, marked for translation (core/i18n.py).
MODEL_AUTO = QT_TRANSLATE_NOOP("HyperFuse", "auto")
MODEL_WEIGHTS = QT_TRANSLATE_NOOP("HyperFuse", "weights file")
MODEL_TRAIN = QT_TRANSLATE_NOOP("HyperFuse", "train on the inputs")
MODEL_CHOICES = [MODEL_AUTO, MODEL_WEIGHTS, MODEL_TRAIN]
# The path a run took, in its log and in the fused raster's hyperfuse_model_path tag.
PATH_SENSOR, PATH_GENERIC = "sensor-specific bundled model", QT_TRANSLATE_NOOP("HyperFuse", "generic bundled model")
PATH_WEIGHTS, PATH_TRAINED = "weights file", QT_TRANSLATE_NOOP("HyperFuse", "trained on the inputs")
# The generic form's spectral components come from at most this many LR pixels of the estimation window.
GENERIC_BASIS_PIXELS = 65536


@dataclass
class FusionResult:
    output: str
    method: str
    model_source: str
    ratio: int
    blocks: int
    seconds_training: float = 0.0
    seconds_inference: float = 0.0
    training: dict = field(default_factory=dict)
    io: "TilingStats | None" = None           # where the raster IO time went


# Whether a classical method's automatic blocks share the area evenly, as a network's do. A network recomputes a
# halo of 50–110 HR pixels around every block, and evenly shared blocks spare it a thin last block that is mostly
# halo. A classical method's halo is a few pixels: its blocks keep the size the memory budget gives them, the same
# at every raster size, and so does its peak memory. Shared evenly, GSA's 1500² × 100-band run took 3 × 3 blocks of
# 528² and peaked at 1.08 GB, its 6000² run 10 × 10 of 624² and 1.42 GB (docs/performance.md, "Full scenes in
# bounded memory").
CLASSICAL_BLOCKS_SHARED_EVENLY = False

NETWORK_NON_FINITE_HINT = ("The network's weights may be damaged, or the inputs far outside the range it was "
                           "trained on: check the inputs' units and nodata values, or choose another model.")


def output_writer(output: str, lr: RasterInfo, pair: GridPair, tags: dict, **writer_options) -> RasterWriter:
    rows, cols = pair.hr_shape
    return RasterWriter(output, cols, rows, lr.count, pair.transform, pair.crs_wkt, band_names=lr.band_names,
                        band_tags=band_metadata(lr), dataset_tags=tags,
                        producer=tags.get("hyperfuse_method", "The fusion"), **writer_options)


def block_sink(writer: RasterWriter, lr: RasterInfo):
    good = lr.good_bands

    def sink(values: np.ndarray, valid: np.ndarray, row0: int, col0: int) -> None:
        # ``values`` is the sink's own (run_tiled): nodata goes in place, without another image of every band.
        values[:, ~valid] = OUTPUT_NODATA
        if len(good) < lr.count:
            block = np.full((lr.count,) + valid.shape, OUTPUT_NODATA, dtype=np.float32)
            block[good] = values
            values = block
        writer.write(values, row0, col0)
    return sink


def tiled_to_file(output: str, lr: RasterInfo, pair: GridPair, tags: dict, reader, predict, halo: int, *,
                  block_size: int, feedback: Feedback, alignment: int | None = None, scheduler=None,
                  largest_window: int | None = None, row_halo: int | None = None, retained_budgets: float = 0.0,
                  share_evenly: bool = True, **writer_options) -> tuple:
    """Run ``predict`` block by block into ``output``: in this process (run_tiled), or with a ``scheduler`` (a
    DASK_SCHEDULER value or a dask.distributed Client) as Dask tasks (distributed.py); automatic blocks with their
    halo stay within ``largest_window`` HR pixels. A ``row_halo`` (in-process only) says that ``predict`` streams
    by rows (streamed.py): the blocks go down each column of blocks and compute that many rows above and below
    themselves; ``retained_budgets`` (in-process only) is the freed memory kept between blocks (run_tiled), and
    ``share_evenly`` whether automatic blocks share the area evenly (tiling.automatic_block_shape). Logs where the
    IO time went. Returns (blocks, TilingStats)."""
    stats, started = TilingStats(), time.perf_counter()
    shape = block_geometry(reader, halo, block_size, alignment, feedback, predict, largest_window, row_halo,
                           share_evenly=share_evenly)[0]
    engine = (functools.partial(run_tiled, by_columns=row_halo is not None, retained_budgets=retained_budgets)
              if scheduler is None else
              functools.partial(distributed.run_tiled_on_dask, scheduler=scheduler))
    with output_writer(output, lr, pair, tags, tile_size=shape, **writer_options) as writer:
        blocks = engine(reader, predict, block_sink(writer, lr), halo, shape, feedback, alignment=alignment,
                        stats=stats)
        closing = time.perf_counter()
    stats.add_closing(time.perf_counter() - closing)
    feedback.info(stats.describe(time.perf_counter() - started))
    return blocks, stats


def fuse_with_function(name: str, lr: RasterInfo, hr: RasterInfo, pair: GridPair, output: str, predict,
                       receptive_field, *, block_size: int = DEFAULT_BLOCK_SIZE, feedback: Feedback | None = None,
                       projection: "adaptation.Projection | None" = None, tags: dict | None = None,
                       scheduler=None, compression: str = DEFAULT_COMPRESSION,
                       largest_window: int | None = None) -> FusionResult:
    """Tiled fusion of an opened pair with a NumPy ``predict(lr, lr_valid, hr, hr_valid, ratio)`` (classical
    methods); ``receptive_field(ratio)`` is its halo, ``projection`` an optional prepared projection (its
    ``tags`` go into the raster), ``scheduler`` where the blocks run and ``largest_window`` their limit
    (:func:`tiled_to_file`), ``compression`` the output's (raster_io.COMPRESSION_CHOICES). The caller has
    checked that ``output`` is writable."""
    feedback = feedback or Feedback()
    started = time.perf_counter()
    tags = {"hyperfuse_method": name, "hyperfuse_ratio": pair.ratio, **(tags or {})}
    block_predict, halo = (lambda *a: predict(*a, pair.ratio)), receptive_field(pair.ratio)
    if projection is not None:
        block_predict, halo = projection.wrap(block_predict), halo + projection.extra_halo
    blocks, stats = tiled_to_file(output, lr, pair, tags, PairReader(lr, hr, pair), block_predict, halo,
                                  block_size=block_size, feedback=feedback, scheduler=scheduler,
                                  largest_window=largest_window, compression=compression,
                                  share_evenly=CLASSICAL_BLOCKS_SHARED_EVENLY)
    if projection is not None:
        projection.report(feedback)
    return FusionResult(output, name, "none", pair.ratio, blocks, seconds_inference=time.perf_counter() - started,
                        io=stats)


@dataclass(frozen=True, kw_only=True)
class NetworkFusionSettings:
    """How :func:`fuse_with_network` chooses (or trains) its model and runs it."""

    model: str = MODEL_AUTO                   # one of MODEL_CHOICES
    weights_path: str | None = None           # the file for MODEL_WEIGHTS
    train_steps: int = DEFAULT_TRAIN_STEPS    # when training on the inputs
    seed: int = 0                             # of training
    hyperparameters: dict | None = None       # of a network trained on the inputs
    training_overrides: dict | None = None    # other TrainingConfig fields (tests and benchmarks)
    device: str = "auto"                      # a name of torch_support.DEVICES
    block_size: int = DEFAULT_BLOCK_SIZE
    output_weights: str | None = None         # where to write the model used, with its card
    adapt_steps: int = DEFAULT_ADAPT_STEPS    # fine-tuning on the inputs at full resolution (fine_tuning.py)
    projection: str = PROJECTION_BOTH         # one of adaptation.PROJECTION_CHOICES
    mtf_gain: float = DEFAULT_MTF_GAIN        # of the PSF the projection assumes
    scheduler: object = None                  # where the blocks run: None in-process, else distributed.connected's
    compression: str = DEFAULT_COMPRESSION    # of the output, one of raster_io.COMPRESSION_CHOICES


@dataclass
class ChosenModel:
    """The model a network fusion runs, with its card and where it came from."""

    model: object
    card: dict
    source: str                               # the weights file's name, or "trained on the inputs"
    path: str = PATH_WEIGHTS                  # one of the PATH_ values
    trained_on_inputs: bool = False           # then it has the inputs' units already
    training: dict = field(default_factory=dict)
    seconds_training: float = 0.0


def _good(values, good_bands):
    return None if values is None else [values[b] for b in good_bands]


def _sensor_model_path(method: NetworkMethod, lr: RasterInfo, hr: RasterInfo, pair: GridPair,
                       feedback: Feedback) -> str | None:
    """The sensor-specific bundled model that matches the pair, or None."""
    good_wavelengths = _good(lr.wavelengths_nm, lr.good_bands)
    hs_bands, ms_bands = len(lr.good_bands), len(hr.good_bands)
    if good_wavelengths is None:
        feedback.info("The LR-HSI has no wavelength metadata, so no sensor-specific bundled model can be matched "
                      "to it.")
        return None
    path = find_bundled_model(method, hs_bands, ms_bands, pair.ratio, good_wavelengths,
                              _good(hr.wavelengths_nm, hr.good_bands), feedback=feedback)
    if path is None:
        feedback.info(f"No sensor-specific bundled {method.name} model matches {hs_bands} HS bands at "
                      f"{min(good_wavelengths):.0f}–{max(good_wavelengths):.0f} nm, {ms_bands} MS bands and "
                      f"ratio {pair.ratio}.")
    return path


def _bundled_model_path(method: NetworkMethod, lr: RasterInfo, hr: RasterInfo, pair: GridPair,
                        feedback: Feedback) -> tuple:
    """MODEL = auto: (path, PATH_SENSOR or PATH_GENERIC) of the bundled model for the pair, or (None,
    PATH_TRAINED) to train on the inputs.

    Without a sensor-specific model the generic model fuses the pair: on the sensor pairs without a preset
    of docs/benchmark.md ("Generalisation") it beats the best classical method in seconds, where training on
    the inputs costs minutes and needs an LR-HSI of at least 4r × 4r pixels. Training on the inputs is
    left for MODEL = train on the inputs, and for ratios outside the generic models' range."""
    path = _sensor_model_path(method, lr, hr, pair, feedback)
    if path:
        feedback.info(f"Using the sensor-specific bundled model {os.path.basename(path)}.")
        return path, PATH_SENSOR
    from ...nets.generic import RATIOS

    path = find_generic_model(method, feedback=feedback)
    if path and RATIOS[0] <= pair.ratio <= RATIOS[1]:
        feedback.info(f"Using the generic bundled model {os.path.basename(path)}, which fuses any bands at ratios "
                      f"{RATIOS[0]}–{RATIOS[1]}.")
        return path, PATH_GENERIC
    if path:
        feedback.info(f"The generic bundled model fuses ratios {RATIOS[0]}–{RATIOS[1]}, not {pair.ratio}; "
                      "training on the inputs.")
    return None, PATH_TRAINED       # training refuses inputs too small for it, and says why


def _weights_to_load(method: NetworkMethod, lr: RasterInfo, hr: RasterInfo, pair: GridPair,
                     settings: NetworkFusionSettings, feedback: Feedback) -> tuple:
    """(weights file, path kind) the settings choose; (None, PATH_TRAINED) to train on the inputs."""
    if settings.model == MODEL_TRAIN:
        return None, PATH_TRAINED
    if settings.model == MODEL_WEIGHTS:
        if not settings.weights_path:
            raise UserInputError("MODEL is 'weights file' but no WEIGHTS file was given. Choose a weights file, "
                                 "or set MODEL to auto or train on the inputs.")
        return settings.weights_path, PATH_WEIGHTS
    if settings.model != MODEL_AUTO:
        raise ValueError(f"Unknown model choice {settings.model!r}; use one of {', '.join(MODEL_CHOICES)}.")
    return _bundled_model_path(method, lr, hr, pair, feedback)


def _train_on_inputs(method: NetworkMethod, lr: RasterInfo, hr: RasterInfo, pair: GridPair,
                     settings: NetworkFusionSettings, device, feedback: Feedback) -> ChosenModel:
    """Self-supervised training on the opened pair, by the same path as ``hyperfuse:train_model``."""
    if settings.train_steps < 1:
        raise UserInputError("TRAIN_STEPS must be at least 1 to train on the inputs.")
    config = TrainingConfig.for_method(method, steps=settings.train_steps, seed=settings.seed,
                                       **(settings.training_overrides or {}))
    data = training_runs.data_from_inputs(lr, hr, pair, config.mtf_gain)
    model, card, report = training_runs.train_model_on(method, data, config, device, feedback,
                                                       hyperparameters=settings.hyperparameters)
    training = {"steps": report.steps, "seconds": report.seconds, "final_loss": report.losses[-1],
                "stopped_because": report.stopped_because, "validation": report.validation,
                "warning": report.warning}
    return ChosenModel(model, card, "trained on the inputs", PATH_TRAINED, trained_on_inputs=True,
                       training=training, seconds_training=report.seconds)


def choose_model(method: NetworkMethod, lr: RasterInfo, hr: RasterInfo, pair: GridPair,
                 settings: NetworkFusionSettings, device, feedback: Feedback) -> ChosenModel:
    """Step 1 of a network fusion: the bundled model or weights file the settings choose, loaded for this
    pair's bands and ratio, or a network trained on the pair (reporting on the first 80 % of the progress)."""
    weights_path, path_kind = _weights_to_load(method, lr, hr, pair, settings, feedback)
    if not weights_path:
        return _train_on_inputs(method, lr, hr, pair, settings, device, feedback.span(0.0, 0.8))
    model, card = weights_io.build_fusion_model(method, weights_path, len(lr.good_bands), len(hr.good_bands),
                                                pair.ratio, _good(lr.wavelengths_nm, lr.good_bands),
                                                _good(hr.wavelengths_nm, hr.good_bands))
    return ChosenModel(model, card, os.path.basename(weights_path), path_kind)


def _network_predict(model, device):
    """``predict(lr, lr_valid, hr, hr_valid)`` of one block; invalid pixels enter as the band means."""
    torch = require_torch()
    hs_fill, ms_fill = model.hs_mean.cpu().numpy(), model.ms_mean.cpu().numpy()

    def predict(lr_block, lr_valid, hr_block, hr_valid):
        lr_t = network_input(fill_invalid(lr_block, lr_valid, hs_fill), device)
        hr_t = network_input(fill_invalid(hr_block, hr_valid, ms_fill), device)
        with torch.inference_mode():
            return network_output(model(lr_t, hr_t), bands_innermost=True)
    return predict


def _streamed_predict(model, device, pair: GridPair, margin: int, settings: NetworkFusionSettings):
    """A :class:`~.streamed.StreamedPredict` for a model that streams by rows (a FusionModel, not a generic model),
    in a run in this process; None otherwise (its blocks are then computed whole, with the network's halo)."""
    if settings.scheduler is not None or not hasattr(model, "row_stages"):
        return None
    from .streamed import StreamedPredict

    return StreamedPredict(model, device, pair.ratio, pair.hr_shape[0], margin)


def _network_tags(method: NetworkMethod, chosen: ChosenModel, pair: GridPair, unit_factors: tuple) -> dict:
    training = chosen.card.get("training", {})
    tags = {"hyperfuse_method": method.name, "hyperfuse_model": chosen.source, "hyperfuse_model_path": chosen.path,
            "hyperfuse_ratio": pair.ratio,
            "hyperfuse_model_training": f"{training.get('mode', 'unknown')}; data: "
                                        f"{', '.join(training.get('data', [])) or 'unknown'}"}
    if training.get("warning"):
        # The model card's warning (a run that never beat its bicubic start) follows the model into every raster.
        tags["hyperfuse_warning"] = training["warning"]
    if unit_factors != (1.0, 1.0):
        tags["hyperfuse_input_unit_factors"] = f"LR-HSI {unit_factors[0]:g}, HR-MSI {unit_factors[1]:g}"
    return tags


def _window_read_ahead(lr: RasterInfo, hr: RasterInfo, pair: GridPair,
                       settings: NetworkFusionSettings) -> Future | None:
    """The estimation window (responses.read_window), read in a thread of its own while torch loads and the model
    is chosen, where the run will read it: a bundled model or weights file with the projection. Reading it took
    about 2 s before the first block of a 1500² × 218-band fusion, as long as loading torch and the model."""
    if settings.model == MODEL_TRAIN or settings.projection == adaptation.PROJECTION_NONE:
        return None
    from ..protocol.responses import read_window

    reader = ThreadPoolExecutor(1, "hyperfuse-window")
    try:
        return reader.submit(read_window, lr, hr, pair)
    finally:
        reader.shutdown(wait=False)


def _estimation_window(lr: RasterInfo, hr: RasterInfo, pair: GridPair, feedback: Feedback,
                       ahead: Future | None) -> tuple:
    """The estimation window: the one read ahead (:func:`_window_read_ahead`) where there is one."""
    from ..protocol.responses import read_window, window_note

    if ahead is None:
        return read_window(lr, hr, pair, feedback)
    note = window_note(pair)
    if note:
        feedback.info(note)
    return ahead.result()


def _bind_generic(model, lr: RasterInfo, hr: RasterInfo, pair: GridPair, mtf_gain: float, device,
                  feedback: Feedback, window: tuple):
    """Fit a generic model's form to the pair, from one read of the estimation ``window``: the spectral components
    of its LR pixels, and R estimated there. Returns the observation source, which the projection reuses."""
    from ...nets.generic import COMPONENTS

    source = adaptation.observation_source(lr, hr, pair, mtf_gain=mtf_gain, feedback=feedback, window=window)
    z, z_valid = window[:2]
    pixels = z[:, z_valid]
    pixels = pixels[:, ::max(1, pixels.shape[1] // GENERIC_BASIS_PIXELS)]
    model.bind(pixels, source.response, pair.ratio)
    model.to(device)
    feedback.info(f"Generic form: the {min(COMPONENTS, pixels.shape[0])} leading spectral components of "
                  f"{pixels.shape[1]} LR pixels, and the MS lifted into them through the {source.description}.")
    return source


def _retained_budgets(method: NetworkMethod) -> float:
    """The freed memory a network's run keeps between blocks (run_tiled): RETAINED_BUDGETS, or none for a network
    whose class says keeping it does not pay (``KEEPS_FREED_MEMORY``)."""
    return RETAINED_BUDGETS if getattr(method.network_class(), "KEEPS_FREED_MEMORY", True) else 0.0


def run_network(method: NetworkMethod, chosen: ChosenModel, lr: RasterInfo, hr: RasterInfo, pair: GridPair,
                output: str, *, settings: NetworkFusionSettings, device, feedback: Feedback,
                window_ahead: Future | None = None) -> FusionResult:
    """Step 2 of a network fusion: the chosen model over the opened pair, block by block, into ``output`` (the
    estimation window from ``window_ahead`` where it was read ahead)."""
    model = chosen.model
    model.to(device).eval()
    generic = weights_io.is_generic(chosen.card)
    # A generic model takes the pair's own form (bound below); the others were trained in some unit.
    window = None
    if not (chosen.trained_on_inputs or generic) and settings.projection != adaptation.PROJECTION_NONE:
        # One read of the estimation window gives the units' levels and the projection's R.
        window = _estimation_window(lr, hr, pair, feedback, window_ahead)
    unit_factors = ((1.0, 1.0) if chosen.trained_on_inputs or generic else
                    input_units.match_model_to_inputs(model, lr, hr, feedback, window))
    started = time.perf_counter()
    tags = _network_tags(method, chosen, pair, unit_factors)
    source = None
    if generic:
        source = _bind_generic(model, lr, hr, pair, settings.mtf_gain, device, feedback,
                               _estimation_window(lr, hr, pair, feedback, window_ahead))
    elif settings.adapt_steps > 0 or window is not None:
        source = adaptation.observation_source(lr, hr, pair, mtf_gain=settings.mtf_gain, feedback=feedback,
                                               window=window)
    predict, halo = _network_predict(model, device), model.receptive_field(pair.ratio)
    if settings.adapt_steps > 0:
        report = fine_tune_on_pair(method, model, lr, hr, pair, source, steps=settings.adapt_steps, seed=settings.seed,
                                   device=device, feedback=feedback.span(0.0, 0.5))
        tags["hyperfuse_fine_tuning"] = f"{settings.adapt_steps} steps on the inputs; {report.describe()}"
        feedback = feedback.span(0.5, 1.0)
    projection = adaptation.prepare_projection(settings.projection, settings.mtf_gain, lr, hr, pair, tags, feedback,
                                               source)
    margin = 0 if projection is None else projection.extra_halo
    reader, block_size = PairReader(lr, hr, pair), settings.block_size
    streamed, row_halo = _streamed_predict(model, device, pair, margin, settings), None
    if streamed is not None:
        wrapped = streamed if projection is None else projection.wrap(streamed)
        shape = block_geometry(reader, max(halo + margin, streamed.halo), block_size, model.alignment(pair.ratio),
                               feedback, wrapped, row_halo=streamed.row_halo)[0]
        if block_size == AUTO_BLOCK_SIZE or shape[1] >= pair.hr_shape[1]:
            # Automatic blocks are sized with the rows the stream holds between them (tiling.working_memory).
            predict, halo, row_halo, block_size = wrapped, max(halo + margin, streamed.halo), streamed.row_halo, shape
        else:
            # A BLOCK_SIZE narrower than the area keeps the memory it was chosen for: no rows held besides it.
            feedback.info("Blocks narrower than the area are computed whole, with the network's halo.")
            streamed = wrapped = None
    if streamed is None:
        halo += margin
        if projection is not None:
            predict = projection.wrap(predict)
    blocks, stats = tiled_to_file(output, lr, pair, tags, reader, predict, halo, block_size=block_size,
                                  feedback=feedback, alignment=model.alignment(pair.ratio),
                                  scheduler=settings.scheduler, row_halo=row_halo,
                                  non_finite_hint=NETWORK_NON_FINITE_HINT, compression=settings.compression,
                                  retained_budgets=_retained_budgets(method))
    if projection is not None:
        projection.report(feedback)
    return FusionResult(output, method.name, chosen.source, pair.ratio, blocks, chosen.seconds_training,
                        time.perf_counter() - started, chosen.training, io=stats)


def fuse_with_network(method: NetworkMethod, lr_path: str, hr_path: str, output: str, *,
                      settings: NetworkFusionSettings | None = None, feedback: Feedback | None = None) -> FusionResult:
    """Fuse with one of the registry's networks: open the pair once, :func:`choose_model`, then
    :func:`run_network` (on the last 20 % of the progress after training)."""
    feedback = feedback or Feedback()
    settings = settings or NetworkFusionSettings()
    settings = dataclasses.replace(settings, scheduler=distributed.checked(settings.scheduler))
    ensure_writable(output)
    compression_profile(settings.compression)       # an unknown name is refused before any work
    if settings.output_weights:
        ensure_writable(settings.output_weights)
    load_torch_ahead()              # while the inputs are opened and checked (0.8 s at 1500² × 218 bands)
    lr, hr, pair = open_pair(lr_path, hr_path)
    # While torch loads (about 2 s) and the model is chosen.
    window_ahead = _window_read_ahead(lr, hr, pair, settings)
    require_torch()
    device = select_device(settings.device)
    if lr.bad_bands:
        feedback.info(f"{len(lr.bad_bands)} LR-HSI band(s) are nodata everywhere (bad bands "
                      f"{', '.join(str(b + 1) for b in lr.bad_bands)}); they stay in place in the output as nodata.")
    chosen = choose_model(method, lr, hr, pair, settings, device, feedback)
    if settings.output_weights:
        weights_io.save_weights(settings.output_weights, chosen.model, chosen.card)
        feedback.info(f"Weights written to {settings.output_weights}.")
    return run_network(method, chosen, lr, hr, pair, output, settings=settings, device=device,
                       feedback=feedback.span(0.8, 1.0) if chosen.trained_on_inputs else feedback,
                       window_ahead=window_ahead)
