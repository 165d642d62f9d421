"""Row streaming: a network evaluated strip by strip down the area, without recomputing its whole halo.

A tiled run recomputes around every block a halo as wide as the network's receptive field: SSJCN's 192² blocks
with their halo of 96 computed 3.4 times the pixels they wrote. Most of that halo is the depth of the network, not
of any one layer. A network that offers :class:`RowStage` s (``row_stages``) is instead run as a chain of steps,
each with a small radius, and a :class:`RowStream` keeps every step's output rows that the next strip down the same
columns reads again. Each strip then computes only its new rows, plus each step's own radius around them.

Every step computes its rows from its inputs' rows exactly (borders of the area included: a step's window that
starts or ends at the area's edge pads there as the whole image does), so a streamed run gives the whole image's
values, within float32 rounding (tests/test_streaming.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np
import torch

# The raw inputs a step may read: the LR-HSI and the HR-MSI, sliced from the window the tiling read.
LR, HR = "lr", "hr"


@dataclass(frozen=True)
class RowStage:
    """One step of a streamed network. ``run(*inputs)`` takes its ``inputs`` (names of earlier steps' outputs, or
    LR and HR) over the same HR rows, from a first row on a multiple of its alignment, and returns its
    ``outputs`` (a tuple, in that order) over those rows. Each output row is exact where the inputs are given
    ``radius`` HR rows beyond it on both sides, or up to the area's edge. ``step``, where not 0, is the step's own
    alignment, a divisor of the network's (by default the network's): a step without strided layers computes its
    rows from any first row, so that its radius is not rounded up to the network's alignment. A step that reads the
    LR-HSI keeps a multiple of the ratio."""

    outputs: tuple
    inputs: tuple
    radius: int
    run: Callable
    step: int = 0
    # A step that writes its one output itself: ``run(*inputs, into=OutputRows)`` puts the rows and columns the
    # stream keeps of what it computes into the tensor the stream gives it, and returns that tensor (a tuple).
    writes_into: bool = False


@dataclass(frozen=True)
class OutputRows:
    """Where a step that ``writes_into`` puts its output: the ``rows`` × ``cols`` of what it computes (its
    inputs' grid, a 'same'-padded result) from row ``row0`` and column ``col0``, into ``target(channels)``, a
    channels-last (N, channels, rows, cols) tensor whose memory may already hold the step's earlier rows above
    it. The stream would otherwise cut those rows and columns out and join them to the rows it holds: two copies
    of the output's bands, which a step that changes its result's layout anyway makes while it writes it."""

    row0: int
    col0: int
    rows: int
    cols: int
    target: Callable


def _round_up(value: int, step: int) -> int:
    return -(-value // step) * step


def _dense(rows: torch.Tensor) -> torch.Tensor:
    """``rows`` in memory of their own where they are some columns of a wider tensor: the convolutions that read
    them would each copy them, the wider tensor would stay alive while they are held, and padding them would give
    up their layout (channels last), which DeepSen3's up-sampling of the LR-HSI then restored at a cost of 0.9 s over
    a 1500 × 720 area."""
    if rows.is_contiguous() or rows.is_contiguous(memory_format=torch.channels_last):
        return rows
    return _rows_joined(rows)


def _rows_joined(*parts: torch.Tensor) -> torch.Tensor:
    """``parts`` (N, C, rows, cols), one under the other, in a tensor of their own; channels last where the first
    part's channels are innermost (some columns of a channels-last tensor too). Such a float32 result on the CPU
    lies in memory from NumPy, which asks the kernel for huge pages for large arrays: torch's fresh memory arrives
    4 KiB at a time, and joining 48 and 192 rows of 552 columns × 218 bands took 40–57 ms through ``torch.cat``,
    13–16 ms so."""
    first = parts[0]
    if (first.device.type != "cpu" or first.dtype != torch.float32 or first.stride(1) != 1 or first.shape[1] < 2
            or any(part.requires_grad for part in parts)):
        return torch.cat(parts, dim=2) if len(parts) > 1 else first.clone()
    batch, channels, _, cols = first.shape
    joined = _channels_last_rows(batch, channels, sum(part.shape[2] for part in parts), cols)
    row = 0
    for part in parts:
        joined[:, :, row:row + part.shape[2]].copy_(part)
        row += part.shape[2]
    return joined


def _channels_last_rows(batch: int, channels: int, rows: int, cols: int, like: torch.Tensor | None = None
                        ) -> torch.Tensor:
    """An uninitialised (batch, channels, rows, cols) tensor, channels last, on ``like``'s device with its type
    (by default float32 on the CPU); a float32 one on the CPU in memory from NumPy (:func:`_rows_joined` says
    why)."""
    if like is not None and (like.device.type != "cpu" or like.dtype != torch.float32):
        return torch.empty((batch, channels, rows, cols), dtype=like.dtype, device=like.device,
                           memory_format=torch.channels_last)
    return torch.from_numpy(np.empty((batch, rows, cols, channels), dtype=np.float32)).permute(0, 3, 1, 2)


class RowStream:
    """The rows each :class:`RowStage` has computed so far, down one column of blocks.

    ``stages`` run in order; the last one's first output is the network's. ``step`` is the network's alignment
    (every window a step computes starts on a multiple of it), ``ratio`` the LR pixel's size in HR pixels and
    ``area_rows`` the rows of the area. :meth:`rows` computes whatever a request needs that the stream does not
    hold yet, and lets go of what the next request will not need.
    """

    def __init__(self, stages: list, step: int, ratio: int, area_rows: int):
        self.stages = stages
        self.step, self.ratio, self.area_rows = step, ratio, area_rows
        self.steps = [stage.step or step for stage in stages]
        for stage, own in zip(stages, self.steps):
            if step % own or (LR in stage.inputs and own % ratio):
                raise ValueError(f"row stream: a step aligned on {own} HR rows in a network aligned on {step} at "
                                 f"ratio {ratio}")
        self.radii = [_round_up(stage.radius, own) for stage, own in zip(stages, self.steps)]
        self.key = None
        self.buffers = {}                   # output name → (first HR row, tensor (N, C, rows, cols))
        self.spans = {}                     # output name → (first, stop) columns of the window it holds
        self.reach = self._farthest_input()

    def _farthest_input(self) -> int:
        """HR rows of input beyond a request's rows that it can read: what :meth:`_reached` needs for one row at every
        phase of the alignment, far from the area's edges (the radii of the longest chain of steps, and the rounding
        of each step's rows to its alignment)."""
        period = math.lcm(*self.steps)
        far = _round_up(sum(self.radii) + sum(self.steps) + period, period)
        reach = 0
        for first in range(far, far + period):
            needed = self._afresh(first, first + 1, 2 * far + period)
            for low, high in (needed[name] for name in (LR, HR) if name in needed):
                reach = max(reach, first - low, high - first - 1)
        return reach

    def _needed(self, first: int, stop: int) -> dict:
        """name → (first, stop) HR rows of every output and input that rows ``first`` … ``stop`` of the network's
        output need, given the rows the stream holds: a step computes only the rows beyond those it holds
        (:meth:`_start`), and reads its inputs over them widened by its radius; rows rounded outwards to each
        step's alignment."""
        return self._reached(first, stop, self.area_rows, self._start)

    def _reached(self, first: int, stop: int, extent: int, start_of) -> dict:
        """name → (first, stop) of every output and input, along an axis of ``extent`` pixels, that ``first`` …
        ``stop`` of the network's output need: back from the last step, each step's outputs as far as its readers
        need them (rounded outwards to its alignment), computed from ``start_of(stage, low)``, and its inputs its
        radius further at each side; nothing beyond 0 and ``extent``."""
        needed = {self.stages[-1].outputs[0]: (first, stop)}
        for stage, radius, step in zip(reversed(self.stages), reversed(self.radii), reversed(self.steps)):
            spans = [needed[name] for name in stage.outputs if name in needed]
            if not spans:
                continue
            low = max(0, min(s for s, _ in spans) // step * step)
            high = min(extent, _round_up(max(t for _, t in spans), step))
            for name in stage.outputs:
                needed[name] = (low, high)
            start = start_of(stage, low)
            if start >= high:
                continue
            for name in stage.inputs:
                span = (max(0, start - radius), min(extent, high + radius))
                old = needed.get(name, span)
                needed[name] = (min(old[0], span[0]), max(old[1], span[1]))
        return needed

    def _start(self, stage: RowStage, low: int) -> int:
        """The first row ``stage`` computes when its outputs are needed from ``low``: after the rows it holds, where
        they reach that far."""
        held = self.buffers.get(stage.outputs[0])
        if held is None:
            return low
        end = held[0] + held[1].shape[2]
        return end if held[0] <= low <= end else low

    def _column_spans(self, first: int, stop: int, width: int) -> dict:
        """name → (first, stop) columns of a window ``width`` HR pixels wide that each step computes, for the
        network's output on columns ``first`` … ``stop``: each step's outputs as wide as its readers need them, its
        own radius less at each side than its inputs (no step holds columns from an earlier request)."""
        return self._afresh(first, stop, width)

    def _afresh(self, first: int, stop: int, extent: int) -> dict:
        """:meth:`_reached` where no step holds anything yet: each computes all it is asked for."""
        return self._reached(first, stop, extent, lambda stage, low: low)

    def rows(self, key, window: dict, top: int, first: int, stop: int, next_first: int | None = None,
             columns: tuple | None = None) -> torch.Tensor:
        """The network's output on HR rows ``first`` … ``stop`` of the area, over the ``columns`` (first, stop) of
        ``window`` (by default all): its LR and HR inputs (tensors whose first row is the area's HR row ``top``, on a
        multiple of the ratio, and whose first column lies on a multiple of the alignment). ``key`` names the
        columns: a stream holds rows of one column window at a time, and starts afresh for another one or for rows
        it no longer holds. ``next_first`` is where the next request will start: each step's rows that it will not
        need are let go of as soon as the last step that reads them has run (without it, the output's rows are all
        kept for the next request, and the other steps' rows that computing beyond them needs).

        Each step computes the columns its readers need and no more: at the sides of ``columns`` the steps' radii,
        which add up to the network's reach. Computed over the whole window, each of DeepSen3's steps had the whole
        reach at each side."""
        width = window[HR].shape[3]
        columns = (0, width) if columns is None else columns
        needed = self._needed(first, stop)
        if (key, columns) != self.key or any(name in self.buffers and self.buffers[name][0] > needed[name][0]
                                             for name in needed):
            self.key, self.buffers = (key, columns), {}
            self.spans = self._column_spans(*columns, width)
            needed = self._needed(first, stop)
        self._let_go(self._continuing(first, stop), list(self.buffers))
        following = first if next_first is None else next_first
        for index, (stage, radius) in enumerate(zip(self.stages, self.radii)):
            low, high = needed.get(stage.outputs[0], (0, 0))
            start = self._start(stage, low)
            if start < high:
                lo, hi = max(0, start - radius), min(self.area_rows, high + radius)
                left, right = self.spans[stage.outputs[0]]
                reads = (max(0, left - radius), min(width, right + radius))
                inputs = [self._input(name, window, top, (lo, hi), reads) for name in stage.inputs]
                if stage.writes_into:
                    self._run_into(stage, inputs, start, OutputRows(start - lo, left - reads[0], high - start,
                                                                    right - left, None))
                else:
                    results = stage.run(*inputs)
                    # The network's output is copied out by its caller: compacting it here would be one copy more
                    # of the output's bands at the peak.
                    compact = _dense if index < len(self.stages) - 1 else (lambda rows: rows)
                    for name, result in zip(stage.outputs, results):
                        self._append(name, start, compact(result[:, :, start - lo:high - lo,
                                                                 left - reads[0]:right - reads[0]]))
            self._let_go(self._continuing(following, stop), [name for name in stage.inputs
                                                             if self._last_reader(name) == index])
        first_row, output = self.buffers[self.stages[-1].outputs[0]]
        left = self.spans[self.stages[-1].outputs[0]][0]
        result = output[:, :, first - first_row:stop - first_row, columns[0] - left:columns[1] - left]
        self._let_go(self._continuing(following, stop), [self.stages[-1].outputs[0]])
        return result

    def _run_into(self, stage: RowStage, inputs: list, start: int, where: OutputRows) -> None:
        """Runs a step that ``writes_into``, from row ``start``: its rows go into a tensor whose first rows are those
        the stream holds of its output just above them, where there are such rows, and which it then holds."""
        name = stage.outputs[0]
        above = self._rows_just_above(name, start)
        kept = 0 if above is None else above.shape[2]
        made = []

        def target(channels: int) -> torch.Tensor:
            joined = _channels_last_rows(inputs[0].shape[0], channels, kept + where.rows, where.cols, inputs[0])
            if above is not None:
                joined[:, :, :kept].copy_(above)
            made.append(joined)
            return joined[:, :, kept:]

        stage.run(*inputs, into=replace(where, target=target))
        self.buffers[name] = (start - kept, made[0])

    def _continuing(self, first: int, stop: int) -> dict:
        """:meth:`_needed` for rows from ``first`` to beyond ``stop`` and beyond the rows the output holds: what the
        stream keeps for a request that goes on down the area."""
        held = self.buffers.get(self.stages[-1].outputs[0])
        end = stop if held is None else max(stop, held[0] + held[1].shape[2])
        return self._needed(first, end + self.step)

    def holds_memory_of(self, array) -> bool:
        """Whether ``array`` (a NumPy view of a tensor's memory) overlaps rows the stream holds: the rows
        :meth:`rows` returns may be the very rows it keeps for the next request."""
        low, high = np.byte_bounds(array)
        for _, held in self.buffers.values():
            storage = held.untyped_storage()
            if storage.data_ptr() < high and low < storage.data_ptr() + storage.nbytes():
                return True
        return False

    def held_bytes(self, next_first: int, stop: int) -> int:
        """Bytes of the rows the stream would keep, after a request that ended at ``stop``, for one that goes on
        from ``next_first`` down the area: what a column of blocks holds besides the block it computes."""
        needed = self._continuing(next_first, stop)
        return sum(held.element_size() * held[:, :, :1].numel() * (held.shape[2] - self._unneeded(name, needed))
                   for name, (_, held) in self.buffers.items())

    def _append(self, name: str, start: int, fresh: torch.Tensor) -> None:
        above = self._rows_just_above(name, start)
        self.buffers[name] = ((start, fresh) if above is None else
                              (start - above.shape[2], _rows_joined(above, fresh)))

    def _rows_just_above(self, name: str, start: int) -> torch.Tensor | None:
        """The rows the stream holds of output ``name`` where they end at row ``start``, which then join them."""
        held = self.buffers.get(name)
        return held[1] if held is not None and held[0] + held[1].shape[2] == start else None

    def _last_reader(self, name: str) -> int:
        return max(index for index, stage in enumerate(self.stages) if name in stage.inputs)

    def _let_go(self, needed: dict, names: list) -> None:
        """Keep of the outputs ``names`` only the rows from where ``needed`` (of a later request) starts: a copy of
        them, so that the rows let go of are freed."""
        for name in names:
            if name not in self.buffers:
                continue
            first_row, held = self.buffers[name]
            drop = self._unneeded(name, needed)
            if drop:
                self.buffers[name] = (first_row + drop, _rows_joined(held[:, :, drop:]))

    def _unneeded(self, name: str, needed: dict) -> int:
        """How many of the first rows ``name`` holds lie before where ``needed`` (of a later request) starts."""
        first_row, held = self.buffers[name]
        rows = held.shape[2]
        return min(rows, max(0, needed.get(name, (first_row + rows,))[0] - first_row))

    def _input(self, name: str, window: dict, top: int, rows: tuple, columns: tuple) -> torch.Tensor:
        """Input ``name`` over the area's HR ``rows`` (first, stop) and the window's ``columns`` (first, stop)."""
        (lo, hi), (left, right) = rows, columns
        if name in (LR, HR) and not top <= lo < hi <= top + window[HR].shape[2]:
            raise RuntimeError(f"row stream: a step needs HR rows {lo}–{hi}, the window holds "
                               f"{top}–{top + window[HR].shape[2]}")
        if name == LR:
            return _dense(window[LR][:, :, (lo - top) // self.ratio:-(-(hi - top) // self.ratio),
                                     left // self.ratio:-(-right // self.ratio)])
        if name == HR:
            return _dense(window[HR][:, :, lo - top:hi - top, left:right])
        first_row, held = self.buffers[name]
        first_column = self.spans[name][0]
        if lo < first_row or hi > first_row + held.shape[2] or left < first_column or \
                right > first_column + held.shape[3]:
            raise RuntimeError(f"row stream: {name} holds rows {first_row}–{first_row + held.shape[2]} and columns "
                               f"{first_column}–{first_column + held.shape[3]}, a step needs rows {lo}–{hi} and "
                               f"columns {left}–{right}")
        return held[:, :, lo - first_row:hi - first_row, left - first_column:right - first_column]
