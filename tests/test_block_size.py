"""BLOCK_SIZE 0: the block is sized from the available memory (core/inference/tiling.py)."""
from __future__ import annotations

import math

import pytest

from hyperfuse.core.inference.tiling import (BLOCK_MEMORY_BYTES, MAX_AUTOMATIC_BLOCK_SIZE, WORKING_IMAGES,
                                             automatic_block_size, available_memory)

GIB = 2 ** 30


def _working_bytes(side: int, halo: int, bands: int) -> int:
    return (side + 2 * halo) ** 2 * WORKING_IMAGES * bands * 4


@pytest.mark.parametrize("bands, halo, step", [(222, 39, 3), (104, 39, 3), (30, 12, 4), (222, 21, 5)])
def test_the_automatic_block_is_the_largest_that_fits_the_budget_and_the_output_tiles(bands, halo, step):
    side = automatic_block_size(bands, halo, step, available=64 * GIB)
    unit = math.lcm(step, 16)
    assert side % unit == 0
    assert _working_bytes(side, halo, bands) <= BLOCK_MEMORY_BYTES
    assert _working_bytes(side + unit, halo, bands) > BLOCK_MEMORY_BYTES or side + unit > MAX_AUTOMATIC_BLOCK_SIZE


def test_less_memory_gives_smaller_blocks():
    roomy = automatic_block_size(222, 39, 3, available=64 * GIB)
    tight = automatic_block_size(222, 39, 3, available=1 * GIB)
    assert tight < roomy
    assert _working_bytes(tight, 39, 222) <= GIB // 4 or tight == 48     # 48: the smallest block at ratio 3


def test_a_wide_halo_gets_blocks_twice_as_wide_where_memory_allows():
    assert automatic_block_size(222, 111, 3, available=64 * GIB) >= 222
    assert automatic_block_size(222, 111, 3, available=2 * GIB) < 222


def test_available_memory_is_known_here():
    available = available_memory()
    assert available is not None and available > 0


@pytest.mark.parametrize("halo, extent", [(72, 600), (39, 600), (39, 1000), (39, 6000)])
def test_blocks_share_the_area_evenly_in_as_few_blocks(halo, extent):
    largest = automatic_block_size(222, halo, 3, available=64 * GIB)
    even = automatic_block_size(222, halo, 3, available=64 * GIB, extent=extent)
    count = math.ceil(extent / largest)
    assert even <= largest and even % 48 == 0 and math.ceil(extent / even) == count    # no more blocks
    last = extent - (count - 1) * even
    assert last >= even / 2 or last >= extent - (count - 1) * largest


def test_an_even_share_spares_a_thin_last_block():
    # SSJCN's halo with the projection, 600² × 218 bands: 288² blocks would leave a last one of 24.
    assert automatic_block_size(222, 72, 3, available=64 * GIB) == 288
    assert automatic_block_size(222, 72, 3, available=64 * GIB, extent=600) == 240      # 240, 240, 120
