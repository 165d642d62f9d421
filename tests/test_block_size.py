"""BLOCK_SIZE 0: the block is sized from the available memory and the working memory (core/inference/tiling.py)."""
from __future__ import annotations

import math
import os
from types import SimpleNamespace

import numpy as np
import pytest

from hyperfuse.core.inference.memory import WorkingMemory, available_memory, peak_bytes_during
from hyperfuse.core.inference.tiling import (BLOCK_MEMORY_BYTES, MAX_AUTOMATIC_BLOCK_SIZE, aligned_blocks,
                                             automatic_block_shape, automatic_block_size, computed_pixels,
                                             window_of, working_memory)
from hyperfuse.core.storage.raster_io import MAX_TILE_BYTES, output_tiles

GIB = 2 ** 30
# The examples below are real cases worked out with the rule of thumb (WORKING_IMAGES images of the bands per
# computed pixel) and a budget of 1 GiB; scaling the rule by the budget keeps them whatever BLOCK_MEMORY_BYTES is.
SCALE = BLOCK_MEMORY_BYTES / GIB


def _rule(bands: int) -> WorkingMemory:
    return WorkingMemory(WorkingMemory.estimated(bands).per_window_pixel * SCALE)


def _working_bytes(side: int, halo: int, bands: int) -> float:
    return _rule(bands).bytes_for((side + 2 * halo) ** 2, side ** 2)


@pytest.mark.parametrize("bands, halo, step", [(222, 39, 3), (104, 39, 3), (30, 12, 4), (222, 21, 5)])
def test_the_automatic_block_is_the_largest_that_fits_the_budget_and_the_output_tiles(bands, halo, step):
    side = automatic_block_size(_rule(bands), halo, step, available=64 * GIB)
    unit = math.lcm(step, 16)
    assert side % unit == 0
    assert _working_bytes(side, halo, bands) <= BLOCK_MEMORY_BYTES
    assert _working_bytes(side + unit, halo, bands) > BLOCK_MEMORY_BYTES or side + unit > MAX_AUTOMATIC_BLOCK_SIZE


def test_less_memory_gives_smaller_blocks():
    roomy = automatic_block_size(_rule(222), 39, 3, available=64 * GIB)
    tight = automatic_block_size(_rule(222), 39, 3, available=1 * GIB)
    assert tight < roomy
    assert _working_bytes(tight, 39, 222) <= GIB // 4 or tight == 48     # 48: the smallest block at ratio 3


def test_a_wide_halo_gets_blocks_twice_as_wide_where_memory_allows():
    assert automatic_block_size(_rule(222), 111, 3, available=64 * GIB) >= 222
    assert automatic_block_size(_rule(222), 111, 3, available=2 * GIB) < 222


def test_available_memory_is_known_here():
    available = available_memory()
    assert available is not None and available > 0


@pytest.mark.parametrize("halo, extent", [(72, 600), (39, 600), (39, 1000), (39, 6000)])
def test_blocks_share_the_area_evenly_in_as_few_blocks(halo, extent):
    largest = automatic_block_size(_rule(222), halo, 3, available=64 * GIB)
    even = automatic_block_size(_rule(222), halo, 3, available=64 * GIB, extent=extent)
    count = math.ceil(extent / largest)
    assert even <= largest and even % 48 == 0 and math.ceil(extent / even) == count    # no more blocks
    last = extent - (count - 1) * even
    assert last >= even / 2 or last >= extent - (count - 1) * largest


def test_an_even_share_spares_a_thin_last_block():
    # SSJCN's halo with the projection, 600² × 218 bands: 288² blocks would leave a last one of 24.
    assert automatic_block_size(_rule(222), 72, 3, available=64 * GIB) == 288
    assert automatic_block_size(_rule(222), 72, 3, available=64 * GIB, extent=600) == 240      # 240, 240, 120


