"""The NumPy bicubic of core/protocol/upsample.py: the classical baseline and the networks' bicubic input agree."""
import numpy as np
import pytest
import torch
from hyperfuse.core.protocol.metrics import GROUP_BANDS
from hyperfuse.core.protocol.upsample import bicubic
from torch.nn import functional as F


@pytest.mark.parametrize("ratio", [2, 3, 5])
def test_bicubic_equals_torch_over_several_band_groups(ratio):
    """PyTorch's bicubic (a = −0.75, align_corners False, edges repeated) is an independent implementation; the
    bands span more than two of the groups the NumPy one works through."""
    values = np.random.default_rng(ratio).random((2 * GROUP_BANDS + 5, 9, 7)).astype(np.float32)
    expected = F.interpolate(torch.from_numpy(values.astype(np.float64))[None], scale_factor=ratio, mode="bicubic",
                             align_corners=False)[0].numpy()
    result = bicubic(values, ratio)
    assert result.dtype == np.float32 and result.shape == (values.shape[0], 9 * ratio, 7 * ratio)
    assert np.abs(result - expected).max() < 1e-6
    assert np.array_equal(result[GROUP_BANDS + 3], bicubic(values[GROUP_BANDS + 3:GROUP_BANDS + 4], ratio)[0])


@pytest.mark.parametrize("ratio", [2, 3, 5, 16])
@pytest.mark.parametrize("channels_last", [False, True])
def test_network_bicubic_equals_torch_in_both_paths(ratio, channels_last):
    """The networks' polyphase bicubic (nets/blocks.py) against PyTorch's in float64, at inference (phases written
    in place) and with autograd (phases stacked): the same values to the bit, in the input's memory layout, with
    gradients flowing in the second."""
    from hyperfuse.nets.blocks import bicubic_upsample

    layout = torch.channels_last if channels_last else torch.contiguous_format
    values = torch.from_numpy(np.random.default_rng(ratio).standard_normal((2, 7, 5, 4))).contiguous(
        memory_format=layout)
    expected = F.interpolate(values, scale_factor=ratio, mode="bicubic", align_corners=False)
    with torch.inference_mode():
        in_place = bicubic_upsample(values, ratio)
    tracked = values.clone().requires_grad_()
    stacked = bicubic_upsample(tracked, ratio)
    assert in_place.shape == expected.shape == (2, 7, 5 * ratio, 4 * ratio)
    assert (in_place - expected).abs().max() < 1e-12
    assert torch.equal(in_place, stacked.detach())
    assert in_place.is_contiguous(memory_format=layout) and stacked.is_contiguous(memory_format=layout)
    stacked.sum().backward()
    # Every HR pixel's weights sum to one, so each LR pixel's gradient is the weight it carries: r² on average.
    assert abs(float(tracked.grad.mean()) - ratio ** 2) < 1e-9


@pytest.mark.parametrize("ratio", [2, 3, 4])
def test_bicubic_added_into_a_channels_last_output_equals_adding_the_upsampled_image(ratio):
    """DeepSen3's skip: the up-sampling added phase by phase into the output, at inference on channels-last
    tensors, gives the output plus the up-sampled image."""
    from hyperfuse.nets.blocks import add_bicubic_upsampling, bicubic_upsample

    rng = np.random.default_rng(ratio)
    lr = torch.from_numpy(rng.standard_normal((1, 6, 7, 5), dtype=np.float32)).contiguous(
        memory_format=torch.channels_last)
    out = torch.from_numpy(rng.standard_normal((1, 6, 7 * ratio, 5 * ratio), dtype=np.float32)).contiguous(
        memory_format=torch.channels_last)
    with torch.inference_mode():
        expected = out + bicubic_upsample(lr, ratio)
        added = add_bicubic_upsampling(out.clone(), lr, ratio)
    assert added.is_contiguous(memory_format=torch.channels_last)
    assert (added - expected).abs().max() <= 1e-6 * expected.abs().max()


def test_network_bicubic_float32_is_closer_to_exact_than_torch():
    """In float32 the polyphase passes stay within a few rounding steps of the float64 result; PyTorch's own
    float32 bicubic strays up to about 1e-4 on unit-scale values."""
    from hyperfuse.nets.blocks import bicubic_upsample

    values = torch.from_numpy(np.random.default_rng(0).standard_normal((1, 40, 30, 30)).astype(np.float32))
    exact = F.interpolate(values.double(), scale_factor=3, mode="bicubic", align_corners=False)
    with torch.inference_mode():
        result = bicubic_upsample(values, 3)
    assert result.dtype == torch.float32
    assert (result.double() - exact).abs().max() < 2e-6
