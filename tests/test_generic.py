"""Generic models (nets/generic.py): the generic form, the bundled generic weights, and MODEL = auto's use of them."""
from __future__ import annotations

import os

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hyperfuse.core import registry  # noqa: E402
from hyperfuse.core.inference import bundled, fusion  # noqa: E402
from hyperfuse.core.inference import weights as weights_io  # noqa: E402
from hyperfuse.core.storage.raster_io import open_raster, read_raster  # noqa: E402
from hyperfuse.nets import generic  # noqa: E402


def test_the_basis_spans_the_pixels_and_leaves_unspanned_components_empty():
    rng = np.random.default_rng(0)
    spectra = rng.normal(size=(50, 4)) @ rng.normal(size=(4, 300)) + 3.0   # rank 4 around a mean of 3
    mean, basis, sigma = generic.principal_basis(torch.from_numpy(spectra))
    assert basis.shape == (50, generic.COMPONENTS)
    assert np.allclose(basis[:, :4].T @ basis[:, :4], np.eye(4), atol=1e-5)
    assert torch.count_nonzero(basis[:, 4:]) == 0 and torch.all(sigma[4:] == 1)
    centred = torch.from_numpy(spectra).float() - mean[:, None]
    assert torch.allclose(basis @ (basis.T @ centred), centred, atol=1e-3)
    # The same pixels in another order give the same form: signs are fixed, not left to the SVD.
    _, again, _ = generic.principal_basis(torch.from_numpy(spectra[:, ::-1].copy()))
    assert torch.allclose(again[:, :4], basis[:, :4], atol=1e-4)


def _low_rank_pair(seed: int, hs_bands: int, ms_bands: int, ratio: int, size: int, rank: int) -> tuple:
    """(LR-HSI, HR-MSI, R) tensors of a random scene of ``rank`` materials; the LR-HSI is a box average."""
    rng = np.random.default_rng(seed)
    truth = torch.from_numpy(rng.normal(size=(hs_bands, rank)) @ rng.normal(size=(rank, size * size))).float()
    truth = truth.reshape(1, hs_bands, size, size) + 2.0
    response = torch.from_numpy(rng.dirichlet(np.ones(hs_bands), size=ms_bands)).float()
    return torch.nn.functional.avg_pool2d(truth, ratio), torch.einsum("mc,nchw->nmhw", response, truth), response


def test_the_lifted_coefficients_reproduce_the_ms_pixels():
    hs_bands, ratio = 40, 3
    lr, ms, response = _low_rank_pair(1, hs_bands, 5, ratio, 24, 3)
    form = generic.GenericForm()
    form.bind(lr.reshape(hs_bands, -1), response, ratio)
    _, lifted, _ = form.coefficients(lr, ms)
    spectra = torch.einsum("ck,nkhw->nchw", form.basis, lifted * form.sigma[None, :, None, None])
    spectra = spectra + form.hs_mean[None, :, None, None]
    misfit = torch.einsum("mc,nchw->nmhw", response, spectra) - ms
    assert float(misfit.norm() / (ms - ms.mean()).norm()) < 0.02


def test_the_network_corrects_only_what_the_ms_does_not_see():
    """The correction is projected onto what the MS does not see: a network with random weights changes the
    result, but R sees over 10 times less of that change than of the same correction unprojected."""
    from hyperfuse.nets.blocks import FusionModel

    hs_bands, ratio = 30, 4
    lr, ms, response = _low_rank_pair(2, hs_bands, 4, ratio, 32, 5)
    torch.manual_seed(0)
    inner = FusionModel(registry.method("deepsen3").build(generic.COMPONENTS, generic.MS_CHANNELS,
                                                          generic.INNER_RATIO), generic.COMPONENTS, generic.MS_CHANNELS)
    for parameter in inner.parameters():
        parameter.data.normal_(0, 0.02)
    model = generic.GenericFusionModel(inner).eval()
    model.bind(lr.reshape(hs_bands, -1), response, ratio)
    seen = {}
    with torch.no_grad():
        fused = model(lr, ms)
        lr_coefficients, lifted, residual = model.form.coefficients(lr, ms)
        lift_only = model.form.spectra(lifted, residual)
        unprojected = model.form.spectra(generic.fuse_coefficients(inner, lr_coefficients, lifted, ratio,
                                                                    torch.eye(generic.COMPONENTS)), residual)
        for name, result in (("projected", fused), ("unprojected", unprojected)):
            change = result - lift_only
            assert float(change.norm() / lift_only.norm()) > 1e-3          # the network did something
            seen[name] = float(torch.einsum("mc,nchw->nmhw", response, change).norm() / change.norm())
    assert seen["projected"] < seen["unprojected"] / 10


