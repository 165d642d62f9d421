"""Properties every network must have: shapes, gradients, determinism, exact tiling."""
import numpy as np
import pytest
import torch
from helpers import inputs, perturb
from hyperfuse.core import registry
from hyperfuse.core.feedback import Feedback
from hyperfuse.core.inference.tiling import run_tiled
from hyperfuse.core.protocol.grids import GridPair
from hyperfuse.nets.blocks import FusionModel, bicubic_upsample

CONFIGS = [(31, 3, 8), (224, 4, 3), (21, 3, 5), (103, 4, 4), (72, 4, 2), (50, 13, 16)]
METHOD_IDS = list(registry.METHODS)
# Networks whose untrained output is exactly bicubic up-sampling (zero-initialised residual), with
# the settings that give it: MLPLN only in its box-means variant (the paper's has no residual).
STARTS_AS_BICUBIC = {"deepsen3": {}, "msssfnet": {}, "ssjcn": {}, "mlpln": {"variant": 0}}


def build(method_id, hs, ms, ratio, seed=0, **hyper):
    torch.manual_seed(seed)
    return registry.method(method_id).build(hs, ms, ratio, **hyper)


@pytest.mark.parametrize("method_id", METHOD_IDS)
@pytest.mark.parametrize("hs,ms,ratio", CONFIGS)
def test_forward_shape_and_finite(method_id, hs, ms, ratio):
    net = build(method_id, hs, ms, ratio).eval()
    lr, hr = inputs(hs, ms, ratio, h=3, w=5)
    with torch.no_grad():
        out = net(lr, hr)
    assert out.shape == (1, hs, 3 * ratio, 5 * ratio)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("method_id", METHOD_IDS)
@pytest.mark.parametrize("hs,ms,ratio", [(31, 3, 8), (224, 4, 3), (21, 3, 5)])
def test_gradients_reach_every_parameter(method_id, hs, ms, ratio):
    net = perturb(build(method_id, hs, ms, ratio)).train()
    lr, hr = inputs(hs, ms, ratio, batch=2)
    target = torch.randn(2, hs, 3 * ratio, 4 * ratio)
    mask = torch.ones(2, 1, 3 * ratio, 4 * ratio)
    net.training_loss(lr, hr, target, mask).backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, f"{method_id}: no gradient reaches {name}"


@pytest.mark.parametrize("method_id", METHOD_IDS)
def test_eval_is_deterministic_for_a_seed(method_id):
    lr, hr = inputs(21, 3, 4)
    outs = []
    for _ in range(2):
        net = perturb(build(method_id, 21, 3, 4, seed=5)).eval()
        with torch.no_grad():
            outs.append(net(lr, hr))
            assert torch.equal(outs[-1], net(lr, hr))
    assert torch.equal(outs[0], outs[1])


@pytest.mark.parametrize("method_id", sorted(STARTS_AS_BICUBIC))
def test_untrained_network_returns_bicubic(method_id):
    lr, hr = inputs(21, 3, 3)
    net = build(method_id, 21, 3, 3, **STARTS_AS_BICUBIC[method_id]).eval()
    with torch.no_grad():
        assert torch.allclose(net(lr, hr), bicubic_upsample(lr, 3), atol=1e-5)


