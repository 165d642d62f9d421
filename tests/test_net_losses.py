"""Each network's training loss follows its paper; each term is present and moves the gradients."""
import pytest
import torch

from hyperfuse.core.errors import UserInputError

from hyperfuse.nets import mhfnet as mhfnet_module
from hyperfuse.nets.deepsen3 import DeepSen3
from hyperfuse.nets.mhfnet import MHFNet
from hyperfuse.nets.msssfnet import MSSSFNet

from helpers import inputs, perturb


def _batch(hs, ms, ratio, seed=0):
    lr, hr = inputs(hs, ms, ratio, h=4, w=4, batch=2, seed=seed)
    target = torch.randn(2, hs, 4 * ratio, 4 * ratio, generator=torch.Generator().manual_seed(seed + 1))
    mask = torch.ones(2, 1, 4 * ratio, 4 * ratio)
    return lr, hr, target, mask


def _grads(net, loss):
    net.zero_grad()
    loss.backward()
    return {n: p.grad.clone() for n, p in net.named_parameters() if p.grad is not None}


def test_deepsen3_loss_is_masked_mse():
    torch.manual_seed(0)
    net = perturb(DeepSen3(20, 3, 3, width=8, modules=1))
    lr, hr, target, mask = _batch(20, 3, 3)
    mask[:, :, :3] = 0
    expected = ((net(lr, hr) - target) ** 2)[:, :, 3:].mean()
    assert net.training_loss(lr, hr, target, mask).item() == pytest.approx(expected.item(), rel=1e-5)
    changed = target.clone()
    changed[:, :, :3] = 1e3            # masked pixels cannot change the loss
    assert net.training_loss(lr, hr, changed, mask).item() == pytest.approx(expected.item(), rel=1e-5)


def test_mhfnet_eq24_terms_are_present_and_move_gradients(monkeypatch):
    torch.manual_seed(0)
    net = perturb(MHFNet(20, 3, 4, stages=3))
    lr, hr, target, mask = _batch(20, 3, 4)
    full = net.training_loss(lr, hr, target, mask)
    full_grads = _grads(net, net.training_loss(lr, hr, target, mask))
    outputs, error = net._stages(lr, hr)
    assert len(outputs) == 3                                     # one X⁽ᵏ⁾ per stage
    final = ((net(lr, hr) - target) ** 2).mean()
    stage_terms = sum(((x - target) ** 2).mean() for x in outputs)
    expected = final + 0.1 * stage_terms + 0.01 * (error ** 2).mean() / 4 ** 2   # E has r² fewer elements
    assert full.item() == pytest.approx(expected.item(), rel=1e-5)
    for name, value in (("ALPHA", 0.0), ("BETA", 0.0)):
        monkeypatch.setattr(mhfnet_module, name, value)
        without = _grads(net, net.training_loss(lr, hr, target, mask))
        monkeypatch.undo()
        # A enters every per-stage output (α) and E⁽ᴷ⁾ (β): dropping either changes its gradient.
        assert not torch.allclose(without["a.weight"], full_grads["a.weight"]), name


def test_mhfnet_structure_x_equals_ya_plus_yhat_b():
    torch.manual_seed(0)
    hs, ms, ratio = 20, 3, 4
    net = perturb(MHFNet(hs, ms, ratio, stages=4, rank=8))
    # A initialised by least squares: data built as X = Y·A_true is recovered exactly.
    y = torch.randn(ms, 16, 16)
    a_true = torch.randn(hs, ms)
    x = torch.einsum("ij,jhw->ihw", a_true, y)
    net.initialise_from_data(torch.randn(hs, 4, 4), y, x, torch.ones(16, 16, dtype=torch.bool))
    assert torch.allclose(net.a.weight[:, :, 0, 0], a_true, atol=1e-4)
    # With Ŷ = 0 the stage-1 estimate is Y·A.
    lr, hr = inputs(hs, ms, ratio)
    outputs, _ = net._stages(lr, hr)
    assert torch.allclose(outputs[0], torch.einsum("ij,njhw->nihw", net.a.weight[:, :, 0, 0], hr), atol=1e-5)
    # Stage count and rank are parameters.
    assert len(net.prox) == 3 and net.b.weight.shape[1] == 8 - ms
    other = MHFNet(hs, ms, ratio, stages=6, rank=10)
    assert len(other.prox) == 5 and other.b.weight.shape[1] == 10 - ms
    with pytest.raises(UserInputError, match="RANK must be larger than the MS band count"):
        MHFNet(hs, ms, ratio, rank=ms)


