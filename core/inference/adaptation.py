"""Full-resolution adaptation: every fused block projected onto its own two observations.

A network fits the degradation it was trained on; on another scene or sensor its output no
longer reproduces the inputs it was given. The projection (core/protocol/consistency.py)
returns the image nearest to the network's output whose blurred and decimated version is
the LR-HSI and whose image through the spectral responses is the HR-MSI. It adds no
learned parameters and runs block by block with the fusion, each block with an extra halo
of PROJECTION_HALO_LR_PIXELS LR pixels so that the block edges do not show.

The observation model comes from the pair itself: the PSF is the protocol's Gaussian at the
given MTF gain, and R is estimated at that PSF by ``hyperfuse:estimate_responses``'s rule
(core/protocol/responses.py) on the central estimation window, with a smoothness penalty.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from ..feedback import Feedback
from ..i18n import QT_TRANSLATE_NOOP
from ..protocol import consistency
from ..protocol.degradation import DEFAULT_MTF_GAIN, PointSpread, gaussian_sigma
from .tiling import WindowPart, predict_window

# Also the PROJECTION options' labels, marked for translation (core/i18n.py).
PROJECTION_NONE = QT_TRANSLATE_NOOP("HyperFuse", "none")
PROJECTION_BOTH = QT_TRANSLATE_NOOP("HyperFuse", "both observations")
PROJECTION_CHOICES = [PROJECTION_BOTH, PROJECTION_NONE]
# The projection's correction of one LR pixel's misfit decays within a few PSF widths. Only a block and this halo
# are projected: on a random DeepSen3's output in 24² blocks (tests/test_consistency.py), 6, 8, 10 and 12 LR pixels
# kept the tiled result within 5.4e-4, 9.5e-5, 1.6e-5 and 2.7e-6 of the whole image's (relative to its largest value).
PROJECTION_HALO_LR_PIXELS = 8
# Observation models kept for the shapes of the regions projected last. A run's blocks take a handful of shapes (the
# first, inner and last of a row or a column of blocks), and a model of a 144 × 1584 region holds 13 MB: MHF-net's
# 6000² fusion in columns of blocks 1536 wide met 9 shapes, and kept about 0.1 GB of models to its end. Blocks come
# row by row or down a column, so the shapes of the current row or column are the ones kept.
OBSERVATION_MODELS_KEPT = 4


def projection_halo(ratio: int) -> int:
    """HR pixels the projection reads around a block beyond the network's halo, and projects with it."""
    return PROJECTION_HALO_LR_PIXELS * ratio


# Smoothness of the estimated responses across neighbouring HS bands (estimate_responses): scenes with few
# materials leave R underdetermined, and the penalty picks one smooth answer instead of an arbitrary one. It is
# kept small, as a tie-breaker: a smooth R blurs narrow responses, and the projection then imposes the wrong
# band mixture. Bundled MHF-net on the held-out parts of the OLCI + Sentinel-2 scenes, projected: AVIRIS 34.58,
# 35.38, 36.03, 36.18 dB and MUUFL 36.89, 38.03, 38.51, 38.56 dB at λ = 1e-3, 1e-4, 1e-5, 0 (unprojected 33.05 and
# 37.90); EnMAP (218 bands) 38.36 dB at every λ.
RESPONSE_SMOOTHNESS = 1e-5
# An R that does not explain the pair exactly (OLCI bands with Sentinel-2: 1–3 % fit error; EnMAP with
# Sentinel-2: 0.3 %) would write its error into the result if the HR-MSI constraint were hard: on the AVIRIS
# development scene with the OLCI preset, the hard constraint cost GSA 3 dB and MHF-net 0.7 dB. The constraint's
# ridge grows as (e / SPECTRAL_ERROR_SCALE)², e the fit error (spectral_ridge); docs/methods.md has the numbers.
SPECTRAL_ERROR_SCALE = 0.02


@dataclass
class ObservationSource:
    """The observation model a projection uses, and where it came from (for the log)."""

    response: np.ndarray            # MS bands × usable HS bands
    psf: PointSpread
    description: str
    response_error: float = 0.0     # how well R explains the pair: RMS relative residual of its fit


