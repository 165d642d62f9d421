"""SSJCN (nets/ssjcn.py): the paper's structure, its loss, and the tiling contract."""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from hyperfuse.core import registry  # noqa: E402
from hyperfuse.core.feedback import Feedback  # noqa: E402
from hyperfuse.core.inference.tiling import aligned_halo, run_tiled  # noqa: E402
from hyperfuse.nets.blocks import bicubic_upsample, masked_l1  # noqa: E402
from hyperfuse.nets.ssjcn import SSJCN, DegradationBlock, ErrorMapFusionBlock  # noqa: E402

torch = pytest.importorskip("torch")


SHARED_CASES = [(31, 3, 8), (224, 4, 3), (21, 3, 5), (103, 4, 4), (72, 4, 2), (50, 13, 16)]
LR_SIZES = [(3, 3), (4, 5), (5, 3)]


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def perturbed(net: SSJCN, std: float = 0.1, seed: int = 0) -> SSJCN:
    """Give the zero-initialised tensors (the last convolution of Φ, some biases) random values,
    so the network is no longer plain bicubic and every path carries a signal."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in net.parameters():
            if not parameter.any():
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * std)
    return net


def inputs(hs_bands, ms_bands, ratio, rows, cols, batch=1, seed=0, dtype=torch.float32):
    generator = torch.Generator().manual_seed(seed)
    lr = torch.randn(batch, hs_bands, rows, cols, generator=generator).to(dtype)
    hr = torch.randn(batch, ms_bands, rows * ratio, cols * ratio, generator=generator).to(dtype)
    return lr, hr


def test_untrained_network_is_bicubic():
    for hs_bands, ms_bands, ratio in SHARED_CASES:
        torch.manual_seed(0)
        net = SSJCN(hs_bands, ms_bands, ratio)
        for rows, cols in LR_SIZES:
            lr, hr = inputs(hs_bands, ms_bands, ratio, rows, cols, batch=2)
            with torch.no_grad():
                difference = (net(lr, hr) - bicubic_upsample(lr, ratio)).abs().max()
            assert difference < 1e-5, (hs_bands, ms_bands, ratio, rows, cols)


@pytest.mark.parametrize("ratio", [2, 3, 5, 8])
def test_degradation_block_gives_ms_at_hr_and_hs_at_lr(ratio):
    net = SSJCN(12, 3, ratio, iterations=2)
    lr, hr = inputs(12, 3, ratio, 5, 3, batch=2)
    z = bicubic_upsample(lr, ratio)
    for stage in net.stages:
        ms_estimate, hs_estimate = stage.degradation(z)
        assert ms_estimate.shape == hr.shape
        assert hs_estimate.shape == lr.shape
    # D_spa starts as a normalised blur (weights sum to 1, edges repeated): it keeps a constant image.
    constant = torch.full((1, 12, 5 * ratio, 3 * ratio), 0.7)
    _, hs_estimate = net.stages[0].degradation(constant)
    assert torch.allclose(hs_estimate, torch.full_like(hs_estimate, 0.7), atol=1e-6)


def test_loss_is_masked_l1_on_the_output_of_the_last_iteration():
    torch.manual_seed(1)
    net = perturbed(SSJCN(10, 3, 3))
    lr, hr = inputs(10, 3, 3, 5, 4, batch=2, seed=1)
    target = torch.randn(2, 10, 15, 12, generator=torch.Generator().manual_seed(2))
    mask = torch.ones(2, 1, 15, 12)
    mask[0, :, :4] = 0
    mask[1, :, :, 7:] = 0

    with torch.no_grad():
        z = bicubic_upsample(lr, 3)
        corrected = []
        for stage in net.stages:
            z = stage(z, lr, hr)
            corrected.append(z)
        output = net(lr, hr)
        loss = net.training_loss(lr, hr, target, mask)
        changed_target = target.clone()
        changed_target[0, :, :4] += 5.0          # only masked-out pixels change
        changed_target[1, :, :, 7:] -= 5.0
        loss_changed = net.training_loss(lr, hr, changed_target, mask)

    assert len(corrected) == 2
    assert torch.equal(output, corrected[-1])                      # forward returns Z²
    assert not torch.allclose(corrected[0], corrected[1])          # Z² is a further correction of Z¹
    weight = mask.expand_as(output)
    expected = ((output - target).abs() * weight).sum() / weight.sum()
    assert torch.allclose(loss, expected, rtol=1e-6)
    assert torch.allclose(loss, masked_l1(output, target, mask))
    assert torch.equal(loss, loss_changed)


def test_iterations_change_the_output():
    torch.manual_seed(3)
    two = perturbed(SSJCN(8, 3, 2, iterations=2))
    one = SSJCN(8, 3, 2, iterations=1)
    one.stages[0].load_state_dict(two.stages[0].state_dict())   # the same first iteration
    three = SSJCN(8, 3, 2, iterations=3)
    for k in range(2):
        three.stages[k].load_state_dict(two.stages[k].state_dict())
    perturbed(three)                                           # its third iteration starts at zero
    lr, hr = inputs(8, 3, 2, 5, 5, seed=3)
    with torch.no_grad():
        z1, z2, z3 = one(lr, hr), two(lr, hr), three(lr, hr)
        assert torch.allclose(z2, two.stages[1](z1, lr, hr), atol=1e-6)
    assert (z1 - z2).abs().max() > 1e-3
    assert (z2 - z3).abs().max() > 1e-3
    assert one.receptive_field() < two.receptive_field() < three.receptive_field()


def test_every_iteration_is_applied_once_and_receives_gradients():
    torch.manual_seed(4)
    iterations = 3
    net = perturbed(SSJCN(9, 3, 3, iterations=iterations))
    calls = {}

    def count(name):
        def hook(module, args, output):
            calls[name] = calls.get(name, 0) + 1
        return hook

    for k, stage in enumerate(net.stages):
        for block in ("degradation", "fusion", "reconstruction"):
            getattr(stage, block).register_forward_hook(count((k, block)))
    # Separate weights per iteration: no block object is reused.
    assert len({id(getattr(stage, block)) for stage in net.stages
                for block in ("degradation", "fusion", "reconstruction")}) == 3 * iterations

    lr, hr = inputs(9, 3, 3, 4, 5, batch=2, seed=4)
    target = torch.randn(2, 9, 12, 15)
    net.training_loss(lr, hr, target, torch.ones(2, 1, 12, 15)).backward()

    assert calls == {(k, block): 1 for k in range(iterations) for block in ("degradation", "fusion", "reconstruction")}
    for k, stage in enumerate(net.stages):
        for block in ("degradation", "fusion", "reconstruction"):
            for name, parameter in getattr(stage, block).named_parameters():
                assert parameter.grad is not None and parameter.grad.abs().sum() > 0, (k, block, name)


@pytest.mark.parametrize("hs_bands,ms_bands,ratio", SHARED_CASES)
def test_shared_contract(hs_bands, ms_bands, ratio):
    """Shape, finiteness, gradients to every parameter, eval determinism, tiled == whole."""
    torch.manual_seed(5)
    net = perturbed(SSJCN(hs_bands, ms_bands, ratio))
    for rows, cols in LR_SIZES:
        lr, hr = inputs(hs_bands, ms_bands, ratio, rows, cols, batch=2, seed=rows * 7 + cols)
        net.train()
        net.zero_grad()
        output = net(lr, hr)
        assert output.shape == (2, hs_bands, rows * ratio, cols * ratio)
        assert torch.isfinite(output).all()
        mask = torch.ones(2, 1, rows * ratio, cols * ratio)
        net.training_loss(lr, hr, torch.randn_like(output), mask).backward()
        for name, parameter in net.named_parameters():
            assert parameter.grad is not None and torch.isfinite(parameter.grad).all(), name
            assert parameter.grad.abs().sum() > 0, name
        net.eval()
        with torch.no_grad():
            assert torch.equal(net(lr, hr), net(lr, hr))
    assert net.alignment() == math.lcm(ratio, 4)
    rows, cols = LR_SIZES[1]
    lr, hr = inputs(hs_bands, ms_bands, ratio, rows, cols, seed=9)
    assert tiled_difference(net, lr[0].numpy(), hr[0].numpy(), ratio, block_size=1) < 1e-5


def tiled_difference(net, lr, hr, ratio, block_size) -> float:
    """Largest difference between the tiling engine's result and whole-image inference."""
    rows, cols = hr.shape[1:]
    pair = SimpleNamespace(ratio=ratio, hr_shape=(rows, cols))

    class Reader:
        def __init__(self):
            self.pair = pair

        def read(self, row0, col0, nrows, ncols):
            lr_block = lr[:, row0 // ratio:(row0 + nrows) // ratio, col0 // ratio:(col0 + ncols) // ratio]
            hr_block = hr[:, row0:row0 + nrows, col0:col0 + ncols]
            return (lr_block, np.ones(lr_block.shape[1:], bool), hr_block, np.ones(hr_block.shape[1:], bool))

    def predict(lr_block, _lr_valid, hr_block, _hr_valid):
        with torch.no_grad():
            return net(torch.from_numpy(lr_block)[None], torch.from_numpy(hr_block)[None])[0].numpy()

    tiled = np.full((lr.shape[0], rows, cols), np.nan, lr.dtype)

    def sink(values, _valid, row0, col0):
        tiled[:, row0:row0 + values.shape[1], col0:col0 + values.shape[2]] = values

    net.eval()
    run_tiled(Reader(), predict, sink, net.receptive_field(ratio), block_size, Feedback(), net.alignment(ratio))
    whole = predict(lr, None, hr, None)
    assert not np.isnan(tiled).any()
    return float(np.abs(tiled - whole).max())


@pytest.mark.parametrize("ratio", [2, 3, 4, 5, 8, 16])
def test_tiled_inference_equals_whole_image_with_halos_that_are_not_clipped(ratio):
    """Blocks larger than the halo on an image larger than block + halo, with sizes that are
    not multiples of 4, so every block reads at least one unclipped halo and Φ pads.

    In float64, so that any difference is a missing halo or a shifted phase, not rounding
    (float32 convolutions may accumulate in another order on another block size).
    """
    torch.manual_seed(6)
    net = perturbed(SSJCN(7, 3, ratio), std=0.3).double()
    step = math.lcm(ratio, net.alignment())
    halo = aligned_halo(net.receptive_field(), step)
    block = halo + step
    lr_rows = (block + halo + step) // ratio + 1
    lr_rows += 1 - (lr_rows * ratio) % 2 if ratio % 2 else 0     # an odd HR size where r allows it
    lr, hr = inputs(7, 3, ratio, lr_rows, lr_rows - 1, seed=6, dtype=torch.float64)
    assert (lr_rows * ratio) % 4 or ((lr_rows - 1) * ratio) % 4 or ratio % 4 == 0
    assert tiled_difference(net, lr[0].numpy(), hr[0].numpy(), ratio, block) < 1e-10


def _farthest_change(net, lr, hr, moved_lr, moved_hr, footprint) -> int:
    """The halo a block needs for the moved pixel, whose HR ``footprint`` is (first, last): from the farthest output
    pixel that depends on it to the far edge of the footprint, since blocks read whole LR pixels.

    The dependence is the network's derivative in the direction of the move (forward-mode, float64): a finite move
    far from an output changes it by less than its rounding after two iterations, a derivative stays non-zero."""
    with torch.no_grad():
        _, change = torch.func.jvp(net, (lr, hr), (moved_lr - lr, moved_hr - hr))
    rows, cols = torch.nonzero(change.abs().amax(dim=1)[0] > 0, as_tuple=True)
    first, last = footprint
    return max(max(last - int(p.min()), int(p.max()) - first) for p in (rows, cols))


@pytest.mark.parametrize("ratio, iterations", [(2, 2), (3, 2), (5, 1)])
def test_receptive_field_bounds_the_influence_of_one_pixel_and_is_reached(ratio, iterations):
    """Moving one LR-HSI pixel at each phase within the block alignment, or one HR-MSI pixel at each such phase,
    changes outputs exactly as far as the halo reaches and no farther."""
    torch.manual_seed(7)
    net = perturbed(SSJCN(5, 2, ratio, iterations=iterations, width=8), std=0.3).double().eval()
    field, step = net.receptive_field(), net.alignment()
    size = (2 * field + 4 * step) // ratio + 3
    size += (-size * ratio) % step // ratio if step % ratio == 0 else 0
    lr, hr = inputs(5, 2, ratio, size, size, seed=7, dtype=torch.float64)
    anchor = (size * ratio // 2) // step * step                # an HR pixel on the block alignment
    reaches = []
    for offset in range(0, step, ratio):                       # LR pixels at every phase
        pixel = (anchor + offset) // ratio
        moved_lr = lr.clone()
        moved_lr[..., pixel, pixel] += 1.0
        reaches.append(_farthest_change(net, lr, hr, moved_lr, hr, (pixel * ratio, pixel * ratio + ratio - 1)))
    for offset in range(step):                                 # HR pixels at every phase
        moved_hr = hr.clone()
        moved_hr[..., anchor + offset, anchor + offset] += 1.0
        reaches.append(_farthest_change(net, lr, hr, lr, moved_hr, (anchor + offset, anchor + offset)))
    assert max(reaches) == field


def test_registry_builds_ssjcn_with_its_defaults():
    method = registry.method("ssjcn")
    net = method.build(40, 4, 3)
    assert isinstance(net, SSJCN)
    assert net.iterations == 2 and len(net.stages) == 2
    assert method.network_class() is SSJCN
    with pytest.raises(ValueError):
        SSJCN(40, 4, 3, iterations=0)


@pytest.mark.parametrize("channels_last", [False, True])
def test_inference_gives_the_autograd_values(channels_last, monkeypatch):
    """At inference the attention gates become their products in place, Φ's up-sampling and first stride-2
    convolution run as one, and the reconstruction block makes Ê a few rows at a time: with the last two on their
    layers the values must be those of the autograd path to the bit, with all three within rounding; gradients
    still flow through the autograd path."""
    net = perturbed(SSJCN(9, 3, 3, width=8), std=0.3)
    lr, hr = inputs(9, 3, 3, 8, 8, seed=3)
    if channels_last:
        lr, hr = (x.contiguous(memory_format=torch.channels_last) for x in (lr, hr))
    tracked = net(lr, hr)
    with torch.inference_mode():
        joined = net(lr, hr)
    for stage in net.stages:
        fusion = stage.fusion
        monkeypatch.setattr(fusion, "halved_y", lambda y, f=fusion: f.down_y[0](f.upsample_y(y)))
        monkeypatch.setattr(stage.reconstruction, "corrected", lambda z, features, to_bands, block=stage.reconstruction:
                            block(to_bands(features)).add_(z))
    with torch.inference_mode():
        layered = net(lr, hr)
    assert torch.equal(layered, tracked.detach())
    assert (joined - layered).abs().max() < 1e-5 * layered.abs().max()
    tracked.abs().sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.stages[0].reconstruction.parameters())


@pytest.mark.parametrize("chunk", [1, 7 * 24, 10 ** 6])
def test_the_correction_made_by_rows_equals_the_whole_error_map(chunk, monkeypatch):
    """ReconstructionBlock.corrected, Ê and its gate made ``chunk`` pixels at a time (one row, rows that do not divide
    the block, all of it), equals Z + RB(Ê) on the whole Ê to float rounding."""
    import hyperfuse.nets.ssjcn as ssjcn

    monkeypatch.setattr(ssjcn, "CORRECTION_CHUNK_PIXELS", chunk)
    torch.manual_seed(5)
    block, to_bands = ssjcn.ReconstructionBlock(12), torch.nn.Conv2d(8, 12, 1)
    perturbed(block, std=0.3)
    z, features = torch.randn(2, 12, 30, 24), torch.randn(2, 8, 30, 24)
    with torch.inference_mode():
        expected = block(to_bands(features)) + z
        made = block.corrected(z, features, to_bands)
    assert expected.abs().max() > 1
    assert (made - expected).abs().max() < 1e-5 * expected.abs().max()


@pytest.mark.parametrize("ratio", [2, 3, 4, 5, 6, 8])
def test_joined_upsampling_and_halving_equal_the_layers(ratio):
    """Φ's per-band transposed convolution then its 3 × 3 stride-2 convolution (zero borders), as one convolution
    of the LR bands (nets/ssjcn.py _halved_upsampling), against the two layers in float64, every weight away from
    its start, on sizes whose phases do not divide them evenly; the first row and column read the zero border."""
    torch.manual_seed(ratio)
    fusion = ErrorMapFusionBlock(7, 3, ratio, 5).double()
    with torch.no_grad():
        for parameter in fusion.parameters():
            parameter.add_(0.3 * torch.randn_like(parameter))
    for rows, cols in [(4, 4), (8, 12), (12, 6)]:
        y = torch.randn(2, 7, rows, cols, dtype=torch.float64)
        with torch.no_grad():
            expected = fusion.down_y[0](fusion.upsample_y(y))
        with torch.inference_mode():
            joined = fusion.halved_y(y)
        assert joined.shape == expected.shape == (2, 5, rows * ratio // 2, cols * ratio // 2)
        assert (joined - expected).abs().max() < 1e-12 * expected.abs().max()


@pytest.mark.parametrize("ratio", [2, 3, 4, 5, 8])
def test_blur_without_a_padded_copy_equals_the_layer(ratio):
    """D_spa's convolution at inference (zeros at the border, then its first and last LR rows and columns from
    replicated strips) against the layer with its replicated border, in float64, every weight away from its
    start; sizes of one LR pixel run the layer itself."""
    torch.manual_seed(ratio)
    block = DegradationBlock(7, 3, ratio).double()
    with torch.no_grad():
        for parameter in block.parameters():
            parameter.add_(0.3 * torch.randn_like(parameter))
    for rows, cols in [(2, 2), (3, 5), (6, 4), (1, 3)]:
        z = torch.randn(2, 7, rows * ratio, cols * ratio, dtype=torch.float64)
        with torch.no_grad():
            expected = block.spatial[0](z)
        with torch.inference_mode():
            blurred = block.blurred(z)
        assert blurred.shape == expected.shape == (2, 7, rows, cols)
        assert (blurred - expected).abs().max() < 1e-12 * expected.abs().max()
