"""MLPLN-specific behaviour: the κ/η bound, the SVD reduction, the concentric crops (kept whole in the
paper variant, box means in the other), the linear head and the RMSE loss.

Generic network properties (shapes, gradients to every parameter, tiled = whole image) are
covered by the shared network tests.
"""
import pytest

torch = pytest.importorskip("torch")

from hyperfuse.core.errors import UserInputError  # noqa: E402
from hyperfuse.nets.blocks import bicubic_upsample, masked_mse  # noqa: E402
from hyperfuse.core import registry  # noqa: E402
from hyperfuse.nets.contract import DataInitialised, FusionNetwork  # noqa: E402
from hyperfuse.nets.mlpln import BOX_MEANS, MLPLN, PAPER, area_matrix, crop_mean, pad_for_crop  # noqa: E402


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


@pytest.mark.parametrize("variant", [PAPER, BOX_MEANS])
def test_svd_basis_spans_the_data_subspace_and_is_saved_with_the_weights(variant):
    spectra, lr, hr, target = _low_rank_pair()
    net = MLPLN(30, 4, 3, components=5, variant=variant)
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

    restored = MLPLN(30, 4, 3, components=5, variant=variant)
    restored.load_state_dict(net.state_dict())
    assert torch.equal(restored.basis, net.basis) and torch.equal(restored.component_scale, net.component_scale)


def test_untrained_box_means_network_returns_bicubic_before_and_after_the_svd():
    _, lr, hr, target = _low_rank_pair()
    net = MLPLN(30, 4, 3, variant=BOX_MEANS)
    expected = bicubic_upsample(lr[None], 3)
    with torch.no_grad():
        assert (net(lr[None], hr[None]) - expected).abs().max() < 1e-5
        net.initialise_from_data(lr, hr, target, torch.ones(target.shape[1:], dtype=torch.bool))
        assert (net(lr[None], hr[None]) - expected).abs().max() < 1e-5


def _perturbed_net(hs_bands, ms_bands, ratio):
    torch.manual_seed(1)
    net = MLPLN(hs_bands, ms_bands, ratio, variant=BOX_MEANS)
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


# ---- the paper variant: concentric patches kept whole, one shared linear encoder, linear head ----

def test_unknown_variant_is_rejected():
    with pytest.raises(UserInputError, match="variant"):
        MLPLN(20, 4, 3, variant=2)


@pytest.mark.parametrize("variant", [PAPER, BOX_MEANS])
def test_both_variants_provide_the_network_contract(variant):
    net = MLPLN(20, 4, 3, variant=variant)
    assert isinstance(net, FusionNetwork) and isinstance(net, DataInitialised)


def test_cards_without_the_variant_key_build_the_box_means_network():
    method = registry.method("mlpln")
    assert method.hyperparameters["variant"] == PAPER
    old_card = {"kappa": 1, "eta": 4, "patch": 12, "components": 0}
    assert method.card_hyperparameters(old_card)["variant"] == BOX_MEANS
    assert method.card_hyperparameters({**old_card, "variant": PAPER})["variant"] == PAPER
    assert hasattr(method.build(20, 4, 3, **method.card_hyperparameters(old_card)), "fully_connected")


@pytest.mark.parametrize("size, cells", [(6, 6), (8, 6), (12, 6), (7, 4), (5, 2)])
def test_area_matrix_shares_every_input_pixel_by_overlap(size, cells):
    matrix = area_matrix(size, cells)
    assert matrix.shape == (cells, size)
    assert torch.allclose(matrix.sum(dim=1), torch.ones(cells, dtype=torch.float64))
    # Every input pixel is used in full: its shares, times the cell width, add up to one.
    assert torch.allclose(matrix.sum(dim=0) * size / cells, torch.ones(size, dtype=torch.float64))
    if size == cells:
        assert torch.equal(matrix, torch.eye(size, dtype=torch.float64))


@pytest.mark.parametrize("kappa, eta, patch", [(1, 4, 12), (2, 3, 12), (1, 3, 11), (3, 2, 8), (1, 2, 4)])
@pytest.mark.parametrize("ratio", [2, 3, 5])
def test_paper_variant_shapes(kappa, eta, patch, ratio):
    net = MLPLN(20, 4, ratio, kappa=kappa, eta=eta, patch=patch, components=6, variant=PAPER)
    features = 4 + 6
    assert net.crop_encoder.weight.shape == (features, features, net.crop_sizes[0], net.crop_sizes[0])
    assert isinstance(net.regression, torch.nn.Linear) and net.regression.weight.shape == (6, features)
    assert not hasattr(net, "fully_connected")
    lr, hr = torch.randn(2, 20, 3, 4), torch.randn(2, 4, 3 * ratio, 4 * ratio)
    sequence = net.encode_crops(torch.randn(2, features, 3 * ratio, 4 * ratio))
    assert sequence.shape == (2, eta, features, 3 * ratio, 4 * ratio)
    with torch.no_grad():
        assert net(lr, hr).shape == (2, 20, 3 * ratio, 4 * ratio)
    for size in net.crop_sizes:
        assert net.crop_kernel(size).shape == (features, features, size, size)