@dataclass
class ConsistencyTally:
    """Squared misfits summed over every projected region (a block and the projection's halo) on the pixels the
    projection constrains, before and after, and the squared observations they are relative to."""

    sums: dict = field(default_factory=lambda: {k: 0.0 for k in ("lr", "hr", "lr_before", "hr_before",
                                                                  "lr_after", "hr_after")})

    def add(self, projected: consistency.Projected, lr, lr_valid, hr, hr_valid) -> None:
        for key, (lr_misfit, hr_misfit) in (("before", projected.misfit_before), ("after", projected.misfit_after)):
            self.sums[f"lr_{key}"] += lr_misfit
            self.sums[f"hr_{key}"] += hr_misfit
        self.sums["lr"] += float(np.sum(lr[:, lr_valid].astype(np.float64) ** 2))
        self.sums["hr"] += float(np.sum(hr[:, hr_valid].astype(np.float64) ** 2))

    def merge(self, sums: dict) -> None:
        """Add another tally's ``sums`` (of blocks computed in another process)."""
        for key, value in sums.items():
            self.sums[key] += value

    def relative(self, key: str) -> consistency.Consistency:
        ratio = {side: (self.sums[f"{side}_{key}"] / self.sums[side]) ** 0.5 if self.sums[side] > 0 else 0.0
                 for side in ("lr", "hr")}
        return consistency.Consistency(ratio["lr"], ratio["hr"])


def observation_source(lr, hr, pair, *, mtf_gain: float = DEFAULT_MTF_GAIN, feedback: Feedback | None = None,
                       window: tuple | None = None) -> ObservationSource:
    """R estimated from the pair's estimation window at the PSF of ``mtf_gain``, and that PSF. ``window`` is
    that window's (z, z_valid, y, y_valid) when the caller has read it already."""
    from ..protocol.responses import estimate_responses, read_window

    z, z_valid, y, y_valid = window or read_window(lr, hr, pair, feedback)
    # R does not depend on the unit, but the estimate's tolerances do: estimate in units of the data's mean
    # magnitude, so that reflectance and reflectance × 10⁴ give the same projection.
    scale = float(np.mean(np.abs(z[:, z_valid]))) if z_valid.any() else 0.0
    scale = scale if np.isfinite(scale) and scale > 0 else 1.0
    estimate = estimate_responses(z / scale, z_valid, y / scale, y_valid, pair.ratio,
                                  sigma=gaussian_sigma(pair.ratio, mtf_gain), smoothness=RESPONSE_SMOOTHNESS)
    error = float(np.sqrt(np.mean(estimate.residuals ** 2)))
    # The HR-MSI is gains × (normalised R) Z: in other units than the LR-HSI (counts against reflectance), or a
    # few per cent brighter when R only approximates the sensors (OLCI bands against Sentinel-2's: gains 1.026 on
    # the MUUFL scene). Projecting onto the normalised R would force that difference into the fused brightness.
    fitted = estimate.response * estimate.gains[:, None]
    return ObservationSource(fitted, PointSpread.gaussian(pair.ratio, mtf_gain),
                             f"spectral responses estimated from the pair, which they explain to {100 * error:.2f} % "
                             f"(RMS); Gaussian PSF with MTF gain {mtf_gain:g} at ratio {pair.ratio}", error)


def spectral_ridge(source: ObservationSource) -> float:
    """How softly the HR-MSI constraint is imposed: DEFAULT_RIDGE where R explains the pair exactly, 1 (half the
    misfit corrected) where R misses it by SPECTRAL_ERROR_SCALE, more above. One value for the whole run, so
    that the result does not depend on the block size."""
    return consistency.DEFAULT_RIDGE + (source.response_error / SPECTRAL_ERROR_SCALE) ** 2


def projected_region(shape: tuple, centre: tuple | None, halo: int) -> tuple:
    """(rows, cols) slices of a window of ``shape`` that the projection needs: the block at ``centre`` (row0, col0,
    rows, cols in the window) and ``halo`` HR pixels around it, inside the window; the whole window without a
    ``centre``. The network's halo beyond it is only there for the network and is thrown away."""
    if centre is None:
        return slice(0, shape[0]), slice(0, shape[1])
    row0, col0, rows, cols = centre
    return (slice(max(0, row0 - halo), min(shape[0], row0 + rows + halo)),
            slice(max(0, col0 - halo), min(shape[1], col0 + cols + halo)))


def _region_of(fused, rows: slice, cols: slice) -> np.ndarray:
    """The window's ``rows`` and ``cols`` of a ``predict``'s result, as a dense array in the result's layout (band by
    band, or with its bands innermost): the result itself where it is just that part (a streamed network's), else a
    copy."""
    if isinstance(fused, WindowPart):
        part = fused.values
        if (fused.row0, fused.col0) == (rows.start, cols.start) and part.shape[1:] == (rows.stop - rows.start,
                                                                                        cols.stop - cols.start):
            return part
        return fused.cut(rows, cols).copy(order="K")
    if (rows.start, cols.start) == (0, 0) and fused.shape[1:] == (rows.stop, cols.stop):
        return fused
    return fused[:, rows, cols].copy(order="K")


