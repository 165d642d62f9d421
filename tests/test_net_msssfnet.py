"""MS-SSFNet (nets/msssfnet.py): its halo at every ratio, and tiled inference that equals a whole-image run."""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from hyperfuse.core.feedback import Feedback
from hyperfuse.core.inference.tiling import aligned_halo, run_tiled
from hyperfuse.nets.msssfnet import MSSSFNet, halo

HS, MS = 5, 2


def perturbed_net(ratio: int, seed: int = 0) -> MSSSFNet:
    """A float64 network whose every weight, the zero-initialised reconstruction included, is random."""
    torch.manual_seed(seed)
    net = MSSSFNet(HS, MS, ratio, width=6).double().eval()
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.3)
    return net


def random_pair(ratio: int, lr_rows: int, lr_cols: int, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    lr = torch.randn(1, HS, lr_rows, lr_cols, generator=generator, dtype=torch.float64)
    hr = torch.randn(1, MS, lr_rows * ratio, lr_cols * ratio, generator=generator, dtype=torch.float64)
    return lr, hr


def farthest_change(net, lr, hr, moved_lr, moved_hr, footprint) -> int:
    """HR pixels from ``footprint`` (first, last) to the farthest output pixel that changed."""
    with torch.no_grad():
        change = (net(moved_lr, moved_hr) - net(lr, hr)).abs().amax(dim=1)[0]
    rows, cols = torch.nonzero(change > 0, as_tuple=True)
    first, last = footprint
    return max(max(first - int(p.min()), int(p.max()) - last) for p in (rows, cols))


@pytest.mark.parametrize("ratio", [2, 3, 4, 6, 8])
def test_receptive_field_bounds_the_influence_of_one_pixel_and_is_reached(ratio):
    net = perturbed_net(ratio)
    field = net.receptive_field(ratio)
    size = 2 * field // ratio + 8
    lr, hr = random_pair(ratio, size, size)
    centre = size // 2
    moved_lr = lr.clone()
    moved_lr[..., centre, centre] += 1.0
    reaches = [farthest_change(net, lr, hr, moved_lr, hr, (centre * ratio, centre * ratio + ratio - 1))]
    for offset in range(ratio):       # HR pixels at every phase within an LR pixel
        pixel = centre * ratio + offset
        moved_hr = hr.clone()
        moved_hr[..., pixel, pixel] += 1.0
        reaches.append(farthest_change(net, lr, hr, lr, moved_hr, (pixel, pixel)))
    assert max(reaches) == field


def test_receptive_field_is_computed_from_its_argument():
    net = MSSSFNet(HS, MS, 4, width=6)
    assert net.receptive_field() == net.receptive_field(4) == halo(4)
    assert net.receptive_field(8) == halo(8) == MSSSFNet(HS, MS, 8, width=6).receptive_field()
    assert [halo(r) for r in (2, 3, 4, 8)] == [7, 9, 15, 32]


class ArrayReader:
    """The tiling engine's reader over in-memory (bands, rows, cols) arrays."""

    def __init__(self, lr: np.ndarray, hr: np.ndarray, ratio: int):
        self.lr, self.hr = lr, hr
        self.pair = SimpleNamespace(ratio=ratio, hr_shape=hr.shape[1:])

    def read(self, row0, col0, rows, cols):
        r = self.pair.ratio
        lr = self.lr[:, row0 // r:(row0 + rows) // r, col0 // r:(col0 + cols) // r]
        hr = self.hr[:, row0:row0 + rows, col0:col0 + cols]
        return lr, np.ones(lr.shape[1:], bool), hr, np.ones(hr.shape[1:], bool)


@pytest.mark.parametrize("ratio", [4, 6])
def test_tiled_inference_equals_whole_image_with_halos_that_are_not_clipped(ratio):
    """Blocks of halo + one step on an image larger than block + two halos, so that inner blocks
    read a whole halo on every side; float64, so any difference is a missing halo, not rounding."""
    net = perturbed_net(ratio, seed=1)
    step = math.lcm(ratio, net.alignment(ratio))
    block = aligned_halo(net.receptive_field(ratio), step) + step
    lr_size = (block + 2 * aligned_halo(net.receptive_field(ratio), step) + step) // ratio + 1
    lr, hr = random_pair(ratio, lr_size, lr_size + 1, seed=1)
    lr, hr = lr[0].numpy(), hr[0].numpy()

    def predict(lr_block, _lr_valid, hr_block, _hr_valid):
        with torch.no_grad():
            return net(torch.from_numpy(lr_block)[None], torch.from_numpy(hr_block)[None])[0].numpy()

    tiled = np.full((HS,) + hr.shape[1:], np.nan)

    def sink(values, _valid, row0, col0):
        tiled[:, row0:row0 + values.shape[1], col0:col0 + values.shape[2]] = values

    blocks = run_tiled(ArrayReader(lr, hr, ratio), predict, sink, net.receptive_field(ratio), block, Feedback(),
                       net.alignment(ratio))
    assert blocks >= 9
    assert np.abs(tiled - predict(lr, None, hr, None)).max() < 1e-10
