"""A network's blocks computed by row streaming (nets/streaming.py) in a tiled run.

The tiled loop hands the blocks of one column of blocks down the area in turn (tiling.py, ``by_columns``); the
network's steps keep the rows the next block reads again, so a block computes its own rows and the steps' radii,
not the network's halo. The result is the whole image's, as with any block plan. A fusion streams its automatic
blocks (fusion.run_network), and a BLOCK_SIZE as wide as the area; the trial that sizes the blocks is then a first
block, which the first block of the run takes up, and it measures the rows the stream holds between blocks.
"""
from __future__ import annotations

from ...nets.streaming import HR, LR, RowStream
from ..training.trainer import fill_invalid
from .tiling import WindowPart
from .torch_support import network_input, network_output, require_torch


class StreamedPredict:
    """``predict(lr, lr_valid, hr, hr_valid, centre, origin)`` of a tiled run for a model whose network streams by
    rows. ``margin`` is how far beyond the block the caller reads the result (the projection's halo): the result is
    the :class:`~.tiling.WindowPart` of the block and that margin. Invalid pixels enter as the band means, as in
    whole blocks."""

    takes_centre = True

    def __init__(self, model, device, ratio: int, area_rows: int, margin: int):
        self.model, self.device, self.margin = model, device, margin
        self.stream = RowStream(model.row_stages(ratio), model.alignment(ratio), ratio, area_rows)
        self.fills = model.hs_mean.cpu().numpy(), model.ms_mean.cpu().numpy()
        self.requests = 0
        self._held_per_column = 0.0

    @property
    def halo(self) -> int:
        """HR pixels the tiling reads around a block: the margin and what the steps reach beyond it."""
        return self.stream.reach + self.margin

    @property
    def row_halo(self) -> int:
        """HR rows a streamed block computes above and below itself, for its memory and its cost: the projection's
        halo or the widest step's radius, whichever is wider. The rows the stream holds between blocks are charged
        apart (:meth:`held_per_column`); before they were, this was the sum of the two, which stood in for them."""
        return max(self.margin, max(self.stream.radii))

    def held_per_column(self) -> float:
        """Bytes per HR column of a window that the stream holds between two blocks down a column (the rows the next
        block reads again), as its first request (the trial that sizes the blocks) left them; 0 before it."""
        return self._held_per_column

    def __call__(self, lr, lr_valid, hr, hr_valid, centre=None, origin=None):
        if centre is None or origin is None:
            raise ValueError("a streamed block needs its centre and its window's origin (tiling.predict_window)")
        torch = require_torch()
        lr_t = network_input(fill_invalid(lr, lr_valid, self.fills[0]), self.device)
        hr_t = network_input(fill_invalid(hr, hr_valid, self.fills[1]), self.device)
        with torch.inference_mode():
            top, left = origin
            cols = hr.shape[2]
            block_first, block_stop = top + centre[0], top + centre[0] + centre[2]
            first = max(0, block_first - self.margin)
            stop = min(self.stream.area_rows, block_stop + self.margin)
            lr_s, hr_s = self.model.standardised(lr_t, hr_t)
            # The first request keeps its output rows for the next: the trial that sizes the blocks (tiling.py
            # working_memory) computes a first strip of the area, which the first block then takes up.
            left_col, right_col = max(0, centre[1] - self.margin), min(cols, centre[1] + centre[3] + self.margin)
            fused = self.stream.rows((left, cols), {LR: lr_s, HR: hr_s}, top, first, stop,
                                     next_first=block_stop - self.margin if self.requests else None,
                                     columns=(left_col, right_col))
            if not self.requests:
                self._held_per_column = self.stream.held_bytes(block_stop - self.margin, stop) / cols
            self.requests += 1
            part = network_output(fused, bands_innermost=True)
            if self.stream.holds_memory_of(part):
                # The projection overwrites the part in place, and the stream keeps some of its rows for the next
                # block.
                part = part.copy(order="K")
        return WindowPart(part, first - top, left_col, own=True)