def projecting(predict, source: ObservationSource, ratio: int, tally: ConsistencyTally | None):
    """``predict`` followed by the projection of its block and the projection's own halo onto their observations,
    its misfits added to ``tally``."""
    ridge, halo = spectral_ridge(source), projection_halo(ratio)

    # Not functools.lru_cache: the projection goes to Dask's workers with the model (distributed.py), and a cache
    # of a local function cannot be pickled.
    models = OrderedDict()

    def observation_model(shape: tuple) -> consistency.ObservationModel:
        if shape in models:
            models.move_to_end(shape)
        else:
            models[shape] = consistency.ObservationModel.build(shape[0], shape[1], ratio, source.psf,
                                                               source.response)
            if len(models) > OBSERVATION_MODELS_KEPT:
                models.popitem(last=False)
        return models[shape]

    def adding_to(tally: ConsistencyTally | None):
        def projected_predict(lr_block, lr_valid, hr_block, hr_valid, centre=None, origin=None):
            fused = predict_window(predict, (lr_block, lr_valid, hr_block, hr_valid), centre, origin)
            rows, cols = projected_region(hr_block.shape[1:], centre, halo)
            shape = (rows.stop - rows.start, cols.stop - cols.start)
            whole = shape == hr_block.shape[1:]
            model = observation_model(shape)
            # The LR pixels the region covers whole (its origin lies on whole LR pixels: block origins and halos are
            # multiples of r); a region clipped by the raster edge has no partial ones.
            lr_rows = slice(rows.start // ratio, rows.start // ratio + shape[0] // ratio)
            lr_cols = slice(cols.start // ratio, cols.start // ratio + shape[1] // ratio)
            lr_block, lr_valid = lr_block[:, lr_rows, lr_cols], lr_valid[lr_rows, lr_cols]
            hr_block, hr_valid = hr_block[:, rows, cols], hr_valid[rows, cols]
            constrained = model.lr_pixels_made_from_valid(lr_valid, hr_valid)
            # The network's output and the region's copy are this block's own: the projection overwrites them.
            projected = consistency.project_and_measure(_region_of(fused, rows, cols), lr_block, constrained,
                                                        hr_block, hr_valid, model, spectral_ridge=ridge,
                                                        overwrite=True)
            if tally is not None:
                tally.add(projected, lr_block, constrained, hr_block, hr_valid)
            return projected.image if whole else WindowPart(projected.image, rows.start, cols.start, own=True)
        projected_predict.takes_centre = True
        if hasattr(predict, "held_per_column"):
            # A streamed network's rows held between blocks, for the trial that sizes them (tiling.working_memory).
            projected_predict.held_per_column = predict.held_per_column
        return projected_predict

    projected = adding_to(tally)
    if tally is not None:
        projected.tally = tally
        # For trials that size the blocks (tiling.working_memory): the same computation, kept out of the report.
        projected.trial = adding_to(None)
        # For blocks computed elsewhere (distributed.py): the same computation, counted in a tally of their own.
        projected.tallied = adding_to
    return projected


@dataclass
class Projection:
    """A prepared projection for one run: wraps a block ``predict`` and reports the consistency at the end."""

    source: ObservationSource
    ratio: int
    tally: ConsistencyTally = field(default_factory=ConsistencyTally)

    @property
    def extra_halo(self) -> int:
        return projection_halo(self.ratio)

    def wrap(self, predict):
        return projecting(predict, self.source, self.ratio, self.tally)

    def report(self, feedback: Feedback) -> None:
        feedback.info(f"Consistency with the inputs before the projection: {self.tally.relative('before').describe()}"
                      f"; after: {self.tally.relative('after').describe()}.")


def prepare_projection(projection: str, mtf_gain: float, lr, hr, pair, tags: dict, feedback: Feedback,
                       source: ObservationSource | None = None) -> Projection | None:
    """The run's :class:`Projection` (None for PROJECTION_NONE); the log and the raster's tags say what it assumes.
    ``source`` is the observation model when the run has estimated it already."""
    if projection == PROJECTION_NONE:
        return None
    if projection not in PROJECTION_CHOICES:
        raise ValueError(f"unknown projection {projection!r}; one of {PROJECTION_CHOICES}")
    source = source or observation_source(lr, hr, pair, mtf_gain=mtf_gain, feedback=feedback)
    feedback.info(f"Every block is projected onto both observations ({source.description}).")
    tags["hyperfuse_projection"] = f"onto both observations; {source.description}"
    return Projection(source, pair.ratio)