class _ArrayReader:
    """The tiling engine's reader interface over in-memory arrays."""

    def __init__(self, lr, hr, ratio):
        self.lr, self.hr = lr, hr
        h, w = lr.shape[1:]
        self.pair = GridPair(ratio, (0, 0, h, w), (0, 0, h * ratio, w * ratio), (1, 0, 0, 0, -1, 0), None)

    def read(self, row0, col0, rows, cols):
        r = self.pair.ratio
        lr = self.lr[:, row0 // r:(row0 + rows) // r, col0 // r:(col0 + cols) // r]
        hr = self.hr[:, row0:row0 + rows, col0:col0 + cols]
        return lr, np.ones(lr.shape[1:], bool), hr, np.ones(hr.shape[1:], bool)


# Small settings keep the halo of the deep unrolled MHF-net below the image size.
TILING_CASES = {
    "deepsen3": dict(ratio=3, lr_size=24, block=24, hyper={"width": 8, "modules": 1}),
    "msssfnet": dict(ratio=4, lr_size=20, block=24, hyper={"width": 8}),
    "mhfnet": dict(ratio=2, lr_size=40, block=16, hyper={"stages": 2}),
    "ssjcn": dict(ratio=3, lr_size=24, block=24, hyper={"width": 8}),
    "mlpln": dict(ratio=3, lr_size=24, block=24, hyper={}),
}


@pytest.mark.parametrize("strips", [False, True], ids=["square blocks", "strips the width of the image"])
@pytest.mark.parametrize("method_id", METHOD_IDS)
def test_tiled_inference_equals_whole_image(method_id, strips):
    """Square blocks, or strips as wide as the image (no halo at their sides), as the automatic size may choose."""
    case = TILING_CASES[method_id]

    def shape(case):
        return (case["block"], case["lr_size"] * case["ratio"]) if strips else case["block"]
    ratio, size = case["ratio"], case["lr_size"]
    hs, ms = 12, 3
    model = FusionModel(perturb(build(method_id, hs, ms, ratio, **case["hyper"])), hs, ms).eval()
    rng = np.random.default_rng(0)
    lr = rng.random((hs, size, size)).astype(np.float32)
    hr = rng.random((ms, size * ratio, size * ratio)).astype(np.float32)
    with torch.no_grad():
        whole = model(torch.from_numpy(lr)[None], torch.from_numpy(hr)[None])[0].numpy()
    tiled = np.full_like(whole, np.nan)

    def predict(lr_b, _lv, hr_b, _hv):
        with torch.no_grad():
            return model(torch.from_numpy(lr_b)[None], torch.from_numpy(hr_b)[None])[0].numpy()

    def sink(values, valid, row0, col0):
        tiled[:, row0:row0 + values.shape[1], col0:col0 + values.shape[2]] = values

    blocks = run_tiled(_ArrayReader(lr, hr, ratio), predict, sink, model.receptive_field(ratio), shape(case),
                       Feedback(), alignment=model.alignment(ratio))
    assert blocks >= (2 if strips else 4), "the case must exercise several blocks"
    assert np.abs(tiled - whole).max() < 1e-5


@pytest.mark.parametrize("layout", ["channels_last", "contiguous", "rows_last"])
def test_network_output_is_the_first_image_bands_first(layout):
    """The block a network hands to the projection and the writer: its first image, C-ordered (bands, rows, cols)
    float32, the same values whatever the layout (a row count that LAYOUT_ROWS does not divide included)."""
    from hyperfuse.core.inference.torch_support import network_output

    batch = torch.randn(2, 5, 11, 6, generator=torch.Generator().manual_seed(1))
    if layout == "channels_last":
        batch = batch.contiguous(memory_format=torch.channels_last)
    elif layout == "rows_last":
        batch = batch.transpose(2, 3).contiguous().transpose(2, 3)
    result = network_output(batch)
    assert result.dtype == np.float32 and result.flags["C_CONTIGUOUS"] and result.shape == (5, 11, 6)
    assert np.array_equal(result, batch[0].contiguous().numpy())


@pytest.mark.parametrize("hs,ms,ratio", CONFIGS)
def test_deepsen3_head_on_the_lr_grid_gives_the_layers_values(hs, ms, ratio):
    """At inference DeepSen3's head mixes the HS bands on the LR grid, tap by tap, before up-sampling them; with
    autograd it convolves the bicubic image as the paper's layers do. Both give the same features and output, to
    float rounding, on images whose every edge pads."""
    net = perturb(build("deepsen3", hs, ms, ratio)).eval()
    lr, hr = inputs(hs, ms, ratio, h=7, w=5, seed=2)
    tracked = net.low_level_features(lr, hr, ratio)
    layered = net.head(torch.cat([bicubic_upsample(lr, ratio), hr], dim=1))
    assert (tracked - layered).abs().max() < 1e-5 * layered.abs().max()
    expected = net(lr, hr).detach()
    with torch.inference_mode():
        features, fused = net.low_level_features(lr, hr, ratio), net(lr, hr)
    assert (features - layered.detach()).abs().max() < 1e-5 * layered.abs().max()
    assert (fused - expected).abs().max() < 1e-5 * expected.abs().max()