def test_msssfnet_multi_level_losses_on_intermediate_resolutions():
    torch.manual_seed(0)
    net = perturb(MSSSFNet(20, 3, 8, levels=2, width=8))
    assert net.boundaries == [2]                       # ×8 = 2·2·2: an intermediate level at ×4 from LR
    lr, hr, target, mask = _batch(20, 3, 8)
    final, intermediate = net._forward_levels(lr, hr)
    assert intermediate[2].shape[-2:] == (16, 16)      # the resolution of the reference averaged by 2
    level_target = torch.nn.functional.avg_pool2d(target, 2)
    # Eq. 9–10 sum per level: the level at half the resolution has a quarter of the terms.
    expected = ((final - target) ** 2).mean() + ((intermediate[2] - level_target) ** 2).mean() / 4
    loss = net.training_loss(lr, hr, target, mask)
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    grads = _grads(net, loss)
    assert grads["heads.2.weight"].abs().sum() > 0     # the level's head is trained by its term
    # One level: no intermediate head, and the loss is the final MSE alone.
    single = perturb(MSSSFNet(20, 3, 8, levels=1, width=8))
    assert len(single.heads) == 0
    assert single.training_loss(lr, hr, target, mask).item() == pytest.approx(
        ((single(lr, hr) - target) ** 2).mean().item(), rel=1e-5)


def test_msssfnet_generalises_ratios_by_prime_factors():
    assert MSSSFNet(20, 3, 6, width=8).factors == [2, 3]
    assert MSSSFNet(20, 3, 16, width=8).factors == [2, 2, 2, 2]
    assert MSSSFNet(20, 3, 5, width=8).boundaries == []      # a single ×5 scale has one level


# Hand-built examples: each network's output is replaced by a tensor with known errors, so the
# loss can be compared with the paper's formula worked out by hand.

def _fixed_output(net, output):
    net.forward = lambda lr_hsi, hr_msi: output
    return net


def test_deepsen3_loss_is_the_papers_mse_on_a_hand_built_example():
    # §2.3: "Loss = 1/N Σ ‖Y_i − M_i‖²"; Keras' mse is the mean of the squares.
    target = torch.zeros(1, 1, 2, 2)
    output = torch.tensor([1.0, 2.0, 0.0, -1.0]).reshape(1, 1, 2, 2)
    net = _fixed_output(DeepSen3(1, 1, 2, width=4, modules=1), output)
    loss = net.training_loss(None, None, target, torch.ones(1, 1, 2, 2))
    assert loss.item() == pytest.approx((1 + 4 + 0 + 1) / 4)             # 1.5


def test_ssjcn_loss_is_the_papers_l1_on_a_hand_built_example():
    from hyperfuse.nets.ssjcn import SSJCN

    # §3.5, eq. 11: "l(θ) = ‖Z − Z²‖", the L1 norm; per element it is the mean absolute error.
    target = torch.zeros(1, 1, 2, 2)
    output = torch.tensor([1.0, -2.0, 0.0, 3.0]).reshape(1, 1, 2, 2)
    net = _fixed_output(SSJCN(2, 1, 4, width=4, iterations=1), output)
    loss = net.training_loss(None, None, target, torch.ones(1, 1, 2, 2))
    assert loss.item() == pytest.approx((1 + 2 + 0 + 3) / 4)             # ‖·‖₁ = 6 over 4 elements


def test_msssfnet_loss_is_eq_9_10_on_a_hand_built_example():
    # Eq. 9–10: Σ_l MSE_l with MSE_l = Σ_n ‖Z^l_n − Ẑ^l_n‖²₂, per-level sums. At r = 8 with two levels
    # the intermediate level is at half the HR resolution, so it has a quarter of the terms.
    net = MSSSFNet(2, 1, 8, levels=2, width=4)
    assert net.boundaries == [2] and net.ratio // net.scale_of(2) == 2
    target = torch.randn(1, 2, 8, 8, generator=torch.Generator().manual_seed(0))
    final = target + 1.0                                                 # 128 errors of 1
    intermediate = torch.nn.functional.avg_pool2d(target, 2) + 2.0       # 32 errors of 2
    net._forward_levels = lambda lr_hsi, hr_msi: (final, {2: intermediate})
    loss = net.training_loss(None, None, target, torch.ones(1, 1, 8, 8))
    paper_sum = 128 * 1.0 ** 2 + 32 * 2.0 ** 2                          # 256
    assert loss.item() == pytest.approx(paper_sum / 128, rel=1e-6)      # 2.0 per output element (means gave 5.0)
