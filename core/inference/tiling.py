"""Windowed block processing of an aligned LR/HR pair.

The HR common area is cut into blocks whose size and origin are multiples of r, so every
block maps onto whole LR pixels. Each block is read with a halo of at least the method's
receptive field (rounded up to whole LR pixels) and clipped at the raster edge; only the
centre is written. Because the halo covers everything that influences the centre, and
the edge is treated exactly as in a whole-image run, the tiled result equals whole-image
inference. Peak memory depends on the block size, never on the raster size.
"""
from __future__ import annotations

import contextlib
import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from ..errors import UserInputError
from ..feedback import Feedback
from ..protocol.grids import GridPair
from ..storage.raster_io import RasterInfo, rasters_kept_open, read_block
from .memory import WorkingMemory, available_memory, own_status, peak_bytes_during, release_freed_memory

AUTO_BLOCK_SIZE = 0                 # BLOCK_SIZE 0: chosen from the available memory (automatic_block_size)
DEFAULT_BLOCK_SIZE = AUTO_BLOCK_SIZE
MIN_BLOCK_SIZE, MAX_BLOCK_SIZE = 16, 16384
# What the automatic size lets one block take (its working memory as measured, memory.py): this, or a quarter of
# the available memory when that is less. Besides its block, a run adds GDAL's cache (capped at 256 MB while it
# runs) and the model to the process: with 1 GiB, bicubic and GLP at 1500² × 100 bands peaked at 2.0 and 2.15 GB.
BLOCK_MEMORY_BYTES = 768 * 2 ** 20
MAX_AUTOMATIC_BLOCK_SIZE = 2048
# How much memory a network's run holds between blocks for the next block to reuse, in blocks' budgets above the
# resident size at its start (run_tiled's ``retained_budgets``). Freed memory that glibc keeps settles, block after
# block, at about 1.1 GB above the start of a 1500² × 218-band DeepSen3 fusion (each thread's arena keeps its own);
# handing it back after every block made that run take 42–48 s instead of 40–41 s, in fresh memory that the kernel
# zeroes page by page. Classical methods and MHF-net (nets/mhfnet.py) hand it back after every block.
RETAINED_BUDGETS = 1.25
# What is kept still creeps up, in steps, over hundreds of blocks (fragments that no block quite fits), so a long run
# peaked higher than a short one: SSJCN's generic model at 6000² × 100 bands 1.90 GB, at 1500² 1.44 GB. After its
# first SETTLING_BLOCKS blocks a run keeps at most CREEP_BUDGETS budgets more than it then holds, which bounds the
# peak by what the first blocks take, whatever the raster's size (docs/performance.md, "Full scenes in bounded
# memory"). A 1500² × 218-band DeepSen3 run has settled by then (1.57 GB after 4 blocks, its limit from the start
# 1.78 GB); SSJCN's at 100 bands held 1.03 GB after 4 blocks, 1.36 GB after 49 and 1.66 GB after a few hundred.
SETTLING_BLOCKS = 4
CREEP_BUDGETS = 0.25
# The automatic size measures the working memory on a trial window of about this side (HR pixels, halo included):
# large enough that buffers of fixed size weigh little in it, small enough to cost a fraction of a block.
TRIAL_SIDE = 256
# A streamed network's trial may be a strip of up to this many HR pixels (working_memory): a trial strip of 1500 ×
# 168 HR pixels (SSJCN, halo 120) took SSJCN's run at 1500² × 218 bands to a peak of 1.92 GiB. At 1.5 × 256², SSJCN's
# trial at 600 wide was a 216² square (its strip, 600 × 168, is 100 800 pixels), which measured 4.1 to 5.2 KiB per
# pixel from run to run and gave strips of 96 to 192 rows; its strip measures steadily.
TRIAL_STRIP_PIXELS = 2 * TRIAL_SIDE ** 2


