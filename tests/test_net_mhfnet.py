"""MHF-net: eq. 24 on a hand-built example, the ResNet depth L as a parameter, and its exact halo."""
import pytest
import torch
from hyperfuse.core.registry import METHODS
from hyperfuse.nets.mhfnet import MHFNet


class _Constant(torch.nn.Module):
    def __init__(self, value):
        super().__init__()
        self.value = value

    def forward(self, x):
        return torch.full_like(x, self.value)


def _hand_built(monkeypatch):
    """S = 2 bands, HR 4 × 4, r = 2, K = 2; X = 0, X̂ = 1, X⁽¹⁾ = 2, X⁽²⁾ = 1, E⁽²⁾ = 3."""
    net = MHFNet(2, 1, 2, stages=2, rank=2)
    stages = [torch.full((1, 2, 4, 4), 2.0), torch.full((1, 2, 4, 4), 1.0)]
    error = torch.full((1, 2, 2, 2), 3.0)
    net.final = _Constant(1.0)
    monkeypatch.setattr(net, "_stages", lambda lr, hr: (stages, error))
    return net, torch.zeros(1, 2, 2, 2), torch.zeros(1, 1, 4, 4), torch.zeros(1, 2, 4, 4)


def test_mhfnet_loss_is_eq24_sums_over_valid_hr_count(monkeypatch):
    net, lr, hr, target = _hand_built(monkeypatch)
    # Eq. 24 written out: ‖X̂ − X‖² = 32·1, α Σₖ‖X⁽ᵏ⁾ − X‖² = 0.1 (32·4 + 32·1), β‖E‖² = 0.01 · 8·9.
    paper = 32 * 1 + 0.1 * (32 * 4 + 32 * 1) + 0.01 * 8 * 9
    assert paper == pytest.approx(48.72)
    mask = torch.ones(1, 1, 4, 4)
    loss = net.training_loss(lr, hr, target, mask).item()
    assert loss == pytest.approx(paper / 32) == pytest.approx(1.5225)   # n_HR = 32 valid HR elements
    # HR row 0 masked: 24 HR elements, the LR row under it drops (4 LR elements left).
    mask[:, :, 0] = 0
    masked = 24 * 1 + 0.1 * (24 * 4 + 24 * 1) + 0.01 * 4 * 9
    assert net.training_loss(lr, hr, target, mask).item() == pytest.approx(masked / 24) == pytest.approx(1.515)


def test_mhfnet_resnet_levels_is_a_parameter_and_old_cards_keep_their_depth():
    method = METHODS["mhfnet"]
    setting = {p.key: p for p in method.parameters}["levels"]
    assert setting.name == "RESNET_LEVELS"
    assert "levels" not in method.fixed
    shallow, deep = MHFNet(20, 3, 4, stages=3, levels=1), MHFNet(20, 3, 4, stages=3, levels=2)
    assert len(shallow.final.units) == 1 and len(deep.prox[0].units) == 2
    # 3 HR px more per level and ResNet, rounded to the LR grid where a stage passes through it (exact halos:
    # the test below).
    assert deep.receptive_field() > shallow.receptive_field()
    # A card trained before L was a parameter records levels = 1 (it was fixed): it rebuilds that net.
    net = method.build(20, 3, 4, stages=3, levels=1)
    assert len(net.final.units) == 1


def _perturbed(ratio: int, stages: int, levels: int) -> MHFNet:
    """A float64 MHF-net whose every weight, the zero- and identity-initialised ones included, is random."""
    torch.manual_seed(ratio)
    net = MHFNet(5, 2, ratio, stages=stages, levels=levels, width=4).double().eval()
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.3)
    return net


def _farthest_change(net, lr, hr, moved_lr, moved_hr, footprint) -> int:
    """The halo a block needs for the moved pixel, whose HR ``footprint`` is (first, last): from the farthest output
    pixel that changed to the far edge of the footprint, since blocks read whole LR pixels."""
    with torch.no_grad():
        change = (net(moved_lr, moved_hr) - net(lr, hr)).abs().amax(dim=1)[0]
    rows, cols = torch.nonzero(change > 0, as_tuple=True)
    first, last = footprint
    return max(max(last - int(p.min()), int(p.max()) - first) for p in (rows, cols))


@pytest.mark.parametrize("ratio, stages, levels", [(2, 3, 1), (3, 4, 1), (3, 2, 2), (4, 3, 1), (6, 2, 1)])
def test_receptive_field_bounds_the_influence_of_one_pixel_and_is_reached(ratio, stages, levels):
    """Moving one LR-HSI pixel, or one HR-MSI pixel at each phase within an LR pixel, changes outputs exactly as far
    as the halo reaches and no farther: the halo is neither short (tiles would differ from a whole-image run) nor
    long (every block would recompute pixels it does not need)."""
    net = _perturbed(ratio, stages, levels)
    field = net.receptive_field()
    size = 2 * field // ratio + 6
    generator = torch.Generator().manual_seed(1)
    lr = torch.randn(1, 5, size, size, generator=generator, dtype=torch.float64)
    hr = torch.randn(1, 2, size * ratio, size * ratio, generator=generator, dtype=torch.float64)
    centre = size // 2
    moved_lr = lr.clone()
    moved_lr[..., centre, centre] += 1.0
    reaches = [_farthest_change(net, lr, hr, moved_lr, hr, (centre * ratio, centre * ratio + ratio - 1))]
    for offset in range(ratio):
        pixel = centre * ratio + offset
        moved_hr = hr.clone()
        moved_hr[..., pixel, pixel] += 1.0
        reaches.append(_farthest_change(net, lr, hr, lr, moved_hr, (pixel, pixel)))
    assert max(reaches) == field


@pytest.mark.parametrize("ratio", [2, 3, 4, 6])
def test_forward_equals_the_stages_of_eq24(ratio):
    """The forward pass never forms X⁽ᵏ⁾ on the HR grid before the last stage (DownSampler.after_mixing); it must
    give what the training path's stages give, X̂ = resNet(X⁽ᴷ⁾), with every learned part away from its start
    (non-uniform depthwise kernels, a non-zero prox and final ResNet), composite ratios included."""
    torch.manual_seed(ratio)
    net = MHFNet(12, 3, ratio, stages=4).double()
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.add_(0.2 * torch.randn_like(parameter))
    lr, hr = torch.randn(2, 12, 5, 7, dtype=torch.float64), torch.randn(2, 3, 5 * ratio, 7 * ratio,
                                                                        dtype=torch.float64)
    with torch.no_grad():
        expected = net.final(net._stages(lr, hr)[0][-1])
        result = net(lr, hr)
    assert result.shape == expected.shape == (2, 12, 5 * ratio, 7 * ratio)
    assert (result - expected).abs().max() < 1e-9 * expected.abs().max()
    with torch.inference_mode():
        assert torch.equal(net(lr, hr), result)
