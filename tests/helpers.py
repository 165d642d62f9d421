"""Helpers the test modules import (tests/ is on sys.path under pytest's default import mode)."""
import os

import pytest
import torch

from hyperfuse.core import classical, registry

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_DATA = os.path.abspath(os.path.join(ROOT, "..", "shared", "data"))


def shared_scene(name: str) -> str:
    """Path of a development scene, or a skip with the reason when ../shared/data is absent."""
    path = os.path.join(SHARED_DATA, name)
    if not os.path.exists(path):
        pytest.skip(f"{name} is not available: ../shared/data is absent on this machine")
    return path


def perturb(net, seed=1):
    """Give zero-initialised layers values, so every parameter matters."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn(p.shape, generator=generator) * 0.05)
    return net


def inputs(hs, ms, ratio, h=3, w=4, batch=1, seed=0):
    generator = torch.Generator().manual_seed(seed)
    lr = torch.randn(batch, hs, h, w, generator=generator)
    hr = torch.randn(batch, ms, h * ratio, w * ratio, generator=generator)
    return lr, hr


# Every algorithm the provider lists (ids are public interface).
PROVIDER_ALGORITHMS = ["hyperfuse:simulate_degradation", "hyperfuse:quality_assessment", "hyperfuse:train_model",
                       "hyperfuse:estimate_responses"] + [f"hyperfuse:fuse_{m}" for m in registry.METHODS] + [
    f"hyperfuse:fuse_{m}" for m in classical.METHODS]