def test_strips_the_width_of_the_area_where_they_recompute_less():
    # MHF-net with the projection on 600² × 218 bands (halo 87): 240² blocks compute 2.5 times the area, strips
    # 600 wide and 144 high 2.06 times, in the same budget.
    square = automatic_block_size(_rule(222), 87, 3, available=64 * GIB, extent=600)
    shape = automatic_block_shape(_rule(222), 87, 3, 64 * GIB, (600, 600))
    assert shape == (144, 600)
    assert _rule(222).bytes_for((shape[0] + 2 * 87) * 600, 0) <= BLOCK_MEMORY_BYTES       # a strip fits
    assert computed_pixels((600, 600), (square, square), 87, 3) / 600 ** 2 == pytest.approx(2.50, abs=0.01)
    assert computed_pixels((600, 600), shape, 87, 3) / 600 ** 2 == pytest.approx(2.06, abs=0.01)


def test_square_blocks_where_strips_recompute_more():
    # SSJCN (halo 96, blocks on multiples of 12) on 600²: strips of 96 rows would compute 2.8 times the area.
    assert automatic_block_shape(_rule(222), 96, 12, 64 * GIB, (600, 600)) == (240, 240)


def test_a_streamed_network_takes_strips_sized_for_its_steps_radii():
    # SSJCN streamed by rows (halo 120 read, at most 60 rows computed above and below in any step): strips the width
    # of the area, computing 1.54 times the area by the row halo where squares compute 2.52 times.
    shape = automatic_block_shape(_rule(222), 120, 12, 64 * GIB, (600, 600), row_halo=60)
    assert shape == (192, 600)
    assert _rule(222).bytes_for((shape[0] + 2 * 60) * 600, 0) <= BLOCK_MEMORY_BYTES       # a strip fits
    assert _rule(222).bytes_for((shape[0] + 2 * 120) * 600, 0) > BLOCK_MEMORY_BYTES       # not with the halo
    squares = automatic_block_size(_rule(222), 120, 12, available=64 * GIB, extent=600, row_halo=60)
    assert computed_pixels((600, 600), shape, 120, 12, row_halo=60) / 600 ** 2 == pytest.approx(1.54, abs=0.01)
    assert computed_pixels((600, 600), (squares, squares), 120, 12, row_halo=60) / 600 ** 2 == pytest.approx(
        2.52, abs=0.01)
    # Rows cost the row halo, columns the halo.
    assert computed_pixels((600, 600), (300, 300), 120, 12, row_halo=60) == 2 * 360 * 2 * 420


def test_square_blocks_where_the_area_is_too_wide_for_strips():
    side = automatic_block_size(_rule(222), 39, 3, available=64 * GIB, extent=6000)
    assert automatic_block_shape(_rule(222), 39, 3, 64 * GIB, (6000, 6000)) == (side, side)


def test_automatic_blocks_stay_within_the_largest_window():
    # CNMF beyond its limit (core/classical/cnmf.py): every block with its overlap of 24 within 1024² HR pixels.
    # A working memory small enough that the budget alone would allow blocks of 1536².
    memory = WorkingMemory(200.0, 20.0)
    assert automatic_block_shape(memory, 24, 3, 64 * GIB, (6000, 6000)) == (1536, 1536)
    for area in [(6000, 6000), (900, 6000), (6000, 900)]:
        shape = automatic_block_shape(memory, 24, 3, 64 * GIB, area, largest_window=1024 ** 2)
        windows = [window_of(block, 24, area) for block in aligned_blocks(*area, shape, 3)]
        assert 0.85 * 1024 ** 2 < max(rows * cols for _, _, rows, cols in windows) <= 1024 ** 2, (area, shape)


def test_the_blocks_cover_the_area_once():
    for shape in [(240, 600), (96, 96), (216, 612)]:
        covered = np.zeros((600, 600), int)
        for row0, col0, rows, cols in aligned_blocks(600, 600, shape, 12):
            covered[row0:row0 + rows, col0:col0 + cols] += 1
        assert (covered == 1).all()


@pytest.mark.parametrize("width, height, blocks, tiles", [
    (600, 600, 336, (336, 336)),            # square blocks: tiles are the blocks
    (600, 600, (240, 612), (240, 256)),     # strips as wide as the raster: tiles as high as the strips
    (600, 600, 100, (256, 256)),            # not a multiple of 16: the default tiles
    (200, 200, None, (192, 192)),           # a raster under 256 pixels a side
    (4000, 4000, 2048, (256, 256)),         # past the largest tile
])
def test_output_tiles_are_the_blocks_written_where_they_can_be(width, height, blocks, tiles):
    assert output_tiles(width, height, blocks) == tiles


