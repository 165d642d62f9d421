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
