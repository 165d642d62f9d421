"""MHF-net: eq. 24 on a hand-built example, and the ResNet depth L as a parameter."""
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
    assert deep.receptive_field() - shallow.receptive_field() == 3 * 3      # 3 HR px per level, per ResNet
    # A card trained before L was a parameter records levels = 1 (it was fixed): it rebuilds that net.
    net = method.build(20, 3, 4, stages=3, levels=1)
    assert len(net.final.units) == 1