@pytest.mark.parametrize("method", list(registry.METHODS.values()), ids=lambda m: m.id)
def test_every_network_has_a_small_generic_model_listed_in_the_index(method):
    path = bundled.find_generic_model(method)
    assert path == bundled.generic_weights_path(method)
    assert os.path.getsize(path) < 10e6
    _, card = weights_io.load_weights(path)
    assert weights_io.is_generic(card) and card["generic"]["ratios"] == list(generic.RATIOS)
    assert card["training"]["randomisation"]["mtf_gain"] == [0.15, 0.45]
    # A generic file is never taken for a sensor-specific model, whatever the inputs' band counts.
    assert bundled.find_bundled_model(method, generic.COMPONENTS, generic.MS_CHANNELS, generic.INNER_RATIO,
                                      None) is None


@pytest.fixture(scope="module")
def narrow_pair(tmp_path_factory):
    """A 96 × 30 generated scene (40 bands, 420–1000 nm) with Sentinel-2 at ratio 3: no sensor-specific model
    fits, and its 10-pixel-high LR-HSI is too small to train on, so only the generic model can fuse it."""
    from hyperfuse.core import synthetic
    from hyperfuse.core.protocol import simulation, srf

    folder = tmp_path_factory.mktemp("narrow")
    scene = str(folder / "scene.tif")
    synthetic.write_scene(scene, 30, 96, wavelengths_nm=np.linspace(420, 1000, 40), seed=4)
    paths = {k: str(folder / f"{k}.tif") for k in ("lr", "ms", "ref")}
    simulation.simulate(scene, simulation.SimulationSettings(ratio=3, srf=srf.preset("s2a_10m").load()),
                        paths["lr"], paths["ms"], paths["ref"])
    return paths


def test_model_auto_takes_the_generic_model_without_a_sensor_specific_one_and_says_so(narrow_pair, tmp_path):
    """Tiled and whole-image runs agree; the log and the raster name the path taken."""
    import rasterio

    method, outputs, messages = registry.method("deepsen3"), {}, []

    class Recording(fusion.Feedback):
        def info(self, message):
            messages.append(message)

    for block in (24, 512):
        output = str(tmp_path / f"block{block}.tif")
        result = fusion.fuse_with_network(method, narrow_pair["lr"], narrow_pair["ms"], output, feedback=Recording(),
                                          settings=fusion.NetworkFusionSettings(block_size=block, device="cpu"))
        assert (result.blocks > 1) == (block == 24)
        assert result.model_source == "deepsen3_generic.pt" and result.seconds_training == 0
        outputs[block] = read_raster(open_raster(output))[0]
        with rasterio.open(output) as dataset:
            assert dataset.tags()["hyperfuse_model_path"] == fusion.PATH_GENERIC
    assert "Using the generic bundled model deepsen3_generic.pt, which fuses any bands at ratios 2–8." in messages
    assert any(m.startswith("Generic form: the 12 leading spectral components") for m in messages)
    assert np.abs(outputs[24] - outputs[512]).max() < 1e-3 * np.abs(outputs[512]).max()


def test_a_generic_model_refuses_a_ratio_it_was_not_trained_for():
    method = registry.method("mlpln")
    with pytest.raises(weights_io.UserInputError, match="trained for ratios 2 to 8; the inputs have ratio 9"):
        weights_io.build_generic_model(method, bundled.generic_weights_path(method), 9)