@pytest.mark.parametrize("blocks, bands", [((240, 384), 218), ((288, 288), 218), ((240, 240), 100), ((336, 336), 4),
                                           ((240, 1500), 218), ((48, 1008), 2000)])
def test_many_band_blocks_are_written_as_whole_tiles_of_a_few_megabytes(blocks, bands):
    rows, cols = output_tiles(1500, 1500, blocks, bands)
    strips = blocks[1] >= 1500
    widest = 256 if strips else blocks[1]

    def whole(r, c):            # a block's rows are whole tiles, and so are its columns but in strips
        return blocks[0] % r == 0 and (strips or blocks[1] % c == 0)
    assert rows % 16 == 0 and cols % 16 == 0 and cols <= widest and whole(rows, cols)
    assert rows * cols * bands * 4 <= MAX_TILE_BYTES or (rows, cols) == (16, 16)
    larger = [(r, c) for r in range(16, blocks[0] + 1, 16) for c in range(16, widest + 1, 16)
              if whole(r, c) and r * c > rows * cols]
    assert all(r * c * bands * 4 > MAX_TILE_BYTES for r, c in larger)


def test_a_few_bands_keep_the_block_as_their_tile():
    assert output_tiles(1500, 1500, (240, 384), 4) == (240, 384)


@pytest.mark.parametrize("halo, per_block", [(39, 0.0), (39, 1308.0), (60, 3488.0)])
def test_the_block_and_the_output_it_hands_over_fit_the_budget_together(halo, per_block):
    memory = WorkingMemory(4600.0, per_block)
    side = automatic_block_size(memory, halo, 3, available=64 * GIB)
    assert side % 48 == 0
    assert memory.bytes_for((side + 2 * halo) ** 2, side ** 2) <= BLOCK_MEMORY_BYTES
    assert memory.bytes_for((side + 48 + 2 * halo) ** 2, (side + 48) ** 2) > BLOCK_MEMORY_BYTES
    rows, cols = automatic_block_shape(memory, halo, 3, 64 * GIB, (2400, 900))
    assert memory.bytes_for((rows + 2 * halo) * min(cols + 2 * halo, 900), rows * cols) <= BLOCK_MEMORY_BYTES


def test_a_network_that_needs_more_memory_per_pixel_gets_smaller_blocks():
    # The generic models' working memory hardly depends on the bands: measured, it may exceed the rule of thumb.
    rule = automatic_block_size(_rule(104), 51, 3, available=64 * GIB)
    measured = automatic_block_size(WorkingMemory(4300.0, 600.0), 51, 3, available=64 * GIB)
    assert measured < rule


