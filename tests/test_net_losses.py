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
    expected = final + 0.1 * stage_terms + 0.01 * (error ** 2).mean()
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
    expected = ((final - target) ** 2).mean() + ((intermediate[2] - level_target) ** 2).mean()
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