def test_mirrored_patches_with_equal_means_get_different_encodings():
    """A crop's spatial layout reaches the LSTM: box means cannot tell these two apart, the encoder can."""
    net = MLPLN(1, 1, 2, kappa=3, eta=2, patch=12, variant=PAPER)      # crops 6 and 12, encoded at 6 × 6
    assert net.crop_sizes == (6, 12)
    with torch.no_grad():
        net.crop_encoder.weight.zero_()
        net.crop_encoder.bias.zero_()
        net.crop_encoder.weight[0, 0, :, 0] = 1.0                      # reads the resampled crop's left column
    left = torch.zeros(1, 2, 12, 12)
    left[:, 0, :, :6] = 1.0
    right = torch.flip(left, dims=[-1])
    for size in net.crop_sizes:
        assert crop_mean(left, size)[0, 0, 6, 6] == crop_mean(right, size)[0, 0, 6, 6] == 0.5
    with torch.no_grad():
        encoded_left, encoded_right = net.encode_crops(left), net.encode_crops(right)
    # Left column of the 6 × 6 resampled crop: six cells of 1 for `left`, of 0 for `right`.
    assert torch.allclose(encoded_left[0, :, 0, 6, 6], torch.tensor([6.0, 6.0]))
    assert torch.allclose(encoded_right[0, :, 0, 6, 6], torch.tensor([0.0, 0.0]))


@pytest.mark.parametrize("kappa, eta, patch", [(1, 4, 12), (1, 3, 11), (2, 2, 9)])
def test_encoding_convolution_equals_explicit_crop_resample_and_linear_map(kappa, eta, patch):
    torch.manual_seed(0)
    net = MLPLN(5, 2, 2, kappa=kappa, eta=eta, patch=patch, components=3, variant=PAPER).double()
    features, smallest = 5, net.crop_sizes[0]
    x = torch.randn(1, features, 13, 15, dtype=torch.float64)
    with torch.no_grad():
        encoded = net.encode_crops(x)
    weight, bias = net.crop_encoder.weight, net.crop_encoder.bias
    for step, size in enumerate(net.crop_sizes):
        padded = pad_for_crop(x, size)                                # pixel (i, j) → window from (i, j)
        resample = area_matrix(size, smallest)
        for row, col in [(0, 0), (6, 7), (12, 14), (3, 11)]:
            crop = padded[0, :, row:row + size, col:col + size]
            small = torch.einsum("ua,iab,vb->iuv", resample, crop, resample)
            expected = torch.einsum("oiuv,iuv->o", weight, small) + bias
            assert torch.allclose(encoded[0, step, :, row, col], expected, atol=1e-12)


def test_paper_crops_are_concentric_windows_of_the_image():
    x = torch.arange(2 * 9 * 8, dtype=torch.float64).reshape(1, 2, 9, 8)
    for size in (2, 3, 4, 7):
        padded = pad_for_crop(x, size)
        before = size // 2
        window = padded[0, :, 4:4 + size, 3:3 + size]
        assert torch.equal(window, x[0, :, 4 - before:4 - before + size, 3 - before:3 - before + size])


def test_paper_head_is_linear_in_the_last_lstm_output_and_reads_nothing_else(monkeypatch):
    torch.manual_seed(0)
    net = MLPLN(20, 4, 2, variant=PAPER).double()
    lr, hr = torch.randn(1, 20, 3, 3, dtype=torch.float64), torch.randn(1, 4, 6, 6, dtype=torch.float64)
    with torch.no_grad():
        features = torch.cat([hr, torch.einsum("nbhw,cb->nchw", bicubic_upsample(lr, 2), net.basis)
                              / net.component_scale[None, :, None, None]], dim=1)
        sequence = net.encode_crops(features).permute(0, 3, 4, 1, 2).reshape(36, 4, features.shape[1])
        last = net.lstm(sequence)[0][:, -1]
        by_hand = (net.regression(last) * net.component_scale) @ net.basis
        assert torch.allclose(net(lr, hr)[0].permute(1, 2, 0).reshape(36, 20), by_hand, atol=1e-12)

        first, second = torch.randn(36, 16, dtype=torch.float64), torch.randn(36, 16, dtype=torch.float64)
        outputs = {}
        for name, state in [("first", first), ("second", second), ("mix", 0.3 * first + 0.7 * second)]:
            monkeypatch.setattr(net, "last_lstm_output", lambda sequence, state=state: state)
            outputs[name] = net(lr, hr)
        # Affine in the last hidden state ...
        assert torch.allclose(outputs["mix"], 0.3 * outputs["first"] + 0.7 * outputs["second"], atol=1e-12)
        # ... and nothing else: no bicubic residual, no bypass of the LSTM.
        assert torch.equal(net(2 * lr, -hr), outputs["mix"])


@pytest.mark.parametrize("kappa, eta, patch", [(1, 4, 12), (1, 3, 11)])
def test_paper_receptive_field_covers_the_largest_patch(kappa, eta, patch):
    net = MLPLN(6, 2, 2, kappa=kappa, eta=eta, patch=patch, components=3, variant=PAPER).double()
    assert net.receptive_field() >= patch // 2
    lr, hr = torch.randn(1, 6, 16, 16, dtype=torch.float64), torch.randn(1, 2, 32, 32, dtype=torch.float64)
    row = col = 16
    before, after = patch // 2, patch - 1 - patch // 2
    with torch.no_grad():
        reference = net(lr, hr)[0, :, row, col]
        for dr, dc, inside in [(-before, 0, True), (after, after, True), (-before - 1, 0, False),
                               (0, after + 1, False)]:
            changed = hr.clone()
            changed[0, :, row + dr, col + dc] += 10.0
            moved = not torch.allclose(net(lr, changed)[0, :, row, col], reference, atol=1e-12)
            assert moved == inside, (dr, dc)