def test_the_peak_of_a_call_is_measured_from_the_kernel():
    megabytes = 160

    def allocate():
        values = np.ones(megabytes * 2 ** 20 // 8)          # touched, so resident
        return float(values.sum())
    result, peak = peak_bytes_during(allocate)
    assert result == megabytes * 2 ** 20 // 8
    if not os.path.exists("/proc/self/clear_refs"):
        pytest.skip("the kernel does not report a resettable peak here (not Linux)")
    assert peak is not None
    assert megabytes * 2 ** 20 * 0.95 <= peak <= megabytes * 2 ** 20 * 1.3


def test_the_process_peak_keeps_what_came_before_a_measured_call():
    from hyperfuse.core.inference.memory import own_status, process_peak_bytes

    if not os.path.exists("/proc/self/clear_refs"):
        pytest.skip("the kernel does not report a resettable peak here (not Linux)")
    megabytes = 400
    values = np.ones(megabytes * 2 ** 20 // 8)              # a peak before the call, resident
    high = own_status("VmHWM:")
    del values
    peak_bytes_during(lambda: None)                         # resets VmHWM to the smaller current size
    assert own_status("VmHWM:") < high - megabytes * 2 ** 20 * 0.9
    # The kernel's resident counters are synchronised per thread, lazily: they may lag by a few pages.
    assert process_peak_bytes() >= high - 2 ** 22


class _AreaReader:
    """A reader over a large all-valid area whose windows are made on the fly."""

    def __init__(self, size: int, ratio: int, bands: tuple):
        self.pair = SimpleNamespace(ratio=ratio, hr_shape=(size, size))
        self.bands_of = bands
        self.bands = sum(bands)
        self.reads = []

    def read(self, row0, col0, rows, cols):
        self.reads.append((row0, col0, rows, cols))
        r, (hs, ms) = self.pair.ratio, self.bands_of
        return (np.ones((hs, rows // r, cols // r), np.float32), np.ones((rows // r, cols // r), bool),
                np.ones((ms, rows, cols), np.float32), np.ones((rows, cols), bool))


def test_the_working_memory_is_measured_on_a_trial_window_by_the_trial_version():
    reader = _AreaReader(3000, 3, (218, 4))
    calls = []

    def predict(lr, lr_valid, hr, hr_valid):
        calls.append("run")
        raise AssertionError("the trial runs predict.trial, which keeps no statistics")

    def trial(lr, lr_valid, hr, hr_valid):
        calls.append("trial")
        scratch = np.ones((1000,) + hr.shape[1:], np.float32)      # 4000 bytes per pixel, touched
        return np.ones((218,) + hr.shape[1:], np.float32) + scratch[:1]
    predict.trial = trial
    memory = working_memory(reader, predict, 39, 3, available=64 * GIB)
    assert calls == ["trial"]
    top, left, rows, cols = reader.reads[0]
    assert (top, left) == (0, 0) and rows == cols and rows * cols == memory.measured_on
    assert 200 ** 2 <= rows * cols <= 300 ** 2
    if memory.measured_on and os.path.exists("/proc/self/clear_refs"):
        # the scratch, the result and the sum: 4000 + 872 + 872 bytes per pixel, and little else
        assert 5600 <= memory.per_window_pixel <= 7500
        assert memory.per_block_pixel == pytest.approx(1.5 * 218 * 4)


def test_a_small_area_is_not_measured():
    reader = _AreaReader(240, 3, (218, 4))

    def predict(*_):
        raise AssertionError("a 240² area fits the budget twice over by the rule of thumb")
    assert working_memory(reader, predict, 39, 3, available=64 * GIB) == WorkingMemory.estimated(222)


def test_a_tiled_run_opens_each_input_once_for_all_its_blocks(small_pair, monkeypatch):
    # GDAL forgets the tiles it decoded when a dataset closes: opened anew for every block, an input's tiles were
    # decoded again for every block that touched them.
    from helpers import recorded_openings
    from hyperfuse.core.feedback import Feedback
    from hyperfuse.core.inference.tiling import PairReader, run_tiled
    from hyperfuse.core.protocol.grids import open_pair
    from hyperfuse.core.storage import raster_io

    lr, hr, pair = open_pair(small_pair["lr"], small_pair["ms"])
    opened = recorded_openings(monkeypatch)
    written = {}
    blocks = run_tiled(PairReader(lr, hr, pair), lambda lr_block, lr_valid, hr_block, hr_valid: hr_block[:1],
                       lambda values, valid, row0, col0: written.update({(row0, col0): values}), 0, 24, Feedback())
    assert blocks == 9 and len(written) == 9
    assert sorted(path for path, _ in opened) == sorted([small_pair["lr"], small_pair["ms"]])
    assert all(dataset.closed for _, dataset in opened)
    ms, _ = raster_io.read_raster(hr)
    np.testing.assert_array_equal(written[(24, 48)], ms[:1, 24:48, 48:72])


@pytest.mark.parametrize("resident, retained, trims", [(100 * 2 ** 20, 1.25, 0), (None, 1.25, 9), (10 * GIB, 1.25, 9),
                                                      (100 * 2 ** 20, 0.0, 9)])
def test_a_tiled_run_hands_freed_memory_back_only_past_its_limit(small_pair, monkeypatch, resident, retained, trims):
    # Handing the heap back after every block made the next block take its memory anew, zeroed by the kernel.
    from hyperfuse.core.feedback import Feedback
    from hyperfuse.core.inference import memory, tiling
    from hyperfuse.core.protocol.grids import open_pair

    calls = []
    monkeypatch.setattr(memory, "_malloc_trim", lambda: calls.append)
    start = 100 * 2 ** 20
    # The run starts at 100 MiB resident (or where the kernel does not say); each block then finds ``resident``.
    monkeypatch.setattr(tiling, "own_status", lambda key: None if resident is None else start)
    monkeypatch.setattr(memory, "own_status", lambda key: resident)
    lr, hr, pair = open_pair(small_pair["lr"], small_pair["ms"])
    blocks = tiling.run_tiled(tiling.PairReader(lr, hr, pair), lambda lr_block, lr_valid, hr_block, hr_valid:
                              hr_block[:1], lambda *written: None, 0, 24, Feedback(), retained_budgets=retained)
    assert blocks == 9 and calls == [0] * trims
    memory.release_freed_memory()
    assert calls[-1] == 0


def test_a_long_run_keeps_no_more_than_its_first_blocks_settled_at(small_pair, monkeypatch):
    # Kept memory crept up over hundreds of blocks (SSJCN at 6000²: 1.90 GB against 1.44 GB at 1500²).
    from hyperfuse.core.feedback import Feedback
    from hyperfuse.core.inference import memory, tiling
    from hyperfuse.core.protocol.grids import open_pair

    calls, mib = [], 2 ** 20
    monkeypatch.setattr(memory, "_malloc_trim", lambda: calls.append)
    monkeypatch.setattr(tiling, "available_memory", lambda: None)      # a block's budget: 768 MiB
    # From 100 MiB at the start, the resident size after each of the 9 blocks: settled at 300 MiB after block 4,
    # so from there on the limit is 300 + 192 MiB, far below the start's 100 + 960 MiB.
    after_block = iter(np.array([200, 250, 300, 300, 400, 480, 500, 600, 480]) * mib)
    resident = [100 * mib]
    monkeypatch.setattr(tiling, "own_status", lambda key: resident[0])
    monkeypatch.setattr(memory, "own_status", lambda key: resident[0])

    def predict(lr_block, lr_valid, hr_block, hr_valid):
        resident[0] = next(after_block)
        return hr_block[:1]

    lr, hr, pair = open_pair(small_pair["lr"], small_pair["ms"])
    blocks = tiling.run_tiled(tiling.PairReader(lr, hr, pair), predict, lambda *written: None, 0, 24, Feedback(),
                              retained_budgets=tiling.RETAINED_BUDGETS)
    assert blocks == 9 and tiling.SETTLING_BLOCKS == 4 and tiling.CREEP_BUDGETS == 0.25
    assert calls == [0, 0]              # blocks 7 and 8, at 500 and 600 MiB


def _classical_then_network(small_pair, tmp_path, classical: str) -> None:
    """A classical fusion, then DeepSen3's from a weights file (a streamed network), of the small pair."""
    from helpers import save_random_weights
    from hyperfuse.core import registry
    from hyperfuse.core.classical.run import fuse_classical
    from hyperfuse.core.inference import fusion
    from hyperfuse.core.storage.raster_io import open_raster

    fuse_classical(classical, small_pair["lr"], small_pair["ms"], str(tmp_path / f"{classical}.tif"))
    weights = str(tmp_path / "w.pt")
    save_random_weights(weights, open_raster(small_pair["lr"]).count, open_raster(small_pair["ms"]).count, 3)
    fusion.fuse_with_network(registry.method("deepsen3"), small_pair["lr"], small_pair["ms"], str(tmp_path / "n.tif"),
                             settings=fusion.NetworkFusionSettings(model=fusion.MODEL_WEIGHTS, weights_path=weights,
                                                                   projection="none"))


def test_a_network_keeps_freed_memory_between_blocks_and_a_classical_method_hands_it_back(small_pair, tmp_path,
                                                                                         monkeypatch):
    from hyperfuse.core.inference import fusion, tiling

    kept = []

    def recording(*args, retained_budgets=0.0, **kwargs):
        kept.append(retained_budgets)
        return tiling.run_tiled(*args, retained_budgets=retained_budgets, **kwargs)
    monkeypatch.setattr(fusion, "run_tiled", recording)
    _classical_then_network(small_pair, tmp_path, "bicubic")
    assert kept == [0.0, tiling.RETAINED_BUDGETS] and tiling.RETAINED_BUDGETS > 0


def test_mhfnet_hands_freed_memory_back_after_every_block_and_the_other_networks_keep_it():
    from hyperfuse.core import registry
    from hyperfuse.core.inference import fusion, tiling

    kept = {name: fusion._retained_budgets(registry.method(name))
            for name in ("mlpln", "ssjcn", "mhfnet", "msssfnet", "deepsen3")}
    assert kept == {"mlpln": tiling.RETAINED_BUDGETS, "ssjcn": tiling.RETAINED_BUDGETS, "mhfnet": 0.0,
                    "msssfnet": tiling.RETAINED_BUDGETS, "deepsen3": tiling.RETAINED_BUDGETS}


def test_a_streamed_network_takes_wide_blocks_where_they_recompute_less():
    # DeepSen3 at 1500² × 218 bands as its trial measures it: a halo of 60 at the sides, 24 rows above and below.
    memory = WorkingMemory(4.4 * 1024, 1.3 * 1024)
    rows, cols = automatic_block_shape(memory, 60, 3, 64 * GIB, (1500, 1500), row_halo=24)
    assert rows < cols < 1500
    assert memory.bytes_for((rows + 48) * (cols + 120), rows * cols) <= BLOCK_MEMORY_BYTES
    wide = computed_pixels((1500, 1500), (rows, cols), 60, 3, row_halo=24)
    square = automatic_block_size(memory, 60, 3, available=64 * GIB, extent=1500, row_halo=24)
    assert wide < computed_pixels((1500, 1500), (square, square), 60, 3, row_halo=24)
    # Strips the width of the area would be 48 rows high and compute twice the area.
    assert wide < computed_pixels((1500, 1500), (48, 1500), 60, 3, row_halo=24) / 1.3


def test_the_rows_a_stream_holds_between_blocks_make_them_smaller():
    # SSJCN at 600 wide holds about 100 KiB per column between two strips, a sixth of a strip's own 600 KiB.
    light, heavy = WorkingMemory(4096.0, 1331.0), WorkingMemory(4096.0, 1331.0, 1, 400 * 1024.0)
    light_rows = automatic_block_shape(light, 120, 12, 64 * GIB, (600, 600), row_halo=36)[0]
    heavy_rows = automatic_block_shape(heavy, 120, 12, 64 * GIB, (600, 600), row_halo=36)[0]
    assert heavy_rows < light_rows
    assert heavy.bytes_for((heavy_rows + 72) * 600, heavy_rows * 600, 600) <= BLOCK_MEMORY_BYTES
    side = automatic_block_size(heavy, 120, 12, available=64 * GIB, row_halo=36)
    assert side < automatic_block_size(light, 120, 12, available=64 * GIB, row_halo=36)
    assert heavy.bytes_for((side + 72) * (side + 240), side ** 2, side + 240) <= BLOCK_MEMORY_BYTES


def test_classical_blocks_keep_the_budget_size_where_network_blocks_share_the_area_evenly():
    # GSA at 1500² × 100 bands as its trial measured it: shared evenly, 3 × 3 blocks of 528² instead of the 624² the
    # budget gives (and that a 6000² run takes), so the peak depended on the raster's size.
    memory = WorkingMemory(1300.0, 600.0)
    side = automatic_block_size(memory, 9, 3, available=64 * GIB)
    assert side == 624
    assert automatic_block_shape(memory, 9, 3, 64 * GIB, (1500, 1500)) == (528, 528)
    for area in [(1500, 1500), (3000, 3000), (6000, 6000)]:
        assert automatic_block_shape(memory, 9, 3, 64 * GIB, area, share_evenly=False) == (side, side)
    # Strips the width of the area (bicubic's) keep their rows too: 624 and 376 rows instead of two of 528.
    strips = WorkingMemory(600.0, 600.0)
    assert automatic_block_shape(strips, 3, 3, 64 * GIB, (1000, 1000)) == (528, 1002)
    assert automatic_block_shape(strips, 3, 3, 64 * GIB, (1000, 1000), share_evenly=False) == (624, 1002)


def test_classical_methods_take_blocks_not_shared_evenly_and_networks_shared(small_pair, tmp_path, monkeypatch):
    from hyperfuse.core.inference import fusion, tiling

    taken = []

    def recording(*args, share_evenly=True, **kwargs):
        taken.append(share_evenly)
        return tiling.block_geometry(*args, share_evenly=share_evenly, **kwargs)
    monkeypatch.setattr(fusion, "block_geometry", recording)
    _classical_then_network(small_pair, tmp_path, "gsa")
    # The streamed network sizes its blocks, then runs them (fusion.run_network): both shared evenly.
    assert taken == [False, True, True]
