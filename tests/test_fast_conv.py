"""NNPACK's convolutions (nets/fast_conv.py) against torch's own, and DeepSen3's module with and without them."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from hyperfuse.nets import fast_conv
from hyperfuse.nets.deepsen3 import InceptionResidualModule

needs_nnpack = pytest.mark.skipif(not fast_conv.nnpack_ready(), reason="this torch build has no NNPACK")


@pytest.fixture
def without_nnpack(monkeypatch):
    monkeypatch.setattr(fast_conv, "takes_nnpack", lambda conv: False)
    monkeypatch.setattr("hyperfuse.nets.deepsen3.takes_nnpack", lambda conv: False)


def _relative_error(result: torch.Tensor, reference: torch.Tensor) -> float:
    return float(((result.double() - reference).abs().max() / reference.abs().max()).detach())


def _module_and_input(seed: int, rows: int, cols: int, learnable: bool = False) -> tuple:
    """DeepSen3's inception module at inference and a channels-last input of ``rows`` × ``cols`` pixels."""
    torch.manual_seed(seed)
    module = InceptionResidualModule(48, 0.2, learnable=learnable).eval()
    return module, torch.randn(1, 48, rows, cols).contiguous(memory_format=torch.channels_last)


@needs_nnpack
@pytest.mark.parametrize("channels_in, channels_out, kernel, tolerance", [(48, 32, 5, 2e-6), (32, 32, 5, 2e-6),
                                                                          (48, 64, 3, 3e-5), (64, 64, 3, 3e-5)])
def test_nnpack_convolutions_equal_the_exact_convolution_within_float32_rounding(channels_in, channels_out, kernel,
                                                                                 tolerance):
    torch.manual_seed(0)
    conv = nn.Conv2d(channels_in, channels_out, kernel, padding=kernel // 2)
    x = torch.randn(1, channels_in, 37, 61)
    assert fast_conv.takes_nnpack(conv)
    exact = F.conv2d(x.double(), conv.weight.double(), conv.bias.double(), padding=kernel // 2)
    with torch.inference_mode():
        result = fast_conv.conv2d_nchw(x, conv)
    assert result.is_contiguous() and result.shape == exact.shape
    assert _relative_error(result, exact) < tolerance


@pytest.mark.parametrize("conv", [nn.Conv2d(48, 16, 3, padding=1), nn.Conv2d(16, 48, 3, padding=1),
                                  nn.Conv2d(48, 48, 3, padding=1, stride=2), nn.Conv2d(48, 48, 3, padding=2,
                                                                                       dilation=2),
                                  nn.Conv2d(48, 48, 3, padding=0), nn.Conv2d(48, 48, 3, padding=1, groups=2),
                                  nn.Conv2d(48, 48, 3, padding=1, padding_mode="replicate")],
                         ids=["narrow-out", "narrow-in", "strided", "dilated", "valid", "grouped", "replicate"])
def test_other_convolutions_stay_with_torch(conv):
    x = torch.randn(1, conv.in_channels, 20, 24)
    assert not fast_conv.takes_nnpack(conv)
    with torch.inference_mode():
        assert torch.equal(fast_conv.conv2d_nchw(x, conv), conv._conv_forward(x, conv.weight, conv.bias))


def test_with_gradients_the_convolution_is_torchs_own():
    conv = nn.Conv2d(48, 32, 5, padding=2)
    x = torch.randn(1, 48, 20, 24, requires_grad=True)
    result = fast_conv.conv2d_nchw(x, conv)
    assert torch.equal(result, conv(x))
    result.sum().backward()
    assert x.grad is not None


@needs_nnpack
@pytest.mark.parametrize("learnable", [False, True], ids=["leaky-relu", "prelu"])
def test_deepsen3s_module_through_nnpack_equals_the_module_without_it(learnable, monkeypatch):
    """At inference, the module's wide branches run through NNPACK; the result equals the module's own within
    float32 rounding, in the same layout (channels last)."""
    module, x = _module_and_input(1, 30, 50, learnable)
    with torch.inference_mode():
        fast = module(x)
        monkeypatch.setattr("hyperfuse.nets.deepsen3.takes_nnpack", lambda conv: False)
        plain = module(x)
    exact = module.double()(x.double())
    assert fast.is_contiguous(memory_format=torch.channels_last)
    assert _relative_error(plain, exact) < 2e-6
    assert _relative_error(fast, exact) < 2e-5
    assert not torch.equal(fast, plain)       # NNPACK did compute the wide branches


def test_without_nnpack_the_module_runs_every_branch_on_channels_last_pixels(without_nnpack):
    module, x = _module_and_input(2, 16, 20)
    with torch.inference_mode():
        result = module(x)
    reference = x + module.fuse(torch.cat([branch(x) for branch in module.branches], dim=1))
    assert torch.allclose(result, reference, atol=1e-5)


@pytest.mark.parametrize("rows, cols, reach, most", [(100, 30, 4, 600), (7, 5, 2, 10), (64, 64, 0, 4096),
                                                     (50, 3, 4, 10 ** 6)])
def test_row_strips_cover_the_image_once_and_read_their_reach_within_it(rows, cols, reach, most):
    strips = list(fast_conv.row_strips(rows, cols, reach, most))
    assert [first for first, *_ in strips] == [0] + [stop for _, stop, *_ in strips[:-1]]
    assert strips[-1][1] == rows
    for first, stop, low, high in strips:
        assert (low, high) == (max(0, first - reach), min(rows, stop + reach))
        assert (high - low) * cols <= max(most, (1 + 2 * reach) * cols)
    assert len({stop - first for first, stop, *_ in strips[:-1]}) <= 1


@needs_nnpack
def test_deepsen3s_module_through_nnpack_strip_by_strip_equals_it_whole(monkeypatch):
    """An image larger than one NNPACK call takes runs strip by strip; the strips' rows are the whole image's."""
    module, x = _module_and_input(3, 61, 40)
    with torch.inference_mode():
        whole = module(x)
        monkeypatch.setattr(fast_conv, "STRIP_PIXELS", 20 * 40)
        assert len(list(fast_conv.row_strips(61, 40, 4))) > 3
        by_strips = module(x)
    exact = module.double()(x.double())
    assert _relative_error(by_strips, exact) < 2e-5
    assert float((by_strips - whole).abs().max()) < 1e-4
