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