def _block_budget(available: int | None) -> int:
    """What the automatic size lets one block take: BLOCK_MEMORY_BYTES, or a quarter of ``available`` if less."""
    return BLOCK_MEMORY_BYTES if available is None else min(BLOCK_MEMORY_BYTES, available // 4)


def _largest_square(memory: WorkingMemory, halo: int, budget: float, row_halo: int | None = None) -> int:
    """The side s whose block takes ``budget``: (s + 2·row_halo)(s + 2·halo) per computed pixel (``row_halo``, by
    default ``halo``, above and below), s² per written pixel and s + 2·halo columns held (a streamed network's)."""
    w, b, held = memory.per_window_pixel, memory.per_block_pixel, memory.per_held_column
    row_halo = halo if row_halo is None else row_halo
    # (w + b) s² + (2 (h + g) w + H) s + 4 h g w + 2 h H − budget = 0
    a, half_b = w + b, (halo + row_halo) * w + held / 2
    c = 4 * halo * row_halo * w + 2 * halo * held - budget
    return int((-half_b + math.sqrt(max(half_b * half_b - a * c, 0.0))) / a)


def _rows_fitting(memory: WorkingMemory, block_cols: int, window_cols: int, row_halo: int, budget: float) -> int:
    """The most rows of a block ``block_cols`` wide whose window, ``window_cols`` wide and ``row_halo`` rows higher
    above and below, fits ``budget``."""
    per_row = window_cols * memory.per_window_pixel + block_cols * memory.per_block_pixel
    fixed = window_cols * (2 * row_halo * memory.per_window_pixel + memory.per_held_column)
    return int((budget - fixed) / per_row)


def automatic_block_size(memory: WorkingMemory, halo: int, step: int, available: int | None,
                         extent: int | None = None, row_halo: int | None = None) -> int:
    """The largest block (a multiple of ``step`` and of 16) whose working ``memory`` with its halo fits the budget:
    blocks as large as memory allows, because every block recomputes its halo. With ``extent`` (the longer side
    of the area, HR pixels) the blocks then share it evenly: 600 pixels in blocks of 288 leave a last block of
    24 that recomputes six times its own width of halo; in blocks of 240 the last is 120. A ``row_halo`` is what
    the blocks compute above and below themselves where that is less than ``halo`` (row streaming)."""
    # A multiple of 16 too, so that the output's tiles can be the blocks (RasterWriter's tile_size).
    unit = math.lcm(step, 16)
    side = _largest_square(memory, halo, _block_budget(available), row_halo)
    side = max(unit, min(max(side, 64), MAX_AUTOMATIC_BLOCK_SIZE) // unit * unit)
    # A block narrower than twice its halo computes over four times the pixels it keeps: MHF-net (halo 111 with the
    # projection) on 48² blocks took 444 s for 600² × 218 bands, on 528² blocks 38 s. Such a block grows to twice
    # the halo where a quarter of the available memory holds it. Not a streamed block, which recomputes less above
    # and below: SSJCN's 1500² × 218-band run so grown to 240² columns peaked at 1.80 GiB.
    wide = math.ceil(2 * halo / unit) * unit
    computed_whole = row_halo is None or row_halo >= halo
    if side < wide and computed_whole and (available is None or
                                           memory.bytes_for((wide + 2 * halo) ** 2, wide ** 2) <= available // 4):
        side = wide
    if extent:
        side = _shared_evenly(extent, side, unit)
    return side


def _shared_evenly(extent: int, side: int, unit: int) -> int:
    """The smallest multiple of ``unit`` that covers ``extent`` in as few pieces as ``side`` does."""
    count = math.ceil(extent / side)
    return min(side, math.ceil(extent / count / unit) * unit)


def automatic_block_shape(memory: WorkingMemory, halo: int, step: int, available: int | None, area: tuple,
                          largest_window: int | None = None, row_halo: int | None = None, *,
                          share_evenly: bool = True) -> tuple:
    """(rows, cols) of the blocks over an ``area`` of (rows, cols) HR pixels that recompute the fewest pixels: the
    square blocks of :func:`automatic_block_size`, or strips the full width of the area where one with its halo
    above and below fits the same budget. A strip has no halo at its sides: MHF-net with the projection (halo 87)
    on 600² × 218 bands computes 2.5 times the area in 240² blocks and 2.06 times in strips of 600 × 144. With
    ``largest_window`` no block with its halo has more HR pixels than that (a whole-image method's limit). A
    ``row_halo`` is what the blocks compute above and below themselves, where that is less than ``halo``. Without
    ``share_evenly`` the blocks keep the size the budget gives them, the last ones what is left (see
    ``tiled_to_file``'s callers)."""
    rows, cols = area
    row_halo = halo if row_halo is None else row_halo
    side = automatic_block_size(memory, halo, step, available, max(area) if share_evenly else None, row_halo)
    unit = math.lcm(step, 16)
    if largest_window:
        side = max(unit, min(side, (math.isqrt(largest_window) - 2 * halo) // unit * unit))
    shapes = [(side, side)]
    strip_rows = _rows_fitting(memory, cols, cols, row_halo, _block_budget(available))
    if largest_window:
        strip_rows = min(strip_rows, largest_window // cols - 2 * halo)
    if strip_rows >= unit and cols <= MAX_BLOCK_SIZE:
        strip_rows = min(strip_rows, MAX_AUTOMATIC_BLOCK_SIZE) // unit * unit
        strip_rows = _shared_evenly(rows, strip_rows, unit) if share_evenly else strip_rows
        shapes.append((strip_rows, math.ceil(cols / step) * step))
    if row_halo < halo:
        shapes += _streamed_columns(memory, halo, unit, available, area, row_halo)
    return min(shapes, key=lambda shape: computed_pixels(area, shape, halo, step, row_halo))


def _streamed_columns(memory: WorkingMemory, halo: int, unit: int, available: int | None, area: tuple,
                      row_halo: int) -> list:
    """Blocks wider than high, two to four to the width of the ``area``, for a network streamed down each column of
    blocks: below and above a block it computes ``row_halo`` rows, at its sides the whole ``halo``, so a wide
    block recomputes less than a square in the same memory (DeepSen3 at 1500² × 218 bands, a halo of 60 and 24 rows
    above and below: squares of 288² compute 1.62 times the area, blocks of 240 × 384 1.48 times)."""
    rows, cols = area
    shapes = []
    for count in range(2, 5):
        block_cols = math.ceil(cols / count / unit) * unit
        block_rows = _rows_fitting(memory, block_cols, min(cols, block_cols + 2 * halo), row_halo,
                                   _block_budget(available))
        if unit <= block_rows and block_cols < cols:
            shapes.append((_shared_evenly(rows, min(block_rows, MAX_AUTOMATIC_BLOCK_SIZE) // unit * unit, unit),
                           block_cols))
    return shapes


def working_memory(reader: PairReader, predict, halo: int, step: int, available: int | None,
                   streamed: bool = False) -> WorkingMemory:
    """The working memory of ``predict``'s blocks: measured on a trial window of about TRIAL_SIDE² HR pixels at the
    area's corner (:func:`~.memory.peak_bytes_during`), unless the rule of thumb finds the whole area fits the
    budget twice over, and then the trial would cost as much as the run. A ``predict`` that keeps statistics of
    the blocks it computes (the projection's consistency) offers a ``trial`` version that keeps none. A
    ``streamed`` network's trial is a strip the width of the area where that is at most TRIAL_STRIP_PIXELS: the
    first strip then takes up the rows the trial computed (streamed.py), which costs the run nothing."""
    estimate = WorkingMemory.estimated(reader.bands)
    area = tuple(reader.pair.hr_shape)
    if predict is None or 2 * estimate.bytes_for(area[0] * area[1], 0) <= _block_budget(available):
        return estimate
    unit = math.lcm(step, 16)
    side = max(unit, (TRIAL_SIDE - halo) // unit * unit)
    block = (0, 0, min(side, area[0]), min(side, area[1]))     # at the corner: its window starts where it does
    strip_rows = max(unit, (TRIAL_SIDE ** 2 // area[1] - halo) // unit * unit)
    if streamed and (strip_rows + halo) * area[1] <= TRIAL_STRIP_PIXELS:
        block = (0, 0, min(strip_rows, area[0]), area[1])
    top, left, rows, cols = window_of(block, halo, area)
    inputs = reader.read(top, left, rows, cols)
    fused, peak = peak_bytes_during(lambda: predict_window(getattr(predict, "trial", predict), inputs, block,
                                                           (top, left)))
    if peak is None:
        return estimate
    held = getattr(predict, "held_per_column", None)
    return WorkingMemory.measured(peak, rows * cols, result_bands(fused), held() if held else 0.0)


@dataclass(frozen=True)
class WindowPart:
    """A ``predict``'s result over part of its window: ``values`` (bands, rows, cols) from the window's row ``row0``
    and column ``col0``. The projection returns the block and its own halo this way, and a streamed network the
    same part: the rest of the window was never computed, and copying the part into a window-sized array cost a
    1500² × 218-band DeepSen3 run about 3 s."""

    values: np.ndarray
    row0: int
    col0: int
    # Whether ``values`` is this block's alone (nothing else holds or reuses its memory): the block's centre then
    # goes to the writer as a view of it, without a copy (BlockPlan.centre).
    own: bool = False

    def covers(self, rows: slice, cols: slice) -> bool:
        """Whether the part holds the window's ``rows`` and ``cols`` (slices with a start and a stop)."""
        return (self.row0 <= rows.start and rows.stop <= self.row0 + self.values.shape[1]
                and self.col0 <= cols.start and cols.stop <= self.col0 + self.values.shape[2])

    def cut(self, rows: slice, cols: slice) -> np.ndarray:
        """The window's ``rows`` and ``cols`` of the part (a view)."""
        if not self.covers(rows, cols):
            raise ValueError(f"window rows {rows.start}–{rows.stop}, columns {cols.start}–{cols.stop} lie outside "
                             f"the part computed from row {self.row0}, column {self.col0}, of {self.values.shape[1:]}")
        return self.values[:, rows.start - self.row0:rows.stop - self.row0,
                           cols.start - self.col0:cols.stop - self.col0]


def result_bands(result) -> int:
    """The bands of a ``predict``'s result: a window-sized array or a :class:`WindowPart`."""
    return (result.values if isinstance(result, WindowPart) else result).shape[0]


def predict_window(predict, inputs: tuple, centre: tuple, origin: tuple | None = None):
    """``predict`` on a window's ``inputs`` (lr, lr_valid, hr, hr_valid): a (bands, rows, cols) array of the window,
    or a :class:`WindowPart` of it. A ``predict`` that spares work outside the block it keeps declares
    ``takes_centre`` and is told where the block lies in the window, as (row0, col0, rows, cols), and where the
    window lies in the area (``origin``, its top and left HR pixel): the projection projects the block and its own
    halo, not the network's halo around them, and a streamed network (streamed.py) computes only the rows the blocks
    above it have not."""
    if getattr(predict, "takes_centre", False):
        return predict(*inputs, centre=centre, origin=origin)
    return predict(*inputs)


def computed_pixels(area: tuple, shape: tuple, halo: int, step: int, row_halo: int | None = None) -> int:
    """HR pixels that blocks of ``shape`` compute over an ``area``, halos included (``row_halo`` above and below
    where the blocks compute less there than ``halo``)."""
    row_halo = halo if row_halo is None else row_halo
    return sum(window_of(block, row_halo, area)[2] * window_of(block, halo, area)[3]
               for block in aligned_blocks(*area, shape, step))


def window_of(block: tuple, halo: int, area: tuple) -> tuple:
    """(top, left, rows, cols) that a block (row0, col0, rows, cols) reads: itself and its halo, inside the area."""
    row0, col0, nrows, ncols = block
    top, left = max(0, row0 - halo), max(0, col0 - halo)
    return top, left, min(area[0], row0 + nrows + halo) - top, min(area[1], col0 + ncols + halo) - left


def block_geometry(reader: PairReader, receptive_field: int, block_size, alignment: int | None,
                   feedback: Feedback, predict=None, largest_window: int | None = None,
                   row_halo: int | None = None, *, share_evenly: bool = True) -> tuple:
    """((block rows, block cols), halo, step) of a tiled run: blocks and halo multiples of ``step``. A
    ``block_size`` is a side (square blocks) or a (rows, cols) shape; AUTO_BLOCK_SIZE becomes
    :func:`automatic_block_shape` for the :func:`working_memory` of ``predict``, ``largest_window``, a
    ``row_halo`` (a streamed network's, streamed.py) and ``share_evenly`` (and the log says so)."""
    step = math.lcm(reader.pair.ratio, alignment or reader.pair.ratio)
    halo = aligned_halo(receptive_field, step)
    if block_size == AUTO_BLOCK_SIZE:
        available = available_memory()
        memory = working_memory(reader, predict, halo, step, available, streamed=row_halo is not None)
        rows, cols = automatic_block_shape(memory, halo, step, available, tuple(reader.pair.hr_shape),
                                           largest_window, row_halo, share_evenly=share_evenly)
        strips = " (strips the width of the area)" if cols >= reader.pair.hr_shape[1] and rows != cols else ""
        streamed = ("" if row_halo is None else
                    f", streamed down each column of blocks (at most {row_halo} rows recomputed above and below)")
        feedback.info(f"Blocks of {min(cols, reader.pair.hr_shape[1])} × {rows} HR pixels{strips} with a halo of "
                      f"{halo}{streamed}, chosen from the available memory and the working memory, "
                      f"{memory.describe()} (BLOCK_SIZE 0).")
        return (rows, cols), halo, step
    shape = tuple(block_size) if isinstance(block_size, tuple) else (block_size, block_size)
    if largest_window:
        area = tuple(reader.pair.hr_shape)
        largest = max(rows * cols for _, _, rows, cols in (window_of(block, halo, area)
                                                           for block in aligned_blocks(*area, shape, step)))
        if largest > largest_window:
            raise UserInputError(f"BLOCK_SIZE {block_size} gives blocks of up to {largest:,} HR pixels with their halo "
                                 f"of {halo}, and this method fuses at most {largest_window:,} at once. Set BLOCK_SIZE "
                                 "to 0, which sizes the blocks to fit, or lower it.")
    return shape, halo, step


def aligned_blocks(rows: int, cols: int, shape: tuple, step: int) -> Iterator[tuple]:
    """(row0, col0, rows, cols) blocks of ``shape`` (rows, cols) covering ``rows × cols`` with edges on multiples
    of ``step``."""
    for block in shape:
        if not 1 <= block <= MAX_BLOCK_SIZE:
            # 0 (automatic) is resolved before this point (block_geometry); what is left is a mistake.
            raise UserInputError(f"BLOCK_SIZE is {block}; it must be 0 (chosen from the available memory, the "
                                 f"default) or lie between {MIN_BLOCK_SIZE} and {MAX_BLOCK_SIZE} HR pixels.")
    block_rows, block_cols = (max(step, (block // step) * step) for block in shape)
    for row0 in range(0, rows, block_rows):
        for col0 in range(0, cols, block_cols):
            yield row0, col0, min(block_rows, rows - row0), min(block_cols, cols - col0)


def aligned_halo(receptive_field: int, step: int) -> int:
    return int(math.ceil(receptive_field / step)) * step


class PairReader:
    """Reads matching windows of an aligned pair, in HR coordinates of the common area."""

    def __init__(self, lr: RasterInfo, hr: RasterInfo, pair: GridPair, lr_bands=None, hr_bands=None):
        self.lr, self.hr, self.pair = lr, hr, pair
        self.lr_bands = lr.good_bands if lr_bands is None else lr_bands
        self.hr_bands = hr.good_bands if hr_bands is None else hr_bands

    @property
    def bands(self) -> int:
        return len(self.lr_bands) + len(self.hr_bands)

    def read(self, row0: int, col0: int, rows: int, cols: int):
        r = self.pair.ratio
        lr_row0, lr_col0 = self.pair.lr_window[:2]
        hr_row0, hr_col0 = self.pair.hr_window[:2]
        lr, lr_valid = read_block(self.lr, lr_row0 + row0 // r, lr_col0 + col0 // r, rows // r, cols // r,
                                  self.lr_bands)
        hr, hr_valid = read_block(self.hr, hr_row0 + row0, hr_col0 + col0, rows, cols, self.hr_bands)
        return lr, lr_valid, hr, hr_valid


def lr_mask_on_hr(lr_valid: np.ndarray, ratio: int) -> np.ndarray:
    return np.repeat(np.repeat(lr_valid, ratio, axis=0), ratio, axis=1)


Predict = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]
Sink = Callable[[np.ndarray, np.ndarray, int, int], None]


@dataclass
class TilingStats:
    """Where a tiled run's time went: seconds spent reading and writing (in their own threads, so mostly hidden
    behind the computation) and seconds the computation waited for them, closing the output included."""

    reading: float = 0.0
    writing: float = 0.0
    waiting: float = 0.0
    # The run's geometry: block (rows, cols) and halo (HR pixels), and the HR pixels of the largest window read (a
    # block with its halo), which sets the computation's working memory.
    block_shape: tuple = (0, 0)
    halo: int = 0
    largest_window: int = 0
    # On a Dask cluster (distributed.py): what its blocks cost (a BlockCosts).
    cluster: object = None

    def timed(self, field_name: str, function):
        def run(*args):
            started = time.perf_counter()
            try:
                return function(*args)
            finally:
                setattr(self, field_name, getattr(self, field_name) + time.perf_counter() - started)
        return run

    def add_closing(self, seconds: float) -> None:
        """Closing the output flushes what GDAL's cache still holds, while nothing else runs."""
        self.writing += seconds
        self.waiting += seconds

    def describe(self, wall_seconds: float) -> str:
        share = 100 * self.waiting / wall_seconds if wall_seconds > 0 else 0.0
        return (f"Raster IO: {self.reading:.1f} s reading and {self.writing:.1f} s writing, in threads alongside the "
                f"computation, which waited {self.waiting:.1f} s for them ({share:.0f} % of {wall_seconds:.1f} s).")


@dataclass(frozen=True)
class BlockPlan:
    """The blocks of a tiled run over an ``area`` of (rows, cols) HR pixels: their ``shape``, the ``halo`` each
    reads around itself and the ``step`` their edges lie on. In-process (:func:`run_tiled`) and on a cluster
    (core/inference/distributed.py) a run cuts the same blocks, so both give the same result."""

    area: tuple
    shape: tuple
    halo: int
    step: int
    ratio: int
    # Down each column of blocks in turn, for a streamed network (streamed.py); else along each row of blocks.
    by_columns: bool = False

    @property
    def blocks(self) -> list:
        blocks = list(aligned_blocks(*self.area, self.shape, self.step))
        return sorted(blocks, key=lambda block: (block[1], block[0])) if self.by_columns else blocks

    def window(self, block: tuple) -> tuple:
        return window_of(block, self.halo, self.area)

    def predict(self, predict, block: tuple, inputs: tuple) -> np.ndarray:
        """``predict`` on ``block``'s window ``inputs`` (:func:`predict_window`)."""
        top, left = self.window(block)[:2]
        return predict_window(predict, inputs, (block[0] - top, block[1] - left, block[2], block[3]), (top, left))

    def centre(self, block: tuple, fused, lr_valid: np.ndarray, hr_valid: np.ndarray) -> tuple:
        """(values, valid) of ``block`` in its window's result (an array of the window or a :class:`WindowPart`):
        values of the sink's own, which it may overwrite (nodata marked in place): a view of a part that is the
        block's ``own`` (a streamed network's, or a projected part: the block and the projection's halo), else a
        copy, so that the window's result can be freed before the next block is computed. A pixel is valid when it
        is valid in the HR-MSI and in the LR pixel that covers it."""
        row0, col0, nrows, ncols = block
        top, left = self.window(block)[:2]
        centre = (slice(row0 - top, row0 - top + nrows), slice(col0 - left, col0 - left + ncols))
        valid = (hr_valid & lr_mask_on_hr(lr_valid, self.ratio))[centre]
        values = fused.cut(*centre) if isinstance(fused, WindowPart) else fused[(slice(None),) + centre]
        if isinstance(fused, WindowPart) and fused.own:
            # Not copied: a copy of DeepSen3's 1500² × 218-band result, block by block, took 2.3–2.8 s.
            return values, valid
        return values.copy(order="K"), valid     # in the layout it has (core.layout.bands_innermost)


def plan_blocks(reader: PairReader, receptive_field: int, block_size, alignment: int | None,
                feedback: Feedback, stats: TilingStats | None = None, by_columns: bool = False) -> BlockPlan:
    """The :class:`BlockPlan` of a run (an automatic ``block_size`` resolved by :func:`block_geometry`); ``stats``
    records its geometry."""
    shape, halo, step = block_geometry(reader, receptive_field, block_size, alignment, feedback)
    plan = BlockPlan(tuple(reader.pair.hr_shape), tuple(shape), halo, step, reader.pair.ratio, by_columns)
    if stats is not None:
        stats.block_shape, stats.halo = plan.shape, halo
        stats.largest_window = max(rows * cols for _, _, rows, cols in map(plan.window, plan.blocks))
    return plan


@contextlib.contextmanager
def kept_open_in(executor: ThreadPoolExecutor):
    """Rasters opened in ``executor``'s one thread stay open until the block ends (:func:`rasters_kept_open` there).

    GDAL forgets the tiles it decoded when a dataset closes, and a block's window rarely holds whole tiles: with
    the inputs opened anew for every block, a pixel-interleaved 256² tile of 218 bands (57 MB decoded) was inflated
    again for each block that touched it, about 26 s of the reader thread's CPU on a 1500² fusion."""
    stack = contextlib.ExitStack()
    executor.submit(stack.enter_context, rasters_kept_open()).result()
    try:
        yield
    finally:
        executor.submit(stack.close).result()


class FreedMemoryLimit:
    """When a tiled run hands freed memory back to the system after a block (release_freed_memory): once the
    resident size exceeds the run's start plus ``retained_budgets`` blocks' budgets, and, from its SETTLING_BLOCKS-th
    block on, what it held after that block plus CREEP_BUDGETS budgets if that is less. ``retained_budgets`` 0, or
    a system that does not report the resident size: after every block."""

    def __init__(self, retained_budgets: float):
        self.budget = _block_budget(available_memory())
        start = own_status("VmRSS:") if retained_budgets > 0 else None
        self.limit = None if start is None else start + retained_budgets * self.budget
        self.blocks = 0

    def after_block(self) -> None:
        self.blocks += 1
        if self.limit is not None and self.blocks == SETTLING_BLOCKS:
            settled = own_status("VmRSS:")
            if settled is not None:
                self.limit = min(self.limit, settled + CREEP_BUDGETS * self.budget)
        release_freed_memory(above=self.limit)


def run_tiled(reader: PairReader, predict: Predict, sink: Sink, receptive_field: int,
              block_size: int, feedback: Feedback, alignment: int | None = None,
              stats: TilingStats | None = None, *, by_columns: bool = False, retained_budgets: float = 0.0) -> int:
    """Apply ``predict(lr, lr_valid, hr, hr_valid) -> (S, H, W)`` block by block.

    ``sink(values, valid, row0, col0)`` receives each block's centre (values of its own, which it may overwrite) and
    its validity (:meth:`BlockPlan.centre`). Block origins and halos are multiples of ``alignment`` (HR pixels; a
    multiple of r that strided layers may need), so every block sees the same pixel phases as a whole-image run.
    Returns the number of blocks.

    Reading the next block and writing the previous one run in two threads while ``predict`` computes (GDAL
    releases the interpreter while it decodes and compresses), so raster IO hides behind the computation. At
    most three blocks are in memory: one read ahead, one computed, one being written. A reader whose ``read``
    keeps state for ``predict`` says so with ``prefetch = False``. ``stats`` collects the IO times;
    :func:`block_geometry` resolves an automatic ``block_size``. ``by_columns`` takes the blocks down each column of
    blocks in turn (a streamed network's ``predict``, streamed.py). Freed memory is handed back to the system after
    each block once the resident size exceeds a limit (:class:`FreedMemoryLimit`; ``retained_budgets`` 0: after every
    block).
    """
    stats = stats or TilingStats()
    plan = plan_blocks(reader, receptive_field, block_size, alignment, feedback, stats, by_columns)
    blocks = plan.blocks
    read = stats.timed("reading", lambda index: reader.read(*plan.window(blocks[index])))
    sink, wait = stats.timed("writing", sink), stats.timed("waiting", lambda future: future.result())

    prefetch = getattr(reader, "prefetch", True)
    freed_memory = FreedMemoryLimit(retained_budgets)
    with ThreadPoolExecutor(1, "hyperfuse-read") as reading, ThreadPoolExecutor(1, "hyperfuse-write") as writing, \
            rasters_kept_open(), kept_open_in(reading):
        ahead, written = (reading.submit(read, 0) if prefetch else None), None
        for index, block in enumerate(blocks):
            feedback.check_cancelled()
            lr, lr_valid, hr, hr_valid = wait(ahead) if prefetch else read(index)
            if prefetch and index + 1 < len(blocks):
                ahead = reading.submit(read, index + 1)
            values, valid = plan.centre(block, plan.predict(predict, block, (lr, lr_valid, hr, hr_valid)), lr_valid,
                                        hr_valid)
            if written is not None:
                wait(written)           # a failed write stops the run here, and one block waits at most
            written = writing.submit(sink, values, valid, *block[:2])
            del values, lr, hr
            freed_memory.after_block()
            feedback.progress((index + 1) / len(blocks))
        if written is not None:
            wait(written)
    return len(blocks)
