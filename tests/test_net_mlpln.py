"""MLPLN-specific behaviour: the κ/η bound, the SVD reduction, the concentric crops and the RMSE loss.

Generic network properties (shapes, gradients to every parameter, tiled = whole image) are
covered by the shared network tests.
"""
import pytest

torch = pytest.importorskip("torch")

from hyperfuse.core.errors import UserInputError  # noqa: E402
from hyperfuse.nets.blocks import bicubic_upsample, masked_mse  # noqa: E402
from hyperfuse.nets.mlpln import MLPLN, crop_mean  # noqa: E402


@pytest.mark.parametrize("kappa, eta, patch, smallest", [(1, 6, 12, 2), (1, 3, 8, 4), (2, 3, 12, 4), (3, 2, 8, 2)])
def test_combinations_within_the_paper_bound_construct(kappa, eta, patch, smallest):
    net = MLPLN(40, 4, 3, kappa=kappa, eta=eta, patch=patch)
    assert net.crop_sizes[0] == smallest and net.crop_sizes[-1] == patch


@pytest.mark.parametrize("kappa, eta, patch, smallest", [(1, 7, 12, 0), (2, 4, 12, 0), (3, 3, 12, 0), (1, 4, 7, 1)])
def test_smallest_crop_below_two_pixels_is_rejected(kappa, eta, patch, smallest):
    with pytest.raises(UserInputError) as error:
        MLPLN(40, 4, 3, kappa=kappa, eta=eta, patch=patch)
    message = str(error.value)
    assert "smallest crop" in message and f"= {smallest} pixels" in message
    assert f"κ = {kappa}" in message and f"η = {eta}" in message and f"patch size {patch}" in message


def test_more_components_than_bands_is_rejected():
    with pytest.raises(UserInputError, match="components"):
        MLPLN(10, 4, 3, components=11)
    assert MLPLN(10, 4, 3).components == 10 and MLPLN(100, 4, 3).components == 12


def test_sequence_runs_from_the_smallest_crop_to_the_largest():
    assert MLPLN(40, 4, 3, kappa=1, eta=4, patch=12).crop_sizes == (6, 8, 10, 12)
    assert MLPLN(40, 4, 3, kappa=2, eta=3, patch=16).crop_sizes == (8, 12, 16)


@pytest.mark.parametrize("size", [2, 3, 6, 7])
def test_crop_mean_averages_the_existing_pixels_of_the_crop(size):
    x = torch.randn(1, 2, 11, 9, dtype=torch.float64)
    result = crop_mean(x, size)
    before, after = size // 2, size - size // 2 - 1      # even sizes reach one pixel more up/left
    for row, col in [(5, 4), (0, 0), (10, 8), (1, 7)]:
        window = x[..., max(0, row - before):row + after + 1, max(0, col - before):col + after + 1]
        assert torch.allclose(result[..., row, col], window.mean(dim=(-2, -1)))


def _low_rank_pair(hs_bands=30, ms_bands=4, ratio=3, h=6, w=5, rank=3, seed=0):
    """LR-HSI and target whose spectra all lie in the span of ``rank`` random spectra."""
    generator = torch.Generator().manual_seed(seed)
    spectra = torch.randn(rank, hs_bands, generator=generator)
    abundances_hr = torch.rand(rank, h * ratio, w * ratio, generator=generator)
    abundances_lr = torch.rand(rank, h, w, generator=generator)
    target = torch.einsum("khw,kb->bhw", abundances_hr, spectra)
    lr = torch.einsum("khw,kb->bhw", abundances_lr, spectra)
    hr = torch.randn(ms_bands, h * ratio, w * ratio, generator=generator)
    return spectra, lr, hr, target


def test_svd_basis_spans_the_data_subspace_and_is_saved_with_the_weights():
    spectra, lr, hr, target = _low_rank_pair()
    net = MLPLN(30, 4, 3, components=5)
    valid = torch.ones(target.shape[1:], dtype=torch.bool)
    valid[:4] = False
    net.initialise_from_data(lr, hr, target, valid)

    basis = net.basis.double()
    assert torch.allclose(basis @ basis.T, torch.eye(5, dtype=torch.float64), atol=1e-5)
    # The three leading rows of Vᵀ span the mixed spectra: projecting onto them loses nothing.
    leading = basis[:3]
    reconstructed = spectra.double() @ leading.T @ leading
    assert torch.allclose(reconstructed, spectra.double(), atol=1e-4)
    # The scale is each component's RMS, so the two beyond the data's rank are (almost) zero.
    assert net.component_scale[2] > 100 * net.component_scale[3]

    restored = MLPLN(30, 4, 3, components=5)
    restored.load_state_dict(net.state_dict())
    assert torch.equal(restored.basis, net.basis) and torch.equal(restored.component_scale, net.component_scale)


def test_untrained_network_returns_bicubic_before_and_after_the_svd():
    _, lr, hr, target = _low_rank_pair()
    net = MLPLN(30, 4, 3)
    expected = bicubic_upsample(lr[None], 3)
    with torch.no_grad():
        assert (net(lr[None], hr[None]) - expected).abs().max() < 1e-5
        net.initialise_from_data(lr, hr, target, torch.ones(target.shape[1:], dtype=torch.bool))
        assert (net(lr[None], hr[None]) - expected).abs().max() < 1e-5


def _perturbed_net(hs_bands, ms_bands, ratio):
    torch.manual_seed(1)
    net = MLPLN(hs_bands, ms_bands, ratio)
    with torch.no_grad():
        last = net.fully_connected[-1]
        last.weight.normal_(0.0, 0.1)
        last.bias.normal_(0.0, 0.1)
    return net


def test_loss_is_the_rmse_over_valid_pixels_and_trains_the_lstm():
    net = _perturbed_net(20, 4, 2)
    lr, hr = torch.randn(2, 20, 5, 5), torch.randn(2, 4, 10, 10)
    target = torch.randn(2, 20, 10, 10)
    mask = torch.ones(2, 1, 10, 10)
    mask[:, :, :3] = 0

    loss = net.training_loss(lr, hr, target, mask)
    with torch.no_grad():
        expected = masked_mse(net(lr, hr), target, mask).sqrt()
    assert torch.allclose(loss, expected, rtol=1e-6)

    changed = target.clone()
    changed[:, :, :3] += 100.0
    assert torch.allclose(net.training_loss(lr, hr, changed, mask), loss, rtol=1e-6)

    loss.backward()
    for name, parameter in net.lstm.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().max() > 0, name
