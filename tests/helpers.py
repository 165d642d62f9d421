"""Helpers the test modules import (tests/ is on sys.path under pytest's default import mode)."""
import os

import numpy as np
import pytest
import torch
from hyperfuse.core import registry
from hyperfuse.core.feedback import Feedback
from hyperfuse.core.inference import weights
from hyperfuse.nets.blocks import FusionModel

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_DATA = os.path.abspath(os.path.join(ROOT, "..", "shared", "data"))


def recorded_openings(monkeypatch) -> list:
    """From now on, every raster the core opens through rasterio is recorded as (path, dataset)."""
    from hyperfuse.core.storage import raster_io

    opened, real_open = [], raster_io.rasterio.open

    def recording_open(path, *args, **kwargs):
        dataset = real_open(path, *args, **kwargs)
        opened.append((path, dataset))
        return dataset

    monkeypatch.setattr(raster_io.rasterio, "open", recording_open)
    return opened


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
                       "hyperfuse:estimate_responses", "hyperfuse:compare_fusion_methods"] + [
                           f"hyperfuse:fuse_{m}" for m in registry.FUSION_METHODS]


class CancelAfter(Feedback):
    """Requests a cancel once ``checks`` cancellation checks have passed."""

    def __init__(self, checks: int):
        super().__init__()
        self.remaining = checks

    def is_cancelled(self) -> bool:
        self.remaining -= 1
        return self.remaining < 0


TINY = {"width": 8, "modules": 1}  # a small DeepSen3


def random_model(hs, ms, ratio, seed=0):
    """A small DeepSen3 whose every layer matters (the last one starts at zero when trained)."""
    torch.manual_seed(seed)
    model = FusionModel(registry.method("deepsen3").build(hs, ms, ratio, **TINY), hs, ms)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.1)
    model.set_statistics(np.full(hs, 0.2), np.full(hs, 0.1), np.full(ms, 0.2), np.full(ms, 0.1))
    return model.eval()


def save_random_weights(path, hs, ms, ratio):
    model = random_model(hs, ms, ratio)
    # A card holds every constructor setting, as training writes it (a missing key means an older network).
    card = weights.make_card("deepsen3", {**registry.method("deepsen3").hyperparameters, **TINY}, hs, None, ms,
                             "test", ratio, training={}, validation={}, seed=0)
    weights.save_weights(path, model, card)
    return model


def consistency_with_pair(lr_path, ms_path, ratio, images):
    """The consistency of each HR image with the pair's files, with R and the PSF estimated by the classical
    methods' path (independent of the projection's and the fine-tuning's own estimate)."""
    from hyperfuse.core.classical.common import degradation_model
    from hyperfuse.core.protocol.consistency import ObservationModel, consistency
    from hyperfuse.core.storage.raster_io import open_raster, read_raster

    lr, lr_valid = read_raster(open_raster(lr_path))
    ms, ms_valid = read_raster(open_raster(ms_path))
    response, psf = degradation_model(lr, lr_valid, ms, ms_valid, ratio, None, None, 0.25)
    model = ObservationModel.build(ms.shape[1], ms.shape[2], ratio, psf, response)
    return [consistency(image, lr, lr_valid, ms, ms_valid, model) for image in images]
